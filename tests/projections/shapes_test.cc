// Every rendered answer (jobledger/json.h) checked against botocore's service models:
// the `iot` control plane (2015-05-28) and the `iot-jobs-data` device plane
// (2017-09-29). The model files are located at configure time (see CMakeLists.txt) and
// read here; nothing under /work/shared is read at run time.
//
// The validator walks a JSON value alongside a botocore shape: structure members must
// be known and required ones present; lists, maps, strings (enum, length, pattern),
// integers and longs (range, min/max), doubles, booleans and timestamps are checked by
// type. The one allowed deviation is Part A item 1: the job status SUCCEEDED is the
// project's name for the model's COMPLETED.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "jobledger/json.h"
#include "tests/projections/projections_test_util.h"
#include "tests/projections/shapes_validator.h"

namespace jobledger::testing {
namespace {

using nlohmann::json;

// Control plane: epoch seconds with the microseconds as a fraction.
void ExpectControlTime(const json& v, int64_t micros, const std::string& what) {
  ASSERT_TRUE(v.is_number()) << what << " is " << KindOf(v);
  const double expected =
      static_cast<double>(micros / 1'000'000) + static_cast<double>(micros % 1'000'000) / 1e6;
  EXPECT_NEAR(v.get<double>(), expected, 1e-6) << what;
}

// Device plane: whole epoch seconds, as a JSON integer.
void ExpectDeviceTime(const json& v, int64_t micros, const std::string& what) {
  ASSERT_TRUE(v.is_number_integer()) << what << " must be whole seconds, got " << KindOf(v);
  EXPECT_EQ(v.get<int64_t>(), micros / 1'000'000) << what;
}

// ---- the ledger ----

// Fractions of a second on every step, so control-plane timestamps carry a fraction
// and device-plane ones must drop it.
constexpr int64_t kT1 = kT0 + 1'234'567;                 // beta created
constexpr int64_t kT2 = kT1 + kMinute + 250'000;         // beta's executions move
constexpr int64_t kT3 = kT2 + kMinute + 500'001;         // t3 force-canceled; done, halted created
constexpr int64_t kT4 = kT3 + 2 * kMinute + 750'000;     // done completes, halted canceled
constexpr int64_t kT5 = kT4 + kMinute + 111'111;         // device plane
constexpr int64_t kNow = kT5 + 3 * kMinute + 999'999;    // the reading

class ShapesTest : public ProjectionsFixture {
 protected:
  void SetUp() override {
    ProjectionsFixture::SetUp();
    ASSERT_TRUE(IotModel().ok()) << IotModel().error();
    ASSERT_TRUE(IotJobsDataModel().ok()) << IotJobsDataModel().error();
    ASSERT_TRUE(IotModel().HasShape("DescribeJobResponse")) << "not the iot model: " << JOBLEDGER_BOTOCORE_IOT_MODEL;
    ASSERT_TRUE(IotJobsDataModel().HasShape("StartNextPendingJobExecutionResponse"))
        << "not the iot-jobs-data model: " << JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL;
    BuildLedger();
  }

  void MustDo(const Status& s) { ASSERT_TRUE(s.ok()) << s.ToString(); }

  void MustUpdateWithDetails(const std::string& job, const std::string& thing, ExecutionStatus status,
                             DetailsMap details) {
    UpdateJobExecutionRequest r = Update(job, thing, status);
    r.status_details = std::move(details);
    auto u = ledger_->UpdateJobExecution(As("thing:" + thing), r);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
  }

  // alpha: every config, rolling out; beta: CONTINUOUS on one group with executions in
  // several statuses; omega: CONTINUOUS with associated targets; done: completed;
  // halted: force-canceled with reasonCode and comment; dev-*: the device plane.
  void BuildLedger() {
    clock_.Set(kT0);
    for (int i = 0; i < 4; ++i) MustJoin("fleet", "t" + std::to_string(i));
    MustJoin("lab", "l0");

    CreateJobRequest alpha = NewJob("alpha", {GroupArnOf("fleet"), ThingArnOf("solo")});
    alpha.description = "firmware 2.1";
    alpha.presigned_url_config = PresignedUrlConfig{"arn:aws:iam::123456789012:role/s3-reader", 600};
    RolloutConfig rollout;
    rollout.maximum_per_minute = 10;
    rollout.exponential_rate = ExponentialRate{2, 1.5, RateIncreaseCriteria{2, std::nullopt}};
    alpha.job_executions_rollout_config = rollout;
    alpha.abort_config =
        AbortConfig{{AbortCriteria{FailureType::kFailed, 50.5, 10}, AbortCriteria{FailureType::kAll, 90, 20}}};
    alpha.timeout_config = TimeoutConfig{30};
    auto created = ledger_->CreateJob(As("user:ops"), alpha);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    create_response_ = *created;

    clock_.Set(kT1);
    CreateJobRequest beta = NewJob("beta", {GroupArnOf("fleet")});
    beta.target_selection = TargetSelection::kContinuous;
    beta.timeout_config = TimeoutConfig{20};
    MustCreate(beta);
    CreateJobRequest omega = NewJob("omega", {GroupArnOf("lab")});
    omega.target_selection = TargetSelection::kContinuous;
    omega.description = "lab rollout";
    MustCreate(omega);
    AssociateTargetsWithJobRequest associate;
    associate.job_id = "omega";
    associate.targets = {ThingArnOf("l9")};
    associate.comment = "one more bench";
    auto associated = ledger_->AssociateTargetsWithJob(As("user:ops"), associate);
    ASSERT_TRUE(associated.ok()) << associated.status().ToString();
    associate_response_ = *associated;

    clock_.Set(kT2);
    MustUpdateWithDetails("beta", "t0", ExecutionStatus::kInProgress, {{"progress", "40%"}, {"step", "download"}});
    MustUpdate("beta", "t1", ExecutionStatus::kSucceeded);
    MustUpdate("beta", "t2", ExecutionStatus::kFailed);
    MustUpdate("beta", "t3", ExecutionStatus::kInProgress);

    clock_.Set(kT3);
    CancelJobExecutionRequest cancel_exec;
    cancel_exec.job_id = "beta";
    cancel_exec.thing_name = "t3";
    cancel_exec.force = true;
    cancel_exec.status_details = DetailsMap{{"reason", "operator"}};
    MustDo(ledger_->CancelJobExecution(As("user:ops"), cancel_exec));
    MustCreate(NewJob("done", {ThingArnOf("d1")}));
    CreateJobRequest halted = NewJob("halted", {ThingArnOf("d2"), ThingArnOf("d3")});
    halted.description = "recalled build";
    MustCreate(halted);
    MustUpdate("done", "d1", ExecutionStatus::kInProgress);
    MustUpdate("halted", "d2", ExecutionStatus::kInProgress);

    clock_.Set(kT4);
    MustUpdate("done", "d1", ExecutionStatus::kSucceeded);
    CancelJobRequest cancel;
    cancel.job_id = "halted";
    cancel.reason_code = "FIRMWARE_RECALL";
    cancel.comment = "build 2.1 recalled";
    cancel.force = true;
    auto canceled = ledger_->CancelJob(As("user:ops"), cancel);
    ASSERT_TRUE(canceled.ok()) << canceled.status().ToString();
    cancel_response_ = *canceled;

    clock_.Set(kT5);
    CreateJobRequest dev_a = NewJob("dev-a", {ThingArnOf("dev")});
    dev_a.timeout_config = TimeoutConfig{15};
    MustCreate(dev_a);
    clock_.Advance(1'000'001);
    MustCreate(NewJob("dev-b", {ThingArnOf("dev")}));
    clock_.Advance(1'000'001);
    MustCreate(NewJob("dev-c", {ThingArnOf("dev")}));
    clock_.Advance(kMinute);
    StartNextPendingJobExecutionRequest next;
    next.thing_name = "dev";
    next.status_details = DetailsMap{{"phase", "boot"}};
    next.step_timeout_in_minutes = 5;
    auto started = ledger_->StartNextPendingJobExecution(As("thing:dev"), next);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    start_next_response_ = *started;
    next.thing_name = "idle";
    next.status_details.reset();
    next.step_timeout_in_minutes.reset();
    auto nothing = ledger_->StartNextPendingJobExecution(As("thing:idle"), next);
    ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
    start_next_nothing_ = *nothing;

    clock_.Set(kNow);
  }

  JobReference create_response_;
  JobReference associate_response_;
  JobReference cancel_response_;
  StartNextPendingJobExecutionResponse start_next_response_;
  StartNextPendingJobExecutionResponse start_next_nothing_;
};

// ---- control plane ----

TEST_F(ShapesTest, JobReferenceAnswersCreateCancelAndAssociate) {
  json created = ExpectConforms(IotModel(), RenderJobReference(create_response_), "CreateJobResponse");
  EXPECT_EQ(created.value("description", ""), "firmware 2.1");
  ExpectConforms(IotModel(), RenderJobReference(cancel_response_), "CancelJobResponse");
  json associated =
      ExpectConforms(IotModel(), RenderJobReference(associate_response_), "AssociateTargetsWithJobResponse");
  EXPECT_EQ(associated.value("jobId", ""), "omega");
  JobReference bare{"arn:aws:iot:us-east-1:123456789012:job/beta", "beta", std::nullopt};
  json minimal = ExpectConforms(IotModel(), RenderJobReference(bare), "CreateJobResponse");
  EXPECT_FALSE(minimal.contains("description")) << minimal.dump();
}

TEST_F(ShapesTest, DescribeJobWithEveryConfig) {
  const jobledger::Job alpha = Describe("alpha");
  json j = ExpectConforms(IotModel(), RenderDescribeJob(alpha), "DescribeJobResponse");
  const json& job = j["job"];
  for (const char* member : {"description", "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
                             "timeoutConfig", "jobProcessDetails"}) {
    EXPECT_TRUE(job.contains(member)) << member << " missing:\n" << j.dump(2);
  }
  EXPECT_TRUE(job["jobExecutionsRolloutConfig"].contains("exponentialRate")) << j.dump(2);
  EXPECT_TRUE(job["jobProcessDetails"].contains("processingTargets")) << "alpha is still rolling out:\n" << j.dump(2);
  EXPECT_FALSE(job.contains("completedAt")) << j.dump(2);
  EXPECT_EQ(job.value("status", ""), "IN_PROGRESS");
  ExpectControlTime(job["createdAt"], kT0, "alpha createdAt");
  EXPECT_NEAR(job["createdAt"].get<double>(), static_cast<double>(kT0) / 1e6, 1e-6);
  ExpectControlTime(job["lastUpdatedAt"], alpha.last_updated_at_micros, "alpha lastUpdatedAt");
}

TEST_F(ShapesTest, DescribeJobContinuousCompletedAndCanceled) {
  json beta = ExpectConforms(IotModel(), RenderDescribeJob(Describe("beta")), "DescribeJobResponse");
  EXPECT_EQ(beta["job"].value("targetSelection", ""), "CONTINUOUS");
  ExpectControlTime(beta["job"]["createdAt"], kT1, "beta createdAt");
  for (const char* absent : {"description", "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
                             "completedAt", "reasonCode", "comment"}) {
    EXPECT_FALSE(beta["job"].contains(absent)) << absent << " must be omitted:\n" << beta.dump(2);
  }
  EXPECT_FALSE(beta["job"]["jobProcessDetails"].contains("processingTargets")) << beta.dump(2);

  json done = ExpectConforms(IotModel(), RenderDescribeJob(Describe("done")), "DescribeJobResponse");
  EXPECT_EQ(done["job"].value("status", ""), "SUCCEEDED");  // the documented alias of COMPLETED
  ASSERT_TRUE(done["job"].contains("completedAt")) << done.dump(2);
  ExpectControlTime(done["job"]["completedAt"], kT4, "done completedAt");
  EXPECT_NEAR(done["job"]["completedAt"].get<double>() - std::floor(done["job"]["completedAt"].get<double>()),
              static_cast<double>(kT4 % 1'000'000) / 1e6, 1e-6);

  json halted = ExpectConforms(IotModel(), RenderDescribeJob(Describe("halted")), "DescribeJobResponse");
  EXPECT_EQ(halted["job"].value("status", ""), "CANCELED");
  EXPECT_EQ(halted["job"].value("forceCanceled", false), true);
  EXPECT_EQ(halted["job"].value("reasonCode", ""), "FIRMWARE_RECALL");
  EXPECT_EQ(halted["job"].value("comment", ""), "build 2.1 recalled");
  EXPECT_FALSE(halted["job"].contains("completedAt")) << halted.dump(2);

  json omega = ExpectConforms(IotModel(), RenderDescribeJob(Describe("omega")), "DescribeJobResponse");
  EXPECT_EQ(omega["job"]["targets"].size(), 2u) << omega.dump(2);
}

TEST_F(ShapesTest, GetJobDocument) {
  auto document = reads_->GetJobDocument("alpha");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  json j = ExpectConforms(IotModel(), RenderGetJobDocument(*document), "GetJobDocumentResponse");
  EXPECT_EQ(j.value("document", ""), R"({"operation":"install"})");
}

TEST_F(ShapesTest, ListJobsAllPagedAndFiltered) {
  auto all = reads_->ListJobs(ListJobsRequest{});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  json j = ExpectConforms(IotModel(), RenderListJobs(*all), "ListJobsResponse");
  ASSERT_EQ(j["jobs"].size(), 8u) << j.dump(2);
  EXPECT_FALSE(j.contains("nextToken")) << j.dump(2);
  bool saw_group_id = false;
  bool saw_completed = false;
  for (const json& s : j["jobs"]) {
    saw_group_id = saw_group_id || s.contains("thingGroupId");
    if (s.value("jobId", "") == "done") {
      saw_completed = true;
      ExpectControlTime(s["completedAt"], kT4, "done completedAt");
    } else {
      EXPECT_FALSE(s.contains("completedAt")) << s.dump();
    }
    if (s.value("jobId", "") == "alpha") ExpectControlTime(s["createdAt"], kT0, "alpha createdAt");
  }
  EXPECT_TRUE(saw_group_id) << "beta targets one group:\n" << j.dump(2);
  EXPECT_TRUE(saw_completed);

  ListJobsRequest page;
  page.max_results = 3;
  auto p1 = reads_->ListJobs(page);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  json j1 = ExpectConforms(IotModel(), RenderListJobs(*p1), "ListJobsResponse");
  ASSERT_TRUE(j1.contains("nextToken")) << j1.dump(2);
  page.next_token = p1->next_token;
  auto p2 = reads_->ListJobs(page);
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  ExpectConforms(IotModel(), RenderListJobs(*p2), "ListJobsResponse");

  ListJobsRequest completed;
  completed.status = JobStatus::kSucceeded;
  auto c = reads_->ListJobs(completed);
  ASSERT_TRUE(c.ok());
  json jc = ExpectConforms(IotModel(), RenderListJobs(*c), "ListJobsResponse");
  EXPECT_EQ(jc["jobs"].size(), 1u);

  ListJobsRequest none;
  none.thing_group_name = "nobody";
  auto n = reads_->ListJobs(none);
  ASSERT_TRUE(n.ok());
  json jn = ExpectConforms(IotModel(), RenderListJobs(*n), "ListJobsResponse");
  EXPECT_TRUE(jn["jobs"].is_array() && jn["jobs"].empty()) << jn.dump();
}

TEST_F(ShapesTest, DescribeJobExecutionInEveryStatus) {
  struct Case {
    std::string job, thing, status;
  };
  const std::vector<Case> cases = {{"beta", "t0", "IN_PROGRESS"}, {"beta", "t1", "SUCCEEDED"},
                                   {"beta", "t2", "FAILED"},      {"beta", "t3", "CANCELED"},
                                   {"halted", "d2", "CANCELED"},  {"halted", "d3", "CANCELED"},
                                   {"omega", "l9", "QUEUED"},     {"done", "d1", "SUCCEEDED"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.job + "/" + c.thing);
    auto e = reads_->DescribeJobExecution(c.job, c.thing);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    json j = ExpectConforms(IotModel(), RenderDescribeJobExecution(*e), "DescribeJobExecutionResponse");
    const json& x = j["execution"];
    EXPECT_EQ(x.value("status", ""), c.status);
    ExpectControlTime(x["queuedAt"], e->queued_at_micros, "queuedAt");
    ExpectControlTime(x["lastUpdatedAt"], e->last_updated_at_micros, "lastUpdatedAt");
    EXPECT_EQ(x.contains("startedAt"), e->started_at_micros.has_value()) << j.dump(2);
    if (c.status != "IN_PROGRESS") {
      EXPECT_FALSE(x.contains("approximateSecondsBeforeTimedOut")) << j.dump(2);
    }
  }

  auto t0 = reads_->DescribeJobExecution("beta", "t0");
  ASSERT_TRUE(t0.ok());
  json j = json::parse(RenderDescribeJobExecution(*t0));
  const json& x = j["execution"];
  ExpectControlTime(x["queuedAt"], kT1, "beta/t0 queuedAt");
  ExpectControlTime(x["startedAt"], kT2, "beta/t0 startedAt");
  ASSERT_TRUE(x.contains("approximateSecondsBeforeTimedOut")) << j.dump(2);
  EXPECT_TRUE(x["approximateSecondsBeforeTimedOut"].is_number_integer());
  EXPECT_EQ(x["statusDetails"]["detailsMap"], (json{{"progress", "40%"}, {"step", "download"}}));

  auto t3 = reads_->DescribeJobExecution("beta", "t3");
  ASSERT_TRUE(t3.ok());
  json k = json::parse(RenderDescribeJobExecution(*t3));
  EXPECT_EQ(k["execution"].value("forceCanceled", false), true) << k.dump(2);
  ExpectControlTime(k["execution"]["lastUpdatedAt"], kT3, "beta/t3 lastUpdatedAt");
}

TEST_F(ShapesTest, ListJobExecutionsForJobAndThing) {
  ListJobExecutionsForJobRequest r;
  r.job_id = "beta";
  r.max_results = 3;
  int pages = 0;
  size_t seen = 0;
  bool saw_token = false;
  for (; pages < 5; ++pages) {
    auto page = reads_->ListJobExecutionsForJob(r);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    json j = ExpectConforms(IotModel(), RenderListJobExecutionsForJob(*page), "ListJobExecutionsForJobResponse");
    seen += j["executionSummaries"].size();
    for (const json& s : j["executionSummaries"]) {
      ExpectControlTime(s["jobExecutionSummary"]["queuedAt"], kT1, "beta queuedAt");
    }
    if (!page->next_token) break;
    saw_token = true;
    EXPECT_TRUE(j.contains("nextToken"));
    r.next_token = page->next_token;
  }
  EXPECT_TRUE(saw_token);
  EXPECT_EQ(seen, 4u);

  ListJobExecutionsForThingRequest t;
  t.thing_name = "t0";
  t.max_results = 1;
  auto first = reads_->ListJobExecutionsForThing(t);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  json j1 = ExpectConforms(IotModel(), RenderListJobExecutionsForThing(*first), "ListJobExecutionsForThingResponse");
  ASSERT_TRUE(j1.contains("nextToken")) << "t0 has executions of alpha and beta:\n" << j1.dump(2);
  t.max_results.reset();
  auto all = reads_->ListJobExecutionsForThing(t);
  ASSERT_TRUE(all.ok());
  json j2 = ExpectConforms(IotModel(), RenderListJobExecutionsForThing(*all), "ListJobExecutionsForThingResponse");
  EXPECT_FALSE(j2.contains("nextToken"));
  EXPECT_GE(j2["executionSummaries"].size(), 2u);

  t.thing_name = "dev";
  auto dev = reads_->ListJobExecutionsForThing(t);
  ASSERT_TRUE(dev.ok());
  ExpectConforms(IotModel(), RenderListJobExecutionsForThing(*dev), "ListJobExecutionsForThingResponse");
}

// ---- device plane ----

TEST_F(ShapesTest, GetPendingJobExecutions) {
  auto from_reads = reads_->GetPendingJobExecutions("dev");
  ASSERT_TRUE(from_reads.ok()) << from_reads.status().ToString();
  json j = ExpectConforms(IotJobsDataModel(), RenderGetPendingJobExecutions(*from_reads),
                          "GetPendingJobExecutionsResponse");
  ASSERT_EQ(j["inProgressJobs"].size(), 1u) << j.dump(2);
  ASSERT_EQ(j["queuedJobs"].size(), 2u) << j.dump(2);
  const json& a = j["inProgressJobs"][0];
  EXPECT_EQ(a.value("jobId", ""), "dev-a");
  ExpectDeviceTime(a["queuedAt"], kT5, "dev-a queuedAt");
  ExpectDeviceTime(a["startedAt"], kT5 + 2'000'002 + kMinute, "dev-a startedAt");
  ExpectDeviceTime(a["lastUpdatedAt"], kT5 + 2'000'002 + kMinute, "dev-a lastUpdatedAt");
  ExpectDeviceTime(j["queuedJobs"][0]["queuedAt"], kT5 + 1'000'001, "dev-b queuedAt");
  EXPECT_FALSE(j["queuedJobs"][0].contains("startedAt")) << j.dump(2);

  auto from_ledger = ledger_->GetPendingJobExecutions("dev");
  ASSERT_TRUE(from_ledger.ok()) << from_ledger.status().ToString();
  ExpectConforms(IotJobsDataModel(), RenderGetPendingJobExecutions(*from_ledger), "GetPendingJobExecutionsResponse");

  auto empty = reads_->GetPendingJobExecutions("idle");
  ASSERT_TRUE(empty.ok());
  ExpectConforms(IotJobsDataModel(), RenderGetPendingJobExecutions(*empty), "GetPendingJobExecutionsResponse");
}

TEST_F(ShapesTest, StartNextPendingJobExecution) {
  ASSERT_TRUE(start_next_response_.execution.has_value());
  json j = ExpectConforms(IotJobsDataModel(), RenderStartNextPendingJobExecution(start_next_response_),
                          "StartNextPendingJobExecutionResponse");
  const json& x = j["execution"];
  EXPECT_EQ(x.value("jobId", ""), "dev-a");
  EXPECT_EQ(x.value("status", ""), "IN_PROGRESS");
  EXPECT_EQ(x["statusDetails"], (json{{"phase", "boot"}}));
  ExpectDeviceTime(x["queuedAt"], kT5, "queuedAt");
  ExpectDeviceTime(x["startedAt"], kT5 + 2'000'002 + kMinute, "startedAt");
  ExpectDeviceTime(x["lastUpdatedAt"], kT5 + 2'000'002 + kMinute, "lastUpdatedAt");
  ASSERT_TRUE(x.contains("approximateSecondsBeforeTimedOut")) << j.dump(2);
  EXPECT_TRUE(x["approximateSecondsBeforeTimedOut"].is_number_integer());
  EXPECT_TRUE(x.contains("jobDocument")) << j.dump(2);

  json nothing = ExpectConforms(IotJobsDataModel(), RenderStartNextPendingJobExecution(start_next_nothing_),
                                "StartNextPendingJobExecutionResponse");
  EXPECT_EQ(nothing, json::object());
}

TEST_F(ShapesTest, UpdateJobExecution) {
  UpdateJobExecutionRequest r = Update("dev-a", "dev", ExecutionStatus::kSucceeded);
  r.status_details = DetailsMap{{"phase", "done"}, {"result", "ok"}};
  r.include_job_execution_state = true;
  r.include_job_document = true;
  auto full = ledger_->UpdateJobExecution(As("thing:dev"), r);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  json j = ExpectConforms(IotJobsDataModel(), RenderUpdateJobExecution(*full), "UpdateJobExecutionResponse");
  ASSERT_TRUE(j.contains("executionState")) << j.dump(2);
  EXPECT_EQ(j["executionState"].value("status", ""), "SUCCEEDED");
  EXPECT_TRUE(j["executionState"]["versionNumber"].is_number_integer());
  EXPECT_EQ(j.value("jobDocument", ""), R"({"operation":"install"})");

  auto bare = ledger_->UpdateJobExecution(As("thing:dev"), Update("dev-b", "dev", ExecutionStatus::kInProgress));
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  json k = ExpectConforms(IotJobsDataModel(), RenderUpdateJobExecution(*bare), "UpdateJobExecutionResponse");
  EXPECT_EQ(k, json::object()) << "nothing was asked for";

  UpdateJobExecutionRequest state_only = Update("dev-b", "dev", ExecutionStatus::kFailed);
  state_only.include_job_execution_state = true;
  auto s = ledger_->UpdateJobExecution(As("thing:dev"), state_only);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  json l = ExpectConforms(IotJobsDataModel(), RenderUpdateJobExecution(*s), "UpdateJobExecutionResponse");
  EXPECT_FALSE(l.contains("jobDocument")) << l.dump(2);
  EXPECT_TRUE(l["executionState"]["statusDetails"].is_object()) << l.dump(2);
}

// ---- the validator itself ----

TEST(ShapesValidatorTest, CatchesUnknownMembersWrongTypesAndBadValues) {
  ASSERT_TRUE(IotModel().ok()) << IotModel().error();
  ASSERT_TRUE(IotJobsDataModel().ok()) << IotJobsDataModel().error();
  const json bad = json::parse(R"({
    "job": {
      "jobId": "bad",
      "status": "FINISHED",
      "forceCanceled": "no",
      "createdAt": "2025-11-27T10:00:00Z",
      "targets": [],
      "jobProcessDetails": {"numberOfQueuedThings": 1.5, "numberOfFailedThings": 4294967296},
      "abortConfig": {"criteriaList": [{"failureType": "ALL", "action": "CANCEL"}]},
      "timeoutConfig": null,
      "frobnicate": 1
    }
  })");
  const std::vector<std::string> errors = IotModel().Validate(bad, "DescribeJobResponse");
  auto has = [&](const std::string& part) {
    for (const std::string& e : errors) {
      if (e.find(part) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("$.job.frobnicate: unknown member")) << Joined(errors);
  EXPECT_TRUE(has("$.job.status: \"FINISHED\" is not one of")) << Joined(errors);
  EXPECT_TRUE(has("$.job.forceCanceled: expected a boolean")) << Joined(errors);
  EXPECT_TRUE(has("$.job.createdAt: expected a timestamp")) << Joined(errors);
  EXPECT_TRUE(has("$.job.targets: length 0 is below min 1")) << Joined(errors);
  EXPECT_TRUE(has("$.job.jobProcessDetails.numberOfQueuedThings: expected an integer")) << Joined(errors);
  EXPECT_TRUE(has("$.job.jobProcessDetails.numberOfFailedThings: 4294967296 does not fit")) << Joined(errors);
  EXPECT_TRUE(has("$.job.abortConfig.criteriaList[0]: required member \"thresholdPercentage\" is missing"))
      << Joined(errors);
  EXPECT_TRUE(has("$.job.timeoutConfig: null")) << Joined(errors);
  EXPECT_TRUE(has("\"minNumberOfExecutedThings\" is missing")) << Joined(errors);
  EXPECT_FALSE(has("$.job.jobId")) << "a valid jobId is not an error:" << Joined(errors);
  EXPECT_EQ(errors.size(), 10u) << Joined(errors);

  // SUCCEEDED is accepted only as the job status alias, not elsewhere.
  EXPECT_TRUE(IotModel().Validate(json{{"job", {{"status", "SUCCEEDED"}}}}, "DescribeJobResponse").empty());
  EXPECT_FALSE(IotModel().Validate(json{{"job", {{"targetSelection", "SUCCEEDED"}}}}, "DescribeJobResponse").empty());

  // Device plane: timestamps are longs; a fraction is a wrong type. Map keys are checked.
  const json device = json::parse(R"({"execution": {"jobId": "j", "queuedAt": 1764237600.5,
                                      "statusDetails": {"bad key!": "v"}, "versionNumber": "1"}})");
  const std::vector<std::string> device_errors = IotJobsDataModel().Validate(device, "StartNextPendingJobExecutionResponse");
  EXPECT_EQ(device_errors.size(), 3u) << Joined(device_errors);
  EXPECT_NE(Joined(device_errors).find("$.execution.queuedAt: expected an integer (long), got float"), std::string::npos)
      << Joined(device_errors);
  EXPECT_NE(Joined(device_errors).find("$.execution.statusDetails<key \"bad key!\">"), std::string::npos)
      << Joined(device_errors);

  // A missing model file fails with a message naming it.
  auto missing = ServiceModel::FromFile("/nonexistent/service-2.json", "iot");
  EXPECT_FALSE(missing->ok());
  EXPECT_NE(missing->error().find("/nonexistent/service-2.json"), std::string::npos) << missing->error();
  EXPECT_FALSE(missing->Validate(json::object(), "DescribeJobResponse").empty());
}

}  // namespace
}  // namespace jobledger::testing
