#include "ledger/internal/fold.h"

#include "jobledger/validation.h"
#include "ledger/internal/decide.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <type_traits>

namespace jobledger::internal {
namespace {

constexpr int32_t kDefaultMaximumPerMinute = 1000;

Status Mismatch(const Event& e, const std::string& what) {
  return DataLossError("event " + std::to_string(e.sequence) + " (" +
                       std::string(EventKindName(KindOf(e.body))) + "): " + what +
                       "; the log and the ledger state disagree");
}

size_t Idx(ExecutionStatus s) { return static_cast<size_t>(s); }

// Raises the exponential rate's step while a criterion's threshold has been reached.
void UpdateRateStep(JobState& job) {
  if (!job.rollout_config || !job.rollout_config->exponential_rate) return;
  const RateIncreaseCriteria& c = job.rollout_config->exponential_rate->rate_increase_criteria;
  const int64_t succeeded = job.counts[Idx(ExecutionStatus::kSucceeded)];
  for (int guard = 0; guard < 64; ++guard) {
    const int64_t next = static_cast<int64_t>(job.rollout_rate_step) + 1;
    bool reached = (c.number_of_notified_things &&
                    job.rollout_notified >= next * *c.number_of_notified_things) ||
                   (c.number_of_succeeded_things &&
                    succeeded >= next * *c.number_of_succeeded_things);
    if (!reached) return;
    ++job.rollout_rate_step;
  }
}

class Folder {
 public:
  Folder(const Event& e, StateStore& store) : e_(e), store_(store) {}

  Status Apply() {
    return std::visit([&](const auto& body) { return On(body); }, e_.body);
  }

 private:
  StatusOr<JobState> Job(std::string_view job_id) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> job, store_.GetJob(job_id));
    if (!job) return Mismatch(e_, "job '" + std::string(job_id) + "' does not exist");
    return *job;
  }

  StatusOr<ExecState> Exec(const ExecutionId& id) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecState> exec, store_.GetExecution(id));
    if (!exec) {
      return Mismatch(e_, "execution " + id.job_id + "/" + id.thing_name + "#" +
                              std::to_string(id.execution_number) + " does not exist");
    }
    return *exec;
  }

  Status AddGroupTargets(const std::vector<std::string>& targets, std::string_view job_id) {
    for (const std::string& arn : targets) {
      if (auto group = TargetGroupName(arn)) {
        JOBLEDGER_RETURN_IF_ERROR(store_.PutGroupTarget(*group, job_id));
      }
    }
    return Status();
  }

  Status DropGroupTargets(const JobState& job, std::string_view job_id) {
    for (const std::string& arn : job.targets) {
      if (auto group = TargetGroupName(arn)) {
        JOBLEDGER_RETURN_IF_ERROR(store_.DeleteGroupTarget(*group, job_id));
      }
    }
    return Status();
  }

  // Forgets a job's remaining rollout: planned entries and the next window.
  Status StopRollout(JobState& job, std::string_view job_id) {
    if (job.rollout_pending == 0) return Status();
    JOBLEDGER_ASSIGN_OR_RETURN(auto planned, store_.Planned(job_id, job.rollout_pending + 1));
    for (const auto& [order, entry] : planned) {
      JOBLEDGER_RETURN_IF_ERROR(store_.DeletePlanned(job_id, order, entry.thing_name));
    }
    JOBLEDGER_RETURN_IF_ERROR(
        store_.DeleteRolloutDue(RolloutWindowDue(job, job.rollout_next_window), job_id));
    job.rollout_pending = 0;
    return EndWindow(job, job_id);
  }

  // A window queued in chunks is over (its last thing queued, or nothing left to
  // queue): off the list of unfinished work unless something else keeps it there.
  Status EndWindow(JobState& job, std::string_view job_id) {
    if (job.window_left == 0) return Status();
    job.window_left = 0;
    job.window_step_seq = 0;
    return Unlist(job, job_id);
  }

  // Takes the job off the list of unfinished work (StateStore::JobsWithFanOut) unless
  // a fan-out or plan, a window or a cancel still has chunks to come.
  Status Unlist(const JobState& job, std::string_view job_id) {
    if (job.fanout_pending || job.window_left > 0 || CancelPending(job)) return Status();
    return store_.DeleteFanOut(job_id);
  }

  // One planned entry fewer; the rollout is over when none is left.
  Status PlannedDone(JobState& job, std::string_view job_id) {
    if (job.rollout_pending == 0) return Mismatch(e_, "job '" + std::string(job_id) + "' has nothing planned");
    --job.rollout_pending;
    if (job.rollout_pending == 0) {
      JOBLEDGER_RETURN_IF_ERROR(
          store_.DeleteRolloutDue(RolloutWindowDue(job, job.rollout_next_window), job_id));
      return EndWindow(job, job_id);
    }
    return Status();
  }

  // Moves an execution to a new status: counters and the pending index follow, and a
  // terminal status ends both timers. The caller moves the timer row (MoveTimer) from
  // the deadline it saw before.
  Status Transition(const ExecutionId& id, ExecState& exec, JobState& job, ExecutionStatus from,
                    ExecutionStatus to) {
    if (exec.status != from) {
      return Mismatch(e_, "the execution is " + std::string(ExecutionStatusName(exec.status)) +
                              ", not " + std::string(ExecutionStatusName(from)));
    }
    exec.last_updated_at = e_.recorded_at_micros;
    if (from == to) return Status();
    const bool cancel_pending = CancelPending(job);
    --job.counts[Idx(from)];
    ++job.counts[Idx(to)];
    JOBLEDGER_RETURN_IF_ERROR(EndCancel(job, id.job_id, cancel_pending));
    exec.status = to;
    if (IsTerminal(to)) {
      exec.in_progress_deadline.reset();
      exec.step_deadline.reset();
      exec.deadline_seq = 0;
      JOBLEDGER_RETURN_IF_ERROR(store_.DeletePending(id.thing_name, exec.queued_seq, id.job_id));
    }
    return Status();
  }

  // A canceled job's last execution left the cancel's reach: it is done.
  Status EndCancel(JobState& job, std::string_view job_id, bool was_pending) {
    if (!was_pending || CancelPending(job)) return Status();
    job.canceled_seq = 0;
    job.canceled_by_abort = false;
    return store_.DeleteFanOut(job_id);
  }

  Status MoveTimer(const ExecutionId& id, std::optional<int64_t> old_deadline,
                   std::optional<int64_t> new_deadline) {
    if (old_deadline == new_deadline) return Status();
    deadline_moved_ = true;
    if (old_deadline) JOBLEDGER_RETURN_IF_ERROR(store_.DeleteDeadline(*old_deadline, id));
    if (new_deadline) JOBLEDGER_RETURN_IF_ERROR(store_.PutDeadline(*new_deadline, id));
    return Status();
  }

  Status Save(const ExecutionId& id, const ExecState& exec, const JobState& job) {
    JOBLEDGER_RETURN_IF_ERROR(store_.PutExecution(id, exec));
    return store_.PutJob(id.job_id, job);
  }

  // An event that ends an execution (`from` to the terminal `to`): the status, the
  // counters and the timers move, the version is the event's, `also` sets what else
  // the event carries, and both rows are saved.
  template <typename Body, typename Also>
  Status EndExecution(const Body& b, ExecutionStatus from, ExecutionStatus to, Also also) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    ExecutionId id{b.job_id, b.thing_name, b.execution_number};
    JOBLEDGER_ASSIGN_OR_RETURN(ExecState exec, Exec(id));
    const std::optional<int64_t> old_deadline = exec.deadline();
    JOBLEDGER_RETURN_IF_ERROR(Transition(id, exec, job, from, to));
    JOBLEDGER_RETURN_IF_ERROR(MoveTimer(id, old_deadline, exec.deadline()));
    exec.version = b.version_number;
    also(exec);
    return Save(id, exec, job);
  }

  // Takes an execution's rows away: its pending entry (if it is not terminal), its
  // timer and the execution itself.
  Status DropExecution(const ExecutionId& id, const ExecState& exec) {
    if (!IsTerminal(exec.status)) {
      JOBLEDGER_RETURN_IF_ERROR(store_.DeletePending(id.thing_name, exec.queued_seq, id.job_id));
    }
    JOBLEDGER_RETURN_IF_ERROR(MoveTimer(id, exec.deadline(), std::nullopt));
    return store_.DeleteExecution(id);
  }

  // ---- job events ----

  Status On(const JobCreated& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> existing, store_.GetJob(b.job_id));
    if (existing) return Mismatch(e_, "job '" + b.job_id + "' already exists");
    JobState job;
    job.incarnation = e_.sequence;
    job.target_selection = b.target_selection;
    job.targets = b.targets;
    job.description = b.description;
    job.presigned_url_config = b.presigned_url_config;
    job.rollout_config = b.job_executions_rollout_config;
    job.abort_config = b.abort_config;
    job.timeout_config = b.timeout_config;
    job.created_at = job.last_updated_at = e_.recorded_at_micros;
    JOBLEDGER_RETURN_IF_ERROR(AddGroupTargets(b.targets, b.job_id));
    return store_.PutJob(b.job_id, job);
  }

  Status On(const JobUpdated& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    if (b.description) job.description = b.description;
    if (b.presigned_url_config) job.presigned_url_config = b.presigned_url_config;
    if (b.job_executions_rollout_config) {
      job.rollout_config = b.job_executions_rollout_config;
      UpdateRateStep(job);
    }
    if (b.abort_config) job.abort_config = b.abort_config;
    if (b.timeout_config) job.timeout_config = b.timeout_config;
    job.last_updated_at = e_.recorded_at_micros;
    return store_.PutJob(b.job_id, job);
  }

  Status On(const TargetsAssociated& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    for (const std::string& t : b.targets) {
      if (std::find(job.targets.begin(), job.targets.end(), t) == job.targets.end()) {
        job.targets.push_back(t);
      }
    }
    if (b.comment) job.comment = b.comment;
    job.last_updated_at = e_.recorded_at_micros;
    JOBLEDGER_RETURN_IF_ERROR(AddGroupTargets(b.targets, b.job_id));
    return store_.PutJob(b.job_id, job);
  }

  Status On(const JobCanceled& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    job.status = JobStatus::kCanceled;
    if (b.reason_code) job.reason_code = b.reason_code;
    if (b.comment) job.comment = b.comment;
    job.force_canceled = job.force_canceled || b.force;
    job.last_updated_at = e_.recorded_at_micros;
    JOBLEDGER_RETURN_IF_ERROR(StopRollout(job, b.job_id));
    JOBLEDGER_RETURN_IF_ERROR(StopFanOut(job, b.job_id));
    // The cancel of its executions may take more than this append (in chunks): until
    // it is done, the job is listed for the ledger to continue (and resume at open),
    // and remembers the cancel (the chunks' cause and actor). A finished cancel leaves
    // the job's row as it always was.
    if (CancelPending(job)) {
      job.canceled_seq = e_.sequence;
      job.canceled_by_abort = e_.actor == kActorAbort;
      JOBLEDGER_RETURN_IF_ERROR(store_.PutFanOut(b.job_id));
    }
    // The job stays indexed under its groups: a thing leaving one still gets its
    // pending (IN_PROGRESS) execution REMOVED. Joining checks the job's status.
    return store_.PutJob(b.job_id, job);
  }

  Status On(const JobCompleted& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    job.status = JobStatus::kSucceeded;
    job.completed_at = e_.recorded_at_micros;
    job.last_updated_at = e_.recorded_at_micros;
    JOBLEDGER_RETURN_IF_ERROR(StopRollout(job, b.job_id));
    return store_.PutJob(b.job_id, job);
  }

  Status On(const JobDeleted& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    JOBLEDGER_RETURN_IF_ERROR(StopRollout(job, b.job_id));
    JOBLEDGER_RETURN_IF_ERROR(StopFanOut(job, b.job_id));
    if (CancelPending(job)) JOBLEDGER_RETURN_IF_ERROR(store_.DeleteFanOut(b.job_id));
    JOBLEDGER_RETURN_IF_ERROR(DropGroupTargets(job, b.job_id));
    std::vector<std::pair<ExecutionId, ExecState>> execs;
    JOBLEDGER_RETURN_IF_ERROR(store_.ForEachExecutionOfJob(
        b.job_id, [&](const ExecutionId& id, const ExecState& exec) -> StatusOr<bool> {
          execs.emplace_back(id, exec);
          return true;
        }));
    for (const auto& [id, exec] : execs) JOBLEDGER_RETURN_IF_ERROR(DropExecution(id, exec));
    return store_.DeleteJob(b.job_id);
  }

  // ---- execution events ----

  Status On(const ExecutionQueued& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    ExecutionId id{b.job_id, b.thing_name, b.execution_number};
    JOBLEDGER_ASSIGN_OR_RETURN(auto latest, store_.LatestExecution(b.job_id, b.thing_name));
    const int64_t expected = latest ? latest->first + 1 : 1;
    if (b.execution_number != expected) {
      return Mismatch(e_, "execution number " + std::to_string(b.execution_number) +
                              " is not the next one (" + std::to_string(expected) + ")");
    }
    ExecState exec;
    exec.status = ExecutionStatus::kQueued;
    exec.version = 1;
    exec.queued_seq = e_.sequence;
    exec.target = b.target;
    exec.queued_at = exec.last_updated_at = e_.recorded_at_micros;
    ++job.counts[Idx(ExecutionStatus::kQueued)];
    JOBLEDGER_RETURN_IF_ERROR(store_.PutPending(b.thing_name, e_.sequence, id));
    JOBLEDGER_RETURN_IF_ERROR(store_.PutThing(b.thing_name));
    // Queuing a planned thing takes it off the plan.
    JOBLEDGER_ASSIGN_OR_RETURN(auto planned, store_.PlannedOfThing(b.thing_name));
    for (const auto& [planned_job, order] : planned) {
      if (planned_job != b.job_id) continue;
      JOBLEDGER_RETURN_IF_ERROR(store_.DeletePlanned(b.job_id, order, b.thing_name));
      JOBLEDGER_RETURN_IF_ERROR(PlannedDone(job, b.job_id));
      ++job.rollout_notified;
      UpdateRateStep(job);
      // One thing fewer for the open window; its last schedules the next window.
      if (job.window_left > 0 && --job.window_left == 0) {
        JOBLEDGER_RETURN_IF_ERROR(EndWindow(job, b.job_id));
        JOBLEDGER_RETURN_IF_ERROR(ScheduleNextWindow(job, b.job_id));
      }
    }
    return Save(id, exec, job);
  }

  Status On(const ExecutionStatusChanged& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    ExecutionId id{b.job_id, b.thing_name, b.execution_number};
    JOBLEDGER_ASSIGN_OR_RETURN(ExecState exec, Exec(id));
    const std::optional<int64_t> old_deadline = exec.deadline();
    const int64_t t = e_.recorded_at_micros;
    if (b.to == ExecutionStatus::kInProgress) {
      // The in-progress timer starts once, on entering IN_PROGRESS, with the job's
      // timeout as it is then; a step timer starts (or is cancelled, -1) whenever one
      // is supplied with IN_PROGRESS.
      if (b.from == ExecutionStatus::kQueued) {
        exec.started_at = t;
        if (job.timeout_config && job.timeout_config->in_progress_timeout_in_minutes) {
          exec.in_progress_deadline =
              t + *job.timeout_config->in_progress_timeout_in_minutes * kMicrosPerMinute;
        }
      }
      if (b.step_timeout_in_minutes) {
        if (*b.step_timeout_in_minutes < 0) {
          exec.step_deadline.reset();
        } else {
          exec.step_deadline = t + *b.step_timeout_in_minutes * kMicrosPerMinute;
        }
      }
    }
    JOBLEDGER_RETURN_IF_ERROR(Transition(id, exec, job, b.from, b.to));
    if (b.status_details) exec.status_details = *b.status_details;
    exec.version = b.version_number;
    JOBLEDGER_RETURN_IF_ERROR(MoveTimer(id, old_deadline, exec.deadline()));
    if (deadline_moved_) exec.deadline_seq = exec.deadline() ? e_.sequence : 0;
    if (b.to == ExecutionStatus::kSucceeded) UpdateRateStep(job);
    return Save(id, exec, job);
  }

  Status On(const ExecutionCanceled& b) {
    return EndExecution(b, b.from, ExecutionStatus::kCanceled, [&](ExecState& exec) {
      if (b.status_details) exec.status_details = *b.status_details;
      exec.force_canceled = b.force && b.from == ExecutionStatus::kInProgress;
    });
  }

  Status On(const ExecutionTimedOut& b) {
    return EndExecution(b, ExecutionStatus::kInProgress, ExecutionStatus::kTimedOut,
                        [](ExecState&) {});
  }

  Status On(const ExecutionRemoved& b) {
    return EndExecution(b, b.from, ExecutionStatus::kRemoved, [](ExecState&) {});
  }

  Status On(const ExecutionDeleted& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    ExecutionId id{b.job_id, b.thing_name, b.execution_number};
    JOBLEDGER_ASSIGN_OR_RETURN(ExecState exec, Exec(id));
    const bool cancel_pending = CancelPending(job);
    --job.counts[Idx(exec.status)];
    JOBLEDGER_RETURN_IF_ERROR(EndCancel(job, id.job_id, cancel_pending));
    JOBLEDGER_RETURN_IF_ERROR(DropExecution(id, exec));
    return store_.PutJob(id.job_id, job);
  }

  // ---- thing registry ----

  Status On(const ThingAddedToGroup& b) {
    JOBLEDGER_RETURN_IF_ERROR(store_.PutThing(b.thing_name));
    return store_.AddMember(b.thing_group_name, b.thing_name);
  }

  Status On(const ThingRemovedFromGroup& b) {
    return store_.RemoveMember(b.thing_group_name, b.thing_name);
  }

  Status On(const ThingDeleted& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::vector<std::string> groups, store_.GroupsOfThing(b.thing_name));
    for (const std::string& g : groups) JOBLEDGER_RETURN_IF_ERROR(store_.RemoveMember(g, b.thing_name));
    // A deleted thing leaves every rollout plan it was waiting in.
    JOBLEDGER_ASSIGN_OR_RETURN(auto planned, store_.PlannedOfThing(b.thing_name));
    for (const auto& [job_id, order] : planned) {
      JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(job_id));
      JOBLEDGER_RETURN_IF_ERROR(store_.DeletePlanned(job_id, order, b.thing_name));
      JOBLEDGER_RETURN_IF_ERROR(PlannedDone(job, job_id));
      JOBLEDGER_RETURN_IF_ERROR(store_.PutJob(job_id, job));
    }
    return store_.DeleteThing(b.thing_name);
  }

  // ---- rollout ----

  Status On(const RolloutPlanned& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    if (b.entries.empty()) return store_.PutJob(b.job_id, job);
    job.rollout_plan_seq = e_.sequence;
    // A plan made in chunks is one plan: its later chunks start no new windows.
    if (job.rollout_pending == 0 && !(job.fanout_pending && job.fanout_plans)) {
      job.rollout_origin = e_.recorded_at_micros;
      job.rollout_next_window = 0;
      JOBLEDGER_RETURN_IF_ERROR(store_.PutRolloutDue(RolloutWindowDue(job, 0), b.job_id));
    }
    // A plan queues each thing once, later: a thing planned already, or with an
    // execution of the job that is not REMOVED (the decider's ShouldQueue), could not be
    // queued when its window comes. Only a forged log has them.
    std::set<std::string_view> seen;
    for (const PlannedExecution& entry : b.entries) {
      if (!seen.insert(entry.thing_name).second) {
        return Mismatch(e_, "thing '" + entry.thing_name + "' is planned twice");
      }
      JOBLEDGER_ASSIGN_OR_RETURN(auto planned, store_.PlannedOfThing(entry.thing_name));
      for (const auto& [planned_job, order] : planned) {
        if (planned_job == b.job_id) {
          return Mismatch(e_, "thing '" + entry.thing_name + "' is already planned for job '" +
                                  b.job_id + "'");
        }
      }
      JOBLEDGER_ASSIGN_OR_RETURN(auto latest, store_.LatestExecution(b.job_id, entry.thing_name));
      if (latest && latest->second.status != ExecutionStatus::kRemoved) {
        return Mismatch(e_, "thing '" + entry.thing_name + "' already has execution #" +
                                std::to_string(latest->first) + " of job '" + b.job_id + "'");
      }
    }
    for (const PlannedExecution& entry : b.entries) {
      JOBLEDGER_RETURN_IF_ERROR(store_.PutPlanned(b.job_id, job.rollout_next_order++, entry));
      ++job.rollout_pending;
    }
    return store_.PutJob(b.job_id, job);
  }

  Status On(const RolloutStep& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    if (job.rollout_pending == 0 || b.window != job.rollout_next_window) {
      return Mismatch(e_, "window " + std::to_string(b.window) + " is not the job's next (" +
                              std::to_string(job.rollout_next_window) + ")");
    }
    JOBLEDGER_RETURN_IF_ERROR(
        store_.DeleteRolloutDue(RolloutWindowDue(job, job.rollout_next_window), b.job_id));
    job.rollout_next_window = b.window + 1;
    for (const std::string& thing : b.skipped) {
      JOBLEDGER_ASSIGN_OR_RETURN(auto planned, store_.PlannedOfThing(thing));
      bool found = false;
      for (const auto& [planned_job, order] : planned) {
        if (planned_job != b.job_id) continue;
        JOBLEDGER_RETURN_IF_ERROR(store_.DeletePlanned(b.job_id, order, thing));
        JOBLEDGER_RETURN_IF_ERROR(PlannedDone(job, b.job_id));
        found = true;
      }
      if (!found) return Mismatch(e_, "skipped thing '" + thing + "' is not planned");
    }
    // The window's things are queued after this event, in this append and (beyond a
    // chunk) the next ones; the next window is scheduled when the last is queued.
    job.window_left = std::min<uint64_t>(static_cast<uint64_t>(std::max(b.quota, 0)), job.rollout_pending);
    if (job.window_left > 0) {
      job.window_step_seq = e_.sequence;
      JOBLEDGER_RETURN_IF_ERROR(store_.PutFanOut(b.job_id));
    } else {
      JOBLEDGER_RETURN_IF_ERROR(ScheduleNextWindow(job, b.job_id));
    }
    return store_.PutJob(b.job_id, job);
  }

  // The rollout's next window, unless nothing is planned, a window is still being
  // queued, or the plan is still being made (its last chunk schedules it).
  Status ScheduleNextWindow(JobState& job, std::string_view job_id) {
    if (job.rollout_pending == 0 || job.window_left > 0 || (job.fanout_pending && job.fanout_plans)) {
      return Status();
    }
    return store_.PutRolloutDue(RolloutWindowDue(job, job.rollout_next_window), job_id);
  }

  Status On(const FanOutStep& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobState job, Job(b.job_id));
    if (job.status != JobStatus::kInProgress) return Mismatch(e_, "the job is not in progress");
    if (b.done) {
      if (job.fanout_pending && job.fanout_plans != b.plan) {
        return Mismatch(e_, b.plan ? "the job's unfinished fan-out queues executions, not a plan"
                                   : "the job's unfinished fan-out makes a plan");
      }
      JOBLEDGER_RETURN_IF_ERROR(StopFanOut(job, b.job_id));
      // The plan is whole: the rollout's next window is scheduled.
      if (b.plan) JOBLEDGER_RETURN_IF_ERROR(ScheduleNextWindow(job, b.job_id));
    } else {
      if (std::find(job.targets.begin(), job.targets.end(), b.target) == job.targets.end()) {
        return Mismatch(e_, "'" + b.target + "' is not a target of the job");
      }
      if (!job.fanout_pending) JOBLEDGER_RETURN_IF_ERROR(store_.PutFanOut(b.job_id));
      if (job.fanout_pending && job.fanout_plans != b.plan) {
        return Mismatch(e_, "a fan-out step changes what the job's unfinished fan-out makes");
      }
      job.fanout_pending = true;
      job.fanout_plans = b.plan;
      job.fanout_target = b.target;
      job.fanout_after = b.after;
    }
    return store_.PutJob(b.job_id, job);
  }

  // Ends an unfinished fan-out (it finished, or the job stopped).
  Status StopFanOut(JobState& job, std::string_view job_id) {
    if (!job.fanout_pending) return Status();
    job.fanout_pending = false;
    job.fanout_plans = false;
    job.fanout_target.clear();
    job.fanout_after.clear();
    return Unlist(job, job_id);
  }

  Status On(const UnknownEvent& b) {
    return Mismatch(e_, "union member " + std::to_string(b.discriminant) +
                            " is unknown to this build; upgrade jobledger to fold it");
  }

  const Event& e_;
  StateStore& store_;
  bool deadline_moved_ = false;  // set by MoveTimer: this event set the running timer
};

}  // namespace

Status ApplyEvent(const Event& event, StateStore& store) { return Folder(event, store).Apply(); }

int32_t RolloutRate(const JobState& job) {
  if (!job.rollout_config) return kDefaultMaximumPerMinute;
  const int32_t cap = job.rollout_config->maximum_per_minute.value_or(kDefaultMaximumPerMinute);
  if (!job.rollout_config->exponential_rate) return cap;
  const ExponentialRate& r = *job.rollout_config->exponential_rate;
  double rate = r.base_rate_per_minute * std::pow(r.increment_factor, job.rollout_rate_step);
  // Clamp before the cast: an imported (forged) config may hold any double.
  if (!(rate < cap)) return cap;
  if (!(rate >= 1)) return 1;
  return static_cast<int32_t>(std::floor(rate));
}

}  // namespace jobledger::internal
