// ProjectionManager: keeps projections current, rebuilds them after a schema change
// without stopping writers, and checks them for drift.
//
// Storage. Each projection lives in a family "proj.<name>.v<version>.<n>"; the family
// "projections" records which one is active. A projection's checkpoint (the last
// sequence applied) is a row of its own family, written in the same batch as the rows
// it covers.
//
// Modes. kInline projections are applied inside every append's own WriteBatch (the
// manager is an AppendObserver of the log), so a read after a successful append sees
// it. kCatchUp projections are applied afterwards by CatchUp(), resumable from the
// checkpoint.
//
// Rebuild. Rebuild(name) folds the whole log into a new family while the active one
// keeps answering and appends keep flowing: chunks are applied outside the append
// lock; once the new family is within one chunk of the head, the rest is applied under
// the lock and from then on every append goes to both families; then the registry row
// is switched in one write and the old family is dropped. A crash at any point leaves
// the registry naming either the old family or the new, complete one; an unfinished
// family is dropped at the next Open.
//
// Thread safety: all methods may be called from any thread; at most one Rebuild or
// CatchUp of the same projection runs at a time (others wait).

#ifndef JOBLEDGER_PROJECTION_MANAGER_H_
#define JOBLEDGER_PROJECTION_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include <string>
#include <string_view>
#include <vector>

#include "jobledger/event_log.h"
#include "jobledger/projection.h"
#include "jobledger/status.h"
#include "jobledger/thread_annotations.h"

namespace jobledger {

enum class ProjectionMode { kInline, kCatchUp };

struct RebuildProgress {
  std::string projection;
  uint64_t events_done = 0;
  uint64_t events_total = 0;  // the head when the rebuild looked last
  double events_per_second = 0;
};

// Points where a test can stop a rebuild as if the process died there.
enum class RebuildPoint {
  kFamilyCreated,
  kChunkApplied,
  kCaughtUp,     // dual-writing, before the switch
  kSwitched,     // registry switched, old family not dropped yet
};

struct RebuildOptions {
  // Called after every chunk and at the end. Default: none.
  std::function<void(const RebuildProgress&)> progress;
  // Compare the new rows with the active family's before switching, and list the
  // differences in the report. Runs under the append lock (writers wait for it).
  // Default: false.
  bool compare = false;
  // Build and compare, but keep the active family and drop the new one.
  // Default: false.
  bool dry_run = false;
  // The rows a rebuild folds in memory before writing them as one table file and
  // taking them into the new family (the map holding them costs about twice as much).
  // Default: 256 MiB.
  size_t memory_budget_bytes = size_t{256} << 20;
  // Threads that fold a partitioned projection (Projection::partitioned), each its
  // share of the jobs; the log is read and decoded on one more. One folds on one
  // thread. Default: 2.
  size_t fold_threads = 2;
  // Test only: returning false stops the rebuild at that point, leaving everything
  // as a crash there would (the call returns kAborted). Default: none.
  std::function<bool(RebuildPoint)> test_stop;
};

struct RebuildReport {
  std::string projection;
  uint32_t version = 0;
  std::string family;       // the family now active
  uint64_t events = 0;      // events folded
  double seconds = 0;
  bool switched = false;
  std::vector<std::string> differences;  // with compare: rows that differ
};

struct ProjectionInfo {
  std::string name;
  uint32_t code_version = 0;
  uint32_t stored_version = 0;  // the active family's version
  std::string family;
  ProjectionMode mode = ProjectionMode::kInline;
  uint64_t checkpoint = 0;
};

struct DriftReport {
  std::string projection;
  uint64_t events_folded = 0;
  std::vector<std::string> differences;  // rows that differ from a fresh fold
  bool ok() const { return differences.empty(); }
};

// Observes the log's appends (inline projections fold inside them) through a private
// base: callers see the projections, not the observer hooks.
class ProjectionManager : private AppendObserver {
 public:
  struct Entry {
    std::unique_ptr<Projection> projection;
    ProjectionMode mode = ProjectionMode::kInline;
    // Inline: what the appends' folds derived (the latest version of each entity the
    // jobs projection touched) is kept in memory across appends up to about this many
    // bytes, then forgotten at once, so that the next append need not read it back
    // through the rows. 0: each append starts with nothing remembered. Default: 64 MiB.
    size_t memo_budget_bytes = size_t{64} << 20;
  };

  // Registers the projections with `log` (which must outlive the manager, and the
  // manager must be destroyed before the log). A projection with no active family is
  // built from the log now; one whose active family is of another version keeps
  // serving it until Rebuild (or RebuildOutdated) runs; an unfinished rebuild's family
  // is dropped; an inline projection behind the log (or ahead of it: a restored older
  // log) is caught up (or rebuilt).
  static StatusOr<std::unique_ptr<ProjectionManager>> Open(EventLog& log,
                                                           std::vector<Entry> projections);
  ~ProjectionManager() override;

  // The active family of a projection, for queries.
  StatusOr<FamilyId> ActiveFamily(std::string_view name) const;
  Projection* Find(std::string_view name) const;

  std::vector<ProjectionInfo> Info() const;

  // Applies what is past the checkpoint of a kCatchUp projection (no-op for inline).
  Status CatchUp(std::string_view name);
  Status CatchUpAll();

  StatusOr<RebuildReport> Rebuild(std::string_view name, const RebuildOptions& options = {});
  // Rebuilds every projection whose stored version differs from its code version.
  StatusOr<std::vector<RebuildReport>> RebuildOutdated(const RebuildOptions& options = {});

  // Folds the log into a scratch family and compares it with the active one.
  StatusOr<DriftReport> CheckDrift(std::string_view name);

 private:
  // AppendObserver: applies inline projections inside the append.
  Status OnAppend(AppendTxn& txn) override;
  void OnAppendKept() override;
  void OnAppendDropped() override;

  struct Slot;
  explicit ProjectionManager(EventLog& log);
  Slot* FindSlot(std::string_view name) const;
  Status Init(Slot& slot);
  // `memo`: one kept across calls for the same family, or null.
  Status FoldRange(Slot& slot, FamilyId family, uint64_t from, uint64_t to, RowTxn& txn,
                   ProjectionMemo* memo = nullptr);
  // Folds events checkpoint+1.. into `family` (which no append writes) in memory, up
  // to `to` or until `budget_bytes` of rows are buffered, and ingests the rows with
  // the new checkpoint as table files. Returns the checkpoint reached. One partition
  // per memo, each folded on a thread of its own; the memos are the fold's, kept
  // across the chunks (each cleared when it passes its share of half the budget).
  StatusOr<uint64_t> IngestFold(Slot& slot, FamilyId family, uint64_t checkpoint, uint64_t to,
                                size_t budget_bytes, std::vector<ProjectionMemo>& memos);
  // How many partitions a rebuild of the slot's projection folds.
  static size_t FoldPartitions(const Slot& slot, const RebuildOptions& options);
  StatusOr<std::string> NewFamilyName(const Slot& slot);

  EventLog& log_;
  FamilyId registry_;
  // Guards every slot's families (Slot::active, ...), which name it as Slot::mu.
  mutable Mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace jobledger

#endif  // JOBLEDGER_PROJECTION_MANAGER_H_
