// EventLog, reading: cursors, events, streams, the time index, and the upper layers'
// families (created, dropped, read).

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/sst_file_writer.h>
#include <unistd.h>

#include <cstdarg>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/rocks_event_log.h"
#include "ledger/internal/rocks_util.h"
#include "ledger/internal/row_iterator.h"
#include "ledger/test_hooks.h"

namespace jobledger {
namespace internal {

bool ValidFamilyName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsLogFamily(std::string_view name) {
  return name == internal::kEventsFamily || name == internal::kJobStreamFamily ||
         name == internal::kThingStreamFamily || name == internal::kTimeIndexFamily ||
         name == internal::kRequestsFamily || name == internal::kMetaFamily ||
         name == rocksdb::kDefaultColumnFamilyName;
}

void RocksCursor::Advance() {
  if (next_ > to_) {
    state_ = State::kCaughtUp;
    it_.reset();
    return;
  }
  if (it_ == nullptr) {
    rocksdb::ReadOptions ro;
    // A long scan (a rebuild, an export) reads around the block cache, as verify does:
    // it would only evict what readers use, and filling it costs a page fault per block.
    if (to_ != kMaxSequence && to_ - next_ >= kBulkScanEvents) {
      ro.fill_cache = false;
      ro.readahead_size = kBulkReadaheadBytes;
    }
    it_.reset(log_->db()->NewIterator(ro, log_->events_cf()));
    it_->Seek(internal::EventKey(next_));
  } else {
    it_->Next();
  }
  if (!it_->Valid()) {
    Status s = internal::FromRocks(it_->status(), "reading event " + SeqStr(next_));
    if (!s.ok()) return Fail(std::move(s));
    state_ = State::kCaughtUp;
    it_.reset();  // a fresh iterator on the next call sees newer events
    return;
  }
  std::optional<uint64_t> seq = internal::ParseEventKey(internal::ToView(it_->key()));
  if (!seq) return Fail(DataLossError("event " + SeqStr(next_) + ": malformed key in events"));
  if (*seq != next_) {
    return Fail(DataLossError("event " + SeqStr(next_) + " is missing (the next stored event is " +
                              SeqStr(*seq) + ")"));
  }
  std::string_view bytes;
  Status s = SplitValue(internal::ToView(it_->value()), next_, &hash_, &bytes);
  if (!s.ok()) return Fail(std::move(s));
  StatusOr<Event> decoded = internal::DecodeEvent(bytes, next_);
  if (!decoded.ok()) return Fail(decoded.status());
  event_ = std::move(decoded).value();
  state_ = State::kPositioned;
  ++next_;
}

StatusOr<FamilyId> RocksEventLog::OpenFamily(std::string_view name) {
  if (!ValidFamilyName(name) || IsLogFamily(name)) {
    return InvalidArgumentError("family name: must match [a-z0-9_.-]+ and not be one of the "
                                "log's own, got '" + std::string(name) + "'");
  }
  WriterLock lock(&families_mu_);
  for (uint32_t i = 0; i < families_.size(); ++i) {
    if (families_[i].live != nullptr && families_[i].live->GetName() == name) return FamilyId{i};
  }
  if (mode_ != OpenMode::kReadWrite) {
    return NotFoundError("ledger at '" + path_ + "' has no family '" + std::string(name) + "'");
  }
  rocksdb::ColumnFamilyHandle* h = nullptr;
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(
      db_->CreateColumnFamily(cf_options_, std::string(name), &h),
      "creating family '" + std::string(name) + "'"));
  families_.push_back(FamilySlot{Own(h), {}});
  return FamilyId{static_cast<uint32_t>(families_.size() - 1)};
}

Status RocksEventLog::DropFamily(FamilyId family) {
  if (mode_ != OpenMode::kReadWrite) {
    return FailedPreconditionError("ledger at '" + path_ + "' is open read-only");
  }
  // Under the append lock: no append is writing to the family while it goes.
  MutexLock append_lock(&append_mu_);
  WriterLock lock(&families_mu_);
  if (family.value >= families_.size() || families_[family.value].live == nullptr) {
    return UnknownFamily(family);
  }
  std::shared_ptr<rocksdb::ColumnFamilyHandle> h = families_[family.value].live;
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(db_->DropColumnFamily(h.get()),
                                                "dropping family '" + h->GetName() + "'"));
  // Readers still holding the handle finish first; the last one destroys it.
  families_[family.value].dropped = h;
  families_[family.value].live = nullptr;
  return Status();
}

std::vector<std::string> RocksEventLog::FamilyNames() const {
  ReaderLock lock(&families_mu_);
  std::vector<std::string> out;
  for (const FamilySlot& f : families_) {
    if (f.live != nullptr) out.push_back(f.live->GetName());
  }
  return out;
}

StatusOr<std::optional<std::string>> RocksEventLog::GetRow(FamilyId family,
                                                           std::string_view key) const {
  std::shared_ptr<rocksdb::ColumnFamilyHandle> h = FamilyHandle(family);
  if (h == nullptr) return UnknownFamily(family);
  return Get(h.get(), std::string(key));
}

std::unique_ptr<RowIterator> RocksEventLog::ScanRows(FamilyId family,
                                                     std::string_view prefix) const {
  std::shared_ptr<rocksdb::ColumnFamilyHandle> h = FamilyHandle(family);
  if (h == nullptr) return internal::NewErrorRowIterator(UnknownFamily(family));
  std::unique_ptr<rocksdb::Iterator> base(db_->NewIterator(rocksdb::ReadOptions(), h.get()));
  return internal::NewMergingRowIterator(std::move(base), std::string(prefix), {}, std::move(h));
}

StatusOr<Event> RocksEventLog::Read(uint64_t sequence) const {
  if (sequence == 0) return NotFoundError("event 0: sequences start at 1");
  StatusOr<std::optional<std::string>> got = Get(events_, internal::EventKey(sequence));
  if (!got.ok()) {
    // Name the event: the storage error names only a file and an offset.
    return Status(got.status().code(), "event " + SeqStr(sequence) + ": " + got.status().message());
  }
  std::optional<std::string>& value = *got;
  if (!value.has_value()) {
    if (sequence <= head().sequence) {
      return DataLossError("event " + SeqStr(sequence) + " is missing (head is " +
                           SeqStr(head().sequence) + ")");
    }
    return NotFoundError("event " + SeqStr(sequence) + " is beyond the head " +
                         SeqStr(head().sequence));
  }
  Hash hash;
  std::string_view bytes;
  JOBLEDGER_RETURN_IF_ERROR(SplitValue(*value, sequence, &hash, &bytes));
  return internal::DecodeEvent(bytes, sequence);
}

StatusOr<std::vector<uint64_t>> RocksEventLog::StreamSequences(StreamKind kind,
                                                               std::string_view id,
                                                               uint64_t from, uint64_t to,
                                                               size_t limit) const {
  std::vector<uint64_t> out;
  if (id.empty() || id.size() > internal::kMaxKeyIdBytes || limit == 0 || from > to) return out;
  auto* cf = kind == StreamKind::kJob ? job_stream_ : thing_stream_;
  const std::string prefix = internal::StreamPrefix(StreamPrefixOf(kind), id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->Seek(internal::StreamKey(StreamPrefixOf(kind), id, from)); it->Valid(); it->Next()) {
    std::string_view key = internal::ToView(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    std::optional<uint64_t> seq = internal::ParseStreamKeySequence(key);
    if (!seq) return DataLossError(cf->GetName() + ": malformed key for '" + std::string(id) + "'");
    if (*seq > to) break;
    out.push_back(*seq);
    if (out.size() >= limit) break;
  }
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading " + cf->GetName()));
  return out;
}

StatusOr<std::vector<Event>> RocksEventLog::ReadStream(StreamKind kind, std::string_view id,
                                                       uint64_t from, uint64_t to,
                                                       size_t limit) const {
  JOBLEDGER_ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, StreamSequences(kind, id, from, to, limit));
  std::vector<Event> out;
  out.reserve(seqs.size());
  for (uint64_t s : seqs) {
    JOBLEDGER_ASSIGN_OR_RETURN(Event e, Read(s));
    out.push_back(std::move(e));
  }
  return out;
}

StatusOr<uint64_t> RocksEventLog::LastInStream(StreamKind kind, std::string_view id,
                                               uint64_t at) const {
  if (id.empty() || id.size() > internal::kMaxKeyIdBytes || at == 0) return uint64_t{0};
  auto* cf = kind == StreamKind::kJob ? job_stream_ : thing_stream_;
  const std::string prefix = internal::StreamPrefix(StreamPrefixOf(kind), id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
  it->SeekForPrev(internal::StreamKey(StreamPrefixOf(kind), id, at));
  uint64_t result = 0;
  if (it->Valid()) {
    std::string_view key = internal::ToView(it->key());
    if (key.substr(0, prefix.size()) == prefix) {
      std::optional<uint64_t> seq = internal::ParseStreamKeySequence(key);
      if (!seq) return DataLossError(cf->GetName() + ": malformed key for '" + std::string(id) + "'");
      result = *seq;
    }
  }
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading " + cf->GetName()));
  return result;
}

StatusOr<uint64_t> RocksEventLog::LastSequenceAtOrBefore(int64_t micros) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), time_index_));
  it->SeekForPrev(internal::TimeKey(micros, kMaxSequence));
  uint64_t result = 0;
  if (it->Valid()) {
    std::optional<internal::TimeKeyParts> parts = internal::ParseTimeKey(internal::ToView(it->key()));
    if (!parts) return DataLossError("time_index: malformed key");
    result = parts->sequence;
  }
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading time_index"));
  return result;
}

}  // namespace internal
}  // namespace jobledger
