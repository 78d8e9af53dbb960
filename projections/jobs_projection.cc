#include "jobledger/jobs_projection.h"

#include <algorithm>
#include <type_traits>

#include "jobledger/clock.h"
#include "jobledger/validation.h"
#include "projections/internal/records.h"

namespace jobledger {
namespace {

using namespace projections_internal;  // NOLINT: the row vocabulary of this fold

size_t Idx(ExecutionStatus s) { return static_cast<size_t>(s); }


class Folder {
 public:
  Folder(const Event& e, ProjectionWriter& rows) : e_(e), rows_(rows) {}

  Status Apply() {
    return std::visit([&](const auto& body) { return On(body); }, e_.body);
  }

 private:
  Status Mismatch(const std::string& what) const {
    return DataLossError("event " + std::to_string(e_.sequence) + " (" +
                         std::string(EventKindName(KindOf(e_.body))) + "): " + what +
                         "; the log and projection 'jobs' disagree");
  }

  // The latest version of an entity: remembered by this writer once read or saved.
  template <typename Record>
  StatusOr<std::optional<Record>> Latest(const std::string& entity) {
    ProjectionMemo& memo = rows_.memo();
    const std::optional<std::string>* value = memo.Recall(entity);
    if (value == nullptr) {
      auto it = rows_.Scan(entity);
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<Version> v, ReadAsOf(*it, entity, kMaxSequence));
      memo.Remember(entity, v ? std::optional<std::string>(std::move(v->value)) : std::nullopt);
      value = memo.Recall(entity);
    }
    if (!*value) return std::optional<Record>();
    Record r;
    if (!Decode(**value, &r)) return Malformed("row for " + entity.substr(1));
    return std::optional<Record>(std::move(r));
  }

  // A new version of an entity, remembered. The fold reads a job's and its counters'
  // versions back only through Latest (the memo, then the rows on a miss), so where
  // the memo spans the write they need no place among the rows it reads; an
  // execution's versions are also walked by JobDeleted's scan.
  template <typename Record>
  Status Save(const std::string& entity, const Record& r) {
    std::string encoded = Encode(r);
    const std::string key = entity + VersionSuffix(e_.sequence);
    if constexpr (std::is_same_v<Record, ExecRecord>) {
      JOBLEDGER_RETURN_IF_ERROR(rows_.Put(key, encoded));
    } else {
      JOBLEDGER_RETURN_IF_ERROR(rows_.PutRemembered(key, encoded));
    }
    rows_.memo().Remember(entity, std::move(encoded));
    return Status();
  }

  StatusOr<JobRecord> Job(const std::string& job_id) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobRecord> job, Latest<JobRecord>(JobEntity(job_id)));
    if (!job || job->deleted) return Mismatch("job '" + job_id + "' does not exist");
    return *job;
  }

  StatusOr<JobCounters> Counters(const std::string& job_id) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobCounters> c, Latest<JobCounters>(CountersEntity(job_id)));
    if (!c) return Mismatch("job '" + job_id + "' has no counters");
    return *c;
  }

  StatusOr<ExecRecord> Exec(const std::string& job_id, const std::string& thing, int64_t number) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecRecord> e,
                               Latest<ExecRecord>(ExecEntity(job_id, thing, number)));
    if (!e || e->deleted) {
      return Mismatch("execution " + job_id + "/" + thing + "#" + std::to_string(number) +
                      " does not exist");
    }
    return *e;
  }

  Status IndexGroups(const std::vector<std::string>& targets, const std::string& job_id) {
    for (const std::string& arn : targets) {
      std::optional<std::string> group = TargetGroupName(arn);
      if (!group) continue;
      JOBLEDGER_RETURN_IF_ERROR(rows_.Put(KeyBuilder(kGroupIndexRow).Name(*group).Name(job_id).Take(), {}));
      JOBLEDGER_RETURN_IF_ERROR(
          rows_.Put(KeyBuilder(kGroupIdRow).Name(ThingGroupId(*group)).Name(*group).Take(), {}));
    }
    return Status();
  }

  static void AddRemaining(JobCounters& c, const std::string& target, int64_t delta) {
    auto it = std::find_if(c.remaining.begin(), c.remaining.end(),
                           [&](const auto& t) { return t.first == target; });
    if (it == c.remaining.end()) {
      if (delta > 0) c.remaining.emplace_back(target, delta);
      return;
    }
    it->second += delta;
    if (it->second <= 0) c.remaining.erase(it);
  }

  // Takes a thing off a job's plan, if it is on it.
  Status Unplan(const std::string& job_id, const std::string& thing, JobCounters& c) {
    // The counters count the planned things by target: none planned, nothing to read
    // (most jobs have no rollout plan, and a queued execution would look it up).
    if (c.remaining.empty()) return Status();
    const std::string key = KeyBuilder(kPlannedRow).Name(job_id).Name(thing).Take();
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> target, rows_.Get(key));
    if (!target) return Status();
    AddRemaining(c, *target, -1);
    JOBLEDGER_RETURN_IF_ERROR(rows_.Delete(key));
    return rows_.Delete(KeyBuilder(kPlannedByThingRow).Name(thing).Name(job_id).Take());
  }

  // The second names of the keys under `prefix` (a plan row's thing, a by-thing row's
  // job), in key order.
  StatusOr<std::vector<std::string>> SecondNames(const std::string& prefix) {
    std::vector<std::string> names;
    auto it = rows_.Scan(prefix);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      KeyReader r(it->key());
      r.Name();
      names.emplace_back(r.Name());
    }
    JOBLEDGER_RETURN_IF_ERROR(it->status());
    return names;
  }

  // Forgets a job's whole plan (canceled, completed, deleted).
  Status ClearPlan(const std::string& job_id) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobCounters c, Counters(job_id));
    if (c.remaining.empty()) return Status();
    JOBLEDGER_ASSIGN_OR_RETURN(std::vector<std::string> things,
                               SecondNames(KeyBuilder(kPlannedRow).Name(job_id).Take()));
    for (const std::string& thing : things) JOBLEDGER_RETURN_IF_ERROR(Unplan(job_id, thing, c));
    c.remaining.clear();
    return Save(CountersEntity(job_id), c);
  }

  // Moves an execution between statuses, with the job's counters.
  Status Move(const std::string& job_id, const std::string& thing, int64_t number,
              ExecutionStatus from, ExecutionStatus to, ExecRecord& exec) {
    if (exec.status != from) {
      return Mismatch("the execution is " + std::string(ExecutionStatusName(exec.status)) +
                      ", not " + std::string(ExecutionStatusName(from)));
    }
    exec.last_updated_at = e_.recorded_at_micros;
    if (from == to) return Save(ExecEntity(job_id, thing, number), exec);
    exec.status = to;
    if (IsTerminal(to)) {
      exec.in_progress_deadline.reset();
      exec.step_deadline.reset();
    }
    JOBLEDGER_ASSIGN_OR_RETURN(JobCounters c, Counters(job_id));
    --c.counts[Idx(from)];
    ++c.counts[Idx(to)];
    JOBLEDGER_RETURN_IF_ERROR(Save(CountersEntity(job_id), c));
    return Save(ExecEntity(job_id, thing, number), exec);
  }

  // ---- job events ----

  Status On(const JobCreated& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobRecord> existing, Latest<JobRecord>(JobEntity(b.job_id)));
    if (existing && !existing->deleted) return Mismatch("job '" + b.job_id + "' already exists");
    JobRecord j;
    j.incarnation = e_.sequence;
    j.target_selection = b.target_selection;
    j.targets = b.targets;
    j.description = b.description;
    j.created_at = j.last_updated_at = e_.recorded_at_micros;
    j.presigned_url_config = b.presigned_url_config;
    j.rollout_config = b.job_executions_rollout_config;
    j.abort_config = b.abort_config;
    j.timeout_config = b.timeout_config;
    JOBLEDGER_RETURN_IF_ERROR(Save(JobEntity(b.job_id), j));
    JOBLEDGER_RETURN_IF_ERROR(Save(CountersEntity(b.job_id), JobCounters{}));
    JOBLEDGER_RETURN_IF_ERROR(rows_.PutUnread(DocumentEntity(b.job_id) + VersionSuffix(e_.sequence), b.document));
    return IndexGroups(b.targets, b.job_id);
  }

  Status On(const JobUpdated& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobRecord j, Job(b.job_id));
    if (b.description) j.description = b.description;
    if (b.presigned_url_config) j.presigned_url_config = b.presigned_url_config;
    if (b.job_executions_rollout_config) j.rollout_config = b.job_executions_rollout_config;
    if (b.abort_config) j.abort_config = b.abort_config;
    if (b.timeout_config) j.timeout_config = b.timeout_config;
    j.last_updated_at = e_.recorded_at_micros;
    return Save(JobEntity(b.job_id), j);
  }

  Status On(const TargetsAssociated& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobRecord j, Job(b.job_id));
    for (const std::string& t : b.targets) {
      if (std::find(j.targets.begin(), j.targets.end(), t) == j.targets.end()) j.targets.push_back(t);
    }
    if (b.comment) j.comment = b.comment;
    j.last_updated_at = e_.recorded_at_micros;
    JOBLEDGER_RETURN_IF_ERROR(Save(JobEntity(b.job_id), j));
    return IndexGroups(b.targets, b.job_id);
  }

  Status On(const JobCanceled& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobRecord j, Job(b.job_id));
    j.status = JobStatus::kCanceled;
    if (b.reason_code) j.reason_code = b.reason_code;
    if (b.comment) j.comment = b.comment;
    j.force_canceled = j.force_canceled || b.force;
    j.last_updated_at = e_.recorded_at_micros;
    JOBLEDGER_RETURN_IF_ERROR(Save(JobEntity(b.job_id), j));
    return ClearPlan(b.job_id);
  }

  Status On(const JobCompleted& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobRecord j, Job(b.job_id));
    j.status = JobStatus::kSucceeded;
    j.completed_at = j.last_updated_at = e_.recorded_at_micros;
    JOBLEDGER_RETURN_IF_ERROR(Save(JobEntity(b.job_id), j));
    return ClearPlan(b.job_id);
  }

  Status On(const JobDeleted& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobRecord j, Job(b.job_id));
    JOBLEDGER_RETURN_IF_ERROR(ClearPlan(b.job_id));
    j.deleted = true;
    j.last_updated_at = e_.recorded_at_micros;
    JOBLEDGER_RETURN_IF_ERROR(Save(JobEntity(b.job_id), j));
    // Every execution of the job leaves the current views too.
    std::vector<std::pair<std::string, ExecRecord>> live;
    const std::string prefix = ExecJobPrefix(b.job_id);
    auto it = rows_.Scan(prefix);
    std::string last_entity;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = it->key();
      if (key.size() < 8) return Malformed("an execution key");
      std::string entity(key.substr(0, key.size() - 8));
      if (entity == last_entity) continue;  // an older version
      last_entity = entity;
      ExecRecord e;
      if (!Decode(it->value(), &e)) return Malformed("an execution row");
      if (!e.deleted) live.emplace_back(std::move(entity), std::move(e));
    }
    JOBLEDGER_RETURN_IF_ERROR(it->status());
    for (auto& [entity, e] : live) {
      e.deleted = true;
      e.last_updated_at = e_.recorded_at_micros;
      JOBLEDGER_RETURN_IF_ERROR(Save(entity, e));
    }
    return Status();
  }

  // ---- execution events ----

  Status On(const ExecutionQueued& b) {
    JOBLEDGER_RETURN_IF_ERROR(Job(b.job_id).status());
    JOBLEDGER_ASSIGN_OR_RETURN(JobCounters c, Counters(b.job_id));
    ++c.counts[Idx(ExecutionStatus::kQueued)];
    JOBLEDGER_RETURN_IF_ERROR(Unplan(b.job_id, b.thing_name, c));
    JOBLEDGER_RETURN_IF_ERROR(Save(CountersEntity(b.job_id), c));
    ExecRecord e;
    e.status = ExecutionStatus::kQueued;
    e.version = 1;
    e.queued_at = e.last_updated_at = e_.recorded_at_micros;
    JOBLEDGER_RETURN_IF_ERROR(Save(ExecEntity(b.job_id, b.thing_name, b.execution_number), e));
    return rows_.PutUnread(KeyBuilder(kThingIndexRow)
                               .Name(b.thing_name)
                               .Name(b.job_id)
                               .U64(static_cast<uint64_t>(b.execution_number))
                               .Take(),
                           {});
  }

  Status On(const ExecutionStatusChanged& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobRecord job, Job(b.job_id));
    JOBLEDGER_ASSIGN_OR_RETURN(ExecRecord e, Exec(b.job_id, b.thing_name, b.execution_number));
    const int64_t t = e_.recorded_at_micros;
    if (b.to == ExecutionStatus::kInProgress) {
      if (b.from == ExecutionStatus::kQueued) {
        e.started_at = t;
        if (job.timeout_config && job.timeout_config->in_progress_timeout_in_minutes) {
          e.in_progress_deadline = t + *job.timeout_config->in_progress_timeout_in_minutes * kMicrosPerMinute;
        }
      }
      if (b.step_timeout_in_minutes) {
        if (*b.step_timeout_in_minutes < 0) {
          e.step_deadline.reset();
        } else {
          e.step_deadline = t + *b.step_timeout_in_minutes * kMicrosPerMinute;
        }
      }
    }
    if (b.status_details) e.status_details = *b.status_details;
    e.version = b.version_number;
    return Move(b.job_id, b.thing_name, b.execution_number, b.from, b.to, e);
  }

  Status On(const ExecutionCanceled& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(ExecRecord e, Exec(b.job_id, b.thing_name, b.execution_number));
    if (b.status_details) e.status_details = *b.status_details;
    e.version = b.version_number;
    e.force_canceled = b.force && b.from == ExecutionStatus::kInProgress;
    return Move(b.job_id, b.thing_name, b.execution_number, b.from, ExecutionStatus::kCanceled, e);
  }

  Status On(const ExecutionTimedOut& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(ExecRecord e, Exec(b.job_id, b.thing_name, b.execution_number));
    e.version = b.version_number;
    return Move(b.job_id, b.thing_name, b.execution_number, ExecutionStatus::kInProgress,
                ExecutionStatus::kTimedOut, e);
  }

  Status On(const ExecutionRemoved& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(ExecRecord e, Exec(b.job_id, b.thing_name, b.execution_number));
    e.version = b.version_number;
    return Move(b.job_id, b.thing_name, b.execution_number, b.from, ExecutionStatus::kRemoved, e);
  }

  Status On(const ExecutionDeleted& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(ExecRecord e, Exec(b.job_id, b.thing_name, b.execution_number));
    JOBLEDGER_ASSIGN_OR_RETURN(JobCounters c, Counters(b.job_id));
    --c.counts[Idx(e.status)];
    JOBLEDGER_RETURN_IF_ERROR(Save(CountersEntity(b.job_id), c));
    e.deleted = true;
    e.last_updated_at = e_.recorded_at_micros;
    return Save(ExecEntity(b.job_id, b.thing_name, b.execution_number), e);
  }

  // ---- registry and rollout ----

  Status On(const ThingAddedToGroup&) { return Status(); }
  Status On(const ThingRemovedFromGroup&) { return Status(); }

  Status On(const ThingDeleted& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(std::vector<std::string> jobs,
                               SecondNames(KeyBuilder(kPlannedByThingRow).Name(b.thing_name).Take()));
    for (const std::string& job_id : jobs) {
      if (!rows_.Owns(job_id)) continue;  // another partition's job
      JOBLEDGER_ASSIGN_OR_RETURN(JobCounters c, Counters(job_id));
      JOBLEDGER_RETURN_IF_ERROR(Unplan(job_id, b.thing_name, c));
      JOBLEDGER_RETURN_IF_ERROR(Save(CountersEntity(job_id), c));
    }
    return Status();
  }

  Status On(const RolloutPlanned& b) {
    JOBLEDGER_ASSIGN_OR_RETURN(JobCounters c, Counters(b.job_id));
    for (const PlannedExecution& p : b.entries) {
      JOBLEDGER_RETURN_IF_ERROR(rows_.Put(KeyBuilder(kPlannedRow).Name(b.job_id).Name(p.thing_name).Take(), p.target));
      JOBLEDGER_RETURN_IF_ERROR(rows_.Put(KeyBuilder(kPlannedByThingRow).Name(p.thing_name).Name(b.job_id).Take(), {}));
      AddRemaining(c, p.target, 1);
    }
    return Save(CountersEntity(b.job_id), c);
  }

  Status On(const RolloutStep& b) {
    if (b.skipped.empty()) return Status();
    JOBLEDGER_ASSIGN_OR_RETURN(JobCounters c, Counters(b.job_id));
    for (const std::string& thing : b.skipped) JOBLEDGER_RETURN_IF_ERROR(Unplan(b.job_id, thing, c));
    return Save(CountersEntity(b.job_id), c);
  }

  // Where a chunked fan-out resumes is the ledger's business; the read models see its
  // ExecutionQueued events.
  Status On(const FanOutStep&) { return Status(); }

  Status On(const UnknownEvent& b) {
    return Mismatch("union member " + std::to_string(b.discriminant) +
                    " is unknown to this build; upgrade jobledger to fold it");
  }

  const Event& e_;
  ProjectionWriter& rows_;
};

}  // namespace

Status JobsProjection::Apply(const Event& event, ProjectionWriter& rows) {
  return Folder(event, rows).Apply();
}

std::optional<std::string_view> JobsProjection::PartitionKey(const Event& event) const {
  return std::visit(
      [](const auto& body) -> std::optional<std::string_view> {
        if constexpr (requires { body.job_id; }) {
          return std::string_view(body.job_id);
        } else {
          return std::nullopt;
        }
      },
      event.body);
}

}  // namespace jobledger
