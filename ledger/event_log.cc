#include "ledger/event_log.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/rocks_util.h"
#include "ledger/internal/rocks_event_log.h"
#include "ledger/internal/row_iterator.h"

namespace jobledger {
namespace internal {

// Validates one event of an append; `where` names it in messages.
Status ValidateNewEvent(const NewEvent& e, const std::string& where) {
  if (e.actor.empty() || e.actor.size() > kMaxActorBytes) {
    return InvalidArgumentError(where + ".actor: must be 1.." + std::to_string(kMaxActorBytes) +
                                " bytes, got " + std::to_string(e.actor.size()));
  }
  if (KindOf(e.body) == EventKind::kUnknown) {
    return InvalidArgumentError(where + ".body: an UnknownEvent cannot be appended");
  }
  if (e.cause.kind == CauseRef::Kind::kSequence && e.cause.value == 0) {
    return InvalidArgumentError(where + ".cause: sequence 0 is not an event");
  }
  Status field_status;
  std::visit(
      [&](const auto& b) {
        if constexpr (requires { b.job_id; }) {
          if (b.job_id.empty() || b.job_id.size() > 255) {
            field_status = InvalidArgumentError(where + ".jobId: must be 1..255 bytes");
          }
        }
        if constexpr (requires { b.thing_name; }) {
          if (field_status.ok() && (b.thing_name.empty() || b.thing_name.size() > 255)) {
            field_status = InvalidArgumentError(where + ".thingName: must be 1..255 bytes");
          }
        }
      },
      e.body);
  return field_status;
}

// Validates the parts of a request that do not depend on the log's state.
Status ValidateRequest(const AppendRequest& request) {
  if (request.events.empty()) return InvalidArgumentError("events: must hold at least one event");
  if (request.events.size() > kMaxEventsPerAppend) {
    return InvalidArgumentError("events: at most " + std::to_string(kMaxEventsPerAppend) +
                                " per append, got " + std::to_string(request.events.size()));
  }
  if (request.request_id.size() > kMaxRequestIdBytes) {
    return InvalidArgumentError("requestId: at most " + std::to_string(kMaxRequestIdBytes) +
                                " bytes, got " + std::to_string(request.request_id.size()));
  }
  for (size_t i = 0; i < request.events.size(); ++i) {
    const NewEvent& e = request.events[i];
    const std::string where = "events[" + std::to_string(i) + "]";
    JOBLEDGER_RETURN_IF_ERROR(ValidateNewEvent(e, where));
    if (e.cause.kind == CauseRef::Kind::kBatchIndex && e.cause.value >= i) {
      return InvalidArgumentError(where + ".cause: batch index " + std::to_string(e.cause.value) +
                                  " is not an earlier event of this append");
    }
  }
  for (size_t i = 0; i < request.expected.size(); ++i) {
    const std::string& id = request.expected[i].job_id;
    if (id.empty() || id.size() > 255) {
      return InvalidArgumentError("expected[" + std::to_string(i) + "].jobId: must be 1..255 bytes");
    }
  }
  return Status();
}

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
    it_.reset(log_->db()->NewIterator(rocksdb::ReadOptions(), log_->events_cf()));
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

StatusOr<std::unique_ptr<EventLog>> RocksEventLog::Open(const EventLogOptions& options,
                                                        std::string_view path_view,
                                                        OpenMode mode) {
  namespace fs = std::filesystem;
  std::unique_ptr<RocksEventLog> log(new RocksEventLog());
  log->mode_ = mode;
  log->path_ = std::string(path_view);
  log->clock_ = options.clock != nullptr ? options.clock : &log->system_clock_;
  log->sync_ = options.sync;
  const std::string& path = log->path_;
  if (path.empty()) return InvalidArgumentError("path: must not be empty");

  std::error_code ec;
  const bool exists = fs::exists(fs::path(path) / "CURRENT", ec);
  if (!exists && (mode != OpenMode::kReadWrite || !options.create_if_missing)) {
    return NotFoundError("no ledger at '" + path + "'");
  }

  if (!exists && !fs::exists(path, ec)) {
    // A new ledger: make its folder, parents included.
    fs::create_directories(path, ec);
    if (ec) return UnavailableError("cannot create the ledger folder '" + path + "': " + ec.message());
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = (mode == OpenMode::kReadWrite);
  db_options.create_missing_column_families = (mode == OpenMode::kReadWrite);
  // A torn tail after a crash is tolerated; a corrupted middle refuses to open
  // instead of silently dropping acknowledged events (kPointInTimeRecovery does).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  if (mode == OpenMode::kSecondary) db_options.max_open_files = -1;  // required

  std::vector<std::string> existing = {rocksdb::kDefaultColumnFamilyName};
  if (exists) {
    existing.clear();
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(
        rocksdb::DB::ListColumnFamilies(db_options, path, &existing), "listing '" + path + "'"));
  }
  const std::vector<std::string_view> ours = {
      internal::kEventsFamily,     internal::kJobStreamFamily, internal::kThingStreamFamily,
      internal::kTimeIndexFamily,  internal::kRequestsFamily,  internal::kMetaFamily};
  std::set<std::string> names(existing.begin(), existing.end());
  const bool is_ledger = names.count(std::string(internal::kMetaFamily)) > 0;
  if (exists && !is_ledger && (names.size() > 1 || mode != OpenMode::kReadWrite)) {
    return FailedPreconditionError("'" + path + "' is a RocksDB database but not a jobledger ledger");
  }
  for (std::string_view cf : ours) {
    if (names.insert(std::string(cf)).second && mode != OpenMode::kReadWrite) {
      return FailedPreconditionError("ledger at '" + path + "' lacks column family '" +
                                     std::string(cf) + "'");
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }

  rocksdb::Options merged(db_options, rocksdb::ColumnFamilyOptions());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs;
  switch (mode) {
    case OpenMode::kReadWrite:
      rs = rocksdb::DB::Open(db_options, path, descriptors, &log->handles_, &raw);
      break;
    case OpenMode::kReadOnly:
      rs = rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &log->handles_, &raw);
      break;
    case OpenMode::kSecondary: {
      std::string secondary = options.secondary_path;
      if (secondary.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "jobledger-secondary-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) {
          return InternalError("cannot create a temporary folder for the secondary instance");
        }
        secondary = tmpl;
        log->temp_secondary_dir_ = tmpl;
      }
      rs = rocksdb::DB::OpenAsSecondary(db_options, path, secondary, descriptors, &log->handles_,
                                        &raw);
      break;
    }
  }
  if (!rs.ok()) {
    if (rs.IsIOError() && rs.ToString().find("lock") != std::string::npos) {
      return UnavailableError("ledger at '" + path +
                              "' is held read-write by another process: " + rs.ToString());
    }
    return internal::FromRocks(rs, "opening ledger at '" + path + "'");
  }
  log->db_.reset(raw);
  for (size_t i = 0; i < descriptors.size(); ++i) {
    const std::string& name = descriptors[i].name;
    rocksdb::ColumnFamilyHandle* h = log->handles_[i];
    if (name == internal::kEventsFamily) log->events_ = h;
    if (name == internal::kJobStreamFamily) log->job_stream_ = h;
    if (name == internal::kThingStreamFamily) log->thing_stream_ = h;
    if (name == internal::kTimeIndexFamily) log->time_index_ = h;
    if (name == internal::kRequestsFamily) log->requests_ = h;
    if (name == internal::kMetaFamily) log->meta_ = h;
  }
  // Upper layers' families are owned by shared pointers (see FamilyHandle).
  {
    std::vector<rocksdb::ColumnFamilyHandle*> own;
    for (rocksdb::ColumnFamilyHandle* h : log->handles_) {
      if (IsLogFamily(h->GetName())) {
        own.push_back(h);
      } else {
        log->families_.push_back(FamilySlot{log->Own(h), {}});
      }
    }
    log->handles_ = std::move(own);
  }

  // Format version.
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> format,
                             log->Get(log->meta_, internal::MetaKey(internal::kFormatMetaName)));
  if (!format.has_value()) {
    if (mode != OpenMode::kReadWrite) {
      return FailedPreconditionError("ledger at '" + path + "' has no format version");
    }
    std::unique_ptr<rocksdb::Iterator> it(log->db_->NewIterator(rocksdb::ReadOptions(), log->events_));
    it->SeekToFirst();
    if (it->Valid()) {
      return FailedPreconditionError("ledger at '" + path + "' has events but no format version");
    }
    std::string value;
    internal::PutBigEndian32(&value, internal::kFormatVersion);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(
        log->db_->Put(wo, log->meta_, internal::MetaKey(internal::kFormatMetaName), value),
        "writing the format version"));
  } else {
    if (format->size() != 4) {
      return DataLossError("ledger at '" + path + "': malformed format version record");
    }
    uint32_t version = internal::GetBigEndian32(*format);
    if (version != internal::kFormatVersion) {
      return FailedPreconditionError("ledger at '" + path + "' has format version " +
                                     std::to_string(version) + "; this build reads version " +
                                     std::to_string(internal::kFormatVersion));
    }
  }
  JOBLEDGER_RETURN_IF_ERROR(log->LoadHead(/*strict=*/mode == OpenMode::kReadWrite));
  return std::unique_ptr<EventLog>(std::move(log));
}

StatusOr<std::optional<std::string>> RocksEventLog::Get(rocksdb::ColumnFamilyHandle* cf,
                                                        const std::string& key,
                                                        const rocksdb::Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db_->Get(ro, cf, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(s, "reading " + cf->GetName()));
  return std::optional<std::string>(std::move(value));
}

Status RocksEventLog::LoadHead(bool strict) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> raw,
                             Get(meta_, internal::MetaKey(internal::kHeadMetaName)));
  Head head;
  if (raw.has_value()) {
    std::optional<Head> decoded = DecodeHead(*raw);
    if (!decoded) return DataLossError("ledger at '" + path_ + "': malformed head record");
    head = *decoded;
  }
  if (strict) {
    // The head is written in the same batch as the events; disagreement means the
    // folder was altered outside jobledger.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    it->SeekToLast();
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading the last event"));
    uint64_t last = 0;
    if (it->Valid()) {
      std::optional<uint64_t> seq = internal::ParseEventKey(internal::ToView(it->key()));
      if (!seq) return DataLossError("ledger at '" + path_ + "': malformed key in events");
      last = *seq;
    }
    if (last != head.sequence) {
      return DataLossError("ledger at '" + path_ + "': the head record says sequence " +
                           SeqStr(head.sequence) + " but the last stored event is " + SeqStr(last) +
                           "; run verify");
    }
  }
  std::lock_guard<std::mutex> lock(head_mu_);
  head_ = head;
  return Status();
}

// The transaction behind EventLog::Append(options, decide). Events and rows go into
// one WriteBatch; pending rows are also kept in `pending_` so the transaction's reads
// see its own writes.
class RocksTxn final : public AppendTxn {
 public:
  RocksTxn(RocksEventLog* log, const Head& head, int64_t now, int64_t clamped_from,
           std::string request_id)
      : log_(log),
        now_(now),
        clamped_from_(clamped_from),
        first_(head.sequence + 1),
        prev_(head.hash),
        last_time_(head.recorded_at_micros),
        request_id_(std::move(request_id)) {}

  int64_t now_micros() const override { return now_; }
  uint64_t next_sequence() const override { return first_ + events_.size(); }
  const std::vector<Event>& events() const override { return events_; }

  StatusOr<uint64_t> Add(const NewEvent& in) override {
    const uint64_t seq = next_sequence();
    const std::string where = "event " + SeqStr(seq);
    JOBLEDGER_RETURN_IF_ERROR(ValidateNewEvent(in, where));
    if (events_.size() >= kMaxEventsPerAppend) {
      return InvalidArgumentError("at most " + std::to_string(kMaxEventsPerAppend) +
                                  " events per append");
    }
    uint64_t cause = 0;
    switch (in.cause.kind) {
      case CauseRef::Kind::kNone: break;
      case CauseRef::Kind::kSequence: cause = in.cause.value; break;
      case CauseRef::Kind::kBatchIndex: cause = first_ + in.cause.value; break;
    }
    if (cause >= seq) {
      return InvalidArgumentError(where + ".cause: " + SeqStr(cause) +
                                  " is not an earlier event");
    }
    Event event;
    event.sequence = seq;
    event.recorded_at_micros = now_;
    event.clamped_from_micros = clamped_from_;
    event.actor = in.actor;
    event.cause = cause;
    event.request_id = request_id_;
    event.previous_hash = prev_;
    event.body = in.body;
    return Store(std::move(event), where);
  }

  StatusOr<uint64_t> AddVerbatim(const Event& in) override {
    const uint64_t seq = next_sequence();
    const std::string where = "event " + SeqStr(in.sequence);
    if (in.sequence != seq) {
      return InvalidArgumentError(where + ": expected sequence " + SeqStr(seq) + " next");
    }
    if (in.previous_hash != prev_) {
      return InvalidArgumentError(where + ".previousHash: is not the hash of event " + SeqStr(seq - 1));
    }
    if (in.recorded_at_micros < last_time_) {
      return InvalidArgumentError(where + ".recordedAt: goes back in time");
    }
    if (in.cause >= seq) return InvalidArgumentError(where + ".cause: is not an earlier event");
    if (in.request_id.size() > kMaxRequestIdBytes) {
      return InvalidArgumentError(where + ".requestId: longer than " + std::to_string(kMaxRequestIdBytes) + " bytes");
    }
    NewEvent check{in.actor, CauseRef::None(), in.body};
    JOBLEDGER_RETURN_IF_ERROR(ValidateNewEvent(check, where));
    if (events_.size() >= kMaxEventsPerAppend) {
      return InvalidArgumentError("at most " + std::to_string(kMaxEventsPerAppend) +
                                  " events per append");
    }
    return Store(Event(in), where);
  }

  // Encodes, hashes and indexes an event whose envelope is complete.
  StatusOr<uint64_t> Store(Event event, const std::string& where) {
    const uint64_t seq = event.sequence;
    std::string value(kHashBytes, '\0');
    value += internal::EncodeEvent(event);
    if (value.size() - kHashBytes > internal::kMaxEventBytes) {
      return InvalidArgumentError(where + ": encodes to " + std::to_string(value.size() - kHashBytes) +
                                  " bytes, over the limit of " +
                                  std::to_string(internal::kMaxEventBytes));
    }
    Hash hash = internal::ChainHash(prev_, seq, std::string_view(value).substr(kHashBytes));
    std::memcpy(value.data(), hash.data(), kHashBytes);
    const char kind = static_cast<char>(KindOf(event.body));
    rocksdb::Status bs = batch_.Put(log_->events_, internal::EventKey(seq), value);
    std::string_view job = JobIdOf(event.body);
    std::string_view thing = ThingNameOf(event.body);
    if (bs.ok() && !job.empty()) {
      bs = batch_.Put(log_->job_stream_, internal::StreamKey(KeyPrefix::kJobStream, job, seq),
                      rocksdb::Slice(&kind, 1));
    }
    if (bs.ok() && !thing.empty()) {
      bs = batch_.Put(log_->thing_stream_, internal::StreamKey(KeyPrefix::kThingStream, thing, seq),
                      rocksdb::Slice(&kind, 1));
    }
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(bs, "building the append"));
    // Runs of one recordedAt, and of one requestId, for the time and request indexes.
    if (time_runs_.empty() || time_runs_.back().first != event.recorded_at_micros) {
      time_runs_.emplace_back(event.recorded_at_micros, seq);
    } else {
      time_runs_.back().second = seq;
    }
    if (!event.request_id.empty()) {
      auto [it, inserted] = request_runs_.try_emplace(event.request_id, seq, seq);
      if (!inserted) it->second.second = seq;
    }
    last_time_ = event.recorded_at_micros;
    prev_ = hash;
    events_.push_back(std::move(event));
    return seq;
  }

  Status Put(FamilyId family, std::string_view key, std::string_view value) override {
    return Write(family, key, std::string(value));
  }
  Status Delete(FamilyId family, std::string_view key) override {
    return Write(family, key, std::nullopt);
  }

  StatusOr<std::optional<std::string>> Get(FamilyId family, std::string_view key) const override {
    auto it = pending_.find({family.value, std::string(key)});
    if (it != pending_.end()) return it->second;
    return log_->GetRow(family, key);
  }

  std::unique_ptr<RowIterator> Scan(FamilyId family, std::string_view prefix) const override {
    std::shared_ptr<rocksdb::ColumnFamilyHandle> h = log_->FamilyHandle(family);
    internal::PendingRows rows;
    for (auto it = pending_.lower_bound({family.value, std::string(prefix)});
         it != pending_.end() && it->first.first == family.value; ++it) {
      if (it->first.second.compare(0, prefix.size(), prefix) != 0) break;
      rows.emplace_back(it->first.second, it->second);
    }
    if (h == nullptr) return internal::NewErrorRowIterator(log_->UnknownFamily(family));
    // Iterators are pooled per family for the transaction's life: the stored rows
    // do not change under the append lock, and creating and destroying a RocksDB
    // iterator costs more than the seek it serves.
    std::vector<std::unique_ptr<rocksdb::Iterator>>& pool = pool_[family.value];
    std::unique_ptr<rocksdb::Iterator> base;
    if (!pool.empty()) {
      base = std::move(pool.back());
      pool.pop_back();
    } else {
      base.reset(log_->db_->NewIterator(rocksdb::ReadOptions(), h.get()));
    }
    auto release = [&pool](std::unique_ptr<rocksdb::Iterator> it) { pool.push_back(std::move(it)); };
    return internal::NewMergingRowIterator(std::move(base), std::string(prefix), std::move(rows),
                                           std::move(h), release);
  }

  bool wrote_rows() const { return !pending_.empty(); }
  const std::vector<std::pair<int64_t, uint64_t>>& time_runs() const { return time_runs_; }
  const std::map<std::string, std::pair<uint64_t, uint64_t>>& request_runs() const {
    return request_runs_;
  }
  int64_t last_time() const { return last_time_; }
  rocksdb::WriteBatch* batch() { return &batch_; }
  uint64_t first() const { return first_; }
  const Hash& last_hash() const { return prev_; }

 private:
  Status Write(FamilyId family, std::string_view key, std::optional<std::string> value) {
    std::shared_ptr<rocksdb::ColumnFamilyHandle> h = log_->WritableFamily(family);
    if (h == nullptr) return log_->UnknownFamily(family);
    const rocksdb::Slice k(key.data(), key.size());
    rocksdb::Status s = value.has_value() ? batch_.Put(h.get(), k, *value) : batch_.Delete(h.get(), k);
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(s, "building the append"));
    pending_[{family.value, std::string(key)}] = std::move(value);
    return Status();
  }

  RocksEventLog* log_;
  int64_t now_;
  int64_t clamped_from_;
  uint64_t first_;
  Hash prev_;
  int64_t last_time_;
  std::string request_id_;
  std::vector<Event> events_;
  std::vector<std::pair<int64_t, uint64_t>> time_runs_;  // (recordedAt, last sequence)
  std::map<std::string, std::pair<uint64_t, uint64_t>> request_runs_;  // id -> first, last
  rocksdb::WriteBatch batch_;
  std::map<std::pair<uint32_t, std::string>, std::optional<std::string>> pending_;
  // Idle RocksDB iterators by family (see Scan). Declared last: destroyed first, while
  // the families' handles are still held by the log.
  mutable std::map<uint32_t, std::vector<std::unique_ptr<rocksdb::Iterator>>> pool_;
};

StatusOr<AppendResult> RocksEventLog::Append(const AppendRequest& request) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateRequest(request));
  AppendOptions options;
  options.request_id = request.request_id;
  options.durability = request.durability;
  return Append(options, [&](AppendTxn& txn) -> Status {
    for (const StreamExpectation& e : request.expected) {
      JOBLEDGER_ASSIGN_OR_RETURN(uint64_t last,
                                 LastInStream(StreamKind::kJob, e.job_id, kMaxSequence));
      if (last != e.last_sequence) {
        return VersionConflict("job '" + e.job_id + "': expected its stream at sequence " +
                               SeqStr(e.last_sequence) + ", found " + SeqStr(last));
      }
    }
    for (size_t i = 0; i < request.events.size(); ++i) {
      const CauseRef& c = request.events[i].cause;
      if (c.kind == CauseRef::Kind::kSequence && c.value >= txn.next_sequence() - i) {
        return InvalidArgumentError("events[" + std::to_string(i) + "].cause: sequence " +
                                    SeqStr(c.value) + " is beyond the head " +
                                    SeqStr(txn.next_sequence() - i - 1));
      }
      StatusOr<uint64_t> added = txn.Add(request.events[i]);
      if (!added.ok()) {
        // Re-name the event as the caller numbered it.
        Status failed = added.status();
        const std::string& m = failed.message();
        std::string tail = m.substr(std::min(m.find_first_of(".:"), m.size()));
        return Status(failed.code(), "events[" + std::to_string(i) + "]" + tail,
                      failed.aws_error());
      }
    }
    return Status();
  });
}

StatusOr<AppendResult> RocksEventLog::Append(const AppendOptions& options, const DecideFn& decide) {
  if (mode_ != OpenMode::kReadWrite) {
    return FailedPreconditionError("ledger at '" + path_ + "' is open read-only");
  }
  if (options.request_id.size() > kMaxRequestIdBytes) {
    return InvalidArgumentError("requestId: at most " + std::to_string(kMaxRequestIdBytes) +
                                " bytes, got " + std::to_string(options.request_id.size()));
  }

  std::lock_guard<std::mutex> append_lock(append_mu_);
  const Head head = this->head();  // stable: only appends change it, and we hold append_mu_

  if (!options.request_id.empty()) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> known,
                               Get(requests_, internal::RequestKey(options.request_id)));
    if (known.has_value()) {
      if (known->size() != 16) {
        return DataLossError("requests: malformed record for requestId '" + options.request_id + "'");
      }
      AppendResult result;
      result.first_sequence = internal::GetBigEndian64(*known);
      result.last_sequence = internal::GetBigEndian64(std::string_view(*known).substr(8));
      JOBLEDGER_ASSIGN_OR_RETURN(Event first, Read(result.first_sequence));
      result.recorded_at_micros = first.recorded_at_micros;
      result.duplicate = true;
      return result;
    }
  }

  int64_t now = clock_->NowMicros();
  int64_t clamped_from = 0;
  if (now < head.recorded_at_micros) {
    clamped_from = now;
    now = head.recorded_at_micros;
  }

  RocksTxn txn(this, head, now, clamped_from, options.request_id);
  JOBLEDGER_RETURN_IF_ERROR(decide(txn));
  const size_t decided = txn.events().size();
  for (AppendObserver* observer : observers_) {
    JOBLEDGER_RETURN_IF_ERROR(observer->OnAppend(txn));
    if (txn.events().size() != decided) {
      return InternalError("an append observer added events; observers may only write rows");
    }
  }
  if (decided == 0) {
    if (txn.wrote_rows()) {
      return InternalError("an append wrote rows without an event; every row must follow from an event");
    }
    return AppendResult{head.sequence + 1, head.sequence, now, false};
  }

  const uint64_t first = txn.first();
  const uint64_t last = first + decided - 1;
  Head new_head{last, txn.last_hash(), txn.last_time()};
  rocksdb::WriteBatch& batch = *txn.batch();
  // One time-index entry per run of events with one recordedAt (one per append, as
  // all its events share it), keyed by the run's last sequence: the answer to "the
  // last sequence at or before t".
  rocksdb::Status bs;
  for (const auto& [t, seq] : txn.time_runs()) {
    if (bs.ok()) bs = batch.Put(time_index_, internal::TimeKey(t, seq), rocksdb::Slice());
  }
  for (const auto& [id, range] : txn.request_runs()) {
    if (!bs.ok()) break;
    uint64_t run_first = range.first;
    // An import continues a request that an earlier chunk began: keep its start.
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> known, Get(requests_, internal::RequestKey(id)));
    if (known && known->size() == 16) run_first = internal::GetBigEndian64(*known);
    std::string value;
    internal::PutBigEndian64(&value, run_first);
    internal::PutBigEndian64(&value, range.second);
    bs = batch.Put(requests_, internal::RequestKey(id), value);
  }
  if (bs.ok()) bs = batch.Put(meta_, internal::MetaKey(internal::kHeadMetaName), EncodeHead(new_head));
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(bs, "building the append"));

  rocksdb::WriteOptions wo;
  wo.sync = options.durability == Durability::kSync ||
            (options.durability == Durability::kDefault && sync_);
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(db_->Write(wo, &batch),
                                                "appending events " + SeqStr(first) + ".." +
                                                    SeqStr(last) + " to '" + path_ + "'"));
  {
    std::lock_guard<std::mutex> lock(head_mu_);
    head_ = new_head;
  }
  return AppendResult{first, last, new_head.recorded_at_micros, false};
}

Status RocksEventLog::WriteRows(const std::function<Status(RowTxn&)>& fill,
                                Durability durability) {
  if (mode_ != OpenMode::kReadWrite) {
    return FailedPreconditionError("ledger at '" + path_ + "' is open read-only");
  }
  std::lock_guard<std::mutex> append_lock(append_mu_);
  const Head head = this->head();
  RocksTxn txn(this, head, head.recorded_at_micros, 0, "");
  JOBLEDGER_RETURN_IF_ERROR(fill(txn));
  if (!txn.wrote_rows()) return Status();
  rocksdb::WriteOptions wo;
  wo.sync = durability == Durability::kSync || (durability == Durability::kDefault && sync_);
  return internal::FromRocks(db_->Write(wo, txn.batch()), "writing rows to '" + path_ + "'");
}

StatusOr<FamilyId> RocksEventLog::OpenFamily(std::string_view name) {
  if (!ValidFamilyName(name) || IsLogFamily(name)) {
    return InvalidArgumentError("family name: must match [a-z0-9_.-]+ and not be one of the "
                                "log's own, got '" + std::string(name) + "'");
  }
  std::unique_lock<std::shared_mutex> lock(families_mu_);
  for (uint32_t i = 0; i < families_.size(); ++i) {
    if (families_[i].live != nullptr && families_[i].live->GetName() == name) return FamilyId{i};
  }
  if (mode_ != OpenMode::kReadWrite) {
    return NotFoundError("ledger at '" + path_ + "' has no family '" + std::string(name) + "'");
  }
  rocksdb::ColumnFamilyHandle* h = nullptr;
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(
      db_->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), std::string(name), &h),
      "creating family '" + std::string(name) + "'"));
  families_.push_back(FamilySlot{Own(h), {}});
  return FamilyId{static_cast<uint32_t>(families_.size() - 1)};
}

Status RocksEventLog::DropFamily(FamilyId family) {
  if (mode_ != OpenMode::kReadWrite) {
    return FailedPreconditionError("ledger at '" + path_ + "' is open read-only");
  }
  // Under the append lock: no append is writing to the family while it goes.
  std::lock_guard<std::mutex> append_lock(append_mu_);
  std::unique_lock<std::shared_mutex> lock(families_mu_);
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
  std::shared_lock<std::shared_mutex> lock(families_mu_);
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
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> value,
                             Get(events_, internal::EventKey(sequence)));
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
  if (id.empty() || id.size() > 255 || limit == 0 || from > to) return out;
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
  if (id.empty() || id.size() > 255 || at == 0) return uint64_t{0};
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

Status RocksEventLog::CatchUpWithPrimary() {
  if (mode_ != OpenMode::kSecondary) {
    return FailedPreconditionError("CatchUpWithPrimary: ledger at '" + path_ + "' is not a secondary");
  }
  std::lock_guard<std::mutex> lock(append_mu_);
  JOBLEDGER_RETURN_IF_ERROR(
      internal::FromRocks(db_->TryCatchUpWithPrimary(), "catching up with the writer"));
  return LoadHead(/*strict=*/false);
}

}  // namespace internal

Hash EventHash(const Event& event) {
  return internal::ChainHash(event.previous_hash, event.sequence, internal::EncodeEvent(event));
}

StatusOr<std::unique_ptr<EventLog>> EventLog::Open(const EventLogOptions& options,
                                                   std::string_view path, OpenMode mode) {
  return internal::RocksEventLog::Open(options, path, mode);
}

}  // namespace jobledger
