// EventLog: the append-only, hash-chained log of jobledger events on one RocksDB
// instance.
//
// Every append is one RocksDB WriteBatch holding the events, their stream and time
// index entries, the idempotency record and the new chain head: it lands whole or
// not at all. Sequence numbers are dense, start at 1 and never repeat. recordedAt
// never decreases: a clock that steps back is clamped to the previous event's time
// and the event records the reading it replaced (Event::clamped_from_micros).
//
// Group commit: a read-write log has one writer thread. Appends from any number of
// callers queue for it; it takes every queued append (up to
// EventLogOptions::max_group_size) as one group, runs their decide steps one after
// another (each sees the events and rows of the appends accepted before it in the
// group), and writes the whole group as one RocksDB WriteBatch, with one WAL sync if
// any append of the group asked for durability. Each caller learns its own outcome:
// a rejected append is rolled back alone and never fails another. The order of
// acceptance is the order of sequence numbers. If the group's write fails, every
// append of the group fails with that error and the log refuses further appends
// (it reports itself failed; reopening recovers every acknowledged event).
//
// Thread safety: every method may be called from any thread, except that a DecideFn,
// an AppendObserver and an AppendCallback run on the writer thread and must not
// append (they would wait for themselves). Reads never wait for an append's disk
// write. A cursor is used by one thread at a time. Every cursor must be destroyed
// before its EventLog.
//
// The on-disk grammar is in ledger/internal/keys.h; the chain in
// ledger/internal/hash_chain.h.

#ifndef JOBLEDGER_EVENT_LOG_H_
#define JOBLEDGER_EVENT_LOG_H_

#include <chrono>
#include <cstddef>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/event.h"
#include "jobledger/rows.h"
#include "jobledger/status.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace jobledger {

inline constexpr uint64_t kMaxSequence = std::numeric_limits<uint64_t>::max();

enum class OpenMode {
  kReadWrite,  // the one writer; creates the ledger if missing (see options)
  kReadOnly,   // a frozen view as of the open; RocksDB calls this undefined beside a
               // live writer, so tools prefer kSecondary when one may be running
  kSecondary,  // follows a live writer in another process; see CatchUpWithPrimary()
};

// How a read-write log keeps its folder bounded when it is opened and closed by many
// short-lived processes (doc/storage.md, "The rule at open and close"). Checked when a
// read-write log opens and when it closes:
//   1. Opening does not flush the WAL it recovers, and closing does not flush while the
//      live WAL files are small: a process that appends a few events leaves no SST
//      file. Once the live WAL files pass max_live_wal_bytes in total or number more
//      than max_live_wal_files, every family's memtable is flushed (one SST file per
//      family that holds rows) and the old WAL files are deleted.
//   2. A family whose level-0 files (or small level-1 files, which such compactions
//      leave) reached RocksDB's compaction trigger (level0_file_num_compaction_trigger,
//      4) has them compacted into level 1 before the open returns or the close
//      finishes, one family after another, until compaction_budget is spent; the next
//      process goes on where this one stopped.
//   A clean close syncs the WAL; an open syncs the WAL files it recovered.
struct MaintenanceOptions {
  // Default: 8 MiB. Zero flushes at every open and close.
  uint64_t max_live_wal_bytes = uint64_t{8} << 20;
  // Default: 16.
  size_t max_live_wal_files = 16;
  // Time an open or a close may spend paying level-0 compaction debt. A compaction
  // that has started finishes (one family's level 0; bounded by the flush rule above).
  // Default: 2 s. Zero: never (the ledger's own `compact` still does).
  std::chrono::milliseconds compaction_budget{2000};
};

struct EventLogOptions {
  // Stamps recordedAt. Not owned; must outlive the log.
  // Default: nullptr, meaning the system's real-time clock.
  const Clock* clock = nullptr;

  // Whether appends with Durability::kDefault sync the WAL before returning.
  // Default: true.
  bool sync = true;

  // kReadWrite only: create the ledger folder if it does not exist.
  // Default: true.
  bool create_if_missing = true;

  // kReadWrite only: how many appends may wait for the writer. When the queue is
  // full, Append and AppendAsync wait their turn (nothing is dropped) and
  // TryAppendAsync returns kResourceExhausted. Default: 4096.
  size_t append_queue_capacity = 4096;

  // kReadWrite only: at most this many appends are decided and written as one group
  // (one WriteBatch, one WAL sync). Default: 256.
  size_t max_group_size = 256;

  // The RocksDB Env to run on: tests pass one that injects faults (power loss, a
  // full disk). Not owned; must outlive the log. Default: nullptr, RocksDB's default.
  rocksdb::Env* env = nullptr;

  // kSecondary only: a folder for the secondary instance's own info log; must not be
  // the ledger folder. Default: "", meaning a fresh temporary folder, removed when
  // the log is closed.
  std::string secondary_path;

  // kReadWrite only: flushes and compactions at open and close. Default: see
  // MaintenanceOptions.
  MaintenanceOptions maintenance;
};

// What the ledger folder holds on disk (EventLog::storage_stats), for operators.
struct FamilyStorage {
  std::string name;
  uint64_t sst_files = 0;
  uint64_t sst_bytes = 0;
  uint64_t level0_files = 0;
  uint64_t pending_compaction_bytes = 0;  // RocksDB's estimate
};

struct StorageStats {
  uint64_t files = 0;  // every file in the ledger folder
  uint64_t bytes = 0;
  uint64_t sst_files = 0;
  uint64_t sst_bytes = 0;
  uint64_t wal_files = 0;  // *.log
  uint64_t wal_bytes = 0;
  uint64_t info_log_files = 0;  // LOG and LOG.old.*
  uint64_t info_log_bytes = 0;
  uint64_t pending_compaction_bytes = 0;  // all families
  uint64_t level0_trigger = 0;            // RocksDB's level-0 compaction trigger
  std::vector<FamilyStorage> families;    // every column family, by name
};

// Progress of EventLog::Compact: families done of all.
using CompactProgress = std::function<void(uint64_t done, uint64_t total)>;

// Which event a derived event was caused by.
struct CauseRef {
  enum class Kind { kNone, kSequence, kBatchIndex };
  Kind kind = Kind::kNone;
  uint64_t value = 0;

  static CauseRef None() { return {}; }
  // An event already in the log.
  static CauseRef Sequence(uint64_t sequence) { return {Kind::kSequence, sequence}; }
  // An earlier event of the same append (0-based index into AppendRequest::events).
  static CauseRef InBatch(size_t index) { return {Kind::kBatchIndex, index}; }
};

struct NewEvent {
  std::string actor;  // 1..256 bytes: a principal, or system:timeout, system:abort, ...
  CauseRef cause;
  EventBody body;     // must not be UnknownEvent
};

// The expected version of a job's stream: the sequence of the last event in it, 0 for
// a job with no events yet.
struct StreamExpectation {
  std::string job_id;
  uint64_t last_sequence = 0;
};

struct AppendRequest {
  std::vector<NewEvent> events;  // 1..kMaxEventsPerAppend
  // Idempotency key, 0..255 bytes. If an append with this id is already in the log,
  // Append returns its original sequences and appends nothing. Stamped on every event.
  std::string request_id;
  // Every expectation must hold, or nothing is appended (kAborted,
  // VersionConflictException).
  std::vector<StreamExpectation> expected;
  Durability durability = Durability::kDefault;
};

inline constexpr size_t kMaxEventsPerAppend = 100000;
inline constexpr size_t kMaxActorBytes = 256;
inline constexpr size_t kMaxRequestIdBytes = 255;

struct AppendResult {
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  int64_t recorded_at_micros = 0;
  bool duplicate = false;  // true: answered from the log for a known request_id
  // With `duplicate`: what the first append of that request id stored with
  // AppendTxn::SetAnswer (empty when it stored nothing).
  std::string answer;
};

// The head of the chain: the last event's sequence and hash (0 and zeros when empty).
struct Head {
  uint64_t sequence = 0;
  Hash hash{};
  int64_t recorded_at_micros = 0;
};

// What to keep elsewhere to check the log later: (head sequence, head hash).
struct Digest {
  uint64_t sequence = 0;
  Hash hash{};
  friend bool operator==(const Digest&, const Digest&) = default;
};

enum class StreamKind { kJob, kThing };

// A forward cursor over events [from, to]. States:
//   kPositioned: event() is the current event;
//   kCaughtUp:   no further event in range exists yet; Next() looks again (a live
//                log may have grown), so a cursor can follow a writer;
//   kFailed:     status() says why (kDataLoss naming the sequence, or I/O); final.
class EventCursor {
 public:
  enum class State { kPositioned, kCaughtUp, kFailed };
  virtual ~EventCursor() = default;
  virtual State state() const = 0;
  // Requires state() == kPositioned.
  virtual const Event& event() const = 0;
  // The current event, moved out: event() is unspecified until Next(). Requires
  // state() == kPositioned.
  virtual Event TakeEvent() { return event(); }
  // The current event's stored chain hash. Requires state() == kPositioned.
  virtual const Hash& hash() const = 0;
  // OK unless state() == kFailed.
  virtual const Status& status() const = 0;
  // From kPositioned: the next event. From kCaughtUp: looks for new events.
  // From kFailed: no-op.
  virtual void Next() = 0;
};

enum class VerifyProblem {
  kNone,
  kDecodeFailed,       // stored bytes are not a valid event
  kHashMismatch,       // an event's bytes do not hash to its stored hash (altered event)
  kChainBroken,        // an event's previousHash is not its predecessor's hash
  kMissingEvent,       // a hole in the sequence
  kHeadMismatch,       // the stored head disagrees with the last event
  kDigestMismatch,     // the event at the digest's sequence has another hash
  kTruncated,          // the digest's sequence is beyond the head
  kStorageCorruption,  // RocksDB reported corruption while reading
  kIndexMismatch,      // a stream or time index entry disagrees with the event it names
};
std::string_view VerifyProblemName(VerifyProblem problem);

// Long work over the log (verify, export, a rebuild) reports progress every this many
// events.
inline constexpr uint64_t kProgressEveryEvents = 4096;
// A fold of the log into a family outside appends (the ledger's state, a projection
// catching up) writes the rows of this many events per batch.
inline constexpr uint64_t kFoldBatchEvents = 4096;

struct VerifyOptions {
  uint64_t from = 1;            // first sequence to check
  uint64_t to = kMaxSequence;   // last sequence to check (clamped to the head)
  // An earlier digest to check the log against.
  std::optional<Digest> digest;
  // Called every few thousand events and at the end with (checked, total).
  std::function<void(uint64_t, uint64_t)> progress;
  // Also check the indexes: every job/thing stream and time index entry names an
  // event that exists and belongs there, and every event is in its streams. Reads
  // each event's body; about twice the work. Default: false.
  bool check_indexes = false;
  // Threads that check the hash chain, each over its own range of the log. 0: one
  // per core (at most 8) when each range has at least 65,536 events. The answer is the
  // same for any number.
  int threads = 0;
};

struct VerifyResult {
  bool ok() const { return problem == VerifyProblem::kNone; }
  uint64_t events_checked = 0;
  uint64_t from = 0;
  uint64_t to = 0;
  Hash last_hash{};             // hash of event `to`
  VerifyProblem problem = VerifyProblem::kNone;
  uint64_t first_bad_sequence = 0;
  std::string detail;           // a sentence naming what was found
};

// The stages of the writer thread's work on a group, timed in WriterStats.
enum class WriterStage {
  kDecide,     // the DecideFns (which include kFold, kEncode and kHash)
  kFold,       // the ledger's state fold of each event it emits (inside kDecide)
  kEncode,     // encoding events (inside kDecide)
  kHash,       // chaining their hashes (inside kDecide)
  kObservers,  // append observers (the projections' folds)
  kWrite,      // building the group's batch and RocksDB's Write
  kAnswer,     // completing the appends (waking their callers)
};
inline constexpr size_t kWriterStageCount = 7;
std::string_view WriterStageName(WriterStage stage);

// One append in the making, handed to a DecideFn under the log's append lock. The
// decide step reads state (seeing its own writes), adds events and writes rows; all
// of it is committed in one WriteBatch if it returns OK, and nothing if it fails.
// Valid only during the DecideFn call.
class AppendTxn : public RowTxn {
 public:
  // The recordedAt every event of this append gets (the clock, clamped).
  virtual int64_t now_micros() const = 0;
  // The sequence the next Add will be given.
  virtual uint64_t next_sequence() const = 0;
  // Adds an event and returns its sequence. `event.cause` may name any earlier
  // sequence, including events added before in this transaction.
  virtual StatusOr<uint64_t> Add(const NewEvent& event) = 0;
  // The events added so far, as they will be stored.
  virtual const std::vector<Event>& events() const = 0;
  // The event at `sequence`, including events of this append and of the appends
  // before it in the same group (which are not in the log yet).
  virtual StatusOr<Event> ReadEvent(uint64_t sequence) const = 0;
  // Adds an event whose envelope is given whole (an import): its sequence must be
  // the next one, its previousHash the hash of the previous event, its recordedAt not
  // before the previous event's. Returns its sequence.
  virtual StatusOr<uint64_t> AddVerbatim(const Event& event) = 0;
  // What a retry of this append's request id (AppendOptions::request_id) is answered
  // with: kept with the request's record, in the same batch as the events (so it is
  // there after a crash exactly when they are), and returned as AppendResult::answer
  // to every later append with that id. The caller's own encoding. An append without
  // a request id, or that adds no event, keeps nothing.
  virtual void SetAnswer(std::string answer) = 0;
};

// Decides what to append. Returning a non-OK status rejects the append (nothing is
// written; the status is returned to the caller). Adding no event writes nothing.
using DecideFn = std::function<Status(AppendTxn&)>;

// Receives an asynchronous append's outcome, on the writer thread, after its group
// was written (or after it was rejected). Keep it short: the next group waits.
using AppendCallback = std::function<void(StatusOr<AppendResult>)>;

// Observes every append inside its transaction, after the DecideFn, to fold the new
// events into rows of its own (inline projections). A failure rejects the append.
class AppendObserver {
 public:
  virtual ~AppendObserver() = default;
  virtual Status OnAppend(AppendTxn& txn) = 0;
  // After every observer's OnAppend succeeded: the append joins its group, and its
  // rows are written with the group's (or the log fails and accepts no more appends).
  virtual void OnAppendKept() {}
  // The append was rejected after OnAppend ran (a later observer failed, or this
  // one): nothing it wrote is written.
  virtual void OnAppendDropped() {}
};

struct AppendOptions {
  std::string request_id;  // as AppendRequest::request_id
  Durability durability = Durability::kDefault;
  // Decided and written in a group of its own: an append expected to be large (a
  // chunk of a fan-out, a rollout window, a batch of timeouts) never holds the
  // appends queued around it for its write, so they wait for at most one such append.
  bool alone = false;
};

// The log of events, and the row store of upper layers' families (jobledger/rows.h)
// that shares its storage, so an append writes its events and their rows atomically.
class EventLog : public RowStore {
 public:
  // Opens (and with kReadWrite, creates) the ledger in folder `path`. Errors:
  // kNotFound (no ledger there), kFailedPrecondition (another format version, or not
  // a ledger), kUnavailable (another process holds it read-write), kDataLoss
  // (corrupted WAL middle, or a head that disagrees with the events).
  static StatusOr<std::unique_ptr<EventLog>> Open(const EventLogOptions& options,
                                                  std::string_view path,
                                                  OpenMode mode = OpenMode::kReadWrite);

  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  virtual ~EventLog() = default;

  virtual OpenMode mode() const = 0;
  virtual const std::string& path() const = 0;

  // Appends all events of `request` or none. Errors: kInvalidArgument (a malformed
  // request, named field), kAborted with VersionConflictException (an expectation
  // failed), kFailedPrecondition (not a read-write log), or the storage error. On any
  // error nothing was appended and the head is unchanged.
  virtual StatusOr<AppendResult> Append(const AppendRequest& request) = 0;

  virtual Head head() const = 0;
  Digest digest() const {
    Head h = head();
    return Digest{h.sequence, h.hash};
  }

  // The event at `sequence`. kNotFound outside 1..head; kDataLoss if it fails to decode.
  virtual StatusOr<Event> Read(uint64_t sequence) const = 0;

  // A cursor over [from, to], positioned on the first event (or caught up).
  virtual std::unique_ptr<EventCursor> NewCursor(uint64_t from = 1,
                                                 uint64_t to = kMaxSequence) const = 0;

  // The sequences of the events in the stream of `id` (a jobId or a thingName) within
  // [from, to], in order, at most `limit` of them.
  virtual StatusOr<std::vector<uint64_t>> StreamSequences(
      StreamKind kind, std::string_view id, uint64_t from = 1, uint64_t to = kMaxSequence,
      size_t limit = std::numeric_limits<size_t>::max()) const = 0;

  // Those events themselves.
  virtual StatusOr<std::vector<Event>> ReadStream(
      StreamKind kind, std::string_view id, uint64_t from = 1, uint64_t to = kMaxSequence,
      size_t limit = std::numeric_limits<size_t>::max()) const = 0;

  // The last sequence in the stream of `id` at or before `at`; 0 if none. This is the
  // stream's version for StreamExpectation.
  virtual StatusOr<uint64_t> LastInStream(StreamKind kind, std::string_view id,
                                          uint64_t at = kMaxSequence) const = 0;

  // The last sequence recorded at or before `micros`; 0 if none.
  virtual StatusOr<uint64_t> LastSequenceAtOrBefore(int64_t micros) const = 0;

  // Recomputes the hash chain over [options.from, options.to]; see VerifyProblem.
  // Problems found are in the result; the Status is for failures to run at all.
  virtual StatusOr<VerifyResult> Verify(const VerifyOptions& options = {}) const = 0;

  // kSecondary only: applies what the writer has made durable since the last call.
  // Not to be called concurrently with reads that must see one consistent state.
  // kUnavailable once the writer has flushed rows this secondary holds from its WAL:
  // RocksDB 7.8's secondary would then serve stale rows (the head, state, projection
  // checkpoints; events stay correct), so reopen the ledger to follow on.
  virtual Status CatchUpWithPrimary() = 0;

  // ---- storage ----

  // Files, sizes, level-0 files per family and pending compaction bytes. Any mode.
  virtual StatusOr<StorageStats> storage_stats() const = 0;

  // kReadWrite only: compacts every family fully (all levels into the last), so reads
  // touch as few files as possible. Appends may go on meanwhile. A reader opening the
  // ledger in another process beside it may be told to retry (kUnavailable), never
  // given a partial answer. kFailedPrecondition in other modes.
  virtual Status Compact(const CompactProgress& progress = {}) = 0;

  // ---- transactions and families of upper layers ----

  // Runs `decide` under the append lock and commits what it added. A known
  // options.request_id returns the original result without calling `decide`. An
  // append that adds no event returns a result with first_sequence = head + 1 and
  // last_sequence = head.
  // Blocks until the append's group is written: a thin wrapper over AppendAsync.
  virtual StatusOr<AppendResult> Append(const AppendOptions& options, const DecideFn& decide) = 0;

  // Queues the append for the writer and returns at once; `done` receives the
  // outcome on the writer thread. When the queue is full the append waits in line
  // (in arrival order) without blocking the caller; nothing is dropped. `decide` must
  // own what it reads (the caller does not wait for it).
  virtual void AppendAsync(AppendOptions options, DecideFn decide, AppendCallback done) = 0;

  // As AppendAsync, but returns kResourceExhausted at once, without queueing and
  // without calling `done`, when the queue is full.
  virtual Status TryAppendAsync(AppendOptions options, DecideFn decide, AppendCallback done) = 0;

  // Appends queued and not yet written (for monitoring and tests).
  virtual size_t queued_appends() const = 0;

  // What the writer has done since the log was opened (for monitoring, the
  // benchmark and tests).
  struct WriterStats {
    uint64_t groups = 0;         // groups decided
    uint64_t appends = 0;        // appends decided (accepted, rejected or duplicate)
    uint64_t written_groups = 0; // groups that wrote a batch
    uint64_t synced_groups = 0;  // of those, written with a WAL sync
    uint64_t largest_group = 0;  // most appends in one group
    // The writer thread's CPU time, and its wall time by stage (WriterStage; a stage
    // nested in another is also counted in the outer one).
    uint64_t writer_cpu_nanos = 0;
    std::array<uint64_t, kWriterStageCount> stage_nanos{};
  };
  virtual WriterStats writer_stats() const = 0;

  // OK while the log accepts appends. After a group's write failed (a full disk, an
  // I/O error), the error that stopped it: every later append fails with it, and
  // reopening the ledger recovers every acknowledged event.
  virtual Status failure() const = 0;

  // True on the writer thread (inside a DecideFn, an observer or an AppendCallback),
  // where a blocking append would wait for itself.
  virtual bool on_writer_thread() const = 0;

  // Small named settings kept with the log, outside every family, so no rebuild
  // touches them (the ledger's region and account). `name`: [a-z0-9_.-]+, in a
  // namespace of its own (no setting can overwrite the log's format or head records).
  // PutSetting: read-write logs only; written synced.
  virtual StatusOr<std::optional<std::string>> GetSetting(std::string_view name) const = 0;
  virtual Status PutSetting(std::string_view name, std::string_view value) = 0;

  // Observers run in registration order in every later append. Not owned; each must
  // outlive the log or be removed first. Any thread may add or remove one while others
  // append: the change waits for the group being decided, and once RemoveObserver
  // returns the observer is never called again. Not from inside an observer's
  // OnAppend (the writer holds the lock these take).
  virtual void AddObserver(AppendObserver* observer) = 0;
  virtual void RemoveObserver(AppendObserver* observer) = 0;

 protected:
  EventLog() = default;
};

// The chain hash of `event` (from its previousHash, sequence and canonical bytes): what
// an external verifier recomputes. Equal to the stored hash of an intact event.
Hash EventHash(const Event& event);

}  // namespace jobledger

#endif  // JOBLEDGER_EVENT_LOG_H_
