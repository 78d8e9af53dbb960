// JobsProjection: the read models of the seed's six data types (Job, JobSummary,
// JobExecution, JobExecutionSummary, JobExecutionSummaryForJob,
// JobExecutionSummaryForThing), the job document and the device plane's pending list,
// folded from the log into one family. Every entity keeps a row per version, so the
// same rows answer "now" and "as of sequence N" (jobledger/read_models.h). The row
// grammar is in projections/internal/records.h.

#ifndef JOBLEDGER_JOBS_PROJECTION_H_
#define JOBLEDGER_JOBS_PROJECTION_H_

#include "jobledger/projection.h"

namespace jobledger {

class JobsProjection final : public Projection {
 public:
  static constexpr std::string_view kName = "jobs";
  static constexpr uint32_t kVersion = 1;

  std::string_view name() const override { return kName; }
  uint32_t version() const override { return kVersion; }
  Status Apply(const Event& event, ProjectionWriter& rows) override;
  // By job: every row belongs to one job, except a thing group's id row, which every
  // job over the group writes alike. ThingDeleted (no job) unplans the thing from the
  // jobs of the partition that folds it.
  bool partitioned() const override { return true; }
  std::optional<std::string_view> PartitionKey(const Event& event) const override;
};

}  // namespace jobledger

#endif  // JOBLEDGER_JOBS_PROJECTION_H_
