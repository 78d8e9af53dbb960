#include <gtest/gtest.h>

#include "jobledger/json.h"
#include "tests/projections/projections_test_util.h"

namespace jobledger::testing {
namespace {

class ReadModelsTest : public ProjectionsFixture {};

TEST_F(ReadModelsTest, DescribeJobShowsEveryFieldAndCounters) {
  for (int i = 0; i < 4; ++i) MustJoin("fleet", "t" + std::to_string(i));
  CreateJobRequest r = NewJob("job1", {GroupArnOf("fleet")});
  r.description = "firmware 2.1";
  r.presigned_url_config = PresignedUrlConfig{"arn:aws:iam::123456789012:role/s3-reader", 600};
  r.timeout_config = TimeoutConfig{30};
  r.abort_config = AbortConfig{{AbortCriteria{FailureType::kAll, 90, 100}}};
  MustCreate(r);
  clock_.Advance(kMinute);
  MustUpdate("job1", "t0", ExecutionStatus::kInProgress);
  MustUpdate("job1", "t1", ExecutionStatus::kSucceeded);
  MustUpdate("job1", "t2", ExecutionStatus::kFailed);
  jobledger::Job j = Describe("job1");
  EXPECT_EQ(j.job_arn, "arn:aws:iot:us-east-1:123456789012:job/job1");
  EXPECT_EQ(j.status, JobStatus::kInProgress);
  EXPECT_EQ(j.description, "firmware 2.1");
  EXPECT_EQ(j.targets, std::vector<std::string>{GroupArnOf("fleet")});
  EXPECT_EQ(j.presigned_url_config, r.presigned_url_config);
  EXPECT_EQ(j.timeout_config, r.timeout_config);
  EXPECT_EQ(j.abort_config, r.abort_config);
  EXPECT_EQ(j.created_at_micros, kT0);
  const JobProcessDetails& d = j.job_process_details;
  EXPECT_EQ(d.number_of_queued_things, 1);
  EXPECT_EQ(d.number_of_in_progress_things, 1);
  EXPECT_EQ(d.number_of_succeeded_things, 1);
  EXPECT_EQ(d.number_of_failed_things, 1);
  EXPECT_TRUE(d.processing_targets.empty());
  // The projection's counters equal the ledger's own.
  JobStateView state = Job("job1");
  EXPECT_EQ(d.number_of_queued_things, state.count(ExecutionStatus::kQueued));
  EXPECT_EQ(d.number_of_failed_things, state.count(ExecutionStatus::kFailed));
  EXPECT_EQ(reads_->GetJobDocument("job1").value(), R"({"operation":"install"})");
  ExpectRejected(reads_->DescribeJob("nope").status(), AwsError::kResourceNotFound, "nope");
  ExpectRejected(reads_->DescribeJob("a/b").status(), AwsError::kInvalidRequest, "jobId");
}

TEST_F(ReadModelsTest, ProcessingTargetsListTargetsStillRollingOut) {
  for (int i = 0; i < 3; ++i) MustJoin("fleet", "t" + std::to_string(i));
  CreateJobRequest r = NewJob("slow", {GroupArnOf("fleet"), ThingArnOf("solo")});
  RolloutConfig rollout;
  rollout.maximum_per_minute = 1;
  r.job_executions_rollout_config = rollout;
  MustCreate(r);  // window 0 queues t0
  EXPECT_EQ(Describe("slow").job_process_details.processing_targets,
            (std::vector<std::string>{GroupArnOf("fleet"), ThingArnOf("solo")}));
  clock_.Set(kT0 + 2 * kMinute);
  ASSERT_TRUE(ledger_->AdvanceTo(kT0 + 2 * kMinute).ok());  // windows 1 and 2: t1, t2
  EXPECT_EQ(Describe("slow").job_process_details.processing_targets,
            std::vector<std::string>{ThingArnOf("solo")});
  clock_.Set(kT0 + 3 * kMinute);
  ASSERT_TRUE(ledger_->AdvanceTo(kT0 + 3 * kMinute).ok());  // window 3: solo
  EXPECT_TRUE(Describe("slow").job_process_details.processing_targets.empty());
  EXPECT_EQ(Describe("slow").job_process_details.number_of_queued_things, 4);
  ExpectNoDrift();
}

TEST_F(ReadModelsTest, ListJobsFiltersAndPaginates) {
  MustJoin("g1", "a");
  MustJoin("g2", "b");
  for (int i = 0; i < 7; ++i) MustCreate(NewJob("job" + std::to_string(i), {GroupArnOf(i % 2 ? "g1" : "g2")}));
  CreateJobRequest c = NewJob("cont", {GroupArnOf("g1")});
  c.target_selection = TargetSelection::kContinuous;
  MustCreate(c);
  MustUpdate("job0", "b", ExecutionStatus::kSucceeded);  // job0 completes

  ListJobsRequest all;
  auto listed = reads_->ListJobs(all);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->jobs.size(), 8u);
  EXPECT_EQ(listed->jobs.front().job_id, "cont");  // ordered by jobId
  EXPECT_FALSE(listed->next_token.has_value());

  ListJobsRequest done;
  done.status = JobStatus::kSucceeded;
  EXPECT_EQ(reads_->ListJobs(done)->jobs.size(), 1u);
  done.status = ParseJobStatus("COMPLETED");  // the service's name, accepted as an alias
  EXPECT_EQ(reads_->ListJobs(done)->jobs.size(), 1u);

  ListJobsRequest cont;
  cont.target_selection = TargetSelection::kContinuous;
  EXPECT_EQ(reads_->ListJobs(cont)->jobs.size(), 1u);

  ListJobsRequest group;
  group.thing_group_name = "g1";
  auto g1 = reads_->ListJobs(group);
  ASSERT_TRUE(g1.ok());
  ASSERT_EQ(g1->jobs.size(), 4u);  // job1, job3, job5, cont
  ASSERT_TRUE(g1->jobs[0].thing_group_id.has_value());
  ListJobsRequest by_id;
  by_id.thing_group_id = *g1->jobs[0].thing_group_id;
  EXPECT_EQ(reads_->ListJobs(by_id)->jobs.size(), 4u);

  // Pages of exactly maxResults, then the last page without a token.
  ListJobsRequest page;
  page.max_results = 4;
  auto p1 = reads_->ListJobs(page);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->jobs.size(), 4u);
  ASSERT_TRUE(p1->next_token.has_value());
  page.next_token = p1->next_token;
  auto p2 = reads_->ListJobs(page);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->jobs.size(), 4u);
  EXPECT_FALSE(p2->next_token.has_value());
  EXPECT_EQ(p2->jobs.back().job_id, "job6");
  EXPECT_LT(p1->jobs.back().job_id, p2->jobs.front().job_id);

  ListJobsRequest none;
  none.thing_group_name = "nobody";
  EXPECT_TRUE(reads_->ListJobs(none)->jobs.empty());

  ListJobsRequest bad;
  bad.next_token = "not-a-token";
  ExpectRejected(reads_->ListJobs(bad).status(), AwsError::kInvalidRequest, "nextToken");
  std::string tampered = *p1->next_token;
  tampered[tampered.size() - 1] = tampered.back() == '0' ? '1' : '0';
  bad.next_token = tampered;
  ExpectRejected(reads_->ListJobs(bad).status(), AwsError::kInvalidRequest, "nextToken");
  bad.next_token.reset();
  bad.max_results = 251;
  ExpectRejected(reads_->ListJobs(bad).status(), AwsError::kInvalidRequest, "maxResults");
  bad.max_results = 0;
  ExpectRejected(reads_->ListJobs(bad).status(), AwsError::kInvalidRequest, "maxResults");
}

TEST_F(ReadModelsTest, ExecutionsForJobAndThingPaginateInOrder) {
  for (int i = 0; i < 10; ++i) MustJoin("g", "thing" + std::to_string(i));
  MustCreate(NewJob("job", {GroupArnOf("g")}));
  for (int i = 0; i < 10; ++i) MustCreate(NewJob("other" + std::to_string(i), {ThingArnOf("thing3")}));
  MustUpdate("job", "thing3", ExecutionStatus::kInProgress);

  ListJobExecutionsForJobRequest r;
  r.job_id = "job";
  r.max_results = 4;
  std::vector<std::string> arns;
  for (int pages = 0; pages < 5; ++pages) {
    auto page = reads_->ListJobExecutionsForJob(r);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& s : page->execution_summaries) {
      arns.push_back(s.thing_arn);
      EXPECT_EQ(ThingArnOf(s.thing_name), s.thing_arn) << "the summary carries its thing's name";
    }
    if (!page->next_token) break;
    r.next_token = page->next_token;
  }
  ASSERT_EQ(arns.size(), 10u);  // 4 + 4 + 2
  EXPECT_TRUE(std::is_sorted(arns.begin(), arns.end()));
  r.next_token.reset();
  r.status = ExecutionStatus::kInProgress;
  auto in_progress = reads_->ListJobExecutionsForJob(r);
  ASSERT_EQ(in_progress->execution_summaries.size(), 1u);
  EXPECT_EQ(in_progress->execution_summaries[0].thing_arn, ThingArnOf("thing3"));

  ListJobExecutionsForThingRequest t;
  t.thing_name = "thing3";
  t.max_results = 2;
  std::vector<std::string> jobs;
  std::vector<size_t> sizes;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = reads_->ListJobExecutionsForThing(t);
    ASSERT_TRUE(page.ok());
    sizes.push_back(page->execution_summaries.size());
    for (const auto& s : page->execution_summaries) jobs.push_back(s.job_id);
    if (!page->next_token) break;
    t.next_token = page->next_token;
  }
  EXPECT_EQ(jobs.size(), 11u);
  EXPECT_TRUE(std::is_sorted(jobs.begin(), jobs.end()));
  EXPECT_EQ(sizes.back(), 1u);
  ExpectRejected(reads_->ListJobExecutionsForJob({"nope", std::nullopt, std::nullopt, std::nullopt}).status(),
                 AwsError::kResourceNotFound);
}

TEST_F(ReadModelsTest, DescribeJobExecutionLatestOrNumberedWithTimeLeft) {
  MustJoin("g", "t1");
  CreateJobRequest r = NewJob("cont", {GroupArnOf("g")});
  r.target_selection = TargetSelection::kContinuous;
  r.timeout_config = TimeoutConfig{10};
  MustCreate(r);
  ASSERT_TRUE(ledger_->RemoveThingFromThingGroup(As("ops"), {"g", "t1"}).ok());
  MustJoin("g", "t1");
  MustUpdate("cont", "t1", ExecutionStatus::kInProgress);
  clock_.Advance(3 * kMinute);
  auto latest = reads_->DescribeJobExecution("cont", "t1");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->execution_number, 2);
  EXPECT_EQ(latest->status, ExecutionStatus::kInProgress);
  EXPECT_EQ(latest->approximate_seconds_before_timed_out, 7 * 60);
  EXPECT_EQ(latest->thing_arn, ThingArnOf("t1"));
  auto first = reads_->DescribeJobExecution("cont", "t1", 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, ExecutionStatus::kRemoved);
  EXPECT_FALSE(first->approximate_seconds_before_timed_out.has_value());
  ExpectRejected(reads_->DescribeJobExecution("cont", "t1", 3).status(), AwsError::kResourceNotFound);
  // The same answer, rendered as the AWS CLI prints it.
  std::string json = RenderDescribeJobExecution(*latest);
  EXPECT_NE(json.find("\"approximateSecondsBeforeTimedOut\": 420"), std::string::npos) << json;
  EXPECT_NE(json.find("\"detailsMap\": {}"), std::string::npos) << json;
}

TEST_F(ReadModelsTest, PendingListMatchesTheLedgers) {
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(kMinute);
    MustCreate(NewJob("j" + std::to_string(i), {ThingArnOf("dev")}));
  }
  MustUpdate("j2", "dev", ExecutionStatus::kInProgress);
  MustUpdate("j3", "dev", ExecutionStatus::kSucceeded);
  auto from_projection = reads_->GetPendingJobExecutions("dev");
  auto from_ledger = ledger_->GetPendingJobExecutions("dev");
  ASSERT_TRUE(from_projection.ok() && from_ledger.ok());
  EXPECT_EQ(from_projection->queued_jobs, from_ledger->queued_jobs);
  EXPECT_EQ(from_projection->in_progress_jobs, from_ledger->in_progress_jobs);
  ASSERT_EQ(from_projection->queued_jobs.size(), 2u);
  EXPECT_EQ(from_projection->queued_jobs[0].job_id, "j0");
  EXPECT_EQ(from_projection->in_progress_jobs.size(), 1u);
}

TEST_F(ReadModelsTest, AsOfASequenceSeesTheStateRightAfterIt) {
  MustCreate(NewJob("j", {ThingArnOf("t1")}));
  const uint64_t created = Head();
  MustUpdate("j", "t1", ExecutionStatus::kInProgress);
  const uint64_t started = Head();
  MustUpdate("j", "t1", ExecutionStatus::kSucceeded);
  DeleteJobRequest d;
  d.job_id = "j";
  ASSERT_TRUE(ledger_->DeleteJob(As("ops"), d).ok());
  ExpectRejected(reads_->DescribeJob("j").status(), AwsError::kResourceNotFound);
  EXPECT_EQ(Describe("j", ReadPoint::AtSequence(created)).job_process_details.number_of_queued_things, 1);
  auto at_start = reads_->DescribeJobExecution("j", "t1", std::nullopt, ReadPoint::AtSequence(started));
  ASSERT_TRUE(at_start.ok()) << at_start.status().ToString();
  EXPECT_EQ(at_start->status, ExecutionStatus::kInProgress);
  EXPECT_EQ(at_start->version_number, 2);
  ExpectRejected(reads_->DescribeJob("j", ReadPoint::AtSequence(0)).status(), AwsError::kResourceNotFound);
  // A reused id shows the right incarnation at each point.
  MustCreate(NewJob("j", {ThingArnOf("t9")}));
  EXPECT_EQ(Describe("j").targets, std::vector<std::string>{ThingArnOf("t9")});
  EXPECT_EQ(Describe("j", ReadPoint::AtSequence(created)).targets, std::vector<std::string>{ThingArnOf("t1")});
  ExpectNoDrift();
}

}  // namespace
}  // namespace jobledger::testing
