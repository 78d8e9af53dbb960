// EventLog, writing: validation of appends, group commit (the queue, the writer
// thread, one decide step per append inside a group, one WriteBatch per group), and
// rows written outside appends (WriteRows). Rows ingested as table files are in
// event_log_ingest.cc.

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory_resource>
#include <mutex>

#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/rocks_event_log.h"
#include "ledger/internal/rocks_util.h"
#include "ledger/internal/row_iterator.h"
#include "ledger/internal/stages.h"
#include "ledger/test_hooks.h"

namespace jobledger {
namespace internal {

namespace {

uint64_t ThreadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

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
          if (b.job_id.empty() || b.job_id.size() > internal::kMaxKeyIdBytes) {
            field_status = InvalidArgumentError(where + ".jobId: must be 1.." + std::to_string(internal::kMaxKeyIdBytes) + " bytes");
          }
        }
        if constexpr (requires { b.thing_name; }) {
          if (field_status.ok() && (b.thing_name.empty() || b.thing_name.size() > internal::kMaxKeyIdBytes)) {
            field_status = InvalidArgumentError(where + ".thingName: must be 1.." + std::to_string(internal::kMaxKeyIdBytes) + " bytes");
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
    if (id.empty() || id.size() > internal::kMaxKeyIdBytes) {
      return InvalidArgumentError("expected[" + std::to_string(i) + "].jobId: must be 1.." + std::to_string(internal::kMaxKeyIdBytes) + " bytes");
    }
  }
  return Status();
}


// One group of appends in the making (see "Group commit" in event_log.h): the batch
// they share and what the appends accepted so far have added, which later appends of
// the group read as if it were stored.
struct GroupState {
  explicit GroupState(const Head& start) : head(start) {}

  Head head;  // after the last accepted append
  rocksdb::WriteBatch batch;
  // Rows written by the group's appends, by family; nullopt is a delete. An append
  // writes here directly (keeping what it overwrote, to undo it if rejected), so reads
  // see one map, in place, however many rows the group has.
  std::pmr::monotonic_buffer_resource arena;  // the rows' bytes and nodes, freed at once
  std::map<uint32_t, internal::ArenaRows> rows;
  internal::ArenaRows& RowsOf(uint32_t family) {
    return rows.try_emplace(family, &arena).first->second;
  }
  std::vector<Event> events;  // accepted events, in sequence order
  std::vector<std::pair<int64_t, uint64_t>> time_runs;  // (recordedAt, last sequence)
  std::map<std::string, std::pair<uint64_t, uint64_t>> request_runs;  // id -> first, last
  std::map<std::string, AppendResult> requests;  // AppendOptions::request_id -> result
  std::map<std::string, uint64_t, std::less<>> job_last;  // job -> its last sequence here
  // Idle RocksDB iterators by family (see RocksTxn::Scan). Declared last: destroyed
  // first, while the families' handles are still held by the log.
  std::map<uint32_t, std::vector<std::unique_ptr<rocksdb::Iterator>>> pool;
};

// The transaction of one append inside a group. Its events go into the group's
// WriteBatch after a save point, so a rejection rolls back this append alone; its rows
// go straight into the group's rows, with what they replaced kept so Rollback() can
// restore it (its reads see the group's rows, its own among them, over the stored
// rows), and reach the batch once, when the group is written.
class RocksTxn final : public AppendTxn {
 public:
  RocksTxn(RocksEventLog* log, GroupState* group, int64_t now, int64_t clamped_from,
           std::string request_id)
      : log_(log),
        group_(group),
        now_(now),
        clamped_from_(clamped_from),
        first_(group->head.sequence + 1),
        prev_(group->head.hash),
        last_time_(group->head.recorded_at_micros),
        request_id_(std::move(request_id)) {
    group_->batch.SetSavePoint();
  }

  int64_t now_micros() const override { return now_; }
  uint64_t next_sequence() const override { return first_ + events_.size(); }
  void SetAnswer(std::string answer) override { answer_ = std::move(answer); }
  std::string TakeAnswer() { return std::move(answer_); }
  const std::vector<Event>& events() const override { return events_; }

  StatusOr<Event> ReadEvent(uint64_t sequence) const override {
    if (sequence >= first_ && sequence - first_ < events_.size()) return events_[sequence - first_];
    const std::vector<Event>& g = group_->events;
    if (!g.empty() && sequence >= g.front().sequence && sequence - g.front().sequence < g.size()) {
      return g[sequence - g.front().sequence];
    }
    return log_->Read(sequence);
  }

  // The last sequence in the stream of `job_id`, counting this append and the group.
  StatusOr<uint64_t> LastInJobStream(std::string_view job_id) const {
    for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
      if (JobIdOf(it->body) == job_id) return it->sequence;
    }
    auto found = group_->job_last.find(job_id);
    if (found != group_->job_last.end()) return found->second;
    return log_->LastInStream(StreamKind::kJob, job_id, kMaxSequence);
  }

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
    return Store(Event(in), where, /*as_stored=*/true);
  }

  // Encodes, hashes and indexes an event whose envelope is complete. `as_stored`:
  // keep the event as it decodes from its bytes (an import may hold values the
  // encoding does not keep, such as zeros that mean "absent"), so what upper layers
  // fold is what the log holds.
  StatusOr<uint64_t> Store(Event event, const std::string& where, bool as_stored = false) {
    const uint64_t seq = event.sequence;
    std::string value(kHashBytes, '\0');
    {
      ScopedStage timed(Stage::kEncode);
      value += internal::EncodeEvent(event);
    }
    if (value.size() - kHashBytes > internal::kMaxEventBytes) {
      return InvalidArgumentError(where + ": encodes to " + std::to_string(value.size() - kHashBytes) +
                                  " bytes, over the limit of " +
                                  std::to_string(internal::kMaxEventBytes));
    }
    Hash hash;
    {
      ScopedStage timed(Stage::kHash);
      hash = internal::ChainHash(prev_, seq, std::string_view(value).substr(kHashBytes));
    }
    std::memcpy(value.data(), hash.data(), kHashBytes);
    if (as_stored) {
      JOBLEDGER_ASSIGN_OR_RETURN(event, internal::DecodeEvent(std::string_view(value).substr(kHashBytes), seq));
    }
    const char kind = static_cast<char>(KindOf(event.body));
    rocksdb::WriteBatch& batch = group_->batch;
    rocksdb::Status bs = batch.Put(log_->events_, internal::EventKey(seq), value);
    std::string_view job = JobIdOf(event.body);
    std::string_view thing = ThingNameOf(event.body);
    if (bs.ok() && !job.empty()) {
      bs = batch.Put(log_->job_stream_, internal::StreamKey(KeyPrefix::kJobStream, job, seq),
                     rocksdb::Slice(&kind, 1));
    }
    if (bs.ok() && !thing.empty()) {
      bs = batch.Put(log_->thing_stream_, internal::StreamKey(KeyPrefix::kThingStream, thing, seq),
                     rocksdb::Slice(&kind, 1));
    }
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(bs, "building the append"));
    last_time_ = event.recorded_at_micros;
    prev_ = hash;
    events_.push_back(std::move(event));
    return seq;
  }

  Status Put(FamilyId family, std::string_view key, std::string_view value) override {
    return Write(family, key, value);
  }
  Status Delete(FamilyId family, std::string_view key) override {
    return Write(family, key, std::nullopt);
  }

  StatusOr<std::optional<std::string>> Get(FamilyId family, std::string_view key) const override {
    auto f = group_->rows.find(family.value);
    if (f != group_->rows.end()) {
      auto it = f->second.find(key);
      if (it != f->second.end()) {
        if (!it->second) return std::optional<std::string>();
        return std::optional<std::string>(std::string(*it->second));
      }
    }
    return log_->GetRow(family, key);
  }

  std::unique_ptr<RowIterator> Scan(FamilyId family, std::string_view prefix) const override {
    std::shared_ptr<rocksdb::ColumnFamilyHandle> h = log_->FamilyHandle(family);
    if (h == nullptr) return internal::NewErrorRowIterator(log_->UnknownFamily(family));
    // The group's rows (this append's among them) win over stored rows; read in
    // place, so a scan costs the same however many rows the group holds.
    const internal::ArenaRows* rows = &group_->RowsOf(family.value);
    // Iterators are pooled per family for the group's life: the stored rows do not
    // change under the append lock, and creating and destroying a RocksDB iterator
    // costs more than the seek it serves.
    std::vector<std::unique_ptr<rocksdb::Iterator>>& pool = group_->pool[family.value];
    std::unique_ptr<rocksdb::Iterator> base;
    if (!pool.empty()) {
      base = std::move(pool.back());
      pool.pop_back();
    } else {
      base.reset(log_->db_->NewIterator(rocksdb::ReadOptions(), h.get()));
    }
    auto release = [&pool](std::unique_ptr<rocksdb::Iterator> it) { pool.push_back(std::move(it)); };
    return internal::NewArenaRowIterator(std::move(base), std::string(prefix), rows, std::move(h),
                                         release);
  }

  bool wrote_rows() const { return !undo_.empty(); }
  uint64_t first() const { return first_; }

  // Makes this append part of the group.
  void Commit() {
    group_->batch.PopSavePoint().PermitUncheckedError();
    for (const Event& e : events_) {
      auto& runs = group_->time_runs;
      if (runs.empty() || runs.back().first != e.recorded_at_micros) {
        runs.emplace_back(e.recorded_at_micros, e.sequence);
      } else {
        runs.back().second = e.sequence;
      }
      if (!e.request_id.empty()) {
        auto [it, inserted] = group_->request_runs.try_emplace(e.request_id, e.sequence, e.sequence);
        if (!inserted) it->second.second = e.sequence;
      }
      std::string_view job = JobIdOf(e.body);
      if (!job.empty()) group_->job_last.insert_or_assign(std::string(job), e.sequence);
    }
    if (!events_.empty()) group_->head = Head{events_.back().sequence, prev_, last_time_};
    for (Event& e : events_) group_->events.push_back(std::move(e));
    events_.clear();
    undo_.clear();
  }

  // Takes everything this append wrote out of the group's batch.
  void Rollback() {
    group_->batch.RollbackToSavePoint().PermitUncheckedError();
    events_.clear();
    // Newest first, so each row ends as it was before this append.
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      internal::ArenaRows& rows = group_->RowsOf(it->family);
      auto row = rows.find(std::string_view(it->key));
      if (it->before.has_value()) {
        row->second = std::move(*it->before);
      } else {
        rows.erase(row);
      }
    }
    undo_.clear();
  }

 private:
  Status Write(FamilyId family, std::string_view key, std::optional<std::string_view> value) {
    std::shared_ptr<rocksdb::ColumnFamilyHandle> h = log_->WritableFamily(family);
    if (h == nullptr) return log_->UnknownFamily(family);
    // Rows reach the batch only when the group is written (RocksEventLog::AddRows):
    // a row written by many appends of a group is put once.
    internal::ArenaRows& rows = group_->RowsOf(family.value);
    std::optional<std::pmr::string> stored;
    if (value) stored.emplace(*value, &group_->arena);
    auto it = rows.find(key);
    if (it == rows.end()) {
      undo_.push_back(Undo{family.value, std::string(key), std::nullopt});
      rows.emplace(std::pmr::string(key, &group_->arena), std::move(stored));
    } else {
      undo_.push_back(Undo{family.value, std::string(key), std::move(it->second)});
      it->second = std::move(stored);
    }
    return Status();
  }

  RocksEventLog* log_;
  GroupState* group_;
  int64_t now_;
  int64_t clamped_from_;
  uint64_t first_;
  Hash prev_;
  int64_t last_time_;
  std::string request_id_;
  std::string answer_;  // SetAnswer's, for the request's record
  std::vector<Event> events_;
  // What this append's writes replaced in the group's rows, in order: the row before
  // (nullopt: it was not in the group's rows).
  struct Undo {
    uint32_t family;
    std::string key;
    std::optional<std::optional<std::pmr::string>> before;
  };
  std::vector<Undo> undo_;
};

StatusOr<AppendResult> RocksEventLog::Append(const AppendRequest& request) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateRequest(request));
  AppendOptions options;
  options.request_id = request.request_id;
  options.durability = request.durability;
  return Append(options, [&](AppendTxn& txn) -> Status {
    auto& rocks_txn = static_cast<RocksTxn&>(txn);
    for (const StreamExpectation& e : request.expected) {
      JOBLEDGER_ASSIGN_OR_RETURN(uint64_t last, rocks_txn.LastInJobStream(e.job_id));
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

Status RocksEventLog::CheckAppendable(const AppendOptions& options) const {
  if (mode_ != OpenMode::kReadWrite) {
    return FailedPreconditionError("ledger at '" + path_ + "' is open read-only");
  }
  if (options.request_id.size() > kMaxRequestIdBytes) {
    return InvalidArgumentError("requestId: at most " + std::to_string(kMaxRequestIdBytes) +
                                " bytes, got " + std::to_string(options.request_id.size()));
  }
  return Status();
}

StatusOr<AppendResult> RocksEventLog::Append(const AppendOptions& options, const DecideFn& decide) {
  JOBLEDGER_RETURN_IF_ERROR(CheckAppendable(options));
  if (on_writer_thread()) {
    return FailedPreconditionError(
        "Append called on the writer thread (from a decide step, an observer or a callback) "
        "would wait for itself");
  }
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<StatusOr<AppendResult>> result;
  } waiter;
  Enqueue(
      PendingAppend{options, [&decide](AppendTxn& txn) { return decide(txn); },
                    [&waiter](StatusOr<AppendResult> r) {
                      std::lock_guard<std::mutex> lock(waiter.mu);
                      waiter.result.emplace(std::move(r));
                      waiter.cv.notify_one();
                    }},
      WhenFull::kBlock)
      .IgnoreError();  // only kRefuse fails
  std::unique_lock<std::mutex> lock(waiter.mu);
  waiter.cv.wait(lock, [&] { return waiter.result.has_value(); });
  return std::move(*waiter.result);
}

void RocksEventLog::AppendAsync(AppendOptions options, DecideFn decide, AppendCallback done) {
  Status s = CheckAppendable(options);
  if (!s.ok()) {
    if (done) done(std::move(s));
    return;
  }
  Enqueue(PendingAppend{std::move(options), std::move(decide), std::move(done)}, WhenFull::kQueue)
      .IgnoreError();  // only kRefuse fails
}

Status RocksEventLog::TryAppendAsync(AppendOptions options, DecideFn decide, AppendCallback done) {
  JOBLEDGER_RETURN_IF_ERROR(CheckAppendable(options));
  return Enqueue(PendingAppend{std::move(options), std::move(decide), std::move(done)},
                 WhenFull::kRefuse);
}

size_t RocksEventLog::queued_appends() const {
  MutexLock lock(&queue_mu_);
  return queue_.size();
}

Status RocksEventLog::Enqueue(PendingAppend append, WhenFull when_full) {
  {
    MutexLock lock(&queue_mu_);
    if (queue_.size() >= queue_capacity_) {
      if (when_full == WhenFull::kRefuse) {
        return ResourceExhaustedError("append queue of ledger '" + path_ + "' is full (" +
                                      std::to_string(queue_capacity_) +
                                      " appends waiting); retry later");
      }
      // A blocking caller waits for room; an asynchronous one waits in line (its
      // completion comes later; its memory is its own operation).
      if (when_full == WhenFull::kBlock) {
        space_cv_.wait(queue_mu_, [&]() JOBLEDGER_REQUIRES(queue_mu_) {
          return queue_.size() < queue_capacity_;
        });
      }
    }
    queue_.push_back(std::move(append));
    if (drain_scheduled_) return Status();
    drain_scheduled_ = true;
  }
  boost::asio::post(writer_context_, [this] { Drain(); });
  return Status();
}

void RocksEventLog::Drain() {
  std::vector<PendingAppend> group;
  for (;;) {
    group.clear();
    {
      MutexLock lock(&queue_mu_);
      if (queue_.empty()) {
        drain_scheduled_ = false;
        return;
      }
      // Up to max_group_size_ appends, ending before one that goes alone (or with it,
      // when it comes first).
      const size_t n = std::min(queue_.size(), max_group_size_);
      for (size_t i = 0; i < n; ++i) {
        const bool alone = queue_.front().options.alone;
        if (alone && !group.empty()) break;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (alone) break;
      }
    }
    space_cv_.notify_all();
    t_stage_clock = &stage_clock_;
    const uint64_t cpu_before = ThreadCpuNanos();
    std::vector<StatusOr<AppendResult>> results = WriteGroup(group);
    {
      ScopedStage timed(Stage::kAnswer);
      for (size_t i = 0; i < group.size(); ++i) {
        if (group[i].done) group[i].done(std::move(results[i]));
      }
    }
    writer_cpu_nanos_.fetch_add(ThreadCpuNanos() - cpu_before, std::memory_order_relaxed);
  }
}

StatusOr<AppendResult> RocksEventLog::DecideOne(GroupState& group, const PendingAppend& append,
                                                bool* joined) {
  *joined = false;
  const AppendOptions& options = append.options;
  if (!options.request_id.empty()) {
    auto in_group = group.requests.find(options.request_id);
    if (in_group != group.requests.end()) {
      *joined = true;  // answered from an append that is not written yet
      AppendResult result = in_group->second;
      result.duplicate = true;
      return result;
    }
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> known,
                               Get(requests_, internal::RequestKey(options.request_id)));
    if (known.has_value()) {
      if (known->size() < internal::kRequestRecordBytes) {
        return DataLossError("requests: malformed record for requestId '" + options.request_id + "'");
      }
      AppendResult result;
      result.first_sequence = internal::GetBigEndian64(*known);
      result.last_sequence = internal::GetBigEndian64(std::string_view(*known).substr(8));
      result.answer = known->substr(internal::kRequestRecordBytes);
      JOBLEDGER_ASSIGN_OR_RETURN(Event first, Read(result.first_sequence));
      result.recorded_at_micros = first.recorded_at_micros;
      result.duplicate = true;
      return result;
    }
  }

  int64_t now = clock_->NowMicros();
  int64_t clamped_from = 0;
  if (now < group.head.recorded_at_micros) {
    clamped_from = now;
    now = group.head.recorded_at_micros;
  }

  RocksTxn txn(this, &group, now, clamped_from, options.request_id);
  auto decided = [&]() JOBLEDGER_REQUIRES(append_mu_) -> Status {
    {
      ScopedStage timed(Stage::kDecide);
      JOBLEDGER_RETURN_IF_ERROR(append.decide(txn));
    }
    const size_t added = txn.events().size();
    ScopedStage timed(Stage::kObservers);
    for (AppendObserver* observer : observers_) {
      JOBLEDGER_RETURN_IF_ERROR(observer->OnAppend(txn));
      if (txn.events().size() != added) {
        return InternalError("an append observer added events; observers may only write rows");
      }
    }
    if (added == 0 && txn.wrote_rows()) {
      return InternalError("an append wrote rows without an event; every row must follow from an event");
    }
    return Status();
  }();
  if (!decided.ok()) {
    txn.Rollback();
    for (AppendObserver* observer : observers_) observer->OnAppendDropped();
    return decided;
  }
  for (AppendObserver* observer : observers_) observer->OnAppendKept();
  const uint64_t first = txn.first();
  const uint64_t count = txn.events().size();
  txn.Commit();
  AppendResult result{first, first + count - 1, now, false, {}};
  if (count > 0) {
    *joined = true;
    if (!options.request_id.empty()) {
      // With AppendTxn::SetAnswer's answer: a retry in this group gets it, and the
      // request's record keeps it.
      group.requests.emplace(options.request_id, result).first->second.answer = txn.TakeAnswer();
    }
  }
  return result;
}

std::vector<StatusOr<AppendResult>> RocksEventLog::WriteGroup(std::vector<PendingAppend>& appends) {
  std::vector<StatusOr<AppendResult>> results;
  results.reserve(appends.size());
  MutexLock append_lock(&append_mu_);
  if (Status failed = failure(); !failed.ok()) {
    for (size_t i = 0; i < appends.size(); ++i) results.emplace_back(failed);
    return results;
  }
  GroupState group(head());
  std::vector<size_t> joined;  // results that stand or fall with the group's write
  bool sync = false;
  for (size_t i = 0; i < appends.size(); ++i) {
    bool in_group = false;
    results.push_back(DecideOne(group, appends[i], &in_group));
    if (in_group) {
      joined.push_back(i);
      const Durability d = appends[i].options.durability;
      sync = sync || d == Durability::kSync || (d == Durability::kDefault && sync_);
    }
  }
  {
    MutexLock lock(&head_mu_);
    ++stats_.groups;
    stats_.appends += appends.size();
    stats_.largest_group = std::max<uint64_t>(stats_.largest_group, appends.size());
    if (!group.events.empty()) {
      ++stats_.written_groups;
      if (sync) ++stats_.synced_groups;
    }
  }
  if (group.events.empty()) return results;
  Status written = CommitGroup(group, sync);
  if (!written.ok()) {
    MutexLock lock(&head_mu_);
    failed_ = UnavailableError("ledger at '" + path_ + "' failed and accepts no more appends: " +
                               written.message() + "; reopen it to recover");
    for (size_t i : joined) results[i] = written;
  }
  return results;
}

Status RocksEventLog::CommitGroup(GroupState& group, bool sync) {
  const uint64_t first = group.events.front().sequence;
  const uint64_t last = group.head.sequence;
  rocksdb::WriteBatch& batch = group.batch;
  JOBLEDGER_RETURN_IF_ERROR(AddRows(group));
  // One time-index entry per run of events with one recordedAt, keyed by the run's
  // last sequence: the answer to "the last sequence at or before t".
  rocksdb::Status bs;
  for (const auto& [t, seq] : group.time_runs) {
    if (bs.ok()) bs = batch.Put(time_index_, internal::TimeKey(t, seq), rocksdb::Slice());
  }
  for (const auto& [id, range] : group.request_runs) {
    if (!bs.ok()) break;
    uint64_t run_first = range.first;
    std::string answer;
    if (auto it = group.requests.find(id); it != group.requests.end()) answer = it->second.answer;
    // An import continues a request that an earlier chunk began: keep its start (and
    // what it stored).
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> known, Get(requests_, internal::RequestKey(id)));
    if (known && known->size() >= internal::kRequestRecordBytes) {
      run_first = internal::GetBigEndian64(*known);
      if (answer.empty()) answer = known->substr(internal::kRequestRecordBytes);
    }
    std::string value;
    internal::PutBigEndian64(&value, run_first);
    internal::PutBigEndian64(&value, range.second);
    value += answer;
    bs = batch.Put(requests_, internal::RequestKey(id), value);
  }
  if (bs.ok()) bs = batch.Put(meta_, internal::MetaKey(internal::kHeadMetaName), EncodeHead(group.head));
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(bs, "building the append"));
  group.pool.clear();

  rocksdb::WriteOptions wo;
  wo.sync = sync;
  ScopedStage timed(Stage::kWrite);
  testing::CrashPoint("append.before_write");
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(
      internal::InsideRocksDbWrite([&] { return db_->Write(wo, &batch); }),
      "appending events " + SeqStr(first) + ".." + SeqStr(last) + " to '" + path_ + "'"));
  testing::CrashPoint("append.after_write");
  MutexLock lock(&head_mu_);
  head_ = group.head;
  return Status();
}

Status RocksEventLog::WriteRows(const std::function<Status(RowTxn&)>& fill,
                                Durability durability) {
  if (mode_ != OpenMode::kReadWrite) {
    return FailedPreconditionError("ledger at '" + path_ + "' is open read-only");
  }
  MutexLock append_lock(&append_mu_);
  JOBLEDGER_RETURN_IF_ERROR(failure());
  GroupState group(head());
  {
    RocksTxn txn(this, &group, group.head.recorded_at_micros, 0, "");
    Status filled = fill(txn);
    if (!filled.ok()) {
      txn.Rollback();
      return filled;
    }
    if (!txn.wrote_rows()) {
      txn.Rollback();
      return Status();
    }
    txn.Commit();
  }
  group.pool.clear();
  JOBLEDGER_RETURN_IF_ERROR(AddRows(group));
  rocksdb::WriteOptions wo;
  wo.sync = durability == Durability::kSync || (durability == Durability::kDefault && sync_);
  return internal::FromRocks(internal::InsideRocksDbWrite([&] { return db_->Write(wo, &group.batch); }),
                             "writing rows to '" + path_ + "'");
}

Status RocksEventLog::AddRows(GroupState& group) {
  uint32_t current = std::numeric_limits<uint32_t>::max();
  std::shared_ptr<rocksdb::ColumnFamilyHandle> h;
  for (const auto& [family, rows] : group.rows) {
    for (const auto& [key, value] : rows) {
      if (family != current) {
        current = family;
        h = WritableFamily(FamilyId{current});
        if (h == nullptr) return UnknownFamily(FamilyId{current});
      }
      const rocksdb::Slice k(key.data(), key.size());
      rocksdb::Status s = value.has_value()
                              ? group.batch.Put(h.get(), k, rocksdb::Slice(value->data(), value->size()))
                              : group.batch.Delete(h.get(), k);
      JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(s, "building the append"));
    }
  }
  return Status();
}

}  // namespace internal
}  // namespace jobledger
