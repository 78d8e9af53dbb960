#include "ledger/internal/decide.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "jobledger/clock.h"
#include "ledger/internal/fold.h"
#include "ledger/internal/stages.h"

namespace jobledger::internal {
namespace {

size_t Idx(ExecutionStatus s) { return static_cast<size_t>(s); }

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string ExecName(std::string_view job, std::string_view thing, int64_t number) {
  return "the execution #" + std::to_string(number) + " of job " + Quoted(job) + " on thing " +
         Quoted(thing);
}

std::string StatusStr(ExecutionStatus s) { return std::string(ExecutionStatusName(s)); }

// A command naming the version it expects fails on any other.
Status CheckExpectedVersion(std::optional<int64_t> expected, int64_t version, std::string_view job,
                            std::string_view thing, int64_t number) {
  if (!expected || *expected == version) return Status::Ok();
  return VersionConflict("expectedVersion: " + std::to_string(*expected) +
                         " differs from the version " + std::to_string(version) + " of " +
                         ExecName(job, thing, number));
}

int64_t Terminal(const StatusCounts& c) {
  int64_t n = 0;
  for (ExecutionStatus s : {ExecutionStatus::kSucceeded, ExecutionStatus::kFailed,
                            ExecutionStatus::kTimedOut, ExecutionStatus::kRejected,
                            ExecutionStatus::kRemoved, ExecutionStatus::kCanceled}) {
    n += c[Idx(s)];
  }
  return n;
}

int64_t Failed(const StatusCounts& c, FailureType type) {
  switch (type) {
    case FailureType::kFailed: return c[Idx(ExecutionStatus::kFailed)];
    case FailureType::kRejected: return c[Idx(ExecutionStatus::kRejected)];
    case FailureType::kTimedOut: return c[Idx(ExecutionStatus::kTimedOut)];
    case FailureType::kAll:
      return c[Idx(ExecutionStatus::kFailed)] + c[Idx(ExecutionStatus::kRejected)] +
             c[Idx(ExecutionStatus::kTimedOut)];
  }
  return 0;
}

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s(buf);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

StatusOr<uint64_t> Decider::Emit(std::string_view actor, uint64_t cause, EventBody body) {
  NewEvent e{std::string(actor), cause == 0 ? CauseRef::None() : CauseRef::Sequence(cause),
             std::move(body)};
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t seq, txn_.Add(e));
  ScopedStage timed(Stage::kFold);
  JOBLEDGER_RETURN_IF_ERROR(ApplyEvent(txn_.events().back(), store_));
  return seq;
}

StatusOr<JobState> Decider::RequireJob(std::string_view job_id) const {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> job, store_.GetJob(job_id));
  if (!job) return ResourceNotFound("jobId: no job " + Quoted(job_id) + " in this ledger");
  return *job;
}

StatusOr<std::pair<int64_t, ExecState>> Decider::RequireExecution(
    std::string_view job_id, std::string_view thing, std::optional<int64_t> number) const {
  if (number) {
    ExecutionId id{std::string(job_id), std::string(thing), *number};
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecState> exec, store_.GetExecution(id));
    if (!exec) {
      return ResourceNotFound("executionNumber: job " + Quoted(job_id) + " has no execution #" +
                              std::to_string(*number) + " on thing " + Quoted(thing));
    }
    return std::make_pair(*number, *exec);
  }
  JOBLEDGER_ASSIGN_OR_RETURN(auto latest, store_.LatestExecution(job_id, thing));
  if (!latest) {
    return ResourceNotFound("thingName: job " + Quoted(job_id) + " has no execution on thing " +
                            Quoted(thing));
  }
  return *latest;
}

StatusOr<bool> Decider::ShouldQueue(std::string_view job_id, std::string_view thing) const {
  JOBLEDGER_ASSIGN_OR_RETURN(auto latest, store_.LatestExecution(job_id, thing));
  return !latest || latest->second.status == ExecutionStatus::kRemoved;
}

StatusOr<uint64_t> Decider::Queue(std::string_view job_id, std::string_view thing,
                                  std::string_view target, uint64_t cause,
                                  std::string_view actor) {
  JOBLEDGER_ASSIGN_OR_RETURN(auto latest, store_.LatestExecution(job_id, thing));
  const int64_t number = latest ? latest->first + 1 : 1;
  return Emit(actor, cause,
              ExecutionQueued{std::string(job_id), std::string(thing), number, std::string(target)});
}

StatusOr<bool> Decider::StillTargeted(const JobState& job, std::string_view thing) const {
  auto targets = [&](const std::string& arn) {
    return std::find(job.targets.begin(), job.targets.end(), arn) != job.targets.end();
  };
  if (targets(ThingArn(context_, thing))) return true;
  JOBLEDGER_ASSIGN_OR_RETURN(std::vector<std::string> groups, store_.GroupsOfThing(thing));
  for (const std::string& g : groups) {
    if (targets(ThingGroupArn(context_, g))) return true;
  }
  return false;
}

// ---- consequences ----

Status Decider::AfterExecutionChange(std::string_view job_id, uint64_t trigger,
                                     bool became_terminal) {
  if (became_terminal) JOBLEDGER_RETURN_IF_ERROR(CheckAbort(job_id, trigger));
  return CheckCompletion(job_id, trigger);
}

Status Decider::CheckAbort(std::string_view job_id, uint64_t trigger) {
  JOBLEDGER_ASSIGN_OR_RETURN(JobState job, RequireJob(job_id));
  // Not while the fan-out is unfinished: the criteria count executions that exist.
  if (job.status != JobStatus::kInProgress || !job.abort_config || job.fanout_pending) {
    return Status();
  }
  const int64_t terminal = Terminal(job.counts);
  const auto& criteria = job.abort_config->criteria_list;
  for (size_t i = 0; i < criteria.size(); ++i) {
    const AbortCriteria& c = criteria[i];
    if (terminal < c.min_number_of_executed_things || terminal == 0) continue;
    const int64_t failed = Failed(job.counts, c.failure_type);
    // thresholdPercentage has at most two decimals: compare in hundredths of a
    // percent, exactly.
    const auto threshold = static_cast<int64_t>(std::llround(c.threshold_percentage * 100));
    if (failed * 10000 < threshold * terminal) continue;
    const std::string comment =
        "abortConfig.criteriaList[" + std::to_string(i) + "] met: " + std::to_string(failed) +
        " of " + std::to_string(terminal) + " terminal executions " +
        std::string(FailureTypeName(c.failure_type)) + " (" +
        Percent(100.0 * static_cast<double>(failed) / static_cast<double>(terminal)) +
        "%), threshold " + Percent(c.threshold_percentage) + "%";
    JOBLEDGER_ASSIGN_OR_RETURN(
        uint64_t canceled,
        Emit(kActorAbort, trigger,
             JobCanceled{std::string(job_id), std::string(kAbortReasonCode), comment, false}));
    return CancelExecutions(job_id, /*force=*/false, canceled, kActorAbort);
  }
  return Status();
}

Status Decider::CheckCompletion(std::string_view job_id, uint64_t trigger) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> job, store_.GetJob(job_id));
  if (!job || job->status != JobStatus::kInProgress ||
      job->target_selection != TargetSelection::kSnapshot || job->rollout_pending > 0 ||
      job->fanout_pending || job->pending_executions() > 0) {
    return Status();
  }
  return Emit(kActorCompletion, trigger, JobCompleted{std::string(job_id)}).status();
}

Status Decider::CancelExecutions(std::string_view job_id, bool force, uint64_t cause,
                                 std::string_view actor) {
  const size_t limit = std::max<size_t>(context_.limits.fan_out_chunk, 1);
  std::vector<std::pair<ExecutionId, ExecState>> targets;
  bool more = false;
  JOBLEDGER_RETURN_IF_ERROR(store_.ForEachExecutionOfJob(
      job_id, [&](const ExecutionId& id, const ExecState& exec) -> StatusOr<bool> {
        if (exec.status == ExecutionStatus::kQueued ||
            (force && exec.status == ExecutionStatus::kInProgress)) {
          if (targets.size() == limit) {
            more = true;
            return false;
          }
          targets.emplace_back(id, exec);
        }
        return true;
      }));
  if (more) Continue(job_id);
  for (const auto& [id, exec] : targets) {
    JOBLEDGER_RETURN_IF_ERROR(Emit(actor, cause,
                                   ExecutionCanceled{id.job_id, id.thing_name, id.execution_number,
                                                     exec.status, force, std::nullopt,
                                                     exec.version + 1})
                                  .status());
  }
  return Status();
}

Status Decider::RunRolloutWindow(std::string_view job_id, uint64_t cause) {
  JOBLEDGER_ASSIGN_OR_RETURN(JobState job, RequireJob(job_id));
  if (job.status != JobStatus::kInProgress || job.rollout_pending == 0) {
    return InternalError("ledger.state: a rollout window is due for job " + Quoted(job_id) +
                         " which has nothing to roll out; check the state");
  }
  const int32_t rate = RolloutRate(job);
  const int32_t quota = rate;
  // Pick this window's things in plan order. A CONTINUOUS job's planned thing that
  // has left every target since the plan was made is dropped (and named in the step),
  // not queued: it would only be REMOVED again.
  std::vector<PlannedExecution> take;
  std::vector<std::string> skipped;
  size_t limit = static_cast<size_t>(quota) + 64;
  for (;;) {
    JOBLEDGER_ASSIGN_OR_RETURN(auto planned, store_.Planned(job_id, limit));
    take.clear();
    skipped.clear();
    for (const auto& [order, entry] : planned) {
      if (take.size() == static_cast<size_t>(quota)) break;
      bool keep = true;
      if (job.target_selection == TargetSelection::kContinuous) {
        JOBLEDGER_ASSIGN_OR_RETURN(keep, StillTargeted(job, entry.thing_name));
      }
      if (keep) {
        take.push_back(entry);
      } else {
        skipped.push_back(entry.thing_name);
      }
    }
    if (take.size() == static_cast<size_t>(quota) || planned.size() < limit) break;
    limit *= 2;  // many skipped: look further down the plan
  }
  JOBLEDGER_ASSIGN_OR_RETURN(
      uint64_t step,
      Emit(kActorRollout, cause != 0 ? cause : job.rollout_plan_seq,
           RolloutStep{std::string(job_id), job.rollout_next_window, rate, quota, skipped}));
  // At most a chunk in this append; the rest of the window follows in appends of its
  // own (ContinueFanOut, from JobState::window_left), in plan order.
  const size_t chunk = std::max<size_t>(context_.limits.fan_out_chunk, 1);
  if (take.size() > chunk) {
    take.resize(chunk);
    Continue(job_id);
  }
  JOBLEDGER_RETURN_IF_ERROR(QueuePlanned(job_id, take, step));
  return CheckCompletion(job_id, step);
}

Status Decider::QueuePlanned(std::string_view job_id, const std::vector<PlannedExecution>& things,
                             uint64_t step) {
  for (const PlannedExecution& entry : things) {
    JOBLEDGER_ASSIGN_OR_RETURN(bool should, ShouldQueue(job_id, entry.thing_name));
    if (!should) {
      return InternalError("ledger.state: thing " + Quoted(entry.thing_name) +
                           " is planned for job " + Quoted(job_id) +
                           " but already has an execution; check the state");
    }
    JOBLEDGER_RETURN_IF_ERROR(Queue(job_id, entry.thing_name, entry.target, step, kActorRollout).status());
  }
  return Status();
}

Status Decider::ContinueWindow(std::string_view job_id, const JobState& job) {
  const size_t chunk = std::max<size_t>(context_.limits.fan_out_chunk, 1);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(job.window_left, chunk));
  JOBLEDGER_ASSIGN_OR_RETURN(auto planned, store_.Planned(job_id, n));
  std::vector<PlannedExecution> take;
  for (auto& [order, entry] : planned) take.push_back(std::move(entry));
  if (take.empty()) {
    return InternalError("ledger.state: job " + Quoted(job_id) + "'s window has " +
                         std::to_string(job.window_left) + " things left to queue but none is planned; check the state");
  }
  JOBLEDGER_RETURN_IF_ERROR(QueuePlanned(job_id, take, job.window_step_seq));
  JOBLEDGER_ASSIGN_OR_RETURN(JobState after, RequireJob(job_id));
  if (after.window_left > 0 || after.fanout_pending) Continue(job_id);
  return Status();
}

StatusOr<std::optional<Decider::FanOutCursor>> Decider::WalkTargets(
    std::string_view job_id, const JobState& job, size_t first_target,
    const std::function<StatusOr<bool>(const std::string& thing, const std::string& arn)>& visit) {
  size_t start = first_target;
  std::string after;
  if (job.fanout_pending) {
    auto at = std::find(job.targets.begin(), job.targets.end(), job.fanout_target);
    if (at == job.targets.end()) {
      return InternalError("ledger.state: job " + Quoted(job_id) + "'s fan-out resumes in " +
                           Quoted(job.fanout_target) + ", not one of its targets; check the state");
    }
    start = static_cast<size_t>(at - job.targets.begin());
    after = job.fanout_after;
  }
  constexpr size_t kPage = 1024;
  for (size_t i = start; i < job.targets.size(); ++i) {
    const std::string& arn = job.targets[i];
    std::string from = i == start ? after : std::string();
    JOBLEDGER_ASSIGN_OR_RETURN(TargetRef t, ParseTargetArn(arn, context_));
    if (t.kind == TargetRef::Kind::kThing) {
      if (!from.empty()) continue;  // reached by an earlier chunk
      JOBLEDGER_ASSIGN_OR_RETURN(bool go_on, visit(t.name, arn));
      if (!go_on) return std::optional<FanOutCursor>(FanOutCursor{arn, from});
      continue;
    }
    for (;;) {
      JOBLEDGER_ASSIGN_OR_RETURN(std::vector<std::string> members, store_.MembersOfGroup(t.name, from, kPage));
      if (members.empty()) break;
      for (const std::string& m : members) {
        JOBLEDGER_ASSIGN_OR_RETURN(bool go_on, visit(m, arn));
        if (!go_on) return std::optional<FanOutCursor>(FanOutCursor{arn, from});
        from = m;
      }
    }
  }
  return std::optional<FanOutCursor>();
}

Status Decider::FanOut(std::string_view job_id, uint64_t cause, size_t first_target) {
  JOBLEDGER_ASSIGN_OR_RETURN(JobState job, RequireJob(job_id));
  const size_t limit = std::max<size_t>(context_.limits.fan_out_chunk, 1);
  size_t queued = 0;
  JOBLEDGER_ASSIGN_OR_RETURN(
      std::optional<FanOutCursor> stopped,
      WalkTargets(job_id, job, first_target, [&](const std::string& thing, const std::string& arn) -> StatusOr<bool> {
        JOBLEDGER_ASSIGN_OR_RETURN(bool should, ShouldQueue(job_id, thing));
        if (!should) return true;
        if (queued == limit) return false;
        JOBLEDGER_RETURN_IF_ERROR(Queue(job_id, thing, arn, cause, kActorRollout).status());
        ++queued;
        return true;
      }));
  if (stopped) {
    Continue(job_id);
    return Emit(kActorRollout, cause, FanOutStep{std::string(job_id), stopped->target, stopped->after, false})
        .status();
  }
  if (job.fanout_pending) {
    JOBLEDGER_RETURN_IF_ERROR(
        Emit(kActorRollout, cause, FanOutStep{std::string(job_id), "", "", true}).status());
  }
  return Status();
}

Status Decider::Plan(std::string_view job_id, uint64_t cause) {
  JOBLEDGER_ASSIGN_OR_RETURN(JobState job, RequireJob(job_id));
  const bool resuming = job.fanout_pending;
  size_t limit = std::max<size_t>(context_.limits.fan_out_chunk, 1);
  // The first chunk holds the first window's things, so that window is what it would
  // be with the whole plan made at once.
  if (!resuming) limit = std::max(limit, static_cast<size_t>(std::max(RolloutRate(job), 1)));
  std::vector<PlannedExecution> entries;
  std::set<std::string, std::less<>> seen;  // planned by this chunk
  JOBLEDGER_ASSIGN_OR_RETURN(
      std::optional<FanOutCursor> stopped,
      WalkTargets(job_id, job, 0, [&](const std::string& thing, const std::string& arn) -> StatusOr<bool> {
        // Each thing once: not planned by this chunk, nor (resuming) by an earlier
        // one, nor queued by the first window. A new job has nothing planned or queued.
        if (seen.count(thing) > 0) return true;
        if (resuming) {
          JOBLEDGER_ASSIGN_OR_RETURN(auto planned, store_.PlannedOfThing(thing));
          for (const auto& [planned_job, order] : planned) {
            if (planned_job == job_id) return true;
          }
          JOBLEDGER_ASSIGN_OR_RETURN(bool should, ShouldQueue(job_id, thing));
          if (!should) return true;
        }
        if (entries.size() == limit) return false;
        seen.insert(thing);
        entries.push_back(PlannedExecution{thing, arn});
        return true;
      }));
  // This chunk's part of the plan, where the next chunk resumes (or that none follows),
  // and in the first chunk the first window.
  uint64_t plan = 0;
  if (!entries.empty()) {
    JOBLEDGER_ASSIGN_OR_RETURN(plan, Emit(kActorRollout, cause, RolloutPlanned{std::string(job_id), std::move(entries)}));
  }
  if (stopped) {
    Continue(job_id);
    JOBLEDGER_RETURN_IF_ERROR(Emit(kActorRollout, cause,
                                   FanOutStep{std::string(job_id), stopped->target, stopped->after, false, true})
                                  .status());
  } else if (resuming) {
    JOBLEDGER_RETURN_IF_ERROR(
        Emit(kActorRollout, cause, FanOutStep{std::string(job_id), "", "", true, true}).status());
  }
  // A plan whole in one chunk opens its first window in the same append.
  if (!resuming && plan != 0 && !stopped) return RunRolloutWindow(job_id, plan);
  return Status();
}

bool Decider::Continued(std::string_view job_id) const {
  return std::find(continued_.begin(), continued_.end(), job_id) != continued_.end();
}

void Decider::Continue(std::string_view job_id) {
  if (!Continued(job_id)) continued_.emplace_back(job_id);
}

Status Decider::ContinueFanOut(std::string_view job_id) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> job, store_.GetJob(job_id));
  if (!job) return Status();  // deleted meanwhile
  if (CancelPending(*job)) {
    return CancelExecutions(job_id, job->force_canceled, job->canceled_seq,
                            job->canceled_by_abort ? kActorAbort : kActorCancel);
  }
  if (job->status != JobStatus::kInProgress) return Status();  // canceled or done meanwhile
  // A window queued in chunks goes first: a plan being made waits for it. A plan in
  // chunks opens its first window in the append after its first chunk (unless the
  // window came due and opened meanwhile), so no append both plans and queues.
  if (job->window_left > 0) {
    JOBLEDGER_RETURN_IF_ERROR(ContinueWindow(job_id, *job));
  } else if (job->fanout_pending && job->fanout_plans && job->rollout_next_window == 0 &&
             job->rollout_pending > 0) {
    Continue(job_id);  // the plan goes on in the next append
    JOBLEDGER_RETURN_IF_ERROR(RunRolloutWindow(job_id, 0));
  } else if (!job->fanout_pending) {
    return Status();  // finished meanwhile
  } else if (job->fanout_plans) {
    JOBLEDGER_RETURN_IF_ERROR(Plan(job_id, job->incarnation));
  } else {
    JOBLEDGER_RETURN_IF_ERROR(FanOut(job_id, job->incarnation));
  }
  if (Continued(job_id)) return Status();
  // The last chunk: a SNAPSHOT job whose executions all ended meanwhile completes, and
  // abort criteria that were met meanwhile fire.
  JOBLEDGER_RETURN_IF_ERROR(CheckAbort(job_id, txn_.next_sequence() - 1));
  return CheckCompletion(job_id, txn_.next_sequence() - 1);
}

Status Decider::TimeOut(const DueTimer& timer) {
  const ExecutionId& id = timer.id;
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecState> exec, store_.GetExecution(id));
  if (!exec || exec->status != ExecutionStatus::kInProgress || exec->deadline() != timer.deadline) {
    return InternalError("ledger.state: a timer is due for " +
                         ExecName(id.job_id, id.thing_name, id.execution_number) +
                         " which is not IN_PROGRESS with that deadline; check the state");
  }
  JOBLEDGER_ASSIGN_OR_RETURN(
      uint64_t seq,
      Emit(kActorTimeout, exec->deadline_seq,
           ExecutionTimedOut{id.job_id, id.thing_name, id.execution_number, timer.deadline,
                             exec->version + 1}));
  return AfterExecutionChange(id.job_id, seq, /*became_terminal=*/true);
}

Status Decider::Advance(int64_t now, size_t max_events, bool* more) {
  *more = false;
  // Bounded: every step removes the due row it processed (checked below).
  for (size_t steps = 0;; ++steps) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<DueTimer> timer, store_.FirstDeadline());
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<DueRollout> window, store_.FirstRolloutDue());
    const bool timer_due = timer && timer->deadline <= now;
    const bool window_due = window && window->due <= now;
    if (!timer_due && !window_due) return Status();
    if (txn_.events().size() >= max_events) {
      *more = true;
      return Status();
    }
    // In due order; a timeout before a rollout window due at the same instant.
    if (timer_due && (!window_due || timer->deadline <= window->due)) {
      JOBLEDGER_RETURN_IF_ERROR(TimeOut(*timer));
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<DueTimer> again, store_.FirstDeadline());
      if (again && again->deadline == timer->deadline && again->id == timer->id) {
        return InternalError("ledger.state: the timer of " + ExecName(timer->id.job_id, timer->id.thing_name, timer->id.execution_number) + " did not clear");
      }
    } else {
      JOBLEDGER_RETURN_IF_ERROR(RunRolloutWindow(window->job_id, 0));
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<DueRollout> again, store_.FirstRolloutDue());
      if (again && again->due == window->due && again->job_id == window->job_id) {
        return InternalError("ledger.state: the rollout window of job " + Quoted(window->job_id) + " did not advance");
      }
    }
  }
}

StatusOr<DeviceJobExecution> Decider::DeviceView(const ExecutionId& id, const ExecState& exec,
                                                 const JobState& job) const {
  DeviceJobExecution out;
  out.job_id = id.job_id;
  out.thing_name = id.thing_name;
  out.status = exec.status;
  out.status_details = exec.status_details;
  out.queued_at_micros = exec.queued_at;
  out.started_at_micros = exec.started_at;
  out.last_updated_at_micros = exec.last_updated_at;
  if (exec.status == ExecutionStatus::kInProgress && exec.deadline()) {
    out.approximate_seconds_before_timed_out =
        std::max<int64_t>(0, (*exec.deadline() - txn_.now_micros()) / kMicrosPerSecond);
  }
  out.version_number = exec.version;
  out.execution_number = id.execution_number;
  JOBLEDGER_ASSIGN_OR_RETURN(Event created, txn_.ReadEvent(job.incarnation));
  if (const auto* c = std::get_if<JobCreated>(&created.body)) out.job_document = c->document;
  return out;
}

// ---- commands ----

StatusOr<JobReference> Decider::CreateJob(const CreateJobRequest& r) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> existing, store_.GetJob(r.job_id));
  if (existing) {
    return ResourceAlreadyExists("jobId: a job " + Quoted(r.job_id) + " already exists (" +
                                 JobArn(context_, r.job_id) + ")");
  }
  JobCreated created;
  created.job_id = r.job_id;
  created.targets = r.targets;
  created.document = r.document.value_or("");
  created.description = r.description;
  created.target_selection = r.target_selection.value_or(TargetSelection::kSnapshot);
  created.presigned_url_config = r.presigned_url_config;
  created.job_executions_rollout_config = r.job_executions_rollout_config;
  created.abort_config = r.abort_config;
  created.timeout_config = r.timeout_config;
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t create, Emit(actor_, 0, std::move(created)));
  // The groups are read as the fan-out goes, a chunk at a time: a rollout plans every
  // thing (its executions are queued over time, the first window now), otherwise every
  // thing is queued.
  if (r.job_executions_rollout_config) {
    JOBLEDGER_RETURN_IF_ERROR(Plan(r.job_id, create));
  } else {
    JOBLEDGER_RETURN_IF_ERROR(FanOut(r.job_id, create));
  }
  JOBLEDGER_RETURN_IF_ERROR(CheckCompletion(r.job_id, create));
  return JobReference{JobArn(context_, r.job_id), r.job_id, r.description};
}

Status Decider::UpdateJob(const UpdateJobRequest& r) {
  JOBLEDGER_RETURN_IF_ERROR(RequireJob(r.job_id).status());
  return Emit(actor_, 0,
              JobUpdated{r.job_id, r.description, r.presigned_url_config,
                         r.job_executions_rollout_config, r.abort_config, r.timeout_config})
      .status();
}

StatusOr<JobReference> Decider::CancelJob(const CancelJobRequest& r) {
  JOBLEDGER_ASSIGN_OR_RETURN(JobState job, RequireJob(r.job_id));
  if (job.status == JobStatus::kSucceeded) {
    return InvalidStateTransition("jobId: job " + Quoted(r.job_id) +
                                  " is SUCCEEDED; a completed job cannot be canceled");
  }
  if (job.status == JobStatus::kCanceled && (!r.force || job.force_canceled)) {
    return InvalidStateTransition(
        "jobId: job " + Quoted(r.job_id) + " is already CANCELED" +
        (job.force_canceled ? std::string(" with force")
                            : std::string("; cancel it again with force to cancel its "
                                          "IN_PROGRESS executions")));
  }
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t canceled,
                             Emit(actor_, 0, JobCanceled{r.job_id, r.reason_code, r.comment, r.force}));
  JOBLEDGER_RETURN_IF_ERROR(CancelExecutions(r.job_id, r.force, canceled, kActorCancel));
  return JobReference{JobArn(context_, r.job_id), r.job_id, job.description};
}

Status Decider::DeleteJob(const DeleteJobRequest& r) {
  JOBLEDGER_ASSIGN_OR_RETURN(JobState job, RequireJob(r.job_id));
  if (job.status == JobStatus::kInProgress && !r.force) {
    return InvalidStateTransition("force: job " + Quoted(r.job_id) +
                                  " is IN_PROGRESS; deleting it needs force");
  }
  return Emit(actor_, 0, JobDeleted{r.job_id, r.force}).status();
}

StatusOr<JobReference> Decider::AssociateTargetsWithJob(const AssociateTargetsWithJobRequest& r) {
  JOBLEDGER_ASSIGN_OR_RETURN(JobState job, RequireJob(r.job_id));
  if (job.target_selection != TargetSelection::kContinuous) {
    return InvalidRequest("jobId: targets can be associated only with a CONTINUOUS job; " +
                          Quoted(r.job_id) + " is SNAPSHOT");
  }
  if (job.status != JobStatus::kInProgress) {
    return InvalidRequest("jobId: targets can be associated only with an IN_PROGRESS job; " +
                          Quoted(r.job_id) + " is " + std::string(JobStatusName(job.status)));
  }
  std::vector<std::string> added;
  for (const std::string& t : r.targets) {
    if (std::find(job.targets.begin(), job.targets.end(), t) == job.targets.end()) added.push_back(t);
  }
  if (job.targets.size() + added.size() > context_.limits.max_targets) {
    return LimitExceeded("targets: a job has at most " + std::to_string(context_.limits.max_targets) +
                         " targets; " + Quoted(r.job_id) + " has " +
                         std::to_string(job.targets.size()) + " and this adds " +
                         std::to_string(added.size()));
  }
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t associated,
                             Emit(actor_, 0, TargetsAssociated{r.job_id, r.targets, r.comment}));
  // The added targets are queued by a fan-out of their own, in chunks like a new
  // job's; one still running reaches them anyway (it walks the targets to the end).
  if (!added.empty() && !job.fanout_pending) {
    JOBLEDGER_RETURN_IF_ERROR(FanOut(r.job_id, associated, job.targets.size()));
  }
  return JobReference{JobArn(context_, r.job_id), r.job_id, job.description};
}

Status Decider::CancelJobExecution(const CancelJobExecutionRequest& r) {
  JOBLEDGER_RETURN_IF_ERROR(RequireJob(r.job_id).status());
  JOBLEDGER_ASSIGN_OR_RETURN(auto found, RequireExecution(r.job_id, r.thing_name, std::nullopt));
  const auto& [number, exec] = found;
  JOBLEDGER_RETURN_IF_ERROR(
      CheckExpectedVersion(r.expected_version, exec.version, r.job_id, r.thing_name, number));
  if (IsTerminal(exec.status)) {
    return InvalidStateTransition(ExecName(r.job_id, r.thing_name, number) + " is " +
                                  StatusStr(exec.status) +
                                  "; job executions in a terminal state can't be canceled");
  }
  if (exec.status == ExecutionStatus::kInProgress && !r.force) {
    return InvalidStateTransition("force: " + ExecName(r.job_id, r.thing_name, number) +
                                  " is IN_PROGRESS; canceling it needs force");
  }
  JOBLEDGER_ASSIGN_OR_RETURN(
      uint64_t seq,
      Emit(actor_, 0,
           ExecutionCanceled{r.job_id, r.thing_name, number, exec.status, r.force, r.status_details,
                             exec.version + 1}));
  return AfterExecutionChange(r.job_id, seq, /*became_terminal=*/true);
}

Status Decider::DeleteJobExecution(const DeleteJobExecutionRequest& r) {
  JOBLEDGER_RETURN_IF_ERROR(RequireJob(r.job_id).status());
  JOBLEDGER_ASSIGN_OR_RETURN(auto found, RequireExecution(r.job_id, r.thing_name, r.execution_number));
  const ExecState& exec = found.second;
  if (!r.force && !IsTerminal(exec.status)) {
    return InvalidStateTransition("force: " + ExecName(r.job_id, r.thing_name, r.execution_number) +
                                  " is " + StatusStr(exec.status) +
                                  "; deleting an execution that is not terminal needs force");
  }
  JOBLEDGER_ASSIGN_OR_RETURN(
      uint64_t seq,
      Emit(actor_, 0, ExecutionDeleted{r.job_id, r.thing_name, r.execution_number, r.force}));
  // Deleted executions leave the abort computation, and a deleted pending execution
  // may be the last thing a SNAPSHOT job was waiting for.
  return AfterExecutionChange(r.job_id, seq, /*became_terminal=*/true);
}

StatusOr<UpdateJobExecutionResponse> Decider::UpdateJobExecution(
    const UpdateJobExecutionRequest& r) {
  JOBLEDGER_ASSIGN_OR_RETURN(JobState job, RequireJob(r.job_id));
  JOBLEDGER_ASSIGN_OR_RETURN(auto found, RequireExecution(r.job_id, r.thing_name, r.execution_number));
  const auto& [number, exec] = found;
  JOBLEDGER_RETURN_IF_ERROR(
      CheckExpectedVersion(r.expected_version, exec.version, r.job_id, r.thing_name, number));
  if (IsTerminal(exec.status)) {
    return InvalidStateTransition(
        "status: " + ExecName(r.job_id, r.thing_name, number) + " is " + StatusStr(exec.status) +
        (exec.force_canceled ? " (force-canceled)" : "") +
        "; an execution in a terminal state cannot be updated");
  }
  if (InCancelsReach(job, exec)) {
    return InvalidStateTransition("status: " + ExecName(r.job_id, r.thing_name, number) +
                                  " is being canceled: job " + Quoted(r.job_id) +
                                  " is CANCELED and its executions are canceled in chunks");
  }
  if (r.status == ExecutionStatus::kQueued) {
    return InvalidStateTransition("status: " + ExecName(r.job_id, r.thing_name, number) + " is " +
                                  StatusStr(exec.status) + "; it cannot move back to QUEUED");
  }
  std::optional<int64_t> step;
  if (r.status == ExecutionStatus::kInProgress) step = r.step_timeout_in_minutes;
  JOBLEDGER_ASSIGN_OR_RETURN(
      uint64_t seq,
      Emit(actor_, 0,
           ExecutionStatusChanged{r.job_id, r.thing_name, number, exec.status, r.status,
                                  r.status_details, exec.version + 1, step}));
  JOBLEDGER_RETURN_IF_ERROR(AfterExecutionChange(r.job_id, seq, IsTerminal(r.status)));
  UpdateJobExecutionResponse out;
  if (r.include_job_execution_state) {
    JOBLEDGER_ASSIGN_OR_RETURN(auto after, RequireExecution(r.job_id, r.thing_name, number));
    out.execution_state =
        JobExecutionState{after.second.status, after.second.status_details, after.second.version};
  }
  if (r.include_job_document) {
    JOBLEDGER_ASSIGN_OR_RETURN(Event created, txn_.ReadEvent(job.incarnation));
    if (const auto* c = std::get_if<JobCreated>(&created.body)) out.job_document = c->document;
  }
  return out;
}

StatusOr<StartNextPendingJobExecutionResponse> Decider::StartNextPendingJobExecution(
    const StartNextPendingJobExecutionRequest& r) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::vector<PendingEntry> pending, store_.PendingOfThing(r.thing_name));
  // The candidate with its job, read once. An execution a cancel still in chunks is
  // about to cancel is skipped.
  struct Candidate {
    ExecutionId id;
    ExecState exec;
    std::optional<JobState> job;
  };
  auto candidate = [&](const ExecutionId& id, const ExecState& exec) -> StatusOr<std::optional<Candidate>> {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> job, store_.GetJob(id.job_id));
    if (job && InCancelsReach(*job, exec)) return std::optional<Candidate>();
    return std::optional<Candidate>(Candidate{id, exec, std::move(job)});
  };
  std::optional<Candidate> pick;
  std::optional<Candidate> queued;
  for (const PendingEntry& p : pending) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecState> exec, store_.GetExecution(p.id));
    if (!exec) return InternalError("ledger.state: a pending execution has no state; check the state");
    if (exec->status == ExecutionStatus::kInProgress) {
      JOBLEDGER_ASSIGN_OR_RETURN(pick, candidate(p.id, *exec));
      if (pick) break;  // IN_PROGRESS first
      continue;
    }
    if (!queued && exec->status == ExecutionStatus::kQueued) {
      JOBLEDGER_ASSIGN_OR_RETURN(queued, candidate(p.id, *exec));
    }
  }
  if (!pick) pick = std::move(queued);
  StartNextPendingJobExecutionResponse out;
  if (!pick) return out;
  const ExecutionId& id = pick->id;
  if (!pick->job) {
    JOBLEDGER_ASSIGN_OR_RETURN(pick->job, RequireJob(id.job_id));  // its error, named
  }
  const JobState& job = *pick->job;
  if (pick->exec.status == ExecutionStatus::kQueued) {
    const ExecState& exec = pick->exec;
    JOBLEDGER_RETURN_IF_ERROR(
        Emit(actor_, 0,
             ExecutionStatusChanged{id.job_id, id.thing_name, id.execution_number,
                                    ExecutionStatus::kQueued, ExecutionStatus::kInProgress,
                                    r.status_details, exec.version + 1,
                                    r.step_timeout_in_minutes})
            .status());
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecState> after, store_.GetExecution(id));
    pick->exec = *after;
  }
  JOBLEDGER_ASSIGN_OR_RETURN(DeviceJobExecution view, DeviceView(id, pick->exec, job));
  out.execution = std::move(view);
  return out;
}

Status Decider::AddThingToThingGroup(const ThingGroupMembershipRequest& r) {
  JOBLEDGER_ASSIGN_OR_RETURN(bool member, store_.IsMember(r.thing_group_name, r.thing_name));
  if (member) return Status();
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t added,
                             Emit(actor_, 0, ThingAddedToGroup{r.thing_name, r.thing_group_name}));
  JOBLEDGER_ASSIGN_OR_RETURN(std::vector<std::string> jobs, store_.JobsTargetingGroup(r.thing_group_name));
  for (const std::string& job_id : jobs) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> job, store_.GetJob(job_id));
    if (!job || job->status != JobStatus::kInProgress ||
        job->target_selection != TargetSelection::kContinuous) {
      continue;
    }
    JOBLEDGER_ASSIGN_OR_RETURN(bool should, ShouldQueue(job_id, r.thing_name));
    if (!should) continue;
    JOBLEDGER_RETURN_IF_ERROR(Queue(job_id, r.thing_name, ThingGroupArn(context_, r.thing_group_name),
                                    added, kActorMembership)
                                  .status());
  }
  return Status();
}

Status Decider::RemoveThingFromThingGroup(const ThingGroupMembershipRequest& r) {
  JOBLEDGER_ASSIGN_OR_RETURN(bool member, store_.IsMember(r.thing_group_name, r.thing_name));
  if (!member) return Status();
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t removed,
                             Emit(actor_, 0, ThingRemovedFromGroup{r.thing_name, r.thing_group_name}));
  JOBLEDGER_ASSIGN_OR_RETURN(std::vector<std::string> jobs, store_.JobsTargetingGroup(r.thing_group_name));
  for (const std::string& job_id : jobs) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> job, store_.GetJob(job_id));
    if (!job || job->target_selection != TargetSelection::kContinuous) continue;
    JOBLEDGER_ASSIGN_OR_RETURN(auto latest, store_.LatestExecution(job_id, r.thing_name));
    if (!latest || IsTerminal(latest->second.status)) continue;
    JOBLEDGER_ASSIGN_OR_RETURN(bool still, StillTargeted(*job, r.thing_name));
    if (still) continue;
    JOBLEDGER_ASSIGN_OR_RETURN(
        uint64_t seq,
        Emit(kActorMembership, removed,
             ExecutionRemoved{job_id, r.thing_name, latest->first, latest->second.status,
                              latest->second.version + 1}));
    JOBLEDGER_RETURN_IF_ERROR(AfterExecutionChange(job_id, seq, /*became_terminal=*/true));
  }
  return Status();
}

Status Decider::DeleteThing(const DeleteThingRequest& r) {
  JOBLEDGER_ASSIGN_OR_RETURN(bool known, store_.ThingKnown(r.thing_name));
  if (!known) return ResourceNotFound("thingName: no thing " + Quoted(r.thing_name) + " in this ledger");
  JOBLEDGER_ASSIGN_OR_RETURN(auto planned, store_.PlannedOfThing(r.thing_name));
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t deleted, Emit(actor_, 0, ThingDeleted{r.thing_name}));
  JOBLEDGER_ASSIGN_OR_RETURN(std::vector<PendingEntry> pending, store_.PendingOfThing(r.thing_name));
  for (const PendingEntry& p : pending) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecState> exec, store_.GetExecution(p.id));
    if (!exec) return InternalError("ledger.state: a pending execution has no state; check the state");
    JOBLEDGER_ASSIGN_OR_RETURN(
        uint64_t seq,
        Emit(kActorMembership, deleted,
             ExecutionRemoved{p.id.job_id, p.id.thing_name, p.id.execution_number, exec->status,
                              exec->version + 1}));
    JOBLEDGER_RETURN_IF_ERROR(AfterExecutionChange(p.id.job_id, seq, /*became_terminal=*/true));
  }
  // Leaving a rollout plan may have been the last thing a SNAPSHOT job waited for.
  for (const auto& [job_id, order] : planned) {
    JOBLEDGER_RETURN_IF_ERROR(CheckCompletion(job_id, deleted));
  }
  return Status();
}

}  // namespace jobledger::internal
