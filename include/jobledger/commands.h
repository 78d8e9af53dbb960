// The requests and responses of the service operations the Ledger performs, as plain
// structs. Field names follow the AWS IoT Jobs API (botocore's `iot` and
// `iot-jobs-data` models) in snake_case; optional members are std::optional, so "not
// supplied" and "supplied empty" stay different. Validation rules are in
// jobledger/validation.h.

#ifndef JOBLEDGER_COMMANDS_H_
#define JOBLEDGER_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobledger/event.h"

namespace jobledger {

// Limits the service leaves open (Part A item 14) and the ones it fixes, as options.
struct LedgerLimits {
  // Most targets per job, counting AssociateTargetsWithJob. Default: 100.
  size_t max_targets = 100;
  // Largest job document in bytes. Default: 32768.
  size_t max_document_bytes = 32768;
  // Longest description / comment, in characters (code points). Default: 2028.
  size_t max_description_chars = 2028;
  size_t max_comment_chars = 2028;
  // Most statusDetails pairs. Default: 10.
  size_t max_status_details_pairs = 10;
  // Most executions a job's fan-out queues, or a cancel cancels, in one append. A
  // CreateJob or AssociateTargetsWithJob reaching more things queues them in chunks of
  // this many, and a CancelJob (or an abort) over more executions cancels them in
  // chunks, each an append of its own, so any other command waits for one chunk at
  // most (see doc/performance.md). Default: 500.
  size_t fan_out_chunk = 500;
};

// Who is acting, and an optional idempotency key. Every command takes one.
struct RequestContext {
  std::string actor;       // the principal recorded on the events; 1..256 bytes
  std::string request_id;  // optional; a retry with the same id is answered from the log
};

// ---- control plane (`iot`) ----

struct CreateJobRequest {
  std::string job_id;
  std::vector<std::string> targets;  // thing and thing-group ARNs
  std::optional<std::string> document;
  std::optional<std::string> description;
  std::optional<TargetSelection> target_selection;  // Default: SNAPSHOT
  std::optional<PresignedUrlConfig> presigned_url_config;
  std::optional<RolloutConfig> job_executions_rollout_config;
  std::optional<AbortConfig> abort_config;
  std::optional<TimeoutConfig> timeout_config;
};

// CreateJob, CancelJob and AssociateTargetsWithJob answer with this.
struct JobReference {
  std::string job_arn;
  std::string job_id;
  std::optional<std::string> description;
  friend bool operator==(const JobReference&, const JobReference&) = default;
};

struct UpdateJobRequest {
  std::string job_id;
  std::optional<std::string> description;
  std::optional<PresignedUrlConfig> presigned_url_config;
  std::optional<RolloutConfig> job_executions_rollout_config;
  std::optional<AbortConfig> abort_config;
  std::optional<TimeoutConfig> timeout_config;
};

struct CancelJobRequest {
  std::string job_id;
  std::optional<std::string> reason_code;
  std::optional<std::string> comment;
  bool force = false;
};

struct DeleteJobRequest {
  std::string job_id;
  bool force = false;
};

struct AssociateTargetsWithJobRequest {
  std::string job_id;
  std::vector<std::string> targets;
  std::optional<std::string> comment;
};

struct CancelJobExecutionRequest {
  std::string job_id;
  std::string thing_name;
  bool force = false;
  std::optional<int64_t> expected_version;
  std::optional<DetailsMap> status_details;
};

struct DeleteJobExecutionRequest {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  bool force = false;
};

// ---- device plane (`iot-jobs-data`) ----

struct UpdateJobExecutionRequest {
  std::string job_id;
  std::string thing_name;
  ExecutionStatus status = ExecutionStatus::kNone;  // IN_PROGRESS, SUCCEEDED, FAILED, REJECTED
  std::optional<DetailsMap> status_details;
  std::optional<int64_t> expected_version;
  std::optional<int64_t> step_timeout_in_minutes;  // 1..10080, or -1 to cancel the step timer
  std::optional<int64_t> execution_number;         // Default: the latest execution
  bool include_job_execution_state = false;
  bool include_job_document = false;
};

struct JobExecutionState {
  ExecutionStatus status = ExecutionStatus::kNone;
  DetailsMap status_details;
  int64_t version_number = 0;
  friend bool operator==(const JobExecutionState&, const JobExecutionState&) = default;
};

struct UpdateJobExecutionResponse {
  std::optional<JobExecutionState> execution_state;
  std::optional<std::string> job_document;
};

struct StartNextPendingJobExecutionRequest {
  std::string thing_name;
  std::optional<DetailsMap> status_details;
  std::optional<int64_t> step_timeout_in_minutes;  // 1..10080
};

// The device plane's JobExecution (timestamps in microseconds here; the JSON writer
// renders whole seconds).
struct DeviceJobExecution {
  std::string job_id;
  std::string thing_name;
  ExecutionStatus status = ExecutionStatus::kNone;
  DetailsMap status_details;
  int64_t queued_at_micros = 0;
  std::optional<int64_t> started_at_micros;
  int64_t last_updated_at_micros = 0;
  std::optional<int64_t> approximate_seconds_before_timed_out;
  int64_t version_number = 0;
  int64_t execution_number = 0;
  std::optional<std::string> job_document;
  friend bool operator==(const DeviceJobExecution&, const DeviceJobExecution&) = default;
};

struct StartNextPendingJobExecutionResponse {
  std::optional<DeviceJobExecution> execution;  // absent when nothing is pending
};

// The device plane's JobExecutionSummary.
struct PendingJobExecution {
  std::string job_id;
  int64_t queued_at_micros = 0;
  std::optional<int64_t> started_at_micros;
  int64_t last_updated_at_micros = 0;
  int64_t version_number = 0;
  int64_t execution_number = 0;
  friend bool operator==(const PendingJobExecution&, const PendingJobExecution&) = default;
};

struct GetPendingJobExecutionsResponse {
  std::vector<PendingJobExecution> in_progress_jobs;  // by startedAt, then jobId
  std::vector<PendingJobExecution> queued_jobs;       // by queuedAt, then jobId
};

// ---- thing registry, as far as jobs need it ----

struct ThingGroupMembershipRequest {
  std::string thing_group_name;
  std::string thing_name;
};

struct DeleteThingRequest {
  std::string thing_name;
};

// Every command of the ledger, once: X(Name, snake_name, Request, Answer).
//   Name        the AWS operation, and the stem of Ledger::Name (blocking) and
//               Ledger::SubmitName (jobledger/ledger.h)
//   snake_name  AsyncLedger::async_snake_name (jobledger/async.h)
//   Request     what it takes (validated by jobledger/validation.h's Validate)
//   Answer      what it answers: Status (nothing more) or StatusOr<T>; a StatusOr
//               answer is kept with the request id's record, for retries
// Its decide step is internal::Decider::Name. A new command is a line here, its request
// type, its Validate and its Decider method; the entry points follow from the line.
#define JOBLEDGER_LEDGER_COMMANDS(X)                                                              \
  X(CreateJob, create_job, CreateJobRequest, StatusOr<JobReference>)                              \
  X(UpdateJob, update_job, UpdateJobRequest, Status)                                              \
  X(CancelJob, cancel_job, CancelJobRequest, StatusOr<JobReference>)                              \
  X(DeleteJob, delete_job, DeleteJobRequest, Status)                                              \
  X(AssociateTargetsWithJob, associate_targets_with_job, AssociateTargetsWithJobRequest,          \
    StatusOr<JobReference>)                                                                       \
  X(CancelJobExecution, cancel_job_execution, CancelJobExecutionRequest, Status)                  \
  X(DeleteJobExecution, delete_job_execution, DeleteJobExecutionRequest, Status)                  \
  X(UpdateJobExecution, update_job_execution, UpdateJobExecutionRequest,                          \
    StatusOr<UpdateJobExecutionResponse>)                                                         \
  X(StartNextPendingJobExecution, start_next_pending_job_execution,                               \
    StartNextPendingJobExecutionRequest, StatusOr<StartNextPendingJobExecutionResponse>)          \
  X(AddThingToThingGroup, add_thing_to_thing_group, ThingGroupMembershipRequest, Status)          \
  X(RemoveThingFromThingGroup, remove_thing_from_thing_group, ThingGroupMembershipRequest, Status) \
  X(DeleteThing, delete_thing, DeleteThingRequest, Status)

// What AdvanceTo appended.
struct AdvanceResult {
  uint64_t appended = 0;       // events appended
  uint64_t head_sequence = 0;  // the head afterwards
  // The next time something falls due, if anything is scheduled.
  std::optional<int64_t> next_due_micros;
};

}  // namespace jobledger

#endif  // JOBLEDGER_COMMANDS_H_
