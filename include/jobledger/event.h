// The event model: plain C++ values mirroring ledger/schema/events.capnp.
//
// Callers build and read events through these types; the Cap'n Proto encoding is the
// storage and hashing form and never appears in a public header. Each body type maps
// to one member of the schema's `body` union; UnknownEvent stands for a member this
// build does not know (written by a newer version), which readers report rather than
// crash on.

#ifndef JOBLEDGER_EVENT_H_
#define JOBLEDGER_EVENT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace jobledger {

// SHA-256 chain hash.
using Hash = std::array<uint8_t, 32>;
std::string HashToHex(const Hash& hash);
// Parses 64 hex digits; nullopt on anything else.
std::optional<Hash> HashFromHex(std::string_view hex);

enum class ExecutionStatus : uint8_t {
  kNone = 0,  // no execution yet
  kQueued,
  kInProgress,
  kSucceeded,
  kFailed,
  kTimedOut,
  kRejected,
  kRemoved,
  kCanceled,
};
// How many ExecutionStatus values there are (kNone included).
inline constexpr size_t kExecutionStatusCount = static_cast<size_t>(ExecutionStatus::kCanceled) + 1;
// Executions of a job by status, indexed by ExecutionStatus.
using ExecutionCounts = std::array<int64_t, kExecutionStatusCount>;
// "QUEUED", "IN_PROGRESS", ...; "NONE" for kNone.
std::string_view ExecutionStatusName(ExecutionStatus status);
std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name);
bool IsTerminal(ExecutionStatus status);

// The job status vocabulary of the seed (Part A item 1).
enum class JobStatus : uint8_t { kInProgress = 0, kCanceled, kSucceeded };
std::string_view JobStatusName(JobStatus status);
// Accepts COMPLETED as an alias of SUCCEEDED.
std::optional<JobStatus> ParseJobStatus(std::string_view name);

enum class TargetSelection : uint8_t { kSnapshot = 0, kContinuous };
std::string_view TargetSelectionName(TargetSelection selection);
std::optional<TargetSelection> ParseTargetSelection(std::string_view name);

enum class FailureType : uint8_t { kFailed = 0, kRejected, kTimedOut, kAll };
std::string_view FailureTypeName(FailureType type);
std::optional<FailureType> ParseFailureType(std::string_view name);

// statusDetails.detailsMap, sorted by key with unique keys.
using DetailsMap = std::vector<std::pair<std::string, std::string>>;

struct PresignedUrlConfig {
  std::string role_arn;
  std::optional<int64_t> expires_in_sec;
  friend bool operator==(const PresignedUrlConfig&, const PresignedUrlConfig&) = default;
};

struct RateIncreaseCriteria {
  std::optional<int32_t> number_of_notified_things;
  std::optional<int32_t> number_of_succeeded_things;
  friend bool operator==(const RateIncreaseCriteria&, const RateIncreaseCriteria&) = default;
};

struct ExponentialRate {
  int32_t base_rate_per_minute = 0;
  double increment_factor = 0;
  RateIncreaseCriteria rate_increase_criteria;
  friend bool operator==(const ExponentialRate&, const ExponentialRate&) = default;
};

struct RolloutConfig {
  std::optional<int32_t> maximum_per_minute;
  std::optional<ExponentialRate> exponential_rate;
  friend bool operator==(const RolloutConfig&, const RolloutConfig&) = default;
};

struct AbortCriteria {
  FailureType failure_type = FailureType::kFailed;
  // The only action the service defines is CANCEL.
  double threshold_percentage = 0;
  int32_t min_number_of_executed_things = 0;
  friend bool operator==(const AbortCriteria&, const AbortCriteria&) = default;
};

struct AbortConfig {
  std::vector<AbortCriteria> criteria_list;
  friend bool operator==(const AbortConfig&, const AbortConfig&) = default;
};

struct TimeoutConfig {
  std::optional<int64_t> in_progress_timeout_in_minutes;
  friend bool operator==(const TimeoutConfig&, const TimeoutConfig&) = default;
};

// ---- Event bodies: one per member of the schema's `body` union. ----

struct JobCreated {
  std::string job_id;
  std::vector<std::string> targets;
  std::string document;
  std::optional<std::string> description;
  TargetSelection target_selection = TargetSelection::kSnapshot;
  std::optional<PresignedUrlConfig> presigned_url_config;
  std::optional<RolloutConfig> job_executions_rollout_config;
  std::optional<AbortConfig> abort_config;
  std::optional<TimeoutConfig> timeout_config;
  friend bool operator==(const JobCreated&, const JobCreated&) = default;
};

// Members that are set were changed.
struct JobUpdated {
  std::string job_id;
  std::optional<std::string> description;
  std::optional<PresignedUrlConfig> presigned_url_config;
  std::optional<RolloutConfig> job_executions_rollout_config;
  std::optional<AbortConfig> abort_config;
  std::optional<TimeoutConfig> timeout_config;
  friend bool operator==(const JobUpdated&, const JobUpdated&) = default;
};

struct TargetsAssociated {
  std::string job_id;
  std::vector<std::string> targets;
  std::optional<std::string> comment;
  friend bool operator==(const TargetsAssociated&, const TargetsAssociated&) = default;
};

struct JobCanceled {
  std::string job_id;
  std::optional<std::string> reason_code;
  std::optional<std::string> comment;
  bool force = false;
  friend bool operator==(const JobCanceled&, const JobCanceled&) = default;
};

struct JobCompleted {
  std::string job_id;
  friend bool operator==(const JobCompleted&, const JobCompleted&) = default;
};

struct JobDeleted {
  std::string job_id;
  bool force = false;
  friend bool operator==(const JobDeleted&, const JobDeleted&) = default;
};

struct ExecutionQueued {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  std::string target;  // the target ARN that brought the thing in
  friend bool operator==(const ExecutionQueued&, const ExecutionQueued&) = default;
};

struct ExecutionStatusChanged {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  ExecutionStatus from = ExecutionStatus::kNone;
  ExecutionStatus to = ExecutionStatus::kNone;
  std::optional<DetailsMap> status_details;  // nullopt: not supplied, unchanged
  int64_t version_number = 0;                // after this change
  std::optional<int64_t> step_timeout_in_minutes;  // -1 cancels the step timer
  friend bool operator==(const ExecutionStatusChanged&, const ExecutionStatusChanged&) = default;
};

struct ExecutionCanceled {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  ExecutionStatus from = ExecutionStatus::kNone;
  bool force = false;
  std::optional<DetailsMap> status_details;
  int64_t version_number = 0;
  friend bool operator==(const ExecutionCanceled&, const ExecutionCanceled&) = default;
};

struct ExecutionTimedOut {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  int64_t deadline_micros = 0;
  int64_t version_number = 0;
  friend bool operator==(const ExecutionTimedOut&, const ExecutionTimedOut&) = default;
};

struct ExecutionRemoved {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  ExecutionStatus from = ExecutionStatus::kNone;
  int64_t version_number = 0;
  friend bool operator==(const ExecutionRemoved&, const ExecutionRemoved&) = default;
};

struct ExecutionDeleted {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  bool force = false;
  friend bool operator==(const ExecutionDeleted&, const ExecutionDeleted&) = default;
};

struct ThingAddedToGroup {
  std::string thing_name;
  std::string thing_group_name;
  friend bool operator==(const ThingAddedToGroup&, const ThingAddedToGroup&) = default;
};

struct ThingRemovedFromGroup {
  std::string thing_name;
  std::string thing_group_name;
  friend bool operator==(const ThingRemovedFromGroup&, const ThingRemovedFromGroup&) = default;
};

struct ThingDeleted {
  std::string thing_name;
  friend bool operator==(const ThingDeleted&, const ThingDeleted&) = default;
};

struct PlannedExecution {
  std::string thing_name;
  std::string target;
  friend bool operator==(const PlannedExecution&, const PlannedExecution&) = default;
};

// Things a job's rollout will queue over time, in order.
struct RolloutPlanned {
  std::string job_id;
  std::vector<PlannedExecution> entries;
  friend bool operator==(const RolloutPlanned&, const RolloutPlanned&) = default;
};

// A rollout window opened; the ExecutionQueued events it causes follow it.
struct RolloutStep {
  std::string job_id;
  uint64_t window = 0;
  int32_t rate_per_minute = 0;
  int32_t quota = 0;
  // Planned things dropped from the plan without being queued (a CONTINUOUS job's
  // thing that left every target before its window).
  std::vector<std::string> skipped;
  friend bool operator==(const RolloutStep&, const RolloutStep&) = default;
};

// A chunk of a job's fan-out ended (see events.capnp): where the next one resumes, or
// that every target was reached.
struct FanOutStep {
  std::string job_id;
  std::string target;  // the target ARN to resume in ("" when done)
  std::string after;   // the last thing of it reached ("" = from its start)
  bool done = false;
  bool plan = false;   // it makes a rollout's plan (RolloutPlanned chunks), not executions
  friend bool operator==(const FanOutStep&, const FanOutStep&) = default;
};

// A union member this build does not know. Never appended; only read.
struct UnknownEvent {
  uint16_t discriminant = 0;
  friend bool operator==(const UnknownEvent&, const UnknownEvent&) = default;
};

// The order of the alternatives is the order of EventKind below, not the schema's
// ordinals (the codec maps between them explicitly).
using EventBody =
    std::variant<JobCreated, JobUpdated, TargetsAssociated, JobCanceled, JobCompleted,
                 JobDeleted, ExecutionQueued, ExecutionStatusChanged, ExecutionCanceled,
                 ExecutionTimedOut, ExecutionRemoved, ExecutionDeleted, ThingAddedToGroup,
                 ThingRemovedFromGroup, ThingDeleted, RolloutPlanned, RolloutStep,
                 FanOutStep, UnknownEvent>;

enum class EventKind : uint8_t {
  kJobCreated = 0,
  kJobUpdated,
  kTargetsAssociated,
  kJobCanceled,
  kJobCompleted,
  kJobDeleted,
  kExecutionQueued,
  kExecutionStatusChanged,
  kExecutionCanceled,
  kExecutionTimedOut,
  kExecutionRemoved,
  kExecutionDeleted,
  kThingAddedToGroup,
  kThingRemovedFromGroup,
  kThingDeleted,
  kRolloutPlanned,
  kRolloutStep,
  kFanOutStep,
  kUnknown,
};
inline constexpr int kEventKindCount = static_cast<int>(EventKind::kUnknown) + 1;

inline EventKind KindOf(const EventBody& body) {
  return static_cast<EventKind>(body.index());
}
// "JobCreated", "ExecutionStatusChanged", ...
std::string_view EventKindName(EventKind kind);

// The job a body belongs to ("" for thing-registry events) and the thing it concerns
// ("" for job-level events). These decide which streams index the event.
std::string_view JobIdOf(const EventBody& body);
std::string_view ThingNameOf(const EventBody& body);

// A stored event: the envelope the log assigned plus the body.
struct Event {
  uint64_t sequence = 0;
  int64_t recorded_at_micros = 0;
  // The clock's reading when it was behind the previous event's recordedAt (the
  // event was stamped with the previous value instead); 0 if the clock was sane.
  int64_t clamped_from_micros = 0;
  std::string actor;
  uint64_t cause = 0;  // the triggering event's sequence, 0 for a direct command
  std::string request_id;
  Hash previous_hash{};
  EventBody body;
  friend bool operator==(const Event&, const Event&) = default;
};

}  // namespace jobledger

#endif  // JOBLEDGER_EVENT_H_
