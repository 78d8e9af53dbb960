// The decide step of the Ledger's commands: given the current write-side state inside
// an append transaction, check a command against the rules and add the events it
// causes. Every event added is folded into the state at once (fold.h), so a derived
// consequence is decided against the state its trigger left behind.

#ifndef JOBLEDGER_LEDGER_INTERNAL_DECIDE_H_
#define JOBLEDGER_LEDGER_INTERNAL_DECIDE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "jobledger/commands.h"
#include "jobledger/event_log.h"
#include "jobledger/status.h"
#include "jobledger/validation.h"
#include "ledger/internal/state.h"

namespace jobledger::internal {

// Actors of derived events.
inline constexpr std::string_view kActorRollout = "system:rollout";
inline constexpr std::string_view kActorTimeout = "system:timeout";
inline constexpr std::string_view kActorAbort = "system:abort";
inline constexpr std::string_view kActorCompletion = "system:completion";
inline constexpr std::string_view kActorCancel = "system:cancel";
inline constexpr std::string_view kActorMembership = "system:membership";
inline constexpr std::string_view kAbortReasonCode = "ABORT_CRITERIA_MET";

class Decider {
 public:
  // Reads of the log go through `txn` (AppendTxn::ReadEvent), which also sees the
  // events of the appends before this one in its group.
  Decider(AppendTxn& txn, FamilyId state, const ValidationContext& context, std::string actor)
      : txn_(txn), store_(&txn, state), context_(context), actor_(std::move(actor)) {}

  StatusOr<JobReference> CreateJob(const CreateJobRequest& r);
  Status UpdateJob(const UpdateJobRequest& r);
  StatusOr<JobReference> CancelJob(const CancelJobRequest& r);
  Status DeleteJob(const DeleteJobRequest& r);
  StatusOr<JobReference> AssociateTargetsWithJob(const AssociateTargetsWithJobRequest& r);
  Status CancelJobExecution(const CancelJobExecutionRequest& r);
  Status DeleteJobExecution(const DeleteJobExecutionRequest& r);
  StatusOr<UpdateJobExecutionResponse> UpdateJobExecution(const UpdateJobExecutionRequest& r);
  StatusOr<StartNextPendingJobExecutionResponse> StartNextPendingJobExecution(
      const StartNextPendingJobExecutionRequest& r);
  // The next chunk of a job's unfinished work: its fan-out (JobState::fanout_pending)
  // or the cancel of its executions (CancelPending); nothing when it is finished or the
  // job stopped. continued() names the job when another chunk follows.
  Status ContinueFanOut(std::string_view job_id);
  Status AddThingToThingGroup(const ThingGroupMembershipRequest& r);
  Status RemoveThingFromThingGroup(const ThingGroupMembershipRequest& r);
  Status DeleteThing(const DeleteThingRequest& r);
  // Processes what is due at or before `now`, stopping once about `max_events` events
  // were added. Sets *more when something due remains.
  Status Advance(int64_t now, size_t max_events, bool* more);

  // The jobs whose fan-out or cancel stopped short in this append: each one's next
  // chunk is due once it commits.
  const std::vector<std::string>& continued() const { return continued_; }

  // The device-plane view of an execution, with its job's document.
  StatusOr<DeviceJobExecution> DeviceView(const ExecutionId& id, const ExecState& exec,
                                          const JobState& job) const;

 private:
  StatusOr<uint64_t> Emit(std::string_view actor, uint64_t cause, EventBody body);
  StatusOr<JobState> RequireJob(std::string_view job_id) const;
  StatusOr<std::pair<int64_t, ExecState>> RequireExecution(std::string_view job_id,
                                                          std::string_view thing,
                                                          std::optional<int64_t> number) const;
  StatusOr<uint64_t> Queue(std::string_view job_id, std::string_view thing,
                           std::string_view target, uint64_t cause, std::string_view actor);
  // Whether a thing joining a target of the job gets a new execution: it has none, or
  // its latest was REMOVED.
  StatusOr<bool> ShouldQueue(std::string_view job_id, std::string_view thing) const;
  StatusOr<bool> StillTargeted(const JobState& job, std::string_view thing) const;

  // After an execution of `job_id` changed (by the event `trigger`): the abort check
  // (if it became terminal) and the SNAPSHOT completion check.
  Status AfterExecutionChange(std::string_view job_id, uint64_t trigger, bool became_terminal);
  Status CheckAbort(std::string_view job_id, uint64_t trigger);
  Status CheckCompletion(std::string_view job_id, uint64_t trigger);
  // Cancels the job's QUEUED executions (and IN_PROGRESS ones with force), at most
  // limits.fan_out_chunk of them; when more remain, the job is continued() (the state
  // fold knows a cancel is unfinished from the job's counters: CancelPending).
  Status CancelExecutions(std::string_view job_id, bool force, uint64_t cause,
                          std::string_view actor);
  void Continue(std::string_view job_id);
  bool Continued(std::string_view job_id) const;
  Status RunRolloutWindow(std::string_view job_id, uint64_t cause);
  // Queues the job's executions from its fan-out cursor (for a new fan-out, the target
  // at index `first_target`: 0 for a new job, the first added one for targets
  // associated later): target by target, each group's members in key order, each
  // thing once, at most limits.fan_out_chunk. Stopping short ends the append with a
  // FanOutStep naming where to resume (and the job is continued()); finishing a
  // fan-out that had stopped short ends it with a FanOutStep marked done. A fan-out
  // that fits one chunk appends no FanOutStep.
  Status FanOut(std::string_view job_id, uint64_t cause, size_t first_target = 0);
  // A rollout's plan, a chunk per append like FanOut: RolloutPlanned events of at most
  // a chunk (the first at least one window's worth). The first window opens in the
  // same append when the plan fits one chunk, else in an append of its own right after
  // the first chunk (RunRolloutWindow caused by the plan), so no append holds both.
  Status Plan(std::string_view job_id, uint64_t cause);
  // Queues planned things (a window's), each caused by the window's RolloutStep.
  Status QueuePlanned(std::string_view job_id, const std::vector<PlannedExecution>& things,
                      uint64_t step);
  // The next chunk of a window queued in chunks (JobState::window_left).
  Status ContinueWindow(std::string_view job_id, const JobState& job);
  // Where a chunk of a fan-out stopped: the target the next resumes in, after `after`.
  struct FanOutCursor {
    std::string target;
    std::string after;
  };
  // The walk of FanOut and Plan: the job's targets from its fan-out cursor (an
  // unfinished fan-out) or from the target at `first_target`, a group's members in key
  // order. `visit` returns false for a thing the chunk has no room for: the walk stops
  // before it and returns where the next chunk resumes; nullopt once every target is
  // reached.
  StatusOr<std::optional<FanOutCursor>> WalkTargets(
      std::string_view job_id, const JobState& job, size_t first_target,
      const std::function<StatusOr<bool>(const std::string& thing, const std::string& arn)>& visit);
  Status TimeOut(const DueTimer& timer);

  AppendTxn& txn_;
  std::vector<std::string> continued_;
  StateStore store_;
  const ValidationContext& context_;
  std::string actor_;
};

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_DECIDE_H_
