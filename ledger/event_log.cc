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
#include "ledger/internal/row_iterator.h"

namespace jobledger {
namespace {

using internal::KeyPrefix;

constexpr size_t kHashBytes = sizeof(Hash);
constexpr uint64_t kProgressEvery = 4096;

std::string SeqStr(uint64_t s) { return std::to_string(s); }

std::string EncodeHead(const Head& head) {
  std::string out;
  internal::PutBigEndian64(&out, head.sequence);
  out.append(reinterpret_cast<const char*>(head.hash.data()), head.hash.size());
  internal::PutBigEndian64(&out, static_cast<uint64_t>(head.recorded_at_micros));
  return out;
}

std::optional<Head> DecodeHead(std::string_view in) {
  if (in.size() != 8 + kHashBytes + 8) return std::nullopt;
  Head head;
  head.sequence = internal::GetBigEndian64(in);
  std::memcpy(head.hash.data(), in.data() + 8, kHashBytes);
  head.recorded_at_micros = static_cast<int64_t>(internal::GetBigEndian64(in.substr(8 + kHashBytes)));
  return head;
}

internal::KeyPrefix StreamPrefixOf(StreamKind kind) {
  return kind == StreamKind::kJob ? KeyPrefix::kJobStream : KeyPrefix::kThingStream;
}

// Splits a stored event value into its chain hash and canonical bytes.
Status SplitValue(std::string_view value, uint64_t sequence, Hash* hash, std::string_view* bytes) {
  if (value.size() < kHashBytes) {
    return DataLossError("event " + SeqStr(sequence) + ": stored value is " +
                         std::to_string(value.size()) + " bytes, shorter than its hash");
  }
  std::memcpy(hash->data(), value.data(), kHashBytes);
  *bytes = value.substr(kHashBytes);
  return Status();
}

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

class RocksEventLog;

class RocksCursor final : public EventCursor {
 public:
  RocksCursor(const RocksEventLog* log, uint64_t from, uint64_t to)
      : log_(log), next_(std::max<uint64_t>(from, 1)), to_(to) {
    Advance();
  }
  State state() const override { return state_; }
  const Event& event() const override { return event_; }
  const Hash& hash() const override { return hash_; }
  const Status& status() const override { return status_; }
  void Next() override {
    if (state_ != State::kFailed) Advance();
  }

 private:
  void Advance();
  void Fail(Status status) {
    state_ = State::kFailed;
    status_ = std::move(status);
    it_.reset();
  }

  const RocksEventLog* log_;
  uint64_t next_;
  uint64_t to_;
  State state_ = State::kCaughtUp;
  Event event_;
  Hash hash_{};
  Status status_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksEventLog final : public EventLog {
 public:
  ~RocksEventLog() override {
    if (mode_ == OpenMode::kReadWrite && db_ != nullptr) {
      // Flush the memtables, so the next open does not replay a long WAL (open time
      // would grow with the log). A failure here loses nothing: the WAL still holds it.
      rocksdb::FlushOptions flush;
      std::vector<rocksdb::ColumnFamilyHandle*> all = handles_;
      for (const FamilySlot& f : families_) {
        if (f.live != nullptr) all.push_back(f.live.get());
      }
      db_->Flush(flush, all).PermitUncheckedError();
    }
    families_.clear();  // destroys the upper layers' handles (every reader is gone)
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    handles_.clear();
    db_.reset();
    if (!temp_secondary_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(temp_secondary_dir_, ec);
    }
  }

  static StatusOr<std::unique_ptr<EventLog>> Open(const EventLogOptions& options,
                                                  std::string_view path_view, OpenMode mode);

  OpenMode mode() const override { return mode_; }
  const std::string& path() const override { return path_; }

  StatusOr<AppendResult> Append(const AppendRequest& request) override;
  StatusOr<AppendResult> Append(const AppendOptions& options, const DecideFn& decide) override;
  StatusOr<FamilyId> OpenFamily(std::string_view name) override;
  Status WriteRows(const std::function<Status(RowTxn&)>& fill, Durability durability) override;
  Status DropFamily(FamilyId family) override;
  std::vector<std::string> FamilyNames() const override;
  StatusOr<std::optional<std::string>> GetRow(FamilyId family,
                                              std::string_view key) const override;
  std::unique_ptr<RowIterator> ScanRows(FamilyId family, std::string_view prefix) const override;
  std::shared_ptr<const void> PinFamily(FamilyId family) const override { return FamilyHandle(family); }
  void AddObserver(AppendObserver* observer) override { observers_.push_back(observer); }
  void RemoveObserver(AppendObserver* observer) override {
    observers_.erase(std::remove(observers_.begin(), observers_.end(), observer), observers_.end());
  }

  Head head() const override {
    std::lock_guard<std::mutex> lock(head_mu_);
    return head_;
  }

  StatusOr<Event> Read(uint64_t sequence) const override;
  std::unique_ptr<EventCursor> NewCursor(uint64_t from, uint64_t to) const override {
    return std::make_unique<RocksCursor>(this, from, to);
  }
  StatusOr<std::vector<uint64_t>> StreamSequences(StreamKind kind, std::string_view id,
                                                  uint64_t from, uint64_t to,
                                                  size_t limit) const override;
  StatusOr<std::vector<Event>> ReadStream(StreamKind kind, std::string_view id, uint64_t from,
                                          uint64_t to, size_t limit) const override;
  StatusOr<uint64_t> LastInStream(StreamKind kind, std::string_view id,
                                  uint64_t at) const override;
  StatusOr<uint64_t> LastSequenceAtOrBefore(int64_t micros) const override;
  StatusOr<VerifyResult> Verify(const VerifyOptions& options) const override;
  // The index part of Verify, over events [from, to]; fills `result` on a problem.
  Status VerifyIndexes(uint64_t from, uint64_t to, const rocksdb::Snapshot* snapshot,
                       VerifyResult* result) const;
  Status CatchUpWithPrimary() override;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* events_cf() const { return events_; }

 private:
  friend class RocksTxn;
  RocksEventLog() = default;

  // The handle of an upper layer's family, for reading; null if unknown, or dropped
  // and no longer pinned by a reader. Holding the pointer keeps the handle alive
  // across a concurrent DropFamily.
  std::shared_ptr<rocksdb::ColumnFamilyHandle> FamilyHandle(FamilyId family) const {
    std::shared_lock<std::shared_mutex> lock(families_mu_);
    if (family.value >= families_.size()) return nullptr;
    const FamilySlot& slot = families_[family.value];
    return slot.live != nullptr ? slot.live : slot.dropped.lock();
  }
  // The handle for writing: null once dropped.
  std::shared_ptr<rocksdb::ColumnFamilyHandle> WritableFamily(FamilyId family) const {
    std::shared_lock<std::shared_mutex> lock(families_mu_);
    return family.value < families_.size() ? families_[family.value].live : nullptr;
  }
  std::shared_ptr<rocksdb::ColumnFamilyHandle> Own(rocksdb::ColumnFamilyHandle* h) {
    rocksdb::DB* db = db_.get();
    return std::shared_ptr<rocksdb::ColumnFamilyHandle>(
        h, [db](rocksdb::ColumnFamilyHandle* p) { db->DestroyColumnFamilyHandle(p).PermitUncheckedError(); });
  }
  Status UnknownFamily(FamilyId family) const {
    return NotFoundError("family id " + std::to_string(family.value) +
                         " is not open (or was dropped) in ledger '" + path_ + "'");
  }

  Status LoadHead(bool strict);
  StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* cf,
                                           const std::string& key,
                                           const rocksdb::Snapshot* snapshot = nullptr) const;

  OpenMode mode_ = OpenMode::kReadWrite;
  std::string path_;
  std::string temp_secondary_dir_;
  const Clock* clock_ = nullptr;
  SystemClock system_clock_;
  bool sync_ = true;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* job_stream_ = nullptr;
  rocksdb::ColumnFamilyHandle* thing_stream_ = nullptr;
  rocksdb::ColumnFamilyHandle* time_index_ = nullptr;
  rocksdb::ColumnFamilyHandle* requests_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;

  mutable std::shared_mutex families_mu_;
  struct FamilySlot {
    std::shared_ptr<rocksdb::ColumnFamilyHandle> live;
    // After DropFamily: readers that pinned it (PinFamily, an open iterator) keep
    // reading it until they let go.
    std::weak_ptr<rocksdb::ColumnFamilyHandle> dropped;
  };
  std::vector<FamilySlot> families_;  // by FamilyId
  std::vector<AppendObserver*> observers_;

  std::mutex append_mu_;  // serialises appends (and catch-up on a secondary)
  mutable std::mutex head_mu_;
  Head head_;  // guarded by head_mu_; written only with append_mu_ held
};

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

StatusOr<VerifyResult> RocksEventLog::Verify(const VerifyOptions& options) const {
  // A read-write log may be appended to while we scan: read the head and the events
  // from one snapshot. Secondary and read-only instances do not change under us.
  const rocksdb::Snapshot* snapshot = mode_ == OpenMode::kReadWrite ? db_->GetSnapshot() : nullptr;
  struct SnapshotGuard {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~SnapshotGuard() {
      if (s != nullptr) db->ReleaseSnapshot(s);
    }
  } guard{db_.get(), snapshot};

  Head head;
  {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> raw,
                               Get(meta_, internal::MetaKey(internal::kHeadMetaName), snapshot));
    if (raw.has_value()) {
      std::optional<Head> decoded = DecodeHead(*raw);
      if (!decoded) return DataLossError("ledger at '" + path_ + "': malformed head record");
      head = *decoded;
    }
  }

  VerifyResult result;
  result.from = std::max<uint64_t>(options.from, 1);
  result.to = std::min(options.to, head.sequence);
  auto problem = [&](VerifyProblem p, uint64_t seq, std::string detail) {
    result.problem = p;
    result.first_bad_sequence = seq;
    result.detail = std::move(detail);
    return result;
  };
  auto stored_hash = [&](uint64_t seq) -> StatusOr<std::optional<Hash>> {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> value,
                               Get(events_, internal::EventKey(seq), snapshot));
    if (!value.has_value()) return std::optional<Hash>();
    Hash h;
    std::string_view bytes;
    JOBLEDGER_RETURN_IF_ERROR(SplitValue(*value, seq, &h, &bytes));
    return std::optional<Hash>(h);
  };

  const uint64_t total = result.to >= result.from ? result.to - result.from + 1 : 0;
  if (total > 0) {
    Hash prev{};
    if (result.from > 1) {
      StatusOr<std::optional<Hash>> anchor = stored_hash(result.from - 1);
      if (!anchor.ok()) {
        return problem(VerifyProblem::kDecodeFailed, result.from - 1, anchor.status().message());
      }
      if (!anchor->has_value()) {
        return problem(VerifyProblem::kMissingEvent, result.from - 1,
                       "event " + SeqStr(result.from - 1) + " is missing");
      }
      prev = **anchor;
    }
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
    it->Seek(internal::EventKey(result.from));
    for (uint64_t seq = result.from; seq <= result.to; ++seq, it->Next()) {
      if (!it->Valid()) {
        if (!it->status().ok()) {
          return problem(VerifyProblem::kStorageCorruption, seq,
                         "storage error reading event " + SeqStr(seq) + ": " +
                             it->status().ToString());
        }
        return problem(VerifyProblem::kMissingEvent, seq,
                       "event " + SeqStr(seq) + " is missing (the log ends at " +
                           SeqStr(seq - 1) + ", the head says " + SeqStr(head.sequence) + ")");
      }
      std::optional<uint64_t> key_seq = internal::ParseEventKey(internal::ToView(it->key()));
      if (!key_seq || *key_seq != seq) {
        return problem(VerifyProblem::kMissingEvent, seq, "event " + SeqStr(seq) + " is missing");
      }
      Hash hash;
      std::string_view bytes;
      Status split = SplitValue(internal::ToView(it->value()), seq, &hash, &bytes);
      if (!split.ok()) return problem(VerifyProblem::kDecodeFailed, seq, split.message());
      if (internal::ChainHash(prev, seq, bytes) != hash) {
        // Either the bytes changed or the chain above them did; tell which.
        StatusOr<Event> decoded = internal::DecodeEvent(bytes, seq);
        if (decoded.ok() && decoded->previous_hash != prev) {
          return problem(VerifyProblem::kChainBroken, seq,
                         "event " + SeqStr(seq) +
                             "'s previousHash is not the hash of event " + SeqStr(seq - 1));
        }
        if (!decoded.ok()) {
          return problem(VerifyProblem::kDecodeFailed, seq, decoded.status().message());
        }
        return problem(VerifyProblem::kHashMismatch, seq,
                       "event " + SeqStr(seq) +
                           "'s bytes do not match its recorded hash (the event was altered)");
      }
      // The stored hash is right, but the hash is computed from the real predecessor,
      // not from the event's previousHash field: that field must agree too, or a
      // reader following the chain through the events would disagree with us.
      StatusOr<Hash> recorded_prev = internal::DecodePreviousHash(bytes, seq);
      if (!recorded_prev.ok()) {
        return problem(VerifyProblem::kDecodeFailed, seq, recorded_prev.status().message());
      }
      if (*recorded_prev != prev) {
        return problem(VerifyProblem::kChainBroken, seq,
                       "event " + SeqStr(seq) + "'s previousHash is not the hash of event " +
                           SeqStr(seq - 1));
      }
      prev = hash;
      ++result.events_checked;
      if (options.progress && result.events_checked % kProgressEvery == 0) {
        options.progress(result.events_checked, total);
      }
    }
    result.last_hash = prev;
    if (result.to == head.sequence && prev != head.hash) {
      return problem(VerifyProblem::kHeadMismatch, head.sequence,
                     "the head record's hash differs from event " + SeqStr(head.sequence) + "'s hash");
    }
    if (!it->status().ok()) {
      return problem(VerifyProblem::kStorageCorruption, result.to,
                     "storage error after event " + SeqStr(result.to) + ": " + it->status().ToString());
    }
  }
  if (options.to >= head.sequence) {
    // Nothing may follow the head.
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
    it->Seek(internal::EventKey(head.sequence + 1));
    if (it->Valid()) {
      std::optional<uint64_t> after = internal::ParseEventKey(internal::ToView(it->key()));
      return problem(VerifyProblem::kHeadMismatch, after.value_or(head.sequence + 1),
                     "events are stored beyond the head record's sequence " + SeqStr(head.sequence));
    }
    if (!it->status().ok()) {
      return problem(VerifyProblem::kStorageCorruption, head.sequence + 1,
                     "storage error after the head: " + it->status().ToString());
    }
  }
  if (options.check_indexes && result.to >= result.from) {
    JOBLEDGER_RETURN_IF_ERROR(VerifyIndexes(result.from, result.to, snapshot, &result));
    if (!result.ok()) return result;
  }
  if (options.digest.has_value()) {
    const Digest& d = *options.digest;
    if (d.sequence > head.sequence) {
      return problem(VerifyProblem::kTruncated, head.sequence + 1,
                     "the digest is at sequence " + SeqStr(d.sequence) +
                         " but the log ends at " + SeqStr(head.sequence) + " (truncated)");
    }
    if (d.sequence > 0) {
      StatusOr<std::optional<Hash>> h = stored_hash(d.sequence);
      if (!h.ok()) return problem(VerifyProblem::kDecodeFailed, d.sequence, h.status().message());
      if (!h->has_value()) {
        return problem(VerifyProblem::kMissingEvent, d.sequence,
                       "event " + SeqStr(d.sequence) + " named by the digest is missing");
      }
      if (**h != d.hash) {
        return problem(VerifyProblem::kDigestMismatch, d.sequence,
                       "event " + SeqStr(d.sequence) +
                           " differs from the digest: the log up to it was rewritten");
      }
    } else if (d.hash != Hash{}) {
      return problem(VerifyProblem::kDigestMismatch, 0, "a digest at sequence 0 must have a zero hash");
    }
  }
  if (options.progress) options.progress(result.events_checked, total);
  return result;
}

Status RocksEventLog::VerifyIndexes(uint64_t from, uint64_t to, const rocksdb::Snapshot* snapshot,
                                    VerifyResult* result) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  auto fail = [&](uint64_t seq, std::string detail) {
    result->problem = VerifyProblem::kIndexMismatch;
    result->first_bad_sequence = seq;
    result->detail = std::move(detail);
    return Status();
  };
  auto read = [&](uint64_t seq) -> StatusOr<Event> {
    std::string value;
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(db_->Get(ro, events_, internal::EventKey(seq), &value),
                                                  "reading event " + SeqStr(seq)));
    Hash h;
    std::string_view bytes;
    JOBLEDGER_RETURN_IF_ERROR(SplitValue(value, seq, &h, &bytes));
    return internal::DecodeEvent(bytes, seq);
  };
  auto has = [&](rocksdb::ColumnFamilyHandle* cf, const std::string& key) -> StatusOr<bool> {
    std::string value;
    rocksdb::Status st = db_->Get(ro, cf, key, &value);
    if (st.IsNotFound()) return false;
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(st, "reading " + cf->GetName()));
    return true;
  };
  // Every event is in the streams it names.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
    uint64_t seq = from;
    for (it->Seek(internal::EventKey(from)); it->Valid() && seq <= to; it->Next(), ++seq) {
      Hash h;
      std::string_view bytes;
      JOBLEDGER_RETURN_IF_ERROR(SplitValue(internal::ToView(it->value()), seq, &h, &bytes));
      StatusOr<Event> e = internal::DecodeEvent(bytes, seq);
      if (!e.ok()) return fail(seq, e.status().message());
      std::string_view job = JobIdOf(e->body);
      std::string_view thing = ThingNameOf(e->body);
      if (!job.empty()) {
        JOBLEDGER_ASSIGN_OR_RETURN(bool ok, has(job_stream_, internal::StreamKey(KeyPrefix::kJobStream, job, seq)));
        if (!ok) return fail(seq, "event " + SeqStr(seq) + " is missing from job '" + std::string(job) + "''s stream");
      }
      if (!thing.empty()) {
        JOBLEDGER_ASSIGN_OR_RETURN(bool ok, has(thing_stream_, internal::StreamKey(KeyPrefix::kThingStream, thing, seq)));
        if (!ok) return fail(seq, "event " + SeqStr(seq) + " is missing from thing '" + std::string(thing) + "''s stream");
      }
    }
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading events"));
  }
  // Every stream entry names an event of that job or thing.
  for (rocksdb::ColumnFamilyHandle* cf : {job_stream_, thing_stream_}) {
    const bool jobs = cf == job_stream_;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = internal::ToView(it->key());
      std::optional<uint64_t> seq = internal::ParseStreamKeySequence(key);
      if (!seq) return fail(0, cf->GetName() + ": a malformed key");
      if (*seq < from || *seq > to) continue;
      std::string_view id = key.substr(2, key.size() - 10);
      StatusOr<Event> e = read(*seq);
      if (!e.ok()) return fail(*seq, cf->GetName() + " names event " + SeqStr(*seq) + ": " + e.status().message());
      std::string_view named = jobs ? JobIdOf(e->body) : ThingNameOf(e->body);
      if (named != id) {
        return fail(*seq, cf->GetName() + " files event " + SeqStr(*seq) + " under '" + std::string(id) +
                              "' but it belongs to '" + std::string(named) + "'");
      }
      if (it->value().size() != 1 || static_cast<uint8_t>(it->value()[0]) != static_cast<uint8_t>(KindOf(e->body))) {
        return fail(*seq, cf->GetName() + " records the wrong kind for event " + SeqStr(*seq));
      }
    }
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading " + cf->GetName()));
  }
  // Every time index entry names an event recorded at that time.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, time_index_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::optional<internal::TimeKeyParts> parts = internal::ParseTimeKey(internal::ToView(it->key()));
      if (!parts) return fail(0, "time_index: a malformed key");
      if (parts->sequence < from || parts->sequence > to) continue;
      StatusOr<Event> e = read(parts->sequence);
      if (!e.ok()) return fail(parts->sequence, "time_index names event " + SeqStr(parts->sequence) + ": " + e.status().message());
      if (e->recorded_at_micros != parts->recorded_at_micros) {
        return fail(parts->sequence, "time_index files event " + SeqStr(parts->sequence) +
                                         " under another time than it was recorded at");
      }
    }
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading time_index"));
  }
  return Status();
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

}  // namespace

std::string_view VerifyProblemName(VerifyProblem problem) {
  switch (problem) {
    case VerifyProblem::kNone: return "none";
    case VerifyProblem::kDecodeFailed: return "decode-failed";
    case VerifyProblem::kHashMismatch: return "hash-mismatch";
    case VerifyProblem::kChainBroken: return "chain-broken";
    case VerifyProblem::kMissingEvent: return "missing-event";
    case VerifyProblem::kHeadMismatch: return "head-mismatch";
    case VerifyProblem::kDigestMismatch: return "digest-mismatch";
    case VerifyProblem::kTruncated: return "truncated";
    case VerifyProblem::kStorageCorruption: return "storage-corruption";
    case VerifyProblem::kIndexMismatch: return "index-mismatch";
  }
  return "unknown";
}

std::string PrintableKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

Hash EventHash(const Event& event) {
  return internal::ChainHash(event.previous_hash, event.sequence, internal::EncodeEvent(event));
}

StatusOr<std::vector<std::string>> CompareFamilies(const EventLog& log, FamilyId a_family,
                                                   FamilyId b_family, size_t limit) {
  std::vector<std::string> out;
  auto a = log.ScanRows(a_family, "");
  auto b = log.ScanRows(b_family, "");
  a->SeekToFirst();
  b->SeekToFirst();
  while ((a->Valid() || b->Valid()) && out.size() < limit) {
    if (a->Valid() && b->Valid() && a->key() == b->key()) {
      if (a->value() != b->value()) out.push_back("row " + PrintableKey(a->key()) + " differs");
      a->Next();
      b->Next();
    } else if (!b->Valid() || (a->Valid() && a->key() < b->key())) {
      out.push_back("row " + PrintableKey(a->key()) + " is only in the first");
      a->Next();
    } else {
      out.push_back("row " + PrintableKey(b->key()) + " is only in the second");
      b->Next();
    }
  }
  JOBLEDGER_RETURN_IF_ERROR(a->status());
  JOBLEDGER_RETURN_IF_ERROR(b->status());
  return out;
}

StatusOr<std::unique_ptr<EventLog>> EventLog::Open(const EventLogOptions& options,
                                                   std::string_view path, OpenMode mode) {
  return RocksEventLog::Open(options, path, mode);
}

}  // namespace jobledger
