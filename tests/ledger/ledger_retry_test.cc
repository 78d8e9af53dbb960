// Retried requests (the same request id again) are answered with the first answer,
// kept with the request's record: not re-derived from the state as it stands now,
// the same after a reopen, and a record that kept none (an older build's, an import's)
// still answered from the log.

#include <gtest/gtest.h>

#include "ledger/internal/keys.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/support/raw_db.h"

namespace jobledger::testing {
namespace {

class LedgerRetryTest : public LedgerFixture {
 protected:
  // The request record of `request_id`, read and rewritten underneath the ledger
  // (closed meanwhile): `change` receives the stored value.
  void RewriteRecord(const std::string& request_id, const std::function<void(std::string*)>& change) {
    ledger_.reset();
    rocksdb::Status s;
    std::unique_ptr<RawDb> raw = RawDb::Open(dir_.path() + "/ledger", &s);
    ASSERT_TRUE(s.ok()) << s.ToString();
    const std::string family(internal::kRequestsFamily);
    std::string value;
    ASSERT_TRUE(raw->Get(family, internal::RequestKey(request_id), &value).ok());
    change(&value);
    ASSERT_TRUE(raw->Put(family, internal::RequestKey(request_id), value).ok());
    raw.reset();
    Reopen();
  }
};

TEST_F(LedgerRetryTest, ARetriedStartGetsTheFirstAnswerNotTheExecutionAsItStandsNow) {
  MustCreate(NewJob("job1", {ThingArnOf("t1")}));
  StartNextPendingJobExecutionRequest start{"t1", DetailsMap{{"step", "download"}}, std::nullopt};
  auto first = ledger_->StartNextPendingJobExecution(As("thing:t1", "req-start"), start);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->execution.has_value());
  EXPECT_EQ(first->execution->status, ExecutionStatus::kInProgress);
  EXPECT_EQ(first->execution->version_number, 2);
  clock_.Advance(kMinute);
  MustUpdate("job1", "t1", ExecutionStatus::kSucceeded);
  const uint64_t head = Head();

  auto retry = ledger_->StartNextPendingJobExecution(As("thing:t1", "req-start"), start);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  ASSERT_TRUE(retry->execution.has_value());
  EXPECT_EQ(*retry->execution, *first->execution) << "the retry got the execution as it stands now";
  EXPECT_EQ(Head(), head) << "a retry appended";

  // After a reopen (the record is stored with the events, in the same batch).
  Reopen();
  auto reopened = ledger_->StartNextPendingJobExecution(As("thing:t1", "req-start"), start);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  ASSERT_TRUE(reopened->execution.has_value());
  EXPECT_EQ(*reopened->execution, *first->execution);
}

TEST_F(LedgerRetryTest, ARetriedUpdateAndCreateGetTheirFirstAnswers) {
  CreateJobRequest create = NewJob("job1", {ThingArnOf("t1")});
  create.description = "first";
  auto created = ledger_->CreateJob(As("user:ops", "req-create"), create);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  UpdateJobExecutionRequest update = Update("job1", "t1", ExecutionStatus::kInProgress);
  update.status_details = DetailsMap{{"progress", "10%"}};
  update.include_job_execution_state = true;
  update.include_job_document = true;
  auto updated = ledger_->UpdateJobExecution(As("thing:t1", "req-update"), update);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  ASSERT_TRUE(updated->execution_state.has_value());

  // Later changes to the job and the execution.
  UpdateJobRequest describe;
  describe.job_id = "job1";
  describe.description = "second";
  ASSERT_TRUE(ledger_->UpdateJob(As("user:ops"), describe).ok());
  UpdateJobExecutionRequest later = Update("job1", "t1", ExecutionStatus::kInProgress);
  later.status_details = DetailsMap{{"progress", "90%"}};
  ASSERT_TRUE(ledger_->UpdateJobExecution(As("thing:t1"), later).ok());

  auto created_again = ledger_->CreateJob(As("user:ops", "req-create"), create);
  ASSERT_TRUE(created_again.ok()) << created_again.status().ToString();
  EXPECT_EQ(*created_again, *created);
  EXPECT_EQ(created_again->description, std::optional<std::string>("first"));
  auto updated_again = ledger_->UpdateJobExecution(As("thing:t1", "req-update"), update);
  ASSERT_TRUE(updated_again.ok()) << updated_again.status().ToString();
  EXPECT_EQ(updated_again->execution_state, updated->execution_state);
  EXPECT_EQ(updated_again->job_document, updated->job_document);
}

TEST_F(LedgerRetryTest, ARecordWithoutAnAnswerIsAnsweredFromTheLog) {
  auto created = ledger_->CreateJob(As("user:ops", "req-create"), NewJob("job1", {ThingArnOf("t1")}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  // As an older build (or an import) wrote it: first and last only.
  ASSERT_NO_FATAL_FAILURE(RewriteRecord("req-create", [](std::string* v) {
    ASSERT_GT(v->size(), internal::kRequestRecordBytes) << "no answer was kept";
    v->resize(internal::kRequestRecordBytes);
  }));
  auto retry = ledger_->CreateJob(As("user:ops", "req-create"), NewJob("job1", {ThingArnOf("t1")}));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(*retry, *created);
}

TEST_F(LedgerRetryTest, AStoredAnswerThatDoesNotDecodeIsDataLossNamingTheRequest) {
  MustCreate(NewJob("job1", {ThingArnOf("t1")}));
  auto started = ledger_->StartNextPendingJobExecution(As("thing:t1", "req-start"), {"t1", {}, {}});
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ASSERT_NO_FATAL_FAILURE(RewriteRecord("req-start", [](std::string* v) { v->resize(v->size() - 3); }));
  const uint64_t head = Head();
  auto retry = ledger_->StartNextPendingJobExecution(As("thing:t1", "req-start"), {"t1", {}, {}});
  ASSERT_FALSE(retry.ok());
  EXPECT_EQ(retry.status().code(), StatusCode::kDataLoss) << retry.status().ToString();
  EXPECT_NE(retry.status().message().find("requestId 'req-start'"), std::string::npos)
      << retry.status().ToString();
  EXPECT_EQ(Head(), head);
}

TEST_F(LedgerRetryTest, ARequestIdReusedByAnotherKindOfCommandIsRefused) {
  auto created = ledger_->CreateJob(As("user:ops", "req-1"), NewJob("job1", {ThingArnOf("t1")}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const uint64_t head = Head();
  auto start = ledger_->StartNextPendingJobExecution(As("thing:t1", "req-1"), {"t1", {}, {}});
  ASSERT_FALSE(start.ok());
  EXPECT_EQ(start.status().aws_error(), AwsError::kInvalidRequest) << start.status().ToString();
  EXPECT_NE(start.status().message().find("requestId: 'req-1' was first used by another kind of command"),
            std::string::npos)
      << start.status().ToString();
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(Exec("job1", "t1").status, ExecutionStatus::kQueued) << "the refused command ran";
}

}  // namespace
}  // namespace jobledger::testing
