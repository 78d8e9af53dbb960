// ReadModels: the service's read operations answered from the "jobs" projection, now
// or as of any earlier sequence. Every answer comes from stored rows by key or prefix
// seek; none scans the log.
//
// Consistency: an answer reflects exactly the events up to one sequence (the head
// when the call starts, or ReadPoint::sequence), even while appends continue, because
// every row is a version keyed by the sequence that wrote it.
//
// Ordering (stable, documented): ListJobs by jobId; ListJobExecutionsForJob by
// thingName, then executionNumber; ListJobExecutionsForThing by jobId, then
// executionNumber; GetPendingJobExecutions' queued jobs by queuedAt, in-progress jobs
// by startedAt (ties by jobId). nextToken is opaque; a token that was not returned by
// the same operation is InvalidRequestException.

#ifndef JOBLEDGER_READ_MODELS_H_
#define JOBLEDGER_READ_MODELS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobledger/clock.h"
#include "jobledger/commands.h"
#include "jobledger/event_log.h"
#include "jobledger/projection_manager.h"
#include "jobledger/status.h"
#include "jobledger/types.h"
#include "jobledger/validation.h"

namespace jobledger {

// Which moment a query answers for.
struct ReadPoint {
  // As of this sequence (the state right after it was appended). Default: the head.
  uint64_t sequence = kMaxSequence;
  // "Now" for approximateSecondsBeforeTimedOut. Default: the clock's time for a
  // reading at the head, the recordedAt of `sequence` for a historical one.
  std::optional<int64_t> now_micros;

  static ReadPoint AtSequence(uint64_t s) {
    ReadPoint p;
    p.sequence = s;
    return p;
  }
};

class ReadModels {
 public:
  // Not owned: `log` and `projections` must outlive this. `clock`: Default nullptr,
  // the system clock.
  ReadModels(const EventLog& log, const ProjectionManager& projections,
             const ValidationContext& context, const Clock* clock = nullptr);

  StatusOr<Job> DescribeJob(std::string_view job_id, const ReadPoint& at = {}) const;
  StatusOr<std::string> GetJobDocument(std::string_view job_id, const ReadPoint& at = {}) const;
  StatusOr<ListJobsResult> ListJobs(const ListJobsRequest& request, const ReadPoint& at = {}) const;
  // The latest execution of (job, thing) unless `execution_number` is given.
  StatusOr<JobExecution> DescribeJobExecution(std::string_view job_id, std::string_view thing_name,
                                              std::optional<int64_t> execution_number = std::nullopt,
                                              const ReadPoint& at = {}) const;
  StatusOr<ListJobExecutionsForJobResult> ListJobExecutionsForJob(
      const ListJobExecutionsForJobRequest& request, const ReadPoint& at = {}) const;
  StatusOr<ListJobExecutionsForThingResult> ListJobExecutionsForThing(
      const ListJobExecutionsForThingRequest& request, const ReadPoint& at = {}) const;
  StatusOr<GetPendingJobExecutionsResponse> GetPendingJobExecutions(
      std::string_view thing_name, const ReadPoint& at = {}) const;

  // The sequence a ReadPoint resolves to now (clamped to the head).
  StatusOr<uint64_t> Resolve(const ReadPoint& at) const;

 private:
  struct Point {
    uint64_t sequence;
    int64_t now;  // only when asked for (`with_now`), else 0
    bool historical;
  };
  // The sequence a read stands at; with `with_now`, also the time it stands at (an
  // as-of read at a sequence reads that event's time: a point read the others skip).
  StatusOr<Point> At(const ReadPoint& at, bool with_now = false) const;

  const EventLog& log_;
  const ProjectionManager& projections_;
  ValidationContext context_;
  const Clock* clock_;
  SystemClock system_clock_;
};

}  // namespace jobledger

#endif  // JOBLEDGER_READ_MODELS_H_
