// Bad input through the Ledger's commands: every identifier of every command with
// path and separator characters, every limit just inside and just outside through the
// command (not only Validate(); see tests/ledger/validation_test.cc for the rules
// themselves), limits configured in LedgerOptions, limits only the decide step can
// check (targets accumulated by AssociateTargetsWithJob), numeric extremes, oversized
// documents and maps. Each rejection names its field and appends nothing.

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "tests/badinput/badinput_test_util.h"

namespace jobledger::badinput {
namespace {

constexpr AwsError kInvalid = AwsError::kInvalidRequest;

// Identifiers no command may take: path parts, key separators, NUL, bytes that are not
// UTF-8, non-ASCII letters, control characters, and the empty string.
std::vector<std::string> BadIds() {
  return {"a/b",
          "..",
          "../../x",
          std::string("a\0b", 3),
          std::string(1, '\0'),
          "a|b",
          "a\xff",
          "\xff",
          "caf\xc3\xa9",
          "a b",
          "a\nb",
          "a\\b",
          "",
          "%2e%2e",
          "a\x1f"};
}

// Job ids also refuse ':' (thing and group names allow it).
std::vector<std::string> BadJobIds() {
  std::vector<std::string> ids = BadIds();
  ids.push_back("a:b");
  ids.push_back(":");
  ids.push_back(Repeat("j", 65));
  return ids;
}

std::vector<std::string> BadThingNames() {
  std::vector<std::string> names = BadIds();
  names.push_back(Repeat("t", 129));
  return names;
}

std::string Shown(const std::string& id) {
  std::string out;
  for (char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return "'" + out + "'";
}

TEST_F(BadInputTest, EveryJobIdOfEveryCommandRefusesPathsAndSeparators) {
  for (const std::string& id : BadJobIds()) {
    SCOPED_TRACE("jobId " + Shown(id));
    ExpectRejected([&] { return ledger_->CreateJob(Ops(), Job(id, {ThingArnOf("t1")})).status(); },
                   kInvalid, "jobId");
    ExpectRejected(
        [&] {
          return ledger_->UpdateJob(Ops(), {id, "d", {}, {}, {}, {}});
        },
        kInvalid, "jobId");
    ExpectRejected(
        [&] {
          return ledger_->CancelJob(Ops(), {id, {}, {}, true}).status();
        },
        kInvalid, "jobId");
    ExpectRejected([&] { return ledger_->DeleteJob(Ops(), {id, true}); }, kInvalid, "jobId");
    ExpectRejected(
        [&] {
          return ledger_->AssociateTargetsWithJob(Ops(), {id, {ThingArnOf("t9")}, {}}).status();
        },
        kInvalid, "jobId");
    ExpectRejected(
        [&] {
          return ledger_->CancelJobExecution(Ops(), {id, "t1", true, {}, {}});
        },
        kInvalid, "jobId");
    ExpectRejected(
        [&] {
          return ledger_->DeleteJobExecution(Ops(), {id, "t1", 1, true});
        },
        kInvalid, "jobId");
    ExpectRejected(
        [&] {
          UpdateJobExecutionRequest u;
          u.job_id = id;
          u.thing_name = "t1";
          u.status = ExecutionStatus::kSucceeded;
          return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
        },
        kInvalid, "jobId");
  }
  ExpectConsistent();
}

TEST_F(BadInputTest, EveryThingAndGroupNameRefusesPathsAndSeparators) {
  for (const std::string& name : BadThingNames()) {
    SCOPED_TRACE("name " + Shown(name));
    ExpectRejected(
        [&] {
          return ledger_->CancelJobExecution(Ops(), {"job-1", name, true, {}, {}});
        },
        kInvalid, "thingName");
    ExpectRejected(
        [&] {
          return ledger_->DeleteJobExecution(Ops(), {"job-1", name, 1, true});
        },
        kInvalid, "thingName");
    ExpectRejected(
        [&] {
          UpdateJobExecutionRequest u;
          u.job_id = "job-1";
          u.thing_name = name;
          u.status = ExecutionStatus::kSucceeded;
          return ledger_->UpdateJobExecution({"thing:x", ""}, u).status();
        },
        kInvalid, "thingName");
    ExpectRejected(
        [&] {
          return ledger_->StartNextPendingJobExecution({"thing:x", ""}, {name, {}, {}}).status();
        },
        kInvalid, "thingName");
    ExpectRejected(
        [&] {
          return ledger_->AddThingToThingGroup(Ops(), {"fleet", name});
        },
        kInvalid, "thingName");
    ExpectRejected(
        [&] {
          return ledger_->RemoveThingFromThingGroup(Ops(), {"fleet", name});
        },
        kInvalid, "thingName");
    ExpectRejected([&] { return ledger_->DeleteThing(Ops(), {name}); }, kInvalid, "thingName");
    ExpectRejected(
        [&] {
          return ledger_->AddThingToThingGroup(Ops(), {name, "t1"});
        },
        kInvalid, "thingGroupName");
    ExpectRejected(
        [&] {
          return ledger_->RemoveThingFromThingGroup(Ops(), {name, "t1"});
        },
        kInvalid, "thingGroupName");
    // Inside a target ARN.
    ExpectRejected(
        [&] { return ledger_->CreateJob(Ops(), Job("new", {ThingArnOf(name)})).status(); },
        kInvalid, "targets[0]");
    ExpectRejected(
        [&] {
          return ledger_->CreateJob(Ops(), Job("new", {ThingArnOf("t1"), GroupArnOf(name)}))
              .status();
        },
        kInvalid, "targets[1]");
    ExpectRejected(
        [&] {
          return ledger_->AssociateTargetsWithJob(Ops(), {"job-1", {GroupArnOf(name)}, {}})
              .status();
        },
        kInvalid, "targets[0]");
  }
  ExpectConsistent();
}

TEST_F(BadInputTest, ColonsInThingNamesAreNamesNotSeparators) {
  // ':' is allowed in thing and group names; it must not split keys or ARNs.
  ASSERT_TRUE(ledger_->AddThingToThingGroup(Ops(), {"a:b", "c:d"}).ok());
  ASSERT_TRUE(ledger_->AddThingToThingGroup(Ops(), {"a", "b:c:d"}).ok());
  CreateJobRequest r = Job("colons", {GroupArnOf("a:b"), ThingArnOf("b:c")});
  ASSERT_TRUE(ledger_->CreateJob(Ops(), r).ok());
  auto pending = ledger_->GetPendingJobExecutions("c:d");
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->queued_jobs.size(), 1u);
  EXPECT_EQ(pending->queued_jobs[0].job_id, "colons");
  EXPECT_TRUE(ledger_->GetPendingJobExecutions("b:c:d")->queued_jobs.empty());
  auto exec = reads_->DescribeJobExecution("colons", "b:c");
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  EXPECT_EQ(exec->thing_arn, ThingArnOf("b:c"));
  EXPECT_FALSE(reads_->DescribeJobExecution("colons", "b").ok());
  ExpectConsistent();
}

TEST_F(BadInputTest, RequestContextIsCheckedByEveryCommand) {
  const std::vector<std::pair<RequestContext, std::string>> bad = {
      {{"", ""}, "actor"},
      {{Repeat("a", 257), ""}, "actor"},
      {{"user:\n", ""}, "actor"},
      {{std::string("a\0b", 3), ""}, "actor"},
      {{"a\xff", ""}, "actor"},
      {{"user:ops", Repeat("r", 256)}, "requestId"},
      {{"user:ops", "r\xc3\xa9"}, "requestId"},
      {{"user:ops", std::string("r\0", 2)}, "requestId"},
  };
  for (const auto& entry : bad) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    const RequestContext& context = entry.first;
    const std::string& field = entry.second;
    SCOPED_TRACE(field + " " + Shown(context.actor) + " " + Shown(context.request_id));
    ExpectRejected(
        [&] { return ledger_->CreateJob(context, Job("x", {ThingArnOf("t1")})).status(); },
        kInvalid, field);
    ExpectRejected(
        [&] {
          return ledger_->AddThingToThingGroup(context, {"fleet", "t9"});
        },
        kInvalid, field);
    ExpectRejected([&] { return ledger_->DeleteThing(context, {"t2"}); }, kInvalid, field);
    ExpectRejected(
        [&] {
          return ledger_->StartNextPendingJobExecution(context, {"t2", {}, {}}).status();
        },
        kInvalid, field);
  }
  // Just inside: 256-byte actor, 255-byte request id.
  EXPECT_TRUE(ledger_->AddThingToThingGroup({Repeat("a", 256), Repeat("r", 255)}, {"g", "t"}).ok());
}

TEST_F(BadInputTest, DocumentAtItsLimitThroughCreateJob) {
  const std::string prefix = R"({"a":")";
  const std::string suffix = R"("})";
  auto document = [&](size_t bytes) {
    return prefix + Repeat("x", bytes - prefix.size() - suffix.size()) + suffix;
  };
  CreateJobRequest r = Job("doc", {ThingArnOf("t1")});
  r.document = document(32769);
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid, "document");
  r.document = Repeat("x", 4 << 20);  // 4 MiB: refused by size before parsing
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid, "document");
  r.document = Repeat("[", 30000);  // deep nesting within the size limit
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid, "document");
  r.document = document(32768);
  ASSERT_TRUE(ledger_->CreateJob(Ops(), r).ok());
  auto stored = reads_->GetJobDocument("doc");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 32768u);
}

TEST_F(BadInputTest, LimitsConfiguredInLedgerOptionsAreTheOnesEnforced) {
  LedgerLimits limits;
  limits.max_targets = 3;
  limits.max_document_bytes = 64;
  limits.max_description_chars = 5;
  limits.max_comment_chars = 4;
  limits.max_status_details_pairs = 2;
  Open(limits);
  CreateJobRequest r =
      Job("small", {ThingArnOf("t1"), ThingArnOf("t2"), ThingArnOf("t3"), ThingArnOf("t4")});
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, AwsError::kLimitExceeded,
                 "targets");
  r.targets.pop_back();
  r.document = "{\"k\":\"" + Repeat("v", 57) + "\"}";  // 65 bytes
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid, "document");
  r.document = "{}";
  r.description = "123456";
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid, "description");
  r.description = "12345";
  ASSERT_TRUE(ledger_->CreateJob(Ops(), r).ok());
  ExpectRejected(
      [&] {
        return ledger_->CancelJob(Ops(), {"small", {}, "12345", false}).status();
      },
      kInvalid, "comment");
  UpdateJobExecutionRequest u;
  u.job_id = "small";
  u.thing_name = "t1";
  u.status = ExecutionStatus::kInProgress;
  u.status_details = DetailsMap{{"a", "1"}, {"b", "2"}, {"c", "3"}};
  ExpectRejected(
      [&] {
        return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
      },
      kInvalid, "statusDetails");
  u.status_details->pop_back();
  EXPECT_TRUE(ledger_->UpdateJobExecution({"thing:t1", ""}, u).ok());
  ExpectConsistent();
}

TEST_F(BadInputTest, TargetsAccumulatedByAssociateStopAtTheLimit) {
  // Validate() sees one request; the total over the job's life is the decide step's.
  std::vector<std::string> targets;
  for (int i = 0; i < 60; ++i) targets.push_back(ThingArnOf("many-" + std::to_string(i)));
  CreateJobRequest r = Job("grow", targets);
  r.target_selection = TargetSelection::kContinuous;
  ASSERT_TRUE(ledger_->CreateJob(Ops(), r).ok());
  std::vector<std::string> more;
  for (int i = 60; i < 101; ++i) more.push_back(ThingArnOf("many-" + std::to_string(i)));
  ExpectRejected(
      [&] {
        return ledger_->AssociateTargetsWithJob(Ops(), {"grow", more, {}}).status();
      },
      AwsError::kLimitExceeded, "targets", /*anywhere=*/true);
  more.pop_back();  // 60 + 40 = 100: just inside
  EXPECT_TRUE(ledger_->AssociateTargetsWithJob(Ops(), {"grow", more, {}}).ok());
  ExpectRejected(
      [&] {
        return ledger_->AssociateTargetsWithJob(Ops(), {"grow", {ThingArnOf("one-more")}, {}})
            .status();
      },
      AwsError::kLimitExceeded, "targets", /*anywhere=*/true);
  ExpectConsistent();
}

TEST_F(BadInputTest, OversizedMapsAndListsAreRefusedWholeAndQuickly) {
  DetailsMap huge;
  for (int i = 0; i < 100000; ++i) huge.emplace_back("k" + std::to_string(i), "v");
  UpdateJobExecutionRequest u;
  u.job_id = "job-1";
  u.thing_name = "t1";
  u.status = ExecutionStatus::kInProgress;
  u.status_details = huge;
  ExpectRejected(
      [&] {
        return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
      },
      kInvalid, "statusDetails");
  u.status_details = DetailsMap{{"k", Repeat("v", 1025)}};
  ExpectRejected(
      [&] {
        return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
      },
      kInvalid, "statusDetails.k");
  u.status_details = DetailsMap{{Repeat("k", 129), "v"}};
  ExpectRejected(
      [&] {
        return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
      },
      kInvalid, "statusDetails[0].key");
  std::vector<std::string> targets(100000, ThingArnOf("same"));
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), Job("big", targets)).status(); },
                 AwsError::kLimitExceeded, "targets");
  CreateJobRequest r = Job("big", {ThingArnOf("t1")});
  r.abort_config = AbortConfig{};
  r.abort_config->criteria_list.assign(100000, AbortCriteria{FailureType::kAll, 10, 1});
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid,
                 "abortConfig.criteriaList");
  r.abort_config.reset();
  r.description = Repeat("d", 1 << 20);
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid, "description");
  ExpectConsistent();
}

TEST_F(BadInputTest, NumericExtremesAreRefusedOrAnsweredWithoutAppending) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  UpdateJobExecutionRequest u;
  u.job_id = "job-1";
  u.thing_name = "t1";
  u.status = ExecutionStatus::kInProgress;
  for (int64_t bad : {kMin, int64_t{-2}, int64_t{0}, int64_t{10081}, kMax}) {
    SCOPED_TRACE(bad);
    u.step_timeout_in_minutes = bad;
    ExpectRejected(
        [&] {
          return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
        },
        kInvalid, "stepTimeoutInMinutes");
  }
  u.step_timeout_in_minutes.reset();
  for (int64_t bad : {kMin, int64_t{0}}) {
    u.expected_version = bad;
    ExpectRejected(
        [&] {
          return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
        },
        kInvalid, "expectedVersion");
  }
  u.expected_version = kMax;  // well-formed, but not the execution's version
  ExpectRejected(
      [&] {
        return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
      },
      AwsError::kVersionConflict, "", /*anywhere=*/true);
  u.expected_version.reset();
  u.execution_number = kMax;
  ExpectRejected(
      [&] {
        return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
      },
      AwsError::kResourceNotFound, "", /*anywhere=*/true);
  u.execution_number = kMin;
  ExpectRejected(
      [&] {
        return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
      },
      kInvalid, "executionNumber");
  ExpectRejected(
      [&] {
        return ledger_->DeleteJobExecution(Ops(), {"job-1", "t1", kMax, true});
      },
      AwsError::kResourceNotFound, "", /*anywhere=*/true);
  ExpectRejected(
      [&] {
        return ledger_->DeleteJobExecution(Ops(), {"job-1", "t1", kMin, true});
      },
      kInvalid, "executionNumber");
  ExpectRejected(
      [&] {
        return ledger_->CancelJobExecution(Ops(), {"job-1", "t1", true, kMin, {}});
      },
      kInvalid, "expectedVersion");
  CreateJobRequest r = Job("n", {ThingArnOf("t1")});
  r.timeout_config = TimeoutConfig{kMax};
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid,
                 "timeoutConfig.inProgressTimeoutInMinutes");
  r.timeout_config.reset();
  r.presigned_url_config = PresignedUrlConfig{"arn:aws:iam::123456789012:role/R", kMin};
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid,
                 "presignedUrlConfig.expiresInSec");
  r.presigned_url_config.reset();
  r.job_executions_rollout_config =
      RolloutConfig{std::numeric_limits<int32_t>::min(), std::nullopt};
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid,
                 "jobExecutionsRolloutConfig.maximumPerMinute");
  r.job_executions_rollout_config.reset();
  r.target_selection = static_cast<TargetSelection>(7);
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid,
                 "targetSelection");
  r.target_selection.reset();
  r.abort_config = AbortConfig{{AbortCriteria{static_cast<FailureType>(9), 10, 1}}};
  ExpectRejected([&] { return ledger_->CreateJob(Ops(), r).status(); }, kInvalid,
                 "abortConfig.criteriaList[0].failureType");
  u = UpdateJobExecutionRequest{};
  u.job_id = "job-1";
  u.thing_name = "t1";
  u.status = static_cast<ExecutionStatus>(200);
  ExpectRejected(
      [&] {
        return ledger_->UpdateJobExecution({"thing:t1", ""}, u).status();
      },
      kInvalid, "status");
  ExpectConsistent();
}

}  // namespace
}  // namespace jobledger::badinput
