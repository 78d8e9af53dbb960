#include "tests/support/random_commands.h"

#include <gtest/gtest.h>

#include <iterator>

#include "jobledger/validation.h"

namespace jobledger::testing {

void RandomStep(std::mt19937_64& rng, const RandomWorld& world, Ledger& ledger, ManualClock& clock,
                RandomCounts* counts, std::string* drawn_job, std::string* drawn_thing) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::string job = "j" + std::to_string(pick(0, world.jobs - 1));
  const std::string thing = "t" + std::to_string(pick(0, world.things - 1));
  const std::string group = "g" + std::to_string(pick(0, world.groups - 1));
  if (drawn_job != nullptr) *drawn_job = job;
  if (drawn_thing != nullptr) *drawn_thing = thing;
  const ValidationContext& arns = ledger.context();
  auto target = [&]() {
    return pick(0, 2) == 0 ? ThingGroupArn(arns, "g" + std::to_string(pick(0, world.groups - 1)))
                           : ThingArn(arns, "t" + std::to_string(pick(0, world.things - 1)));
  };
  auto context = [&](const std::string& actor) {
    RequestContext c{actor, ""};
    if (world.request_ids && pick(0, 2) == 0) c.request_id = "req-" + std::to_string(++counts->requests);
    return c;
  };
  auto check = [&](const Status& s, const char* what) {
    if (s.ok()) {
      ++counts->accepted;
    } else {
      ++counts->rejected;
      EXPECT_NE(s.aws_error(), AwsError::kNone) << what << ": " << s.ToString();
    }
  };
  static constexpr ExecutionStatus kDeviceStatuses[] = {
      ExecutionStatus::kInProgress, ExecutionStatus::kInProgress, ExecutionStatus::kSucceeded,
      ExecutionStatus::kFailed, ExecutionStatus::kRejected};
  if (world.clock_jitter) clock.Advance(int64_t{pick(0, 3)} * kMicrosPerSecond);
  const int op = pick(0, 99);
  if (op < 14) {
    CreateJobRequest r;
    r.job_id = job;
    const int n = pick(1, 3);
    for (int i = 0; i < n; ++i) r.targets.push_back(target());
    if (pick(0, 2) == 0) r.target_selection = TargetSelection::kContinuous;
    if (pick(0, 3) == 0) {
      RolloutConfig rollout;
      rollout.maximum_per_minute = pick(1, 2);
      r.job_executions_rollout_config = rollout;
    }
    if (pick(0, 2) == 0) {
      TimeoutConfig timeout;
      timeout.in_progress_timeout_in_minutes = pick(1, 5);
      r.timeout_config = timeout;
    }
    if (pick(0, 4) == 0) {
      AbortCriteria c;
      c.failure_type = FailureType::kFailed;
      c.threshold_percentage = 50;
      c.min_number_of_executed_things = 1;
      AbortConfig abort;
      abort.criteria_list.push_back(c);
      r.abort_config = abort;
    }
    if (pick(0, 3) == 0) r.description = "d" + std::to_string(pick(0, 99));
    r.document = R"({"operation":"install","n":)" + std::to_string(pick(0, 99)) + "}";
    check(ledger.CreateJob(context("user:ops"), r).status(), "CreateJob");
  } else if (op < 26) {
    check(ledger.AddThingToThingGroup(context("user:ops"), {group, thing}), "AddThingToThingGroup");
  } else if (op < 32) {
    check(ledger.RemoveThingFromThingGroup(context("user:ops"), {group, thing}), "RemoveThingFromThingGroup");
  } else if (op < 54) {
    UpdateJobExecutionRequest u;
    u.job_id = job;
    u.thing_name = thing;
    u.status = kDeviceStatuses[pick(0, static_cast<int>(std::size(kDeviceStatuses)) - 1)];
    if (pick(0, 4) == 0) u.step_timeout_in_minutes = pick(1, 3);
    if (pick(0, 2) == 0) u.status_details = DetailsMap{{"progress", std::to_string(pick(0, 9)) + "0%"}};
    check(ledger.UpdateJobExecution(context("thing:" + thing), u).status(), "UpdateJobExecution");
  } else if (op < 60) {
    StartNextPendingJobExecutionRequest s;
    s.thing_name = thing;
    if (pick(0, 1) == 0) s.step_timeout_in_minutes = pick(1, 3);
    check(ledger.StartNextPendingJobExecution(context("thing:" + thing), s).status(),
          "StartNextPendingJobExecution");
  } else if (op < 65) {
    CancelJobRequest c;
    c.job_id = job;
    c.force = pick(0, 1) == 0;
    if (pick(0, 1) == 0) c.reason_code = "why";
    if (pick(0, 1) == 0) c.comment = "comment " + std::to_string(pick(0, 9));
    check(ledger.CancelJob(context("user:ops"), c).status(), "CancelJob");
  } else if (op < 71) {
    DeleteJobRequest d;
    d.job_id = job;
    d.force = pick(0, 2) != 0;
    check(ledger.DeleteJob(context("user:ops"), d), "DeleteJob");
  } else if (op < 75) {
    CancelJobExecutionRequest c;
    c.job_id = job;
    c.thing_name = thing;
    c.force = pick(0, 1) == 0;
    check(ledger.CancelJobExecution(context("user:ops"), c), "CancelJobExecution");
  } else if (op < 78) {
    DeleteJobExecutionRequest d;
    d.job_id = job;
    d.thing_name = thing;
    d.execution_number = pick(1, 2);
    d.force = pick(0, 1) == 0;
    check(ledger.DeleteJobExecution(context("user:ops"), d), "DeleteJobExecution");
  } else if (op < 82) {
    AssociateTargetsWithJobRequest a;
    a.job_id = job;
    a.targets = {target()};
    check(ledger.AssociateTargetsWithJob(context("user:ops"), a).status(), "AssociateTargetsWithJob");
  } else if (op < 84) {
    UpdateJobRequest u;
    u.job_id = job;
    u.description = "u" + std::to_string(pick(0, 99));
    check(ledger.UpdateJob(context("user:ops"), u), "UpdateJob");
  } else if (op < 86) {
    DeleteThingRequest d;
    d.thing_name = thing;
    check(ledger.DeleteThing(context("user:ops"), d), "DeleteThing");
  } else if (op < 96 || !world.clock_jitter) {
    clock.Advance(int64_t{pick(5, 150)} * kMicrosPerSecond);
    auto advanced = ledger.AdvanceTo(clock.NowMicros());
    EXPECT_TRUE(advanced.ok()) << advanced.status().ToString();
  } else {
    // The clock steps back: the next events are clamped to the last recordedAt.
    clock.Advance(-int64_t{pick(1, 30)} * kMicrosPerSecond);
  }
}

}  // namespace jobledger::testing
