#include "jobledger/projection_manager.h"

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "ledger/wire.h"

namespace jobledger {
namespace {

constexpr std::string_view kRegistryFamily = "projections";
constexpr std::string_view kCheckpointKey{"\0checkpoint", 11};
std::string FamilyPrefix(std::string_view name) { return "proj." + std::string(name) + "."; }

std::string FamilyName(std::string_view name, uint32_t version, uint64_t n) {
  return FamilyPrefix(name) + "v" + std::to_string(version) + "." + std::to_string(n);
}

// Parses "proj.<name>.v<version>.<n>".
bool ParseFamilyName(std::string_view family, std::string_view name, uint32_t* version,
                     uint64_t* n) {
  const std::string prefix = FamilyPrefix(name) + "v";
  if (family.substr(0, prefix.size()) != prefix) return false;
  std::string_view rest = family.substr(prefix.size());
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return false;
  try {
    *version = static_cast<uint32_t>(std::stoul(std::string(rest.substr(0, dot))));
    *n = std::stoull(std::string(rest.substr(dot + 1)));
  } catch (...) {
    return false;
  }
  return true;
}

std::string EncodeCheckpoint(uint64_t seq) {
  WireWriter w;
  w.U64(seq);
  return w.Take();
}

StatusOr<uint64_t> ReadCheckpoint(const EventLog& log, FamilyId family, std::string_view what) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> raw, log.GetRow(family, kCheckpointKey));
  if (!raw) return uint64_t{0};
  WireReader r(*raw);
  uint64_t seq = r.U64();
  if (!r.ok() || !r.AtEnd()) {
    return DataLossError("projection " + std::string(what) + ": malformed checkpoint row");
  }
  return seq;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Status Stopped(RebuildPoint point) {
  return AbortedError("rebuild stopped by the test hook at point " +
                      std::to_string(static_cast<int>(point)));
}

}  // namespace

struct ProjectionManager::Slot {
  explicit Slot(Mutex& manager_mu) : mu(manager_mu) {}

  Entry entry;
  Mutex& mu;  // the manager's mu_, which guards every slot's families
  std::optional<FamilyId> active JOBLEDGER_GUARDED_BY(mu);
  std::string active_name JOBLEDGER_GUARDED_BY(mu);
  uint32_t active_version JOBLEDGER_GUARDED_BY(mu) = 0;
  bool dual JOBLEDGER_GUARDED_BY(mu) = false;  // appends also go to `building`
  std::optional<FamilyId> building JOBLEDGER_GUARDED_BY(mu);
  // One rebuild / catch-up at a time.
  Mutex op_mu;
  // Inline, on the writer thread only: what the appends' folds remembered for the
  // active family `memo_family`, and over it the memo of the append being observed
  // (`pending`), kept or dropped with that append.
  ProjectionMemo memo;
  std::optional<FamilyId> memo_family;
  ProjectionMemo pending{&memo};
  bool pending_used = false;
};

ProjectionManager::ProjectionManager(EventLog& log) : log_(log) {}

ProjectionManager::~ProjectionManager() { log_.RemoveObserver(this); }

StatusOr<std::unique_ptr<ProjectionManager>> ProjectionManager::Open(EventLog& log,
                                                                     std::vector<Entry> projections) {
  std::unique_ptr<ProjectionManager> m(new ProjectionManager(log));
  JOBLEDGER_ASSIGN_OR_RETURN(m->registry_, log.OpenFamily(kRegistryFamily));
  for (Entry& e : projections) {
    if (e.projection == nullptr) return InvalidArgumentError("projections: null projection");
    for (char c : e.projection->name()) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
        return InvalidArgumentError("projection name: must match [a-z0-9_]+, got '" +
                                    std::string(e.projection->name()) + "'");
      }
    }
    if (m->FindSlot(e.projection->name()) != nullptr) {
      return InvalidArgumentError("projection name: '" + std::string(e.projection->name()) +
                                  "' is registered twice");
    }
    auto slot = std::make_unique<Slot>(m->mu_);
    slot->entry = std::move(e);
    m->slots_.push_back(std::move(slot));
  }
  for (auto& slot : m->slots_) JOBLEDGER_RETURN_IF_ERROR(m->Init(*slot));
  if (log.mode() == OpenMode::kReadWrite) log.AddObserver(m.get());
  return m;
}

ProjectionManager::Slot* ProjectionManager::FindSlot(std::string_view name) const {
  for (const auto& s : slots_) {
    if (s->entry.projection->name() == name) return s.get();
  }
  return nullptr;
}

Projection* ProjectionManager::Find(std::string_view name) const {
  Slot* slot = FindSlot(name);
  return slot != nullptr ? slot->entry.projection.get() : nullptr;
}

Status ProjectionManager::Init(Slot& slot) {
  const std::string name(slot.entry.projection->name());
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> row, log_.GetRow(registry_, name));
  std::string active_name;
  if (row) {
    WireReader r(*row);
    active_name = r.Str();
    if (!r.ok() || !r.AtEnd()) return DataLossError("projections: malformed registry row for '" + name + "'");
  }
  const bool writable = log_.mode() == OpenMode::kReadWrite;
  // Families of this projection that are not active: an unfinished rebuild, or an old
  // version whose drop did not happen before a crash.
  for (const std::string& family : log_.FamilyNames()) {
    uint32_t version = 0;
    uint64_t n = 0;
    if (family == active_name || !ParseFamilyName(family, name, &version, &n)) continue;
    if (writable) {
      JOBLEDGER_ASSIGN_OR_RETURN(FamilyId stale, log_.OpenFamily(family));
      JOBLEDGER_RETURN_IF_ERROR(log_.DropFamily(stale));
    }
  }
  if (!active_name.empty()) {
    uint32_t version = 0;
    uint64_t n = 0;
    if (!ParseFamilyName(active_name, name, &version, &n)) {
      return DataLossError("projections: registry names '" + active_name + "' for '" + name + "'");
    }
    StatusOr<FamilyId> family = log_.OpenFamily(active_name);
    if (family.ok()) {
      MutexLock lock(&slot.mu);
      slot.active = *family;
      slot.active_name = active_name;
      slot.active_version = version;
    } else if (family.status().code() != StatusCode::kNotFound) {
      return family.status();
    }
  }
  std::optional<FamilyId> active;
  {
    MutexLock lock(&slot.mu);
    active = slot.active;
  }
  if (!writable) {
    if (!active) {
      return NotFoundError("ledger at '" + log_.path() + "' has no projection '" + name +
                           "'; open it read-write once to build it");
    }
    return Status();
  }
  if (!active) return Rebuild(name).status();
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t checkpoint, ReadCheckpoint(log_, *active, name));
  const uint64_t head = log_.head().sequence;
  if (checkpoint > head) {
    // The log is older than the projection (restored from a backup): never serve rows
    // of events the log does not have.
    return Rebuild(name).status();
  }
  if (checkpoint < head && slot.entry.mode == ProjectionMode::kInline) {
    // Behind (it was catch-up before, or was added to an existing ledger): apply the
    // missing events now, under the append lock so nothing is appended meanwhile.
    JOBLEDGER_RETURN_IF_ERROR(log_.WriteRows([&](RowTxn& txn) {
      return FoldRange(slot, *active, checkpoint + 1, log_.head().sequence, txn);
    }));
  }
  return Status();
}

Status ProjectionManager::FoldRange(Slot& slot, FamilyId family, uint64_t from, uint64_t to,
                                    RowTxn& txn, ProjectionMemo* memo) {
  if (from > to) return Status();
  ProjectionWriter writer(txn, family, memo);
  auto cursor = log_.NewCursor(from, to);
  uint64_t expected = from;
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next(), ++expected) {
    JOBLEDGER_RETURN_IF_ERROR(slot.entry.projection->Apply(cursor->event(), writer));
  }
  JOBLEDGER_RETURN_IF_ERROR(cursor->status());
  if (expected != to + 1) {
    return DataLossError("projection " + std::string(slot.entry.projection->name()) +
                         ": events " + std::to_string(expected) + ".." + std::to_string(to) +
                         " could not be read");
  }
  return txn.Put(family, kCheckpointKey, EncodeCheckpoint(to));
}

namespace {

// Reads and decodes events [from, to] on a thread of its own, a batch ahead of the
// fold that takes them (a rebuild's two halves on two cores). Stops early when the
// reader goes.
class ReadAhead {
 public:
  ReadAhead(const EventLog& log, uint64_t from, uint64_t to)
      : thread_([this, &log, from, to] { Run(log, from, to); }) {}
  ~ReadAhead() {
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // The next batch, empty at the end (then status() says whether the range was read
  // whole).
  std::vector<Event> Next() {
    MutexLock lock(&mu_);
    cv_.wait(mu_, [&]() JOBLEDGER_REQUIRES(mu_) { return !batches_.empty() || done_; });
    if (batches_.empty()) return {};
    std::vector<Event> out = std::move(batches_.front());
    batches_.pop_front();
    cv_.notify_all();
    return out;
  }
  // Hands a folded batch back, to be freed on the reading thread.
  void Recycle(std::vector<Event> batch) {
    MutexLock lock(&mu_);
    garbage_.push_back(std::move(batch));
  }
  Status status() const {
    MutexLock lock(&mu_);
    return status_;
  }

 private:
  static constexpr size_t kBatch = 512;
  static constexpr size_t kBatchesAhead = 8;

  void Run(const EventLog& log, uint64_t from, uint64_t to) {
    auto cursor = log.NewCursor(from, to);
    std::vector<Event> batch;
    std::vector<std::vector<Event>> garbage;
    auto push = [&]() -> bool {
      garbage.clear();  // freed here, off the folding thread
      MutexLock lock(&mu_);
      cv_.wait(mu_, [&]() JOBLEDGER_REQUIRES(mu_) { return batches_.size() < kBatchesAhead || stop_; });
      if (stop_) return false;
      batches_.push_back(std::move(batch));
      batch.clear();
      batch.reserve(kBatch);
      garbage.swap(garbage_);
      cv_.notify_all();
      return true;
    };
    for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
      batch.push_back(cursor->TakeEvent());
      if (batch.size() == kBatch && !push()) return;
    }
    if (!batch.empty() && !push()) return;
    MutexLock lock(&mu_);
    status_ = cursor->status();
    done_ = true;
    cv_.notify_all();
  }

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::vector<Event>> batches_ JOBLEDGER_GUARDED_BY(mu_);
  // Folded batches, for the reader to free.
  std::vector<std::vector<Event>> garbage_ JOBLEDGER_GUARDED_BY(mu_);
  bool done_ JOBLEDGER_GUARDED_BY(mu_) = false;
  bool stop_ JOBLEDGER_GUARDED_BY(mu_) = false;
  Status status_ JOBLEDGER_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts after the rest is built
};

// Folds the events of `batch` that partition `part` of `parts` owns (an event without
// a partition key, every partition). On failure, `*failed_at` is the event's sequence.
Status FoldBatch(Projection& projection, ProjectionWriter& writer, size_t part, size_t parts,
                 const std::vector<Event>& batch, uint64_t* failed_at) {
  for (const Event& e : batch) {
    if (parts > 1) {
      std::optional<std::string_view> key = projection.PartitionKey(e);
      if (key && ProjectionWriter::PartitionOf(*key, parts) != part) continue;
    }
    Status applied = projection.Apply(e, writer);
    if (!applied.ok()) {
      *failed_at = e.sequence;
      return applied;
    }
  }
  return Status();
}

// One partition of a rebuild's fold, on a thread of its own: folds its share of the
// batches handed to it, in order. Destroying it waits for every batch handed over.
class PartitionWorker {
 public:
  using Batch = std::shared_ptr<const std::vector<Event>>;

  PartitionWorker(Projection& projection, ProjectionWriter& writer, IngestTxn& txn, size_t part,
                  size_t parts)
      : projection_(projection),
        writer_(writer),
        txn_(txn),
        part_(part),
        parts_(parts),
        thread_([this] { Run(); }) {}
  ~PartitionWorker() { Finish(); }
  PartitionWorker(const PartitionWorker&) = delete;
  PartitionWorker& operator=(const PartitionWorker&) = delete;

  // Waits while the worker is kAhead batches behind.
  void Push(Batch batch) {
    MutexLock lock(&mu_);
    cv_.wait(mu_, [&]() JOBLEDGER_REQUIRES(mu_) { return queue_.size() < kAhead; });
    queue_.push_back(std::move(batch));
    cv_.notify_all();
  }
  // No more batches: returns once every batch handed over is folded (or skipped after
  // a failure).
  void Finish() {
    {
      MutexLock lock(&mu_);
      closed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // The rows buffered and the memo's size, as of the last batch folded.
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  size_t memo_bytes() const { return memo_bytes_.load(std::memory_order_relaxed); }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // After Finish: the failure, if any, and the sequence of the event that failed.
  const Status& status() const { return status_; }
  uint64_t failed_at() const { return failed_at_; }

 private:
  static constexpr size_t kAhead = 8;

  void Run() {
    for (;;) {
      Batch batch;
      {
        MutexLock lock(&mu_);
        cv_.wait(mu_, [&]() JOBLEDGER_REQUIRES(mu_) { return !queue_.empty() || closed_; });
        if (queue_.empty()) return;
        batch = std::move(queue_.front());
        queue_.pop_front();
        cv_.notify_all();
      }
      if (!failed()) {
        status_ = FoldBatch(projection_, writer_, part_, parts_, *batch, &failed_at_);
        if (!status_.ok()) failed_.store(true, std::memory_order_release);
        bytes_.store(txn_.buffered_bytes(), std::memory_order_relaxed);
        memo_bytes_.store(writer_.memo().bytes(), std::memory_order_relaxed);
      }
    }
  }

  Projection& projection_;
  ProjectionWriter& writer_;
  IngestTxn& txn_;
  const size_t part_, parts_;
  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Batch> queue_ JOBLEDGER_GUARDED_BY(mu_);
  bool closed_ JOBLEDGER_GUARDED_BY(mu_) = false;
  std::atomic<size_t> bytes_{0};
  std::atomic<size_t> memo_bytes_{0};
  std::atomic<bool> failed_{false};
  Status status_;           // written by the worker; read after Finish
  uint64_t failed_at_ = 0;  // likewise
  std::thread thread_;      // last: starts after the rest is built
};

}  // namespace

size_t ProjectionManager::FoldPartitions(const Slot& slot, const RebuildOptions& options) {
  return slot.entry.projection->partitioned() ? std::max<size_t>(1, options.fold_threads) : 1;
}

StatusOr<uint64_t> ProjectionManager::IngestFold(Slot& slot, FamilyId family, uint64_t checkpoint,
                                                 uint64_t to, size_t budget_bytes,
                                                 std::vector<ProjectionMemo>& memos) {
  Projection& projection = *slot.entry.projection;
  const size_t parts = memos.size();
  uint64_t folded_to = checkpoint;
  auto unreadable = [&](uint64_t from) {
    return DataLossError("projection " + std::string(projection.name()) + ": events " +
                         std::to_string(from) + ".." + std::to_string(to) + " could not be read");
  };
  JOBLEDGER_RETURN_IF_ERROR(log_.IngestPartitionedRows(
      family, parts, [&](const std::vector<IngestTxn*>& txns) -> Status {
        // Each partition's memo is cleared only here, between chunks (when past its
        // share of half the budget), so it spans the chunk's write: the rows it
        // remembers need no place among the rows the fold reads.
        const size_t memo_limit = budget_bytes / 2 / parts;
        std::vector<std::unique_ptr<ProjectionWriter>> writers;
        for (size_t i = 0; i < parts; ++i) {
          if (memos[i].bytes() > memo_limit) memos[i].Clear();
          writers.push_back(std::make_unique<ProjectionWriter>(*txns[i], family, &memos[i]));
          writers.back()->SetPartition(i, parts);
          writers.back()->SetMemoSpansWrite(true);
        }
        ReadAhead events(log_, checkpoint + 1, to);
        uint64_t expected = checkpoint + 1;
        bool full = false;
        // Partition 0 on this thread, the others (if any) on threads of their own,
        // each batch handed to all; the budget is checked after each batch. (After
        // `events`: the workers go first, handing their batches back while the reader
        // still exists.)
        std::vector<std::unique_ptr<PartitionWorker>> workers;
        for (size_t i = 1; i < parts; ++i) {
          workers.push_back(std::make_unique<PartitionWorker>(projection, *writers[i], *txns[i], i,
                                                              parts));
        }
        Status failure;
        uint64_t failed_at = 0;
        for (std::vector<Event> batch = events.Next(); !batch.empty(); batch = events.Next()) {
          std::shared_ptr<const std::vector<Event>> shared(
              new std::vector<Event>(std::move(batch)), [&events](std::vector<Event>* b) {
                events.Recycle(std::move(*b));
                delete b;
              });
          for (auto& w : workers) w->Push(shared);
          expected += shared->size();
          failure = FoldBatch(projection, *writers[0], 0, parts, *shared, &failed_at);
          shared.reset();
          if (!failure.ok()) break;
          size_t bytes = txns[0]->buffered_bytes();
          bool memo_full = memos[0].bytes() > memo_limit;
          bool worker_failed = false;
          for (auto& w : workers) {
            bytes += w->bytes();
            memo_full = memo_full || w->memo_bytes() > memo_limit;
            worker_failed = worker_failed || w->failed();
          }
          if (worker_failed) break;
          if (bytes >= budget_bytes || memo_full) {
            full = true;
            break;
          }
        }
        // The earliest failure in the log's order, as one thread would have met it.
        for (auto& w : workers) {
          w->Finish();
          if (!w->status().ok() && (failure.ok() || w->failed_at() < failed_at)) {
            failure = w->status();
            failed_at = w->failed_at();
          }
        }
        JOBLEDGER_RETURN_IF_ERROR(failure);
        folded_to = expected - 1;
        if (!full) {
          JOBLEDGER_RETURN_IF_ERROR(events.status());
          if (folded_to < to) return unreadable(expected);
        }
        return txns[0]->Put(family, kCheckpointKey, EncodeCheckpoint(folded_to));
      }));
  return folded_to;
}

Status ProjectionManager::OnAppend(AppendTxn& txn) {
  const std::vector<Event>& events = txn.events();
  if (events.empty()) return Status();
  for (auto& slot : slots_) {
    if (slot->entry.mode != ProjectionMode::kInline) continue;
    std::vector<FamilyId> targets;
    std::optional<FamilyId> active;
    {
      MutexLock lock(&slot->mu);
      active = slot->active;
      if (slot->active) targets.push_back(*slot->active);
      if (slot->dual && slot->building) targets.push_back(*slot->building);
    }
    for (FamilyId family : targets) {
      // The active family's fold remembers across appends; a family being rebuilt
      // (also written by the rebuild) starts each append afresh.
      ProjectionMemo* memo = nullptr;
      if (slot->entry.memo_budget_bytes > 0 && active && family == *active) {
        if (slot->memo_family != family) {
          slot->memo.Clear();
          slot->memo_family = family;
        }
        slot->pending.Clear();
        slot->pending_used = true;
        memo = &slot->pending;
      }
      ProjectionWriter writer(txn, family, memo);
      for (const Event& e : events) {
        JOBLEDGER_RETURN_IF_ERROR(slot->entry.projection->Apply(e, writer));
      }
      JOBLEDGER_RETURN_IF_ERROR(txn.Put(family, kCheckpointKey, EncodeCheckpoint(events.back().sequence)));
    }
  }
  return Status();
}

void ProjectionManager::OnAppendKept() {
  for (auto& slot : slots_) {
    if (!slot->pending_used) continue;
    slot->pending_used = false;
    slot->pending.MoveInto(slot->memo);
    if (slot->memo.bytes() > slot->entry.memo_budget_bytes) slot->memo.Clear();
  }
}

void ProjectionManager::OnAppendDropped() {
  for (auto& slot : slots_) {
    slot->pending_used = false;
    slot->pending.Clear();
  }
}

StatusOr<FamilyId> ProjectionManager::ActiveFamily(std::string_view name) const {
  Slot* slot = FindSlot(name);
  if (slot == nullptr) return NotFoundError("no projection '" + std::string(name) + "'");
  MutexLock lock(&slot->mu);
  if (!slot->active) return NotFoundError("projection '" + std::string(name) + "' is not built");
  return *slot->active;
}

std::vector<ProjectionInfo> ProjectionManager::Info() const {
  std::vector<ProjectionInfo> out;
  for (const auto& slot : slots_) {
    ProjectionInfo info;
    info.name = std::string(slot->entry.projection->name());
    info.code_version = slot->entry.projection->version();
    info.mode = slot->entry.mode;
    std::optional<FamilyId> active;
    {
      MutexLock lock(&slot->mu);
      info.stored_version = slot->active_version;
      info.family = slot->active_name;
      active = slot->active;
    }
    if (active) {
      StatusOr<uint64_t> checkpoint = ReadCheckpoint(log_, *active, info.name);
      if (checkpoint.ok()) info.checkpoint = *checkpoint;
    }
    out.push_back(std::move(info));
  }
  return out;
}

Status ProjectionManager::CatchUp(std::string_view name) {
  Slot* slot = FindSlot(name);
  if (slot == nullptr) return NotFoundError("no projection '" + std::string(name) + "'");
  if (slot->entry.mode != ProjectionMode::kCatchUp) return Status();
  MutexLock op(&slot->op_mu);
  JOBLEDGER_ASSIGN_OR_RETURN(FamilyId family, ActiveFamily(name));
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t checkpoint, ReadCheckpoint(log_, family, name));
  while (checkpoint < log_.head().sequence) {
    const uint64_t to = std::min(log_.head().sequence, checkpoint + kFoldBatchEvents);
    JOBLEDGER_RETURN_IF_ERROR(log_.WriteRows(
        [&](RowTxn& txn) { return FoldRange(*slot, family, checkpoint + 1, to, txn); }));
    checkpoint = to;
  }
  return Status();
}

Status ProjectionManager::CatchUpAll() {
  for (const auto& slot : slots_) JOBLEDGER_RETURN_IF_ERROR(CatchUp(slot->entry.projection->name()));
  return Status();
}

StatusOr<std::string> ProjectionManager::NewFamilyName(const Slot& slot) {
  const std::string_view name = slot.entry.projection->name();
  uint64_t highest = 0;
  for (const std::string& family : log_.FamilyNames()) {
    uint32_t version = 0;
    uint64_t n = 0;
    if (ParseFamilyName(family, name, &version, &n)) highest = std::max(highest, n);
  }
  return FamilyName(name, slot.entry.projection->version(), highest + 1);
}

StatusOr<RebuildReport> ProjectionManager::Rebuild(std::string_view name,
                                                   const RebuildOptions& options) {
  Slot* slot = FindSlot(name);
  if (slot == nullptr) return NotFoundError("no projection '" + std::string(name) + "'");
  if (log_.mode() != OpenMode::kReadWrite) {
    return FailedPreconditionError("rebuild: ledger at '" + log_.path() + "' is open read-only");
  }
  MutexLock op(&slot->op_mu);
  const auto start = std::chrono::steady_clock::now();
  auto stop = [&](RebuildPoint p) { return options.test_stop && !options.test_stop(p); };

  RebuildReport report;
  report.projection = std::string(name);
  report.version = slot->entry.projection->version();
  JOBLEDGER_ASSIGN_OR_RETURN(std::string family_name, NewFamilyName(*slot));
  JOBLEDGER_ASSIGN_OR_RETURN(FamilyId family, log_.OpenFamily(family_name));
  if (stop(RebuildPoint::kFamilyCreated)) return Stopped(RebuildPoint::kFamilyCreated);
  // Undo a half-made rebuild on failure; a crash leaves the family to Open's cleanup.
  auto abandon = [&](Status why) -> Status {
    {
      MutexLock lock(&slot->mu);
      slot->dual = false;
      slot->building.reset();
    }
    log_.DropFamily(family).IgnoreError();  // the original failure is what matters
    return why;
  };
  auto report_progress = [&](uint64_t done) {
    if (!options.progress) return;
    RebuildProgress p;
    p.projection = report.projection;
    p.events_done = done;
    p.events_total = log_.head().sequence;
    const double seconds = SecondsSince(start);
    p.events_per_second = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    options.progress(p);
  };

  // Outside the append lock, while writers go on: folded in memory a chunk at a time
  // (as many events as the memory budget holds) and ingested as sorted table files.
  // The latest version of each entity folded so far, across the chunks (nothing else
  // writes the new family until it is caught up).
  std::vector<ProjectionMemo> memos(FoldPartitions(*slot, options));
  uint64_t checkpoint = 0;
  while (log_.head().sequence - checkpoint > kFoldBatchEvents) {
    StatusOr<uint64_t> to = IngestFold(*slot, family, checkpoint, log_.head().sequence,
                                       options.memory_budget_bytes, memos);
    if (!to.ok()) return abandon(to.status());
    checkpoint = *to;
    report_progress(checkpoint);
    if (stop(RebuildPoint::kChunkApplied)) return Stopped(RebuildPoint::kChunkApplied);
  }
  // The rest under the lock; from then on every append also goes to the new family.
  Status caught_up = log_.WriteRows([&](RowTxn& txn) -> Status {
    const uint64_t head = log_.head().sequence;
    // One memo is the whole fold's only when one partition folded.
    JOBLEDGER_RETURN_IF_ERROR(FoldRange(*slot, family, checkpoint + 1, head, txn,
                                        memos.size() == 1 ? &memos[0] : nullptr));
    if (head == 0) JOBLEDGER_RETURN_IF_ERROR(txn.Put(family, kCheckpointKey, EncodeCheckpoint(0)));
    checkpoint = head;
    MutexLock lock(&slot->mu);
    slot->building = family;
    slot->dual = slot->entry.mode == ProjectionMode::kInline;
    return Status();
  });
  if (!caught_up.ok()) return abandon(caught_up);
  report.events = checkpoint;
  report_progress(checkpoint);
  if (stop(RebuildPoint::kCaughtUp)) return Stopped(RebuildPoint::kCaughtUp);

  std::optional<FamilyId> old;
  {
    MutexLock lock(&slot->mu);
    old = slot->active;
  }
  if (options.compare && old) {
    // Under the append lock, so both families stand at the same sequence.
    Status compared = log_.WriteRows([&](RowTxn&) -> Status {
      JOBLEDGER_ASSIGN_OR_RETURN(report.differences, CompareFamilies(log_, *old, family));
      return Status();
    });
    if (!compared.ok()) return abandon(compared);
  }
  if (options.dry_run) {
    Status dropped = abandon(Status());
    JOBLEDGER_RETURN_IF_ERROR(dropped);
    MutexLock lock(&slot->mu);
    report.family = slot->active_name;
    report.seconds = SecondsSince(start);
    return report;
  }
  // The switch: one registry write. Appends meanwhile still go to both families.
  Status switched = log_.WriteRows([&](RowTxn& txn) {
    WireWriter w;
    w.Str(family_name);
    return txn.Put(registry_, name, w.Take());
  }, Durability::kSync);
  if (!switched.ok()) return abandon(switched);
  {
    MutexLock lock(&slot->mu);
    slot->active = family;
    slot->active_name = family_name;
    slot->active_version = report.version;
    slot->dual = false;
    slot->building.reset();
  }
  if (stop(RebuildPoint::kSwitched)) return Stopped(RebuildPoint::kSwitched);
  if (old) JOBLEDGER_RETURN_IF_ERROR(log_.DropFamily(*old));
  report.family = family_name;
  report.switched = true;
  report.seconds = SecondsSince(start);
  return report;
}

StatusOr<std::vector<RebuildReport>> ProjectionManager::RebuildOutdated(
    const RebuildOptions& options) {
  std::vector<RebuildReport> out;
  for (const auto& slot : slots_) {
    uint32_t stored;
    {
      MutexLock lock(&slot->mu);
      stored = slot->active_version;
    }
    if (stored == slot->entry.projection->version()) continue;
    JOBLEDGER_ASSIGN_OR_RETURN(RebuildReport r, Rebuild(slot->entry.projection->name(), options));
    out.push_back(std::move(r));
  }
  return out;
}

StatusOr<DriftReport> ProjectionManager::CheckDrift(std::string_view name) {
  Slot* slot = FindSlot(name);
  if (slot == nullptr) return NotFoundError("no projection '" + std::string(name) + "'");
  MutexLock op(&slot->op_mu);
  const std::string scratch_name = FamilyPrefix(name) + "drift";
  for (const std::string& f : log_.FamilyNames()) {
    if (f == scratch_name) {
      JOBLEDGER_ASSIGN_OR_RETURN(FamilyId stale, log_.OpenFamily(f));
      JOBLEDGER_RETURN_IF_ERROR(log_.DropFamily(stale));
    }
  }
  JOBLEDGER_ASSIGN_OR_RETURN(FamilyId scratch, log_.OpenFamily(scratch_name));
  DriftReport report;
  report.projection = std::string(name);
  uint64_t checkpoint = 0;
  Status s;
  std::vector<ProjectionMemo> memos(FoldPartitions(*slot, RebuildOptions()));
  // The same fold as a rebuild's: in memory, ingested as table files.
  while (s.ok() && log_.head().sequence - checkpoint > kFoldBatchEvents) {
    StatusOr<uint64_t> to = IngestFold(*slot, scratch, checkpoint, log_.head().sequence,
                                       RebuildOptions().memory_budget_bytes, memos);
    s = to.status();
    if (to.ok()) checkpoint = *to;
  }
  // Compare under the append lock once the scratch fold has reached the head, so the
  // two stand at one sequence; fold what arrived meanwhile and look again if not.
  for (bool done = false; s.ok() && !done;) {
    s = log_.WriteRows([&](RowTxn& txn) -> Status {
      const uint64_t head = log_.head().sequence;
      if (head == checkpoint) {
        if (head == 0) {
          JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> row, log_.GetRow(scratch, kCheckpointKey));
          if (!row) return txn.Put(scratch, kCheckpointKey, EncodeCheckpoint(0));
        }
        JOBLEDGER_ASSIGN_OR_RETURN(FamilyId active, ActiveFamily(name));
        JOBLEDGER_ASSIGN_OR_RETURN(report.differences, CompareFamilies(log_, active, scratch));
        report.events_folded = head;
        done = true;
        return Status();
      }
      JOBLEDGER_RETURN_IF_ERROR(FoldRange(*slot, scratch, checkpoint + 1, head, txn));
      checkpoint = head;
      return Status();
    }, Durability::kNoSync);
  }
  Status dropped = log_.DropFamily(scratch);
  JOBLEDGER_RETURN_IF_ERROR(s);
  JOBLEDGER_RETURN_IF_ERROR(dropped);
  return report;
}

}  // namespace jobledger
