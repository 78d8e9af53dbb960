// EventLog, ingesting: rows of a family that appends do not write (a projection being
// rebuilt), folded in an in-memory buffer and taken in as one sorted table file.

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory_resource>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <vector>

#include "ledger/internal/huge_pages.h"
#include "ledger/internal/rocks_event_log.h"
#include "ledger/internal/rocks_util.h"
#include "ledger/internal/row_iterator.h"

namespace jobledger {
namespace internal {

namespace {

// A buffer of at least this many rows is written as two table files, on two threads.
constexpr size_t kIngestSplitRows = 65536;

// IngestRows' buffer: one family's rows in a map, read in place, over the stored rows.
class BufferTxn final : public IngestTxn {
 public:
  BufferTxn(rocksdb::DB* db, FamilyId family, std::shared_ptr<rocksdb::ColumnFamilyHandle> handle,
            bool stored_empty, std::function<Status(FamilyId)> unknown)
      : db_(db),
        family_(family),
        handle_(std::move(handle)),
        stored_empty_(stored_empty),
        unknown_(std::move(unknown)) {}

  Status Put(FamilyId family, std::string_view key, std::string_view value) override {
    if (!(family == family_)) return unknown_(family);
    Set(key, value);
    return Status();
  }
  Status Delete(FamilyId family, std::string_view key) override {
    if (!(family == family_)) return unknown_(family);
    Set(key, std::nullopt);
    return Status();
  }
  // Kept aside in arrival order, sorted once when written: no map descent per row.
  Status PutUnread(FamilyId family, std::string_view key, std::string_view value) override {
    if (!(family == family_)) return unknown_(family);
    unread_.emplace_back(Copy(key), Copy(value));
    bytes_ += key.size() + value.size();
    return Status();
  }
  StatusOr<std::optional<std::string>> Get(FamilyId family, std::string_view key) const override {
    if (!(family == family_)) return unknown_(family);
    auto it = rows_.find(key);
    if (it != rows_.end()) {
      if (!it->second) return std::optional<std::string>();
      return std::optional<std::string>(std::string(*it->second));
    }
    if (stored_empty_) return std::optional<std::string>();
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handle_.get(),
                                 rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(s, "reading " + handle_->GetName()));
    return std::optional<std::string>(std::move(value));
  }
  std::unique_ptr<RowIterator> Scan(FamilyId family, std::string_view prefix) const override {
    if (!(family == family_)) return internal::NewErrorRowIterator(unknown_(family));
    std::unique_ptr<rocksdb::Iterator> base;
    std::function<void(std::unique_ptr<rocksdb::Iterator>)> release;
    if (!stored_empty_) {
      if (!pool_.empty()) {
        base = std::move(pool_.back());
        pool_.pop_back();
      } else {
        base.reset(db_->NewIterator(rocksdb::ReadOptions(), handle_.get()));
      }
      release = [this](std::unique_ptr<rocksdb::Iterator> it) { pool_.push_back(std::move(it)); };
    }
    return internal::NewArenaRowIterator(std::move(base), std::string(prefix), &rows_, nullptr,
                                         std::move(release));
  }
  size_t buffered_bytes() const override { return bytes_; }

  const internal::ArenaRows& rows() const { return rows_; }
  using UnreadRows = std::pmr::vector<std::pair<std::string_view, std::string_view>>;
  // The rows put aside by PutUnread, sorted by key (a key put twice: the last put).
  const UnreadRows& SortedUnread() {
    std::stable_sort(unread_.begin(), unread_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    auto last = std::unique(unread_.rbegin(), unread_.rend(),
                            [](const auto& a, const auto& b) { return a.first == b.first; });
    unread_.erase(unread_.begin(), last.base());
    return unread_;
  }
  // Iterators go back to the pool, which must empty before the family's handle goes.
  void ClearPool() { pool_.clear(); }

 private:
  std::string_view Copy(std::string_view bytes) {
    if (bytes.empty()) return {};
    char* p = static_cast<char*>(arena_.allocate(bytes.size(), 1));
    std::memcpy(p, bytes.data(), bytes.size());
    return {p, bytes.size()};
  }

  void Set(std::string_view key, std::optional<std::string_view> value) {
    std::optional<std::pmr::string> stored;
    if (value) stored.emplace(*value, &arena_);
    auto it = rows_.lower_bound(key);  // one descent, for a new key or an old one
    if (it == rows_.end() || std::string_view(it->first) != key) {
      bytes_ += key.size() + (value ? value->size() : 0);
      rows_.emplace_hint(it, std::pmr::string(key, &arena_), std::move(stored));
      return;
    }
    bytes_ -= it->second ? it->second->size() : 0;
    bytes_ += value ? value->size() : 0;
    it->second = std::move(stored);
  }

  rocksdb::DB* db_;
  FamilyId family_;
  std::shared_ptr<rocksdb::ColumnFamilyHandle> handle_;
  // Nothing is stored yet (a new family): reads need not look.
  bool stored_empty_;
  std::function<Status(FamilyId)> unknown_;
  // Every row's bytes and map node, released at once with the buffer. The map itself
  // lives in the arena too and is never destroyed: all it owns is arena memory, and
  // walking millions of nodes only to free nothing took a noticeable part of a
  // rebuild.
  // Its blocks grow from 2 MiB, in huge pages where the kernel allows.
  std::pmr::monotonic_buffer_resource arena_{HugePageMemoryResource::kHugePageBytes,
                                             HugePageResource()};
  internal::ArenaRows& rows_ = *new (arena_.allocate(sizeof(internal::ArenaRows), alignof(internal::ArenaRows)))
      internal::ArenaRows(&arena_);
  UnreadRows unread_{&arena_};  // likewise left to the arena
  size_t bytes_ = 0;
  mutable std::vector<std::unique_ptr<rocksdb::Iterator>> pool_;
};

}  // namespace

Status RocksEventLog::IngestRows(FamilyId family, const std::function<Status(IngestTxn&)>& fill) {
  return IngestPartitionedRows(family, 1, [&](const std::vector<IngestTxn*>& txns) {
    return fill(*txns[0]);
  });
}

Status RocksEventLog::IngestPartitionedRows(
    FamilyId family, size_t parts, const std::function<Status(const std::vector<IngestTxn*>&)>& fill) {
  namespace fs = std::filesystem;
  if (parts == 0) return InvalidArgumentError("IngestPartitionedRows: parts must be at least 1");
  if (mode_ != OpenMode::kReadWrite) {
    return FailedPreconditionError("ledger at '" + path_ + "' is open read-only");
  }
  JOBLEDGER_RETURN_IF_ERROR(failure());
  std::shared_ptr<rocksdb::ColumnFamilyHandle> h = WritableFamily(family);
  if (h == nullptr) return UnknownFamily(family);
  bool stored_empty = false;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), h.get()));
    it->SeekToFirst();
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading " + h->GetName()));
    stored_empty = !it->Valid();
  }
  std::vector<std::unique_ptr<BufferTxn>> buffers;
  std::vector<IngestTxn*> txns;
  for (size_t i = 0; i < parts; ++i) {
    buffers.push_back(std::make_unique<BufferTxn>(db_.get(), family, h, stored_empty,
                                                  [this](FamilyId f) { return UnknownFamily(f); }));
    txns.push_back(buffers.back().get());
  }
  Status filled = fill(txns);
  for (auto& b : buffers) b->ClearPool();
  JOBLEDGER_RETURN_IF_ERROR(filled);
  size_t total = 0;
  const internal::ArenaRows* largest = nullptr;
  std::vector<const BufferTxn::UnreadRows*> unread_list(buffers.size());
  {
    // Each buffer's unread rows sorted, the first on this thread, the rest on threads
    // of their own.
    std::vector<std::thread> sorters;
    for (size_t b = 1; b < buffers.size(); ++b) {
      sorters.emplace_back([&, b] { unread_list[b] = &buffers[b]->SortedUnread(); });
    }
    unread_list[0] = &buffers[0]->SortedUnread();
    for (std::thread& t : sorters) t.join();
  }
  for (size_t b = 0; b < buffers.size(); ++b) {
    total += buffers[b]->rows().size() + unread_list[b]->size();
    if (largest == nullptr || buffers[b]->rows().size() > largest->size()) largest = &buffers[b]->rows();
  }
  if (total == 0) return Status();

  // Sorted table files, moved into the ledger by one ingestion (a crash before it
  // leaves the files in the ingest folder, which the next read-write open clears).
  // A large buffer is written as two files of adjacent key ranges, on two threads;
  // each file merges the buffers' rows of its range.
  std::error_code ec;
  const fs::path folder = fs::path(path_) / internal::kIngestFolder;
  fs::create_directories(folder, ec);
  if (ec) return InternalError("creating '" + folder.string() + "': " + ec.message());
  // Where the second file starts (none: one file).
  std::optional<std::string> split;
  if (total >= kIngestSplitRows && !largest->empty()) {
    auto mid = std::next(largest->begin(), static_cast<std::ptrdiff_t>(largest->size() / 2));
    split.emplace(mid->first.data(), mid->first.size());
  }
  struct Part {
    std::optional<std::string> from, to;  // [from, to); nullopt: unbounded
    std::string file;
    uint64_t entries = 0;
    Status status;
  };
  std::vector<Part> files_to_write;
  files_to_write.push_back({std::nullopt, split, {}, 0, {}});
  if (split) files_to_write.push_back({split, std::nullopt, {}, 0, {}});
  const rocksdb::Options family_options = db_->GetOptions(h.get());
  auto write_part = [&](Part& part) {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), family_options, h.get());
    const std::string what = "writing rows of " + h->GetName() + " to '" + part.file + "'";
    part.status = internal::FromRocks(writer.Open(part.file), what);
    // Each buffer's rows of the range (its map and its rows put aside), merged: the
    // sources are few, a linear pick.
    struct Source {
      internal::ArenaRows::const_iterator it, end;
      BufferTxn::UnreadRows::const_iterator uit, uend;
      bool unread;
      std::string_view key() const { return unread ? uit->first : std::string_view(it->first); }
      std::optional<std::string_view> value() const {
        if (unread) return uit->second;
        if (!it->second) return std::nullopt;
        return std::string_view(*it->second);
      }
      void Next() { unread ? (void)++uit : (void)++it; }
      bool done() const { return unread ? uit == uend : it == end; }
    };
    std::vector<Source> sources;
    for (size_t b = 0; b < buffers.size(); ++b) {
      const internal::ArenaRows& rows = buffers[b]->rows();
      Source map_source{};
      map_source.unread = false;
      map_source.it = part.from ? rows.lower_bound(std::string_view(*part.from)) : rows.begin();
      map_source.end = part.to ? rows.lower_bound(std::string_view(*part.to)) : rows.end();
      if (!map_source.done()) sources.push_back(map_source);
      const BufferTxn::UnreadRows& unread = *unread_list[b];
      auto less = [](const auto& row, std::string_view k) { return row.first < k; };
      Source unread_source{};
      unread_source.unread = true;
      unread_source.uit = part.from ? std::lower_bound(unread.begin(), unread.end(), std::string_view(*part.from), less)
                                    : unread.begin();
      unread_source.uend = part.to ? std::lower_bound(unread.begin(), unread.end(), std::string_view(*part.to), less)
                                   : unread.end();
      if (!unread_source.done()) sources.push_back(unread_source);
    }
    while (part.status.ok() && !sources.empty()) {
      size_t pick = 0;
      for (size_t i = 1; i < sources.size(); ++i) {
        if (sources[i].key() < sources[pick].key()) pick = i;
      }
      const std::string_view key = sources[pick].key();
      const std::optional<std::string_view> value = sources[pick].value();
      // The same key in other sources: the same row, or a fold that broke its contract.
      for (size_t i = 0; i < sources.size(); ++i) {
        if (i == pick || sources[i].key() != key) continue;
        if (sources[i].value() != value) {
          part.status = InternalError("rows of " + h->GetName() + ": key " + PrintableKey(key) +
                                      " is written with different values by two partitions (or as an unread row and a row)"
                                      " of one ingestion");
        }
        sources[i].Next();
      }
      if (!part.status.ok()) break;
      rocksdb::Status s;
      if (value.has_value()) {
        s = writer.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value->data(), value->size()));
        ++part.entries;
      } else if (!stored_empty) {
        s = writer.Delete(rocksdb::Slice(key.data(), key.size()));  // a new family has nothing to delete
        ++part.entries;
      }
      part.status = internal::FromRocks(s, what);
      sources[pick].Next();
      for (size_t i = sources.size(); i-- > 0;) {
        if (sources[i].done()) sources.erase(sources.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    // Deletes only, into an empty family: nothing to ingest (and an empty table file
    // cannot be finished).
    if (part.status.ok() && part.entries > 0) part.status = internal::FromRocks(writer.Finish(), what);
  };
  for (Part& part : files_to_write) {
    part.file = (folder / (h->GetName() + "-" + std::to_string(++ingest_files_) + ".sst")).string();
  }
  {
    std::thread second;
    if (files_to_write.size() > 1) second = std::thread([&] { write_part(files_to_write[1]); });
    write_part(files_to_write[0]);
    if (second.joinable()) second.join();
  }
  std::vector<std::string> files;
  Status written;
  for (Part& part : files_to_write) {
    if (written.ok() && !part.status.ok()) written = part.status;
    if (part.status.ok() && part.entries > 0) files.push_back(part.file);
  }
  auto remove_files = [&] {
    for (Part& part : files_to_write) fs::remove(part.file, ec);  // moved (hard-linked) on success
  };
  if (!written.ok() || files.empty()) {
    remove_files();
    return written;
  }
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  rocksdb::Status ingested = db_->IngestExternalFile(h.get(), files, ingest);
  remove_files();  // ours to remove either way
  return internal::FromRocks(ingested, "ingesting rows into " + h->GetName());
}

}  // namespace internal
}  // namespace jobledger
