// The read models: the data types of the AWS IoT Jobs seed (Job, JobSummary,
// JobExecution, JobExecutionSummary, JobExecutionSummaryForJob,
// JobExecutionSummaryForThing) as plain structs, plus the query requests and results.
// Timestamps are microseconds since the epoch here; jobledger/json.h renders them
// as the service does.

#ifndef JOBLEDGER_TYPES_H_
#define JOBLEDGER_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobledger/commands.h"
#include "jobledger/event.h"

namespace jobledger {

struct JobProcessDetails {
  std::vector<std::string> processing_targets;  // empty: absent (rollout finished)
  int64_t number_of_canceled_things = 0;
  int64_t number_of_succeeded_things = 0;
  int64_t number_of_failed_things = 0;
  int64_t number_of_rejected_things = 0;
  int64_t number_of_queued_things = 0;
  int64_t number_of_in_progress_things = 0;
  int64_t number_of_removed_things = 0;
  int64_t number_of_timed_out_things = 0;
  friend bool operator==(const JobProcessDetails&, const JobProcessDetails&) = default;
};

struct Job {
  std::string job_arn;
  std::string job_id;
  JobStatus status = JobStatus::kInProgress;
  bool force_canceled = false;
  std::optional<std::string> reason_code;
  std::optional<std::string> comment;
  TargetSelection target_selection = TargetSelection::kSnapshot;
  std::vector<std::string> targets;
  std::optional<std::string> description;
  int64_t created_at_micros = 0;
  int64_t last_updated_at_micros = 0;
  std::optional<int64_t> completed_at_micros;
  JobProcessDetails job_process_details;
  std::optional<PresignedUrlConfig> presigned_url_config;
  std::optional<RolloutConfig> job_executions_rollout_config;
  std::optional<AbortConfig> abort_config;
  std::optional<TimeoutConfig> timeout_config;
  friend bool operator==(const Job&, const Job&) = default;
};

struct JobSummary {
  std::string job_arn;
  std::string job_id;
  std::optional<std::string> thing_group_id;  // when the job targets one thing group
  TargetSelection target_selection = TargetSelection::kSnapshot;
  JobStatus status = JobStatus::kInProgress;
  int64_t created_at_micros = 0;
  int64_t last_updated_at_micros = 0;
  std::optional<int64_t> completed_at_micros;
  friend bool operator==(const JobSummary&, const JobSummary&) = default;
};

// The control plane's JobExecution.
struct JobExecution {
  std::string job_id;
  ExecutionStatus status = ExecutionStatus::kQueued;
  bool force_canceled = false;
  DetailsMap status_details;
  std::string thing_arn;
  int64_t queued_at_micros = 0;
  std::optional<int64_t> started_at_micros;
  int64_t last_updated_at_micros = 0;
  int64_t execution_number = 0;
  int64_t version_number = 0;
  // Computed against the reading's "now": present only while IN_PROGRESS with a timer.
  std::optional<int64_t> approximate_seconds_before_timed_out;
  friend bool operator==(const JobExecution&, const JobExecution&) = default;
};

struct JobExecutionSummary {
  ExecutionStatus status = ExecutionStatus::kQueued;
  int64_t queued_at_micros = 0;
  std::optional<int64_t> started_at_micros;
  int64_t last_updated_at_micros = 0;
  int64_t execution_number = 0;
  friend bool operator==(const JobExecutionSummary&, const JobExecutionSummary&) = default;
};

struct JobExecutionSummaryForJob {
  std::string thing_arn;
  JobExecutionSummary job_execution_summary;
  // The thing of thing_arn, so callers need not cut it out of the ARN (not a member
  // of the service's shape: the renderer leaves it out).
  std::string thing_name;
  friend bool operator==(const JobExecutionSummaryForJob&, const JobExecutionSummaryForJob&) = default;
};

struct JobExecutionSummaryForThing {
  std::string job_id;
  JobExecutionSummary job_execution_summary;
  friend bool operator==(const JobExecutionSummaryForThing&,
                         const JobExecutionSummaryForThing&) = default;
};

// ---- queries ----

inline constexpr int kDefaultMaxResults = 50;

struct ListJobsRequest {
  std::optional<JobStatus> status;
  std::optional<TargetSelection> target_selection;
  std::optional<std::string> thing_group_name;
  std::optional<std::string> thing_group_id;
  std::optional<int> max_results;  // 1..250, Default: 50
  std::optional<std::string> next_token;
};

struct ListJobsResult {
  std::vector<JobSummary> jobs;
  std::optional<std::string> next_token;
};

struct ListJobExecutionsForJobRequest {
  std::string job_id;
  std::optional<ExecutionStatus> status;
  std::optional<int> max_results;
  std::optional<std::string> next_token;
};

struct ListJobExecutionsForJobResult {
  std::vector<JobExecutionSummaryForJob> execution_summaries;
  std::optional<std::string> next_token;
};

struct ListJobExecutionsForThingRequest {
  std::string thing_name;
  std::optional<ExecutionStatus> status;
  std::optional<int> max_results;
  std::optional<std::string> next_token;
};

struct ListJobExecutionsForThingResult {
  std::vector<JobExecutionSummaryForThing> execution_summaries;
  std::optional<std::string> next_token;
};

}  // namespace jobledger

#endif  // JOBLEDGER_TYPES_H_
