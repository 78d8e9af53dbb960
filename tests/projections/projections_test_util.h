// A Ledger with the "jobs" projection and its read models, in a temporary folder.

#ifndef JOBLEDGER_TESTS_PROJECTIONS_PROJECTIONS_TEST_UTIL_H_
#define JOBLEDGER_TESTS_PROJECTIONS_PROJECTIONS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include "jobledger/jobs_projection.h"
#include "jobledger/projection_manager.h"
#include "jobledger/read_models.h"
#include "tests/ledger/ledger_test_util.h"

namespace jobledger::testing {

// The jobs fold under another name and version: a second projection to compare, or
// a "new version" of the same one.
class RenamedJobsProjection final : public Projection {
 public:
  RenamedJobsProjection(std::string name, uint32_t version) : name_(std::move(name)), version_(version) {}
  std::string_view name() const override { return name_; }
  uint32_t version() const override { return version_; }
  Status Apply(const Event& event, ProjectionWriter& rows) override { return inner_.Apply(event, rows); }
  bool partitioned() const override { return inner_.partitioned(); }
  std::optional<std::string_view> PartitionKey(const Event& event) const override {
    return inner_.PartitionKey(event);
  }

 private:
  std::string name_;
  uint32_t version_;
  JobsProjection inner_;
};

class ProjectionsFixture : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    OpenProjections();
  }
  void TearDown() override {
    reads_.reset();
    projections_.reset();
  }

  // `extra` projections are registered after "jobs".
  void OpenProjections(std::vector<ProjectionManager::Entry> extra = {},
                       uint32_t jobs_version = JobsProjection::kVersion) {
    reads_.reset();
    projections_.reset();
    std::vector<ProjectionManager::Entry> entries;
    ProjectionManager::Entry jobs;
    jobs.projection = std::make_unique<RenamedJobsProjection>("jobs", jobs_version);
    entries.push_back(std::move(jobs));
    for (auto& e : extra) entries.push_back(std::move(e));
    auto opened = ProjectionManager::Open(ledger_->log(), std::move(entries));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    projections_ = std::move(opened).value();
    reads_ = std::make_unique<ReadModels>(ledger_->log(), *projections_, ledger_->context(), &clock_);
  }

  void ReopenAll(std::vector<ProjectionManager::Entry> extra = {},
                 uint32_t jobs_version = JobsProjection::kVersion) {
    reads_.reset();
    projections_.reset();
    Reopen();
    OpenProjections(std::move(extra), jobs_version);
  }

  jobledger::Job Describe(const std::string& job, const ReadPoint& at = {}) {
    auto j = reads_->DescribeJob(job, at);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? *j : jobledger::Job{};
  }

  void ExpectNoDrift() {
    auto drift = projections_->CheckDrift("jobs");
    ASSERT_TRUE(drift.ok()) << drift.status().ToString();
    EXPECT_TRUE(drift->ok()) << drift->differences.front();
  }

  std::unique_ptr<ProjectionManager> projections_;
  std::unique_ptr<ReadModels> reads_;
};

}  // namespace jobledger::testing

#endif  // JOBLEDGER_TESTS_PROJECTIONS_PROJECTIONS_TEST_UTIL_H_
