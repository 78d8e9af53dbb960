// The Ledger's write-side state: the small per-job, per-execution and per-thing
// records the decide step needs, kept in the family "ledger.state" and updated in the
// same batch as the events they follow from (ledger/internal/fold.h). The key grammar
// is in keys.h.

#ifndef JOBLEDGER_LEDGER_INTERNAL_STATE_H_
#define JOBLEDGER_LEDGER_INTERNAL_STATE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobledger/event.h"
#include "jobledger/event_log.h"
#include "jobledger/status.h"

namespace jobledger::internal {

inline constexpr std::string_view kStateFamily = "ledger.state";

using StatusCounts = ExecutionCounts;

struct JobState {
  uint64_t incarnation = 0;  // sequence of the JobCreated event
  JobStatus status = JobStatus::kInProgress;
  TargetSelection target_selection = TargetSelection::kSnapshot;
  std::vector<std::string> targets;
  std::optional<std::string> description;
  std::optional<PresignedUrlConfig> presigned_url_config;
  std::optional<RolloutConfig> rollout_config;
  std::optional<AbortConfig> abort_config;
  std::optional<TimeoutConfig> timeout_config;
  bool force_canceled = false;
  std::optional<std::string> reason_code;
  std::optional<std::string> comment;
  int64_t created_at = 0;
  int64_t last_updated_at = 0;
  std::optional<int64_t> completed_at;
  StatusCounts counts{};
  // Rollout: planned things not yet queued, the schedule's origin and next window,
  // how many things rollout has queued, and the exponential rate's step.
  uint64_t rollout_pending = 0;
  uint64_t rollout_next_order = 0;  // order key for the next planned entry
  int64_t rollout_origin = 0;
  uint64_t rollout_next_window = 0;
  int64_t rollout_notified = 0;
  int32_t rollout_rate_step = 0;
  uint64_t rollout_plan_seq = 0;  // the latest RolloutPlanned event
  // A fan-out queued in chunks (FanOutStep) that has not reached every target: the
  // target the next chunk resumes in, and the last thing of it reached.
  bool fanout_pending = false;
  std::string fanout_target;
  std::string fanout_after;
  // The unfinished fan-out makes the rollout's plan (RolloutPlanned chunks; windows
  // after the first wait for its end), not executions.
  bool fanout_plans = false;
  // While a cancel is unfinished (CancelPending): its JobCanceled event and whether an
  // abort made it, the cause and actor of the chunks that cancel the executions.
  uint64_t canceled_seq = 0;
  bool canceled_by_abort = false;
  // A rollout window queued in chunks: how many of its things are still to queue, and
  // its RolloutStep (the cause of the executions its later chunks queue). The next
  // window is scheduled when the count reaches zero.
  uint64_t window_left = 0;
  uint64_t window_step_seq = 0;

  int64_t pending_executions() const {
    return counts[static_cast<size_t>(ExecutionStatus::kQueued)] +
           counts[static_cast<size_t>(ExecutionStatus::kInProgress)];
  }
  friend bool operator==(const JobState&, const JobState&) = default;
};

// Whether a canceled job still has executions its cancel has to cancel: QUEUED ones,
// and IN_PROGRESS ones after a cancel with force. A cancel over more executions than
// LedgerLimits::fan_out_chunk cancels them in chunks; nothing else queues or starts an
// execution of a CANCELED job, so this is exactly "the cancel is unfinished".
inline bool CancelPending(const JobState& j) {
  return j.status == JobStatus::kCanceled &&
         (j.counts[static_cast<size_t>(ExecutionStatus::kQueued)] > 0 ||
          (j.force_canceled && j.counts[static_cast<size_t>(ExecutionStatus::kInProgress)] > 0));
}

struct ExecState {
  ExecutionStatus status = ExecutionStatus::kQueued;
  int64_t version = 1;
  uint64_t queued_seq = 0;  // sequence of its ExecutionQueued event
  std::string target;
  int64_t queued_at = 0;
  std::optional<int64_t> started_at;
  int64_t last_updated_at = 0;
  DetailsMap status_details;
  bool force_canceled = false;
  std::optional<int64_t> in_progress_deadline;
  std::optional<int64_t> step_deadline;
  uint64_t deadline_seq = 0;  // the event that set the running timer

  // The timer that runs out first, if any runs.
  std::optional<int64_t> deadline() const {
    if (in_progress_deadline && step_deadline) return std::min(*in_progress_deadline, *step_deadline);
    return in_progress_deadline ? in_progress_deadline : step_deadline;
  }
  friend bool operator==(const ExecState&, const ExecState&) = default;
};

// Whether an unfinished cancel (CancelPending) is yet to cancel this execution of the
// job: no device may start or update it meanwhile, as if the cancel had been atomic.
inline bool InCancelsReach(const JobState& job, const ExecState& exec) {
  return CancelPending(job) &&
         (exec.status == ExecutionStatus::kQueued ||
          (job.force_canceled && exec.status == ExecutionStatus::kInProgress));
}

std::string EncodeJobState(const JobState& job);
StatusOr<JobState> DecodeJobState(std::string_view bytes, std::string_view job_id);
std::string EncodeExecState(const ExecState& exec);
StatusOr<ExecState> DecodeExecState(std::string_view bytes, std::string_view what);

struct ExecutionId {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  friend bool operator==(const ExecutionId&, const ExecutionId&) = default;
};

struct PendingEntry {
  uint64_t queued_seq = 0;
  ExecutionId id;
};

struct DueTimer {
  int64_t deadline = 0;
  ExecutionId id;
};

struct DueRollout {
  int64_t due = 0;
  std::string job_id;
};

// Typed access to the state family, inside an append (reads see the append's own
// writes) or read-only outside one.
class StateStore {
 public:
  StateStore(RowTxn* txn, FamilyId family) : txn_(txn), log_(nullptr), family_(family) {}
  StateStore(const EventLog* log, FamilyId family) : txn_(nullptr), log_(log), family_(family) {}

  // Jobs.
  StatusOr<std::optional<JobState>> GetJob(std::string_view job_id) const;
  Status PutJob(std::string_view job_id, const JobState& job);
  Status DeleteJob(std::string_view job_id);
  Status ForEachJob(const std::function<Status(std::string_view, const JobState&)>& fn) const;

  // Executions.
  StatusOr<std::optional<ExecState>> GetExecution(const ExecutionId& id) const;
  // The execution with the highest number of (job, thing), if any.
  StatusOr<std::optional<std::pair<int64_t, ExecState>>> LatestExecution(
      std::string_view job_id, std::string_view thing_name) const;
  Status PutExecution(const ExecutionId& id, const ExecState& exec);
  Status DeleteExecution(const ExecutionId& id);
  // Every execution of a job, by thing then number. `fn` returning false stops.
  Status ForEachExecutionOfJob(
      std::string_view job_id,
      const std::function<StatusOr<bool>(const ExecutionId&, const ExecState&)>& fn) const;

  // A thing's pending (QUEUED / IN_PROGRESS) executions, in the order they were queued.
  Status PutPending(std::string_view thing, uint64_t queued_seq, const ExecutionId& id);
  Status DeletePending(std::string_view thing, uint64_t queued_seq, std::string_view job_id);
  StatusOr<std::vector<PendingEntry>> PendingOfThing(std::string_view thing) const;

  // Timers, ordered by deadline.
  Status PutDeadline(int64_t deadline, const ExecutionId& id);
  Status DeleteDeadline(int64_t deadline, const ExecutionId& id);
  StatusOr<std::optional<DueTimer>> FirstDeadline() const;

  // Rollout windows, ordered by due time.
  Status PutRolloutDue(int64_t due, std::string_view job_id);
  Status DeleteRolloutDue(int64_t due, std::string_view job_id);
  StatusOr<std::optional<DueRollout>> FirstRolloutDue() const;

  // Planned executions of a job's rollout, in plan order.
  Status PutPlanned(std::string_view job_id, uint64_t order, const PlannedExecution& entry);
  Status DeletePlanned(std::string_view job_id, uint64_t order, std::string_view thing);
  // Up to `limit` planned entries, in order, with their order keys.
  StatusOr<std::vector<std::pair<uint64_t, PlannedExecution>>> Planned(std::string_view job_id,
                                                                       size_t limit) const;
  // The planned entries of a thing, as (job, order).
  StatusOr<std::vector<std::pair<std::string, uint64_t>>> PlannedOfThing(
      std::string_view thing) const;

  // Jobs that target a thing group.
  Status PutGroupTarget(std::string_view group, std::string_view job_id);
  Status DeleteGroupTarget(std::string_view group, std::string_view job_id);
  StatusOr<std::vector<std::string>> JobsTargetingGroup(std::string_view group) const;

  // Thing-group membership and known things.
  Status AddMember(std::string_view group, std::string_view thing);
  Status RemoveMember(std::string_view group, std::string_view thing);
  StatusOr<bool> IsMember(std::string_view group, std::string_view thing) const;
  StatusOr<std::vector<std::string>> GroupsOfThing(std::string_view thing) const;
  StatusOr<std::vector<std::string>> MembersOfGroup(std::string_view group) const;
  // At most `limit` members of a group after `after` (all from the start when empty),
  // in name order.
  StatusOr<std::vector<std::string>> MembersOfGroup(std::string_view group, std::string_view after,
                                                    size_t limit) const;
  Status PutThing(std::string_view thing);
  Status DeleteThing(std::string_view thing);
  StatusOr<bool> ThingKnown(std::string_view thing) const;

  // Jobs whose fan-out (JobState::fanout_pending) or cancel (CancelPending) is
  // unfinished: the ledger continues them, and resumes them at a read-write open.
  Status PutFanOut(std::string_view job_id);
  Status DeleteFanOut(std::string_view job_id);
  StatusOr<std::vector<std::string>> JobsWithFanOut() const;

 private:
  StatusOr<std::optional<std::string>> Get(std::string_view key) const;
  Status Put(std::string_view key, std::string_view value);
  Status Delete(std::string_view key);
  std::unique_ptr<RowIterator> Scan(std::string_view prefix) const;

  RowTxn* txn_;
  const EventLog* log_;
  FamilyId family_;
};

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_STATE_H_
