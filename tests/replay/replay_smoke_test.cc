#include <gtest/gtest.h>

#include <sstream>

#include "replay/replay.h"
#include "tests/projections/projections_test_util.h"

namespace jobledger::testing {
namespace {

class ReplaySmokeTest : public ProjectionsFixture {};

TEST_F(ReplaySmokeTest, HistoryWhyExportImport) {
  for (int i = 0; i < 4; ++i) MustJoin("fleet", "t" + std::to_string(i));
  CreateJobRequest r = NewJob("risky", {GroupArnOf("fleet")});
  r.abort_config = AbortConfig{{AbortCriteria{FailureType::kFailed, 50, 2}}};
  MustCreate(r);
  UpdateJobExecutionRequest u = Update("risky", "t0", ExecutionStatus::kInProgress);
  u.status_details = DetailsMap{{"progress", "10%"}};
  ASSERT_TRUE(ledger_->UpdateJobExecution(As("thing:t0"), u).ok());
  u.status_details = DetailsMap{{"progress", "50%"}};
  ASSERT_TRUE(ledger_->UpdateJobExecution(As("thing:t0"), u).ok());
  MustUpdate("risky", "t1", ExecutionStatus::kFailed);
  MustUpdate("risky", "t2", ExecutionStatus::kSucceeded);  // trips the abort

  Auditor auditor(ledger_->log(), *reads_);
  HistoryRequest h;
  h.job_id = "risky";
  h.thing_name = "t0";
  auto history = auditor.History(h);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 3u);  // queued, IN_PROGRESS, progress
  bool saw_progress = false;
  for (const FieldChange& c : (*history)[2].changes) {
    if (c.field == "statusDetails.detailsMap.progress") {
      EXPECT_EQ(c.before, "\"10%\"");
      EXPECT_EQ(c.after, "\"50%\"");
      saw_progress = true;
    }
  }
  EXPECT_TRUE(saw_progress);

  // The cause chain of a canceled execution reaches the device's update.
  const uint64_t head = Head();
  auto why = auditor.Why(head);
  ASSERT_TRUE(why.ok()) << why.status().ToString();
  ASSERT_EQ(why->size(), 3u);
  EXPECT_EQ((*why)[0].kind, EventKind::kExecutionCanceled);
  EXPECT_EQ((*why)[1].kind, EventKind::kJobCanceled);
  EXPECT_EQ((*why)[1].actor, "system:abort");
  EXPECT_EQ((*why)[2].kind, EventKind::kExecutionStatusChanged);
  EXPECT_EQ((*why)[2].actor, "thing:t2");

  auto report = VerifyLedger(ledger_->log(), ledger_.get(), projections_.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->first_problem()->detail;

  std::stringstream out;
  ASSERT_EQ(Export(ledger_->log(), 1, kMaxSequence, out).value(), head);
  const Digest source = ledger_->log().digest();

  TempDir other;
  LedgerOptions options;
  auto copy = Ledger::Open(options, other.path() + "/copy");
  ASSERT_TRUE(copy.ok());
  std::stringstream in(out.str());
  auto imported = Import(**copy, in);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->digest, source);
  EXPECT_EQ((*copy)->GetJobState("risky").value()->status, JobStatus::kCanceled);
  auto state = (*copy)->CheckState();
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->ok());

  // An altered line is refused with its number.
  std::string text = out.str();
  size_t pos = text.find("10%");
  text.replace(pos, 3, "11%");
  TempDir third;
  auto empty = Ledger::Open(options, third.path() + "/x");
  std::stringstream tampered(text);
  auto refused = Import(**empty, tampered);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("line "), std::string::npos) << refused.status().message();
  EXPECT_EQ((*empty)->log().head().sequence, 0u);
}

}  // namespace
}  // namespace jobledger::testing
