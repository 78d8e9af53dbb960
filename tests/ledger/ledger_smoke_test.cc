#include <gtest/gtest.h>

#include "tests/ledger/ledger_test_util.h"

namespace jobledger::testing {
namespace {

class LedgerSmokeTest : public LedgerFixture {};

TEST_F(LedgerSmokeTest, DeviceFlowCompletesSnapshotJob) {
  MustJoin("fleet", "t1");
  MustJoin("fleet", "t2");
  MustCreate(NewJob("job1", {GroupArnOf("fleet"), ThingArnOf("t3")}));
  JobStateView j = Job("job1");
  EXPECT_EQ(j.count(ExecutionStatus::kQueued), 3);
  auto next = ledger_->StartNextPendingJobExecution(As("thing:t1"), {"t1", DetailsMap{{"p", "1"}}, std::nullopt});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(next->execution.has_value());
  EXPECT_EQ(next->execution->status, ExecutionStatus::kInProgress);
  EXPECT_EQ(next->execution->version_number, 2);
  MustUpdate("job1", "t1", ExecutionStatus::kSucceeded);
  MustUpdate("job1", "t2", ExecutionStatus::kFailed);
  EXPECT_EQ(Job("job1").status, JobStatus::kInProgress);
  MustUpdate("job1", "t3", ExecutionStatus::kRejected);
  j = Job("job1");
  EXPECT_EQ(j.status, JobStatus::kSucceeded);
  EXPECT_TRUE(j.completed_at_micros.has_value());
  EXPECT_EQ(j.count(ExecutionStatus::kSucceeded), 1);
  EXPECT_EQ(j.count(ExecutionStatus::kFailed), 1);
  EXPECT_EQ(j.count(ExecutionStatus::kRejected), 1);
  auto check = ledger_->CheckState();
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->ok()) << check->differences[0];
  auto v = ledger_->log().Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok());
}

}  // namespace
}  // namespace jobledger::testing
