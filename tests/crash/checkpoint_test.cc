// Checkpoints behind the log. projections_test already covers a checkpoint ahead of
// the log (ProjectionManagerTest.CheckpointAheadOfTheLogIsRebuiltAtOpen), a catch-up
// projection behind it (ProjectionManagerTest.CatchUpAppliesExactlyTheMissingEvents)
// and a stop at every rebuild point (ProjectionManagerCrashTest). This covers an
// inline projection left behind by appends made while it was not registered: the next
// open catches it up, in its own family, before it answers.

#include <gtest/gtest.h>

#include <string>

#include "jobledger/clock.h"
#include "jobledger/read_models.h"
#include "tests/crash/recovery_check.h"

namespace jobledger::crash {
namespace {

TEST(Checkpoint, InlineProjectionBehindTheLogIsCaughtUpAtOpen) {
  TempDir dir;
  ManualClock clock(1764237600000000);
  LedgerOptions options;
  options.clock = &clock;
  options.sync = false;
  auto ledger = Ledger::Open(options, dir.Sub("ledger"));
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EventLog& log = (*ledger)->log();
  auto create = [&](const std::string& job) {
    CreateJobRequest r;
    r.job_id = job;
    r.targets = {"arn:aws:iot:us-east-1:123456789012:thing/" + job + "-a",
                 "arn:aws:iot:us-east-1:123456789012:thing/" + job + "-b"};
    r.document = "{}";
    auto created = (*ledger)->CreateJob(RequestContext{"user:ops", ""}, r);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  };
  auto update = [&](const std::string& job, const std::string& thing, ExecutionStatus s) {
    UpdateJobExecutionRequest u;
    u.job_id = job;
    u.thing_name = thing;
    u.status = s;
    auto updated = (*ledger)->UpdateJobExecution(RequestContext{"thing:" + thing, ""}, u);
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  };
  std::string family;
  {
    auto projections = OpenJobsProjection(log);
    ASSERT_TRUE(projections.ok()) << projections.status().ToString();
    ASSERT_NO_FATAL_FAILURE(create("early"));
    ASSERT_NO_FATAL_FAILURE(update("early", "early-a", ExecutionStatus::kInProgress));
    family = (*projections)->Info()[0].family;
  }
  const uint64_t checkpoint = log.head().sequence;
  // Appended without the projection registered: it falls behind.
  ASSERT_NO_FATAL_FAILURE(update("early", "early-a", ExecutionStatus::kSucceeded));
  ASSERT_NO_FATAL_FAILURE(create("late"));
  ASSERT_NO_FATAL_FAILURE(update("early", "early-b", ExecutionStatus::kRejected));
  const uint64_t head = log.head().sequence;
  ASSERT_GT(head, checkpoint);
  const StoredProjection stored = ReadStoredProjection(log);
  EXPECT_EQ(stored.family, family);
  EXPECT_EQ(stored.checkpoint, std::optional<uint64_t>(checkpoint));

  auto projections = OpenJobsProjection(log);
  ASSERT_TRUE(projections.ok()) << projections.status().ToString();
  ASSERT_EQ((*projections)->Info().size(), 1u);
  EXPECT_EQ((*projections)->Info()[0].checkpoint, head);
  EXPECT_EQ((*projections)->Info()[0].family, family) << "caught up, not rebuilt";
  ReadModels reads(log, **projections, ValidationContext{}, &clock);
  auto late = reads.DescribeJob("late");
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(late->job_process_details.number_of_queued_things, 2);
  auto early = reads.DescribeJob("early");
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_EQ(early->status, JobStatus::kSucceeded);
  EXPECT_EQ(early->job_process_details.number_of_succeeded_things, 1);
  EXPECT_EQ(early->job_process_details.number_of_rejected_things, 1);
  StatusOr<DriftReport> drift = (*projections)->CheckDrift(JobsProjection::kName);
  ASSERT_TRUE(drift.ok()) << drift.status().ToString();
  EXPECT_TRUE(drift->ok()) << drift->differences.front();
  // And appends go on to it inline.
  ASSERT_NO_FATAL_FAILURE(create("later"));
  EXPECT_EQ((*projections)->Info()[0].checkpoint, log.head().sequence);
}

}  // namespace
}  // namespace jobledger::crash
