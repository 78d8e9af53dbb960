#include "jobledger/validation.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jobledger {
namespace {

// ---- helpers ----

// UTF-8 encoding of one code point (also encodes surrogates, for the negative tests).
std::string U(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return out;
}

std::string Repeat(std::string_view unit, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += unit;
  return out;
}

std::string WithNul() { return std::string("a\0b", 3); }

const ValidationContext& Ctx() {
  static const ValidationContext context;
  return context;
}

std::string Thing(std::string_view name) { return ThingArn(Ctx(), name); }
std::string Group(std::string_view name) { return ThingGroupArn(Ctx(), name); }

std::vector<std::string> ThingTargets(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(Thing("thing-" + std::to_string(i)));
  return out;
}

DetailsMap Pairs(size_t n) {
  DetailsMap out;
  for (size_t i = 0; i < n; ++i) out.emplace_back("k" + std::to_string(i), "v");
  return out;
}

AbortCriteria Criterion(double threshold) {
  AbortCriteria c;
  c.failure_type = FailureType::kFailed;
  c.threshold_percentage = threshold;
  c.min_number_of_executed_things = 10;
  return c;
}

// ---- valid baselines: every optional member set, so each row can break one ----

PresignedUrlConfig BasePresigned() {
  PresignedUrlConfig config;
  config.role_arn = "arn:aws:iam::123456789012:role/JobsRole";
  config.expires_in_sec = 3600;
  return config;
}

RolloutConfig BaseRollout() {
  RolloutConfig config;
  config.maximum_per_minute = 100;
  ExponentialRate rate;
  rate.base_rate_per_minute = 10;
  rate.increment_factor = 2.0;
  rate.rate_increase_criteria.number_of_notified_things = 5;
  config.exponential_rate = rate;
  return config;
}

AbortConfig BaseAbort() {
  AbortConfig config;
  config.criteria_list.push_back(Criterion(50));
  return config;
}

TimeoutConfig BaseTimeout() {
  TimeoutConfig config;
  config.in_progress_timeout_in_minutes = 60;
  return config;
}

template <typename Request>
Request Baseline();

template <>
CreateJobRequest Baseline() {
  CreateJobRequest r;
  r.job_id = "job-1";
  r.targets = {Thing("thing-1"), Group("group-1")};
  r.document = R"({"operation":"update","url":"https://example.com/fw.bin"})";
  r.description = "Firmware update";
  r.target_selection = TargetSelection::kContinuous;
  r.presigned_url_config = BasePresigned();
  r.job_executions_rollout_config = BaseRollout();
  r.abort_config = BaseAbort();
  r.timeout_config = BaseTimeout();
  return r;
}

template <>
UpdateJobRequest Baseline() {
  UpdateJobRequest r;
  r.job_id = "job-1";
  r.description = "Firmware update";
  r.presigned_url_config = BasePresigned();
  r.job_executions_rollout_config = BaseRollout();
  r.abort_config = BaseAbort();
  r.timeout_config = BaseTimeout();
  return r;
}

template <>
CancelJobRequest Baseline() {
  CancelJobRequest r;
  r.job_id = "job-1";
  r.reason_code = "OPERATOR_STOP";
  r.comment = "Stopped by operator";
  return r;
}

template <>
DeleteJobRequest Baseline() {
  DeleteJobRequest r;
  r.job_id = "job-1";
  return r;
}

template <>
AssociateTargetsWithJobRequest Baseline() {
  AssociateTargetsWithJobRequest r;
  r.job_id = "job-1";
  r.targets = {Thing("thing-2")};
  r.comment = "More devices";
  return r;
}

template <>
CancelJobExecutionRequest Baseline() {
  CancelJobExecutionRequest r;
  r.job_id = "job-1";
  r.thing_name = "thing-1";
  r.expected_version = 3;
  r.status_details = DetailsMap{{"reason", "operator"}};
  return r;
}

template <>
DeleteJobExecutionRequest Baseline() {
  DeleteJobExecutionRequest r;
  r.job_id = "job-1";
  r.thing_name = "thing-1";
  r.execution_number = 1;
  return r;
}

template <>
UpdateJobExecutionRequest Baseline() {
  UpdateJobExecutionRequest r;
  r.job_id = "job-1";
  r.thing_name = "thing-1";
  r.status = ExecutionStatus::kInProgress;
  r.status_details = DetailsMap{{"progress", "50%"}};
  r.expected_version = 1;
  r.step_timeout_in_minutes = 5;
  r.execution_number = 1;
  return r;
}

template <>
StartNextPendingJobExecutionRequest Baseline() {
  StartNextPendingJobExecutionRequest r;
  r.thing_name = "thing-1";
  r.status_details = DetailsMap{{"progress", "0%"}};
  r.step_timeout_in_minutes = 5;
  return r;
}

template <>
ThingGroupMembershipRequest Baseline() {
  ThingGroupMembershipRequest r;
  r.thing_group_name = "group-1";
  r.thing_name = "thing-1";
  return r;
}

template <>
DeleteThingRequest Baseline() {
  DeleteThingRequest r;
  r.thing_name = "thing-1";
  return r;
}

template <>
RequestContext Baseline() {
  RequestContext r;
  r.actor = "user:alice";
  r.request_id = "req-1";
  return r;
}

// Validates the baseline of `Request` after one mutation.
template <typename Request>
std::function<Status()> With(std::function<void(Request&)> mutate,
                             ValidationContext context = Ctx()) {
  return [mutate = std::move(mutate), context = std::move(context)] {
    Request request = Baseline<Request>();
    mutate(request);
    return Validate(request, context);
  };
}

ValidationContext WithLimits(std::function<void(LedgerLimits&)> change) {
  ValidationContext context;
  change(context.limits);
  return context;
}

// ---- the table ----

struct Case {
  std::string name;
  std::function<Status()> run;
  // Empty: must pass. Otherwise the message must start with "<field>: ".
  std::string field;
  AwsError aws = AwsError::kInvalidRequest;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Case Ok(std::string name, std::function<Status()> run) {
  Case c;
  c.name = std::move(name);
  c.run = std::move(run);
  return c;
}

Case Bad(std::string name, std::function<Status()> run, std::string field,
         AwsError aws = AwsError::kInvalidRequest) {
  Case c;
  c.name = std::move(name);
  c.run = std::move(run);
  c.field = std::move(field);
  c.aws = aws;
  return c;
}

class ValidationTable : public ::testing::TestWithParam<Case> {};

TEST_P(ValidationTable, Rule) {
  const Case& c = GetParam();
  const Status status = c.run();
  if (c.field.empty()) {
    EXPECT_TRUE(status.ok()) << status.ToString();
    return;
  }
  ASSERT_FALSE(status.ok()) << "expected a rejection naming " << c.field;
  const StatusCode code = c.aws == AwsError::kLimitExceeded ? StatusCode::kResourceExhausted
                                                            : StatusCode::kInvalidArgument;
  EXPECT_EQ(status.code(), code) << status.ToString();
  EXPECT_EQ(status.aws_error(), c.aws) << status.ToString();
  EXPECT_EQ(status.message().rfind(c.field + ": ", 0), 0u) << status.message();
  // Values are quoted escaped and shortened: one line of printable ASCII, never the
  // whole of a long value.
  for (char ch : status.message()) {
    const auto byte = static_cast<unsigned char>(ch);
    EXPECT_TRUE(byte >= 0x20 && byte < 0x7f)
        << "unescaped byte " << int{byte} << " in " << status.message();
  }
  EXPECT_LT(status.message().size(), 400u) << status.message();
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

#define JOBLEDGER_VALIDATION_TABLE(family, ...)                 \
  INSTANTIATE_TEST_SUITE_P(Validation##family, ValidationTable, \
                           ::testing::ValuesIn(std::vector<Case>(__VA_ARGS__)), CaseName)

using Create = CreateJobRequest;
using Update = UpdateJobRequest;
using CancelJob = CancelJobRequest;
using Associate = AssociateTargetsWithJobRequest;
using CancelExec = CancelJobExecutionRequest;
using DeleteExec = DeleteJobExecutionRequest;
using UpdateExec = UpdateJobExecutionRequest;
using StartNext = StartNextPendingJobExecutionRequest;
using Membership = ThingGroupMembershipRequest;

constexpr AwsError kLimit = AwsError::kLimitExceeded;

JOBLEDGER_VALIDATION_TABLE(Baselines,
                           {
                               Ok("CreateJob", With<Create>([](Create&) {})),
                               Ok("UpdateJob", With<Update>([](Update&) {})),
                               Ok("CancelJob", With<CancelJob>([](CancelJob&) {})),
                               Ok("DeleteJob", With<DeleteJobRequest>([](DeleteJobRequest&) {})),
                               Ok("AssociateTargets", With<Associate>([](Associate&) {})),
                               Ok("CancelJobExecution", With<CancelExec>([](CancelExec&) {})),
                               Ok("DeleteJobExecution", With<DeleteExec>([](DeleteExec&) {})),
                               Ok("UpdateJobExecution", With<UpdateExec>([](UpdateExec&) {})),
                               Ok("StartNextPending", With<StartNext>([](StartNext&) {})),
                               Ok("ThingGroupMembership", With<Membership>([](Membership&) {})),
                               Ok("DeleteThing",
                                  With<DeleteThingRequest>([](DeleteThingRequest&) {})),
                               Ok("RequestContext", With<RequestContext>([](RequestContext&) {})),
                               // Every optional member omitted.
                               Ok("CreateJobMinimal", With<Create>([](Create& r) {
                                    r.description.reset();
                                    r.target_selection.reset();
                                    r.presigned_url_config.reset();
                                    r.job_executions_rollout_config.reset();
                                    r.abort_config.reset();
                                    r.timeout_config.reset();
                                  })),
                               Ok("UpdateJobNothing", With<Update>([](Update& r) {
                                    r = UpdateJobRequest{};
                                    r.job_id = "j";
                                  })),
                               Ok("CancelJobBare", With<CancelJob>([](CancelJob& r) {
                                    r.reason_code.reset();
                                    r.comment.reset();
                                  })),
                               Ok("UpdateExecutionBare", With<UpdateExec>([](UpdateExec& r) {
                                    r.status_details.reset();
                                    r.expected_version.reset();
                                    r.step_timeout_in_minutes.reset();
                                    r.execution_number.reset();
                                  })),
                               Ok("StartNextBare", With<StartNext>([](StartNext& r) {
                                    r.status_details.reset();
                                    r.step_timeout_in_minutes.reset();
                                  })),
                           });

JOBLEDGER_VALIDATION_TABLE(
    JobId,
    {
        Ok("OneChar", With<Create>([](Create& r) { r.job_id = "a"; })),
        Ok("MaxLength64", With<Create>([](Create& r) { r.job_id = Repeat("a", 64); })),
        Ok("AllClasses", With<Create>([](Create& r) { r.job_id = "AZaz09_-"; })),
        Bad("RejectsEmpty", With<Create>([](Create& r) { r.job_id = ""; }), "jobId"),
        Bad("RejectsLength65", With<Create>([](Create& r) { r.job_id = Repeat("a", 65); }),
            "jobId"),
        Bad("RejectsSlash", With<Create>([](Create& r) { r.job_id = "a/b"; }), "jobId"),
        Bad("RejectsDotDot", With<Create>([](Create& r) { r.job_id = ".."; }), "jobId"),
        Bad("RejectsDot", With<Create>([](Create& r) { r.job_id = "v1.2"; }), "jobId"),
        Bad("RejectsNul", With<Create>([](Create& r) { r.job_id = WithNul(); }), "jobId"),
        Bad("RejectsSpace", With<Create>([](Create& r) { r.job_id = "a b"; }), "jobId"),
        Bad("RejectsColon", With<Create>([](Create& r) { r.job_id = "a:b"; }), "jobId"),
        Bad("RejectsNonAscii", With<Create>([](Create& r) { r.job_id = "j" + U(0xf6) + "b"; }),
            "jobId"),
        Bad("RejectsNewline", With<Create>([](Create& r) { r.job_id = "job\n"; }), "jobId"),
        // The pattern covers the whole value, not a substring.
        Bad("RejectsTrailingBad", With<Create>([](Create& r) { r.job_id = "job-1$"; }), "jobId"),
        Bad("UpdateJob", With<Update>([](Update& r) { r.job_id = "a/b"; }), "jobId"),
        Bad("CancelJob", With<CancelJob>([](CancelJob& r) { r.job_id = "a/b"; }), "jobId"),
        Bad("DeleteJob", With<DeleteJobRequest>([](DeleteJobRequest& r) { r.job_id = ""; }),
            "jobId"),
        Bad("AssociateTargets", With<Associate>([](Associate& r) { r.job_id = ".."; }), "jobId"),
        Bad("CancelJobExecution", With<CancelExec>([](CancelExec& r) { r.job_id = "a b"; }),
            "jobId"),
        Bad("DeleteJobExecution", With<DeleteExec>([](DeleteExec& r) { r.job_id = "a b"; }),
            "jobId"),
        Bad("UpdateJobExecution",
            With<UpdateExec>([](UpdateExec& r) { r.job_id = Repeat("x", 65); }), "jobId"),
    });

JOBLEDGER_VALIDATION_TABLE(
    ThingName,
    {
        Ok("OneChar", With<CancelExec>([](CancelExec& r) { r.thing_name = "t"; })),
        Ok("MaxLength128",
           With<CancelExec>([](CancelExec& r) { r.thing_name = Repeat("t", 128); })),
        Ok("AllClasses", With<CancelExec>([](CancelExec& r) { r.thing_name = "AZaz09:_-"; })),
        Bad("RejectsEmpty", With<CancelExec>([](CancelExec& r) { r.thing_name = ""; }),
            "thingName"),
        Bad("RejectsLength129",
            With<CancelExec>([](CancelExec& r) { r.thing_name = Repeat("t", 129); }), "thingName"),
        Bad("RejectsSlash", With<CancelExec>([](CancelExec& r) { r.thing_name = "a/b"; }),
            "thingName"),
        Bad("RejectsDotDot", With<CancelExec>([](CancelExec& r) { r.thing_name = ".."; }),
            "thingName"),
        Bad("RejectsNul", With<CancelExec>([](CancelExec& r) { r.thing_name = WithNul(); }),
            "thingName"),
        Bad("RejectsSpace", With<CancelExec>([](CancelExec& r) { r.thing_name = "a b"; }),
            "thingName"),
        Bad("RejectsNonAscii",
            With<CancelExec>([](CancelExec& r) { r.thing_name = "th" + U(0x4e2d); }), "thingName"),
        Bad("DeleteJobExecution", With<DeleteExec>([](DeleteExec& r) { r.thing_name = "a/b"; }),
            "thingName"),
        Bad("UpdateJobExecution", With<UpdateExec>([](UpdateExec& r) { r.thing_name = ".."; }),
            "thingName"),
        Bad("StartNextPending", With<StartNext>([](StartNext& r) { r.thing_name = ""; }),
            "thingName"),
        Bad("Membership", With<Membership>([](Membership& r) { r.thing_name = "a b"; }),
            "thingName"),
        Ok("DeleteThingMax128", With<DeleteThingRequest>([](DeleteThingRequest& r) {
             r.thing_name = Repeat("t", 128);
           })),
        Bad("DeleteThing",
            With<DeleteThingRequest>([](DeleteThingRequest& r) { r.thing_name = "a/b"; }),
            "thingName"),
        Ok("GroupMaxLength128",
           With<Membership>([](Membership& r) { r.thing_group_name = Repeat("g", 128); })),
        Ok("GroupAllClasses",
           With<Membership>([](Membership& r) { r.thing_group_name = "AZaz09:_-"; })),
        Bad("GroupRejectsEmpty", With<Membership>([](Membership& r) { r.thing_group_name = ""; }),
            "thingGroupName"),
        Bad("GroupRejectsLength129",
            With<Membership>([](Membership& r) { r.thing_group_name = Repeat("g", 129); }),
            "thingGroupName"),
        Bad("GroupRejectsSlash",
            With<Membership>([](Membership& r) { r.thing_group_name = "a/b"; }), "thingGroupName"),
        Bad("GroupRejectsNul",
            With<Membership>([](Membership& r) { r.thing_group_name = WithNul(); }),
            "thingGroupName"),
    });

JOBLEDGER_VALIDATION_TABLE(
    Targets,
    {
        Ok("OneThing", With<Create>([](Create& r) { r.targets = {Thing("t")}; })),
        Ok("OneGroup", With<Create>([](Create& r) { r.targets = {Group("g")}; })),
        Ok("Exactly100", With<Create>([](Create& r) { r.targets = ThingTargets(100); })),
        Ok("ThingNameWithColons", With<Create>([](Create& r) { r.targets = {Thing("a:b:c")}; })),
        Ok("ThingName128", With<Create>([](Create& r) { r.targets = {Thing(Repeat("t", 128))}; })),
        Ok("SameNameThingAndGroup", With<Create>([](Create& r) {
             r.targets = {Thing("x"), Group("x")};
           })),
        Bad("RejectsEmptyList", With<Create>([](Create& r) { r.targets.clear(); }), "targets"),
        Bad("Rejects101AsLimitExceeded",
            With<Create>([](Create& r) { r.targets = ThingTargets(101); }), "targets", kLimit),
        Bad("ConfiguredLimit",
            With<Create>([](Create& r) { r.targets = ThingTargets(6); },
                         WithLimits([](LedgerLimits& l) { l.max_targets = 5; })),
            "targets", kLimit),
        Bad("RejectsDuplicate", With<Create>([](Create& r) {
              r.targets = {Thing("a"), Group("b"), Thing("a")};
            }),
            "targets[2]"),
        Bad("RejectsOtherRegion", With<Create>([](Create& r) {
              r.targets = {Thing("a"), "arn:aws:iot:eu-west-1:123456789012:thing/b"};
            }),
            "targets[1]"),
        Bad("RejectsOtherAccount", With<Create>([](Create& r) {
              r.targets = {"arn:aws:iot:us-east-1:210987654321:thing/b"};
            }),
            "targets[0]"),
        Bad("RejectsOtherPartition", With<Create>([](Create& r) {
              r.targets = {"arn:aws-cn:iot:us-east-1:123456789012:thing/b"};
            }),
            "targets[0]"),
        Bad("RejectsOtherService", With<Create>([](Create& r) {
              r.targets = {"arn:aws:s3:us-east-1:123456789012:thing/b"};
            }),
            "targets[0]"),
        Bad("RejectsJobArn",
            With<Create>([](Create& r) { r.targets = {JobArn(Ctx(), "other-job")}; }),
            "targets[0]"),
        Bad("RejectsNoResourceType",
            With<Create>([](Create& r) { r.targets = {"arn:aws:iot:us-east-1:123456789012:b"}; }),
            "targets[0]"),
        Bad("RejectsTooFewParts", With<Create>([](Create& r) { r.targets = {"arn:aws:iot"}; }),
            "targets[0]"),
        Bad("RejectsBareName", With<Create>([](Create& r) { r.targets = {"thing-1"}; }),
            "targets[0]"),
        Bad("RejectsEmptyName", With<Create>([](Create& r) { r.targets = {Thing("")}; }),
            "targets[0]"),
        Bad("RejectsSlashInName", With<Create>([](Create& r) { r.targets = {Thing("a/b")}; }),
            "targets[0]"),
        Bad("RejectsDotDotName", With<Create>([](Create& r) { r.targets = {Group("..")}; }),
            "targets[0]"),
        Bad("RejectsThingName129",
            With<Create>([](Create& r) { r.targets = {Thing(Repeat("t", 129))}; }), "targets[0]"),
        Bad("RejectsGroupName129",
            With<Create>([](Create& r) { r.targets = {Group(Repeat("g", 129))}; }), "targets[0]"),
        Bad("RejectsArnOver2048", With<Create>([](Create& r) {
              r.targets = {Thing(Repeat("t", 2049 - Thing("").size()))};
            }),
            "targets[0]"),
        Bad("RejectsUpperCaseType", With<Create>([](Create& r) {
              r.targets = {"arn:aws:iot:us-east-1:123456789012:Thing/b"};
            }),
            "targets[0]"),
        Ok("AssociateExactly100",
           With<Associate>([](Associate& r) { r.targets = ThingTargets(100); })),
        Bad("AssociateRejects101",
            With<Associate>([](Associate& r) { r.targets = ThingTargets(101); }), "targets",
            kLimit),
        Bad("AssociateRejectsEmpty", With<Associate>([](Associate& r) { r.targets.clear(); }),
            "targets"),
        Bad("AssociateRejectsDuplicate", With<Associate>([](Associate& r) {
              r.targets = {Group("g"), Group("g")};
            }),
            "targets[1]"),
        Bad("AssociateRejectsOtherRegion", With<Associate>([](Associate& r) {
              r.targets = {"arn:aws:iot:us-west-2:123456789012:thinggroup/g"};
            }),
            "targets[0]"),
    });

JOBLEDGER_VALIDATION_TABLE(
    Document,
    {
        Ok("Object", With<Create>([](Create& r) { r.document = R"({"a":[1,2.5,true,null]})"; })),
        Ok("Utf8String", With<Create>([](Create& r) {
             r.document = "{\"name\":\"" + U(0xe9) + U(0x4e2d) + U(0x1f600) + "\"}";
           })),
        Ok("Exactly32768Bytes", With<Create>([](Create& r) {
             r.document = "{\"p\":\"" + Repeat("x", 32768 - 8) + "\"}";
           })),
        Bad("RejectsMissing", With<Create>([](Create& r) { r.document.reset(); }), "document"),
        Bad("RejectsEmpty", With<Create>([](Create& r) { r.document = ""; }), "document"),
        Bad("Rejects32769Bytes", With<Create>([](Create& r) {
              r.document = "{\"p\":\"" + Repeat("x", 32769 - 8) + "\"}";
            }),
            "document"),
        Bad("ConfiguredLimit",
            With<Create>([](Create& r) { r.document = R"({"a":1})"; },
                         WithLimits([](LedgerLimits& l) { l.max_document_bytes = 6; })),
            "document"),
        Bad("RejectsTruncatedJson", With<Create>([](Create& r) { r.document = R"({"a":)"; }),
            "document"),
        Bad("RejectsTrailingGarbage", With<Create>([](Create& r) { r.document = "{} x"; }),
            "document"),
        Bad("RejectsComments", With<Create>([](Create& r) { r.document = "{/* c */}"; }),
            "document"),
        Bad("RejectsInvalidUtf8", With<Create>([](Create& r) { r.document = "{\"a\":\"\xff\"}"; }),
            "document"),
        Bad("RejectsLatin1", With<Create>([](Create& r) { r.document = "{\"a\":\"caf\xe9\"}"; }),
            "document"),
    });

// Free text with [^\p{C}]+: description (CreateJob, UpdateJob), comment (CancelJob,
// AssociateTargetsWithJob).
std::function<Status()> Description(std::string text) {
  return With<Create>([text = std::move(text)](Create& r) { r.description = text; });
}

JOBLEDGER_VALIDATION_TABLE(
    Description,
    {
        Ok("OneChar", Description("x")),
        Ok("Max2028Chars", Description(Repeat("d", 2028))),
        // The limit counts code points, not bytes: 2028 two-byte characters pass.
        Ok("Max2028TwoByteChars", Description(Repeat(U(0xe9), 2028))),
        Ok("Max2028FourByteChars", Description(Repeat(U(0x1f680), 2028))),
        Ok("SpacesAndPunctuation", Description("Update: v1.2 -> v1.3 (50% rollout)!")),
        Ok("NoBreakSpace", Description("a" + U(0xa0) + "b")),
        Ok("Cjk", Description(U(0x66f4) + U(0x65b0))),
        Ok("CombiningMark", Description("e" + U(0x301))),
        // Neighbours of rejected ranges.
        Ok("ReplacementCharacter", Description(U(0xfffd))),
        Ok("AfterNoncharacterBlock", Description(U(0xfdf0))),
        Ok("AfterPrivateUseArea", Description(U(0xf900))),
        Ok("AfterC1Controls", Description(U(0xa1))),
        Ok("VariationSelectorSupplement", Description(U(0xe0100))),
        Ok("Emoji", Description(U(0x1f600))),
        Bad("RejectsEmpty", Description(""), "description"),
        Bad("Rejects2029Chars", Description(Repeat("d", 2029)), "description"),
        Bad("Rejects2029TwoByteChars", Description(Repeat(U(0xe9), 2029)), "description"),
        Bad("ConfiguredLimit",
            With<Create>([](Create& r) { r.description = "123456"; },
                         WithLimits([](LedgerLimits& l) { l.max_description_chars = 5; })),
            "description"),
        Bad("RejectsNewline", Description("line1\nline2"), "description"),
        Bad("RejectsTab", Description("a\tb"), "description"),
        Bad("RejectsNul", Description(WithNul()), "description"),
        Bad("RejectsDel", Description("a\x7f"), "description"),
        Bad("RejectsC1Next", Description("a" + U(0x85)), "description"),
        Bad("RejectsC1Last", Description("a" + U(0x9f)), "description"),
        Bad("RejectsSoftHyphen", Description("a" + U(0xad)), "description"),
        Bad("RejectsArabicNumberSign", Description(U(0x600)), "description"),
        Bad("RejectsArabicLetterMark", Description(U(0x61c)), "description"),
        Bad("RejectsMongolianVowelSeparator", Description(U(0x180e)), "description"),
        Bad("RejectsZeroWidthSpace", Description("a" + U(0x200b)), "description"),
        Bad("RejectsRightToLeftMark", Description(U(0x200f)), "description"),
        Bad("RejectsBidiOverride", Description(U(0x202e) + "abc"), "description"),
        Bad("RejectsWordJoiner", Description(U(0x2060)), "description"),
        Bad("RejectsBidiIsolate", Description(U(0x2066)), "description"),
        Bad("RejectsByteOrderMark", Description(U(0xfeff) + "a"), "description"),
        Bad("RejectsInterlinearAnnotation", Description(U(0xfff9)), "description"),
        Bad("RejectsKaithiNumberSign", Description(U(0x110bd)), "description"),
        Bad("RejectsEgyptianFormat", Description(U(0x13430)), "description"),
        Bad("RejectsShorthandFormat", Description(U(0x1bca0)), "description"),
        Bad("RejectsMusicalFormat", Description(U(0x1d173)), "description"),
        Bad("RejectsLanguageTag", Description(U(0xe0001)), "description"),
        Bad("RejectsTagCharacter", Description(U(0xe007f)), "description"),
        Bad("RejectsPrivateUse", Description(U(0xe000)), "description"),
        Bad("RejectsPrivateUseLast", Description(U(0xf8ff)), "description"),
        Bad("RejectsPlane15PrivateUse", Description(U(0xf0000)), "description"),
        Bad("RejectsPlane16PrivateUse", Description(U(0x10fffd)), "description"),
        Bad("RejectsNoncharacterFdd0", Description(U(0xfdd0)), "description"),
        Bad("RejectsNoncharacterFffe", Description(U(0xfffe)), "description"),
        Bad("RejectsNoncharacterFfff", Description(U(0xffff)), "description"),
        Bad("RejectsNoncharacter1fffe", Description(U(0x1fffe)), "description"),
        Bad("RejectsNoncharacter10ffff", Description(U(0x10ffff)), "description"),
        Bad("RejectsEncodedSurrogate", Description(U(0xd800)), "description"),
        Bad("RejectsLoneContinuationByte", Description("a\x80"), "description"),
        Bad("RejectsOverlongNul", Description("a\xc0\x80"), "description"),
        Bad("RejectsTruncatedSequence", Description("a\xe4\xb8"), "description"),
        Bad("RejectsAboveMaxCodePoint", Description("\xf4\x90\x80\x80"), "description"),
        Ok("UpdateJobMax2028", With<Update>([](Update& r) { r.description = Repeat("d", 2028); })),
        Bad("UpdateJobRejects2029",
            With<Update>([](Update& r) { r.description = Repeat("d", 2029); }), "description"),
        Bad("UpdateJobRejectsEmpty", With<Update>([](Update& r) { r.description = ""; }),
            "description"),
        Bad("UpdateJobRejectsControl", With<Update>([](Update& r) { r.description = "a\rb"; }),
            "description"),
        Ok("CommentMax2028",
           With<CancelJob>([](CancelJob& r) { r.comment = Repeat(U(0x4e2d), 2028); })),
        Bad("CommentRejects2029",
            With<CancelJob>([](CancelJob& r) { r.comment = Repeat("c", 2029); }), "comment"),
        Bad("CommentRejectsEmpty", With<CancelJob>([](CancelJob& r) { r.comment = ""; }),
            "comment"),
        Bad("CommentRejectsNewline", With<CancelJob>([](CancelJob& r) { r.comment = "a\nb"; }),
            "comment"),
        Bad("CommentRejectsFormat", With<CancelJob>([](CancelJob& r) { r.comment = U(0x200d); }),
            "comment"),
        Bad("CommentConfiguredLimit",
            With<CancelJob>([](CancelJob& r) { r.comment = "abc"; },
                            WithLimits([](LedgerLimits& l) { l.max_comment_chars = 2; })),
            "comment"),
        Ok("AssociateCommentMax2028",
           With<Associate>([](Associate& r) { r.comment = Repeat("c", 2028); })),
        Bad("AssociateCommentRejects2029",
            With<Associate>([](Associate& r) { r.comment = Repeat("c", 2029); }), "comment"),
        Bad("AssociateCommentRejectsTab", With<Associate>([](Associate& r) { r.comment = "\t"; }),
            "comment"),
    });

std::function<Status()> ReasonCode(std::string code) {
  return With<CancelJob>([code = std::move(code)](CancelJob& r) { r.reason_code = code; });
}

JOBLEDGER_VALIDATION_TABLE(ReasonCode,
                           {
                               Ok("OneChar", ReasonCode("A")),
                               Ok("Max128", ReasonCode(Repeat("R", 128))),
                               Ok("AllClasses", ReasonCode("ABORT_CRITERIA_MET_42")),
                               Bad("RejectsEmpty", ReasonCode(""), "reasonCode"),
                               Bad("Rejects129", ReasonCode(Repeat("R", 129)), "reasonCode"),
                               Bad("RejectsLowerCase", ReasonCode("Operator"), "reasonCode"),
                               Bad("RejectsHyphen", ReasonCode("A-B"), "reasonCode"),
                               Bad("RejectsSpace", ReasonCode("A B"), "reasonCode"),
                               Bad("RejectsNonAsciiUpper", ReasonCode(U(0xc9)), "reasonCode"),
                           });

std::function<Status()> Details(DetailsMap details, ValidationContext context = Ctx()) {
  return With<CancelExec>(
      [details = std::move(details)](CancelExec& r) { r.status_details = details; },
      std::move(context));
}

JOBLEDGER_VALIDATION_TABLE(
    StatusDetails,
    {
        Ok("Empty", Details({})),
        Ok("Max10Pairs", Details(Pairs(10))),
        Ok("Key128", Details({{Repeat("k", 128), "v"}})),
        Ok("KeyAllClasses", Details({{"AZaz09:_-", "v"}})),
        Ok("Value1024", Details({{"k", Repeat("v", 1024)}})),
        Ok("Value1024CodePoints", Details({{"k", Repeat(U(0x4e2d), 1024)}})),
        Ok("ValueWithSpaces", Details({{"k", "50% done, step 3/4"}})),
        Ok("Unsorted", Details({{"b", "1"}, {"a", "2"}})),
        Bad("Rejects11Pairs", Details(Pairs(11)), "statusDetails"),
        Bad("ConfiguredPairLimit",
            Details(Pairs(3), WithLimits([](LedgerLimits& l) { l.max_status_details_pairs = 2; })),
            "statusDetails"),
        Bad("RejectsEmptyKey", Details({{"", "v"}}), "statusDetails[0].key"),
        Bad("RejectsKey129", Details({{"a", "1"}, {Repeat("k", 129), "v"}}),
            "statusDetails[1].key"),
        Bad("RejectsKeyWithSpace", Details({{"a", "1"}, {"b", "2"}, {"a b", "v"}}),
            "statusDetails[2].key"),
        Bad("RejectsKeyWithDot", Details({{"a.b", "v"}}), "statusDetails[0].key"),
        Bad("RejectsKeyWithSlash", Details({{"a/b", "v"}}), "statusDetails[0].key"),
        Bad("RejectsKeyNonAscii", Details({{"k" + U(0xe9), "v"}}), "statusDetails[0].key"),
        Bad("RejectsDuplicateKey", Details({{"a", "1"}, {"a", "2"}}), "statusDetails[1].key"),
        Bad("RejectsEmptyValue", Details({{"progress", ""}}), "statusDetails.progress"),
        Bad("RejectsValue1025", Details({{"progress", Repeat("v", 1025)}}),
            "statusDetails.progress"),
        Bad("RejectsValueNewline", Details({{"a", "1"}, {"log", "l1\nl2"}}), "statusDetails.log"),
        Bad("RejectsValueFormatChar", Details({{"k", U(0x200e)}}), "statusDetails.k"),
        Bad("RejectsValueInvalidUtf8", Details({{"k", "\xfe"}}), "statusDetails.k"),
        Ok("UpdateExecutionMax10",
           With<UpdateExec>([](UpdateExec& r) { r.status_details = Pairs(10); })),
        Bad("UpdateExecutionRejects11",
            With<UpdateExec>([](UpdateExec& r) { r.status_details = Pairs(11); }), "statusDetails"),
        Bad("UpdateExecutionRejectsBadValue", With<UpdateExec>([](UpdateExec& r) {
              r.status_details = DetailsMap{{"s", "\x01"}};
            }),
            "statusDetails.s"),
        Ok("StartNextMax10", With<StartNext>([](StartNext& r) { r.status_details = Pairs(10); })),
        Bad("StartNextRejects11",
            With<StartNext>([](StartNext& r) { r.status_details = Pairs(11); }), "statusDetails"),
        Bad("StartNextRejectsBadKey", With<StartNext>([](StartNext& r) {
              r.status_details = DetailsMap{{"", "v"}};
            }),
            "statusDetails[0].key"),
        Bad(
            "DirectCallUsesGivenField",
            [] {
              return ValidateStatusDetails({{"k", ""}}, LedgerLimits{}, "details");
            },
            "details.k"),
    });

std::function<Status()> Presigned(std::function<void(PresignedUrlConfig&)> change) {
  return With<Create>([change = std::move(change)](Create& r) {
    PresignedUrlConfig config = BasePresigned();
    change(config);
    r.presigned_url_config = config;
  });
}

JOBLEDGER_VALIDATION_TABLE(
    PresignedUrlConfig,
    {
        Ok("Expires60", Presigned([](PresignedUrlConfig& c) { c.expires_in_sec = 60; })),
        Ok("Expires3600", Presigned([](PresignedUrlConfig& c) { c.expires_in_sec = 3600; })),
        Ok("ExpiresUnset", Presigned([](PresignedUrlConfig& c) { c.expires_in_sec.reset(); })),
        Ok("RoleArnEmptyMeansUnset", Presigned([](PresignedUrlConfig& c) { c.role_arn = ""; })),
        Ok("RoleArn20", Presigned([](PresignedUrlConfig& c) { c.role_arn = Repeat("r", 20); })),
        Ok("RoleArn2048", Presigned([](PresignedUrlConfig& c) { c.role_arn = Repeat("r", 2048); })),
        Bad("RejectsExpires59", Presigned([](PresignedUrlConfig& c) { c.expires_in_sec = 59; }),
            "presignedUrlConfig.expiresInSec"),
        Bad("RejectsExpires3601", Presigned([](PresignedUrlConfig& c) { c.expires_in_sec = 3601; }),
            "presignedUrlConfig.expiresInSec"),
        Bad("RejectsExpiresZero", Presigned([](PresignedUrlConfig& c) { c.expires_in_sec = 0; }),
            "presignedUrlConfig.expiresInSec"),
        Bad("RejectsRoleArn19",
            Presigned([](PresignedUrlConfig& c) { c.role_arn = Repeat("r", 19); }),
            "presignedUrlConfig.roleArn"),
        Bad("RejectsRoleArn2049",
            Presigned([](PresignedUrlConfig& c) { c.role_arn = Repeat("r", 2049); }),
            "presignedUrlConfig.roleArn"),
        Ok("UpdateJobExpires60", With<Update>([](Update& r) {
             r.presigned_url_config = BasePresigned();
             r.presigned_url_config->expires_in_sec = 60;
           })),
        Bad("UpdateJobRejectsExpires3601", With<Update>([](Update& r) {
              r.presigned_url_config = BasePresigned();
              r.presigned_url_config->expires_in_sec = 3601;
            }),
            "presignedUrlConfig.expiresInSec"),
    });

std::function<Status()> Rollout(std::function<void(RolloutConfig&)> change) {
  return With<Create>([change = std::move(change)](Create& r) {
    RolloutConfig config = BaseRollout();
    change(config);
    r.job_executions_rollout_config = config;
  });
}

std::function<Status()> Factor(double factor) {
  return Rollout([factor](RolloutConfig& c) { c.exponential_rate->increment_factor = factor; });
}

constexpr const char* kRollout = "jobExecutionsRolloutConfig";
constexpr const char* kMaxPerMinute = "jobExecutionsRolloutConfig.maximumPerMinute";
constexpr const char* kBaseRate = "jobExecutionsRolloutConfig.exponentialRate.baseRatePerMinute";
constexpr const char* kFactor = "jobExecutionsRolloutConfig.exponentialRate.incrementFactor";
constexpr const char* kCriteria = "jobExecutionsRolloutConfig.exponentialRate.rateIncreaseCriteria";

JOBLEDGER_VALIDATION_TABLE(
    Rollout,
    {
        Ok("OnlyMaximumPerMinute", Rollout([](RolloutConfig& c) { c.exponential_rate.reset(); })),
        Ok("OnlyExponentialRate", Rollout([](RolloutConfig& c) { c.maximum_per_minute.reset(); })),
        Bad("RejectsNeither", Rollout([](RolloutConfig& c) { c = RolloutConfig{}; }), kRollout),
        Ok("Maximum1", Rollout([](RolloutConfig& c) {
             c.maximum_per_minute = 1;
             c.exponential_rate.reset();
           })),
        Ok("Maximum1000", Rollout([](RolloutConfig& c) { c.maximum_per_minute = 1000; })),
        Bad("RejectsMaximum0", Rollout([](RolloutConfig& c) { c.maximum_per_minute = 0; }),
            kMaxPerMinute),
        Bad("RejectsMaximum1001", Rollout([](RolloutConfig& c) { c.maximum_per_minute = 1001; }),
            kMaxPerMinute),
        Bad("RejectsMaximumNegative", Rollout([](RolloutConfig& c) { c.maximum_per_minute = -5; }),
            kMaxPerMinute),
        Ok("BaseRate1",
           Rollout([](RolloutConfig& c) { c.exponential_rate->base_rate_per_minute = 1; })),
        Ok("BaseRate1000", Rollout([](RolloutConfig& c) {
             c.maximum_per_minute.reset();
             c.exponential_rate->base_rate_per_minute = 1000;
           })),
        Bad("RejectsBaseRate0",
            Rollout([](RolloutConfig& c) { c.exponential_rate->base_rate_per_minute = 0; }),
            kBaseRate),
        Bad("RejectsBaseRate1001", Rollout([](RolloutConfig& c) {
              c.maximum_per_minute.reset();
              c.exponential_rate->base_rate_per_minute = 1001;
            }),
            kBaseRate),
        Ok("BaseRateEqualsMaximum", Rollout([](RolloutConfig& c) {
             c.maximum_per_minute = 50;
             c.exponential_rate->base_rate_per_minute = 50;
           })),
        Bad("RejectsBaseRateAboveMaximum", Rollout([](RolloutConfig& c) {
              c.maximum_per_minute = 50;
              c.exponential_rate->base_rate_per_minute = 51;
            }),
            kBaseRate),
        Ok("Factor1point1", Factor(1.1)),
        Ok("Factor5", Factor(5.0)),
        Ok("Factor2point5", Factor(2.5)),
        Ok("Factor4point9", Factor(4.9)),
        // 0.1 * 3 + 1 is 1.3000000000000003 in binary; it still has one decimal place.
        Ok("FactorComputedWithRoundingError", Factor(0.1 * 3 + 1)),
        Bad("RejectsFactor1", Factor(1.0), kFactor),
        Bad("RejectsFactor5point1", Factor(5.1), kFactor),
        Bad("RejectsFactor5point5", Factor(5.5), kFactor),
        Bad("RejectsFactor1point25", Factor(1.25), kFactor),
        Bad("RejectsFactor1point09", Factor(1.09), kFactor),
        Bad("RejectsFactorZero", Factor(0), kFactor),
        Bad("RejectsFactorNaN", Factor(std::numeric_limits<double>::quiet_NaN()), kFactor),
        Bad("RejectsFactorInfinity", Factor(std::numeric_limits<double>::infinity()), kFactor),
        Ok("SucceededThings1", Rollout([](RolloutConfig& c) {
             c.exponential_rate->rate_increase_criteria = RateIncreaseCriteria{};
             c.exponential_rate->rate_increase_criteria.number_of_succeeded_things = 1;
           })),
        Ok("NotifiedThings1", Rollout([](RolloutConfig& c) {
             c.exponential_rate->rate_increase_criteria.number_of_notified_things = 1;
           })),
        Bad("RejectsBothCriteria", Rollout([](RolloutConfig& c) {
              c.exponential_rate->rate_increase_criteria.number_of_succeeded_things = 3;
            }),
            kCriteria),
        Bad("RejectsNoCriteria", Rollout([](RolloutConfig& c) {
              c.exponential_rate->rate_increase_criteria = RateIncreaseCriteria{};
            }),
            kCriteria),
        Bad("RejectsNotifiedThings0", Rollout([](RolloutConfig& c) {
              c.exponential_rate->rate_increase_criteria.number_of_notified_things = 0;
            }),
            std::string(kCriteria) + ".numberOfNotifiedThings"),
        Bad("RejectsSucceededThings0", Rollout([](RolloutConfig& c) {
              c.exponential_rate->rate_increase_criteria = RateIncreaseCriteria{};
              c.exponential_rate->rate_increase_criteria.number_of_succeeded_things = 0;
            }),
            std::string(kCriteria) + ".numberOfSucceededThings"),
        Bad("UpdateJobRejectsFactor", With<Update>([](Update& r) {
              r.job_executions_rollout_config = BaseRollout();
              r.job_executions_rollout_config->exponential_rate->increment_factor = 5.1;
            }),
            kFactor),
        Bad("UpdateJobRejectsEmptyRollout",
            With<Update>([](Update& r) { r.job_executions_rollout_config = RolloutConfig{}; }),
            kRollout),
    });

std::function<Status()> Abort(std::function<void(AbortConfig&)> change) {
  return With<Create>([change = std::move(change)](Create& r) {
    AbortConfig config = BaseAbort();
    change(config);
    r.abort_config = config;
  });
}

std::function<Status()> Threshold(double threshold) {
  return Abort(
      [threshold](AbortConfig& c) { c.criteria_list[0].threshold_percentage = threshold; });
}

constexpr const char* kThreshold0 = "abortConfig.criteriaList[0].thresholdPercentage";

JOBLEDGER_VALIDATION_TABLE(
    Abort,
    {
        Ok("Threshold100", Threshold(100)),
        Ok("Threshold0point01", Threshold(0.01)),
        Ok("Threshold33point33", Threshold(33.33)),
        Ok("Threshold99point99", Threshold(99.99)),
        Ok("Threshold50point5", Threshold(50.5)),
        Bad("RejectsThreshold100point01", Threshold(100.01), kThreshold0),
        Bad("RejectsThreshold0point001", Threshold(0.001), kThreshold0),
        Bad("RejectsThreshold0", Threshold(0), kThreshold0),
        Bad("RejectsThresholdNegative", Threshold(-1), kThreshold0),
        Bad("RejectsThreeDecimals", Threshold(12.345), kThreshold0),
        Bad("RejectsThresholdNaN", Threshold(std::numeric_limits<double>::quiet_NaN()),
            kThreshold0),
        Bad("RejectsThresholdInfinity", Threshold(std::numeric_limits<double>::infinity()),
            kThreshold0),
        Ok("MinExecuted1",
           Abort([](AbortConfig& c) { c.criteria_list[0].min_number_of_executed_things = 1; })),
        Bad("RejectsMinExecuted0",
            Abort([](AbortConfig& c) { c.criteria_list[0].min_number_of_executed_things = 0; }),
            "abortConfig.criteriaList[0].minNumberOfExecutedThings"),
        Bad("RejectsMinExecutedNegative",
            Abort([](AbortConfig& c) { c.criteria_list[0].min_number_of_executed_things = -1; }),
            "abortConfig.criteriaList[0].minNumberOfExecutedThings"),
        Ok("EveryFailureType", Abort([](AbortConfig& c) {
             c.criteria_list.clear();
             for (FailureType type : {FailureType::kFailed, FailureType::kRejected,
                                      FailureType::kTimedOut, FailureType::kAll}) {
               AbortCriteria criterion = Criterion(10);
               criterion.failure_type = type;
               c.criteria_list.push_back(criterion);
             }
           })),
        Bad("RejectsEmptyList", Abort([](AbortConfig& c) { c.criteria_list.clear(); }),
            "abortConfig.criteriaList"),
        Ok("List16", Abort([](AbortConfig& c) { c.criteria_list.assign(16, Criterion(5)); })),
        Bad("RejectsList17",
            Abort([](AbortConfig& c) { c.criteria_list.assign(17, Criterion(5)); }),
            "abortConfig.criteriaList"),
        Bad("NamesTheBadEntry", Abort([](AbortConfig& c) {
              c.criteria_list = {Criterion(10), Criterion(20), Criterion(100.5)};
            }),
            "abortConfig.criteriaList[2].thresholdPercentage"),
        Bad("UpdateJobRejectsThreshold", With<Update>([](Update& r) {
              r.abort_config = BaseAbort();
              r.abort_config->criteria_list[0].threshold_percentage = 0.001;
            }),
            kThreshold0),
    });

std::function<Status()> InProgressTimeout(int64_t minutes) {
  return With<Create>([minutes](Create& r) {
    r.timeout_config = TimeoutConfig{};
    r.timeout_config->in_progress_timeout_in_minutes = minutes;
  });
}

std::function<Status()> StartNextStep(int64_t minutes) {
  return With<StartNext>([minutes](StartNext& r) { r.step_timeout_in_minutes = minutes; });
}

std::function<Status()> UpdateStep(int64_t minutes) {
  return With<UpdateExec>([minutes](UpdateExec& r) { r.step_timeout_in_minutes = minutes; });
}

constexpr const char* kInProgress = "timeoutConfig.inProgressTimeoutInMinutes";

JOBLEDGER_VALIDATION_TABLE(
    Timeouts,
    {
        Ok("InProgress1", InProgressTimeout(1)),
        Ok("InProgress10080", InProgressTimeout(10080)),
        Ok("InProgressUnset", With<Create>([](Create& r) { r.timeout_config = TimeoutConfig{}; })),
        Bad("RejectsInProgress0", InProgressTimeout(0), kInProgress),
        Bad("RejectsInProgress10081", InProgressTimeout(10081), kInProgress),
        Bad("RejectsInProgressNegative", InProgressTimeout(-1), kInProgress),
        Ok("UpdateJobInProgress10080", With<Update>([](Update& r) {
             r.timeout_config->in_progress_timeout_in_minutes = 10080;
           })),
        Bad("UpdateJobRejectsInProgress0",
            With<Update>([](Update& r) { r.timeout_config->in_progress_timeout_in_minutes = 0; }),
            kInProgress),
        Ok("StartNextStep1", StartNextStep(1)),
        Ok("StartNextStep10080", StartNextStep(10080)),
        Bad("StartNextRejectsStep0", StartNextStep(0), "stepTimeoutInMinutes"),
        Bad("StartNextRejectsStep10081", StartNextStep(10081), "stepTimeoutInMinutes"),
        // -1 cancels a running step timer; StartNext starts the execution, so there is none.
        Bad("StartNextRejectsStepMinus1", StartNextStep(-1), "stepTimeoutInMinutes"),
        Ok("UpdateStepMinus1", UpdateStep(-1)),
        Ok("UpdateStep1", UpdateStep(1)),
        Ok("UpdateStep10080", UpdateStep(10080)),
        Bad("UpdateRejectsStep0", UpdateStep(0), "stepTimeoutInMinutes"),
        Bad("UpdateRejectsStepMinus2", UpdateStep(-2), "stepTimeoutInMinutes"),
        Bad("UpdateRejectsStep10081", UpdateStep(10081), "stepTimeoutInMinutes"),
    });

std::function<Status()> DeviceStatus(ExecutionStatus status) {
  return With<UpdateExec>([status](UpdateExec& r) { r.status = status; });
}

JOBLEDGER_VALIDATION_TABLE(
    VersionsAndStatus,
    {
        Ok("CancelExecutionExpectedVersion1",
           With<CancelExec>([](CancelExec& r) { r.expected_version = 1; })),
        Ok("CancelExecutionNoExpectedVersion",
           With<CancelExec>([](CancelExec& r) { r.expected_version.reset(); })),
        Bad("CancelExecutionRejectsExpectedVersion0",
            With<CancelExec>([](CancelExec& r) { r.expected_version = 0; }), "expectedVersion"),
        Bad("CancelExecutionRejectsExpectedVersionNegative",
            With<CancelExec>([](CancelExec& r) { r.expected_version = -1; }), "expectedVersion"),
        Ok("UpdateExecutionExpectedVersion1",
           With<UpdateExec>([](UpdateExec& r) { r.expected_version = 1; })),
        Bad("UpdateExecutionRejectsExpectedVersion0",
            With<UpdateExec>([](UpdateExec& r) { r.expected_version = 0; }), "expectedVersion"),
        Ok("UpdateExecutionNumber1",
           With<UpdateExec>([](UpdateExec& r) { r.execution_number = 1; })),
        Bad("UpdateExecutionRejectsNumber0",
            With<UpdateExec>([](UpdateExec& r) { r.execution_number = 0; }), "executionNumber"),
        Ok("DeleteExecutionNumber1",
           With<DeleteExec>([](DeleteExec& r) { r.execution_number = 1; })),
        Bad("DeleteExecutionRejectsNumber0",
            With<DeleteExec>([](DeleteExec& r) { r.execution_number = 0; }), "executionNumber"),
        Bad("DeleteExecutionRejectsNumberNegative",
            With<DeleteExec>([](DeleteExec& r) { r.execution_number = -3; }), "executionNumber"),
        Ok("StatusInProgress", DeviceStatus(ExecutionStatus::kInProgress)),
        Ok("StatusSucceeded", DeviceStatus(ExecutionStatus::kSucceeded)),
        Ok("StatusFailed", DeviceStatus(ExecutionStatus::kFailed)),
        Ok("StatusRejected", DeviceStatus(ExecutionStatus::kRejected)),
        // A move back to QUEUED is the decide step's InvalidStateTransition.
        Ok("StatusQueuedLeftToDecide", DeviceStatus(ExecutionStatus::kQueued)),
        Bad("RejectsStatusCanceled", DeviceStatus(ExecutionStatus::kCanceled), "status"),
        Bad("RejectsStatusTimedOut", DeviceStatus(ExecutionStatus::kTimedOut), "status"),
        Bad("RejectsStatusRemoved", DeviceStatus(ExecutionStatus::kRemoved), "status"),
        Bad("RejectsStatusNone", DeviceStatus(ExecutionStatus::kNone), "status"),
    });

std::function<Status()> Actor(std::string actor) {
  return With<RequestContext>([actor = std::move(actor)](RequestContext& r) { r.actor = actor; });
}

std::function<Status()> RequestId(std::string id) {
  return With<RequestContext>([id = std::move(id)](RequestContext& r) { r.request_id = id; });
}

JOBLEDGER_VALIDATION_TABLE(
    RequestContext,
    {
        Ok("Actor1Byte", Actor("a")),
        Ok("Actor256Bytes", Actor(Repeat("a", 256))),
        Ok("ActorWithSpacesAndUnicode", Actor("user:J" + U(0xfc) + "rgen M" + U(0xfc) + "ller")),
        Bad("RejectsEmptyActor", Actor(""), "actor"),
        Bad("RejectsActor257Bytes", Actor(Repeat("a", 257)), "actor"),
        // The limit is in bytes: 129 two-byte characters are 258 bytes.
        Bad("RejectsActor258BytesOf129Chars", Actor(Repeat(U(0xe9), 129)), "actor"),
        Bad("RejectsActorNewline", Actor("alice\n"), "actor"),
        Bad("RejectsActorNul", Actor(WithNul()), "actor"),
        Bad("RejectsActorDel", Actor("a\x7f"), "actor"),
        Bad("RejectsActorC1Control", Actor("a" + U(0x9b)), "actor"),
        Bad("RejectsActorInvalidUtf8", Actor("a\xff"), "actor"),
        Ok("RequestIdEmpty", RequestId("")),
        Ok("RequestId255", RequestId(Repeat("r", 255))),
        Ok("RequestIdPrintable", RequestId(" !~uuid-1234:{x}")),
        Bad("RejectsRequestId256", RequestId(Repeat("r", 256)), "requestId"),
        Bad("RejectsRequestIdTab", RequestId("a\tb"), "requestId"),
        Bad("RejectsRequestIdDel", RequestId("a\x7f"), "requestId"),
        Bad("RejectsRequestIdNonAscii", RequestId("r" + U(0xe9)), "requestId"),
        Bad("RejectsRequestIdNul", RequestId(WithNul()), "requestId"),
    });

// Ids are checked before anything else; then members in declaration order.
JOBLEDGER_VALIDATION_TABLE(
    Order, {
               Bad("CreateJobIdBeforeTargets", With<Create>([](Create& r) {
                     r.job_id = "a/b";
                     r.targets.clear();
                     r.document.reset();
                   }),
                   "jobId"),
               Bad("CreateTargetsBeforeDocument", With<Create>([](Create& r) {
                     r.targets.clear();
                     r.document = "{";
                   }),
                   "targets"),
               Bad("CreateDocumentBeforeDescription", With<Create>([](Create& r) {
                     r.document = "{";
                     r.description = "";
                   }),
                   "document"),
               Bad("CreateRolloutBeforeAbort", With<Create>([](Create& r) {
                     r.job_executions_rollout_config->maximum_per_minute = 0;
                     r.abort_config->criteria_list.clear();
                   }),
                   kMaxPerMinute),
               Bad("CreateAbortBeforeTimeout", With<Create>([](Create& r) {
                     r.abort_config->criteria_list.clear();
                     r.timeout_config->in_progress_timeout_in_minutes = 0;
                   }),
                   "abortConfig.criteriaList"),
               Bad("TargetsLimitBeforeEntries", With<Create>([](Create& r) {
                     r.targets = ThingTargets(101);
                     r.targets[0] = "garbage";
                   }),
                   "targets", kLimit),
               Bad("UpdateExecutionThingBeforeStatus", With<UpdateExec>([](UpdateExec& r) {
                     r.thing_name = "a/b";
                     r.status = ExecutionStatus::kCanceled;
                   }),
                   "thingName"),
               Bad("UpdateExecutionStatusBeforeDetails", With<UpdateExec>([](UpdateExec& r) {
                     r.status = ExecutionStatus::kNone;
                     r.status_details = Pairs(11);
                   }),
                   "status"),
               Bad("MembershipGroupBeforeThing", With<Membership>([](Membership& r) {
                     r.thing_group_name = "";
                     r.thing_name = "";
                   }),
                   "thingGroupName"),
               Bad("CancelJobReasonBeforeComment", With<CancelJob>([](CancelJob& r) {
                     r.reason_code = "bad";
                     r.comment = "";
                   }),
                   "reasonCode"),
           });

// ---- exact messages, ARNs ----

TEST(ValidationTest, JobIdMessageQuotesTheValue) {
  EXPECT_EQ(ValidateJobId("a/b").message(), "jobId: must match [a-zA-Z0-9_-]+, got 'a/b'");
  EXPECT_EQ(ValidateJobId("a/b", "jobs[1]").message(),
            "jobs[1]: must match [a-zA-Z0-9_-]+, got 'a/b'");
}

TEST(ValidationTest, IncrementFactorMessage) {
  CreateJobRequest r = Baseline<CreateJobRequest>();
  r.job_executions_rollout_config->exponential_rate->increment_factor = 5.5;
  EXPECT_EQ(Validate(r, Ctx()).message(),
            "jobExecutionsRolloutConfig.exponentialRate.incrementFactor: must be 1.1..5 with at "
            "most one decimal place, got 5.5");
}

TEST(ValidationTest, DeviceStatusMessage) {
  UpdateJobExecutionRequest r = Baseline<UpdateJobExecutionRequest>();
  r.status = ExecutionStatus::kCanceled;
  EXPECT_EQ(Validate(r, Ctx()).message(),
            "status: a device may set IN_PROGRESS, SUCCEEDED, FAILED or REJECTED, got CANCELED");
}

TEST(ValidationTest, MessagesEscapeNonPrintableBytes) {
  const Status status = ValidateJobId(std::string("a\0\n\xc3\xa9'\\", 7));
  EXPECT_EQ(status.message(),
            "jobId: must match [a-zA-Z0-9_-]+, got 'a\\x00\\x0a\\xc3\\xa9\\'\\\\'");
}

TEST(ValidationTest, MessagesShortenLongValues) {
  const Status status = ValidateThingName(Repeat("t", 200) + "/");
  EXPECT_EQ(status.message(),
            "thingName: must match [a-zA-Z0-9:_-]+, got '" + Repeat("t", 64) + "...'");
}

TEST(ValidationTest, DescriptionMessageNamesTheCodePoint) {
  CreateJobRequest r = Baseline<CreateJobRequest>();
  r.description = "a\nb";
  const Status status = Validate(r, Ctx());
  EXPECT_NE(status.message().find("U+000A"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("'a\\x0ab'"), std::string::npos) << status.message();
}

TEST(ValidationTest, TargetRegionMessageSaysWhichPartDiffers) {
  ValidationContext context;
  const StatusOr<TargetRef> region =
      ParseTargetArn("arn:aws:iot:eu-west-1:123456789012:thing/t", context);
  ASSERT_FALSE(region.ok());
  EXPECT_EQ(region.status().message().rfind("targets: region must be 'us-east-1'", 0), 0u)
      << region.status().message();
  const StatusOr<TargetRef> account =
      ParseTargetArn("arn:aws:iot:us-east-1:999999999999:thing/t", context);
  ASSERT_FALSE(account.ok());
  EXPECT_EQ(account.status().message().rfind("targets: account must be '123456789012'", 0), 0u)
      << account.status().message();
}

TEST(ValidationTest, TargetsLimitMessage) {
  CreateJobRequest r = Baseline<CreateJobRequest>();
  r.targets = ThingTargets(101);
  const Status status = Validate(r, Ctx());
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.aws_error(), AwsError::kLimitExceeded);
  EXPECT_EQ(status.message(), "targets: at most 100 targets per job, got 101");
}

TEST(ValidationTest, ParseTargetArnReturnsKindAndName) {
  ValidationContext context;
  context.region = "eu-central-1";
  context.account_id = "111122223333";
  const StatusOr<TargetRef> thing =
      ParseTargetArn("arn:aws:iot:eu-central-1:111122223333:thing/sensor:42", context);
  ASSERT_TRUE(thing.ok()) << thing.status().ToString();
  EXPECT_EQ(thing->kind, TargetRef::Kind::kThing);
  EXPECT_EQ(thing->name, "sensor:42");
  const StatusOr<TargetRef> group =
      ParseTargetArn("arn:aws:iot:eu-central-1:111122223333:thinggroup/fleet_A", context);
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_EQ(group->kind, TargetRef::Kind::kThingGroup);
  EXPECT_EQ(group->name, "fleet_A");
  // The default context's region no longer matches.
  EXPECT_FALSE(ParseTargetArn("arn:aws:iot:us-east-1:111122223333:thing/t", context).ok());
}

TEST(ValidationTest, ParseTargetArnUsesTheGivenField) {
  const StatusOr<TargetRef> ref = ParseTargetArn("nope", Ctx(), "targets[7]");
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.status().aws_error(), AwsError::kInvalidRequest);
  EXPECT_EQ(ref.status().message().rfind("targets[7]: ", 0), 0u) << ref.status().message();
}

TEST(ValidationTest, ArnBuildersRoundTrip) {
  ValidationContext context;
  EXPECT_EQ(JobArn(context, "job-1"), "arn:aws:iot:us-east-1:123456789012:job/job-1");
  EXPECT_EQ(ThingArn(context, "t:1"), "arn:aws:iot:us-east-1:123456789012:thing/t:1");
  EXPECT_EQ(ThingGroupArn(context, "g"), "arn:aws:iot:us-east-1:123456789012:thinggroup/g");
  context.region = "ap-south-1";
  context.account_id = "000000000001";
  EXPECT_EQ(JobArn(context, "j"), "arn:aws:iot:ap-south-1:000000000001:job/j");
  const StatusOr<TargetRef> ref = ParseTargetArn(ThingGroupArn(context, "g-1"), context);
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(*ref, (TargetRef{TargetRef::Kind::kThingGroup, "g-1"}));
}

}  // namespace
}  // namespace jobledger
