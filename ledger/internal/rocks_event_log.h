// The RocksDB implementation of EventLog, shared by its source files, one per phase
// (as RocksDB splits DBImpl): event_log_open.cc (options, open, head, secondary
// catch-up), event_log_write.cc (validation, group commit, WriteRows),
// event_log_ingest.cc (IngestRows), event_log_read.cc (cursors, events, streams,
// families), verify.cc (verification), maintenance.cc (flushes, compactions, storage
// statistics). Not installed.

#ifndef JOBLEDGER_LEDGER_INTERNAL_ROCKS_EVENT_LOG_H_
#define JOBLEDGER_LEDGER_INTERNAL_ROCKS_EVENT_LOG_H_

#include <pthread.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/write_batch.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "jobledger/event_log.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/mutex.h"
#include "ledger/internal/rocks_util.h"
#include "ledger/internal/stages.h"

namespace jobledger::internal {

inline constexpr size_t kHashBytes = sizeof(Hash);
inline constexpr size_t kBlockCacheBytes = size_t{128} << 20;
// A cursor over at least this many events bypasses the block cache and reads ahead.
inline constexpr uint64_t kBulkScanEvents = 65536;
inline constexpr size_t kBulkReadaheadBytes = size_t{2} << 20;
// The info logs RocksDB keeps in the ledger folder: LOG and up to three LOG.old.*
// files, each rolled over at 1 MiB, so at most 4 MiB whatever the number of opens.
inline constexpr size_t kInfoLogFiles = 4;
// Opening a secondary beside a compacting writer: attempts before kUnavailable.
inline constexpr int kSecondaryOpenAttempts = 5;
inline constexpr size_t kInfoLogFileBytes = size_t{1} << 20;
// An open pays a family's level-0 debt only when its files add up to at most this
// (short-lived writers' small flushes); more is a long-running writer's, left to
// RocksDB's background compaction and the close.
inline constexpr uint64_t kOpenDebtBytes = uint64_t{32} << 20;
// Where IngestRows writes its table files before RocksDB takes them in.
inline constexpr std::string_view kIngestFolder = "ingest";

inline std::string SeqStr(uint64_t s) { return std::to_string(s); }

inline std::string EncodeHead(const Head& head) {
  std::string out;
  PutBigEndian64(&out, head.sequence);
  out.append(reinterpret_cast<const char*>(head.hash.data()), head.hash.size());
  PutBigEndian64(&out, static_cast<uint64_t>(head.recorded_at_micros));
  return out;
}

inline std::optional<Head> DecodeHead(std::string_view in) {
  if (in.size() != 8 + kHashBytes + 8) return std::nullopt;
  Head head;
  head.sequence = GetBigEndian64(in);
  std::memcpy(head.hash.data(), in.data() + 8, kHashBytes);
  head.recorded_at_micros = static_cast<int64_t>(GetBigEndian64(in.substr(8 + kHashBytes)));
  return head;
}

inline KeyPrefix StreamPrefixOf(StreamKind kind) {
  return kind == StreamKind::kJob ? KeyPrefix::kJobStream : KeyPrefix::kThingStream;
}

// Splits a stored event value into its chain hash and canonical bytes.
inline Status SplitValue(std::string_view value, uint64_t sequence, Hash* hash, std::string_view* bytes) {
  if (value.size() < kHashBytes) {
    return DataLossError("event " + SeqStr(sequence) + ": stored value is " +
                         std::to_string(value.size()) + " bytes, shorter than its hash");
  }
  std::memcpy(hash->data(), value.data(), kHashBytes);
  *bytes = value.substr(kHashBytes);
  return Status();
}

class RocksEventLog;
struct GroupState;

// Family names of upper layers: [a-z0-9_.-]{1,128}, and not one of the log's own.
bool ValidFamilyName(std::string_view name);
bool IsLogFamily(std::string_view name);

// What one range of a parallel chain check found: its first problem, or the hash of
// its last event.
struct ChainFinding {
  VerifyProblem problem = VerifyProblem::kNone;
  uint64_t sequence = 0;
  std::string detail;
  Hash last_hash{};
};

// How many ranges Verify checks `events` in: `threads` when given, else one per core
// (at most 8) with at least 65,536 events each.
uint64_t VerifyRanges(uint64_t events, int threads);

// An append waiting for the writer.
struct PendingAppend {
  AppendOptions options;
  DecideFn decide;
  AppendCallback done;
};

class RocksCursor final : public EventCursor {
 public:
  RocksCursor(const RocksEventLog* log, uint64_t from, uint64_t to)
      : log_(log), next_(std::max<uint64_t>(from, 1)), to_(to) {
    Advance();
  }
  State state() const override { return state_; }
  const Event& event() const override { return event_; }
  Event TakeEvent() override { return std::move(event_); }
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
    StopWriter();
    if (mode_ == OpenMode::kReadWrite && db_ != nullptr) {
      // The flush and compaction rule of MaintenanceOptions. A failure here loses
      // nothing: the WAL still holds every row, and the next open tries again.
      Maintain(MaintainAt::kClose).IgnoreError();
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
  void AppendAsync(AppendOptions options, DecideFn decide, AppendCallback done) override;
  Status TryAppendAsync(AppendOptions options, DecideFn decide, AppendCallback done) override;
  size_t queued_appends() const override;
  WriterStats writer_stats() const override {
    WriterStats out;
    {
      MutexLock lock(&head_mu_);
      out = stats_;
    }
    out.writer_cpu_nanos = writer_cpu_nanos_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kWriterStageCount; ++i) {
      out.stage_nanos[i] = stage_clock_.nanos[i].load(std::memory_order_relaxed);
    }
    return out;
  }
  Status failure() const override {
    MutexLock lock(&head_mu_);
    return failed_;
  }
  bool on_writer_thread() const override {
    return writer_thread_.joinable() && std::this_thread::get_id() == writer_thread_.get_id();
  }
  StatusOr<FamilyId> OpenFamily(std::string_view name) override;
  Status WriteRows(const std::function<Status(RowTxn&)>& fill, Durability durability) override;
  Status IngestRows(FamilyId family, const std::function<Status(IngestTxn&)>& fill) override;
  Status IngestPartitionedRows(
      FamilyId family, size_t parts,
      const std::function<Status(const std::vector<IngestTxn*>&)>& fill) override;
  Status DropFamily(FamilyId family) override;
  std::vector<std::string> FamilyNames() const override;
  StatusOr<std::optional<std::string>> GetSetting(std::string_view name) const override;
  Status PutSetting(std::string_view name, std::string_view value) override;
  StatusOr<std::optional<std::string>> GetRow(FamilyId family,
                                              std::string_view key) const override;
  std::unique_ptr<RowIterator> ScanRows(FamilyId family, std::string_view prefix) const override;
  FamilyPin PinFamily(FamilyId family) const override { return FamilyHandle(family); }
  // Under append_mu_, which a group holds while its appends are decided: a change
  // waits for the group in progress, and a removed observer is never called again.
  void AddObserver(AppendObserver* observer) override {
    MutexLock lock(&append_mu_);
    observers_.push_back(observer);
  }
  void RemoveObserver(AppendObserver* observer) override {
    MutexLock lock(&append_mu_);
    observers_.erase(std::remove(observers_.begin(), observers_.end(), observer), observers_.end());
  }

  Head head() const override {
    MutexLock lock(&head_mu_);
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
  // The chain over [from, to], from the stored hash of event from - 1.
  ChainFinding VerifyChainRange(uint64_t from, uint64_t to, const rocksdb::Snapshot* snapshot,
                                const Head& head, std::atomic<uint64_t>* checked,
                                const std::function<void(uint64_t, uint64_t)>& progress,
                                uint64_t total) const;
  // The index part of Verify, over events [from, to]; fills `result` on a problem.
  Status VerifyIndexes(uint64_t from, uint64_t to, const rocksdb::Snapshot* snapshot,
                       VerifyResult* result) const;
  // Looks up every index entry of [from, to] one by one and names the first wrong one
  // (VerifyIndexes calls it only when the sums disagree).
  Status LocateIndexDamage(uint64_t from, uint64_t to, const rocksdb::Snapshot* snapshot,
                           VerifyResult* result) const;
  Status CatchUpWithPrimary() override;
  StatusOr<StorageStats> storage_stats() const override;
  Status Compact(const CompactProgress& progress) override;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* events_cf() const { return events_; }

 private:
  friend class RocksTxn;
  RocksEventLog() = default;

  // The handle of an upper layer's family, for reading; null if unknown, or dropped
  // and no longer pinned by a reader. Holding the pointer keeps the handle alive
  // across a concurrent DropFamily.
  std::shared_ptr<rocksdb::ColumnFamilyHandle> FamilyHandle(FamilyId family) const {
    ReaderLock lock(&families_mu_);
    if (family.value >= families_.size()) return nullptr;
    const FamilySlot& slot = families_[family.value];
    return slot.live != nullptr ? slot.live : slot.dropped.lock();
  }
  // The handle for writing: null once dropped.
  std::shared_ptr<rocksdb::ColumnFamilyHandle> WritableFamily(FamilyId family) const {
    ReaderLock lock(&families_mu_);
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

  // ---- maintenance (ledger/internal/maintenance.cc) ----
  // Every live family's handle: the log's own and the upper layers'.
  std::vector<std::shared_ptr<rocksdb::ColumnFamilyHandle>> LiveFamilies() const;
  // The rule of MaintenanceOptions, at a read-write open (before the writer starts) or
  // close (after it stopped).
  enum class MaintainAt { kOpen, kClose };
  Status Maintain(MaintainAt when);
  // Syncs the WAL files (of `wals`) that a read-write open recovered, and the folder.
  Status SyncRecoveredWals(const rocksdb::VectorLogPtr& wals);
  // Flushes every family when the live WAL files of `wals` pass the limits.
  Status FlushIfWalPastLimits(const rocksdb::VectorLogPtr& wals,
                              const std::vector<std::shared_ptr<rocksdb::ColumnFamilyHandle>>& all);
  // Compacts level 0 and the small files of level 1 of `family` into level 1 while
  // either holds trigger files or more and `deadline` has not passed. *done: false
  // when the budget ran out first. At open, only debt of at most kOpenDebtBytes that
  // RocksDB is not compacting already.
  Status PayLevel0Debt(rocksdb::ColumnFamilyHandle* family, MaintainAt when,
                       std::chrono::steady_clock::time_point deadline, bool* done);
  // A level-1 file smaller than this is merged into the next level-0 compaction.
  uint64_t SmallFileBytes() const { return cf_options_.target_file_size_base / 4; }

  // ---- the writer (group commit) ----
  // What an append does when the queue is full (Ledger::Admission is the choice the
  // ledger's callers make; a blocking Append is a third case, so this stays private).
  enum class WhenFull { kBlock, kQueue, kRefuse };
  Status CheckAppendable(const AppendOptions& options) const;
  // Queues an append and makes sure the writer drains the queue. kRefuse: fails with
  // kResourceExhausted when full; kBlock: waits for room; kQueue: waits in line.
  Status Enqueue(PendingAppend append, WhenFull when_full);
  // On the writer thread: takes groups off the queue until it is empty.
  void Drain();
  // Decides and writes one group under the append lock; one result per append.
  std::vector<StatusOr<AppendResult>> WriteGroup(std::vector<PendingAppend>& appends)
      JOBLEDGER_EXCLUDES(append_mu_);
  // Decides one append into `group`. *joined: its result depends on the group's write.
  StatusOr<AppendResult> DecideOne(GroupState& group, const PendingAppend& append, bool* joined)
      JOBLEDGER_REQUIRES(append_mu_);
  // Puts the rows the group's appends wrote into its batch (each row once).
  Status AddRows(GroupState& group);
  // Adds the rows, the time and request indexes and the head to the batch; writes it.
  Status CommitGroup(GroupState& group, bool sync) JOBLEDGER_REQUIRES(append_mu_);
  void StartWriter() {
    writer_work_.emplace(writer_context_.get_executor());
    writer_thread_ = std::thread([this] {
      // Named, so `top -H`, perf and debuggers show which thread writes.
      pthread_setname_np(pthread_self(), "jobledger-write");
      writer_context_.run();
    });
  }
  // Lets the writer finish every queued append, then joins it.
  void StopWriter() {
    if (!writer_thread_.joinable()) return;
    writer_work_.reset();
    writer_thread_.join();
  }
  StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* cf,
                                           const std::string& key,
                                           const rocksdb::Snapshot* snapshot = nullptr) const;

  OpenMode mode_ = OpenMode::kReadWrite;
  std::string path_;
  std::string temp_secondary_dir_;
  const Clock* clock_ = nullptr;
  SystemClock system_clock_;
  bool sync_ = true;
  MaintenanceOptions maintenance_;

  rocksdb::ColumnFamilyOptions cf_options_;  // every family's (block cache, filters)
  std::atomic<uint64_t> ingest_files_{0};    // names IngestRows' table files
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* job_stream_ = nullptr;
  rocksdb::ColumnFamilyHandle* thing_stream_ = nullptr;
  rocksdb::ColumnFamilyHandle* time_index_ = nullptr;
  rocksdb::ColumnFamilyHandle* requests_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;

  mutable SharedMutex families_mu_;
  struct FamilySlot {
    std::shared_ptr<rocksdb::ColumnFamilyHandle> live;
    // After DropFamily: readers that pinned it (PinFamily, an open iterator) keep
    // reading it until they let go.
    std::weak_ptr<rocksdb::ColumnFamilyHandle> dropped;
  };
  std::vector<FamilySlot> families_ JOBLEDGER_GUARDED_BY(families_mu_);  // by FamilyId

  // Serialises groups, WriteRows, family changes (and a secondary's catch-up). Taken
  // before head_mu_, queue_mu_ or families_mu_, never after.
  Mutex append_mu_;
  std::vector<AppendObserver*> observers_ JOBLEDGER_GUARDED_BY(append_mu_);
  mutable Mutex head_mu_;
  Head head_ JOBLEDGER_GUARDED_BY(head_mu_);  // written only with append_mu_ held too
  WriterStats stats_ JOBLEDGER_GUARDED_BY(head_mu_);
  // Set (with append_mu_ held too) when a write failed.
  Status failed_ JOBLEDGER_GUARDED_BY(head_mu_);

  size_t queue_capacity_ = 4096;
  size_t max_group_size_ = 256;
  mutable Mutex queue_mu_;
  std::condition_variable_any space_cv_;  // the queue has room
  std::deque<PendingAppend> queue_ JOBLEDGER_GUARDED_BY(queue_mu_);
  bool drain_scheduled_ JOBLEDGER_GUARDED_BY(queue_mu_) = false;
  boost::asio::io_context writer_context_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> writer_work_;
  std::thread writer_thread_;
  StageClock stage_clock_;                     // the writer thread's stages
  std::atomic<uint64_t> writer_cpu_nanos_{0};  // the writer thread's CPU time
};

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_ROCKS_EVENT_LOG_H_
