#include "jobledger/json.h"

#include <nlohmann/json.hpp>

#include "jobledger/clock.h"
#include "projections/json_mapping.h"

namespace jobledger {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& j, int indent) { return j.dump(indent < 0 ? -1 : indent); }

Json DetailsJson(const DetailsMap& details) {
  Json out = Json::object();
  for (const auto& [k, v] : details) out[k] = v;
  return out;
}

int64_t DeviceTime(int64_t micros) { return micros / kMicrosPerSecond; }

Json SummaryJson(const JobExecutionSummary& s) {
  Json j;
  j["status"] = ExecutionStatusName(s.status);
  j["queuedAt"] = ControlPlaneTime(s.queued_at_micros);
  if (s.started_at_micros) j["startedAt"] = ControlPlaneTime(*s.started_at_micros);
  j["lastUpdatedAt"] = ControlPlaneTime(s.last_updated_at_micros);
  j["executionNumber"] = s.execution_number;
  return j;
}

Json PendingJson(const PendingJobExecution& p) {
  Json j;
  j["jobId"] = p.job_id;
  j["queuedAt"] = DeviceTime(p.queued_at_micros);
  if (p.started_at_micros) j["startedAt"] = DeviceTime(*p.started_at_micros);
  j["lastUpdatedAt"] = DeviceTime(p.last_updated_at_micros);
  j["versionNumber"] = p.version_number;
  j["executionNumber"] = p.execution_number;
  return j;
}

// One page of a listing: its items under `name`, then the next page's token if any.
std::string RenderPage(const char* name, Json items, const std::optional<std::string>& next_token,
                       int indent) {
  Json out{{name, std::move(items)}};
  if (next_token) out["nextToken"] = *next_token;
  return Dump(out, indent);
}

// A page of execution summaries, each led by `id_name`: `id` of the summary.
template <typename Result, typename Id>
std::string RenderExecutionSummaries(const Result& result, const char* id_name, Id id, int indent) {
  Json list = Json::array();
  for (const auto& s : result.execution_summaries) {
    list.push_back(Json{{id_name, id(s)}, {"jobExecutionSummary", SummaryJson(s.job_execution_summary)}});
  }
  return RenderPage("executionSummaries", std::move(list), result.next_token, indent);
}

}  // namespace

double ControlPlaneTime(int64_t micros) { return static_cast<double>(micros) / 1e6; }

std::string RenderJobReference(const JobReference& ref, int indent) {
  Json j;
  j["jobArn"] = ref.job_arn;
  j["jobId"] = ref.job_id;
  if (ref.description) j["description"] = *ref.description;
  return Dump(j, indent);
}

Json ToJson(const Job& job) {
  Json j;
  j["jobArn"] = job.job_arn;
  j["jobId"] = job.job_id;
  j["targetSelection"] = TargetSelectionName(job.target_selection);
  j["status"] = JobStatusName(job.status);
  j["forceCanceled"] = job.force_canceled;
  if (job.reason_code) j["reasonCode"] = *job.reason_code;
  if (job.comment) j["comment"] = *job.comment;
  j["targets"] = job.targets;
  if (job.description) j["description"] = *job.description;
  if (job.presigned_url_config) j["presignedUrlConfig"] = ToJson(*job.presigned_url_config);
  if (job.job_executions_rollout_config) {
    j["jobExecutionsRolloutConfig"] = ToJson(*job.job_executions_rollout_config);
  }
  if (job.abort_config) j["abortConfig"] = ToJson(*job.abort_config);
  j["createdAt"] = ControlPlaneTime(job.created_at_micros);
  j["lastUpdatedAt"] = ControlPlaneTime(job.last_updated_at_micros);
  if (job.completed_at_micros) j["completedAt"] = ControlPlaneTime(*job.completed_at_micros);
  const JobProcessDetails& d = job.job_process_details;
  Json details;
  if (!d.processing_targets.empty()) details["processingTargets"] = d.processing_targets;
  details["numberOfCanceledThings"] = d.number_of_canceled_things;
  details["numberOfSucceededThings"] = d.number_of_succeeded_things;
  details["numberOfFailedThings"] = d.number_of_failed_things;
  details["numberOfRejectedThings"] = d.number_of_rejected_things;
  details["numberOfQueuedThings"] = d.number_of_queued_things;
  details["numberOfInProgressThings"] = d.number_of_in_progress_things;
  details["numberOfRemovedThings"] = d.number_of_removed_things;
  details["numberOfTimedOutThings"] = d.number_of_timed_out_things;
  j["jobProcessDetails"] = details;
  if (job.timeout_config) j["timeoutConfig"] = ToJson(*job.timeout_config);
  return j;
}

std::string RenderDescribeJob(const Job& job, int indent) { return Dump(Json{{"job", ToJson(job)}}, indent); }

std::string RenderGetJobDocument(const std::string& document, int indent) {
  return Dump(Json{{"document", document}}, indent);
}

std::string RenderListJobs(const ListJobsResult& result, int indent) {
  Json jobs = Json::array();
  for (const JobSummary& s : result.jobs) {
    Json j;
    j["jobArn"] = s.job_arn;
    j["jobId"] = s.job_id;
    if (s.thing_group_id) j["thingGroupId"] = *s.thing_group_id;
    j["targetSelection"] = TargetSelectionName(s.target_selection);
    j["status"] = JobStatusName(s.status);
    j["createdAt"] = ControlPlaneTime(s.created_at_micros);
    j["lastUpdatedAt"] = ControlPlaneTime(s.last_updated_at_micros);
    if (s.completed_at_micros) j["completedAt"] = ControlPlaneTime(*s.completed_at_micros);
    jobs.push_back(std::move(j));
  }
  return RenderPage("jobs", std::move(jobs), result.next_token, indent);
}

Json ToJson(const JobExecution& e) {
  Json j;
  j["jobId"] = e.job_id;
  j["status"] = ExecutionStatusName(e.status);
  j["forceCanceled"] = e.force_canceled;
  j["statusDetails"] = Json{{"detailsMap", DetailsJson(e.status_details)}};
  j["thingArn"] = e.thing_arn;
  j["queuedAt"] = ControlPlaneTime(e.queued_at_micros);
  if (e.started_at_micros) j["startedAt"] = ControlPlaneTime(*e.started_at_micros);
  j["lastUpdatedAt"] = ControlPlaneTime(e.last_updated_at_micros);
  j["executionNumber"] = e.execution_number;
  j["versionNumber"] = e.version_number;
  if (e.approximate_seconds_before_timed_out) {
    j["approximateSecondsBeforeTimedOut"] = *e.approximate_seconds_before_timed_out;
  }
  return j;
}

std::string RenderDescribeJobExecution(const JobExecution& e, int indent) {
  return Dump(Json{{"execution", ToJson(e)}}, indent);
}

std::string RenderListJobExecutionsForJob(const ListJobExecutionsForJobResult& result, int indent) {
  return RenderExecutionSummaries(
      result, "thingArn", [](const JobExecutionSummaryForJob& s) { return s.thing_arn; }, indent);
}

std::string RenderListJobExecutionsForThing(const ListJobExecutionsForThingResult& result,
                                            int indent) {
  return RenderExecutionSummaries(
      result, "jobId", [](const JobExecutionSummaryForThing& s) { return s.job_id; }, indent);
}

std::string RenderGetPendingJobExecutions(const GetPendingJobExecutionsResponse& r, int indent) {
  Json in_progress = Json::array();
  for (const auto& p : r.in_progress_jobs) in_progress.push_back(PendingJson(p));
  Json queued = Json::array();
  for (const auto& p : r.queued_jobs) queued.push_back(PendingJson(p));
  return Dump(Json{{"inProgressJobs", in_progress}, {"queuedJobs", queued}}, indent);
}

std::string RenderStartNextPendingJobExecution(const StartNextPendingJobExecutionResponse& r,
                                               int indent) {
  if (!r.execution) return Dump(Json::object(), indent);
  const DeviceJobExecution& e = *r.execution;
  Json j;
  j["jobId"] = e.job_id;
  j["thingName"] = e.thing_name;
  j["status"] = ExecutionStatusName(e.status);
  j["statusDetails"] = DetailsJson(e.status_details);
  j["queuedAt"] = DeviceTime(e.queued_at_micros);
  if (e.started_at_micros) j["startedAt"] = DeviceTime(*e.started_at_micros);
  j["lastUpdatedAt"] = DeviceTime(e.last_updated_at_micros);
  if (e.approximate_seconds_before_timed_out) {
    j["approximateSecondsBeforeTimedOut"] = *e.approximate_seconds_before_timed_out;
  }
  j["versionNumber"] = e.version_number;
  j["executionNumber"] = e.execution_number;
  if (e.job_document) j["jobDocument"] = *e.job_document;
  return Dump(Json{{"execution", j}}, indent);
}

std::string RenderUpdateJobExecution(const UpdateJobExecutionResponse& r, int indent) {
  Json out = Json::object();
  if (r.execution_state) {
    out["executionState"] = Json{{"status", ExecutionStatusName(r.execution_state->status)},
                                 {"statusDetails", DetailsJson(r.execution_state->status_details)},
                                 {"versionNumber", r.execution_state->version_number}};
  }
  if (r.job_document) out["jobDocument"] = *r.job_document;
  return Dump(out, indent);
}

}  // namespace jobledger
