// Scenarios from the reference (spec Part B section 9, "scenarios moto lacks", and the
// worked examples of sections 5 and 6.1), through the Ledger's public API.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "jobledger/scheduler.h"
#include "tests/ledger/ledger_test_util.h"

namespace jobledger::testing {
namespace {

class LedgerScenarioTest : public LedgerFixture {
 protected:
  // The events appended after `from`, as (kind, actor, cause).
  std::vector<Event> EventsAfter(uint64_t from) {
    std::vector<Event> out;
    for (auto c = ledger_->log().NewCursor(from + 1); c->state() == EventCursor::State::kPositioned;
         c->Next()) {
      out.push_back(c->event());
    }
    return out;
  }

  void ExpectStateMatchesLog() {
    auto check = ledger_->CheckState();
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_TRUE(check->ok()) << check->differences.front();
    auto v = ledger_->log().Verify();
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->ok()) << v->detail;
  }

  AdvanceResult AdvanceTo(int64_t t) {
    clock_.Set(t);
    auto r = ledger_->AdvanceTo(t);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AdvanceResult{};
  }
};

TEST_F(LedgerScenarioTest, DeveloperGuideWalkthrough) {
  CreateJobRequest r = NewJob("job-walkthrough", {ThingArnOf("MyThing")});
  r.description = "walkthrough";
  auto ref = ledger_->CreateJob(As("user:alice"), r);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->job_arn, "arn:aws:iot:us-east-1:123456789012:job/job-walkthrough");
  EXPECT_EQ(ref->description, "walkthrough");

  auto pending = ledger_->GetPendingJobExecutions("MyThing");
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->queued_jobs.size(), 1u);
  EXPECT_EQ(pending->queued_jobs[0].job_id, "job-walkthrough");
  EXPECT_EQ(pending->queued_jobs[0].version_number, 1);
  EXPECT_EQ(pending->queued_jobs[0].execution_number, 1);

  clock_.Advance(kMinute);
  auto started = ledger_->StartNextPendingJobExecution(
      As("thing:MyThing"), {"MyThing", DetailsMap{{"progress", "0%"}}, std::nullopt});
  ASSERT_TRUE(started.ok());
  ASSERT_TRUE(started->execution.has_value());
  EXPECT_EQ(started->execution->job_document, R"({"operation":"install"})");
  EXPECT_EQ(started->execution->started_at_micros, kT0 + kMinute);

  UpdateJobExecutionRequest u = Update("job-walkthrough", "MyThing", ExecutionStatus::kInProgress);
  u.status_details = DetailsMap{{"progress", "50%"}};
  u.expected_version = 2;
  u.include_job_execution_state = true;
  u.include_job_document = true;
  auto updated = ledger_->UpdateJobExecution(As("thing:MyThing"), u);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  ASSERT_TRUE(updated->execution_state.has_value());
  EXPECT_EQ(updated->execution_state->version_number, 3);
  EXPECT_EQ(updated->execution_state->status_details, (DetailsMap{{"progress", "50%"}}));
  EXPECT_EQ(updated->job_document, R"({"operation":"install"})");

  clock_.Advance(kMinute);
  MustUpdate("job-walkthrough", "MyThing", ExecutionStatus::kSucceeded);
  JobStateView job = Job("job-walkthrough");
  EXPECT_EQ(job.status, JobStatus::kSucceeded);
  EXPECT_EQ(job.completed_at_micros, kT0 + 2 * kMinute);
  ExecutionStateView e = Exec("job-walkthrough", "MyThing");
  EXPECT_EQ(e.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(e.version_number, 4);
  EXPECT_EQ(e.status_details, (DetailsMap{{"progress", "50%"}}));  // omitted: unchanged
  // The completion is a derived event caused by the device's last update.
  std::vector<Event> all = EventsAfter(0);
  ASSERT_GE(all.size(), 2u);
  const Event& completed = all.back();
  EXPECT_EQ(KindOf(completed.body), EventKind::kJobCompleted);
  EXPECT_EQ(completed.actor, "system:completion");
  EXPECT_EQ(completed.cause, all[all.size() - 2].sequence);
  EXPECT_TRUE(ledger_->GetPendingJobExecutions("MyThing")->queued_jobs.empty());
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, DuplicateJobIdIsResourceAlreadyExists) {
  MustCreate(NewJob("job1", {ThingArnOf("t1")}));
  const uint64_t head = Head();
  auto again = ledger_->CreateJob(As("user:ops"), NewJob("job1", {ThingArnOf("t2")}));
  ExpectRejected(again.status(), AwsError::kResourceAlreadyExists, "job1");
  EXPECT_EQ(Head(), head);
}

TEST_F(LedgerScenarioTest, RetriedRequestIsAnsweredFromTheLog) {
  auto first = ledger_->CreateJob(As("user:ops", "req-create"), NewJob("job1", {ThingArnOf("t1")}));
  ASSERT_TRUE(first.ok());
  const uint64_t head = Head();
  auto retry = ledger_->CreateJob(As("user:ops", "req-create"), NewJob("job1", {ThingArnOf("t1")}));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(*retry, *first);
  EXPECT_EQ(Head(), head);

  UpdateJobExecutionRequest u = Update("job1", "t1", ExecutionStatus::kInProgress);
  u.include_job_execution_state = true;
  auto a = ledger_->UpdateJobExecution(As("thing:t1", "req-u1"), u);
  auto b = ledger_->UpdateJobExecution(As("thing:t1", "req-u1"), u);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->execution_state, b->execution_state);
  EXPECT_EQ(Exec("job1", "t1").version_number, 2);  // applied once
}

TEST_F(LedgerScenarioTest, CountersEqualExecutionsByStatus) {
  for (int i = 0; i < 6; ++i) MustJoin("g", "t" + std::to_string(i));
  MustCreate(NewJob("job1", {GroupArnOf("g")}));
  MustUpdate("job1", "t0", ExecutionStatus::kInProgress);
  MustUpdate("job1", "t1", ExecutionStatus::kSucceeded);
  MustUpdate("job1", "t2", ExecutionStatus::kFailed);
  MustUpdate("job1", "t3", ExecutionStatus::kRejected);
  CancelJobExecutionRequest c;
  c.job_id = "job1";
  c.thing_name = "t4";
  ASSERT_TRUE(ledger_->CancelJobExecution(As("user:ops"), c).ok());
  JobStateView j = Job("job1");
  EXPECT_EQ(j.count(ExecutionStatus::kQueued), 1);
  EXPECT_EQ(j.count(ExecutionStatus::kInProgress), 1);
  EXPECT_EQ(j.count(ExecutionStatus::kSucceeded), 1);
  EXPECT_EQ(j.count(ExecutionStatus::kFailed), 1);
  EXPECT_EQ(j.count(ExecutionStatus::kRejected), 1);
  EXPECT_EQ(j.count(ExecutionStatus::kCanceled), 1);
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, TimersFollowTheWorkedExample) {
  // 20-minute job timer; start 12:00; step 7 min at 12:05 -> 12:12; step 5 min at
  // 12:10 -> 12:15; step 9 min at 12:13 -> 12:20 (capped by the in-progress timer).
  const int64_t noon = kT0 + 2 * 60 * kMinute;
  CreateJobRequest r = NewJob("timed", {ThingArnOf("t1")});
  r.timeout_config = TimeoutConfig{20};
  MustCreate(r);
  clock_.Set(noon);
  MustUpdate("timed", "t1", ExecutionStatus::kInProgress);
  EXPECT_EQ(Exec("timed", "t1").deadline_micros, noon + 20 * kMinute);

  auto step = [&](int64_t at_minute, int64_t minutes) {
    clock_.Set(noon + at_minute * kMinute);
    UpdateJobExecutionRequest u = Update("timed", "t1", ExecutionStatus::kInProgress);
    u.step_timeout_in_minutes = minutes;
    auto s = ledger_->UpdateJobExecution(As("thing:t1"), u);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  };
  step(5, 7);
  EXPECT_EQ(Exec("timed", "t1").deadline_micros, noon + 12 * kMinute);
  step(10, 5);
  EXPECT_EQ(Exec("timed", "t1").deadline_micros, noon + 15 * kMinute);
  step(13, 9);
  EXPECT_EQ(Exec("timed", "t1").deadline_micros, noon + 20 * kMinute);
  EXPECT_EQ(ledger_->NextDue().value(), noon + 20 * kMinute);

  EXPECT_EQ(AdvanceTo(noon + 20 * kMinute - 1).appended, 0u);
  EXPECT_EQ(Exec("timed", "t1").status, ExecutionStatus::kInProgress);
  const uint64_t before = Head();
  AdvanceResult advanced = AdvanceTo(noon + 21 * kMinute);
  EXPECT_EQ(advanced.appended, 2u);  // TIMED_OUT, then the job completes
  ExecutionStateView e = Exec("timed", "t1");
  EXPECT_EQ(e.status, ExecutionStatus::kTimedOut);
  EXPECT_EQ(e.version_number, 6);
  EXPECT_FALSE(e.deadline_micros.has_value());
  std::vector<Event> after = EventsAfter(before);
  ASSERT_EQ(after.size(), 2u);
  const auto& timed_out = std::get<ExecutionTimedOut>(after[0].body);
  EXPECT_EQ(timed_out.deadline_micros, noon + 20 * kMinute);  // the deadline it enforces
  EXPECT_EQ(after[0].recorded_at_micros, noon + 21 * kMinute);  // stamped when appended
  EXPECT_EQ(after[0].actor, "system:timeout");
  EXPECT_EQ(after[0].cause, before);  // the step update that set the running timer
  EXPECT_EQ(KindOf(after[1].body), EventKind::kJobCompleted);
  EXPECT_EQ(Job("timed").count(ExecutionStatus::kTimedOut), 1);
  EXPECT_FALSE(ledger_->NextDue().value().has_value());
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, StepTimerCanBeCanceledAndTerminalStatusEndsTimers) {
  MustCreate(NewJob("j", {ThingArnOf("t1")}));
  auto start = ledger_->StartNextPendingJobExecution(As("thing:t1"), {"t1", std::nullopt, 5});
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->execution->approximate_seconds_before_timed_out, 300);
  EXPECT_EQ(Exec("j", "t1").deadline_micros, kT0 + 5 * kMinute);
  UpdateJobExecutionRequest u = Update("j", "t1", ExecutionStatus::kInProgress);
  u.step_timeout_in_minutes = -1;
  ASSERT_TRUE(ledger_->UpdateJobExecution(As("thing:t1"), u).ok());
  EXPECT_FALSE(Exec("j", "t1").deadline_micros.has_value());
  EXPECT_EQ(AdvanceTo(kT0 + 60 * kMinute).appended, 0u);
  u.step_timeout_in_minutes = 1;
  ASSERT_TRUE(ledger_->UpdateJobExecution(As("thing:t1"), u).ok());
  MustUpdate("j", "t1", ExecutionStatus::kSucceeded);
  EXPECT_EQ(AdvanceTo(kT0 + 120 * kMinute).appended, 0u);
  EXPECT_EQ(Exec("j", "t1").status, ExecutionStatus::kSucceeded);
}

TEST_F(LedgerScenarioTest, ForceCancelStopsTheDevice) {
  MustCreate(NewJob("j", {ThingArnOf("t1"), ThingArnOf("t2"), ThingArnOf("t3")}));
  MustUpdate("j", "t1", ExecutionStatus::kInProgress);
  MustUpdate("j", "t3", ExecutionStatus::kSucceeded);
  CancelJobRequest c;
  c.job_id = "j";
  c.force = true;
  c.reason_code = "OPERATOR_ABORT";
  c.comment = "bad image";
  const uint64_t before = Head();
  auto ref = ledger_->CancelJob(As("user:oncall"), c);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  JobStateView j = Job("j");
  EXPECT_EQ(j.status, JobStatus::kCanceled);
  EXPECT_TRUE(j.force_canceled);
  EXPECT_EQ(j.reason_code, "OPERATOR_ABORT");
  EXPECT_EQ(j.comment, "bad image");
  EXPECT_FALSE(j.completed_at_micros.has_value());
  ExecutionStateView t1 = Exec("j", "t1");
  EXPECT_EQ(t1.status, ExecutionStatus::kCanceled);
  EXPECT_TRUE(t1.force_canceled);
  EXPECT_FALSE(Exec("j", "t2").force_canceled);  // it was only QUEUED
  EXPECT_EQ(Exec("j", "t3").status, ExecutionStatus::kSucceeded);
  // Every cancellation is its own event caused by the job's cancel.
  std::vector<Event> after = EventsAfter(before);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].actor, "user:oncall");
  for (size_t i = 1; i < after.size(); ++i) {
    EXPECT_EQ(KindOf(after[i].body), EventKind::kExecutionCanceled);
    EXPECT_EQ(after[i].cause, after[0].sequence);
    EXPECT_EQ(after[i].actor, "system:cancel");
  }
  auto update = ledger_->UpdateJobExecution(As("thing:t1"),
                                            Update("j", "t1", ExecutionStatus::kSucceeded));
  ExpectRejected(update.status(), AwsError::kInvalidStateTransition, "force-canceled");
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, AbortCriteriaCancelTheJobWithACauseChain) {
  for (int i = 0; i < 5; ++i) MustJoin("fleet", "t" + std::to_string(i));
  CreateJobRequest r = NewJob("risky", {GroupArnOf("fleet")});
  r.abort_config = AbortConfig{{AbortCriteria{FailureType::kFailed, 50, 2}}};
  MustCreate(r);
  MustUpdate("risky", "t0", ExecutionStatus::kInProgress);
  MustUpdate("risky", "t1", ExecutionStatus::kFailed);  // 1 terminal < 2: not yet
  EXPECT_EQ(Job("risky").status, JobStatus::kInProgress);
  const uint64_t before = Head();
  auto tripping = ledger_->UpdateJobExecution(
      As("principal:device-cert-7"), Update("risky", "t2", ExecutionStatus::kSucceeded));
  ASSERT_TRUE(tripping.ok());
  JobStateView j = Job("risky");
  EXPECT_EQ(j.status, JobStatus::kCanceled);
  EXPECT_EQ(j.reason_code, "ABORT_CRITERIA_MET");
  ASSERT_TRUE(j.comment.has_value());
  EXPECT_NE(j.comment->find("criteriaList[0]"), std::string::npos) << *j.comment;
  EXPECT_FALSE(j.force_canceled);
  // QUEUED executions are canceled, the IN_PROGRESS one is left to finish.
  EXPECT_EQ(j.count(ExecutionStatus::kCanceled), 2);
  EXPECT_EQ(Exec("risky", "t0").status, ExecutionStatus::kInProgress);
  MustUpdate("risky", "t0", ExecutionStatus::kSucceeded);
  // The cause chain: canceled execution <- job canceled <- the device's update.
  std::vector<Event> after = EventsAfter(before);
  ASSERT_EQ(after.size(), 5u);
  const Event& update = after[0];
  EXPECT_EQ(update.actor, "principal:device-cert-7");
  const Event& abort = after[1];
  EXPECT_EQ(KindOf(abort.body), EventKind::kJobCanceled);
  EXPECT_EQ(abort.actor, "system:abort");
  EXPECT_EQ(abort.cause, update.sequence);
  EXPECT_EQ(std::get<JobCanceled>(abort.body).reason_code, "ABORT_CRITERIA_MET");
  EXPECT_EQ(after[2].cause, abort.sequence);
  EXPECT_EQ(after[3].cause, abort.sequence);
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, ContinuousJobQueuesJoinersAndRemovesLeavers) {
  MustJoin("fleet", "t1");
  CreateJobRequest r = NewJob("cont", {GroupArnOf("fleet")});
  r.target_selection = TargetSelection::kContinuous;
  MustCreate(r);
  EXPECT_EQ(Job("cont").count(ExecutionStatus::kQueued), 1);
  MustJoin("fleet", "t2");  // joins later: queued
  EXPECT_EQ(Exec("cont", "t2").status, ExecutionStatus::kQueued);
  EXPECT_EQ(Exec("cont", "t2").execution_number, 1);
  MustUpdate("cont", "t1", ExecutionStatus::kInProgress);
  ASSERT_TRUE(ledger_->RemoveThingFromThingGroup(As("user:ops"), {"fleet", "t1"}).ok());
  ExecutionStateView removed = Exec("cont", "t1");
  EXPECT_EQ(removed.status, ExecutionStatus::kRemoved);
  EXPECT_EQ(removed.version_number, 3);
  MustJoin("fleet", "t1");  // re-add: a new execution
  ExecutionStateView again = Exec("cont", "t1");
  EXPECT_EQ(again.execution_number, 2);
  EXPECT_EQ(again.status, ExecutionStatus::kQueued);
  EXPECT_EQ(again.version_number, 1);
  auto first = ledger_->GetExecutionState("cont", "t1", 1);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->status, ExecutionStatus::kRemoved);
  JobStateView j = Job("cont");
  EXPECT_EQ(j.count(ExecutionStatus::kRemoved), 1);
  EXPECT_EQ(j.count(ExecutionStatus::kQueued), 2);
  EXPECT_EQ(j.status, JobStatus::kInProgress);  // CONTINUOUS never completes
  // Idempotent membership calls append nothing.
  const uint64_t head = Head();
  MustJoin("fleet", "t1");
  ASSERT_TRUE(ledger_->RemoveThingFromThingGroup(As("user:ops"), {"other", "t1"}).ok());
  EXPECT_EQ(Head(), head);
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, ThingInTwoTargetGroupsStaysTargetedWhenLeavingOne) {
  MustJoin("a", "t1");
  MustJoin("b", "t1");
  CreateJobRequest r = NewJob("cont", {GroupArnOf("a"), GroupArnOf("b")});
  r.target_selection = TargetSelection::kContinuous;
  MustCreate(r);
  EXPECT_EQ(Job("cont").count(ExecutionStatus::kQueued), 1);  // one execution per thing
  ASSERT_TRUE(ledger_->RemoveThingFromThingGroup(As("user:ops"), {"a", "t1"}).ok());
  EXPECT_EQ(Exec("cont", "t1").status, ExecutionStatus::kQueued);
  ASSERT_TRUE(ledger_->RemoveThingFromThingGroup(As("user:ops"), {"b", "t1"}).ok());
  EXPECT_EQ(Exec("cont", "t1").status, ExecutionStatus::kRemoved);
}

TEST_F(LedgerScenarioTest, AssociateTargetsWithContinuousJob) {
  CreateJobRequest r = NewJob("cont", {ThingArnOf("t1")});
  r.target_selection = TargetSelection::kContinuous;
  MustCreate(r);
  MustJoin("late", "t2");
  AssociateTargetsWithJobRequest a;
  a.job_id = "cont";
  a.targets = {GroupArnOf("late"), ThingArnOf("t1")};
  a.comment = "add the late group";
  auto ref = ledger_->AssociateTargetsWithJob(As("user:ops"), a);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(Exec("cont", "t2").status, ExecutionStatus::kQueued);
  EXPECT_EQ(Exec("cont", "t1").execution_number, 1);  // already targeted: no second one
  JobStateView j = Job("cont");
  EXPECT_EQ(j.targets.size(), 2u);
  EXPECT_EQ(j.comment, "add the late group");
  // SNAPSHOT jobs take no new targets; nor do more than 100 in total.
  MustCreate(NewJob("snap", {ThingArnOf("t1")}));
  a.job_id = "snap";
  ExpectRejected(ledger_->AssociateTargetsWithJob(As("user:ops"), a).status(),
                 AwsError::kInvalidRequest, "CONTINUOUS");
  std::vector<std::string> many;
  for (int i = 0; i < 99; ++i) many.push_back(ThingArnOf("m" + std::to_string(i)));
  a.job_id = "cont";
  a.targets = many;
  const uint64_t head = Head();
  ExpectRejected(ledger_->AssociateTargetsWithJob(As("user:ops"), a).status(),
                 AwsError::kLimitExceeded, "at most 100");
  EXPECT_EQ(Head(), head);
}

TEST_F(LedgerScenarioTest, DeletingAThingRemovesItsPendingExecutions) {
  MustJoin("g", "t1");
  MustJoin("g", "t2");
  MustCreate(NewJob("snap", {GroupArnOf("g")}));
  MustUpdate("snap", "t2", ExecutionStatus::kSucceeded);
  ASSERT_TRUE(ledger_->DeleteThing(As("user:ops"), {"t1"}).ok());
  EXPECT_EQ(Exec("snap", "t1").status, ExecutionStatus::kRemoved);
  EXPECT_EQ(Job("snap").status, JobStatus::kSucceeded);  // nothing left pending
  EXPECT_FALSE(ledger_->log().StreamSequences(StreamKind::kThing, "t1")->empty());
  ExpectRejected(ledger_->DeleteThing(As("user:ops"), {"t1"}), AwsError::kResourceNotFound, "t1");
  ExpectRejected(ledger_->DeleteThing(As("user:ops"), {"never"}), AwsError::kResourceNotFound);
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, DeletionAndJobIdReuse) {
  MustCreate(NewJob("j", {ThingArnOf("t1"), ThingArnOf("t2")}));
  MustUpdate("j", "t1", ExecutionStatus::kSucceeded);
  DeleteJobExecutionRequest d;
  d.job_id = "j";
  d.thing_name = "t2";
  d.execution_number = 1;
  ExpectRejected(ledger_->DeleteJobExecution(As("user:ops"), d), AwsError::kInvalidStateTransition,
                 "QUEUED");
  d.thing_name = "t1";
  d.execution_number = 2;
  ExpectRejected(ledger_->DeleteJobExecution(As("user:ops"), d), AwsError::kResourceNotFound);
  d.execution_number = 1;
  ASSERT_TRUE(ledger_->DeleteJobExecution(As("user:ops"), d).ok());
  EXPECT_FALSE(ledger_->GetExecutionState("j", "t1")->has_value());
  EXPECT_EQ(Job("j").count(ExecutionStatus::kSucceeded), 0);

  DeleteJobRequest dj;
  dj.job_id = "j";
  ExpectRejected(ledger_->DeleteJob(As("user:ops"), dj), AwsError::kInvalidStateTransition, "force");
  dj.force = true;
  ASSERT_TRUE(ledger_->DeleteJob(As("user:ops"), dj).ok());
  EXPECT_FALSE(ledger_->GetJobState("j")->has_value());
  EXPECT_TRUE(ledger_->GetPendingJobExecutions("t2")->queued_jobs.empty());
  // The id can be used again: a new incarnation with fresh execution numbers.
  MustCreate(NewJob("j", {ThingArnOf("t2")}));
  EXPECT_EQ(Exec("j", "t2").execution_number, 1);
  EXPECT_EQ(Exec("j", "t2").version_number, 1);
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, EmptySnapshotJobCompletesAtCreation) {
  MustCreate(NewJob("empty", {GroupArnOf("nobody")}));
  JobStateView j = Job("empty");
  EXPECT_EQ(j.status, JobStatus::kSucceeded);
  EXPECT_EQ(j.completed_at_micros, kT0);
}

TEST_F(LedgerScenarioTest, RolloutAtAFixedRate) {
  for (int i = 0; i < 5; ++i) MustJoin("g", "t" + std::to_string(i));
  CreateJobRequest r = NewJob("slow", {GroupArnOf("g")});
  RolloutConfig rollout;
  rollout.maximum_per_minute = 2;
  r.job_executions_rollout_config = rollout;
  MustCreate(r);
  JobStateView j = Job("slow");
  EXPECT_EQ(j.count(ExecutionStatus::kQueued), 2);  // the first window opens at creation
  EXPECT_EQ(j.rollout_pending, 3u);
  EXPECT_EQ(ledger_->NextDue().value(), kT0 + kMinute);
  EXPECT_EQ(AdvanceTo(kT0 + kMinute - 1).appended, 0u);
  AdvanceTo(kT0 + kMinute);
  EXPECT_EQ(Job("slow").count(ExecutionStatus::kQueued), 4);
  // A late advance catches up every window due by then, in order.
  AdvanceTo(kT0 + 10 * kMinute);
  j = Job("slow");
  EXPECT_EQ(j.count(ExecutionStatus::kQueued), 5);
  EXPECT_EQ(j.rollout_pending, 0u);
  EXPECT_FALSE(ledger_->NextDue().value().has_value());
  for (int i = 0; i < 5; ++i) MustUpdate("slow", "t" + std::to_string(i), ExecutionStatus::kSucceeded);
  EXPECT_EQ(Job("slow").status, JobStatus::kSucceeded);
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, RolloutAtAnExponentialRate) {
  // Section 6.1 scaled down: base 2, factor 2, step every 4 notified things, cap 100:
  // windows queue 2, 2 (4 notified: rate 4), 4 (8: rate 8), 8 (16: rate 32), then 4.
  for (int i = 0; i < 20; ++i) MustJoin("g", "t" + std::to_string(100 + i));
  CreateJobRequest r = NewJob("exp", {GroupArnOf("g")});
  RolloutConfig rollout;
  rollout.maximum_per_minute = 100;
  ExponentialRate rate;
  rate.base_rate_per_minute = 2;
  rate.increment_factor = 2.0;
  rate.rate_increase_criteria.number_of_notified_things = 4;
  rollout.exponential_rate = rate;
  r.job_executions_rollout_config = rollout;
  MustCreate(r);
  std::vector<int64_t> queued_after_window = {Job("exp").count(ExecutionStatus::kQueued)};
  std::vector<int32_t> rates = {Job("exp").rollout_rate_per_minute};
  for (int w = 1; w <= 4; ++w) {
    AdvanceTo(kT0 + w * kMinute);
    queued_after_window.push_back(Job("exp").count(ExecutionStatus::kQueued));
    rates.push_back(Job("exp").rollout_rate_per_minute);
  }
  EXPECT_EQ(queued_after_window, (std::vector<int64_t>{2, 4, 8, 16, 20}));
  EXPECT_EQ(rates, (std::vector<int32_t>{2, 4, 8, 32, 64}));
  // The rollout steps are events with the rate they used.
  std::vector<int32_t> step_rates;
  for (const Event& e : EventsAfter(0)) {
    if (const auto* s = std::get_if<RolloutStep>(&e.body)) step_rates.push_back(s->rate_per_minute);
  }
  EXPECT_EQ(step_rates, (std::vector<int32_t>{2, 2, 4, 8, 32}));
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, RolloutRateGrowsWithSucceededThings) {
  for (int i = 0; i < 6; ++i) MustJoin("g", "t" + std::to_string(i));
  CreateJobRequest r = NewJob("exp", {GroupArnOf("g")});
  RolloutConfig rollout;
  ExponentialRate rate;
  rate.base_rate_per_minute = 1;
  rate.increment_factor = 3.0;
  rate.rate_increase_criteria.number_of_succeeded_things = 1;
  rollout.exponential_rate = rate;
  r.job_executions_rollout_config = rollout;
  MustCreate(r);
  EXPECT_EQ(Job("exp").count(ExecutionStatus::kQueued), 1);
  MustUpdate("exp", "t0", ExecutionStatus::kSucceeded);  // 1 succeeded: rate 3
  EXPECT_EQ(Job("exp").rollout_rate_per_minute, 3);
  AdvanceTo(kT0 + kMinute);
  EXPECT_EQ(Job("exp").count(ExecutionStatus::kQueued), 3);
}

TEST_F(LedgerScenarioTest, CancelingARollingOutJobStopsTheRollout) {
  for (int i = 0; i < 5; ++i) MustJoin("g", "t" + std::to_string(i));
  CreateJobRequest r = NewJob("slow", {GroupArnOf("g")});
  RolloutConfig rollout;
  rollout.maximum_per_minute = 1;
  r.job_executions_rollout_config = rollout;
  MustCreate(r);
  CancelJobRequest c;
  c.job_id = "slow";
  ASSERT_TRUE(ledger_->CancelJob(As("user:ops"), c).ok());
  JobStateView j = Job("slow");
  EXPECT_EQ(j.rollout_pending, 0u);
  EXPECT_EQ(j.count(ExecutionStatus::kCanceled), 1);
  EXPECT_EQ(AdvanceTo(kT0 + 10 * kMinute).appended, 0u);
  ExpectStateMatchesLog();
}

TEST_F(LedgerScenarioTest, StateSurvivesReopenWithoutReplay) {
  MustCreate(NewJob("j", {ThingArnOf("t1")}));
  MustUpdate("j", "t1", ExecutionStatus::kInProgress);
  Reopen();
  EXPECT_EQ(Exec("j", "t1").version_number, 2);
  MustUpdate("j", "t1", ExecutionStatus::kSucceeded);
  EXPECT_EQ(Job("j").status, JobStatus::kSucceeded);
}

TEST_F(LedgerScenarioTest, SchedulerRunsDueWorkOnTheHostsIoContext) {
  boost::asio::io_context io;
  AdvanceScheduler scheduler(*ledger_, io.get_executor(), &clock_);
  scheduler.Start();
  CreateJobRequest r = NewJob("timed", {ThingArnOf("t1")});
  r.timeout_config = TimeoutConfig{10};
  MustCreate(r);
  MustUpdate("timed", "t1", ExecutionStatus::kInProgress);
  io.poll();  // arms a timer ten (simulated) minutes out; nothing is due
  EXPECT_EQ(scheduler.runs(), 0u);
  EXPECT_EQ(Exec("timed", "t1").status, ExecutionStatus::kInProgress);
  clock_.Advance(10 * kMinute);
  scheduler.Poke();
  io.poll();
  EXPECT_EQ(scheduler.runs(), 1u);
  EXPECT_TRUE(scheduler.last_error().ok()) << scheduler.last_error().ToString();
  EXPECT_EQ(Exec("timed", "t1").status, ExecutionStatus::kTimedOut);
  scheduler.Stop();
  io.poll();
}

}  // namespace
}  // namespace jobledger::testing
