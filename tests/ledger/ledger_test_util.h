// A Ledger in a temporary folder with a manual clock, and request builders.

#ifndef JOBLEDGER_TESTS_LEDGER_LEDGER_TEST_UTIL_H_
#define JOBLEDGER_TESTS_LEDGER_LEDGER_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "jobledger/ledger.h"
#include "tests/ledger/sample_events.h"

namespace jobledger::testing {

inline constexpr int64_t kMinute = 60'000'000;
inline constexpr int64_t kT0 = 1764237600000000;  // 2025-11-27T10:00:00Z

inline std::string ThingArnOf(const std::string& thing) {
  return "arn:aws:iot:us-east-1:123456789012:thing/" + thing;
}
inline std::string GroupArnOf(const std::string& group) {
  return "arn:aws:iot:us-east-1:123456789012:thinggroup/" + group;
}

inline CreateJobRequest NewJob(const std::string& job, std::vector<std::string> targets) {
  CreateJobRequest r;
  r.job_id = job;
  r.targets = std::move(targets);
  r.document = R"({"operation":"install"})";
  return r;
}

inline RequestContext As(const std::string& actor, const std::string& request_id = "") {
  return RequestContext{actor, request_id};
}

inline UpdateJobExecutionRequest Update(const std::string& job, const std::string& thing,
                                        ExecutionStatus status) {
  UpdateJobExecutionRequest r;
  r.job_id = job;
  r.thing_name = thing;
  r.status = status;
  return r;
}

class LedgerFixture : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    ledger_.reset();
    LedgerOptions options;
    options.clock = &clock_;
    options.sync = false;
    auto opened = Ledger::Open(options, dir_.path() + "/ledger");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ledger_ = std::move(opened).value();
  }

  uint64_t Head() const { return ledger_->log().head().sequence; }

  JobStateView Job(const std::string& job) {
    auto j = ledger_->GetJobState(job);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    EXPECT_TRUE(j.ok() && j->has_value()) << "no job " << job;
    return j.ok() && j->has_value() ? **j : JobStateView{};
  }

  ExecutionStateView Exec(const std::string& job, const std::string& thing) {
    auto e = ledger_->GetExecutionState(job, thing);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_TRUE(e.ok() && e->has_value()) << "no execution " << job << "/" << thing;
    return e.ok() && e->has_value() ? **e : ExecutionStateView{};
  }

  void MustCreate(const CreateJobRequest& r) {
    auto created = ledger_->CreateJob(As("user:ops"), r);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void MustUpdate(const std::string& job, const std::string& thing, ExecutionStatus s) {
    auto u = ledger_->UpdateJobExecution(As("thing:" + thing), Update(job, thing, s));
    ASSERT_TRUE(u.ok()) << u.status().ToString();
  }

  void MustJoin(const std::string& group, const std::string& thing) {
    Status s = ledger_->AddThingToThingGroup(As("user:ops"), {group, thing});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // A rejected command must leave the log exactly as it was.
  void ExpectRejected(const Status& s, AwsError aws, const std::string& message_part = "") {
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.aws_error(), aws) << s.ToString();
    if (!message_part.empty()) {
      EXPECT_NE(s.message().find(message_part), std::string::npos) << s.message();
    }
  }

  TempDir dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<Ledger> ledger_;
};

// ---- one-line descriptions, for failure messages ----

inline std::string Str(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }
inline std::string Str(const std::optional<std::string>& v) { return v ? "'" + *v + "'" : "-"; }
inline std::string Str(const DetailsMap& d) {
  std::string out = "{";
  for (const auto& [k, v] : d) out += (out.size() > 1 ? "," : "") + k + "=" + v;
  return out + "}";
}

inline std::string Describe(const JobStateView& j) {
  std::string out = j.job_id + " seq=" + std::to_string(j.created_sequence) + " " +
                    std::string(JobStatusName(j.status)) + " " +
                    std::string(TargetSelectionName(j.target_selection)) + " targets=[";
  for (size_t i = 0; i < j.targets.size(); ++i) out += (i > 0 ? "," : "") + j.targets[i];
  out += "] force=" + std::to_string(j.force_canceled ? 1 : 0) + " reason=" + Str(j.reason_code) +
         " comment=" + Str(j.comment) + " created=" + std::to_string(j.created_at_micros) +
         " updated=" + std::to_string(j.last_updated_at_micros) +
         " completed=" + Str(j.completed_at_micros) + " counts=";
  for (size_t i = 0; i < j.counts.size(); ++i) out += (i > 0 ? "," : "") + std::to_string(j.counts[i]);
  out += " rollout_pending=" + std::to_string(j.rollout_pending) +
         " rate=" + std::to_string(j.rollout_rate_per_minute);
  return out;
}

inline std::string Describe(const ExecutionStateView& e) {
  return e.job_id + "/" + e.thing_name + "#" + std::to_string(e.execution_number) + " " +
         std::string(ExecutionStatusName(e.status)) + " v" + std::to_string(e.version_number) +
         " details=" + Str(e.status_details) + " force=" + std::to_string(e.force_canceled ? 1 : 0) +
         " queued=" + std::to_string(e.queued_at_micros) + " started=" + Str(e.started_at_micros) +
         " updated=" + std::to_string(e.last_updated_at_micros) + " deadline=" + Str(e.deadline_micros);
}

}  // namespace jobledger::testing

#endif  // JOBLEDGER_TESTS_LEDGER_LEDGER_TEST_UTIL_H_
