// EventLog, ingesting: rows of a family that appends do not write (a projection being
// rebuilt), folded in an in-memory buffer and taken in as one sorted table file.

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/sst_file_writer.h>

#include <filesystem>
#include <memory_resource>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <vector>

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
  // Iterators go back to the pool, which must empty before the family's handle goes.
  void ClearPool() { pool_.clear(); }

 private:
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
  std::pmr::monotonic_buffer_resource arena_;
  internal::ArenaRows& rows_ = *new (arena_.allocate(sizeof(internal::ArenaRows), alignof(internal::ArenaRows)))
      internal::ArenaRows(&arena_);
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
  for (auto& b : buffers) {
    total += b->rows().size();
    if (largest == nullptr || b->rows().size() > largest->size()) largest = &b->rows();
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
  if (total >= kIngestSplitRows) {
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
    // Each buffer's rows of the range, merged (buffers are few: a linear pick).
    struct Cursor {
      internal::ArenaRows::const_iterator it, end;
    };
    std::vector<Cursor> cursors;
    for (auto& b : buffers) {
      const internal::ArenaRows& rows = b->rows();
      auto begin = part.from ? rows.lower_bound(std::string_view(*part.from)) : rows.begin();
      auto end = part.to ? rows.lower_bound(std::string_view(*part.to)) : rows.end();
      if (begin != end) cursors.push_back({begin, end});
    }
    while (part.status.ok() && !cursors.empty()) {
      size_t pick = 0;
      for (size_t i = 1; i < cursors.size(); ++i) {
        if (cursors[i].it->first < cursors[pick].it->first) pick = i;
      }
      const auto& [key, value] = *cursors[pick].it;
      // The same key in other buffers: the same row, or a fold that broke its contract.
      for (size_t i = 0; i < cursors.size(); ++i) {
        if (i == pick || cursors[i].it->first != key) continue;
        if (cursors[i].it->second != value) {
          part.status = InternalError("rows of " + h->GetName() + ": key " +
                                      PrintableKey(std::string_view(key)) +
                                      " holds different values in two partitions of one ingestion");
        }
        ++cursors[i].it;
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
      ++cursors[pick].it;
      for (size_t i = cursors.size(); i-- > 0;) {
        if (cursors[i].it == cursors[i].end) cursors.erase(cursors.begin() + static_cast<std::ptrdiff_t>(i));
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
