// The bad-input suite's fixture: a ledger with the "jobs" projection and its read
// models in a scratch folder, a little state (a group of two things, a CONTINUOUS job
// with a running execution), and checks that a rejected input names its field and
// appends nothing.
//
// tests/ledger/validation_test.cc holds the table of every validation rule at its
// limits (Validate() on each request). This suite does not repeat it: it drives the
// same kinds of bad input through the Ledger, the read models, the importer and the
// command line, and checks what the table cannot: the error reaches the caller with
// the field named, the head sequence and digest do not move, and nothing reaches the
// file system.

#ifndef JOBLEDGER_TESTS_BADINPUT_BADINPUT_TEST_UTIL_H_
#define JOBLEDGER_TESTS_BADINPUT_BADINPUT_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/jobs_projection.h"
#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"
#include "jobledger/read_models.h"
#include "jobledger/validation.h"
#include "tests/support/ledger_stack.h"

namespace jobledger::badinput {

inline constexpr int64_t kT0 = 1'764'237'600'000'000;  // 2025-11-27T10:00:00Z
inline constexpr int64_t kMinute = 60'000'000;

inline std::string ThingArnOf(std::string_view name) { return ThingArn(ValidationContext{}, name); }
inline std::string GroupArnOf(std::string_view name) {
  return ThingGroupArn(ValidationContext{}, name);
}
inline std::string Repeat(std::string_view unit, size_t n) {
  std::string out;
  out.reserve(unit.size() * n);
  for (size_t i = 0; i < n; ++i) out += unit;
  return out;
}

// A fresh folder (in /dev/shm when writable: appends sync), removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    std::string base = ::testing::TempDir();
    if (std::getenv("TEST_TMPDIR") == nullptr && access("/dev/shm", W_OK | X_OK) == 0) {
      base = "/dev/shm";
    }
    std::string tmpl = (std::filesystem::path(base) / "jobledger-badinput-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Every path under `root`, relative to it.
inline std::set<std::string> Tree(const std::string& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root, ec)) {
    out.insert(std::filesystem::relative(e.path(), root).string());
  }
  return out;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Open(LedgerLimits{});
    Seed();
  }
  void TearDown() override { Close(); }

  void Close() {
    stack_.reset();
    ledger_ = nullptr;
    projections_ = nullptr;
    reads_ = nullptr;
  }

  // (Re)opens the ledger with `limits`.
  void Open(const LedgerLimits& limits) {
    Close();
    LedgerOptions options;
    options.clock = &clock_;
    options.sync = false;
    options.limits = limits;
    auto stack = ::jobledger::testing::LedgerStack::Open(options, dir_.path() + "/ledger");
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = std::move(stack).value();
    ledger_ = stack_->ledger.get();
    projections_ = stack_->projections.get();
    reads_ = stack_->reads.get();
  }

  // Group "fleet" = {t1, t2}; job "job-1" (CONTINUOUS, fleet and t3) with t1 IN_PROGRESS.
  void Seed() {
    ASSERT_TRUE(ledger_->AddThingToThingGroup(Ops(), {"fleet", "t1"}).ok());
    ASSERT_TRUE(ledger_->AddThingToThingGroup(Ops(), {"fleet", "t2"}).ok());
    CreateJobRequest r = Job("job-1", {GroupArnOf("fleet"), ThingArnOf("t3")});
    r.target_selection = TargetSelection::kContinuous;
    ASSERT_TRUE(ledger_->CreateJob(Ops(), r).ok());
    UpdateJobExecutionRequest u;
    u.job_id = "job-1";
    u.thing_name = "t1";
    u.status = ExecutionStatus::kInProgress;
    ASSERT_TRUE(ledger_->UpdateJobExecution({"thing:t1", ""}, u).ok());
    ASSERT_GT(ledger_->log().head().sequence, 0u);
  }

  static RequestContext Ops() { return RequestContext{"user:ops", ""}; }
  static CreateJobRequest Job(const std::string& id, std::vector<std::string> targets) {
    CreateJobRequest r;
    r.job_id = id;
    r.targets = std::move(targets);
    r.document = R"({"operation":"install"})";
    return r;
  }

  // Runs `command`, which must be rejected with `aws` by a message that starts with
  // "<field>: " (or, with `anywhere`, names it somewhere), and must append nothing.
  void ExpectRejected(const std::function<Status()>& command, AwsError aws,
                      const std::string& field, bool anywhere = false) {
    const Digest before = ledger_->log().digest();
    const Status status = command();
    EXPECT_FALSE(status.ok()) << "accepted; expected a rejection naming " << field;
    EXPECT_EQ(status.aws_error(), aws) << status.ToString();
    if (anywhere) {
      EXPECT_NE(status.message().find(field), std::string::npos)
          << "message does not name " << field << ": " << status.message();
    } else {
      EXPECT_EQ(status.message().rfind(field + ": ", 0), 0u)
          << "message does not start with '" << field << ": ': " << status.message();
    }
    const Digest after = ledger_->log().digest();
    EXPECT_EQ(after.sequence, before.sequence)
        << "a rejected command appended: " << status.message();
    EXPECT_EQ(after.hash, before.hash) << "a rejected command changed the digest";
  }

  // The write-side state and the projection both still equal a fresh fold of the log.
  void ExpectConsistent() {
    auto state = ledger_->CheckState();
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_TRUE(state->ok()) << state->differences.front();
    auto drift = projections_->CheckDrift("jobs");
    ASSERT_TRUE(drift.ok()) << drift.status().ToString();
    EXPECT_TRUE(drift->ok()) << drift->differences.front();
  }

  ScratchDir dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<::jobledger::testing::LedgerStack> stack_;
  Ledger* ledger_ = nullptr;  // the stack's, while open
  ProjectionManager* projections_ = nullptr;
  ReadModels* reads_ = nullptr;
};

}  // namespace jobledger::badinput

#endif  // JOBLEDGER_TESTS_BADINPUT_BADINPUT_TEST_UTIL_H_
