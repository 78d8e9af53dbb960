// Rows of the "jobs" projection. Every entity keeps one row per version, keyed by
// (entity, ~sequence), so the newest version sorts first and "as of sequence N" is
// one seek: the first row of the entity at or after (entity, ~N).
//
// Names (ids, which never contain NUL) are NUL-terminated, so rows sort by name:
//
// Key                                          Value
// 'J' jobId\0 ~seq:be64                        JobRecord (a tombstone once deleted)
// 'N' jobId\0 ~seq:be64                        JobCounters
// 'D' jobId\0 ~seq:be64                        the job document
// 'X' jobId\0 thingName\0 num:be64 ~seq:be64   ExecRecord (a tombstone once deleted)
// 'T' thingName\0 jobId\0 num:be64             (empty) executions of a thing
// 'G' groupName\0 jobId\0                      (empty) jobs that ever targeted a group
// 'I' groupId\0 groupName\0                    (empty) thingGroupId -> name
// 'P' jobId\0 thingName\0                      target ARN: planned, not queued yet
// 'W' thingName\0 jobId\0                      (empty) the same, by thing
// 0x00 "checkpoint"                            the projection machinery's

#ifndef JOBLEDGER_PROJECTIONS_INTERNAL_RECORDS_H_
#define JOBLEDGER_PROJECTIONS_INTERNAL_RECORDS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobledger/event.h"
#include "jobledger/event_log.h"
#include "jobledger/status.h"
#include "ledger/wire.h"

namespace jobledger::projections_internal {

enum RowPrefix : char {
  kJobRow = 'J',
  kCountersRow = 'N',
  kDocumentRow = 'D',
  kExecRow = 'X',
  kThingIndexRow = 'T',
  kGroupIndexRow = 'G',
  kGroupIdRow = 'I',
  kPlannedRow = 'P',
  kPlannedByThingRow = 'W',
};

struct JobRecord {
  bool deleted = false;
  uint64_t incarnation = 0;
  JobStatus status = JobStatus::kInProgress;
  bool force_canceled = false;
  std::optional<std::string> reason_code;
  std::optional<std::string> comment;
  TargetSelection target_selection = TargetSelection::kSnapshot;
  std::vector<std::string> targets;
  std::optional<std::string> description;
  int64_t created_at = 0;
  int64_t last_updated_at = 0;
  std::optional<int64_t> completed_at;
  std::optional<PresignedUrlConfig> presigned_url_config;
  std::optional<RolloutConfig> rollout_config;
  std::optional<AbortConfig> abort_config;
  std::optional<TimeoutConfig> timeout_config;
};

struct JobCounters {
  ExecutionCounts counts{};  // by ExecutionStatus
  // Targets with planned things not queued yet, and how many: processingTargets.
  std::vector<std::pair<std::string, int64_t>> remaining;
};

struct ExecRecord {
  bool deleted = false;
  ExecutionStatus status = ExecutionStatus::kQueued;
  bool force_canceled = false;
  DetailsMap status_details;
  int64_t queued_at = 0;
  std::optional<int64_t> started_at;
  int64_t last_updated_at = 0;
  int64_t version = 0;
  std::optional<int64_t> in_progress_deadline;
  std::optional<int64_t> step_deadline;

  std::optional<int64_t> deadline() const {
    if (in_progress_deadline && step_deadline) return std::min(*in_progress_deadline, *step_deadline);
    return in_progress_deadline ? in_progress_deadline : step_deadline;
  }
};

std::string Encode(const JobRecord& r);
std::string Encode(const JobCounters& r);
std::string Encode(const ExecRecord& r);
bool Decode(std::string_view in, JobRecord* out);
bool Decode(std::string_view in, JobCounters* out);
bool Decode(std::string_view in, ExecRecord* out);

// Entity keys (without the version suffix).
std::string JobEntity(std::string_view job_id);
std::string CountersEntity(std::string_view job_id);
std::string DocumentEntity(std::string_view job_id);
std::string ExecEntity(std::string_view job_id, std::string_view thing, int64_t number);
std::string ExecJobPrefix(std::string_view job_id);  // every execution of a job

// The 8-byte suffix of the version row written at `sequence`.
std::string VersionSuffix(uint64_t sequence);
// A key past every version row of `entity`: Seek to it to skip the entity.
std::string PastEntity(std::string_view entity);

// The newest version of `entity` at or before `sequence`: (its sequence, its value).
// `it` scans any prefix of `entity` (a projection writer's scan or the log's).
struct Version {
  uint64_t sequence = 0;
  std::string value;
};
StatusOr<std::optional<Version>> ReadAsOf(RowIterator& it, std::string_view entity,
                                          uint64_t sequence);

// A stable, UUID-shaped id for a thing group name (the service's thingGroupId).
std::string ThingGroupId(std::string_view group_name);

Status Malformed(std::string_view what);

}  // namespace jobledger::projections_internal

#endif  // JOBLEDGER_PROJECTIONS_INTERNAL_RECORDS_H_
