#include "jobledger/read_models.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "jobledger/clock.h"
#include "jobledger/jobs_projection.h"
#include "jobledger/validation.h"
#include "projections/internal/records.h"

namespace jobledger {
namespace {

using namespace projections_internal;  // NOLINT: the row vocabulary

constexpr char kTokenMagic[] = "JL1";

uint32_t Fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// Opaque pagination token: hex of magic | kind | scope length | scope | resume key |
// checksum. The scope (the jobId or thingName listed) binds a token to its listing.
std::string EncodeToken(char kind, std::string_view scope, std::string_view resume) {
  std::string raw = std::string(kTokenMagic) + kind;
  raw.push_back(static_cast<char>((scope.size() >> 8) & 0xff));
  raw.push_back(static_cast<char>(scope.size() & 0xff));
  raw.append(scope);
  raw.append(resume);
  uint32_t sum = Fnv1a(raw);
  for (int shift = 24; shift >= 0; shift -= 8) raw.push_back(static_cast<char>((sum >> shift) & 0xff));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : raw) {
    out.push_back(kHex[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kHex[static_cast<uint8_t>(c) & 0xf]);
  }
  return out;
}

StatusOr<std::string> DecodeToken(char kind, std::string_view scope, std::string_view token) {
  auto bad = [&] {
    return InvalidRequest("nextToken: not a token this operation returned for this listing; "
                          "pass the nextToken of the previous page unchanged");
  };
  if (token.size() % 2 != 0 || token.size() < 2 * (sizeof(kTokenMagic) + 6) || token.size() > 4096) {
    return bad();
  }
  std::string raw;
  for (size_t i = 0; i < token.size(); i += 2) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = hex(token[i]), lo = hex(token[i + 1]);
    if (hi < 0 || lo < 0) return bad();
    raw.push_back(static_cast<char>((hi << 4) | lo));
  }
  std::string_view body(raw.data(), raw.size() - 4);
  uint32_t sum = 0;
  for (size_t i = raw.size() - 4; i < raw.size(); ++i) sum = (sum << 8) | static_cast<uint8_t>(raw[i]);
  const size_t header = sizeof(kTokenMagic) - 1;
  if (Fnv1a(body) != sum || body.substr(0, header) != kTokenMagic || body[header] != kind) {
    return bad();
  }
  const size_t scope_size = (static_cast<size_t>(static_cast<uint8_t>(body[header + 1])) << 8) |
                            static_cast<uint8_t>(body[header + 2]);
  if (body.size() < header + 3 + scope_size || body.substr(header + 3, scope_size) != scope) {
    return bad();
  }
  return std::string(body.substr(header + 3 + scope_size));
}

// Where a listing resumes: from the start without a token, else where the token says.
StatusOr<std::optional<std::string>> ResumeAt(char kind, std::string_view scope,
                                              const std::optional<std::string>& token) {
  if (!token) return std::optional<std::string>();
  JOBLEDGER_ASSIGN_OR_RETURN(std::string resume, DecodeToken(kind, scope, *token));
  return std::optional<std::string>(std::move(resume));
}

StatusOr<size_t> MaxResults(const std::optional<int>& max_results) {
  int n = max_results.value_or(kDefaultMaxResults);
  if (n < 1 || n > 250) {
    return InvalidRequest("maxResults: must be 1..250, got " + std::to_string(n));
  }
  return static_cast<size_t>(n);
}

std::string AsOfText(bool historical, uint64_t sequence) {
  return historical ? " as of sequence " + std::to_string(sequence) : std::string();
}


JobSummary Summarize(const ValidationContext& context, const std::string& job_id,
                     const JobRecord& j) {
  JobSummary s;
  s.job_arn = JobArn(context, job_id);
  s.job_id = job_id;
  std::vector<std::string> groups;
  for (const std::string& t : j.targets) {
    if (auto g = TargetGroupName(t)) groups.push_back(*g);
  }
  if (groups.size() == 1) s.thing_group_id = ThingGroupId(groups[0]);
  s.target_selection = j.target_selection;
  s.status = j.status;
  s.created_at_micros = j.created_at;
  s.last_updated_at_micros = j.last_updated_at;
  s.completed_at_micros = j.completed_at;
  return s;
}

JobExecutionSummary SummarizeExec(const ExecRecord& e, int64_t number) {
  JobExecutionSummary s;
  s.status = e.status;
  s.queued_at_micros = e.queued_at;
  s.started_at_micros = e.started_at;
  s.last_updated_at_micros = e.last_updated_at;
  s.execution_number = number;
  return s;
}

// Reads an entity's version as of `seq` and decodes it; nullopt when there is none.
template <typename Record>
StatusOr<std::optional<Record>> RecordAsOf(RowIterator& it, const std::string& entity, uint64_t seq) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<Version> v, ReadAsOf(it, entity, seq));
  if (!v) return std::optional<Record>();
  Record r;
  if (!Decode(v->value, &r)) return Malformed("row for " + entity.substr(1));
  return std::optional<Record>(std::move(r));
}

// Runs a query against the active family of "jobs", pinned for the query's duration
// so a rebuild switching families meanwhile cannot pull it away; if the switch
// happened between resolving and pinning, resolves again.
template <typename T, typename Fn>
StatusOr<T> WithFamily(const EventLog& log, const ProjectionManager& projections, Fn&& query) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    JOBLEDGER_ASSIGN_OR_RETURN(FamilyId family, projections.ActiveFamily(JobsProjection::kName));
    FamilyPin pin = log.PinFamily(family);
    if (pin == nullptr) continue;
    return query(family);
  }
  return UnavailableError("projection 'jobs' kept switching families during the read; retry");
}

}  // namespace

ReadModels::ReadModels(const EventLog& log, const ProjectionManager& projections,
                       const ValidationContext& context, const Clock* clock)
    : log_(log), projections_(projections), context_(context),
      clock_(clock != nullptr ? clock : &system_clock_) {}

StatusOr<ReadModels::Point> ReadModels::At(const ReadPoint& at, bool with_now) const {
  const uint64_t head = log_.head().sequence;
  Point p;
  p.historical = at.sequence != kMaxSequence;
  p.sequence = std::min(at.sequence, head);
  if (at.now_micros) {
    p.now = *at.now_micros;
  } else if (!p.historical) {
    p.now = clock_->NowMicros();
  } else if (p.sequence == 0 || !with_now) {
    p.now = 0;
  } else {
    JOBLEDGER_ASSIGN_OR_RETURN(Event e, log_.Read(p.sequence));
    p.now = e.recorded_at_micros;
  }
  return p;
}

StatusOr<uint64_t> ReadModels::Resolve(const ReadPoint& at) const {
  JOBLEDGER_ASSIGN_OR_RETURN(Point p, At(at));
  return p.sequence;
}

StatusOr<Job> ReadModels::DescribeJob(std::string_view job_id, const ReadPoint& at) const {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(job_id));
  JOBLEDGER_ASSIGN_OR_RETURN(Point p, At(at));
  return WithFamily<Job>(log_, projections_, [&](FamilyId fam) -> StatusOr<Job> {
    const std::string id(job_id);
    // One iterator for both entities (two seeks): an iterator over a large family
    // costs about as much to make as a seek.
    auto it = log_.ScanRows(fam, "");
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobRecord> j, RecordAsOf<JobRecord>(*it, JobEntity(id), p.sequence));
    if (!j || j->deleted) {
      return ResourceNotFound("jobId: no job '" + id + "'" + AsOfText(p.historical, p.sequence));
    }
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobCounters> c,
                               RecordAsOf<JobCounters>(*it, CountersEntity(id), p.sequence));
    if (!c) return Malformed("counters of job '" + id + "'");
    Job out;
    out.job_arn = JobArn(context_, id);
    out.job_id = id;
    out.status = j->status;
    out.force_canceled = j->force_canceled;
    out.reason_code = j->reason_code;
    out.comment = j->comment;
    out.target_selection = j->target_selection;
    out.targets = j->targets;
    out.description = j->description;
    out.created_at_micros = j->created_at;
    out.last_updated_at_micros = j->last_updated_at;
    out.completed_at_micros = j->completed_at;
    JobProcessDetails& d = out.job_process_details;
    for (const auto& [target, n] : c->remaining) {
      if (n > 0) d.processing_targets.push_back(target);
    }
    auto count = [&](ExecutionStatus s) { return c->counts[static_cast<size_t>(s)]; };
    d.number_of_canceled_things = count(ExecutionStatus::kCanceled);
    d.number_of_succeeded_things = count(ExecutionStatus::kSucceeded);
    d.number_of_failed_things = count(ExecutionStatus::kFailed);
    d.number_of_rejected_things = count(ExecutionStatus::kRejected);
    d.number_of_queued_things = count(ExecutionStatus::kQueued);
    d.number_of_in_progress_things = count(ExecutionStatus::kInProgress);
    d.number_of_removed_things = count(ExecutionStatus::kRemoved);
    d.number_of_timed_out_things = count(ExecutionStatus::kTimedOut);
    out.presigned_url_config = j->presigned_url_config;
    out.job_executions_rollout_config = j->rollout_config;
    out.abort_config = j->abort_config;
    out.timeout_config = j->timeout_config;
    return out;
  });
}

StatusOr<std::string> ReadModels::GetJobDocument(std::string_view job_id, const ReadPoint& at) const {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(job_id));
  JOBLEDGER_ASSIGN_OR_RETURN(Point p, At(at));
  return WithFamily<std::string>(log_, projections_, [&](FamilyId fam) -> StatusOr<std::string> {
    const std::string id(job_id);
    auto it = log_.ScanRows(fam, "");  // one iterator, two seeks
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobRecord> j, RecordAsOf<JobRecord>(*it, JobEntity(id), p.sequence));
    if (!j || j->deleted) {
      return ResourceNotFound("jobId: no job '" + id + "'" + AsOfText(p.historical, p.sequence));
    }
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<Version> doc, ReadAsOf(*it, DocumentEntity(id), p.sequence));
    if (!doc) return Malformed("document of job '" + id + "'");
    return doc->value;
  });
}

StatusOr<ListJobsResult> ReadModels::ListJobs(const ListJobsRequest& request, const ReadPoint& at) const {
  JOBLEDGER_ASSIGN_OR_RETURN(size_t max, MaxResults(request.max_results));
  if (request.thing_group_name) JOBLEDGER_RETURN_IF_ERROR(ValidateThingGroupName(*request.thing_group_name));
  if (request.thing_group_id) {
    const std::string& id = *request.thing_group_id;
    const bool valid = !id.empty() && id.size() <= 128 &&
                       std::all_of(id.begin(), id.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
                       });
    if (!valid) {
      return InvalidRequest("thingGroupId: must be 1..128 characters matching [a-zA-Z0-9-]+, got '" +
                            PrintableKey(id.substr(0, 64)) + "'");
    }
  }
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> resume,
                             ResumeAt('J', "", request.next_token));
  JOBLEDGER_ASSIGN_OR_RETURN(Point p, At(at));
  return WithFamily<ListJobsResult>(log_, projections_, [&](FamilyId fam) -> StatusOr<ListJobsResult> {
    ListJobsResult out;
    auto jobs = log_.ScanRows(fam, std::string(1, kJobRow));

    // Considers one job; true when the page is full (one more than asked was found).
    auto consider = [&](const std::string& job_id) -> StatusOr<bool> {
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobRecord> j,
                                 RecordAsOf<JobRecord>(*jobs, JobEntity(job_id), p.sequence));
      if (!j || j->deleted) return false;
      if (request.status && j->status != *request.status) return false;
      if (request.target_selection && j->target_selection != *request.target_selection) return false;
      JobSummary summary = Summarize(context_, job_id, *j);
      if (request.thing_group_name || request.thing_group_id) {
        bool match = false;
        for (const std::string& t : j->targets) {
          std::optional<std::string> g = TargetGroupName(t);
          if (!g) continue;
          if (request.thing_group_name && *g != *request.thing_group_name) continue;
          if (request.thing_group_id && ThingGroupId(*g) != *request.thing_group_id) continue;
          match = true;
          summary.thing_group_id = ThingGroupId(*g);
        }
        if (!match) return false;
      }
      if (out.jobs.size() == max) {
        out.next_token = EncodeToken('J', "", out.jobs.back().job_id);
        return true;
      }
      out.jobs.push_back(std::move(summary));
      return false;
    };

    if (request.thing_group_name || request.thing_group_id) {
      // Candidates from the group index, in jobId order.
      std::vector<std::string> groups;
      if (request.thing_group_name) {
        groups.push_back(*request.thing_group_name);
      } else {
        auto ids = log_.ScanRows(fam, KeyBuilder(kGroupIdRow).Name(*request.thing_group_id).Take());
        for (ids->SeekToFirst(); ids->Valid(); ids->Next()) {
          KeyReader r(ids->key());
          r.Name();
          groups.emplace_back(r.Name());
        }
        JOBLEDGER_RETURN_IF_ERROR(ids->status());
      }
      std::vector<std::string> candidates;
      for (const std::string& g : groups) {
        auto idx = log_.ScanRows(fam, KeyBuilder(kGroupIndexRow).Name(g).Take());
        for (idx->SeekToFirst(); idx->Valid(); idx->Next()) {
          KeyReader r(idx->key());
          r.Name();
          candidates.emplace_back(r.Name());
        }
        JOBLEDGER_RETURN_IF_ERROR(idx->status());
      }
      std::sort(candidates.begin(), candidates.end());
      candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
      for (const std::string& job_id : candidates) {
        if (resume && job_id <= *resume) continue;
        JOBLEDGER_ASSIGN_OR_RETURN(bool full, consider(job_id));
        if (full) break;
      }
      return out;
    }

    // Every job, entity by entity, skipping older versions with one seek each.
    auto walk = log_.ScanRows(fam, std::string(1, kJobRow));
    if (resume) {
      walk->Seek(PastEntity(JobEntity(*resume)));
    } else {
      walk->SeekToFirst();
    }
    while (walk->Valid()) {
      std::string_view key = walk->key();
      if (key.size() < 9) return Malformed("a job key");
      std::string entity(key.substr(0, key.size() - 8));
      KeyReader r(entity);
      std::string job_id(r.Name());
      if (!r.ok()) return Malformed("a job key");
      JOBLEDGER_ASSIGN_OR_RETURN(bool full, consider(job_id));
      if (full) break;
      walk->Seek(PastEntity(entity));
    }
    JOBLEDGER_RETURN_IF_ERROR(walk->status());
    return out;
  });
}

StatusOr<JobExecution> ReadModels::DescribeJobExecution(std::string_view job_id,
                                                        std::string_view thing_name,
                                                        std::optional<int64_t> execution_number,
                                                        const ReadPoint& at) const {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(job_id));
  JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(thing_name));
  if (execution_number && *execution_number < 1) {
    return InvalidRequest("executionNumber: must be at least 1, got " + std::to_string(*execution_number));
  }
  JOBLEDGER_ASSIGN_OR_RETURN(Point p, At(at, /*with_now=*/true));
  return WithFamily<JobExecution>(log_, projections_, [&](FamilyId fam) -> StatusOr<JobExecution> {
    const std::string job(job_id), thing(thing_name);
    const std::string prefix = KeyBuilder(kExecRow).Name(job).Name(thing).Take();
    auto it = log_.ScanRows(fam, prefix);
    std::optional<ExecRecord> found;
    int64_t number = 0;
    if (execution_number) {
      JOBLEDGER_ASSIGN_OR_RETURN(found, RecordAsOf<ExecRecord>(*it, ExecEntity(job, thing, *execution_number), p.sequence));
      number = *execution_number;
      if (found && found->deleted) found.reset();
    } else {
      // The highest-numbered execution that exists at the point.
      auto walk = log_.ScanRows(fam, prefix);
      for (walk->SeekToFirst(); walk->Valid();) {
        std::string_view key = walk->key();
        if (key.size() != prefix.size() + 16) return Malformed("an execution key");
        std::string entity(key.substr(0, prefix.size() + 8));
        KeyReader r(entity);
        r.Name();
        r.Name();
        const auto n = static_cast<int64_t>(r.U64());
        JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecRecord> e, RecordAsOf<ExecRecord>(*it, entity, p.sequence));
        if (e && !e->deleted) {
          found = std::move(e);
          number = n;
        }
        walk->Seek(PastEntity(entity));
      }
      JOBLEDGER_RETURN_IF_ERROR(walk->status());
    }
    if (!found) {
      return ResourceNotFound(
          (execution_number ? "executionNumber: job '" + job + "' has no execution #" +
                                  std::to_string(*execution_number) + " on thing '" + thing + "'"
                            : "thingName: job '" + job + "' has no execution on thing '" + thing + "'") +
          AsOfText(p.historical, p.sequence));
    }
    JobExecution out;
    out.job_id = job;
    out.status = found->status;
    out.force_canceled = found->force_canceled;
    out.status_details = found->status_details;
    out.thing_arn = ThingArn(context_, thing);
    out.queued_at_micros = found->queued_at;
    out.started_at_micros = found->started_at;
    out.last_updated_at_micros = found->last_updated_at;
    out.execution_number = number;
    out.version_number = found->version;
    if (found->status == ExecutionStatus::kInProgress && found->deadline()) {
      int64_t left = 0;  // saturating: `now` may be any reading time
      if (__builtin_sub_overflow(*found->deadline(), p.now, &left)) {
        left = p.now < 0 ? std::numeric_limits<int64_t>::max() : 0;
      }
      out.approximate_seconds_before_timed_out = std::max<int64_t>(0, left / kMicrosPerSecond);
    }
    return out;
  });
}

StatusOr<ListJobExecutionsForJobResult> ReadModels::ListJobExecutionsForJob(
    const ListJobExecutionsForJobRequest& request, const ReadPoint& at) const {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(request.job_id));
  JOBLEDGER_ASSIGN_OR_RETURN(size_t max, MaxResults(request.max_results));
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> resume,
                             ResumeAt('E', request.job_id, request.next_token));
  JOBLEDGER_ASSIGN_OR_RETURN(Point p, At(at));
  return WithFamily<ListJobExecutionsForJobResult>(log_, projections_, [&](FamilyId fam) -> StatusOr<ListJobExecutionsForJobResult> {
    {
      auto jit = log_.ScanRows(fam, JobEntity(request.job_id));
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobRecord> j,
                                 RecordAsOf<JobRecord>(*jit, JobEntity(request.job_id), p.sequence));
      if (!j || j->deleted) {
        return ResourceNotFound("jobId: no job '" + request.job_id + "'" + AsOfText(p.historical, p.sequence));
      }
    }
    const std::string prefix = ExecJobPrefix(request.job_id);
    ListJobExecutionsForJobResult out;
    auto walk = log_.ScanRows(fam, prefix);
    auto read = log_.ScanRows(fam, prefix);
    if (resume) {
      walk->Seek(PastEntity(prefix + *resume));
    } else {
      walk->SeekToFirst();
    }
    std::string last_resume;
    while (walk->Valid()) {
      std::string_view key = walk->key();
      if (key.size() < prefix.size() + 16) return Malformed("an execution key");
      std::string entity(key.substr(0, key.size() - 8));
      KeyReader r(entity);
      r.Name();
      std::string thing(r.Name());
      const auto number = static_cast<int64_t>(r.U64());
      if (!r.ok()) return Malformed("an execution key");
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecRecord> e, RecordAsOf<ExecRecord>(*read, entity, p.sequence));
      if (e && !e->deleted && (!request.status || e->status == *request.status)) {
        if (out.execution_summaries.size() == max) {
          out.next_token = EncodeToken('E', request.job_id, last_resume);
          break;
        }
        out.execution_summaries.push_back(
            JobExecutionSummaryForJob{ThingArn(context_, thing), SummarizeExec(*e, number), thing});
        last_resume = entity.substr(prefix.size());
      }
      walk->Seek(PastEntity(entity));
    }
    JOBLEDGER_RETURN_IF_ERROR(walk->status());
    return out;
  });
}

StatusOr<ListJobExecutionsForThingResult> ReadModels::ListJobExecutionsForThing(
    const ListJobExecutionsForThingRequest& request, const ReadPoint& at) const {
  JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(request.thing_name));
  JOBLEDGER_ASSIGN_OR_RETURN(size_t max, MaxResults(request.max_results));
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> resume,
                             ResumeAt('T', request.thing_name, request.next_token));
  JOBLEDGER_ASSIGN_OR_RETURN(Point p, At(at));
  return WithFamily<ListJobExecutionsForThingResult>(log_, projections_, [&](FamilyId fam) -> StatusOr<ListJobExecutionsForThingResult> {
    const std::string prefix = KeyBuilder(kThingIndexRow).Name(request.thing_name).Take();
    ListJobExecutionsForThingResult out;
    auto idx = log_.ScanRows(fam, prefix);
    auto read = log_.ScanRows(fam, std::string(1, kExecRow));
    if (resume) {
      idx->Seek(prefix + *resume + std::string(1, '\0'));
    } else {
      idx->SeekToFirst();
    }
    std::string last;
    for (; idx->Valid(); idx->Next()) {
      KeyReader r(idx->key());
      r.Name();
      std::string job(r.Name());
      const auto number = static_cast<int64_t>(r.U64());
      if (!r.ok() || !r.AtEnd()) return Malformed("a thing index key");
      JOBLEDGER_ASSIGN_OR_RETURN(
          std::optional<ExecRecord> e,
          RecordAsOf<ExecRecord>(*read, ExecEntity(job, request.thing_name, number), p.sequence));
      if (!e || e->deleted || (request.status && e->status != *request.status)) continue;
      if (out.execution_summaries.size() == max) {
        out.next_token = EncodeToken('T', request.thing_name, last);
        break;
      }
      out.execution_summaries.push_back(JobExecutionSummaryForThing{job, SummarizeExec(*e, number)});
      last = std::string(idx->key().substr(prefix.size()));
    }
    JOBLEDGER_RETURN_IF_ERROR(idx->status());
    return out;
  });
}

StatusOr<GetPendingJobExecutionsResponse> ReadModels::GetPendingJobExecutions(
    std::string_view thing_name, const ReadPoint& at) const {
  JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(thing_name));
  JOBLEDGER_ASSIGN_OR_RETURN(Point p, At(at));
  return WithFamily<GetPendingJobExecutionsResponse>(log_, projections_, [&](FamilyId fam) -> StatusOr<GetPendingJobExecutionsResponse> {
    const std::string thing(thing_name);
    const std::string prefix = KeyBuilder(kThingIndexRow).Name(thing).Take();
    GetPendingJobExecutionsResponse out;
    auto idx = log_.ScanRows(fam, prefix);
    auto read = log_.ScanRows(fam, std::string(1, kExecRow));
    for (idx->SeekToFirst(); idx->Valid(); idx->Next()) {
      KeyReader r(idx->key());
      r.Name();
      std::string job(r.Name());
      const auto number = static_cast<int64_t>(r.U64());
      if (!r.ok() || !r.AtEnd()) return Malformed("a thing index key");
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecRecord> e,
                                 RecordAsOf<ExecRecord>(*read, ExecEntity(job, thing, number), p.sequence));
      if (!e || e->deleted) continue;
      PendingJobExecution summary{job, e->queued_at, e->started_at, e->last_updated_at, e->version, number};
      if (e->status == ExecutionStatus::kInProgress) out.in_progress_jobs.push_back(std::move(summary));
      if (e->status == ExecutionStatus::kQueued) out.queued_jobs.push_back(std::move(summary));
    }
    JOBLEDGER_RETURN_IF_ERROR(idx->status());
    auto by = [](auto key) {
      return [key](const PendingJobExecution& a, const PendingJobExecution& b) {
        return std::make_pair(key(a), a.job_id) < std::make_pair(key(b), b.job_id);
      };
    };
    std::sort(out.queued_jobs.begin(), out.queued_jobs.end(),
              by([](const PendingJobExecution& x) { return x.queued_at_micros; }));
    std::sort(out.in_progress_jobs.begin(), out.in_progress_jobs.end(),
              by([](const PendingJobExecution& x) { return x.started_at_micros.value_or(0); }));
    return out;
  });
}

}  // namespace jobledger
