// The `jobledger` command line (tools/cli.h), driven as a user drives it: RunCli
// in-process with string streams for stdout/stderr and a ManualClock for the clock,
// and the built binary (JOBLEDGER_CLI_BINARY) where separate processes matter: a
// writer waiting for another, and readers next to a live writer.
//
// Every JSON answer of a job command is checked against botocore's model of its AWS
// operation (tests/projections/shapes_validator.h); every exit status, file://
// arguments, --now / --as-of / --at-seq, that reading commands leave the ledger folder
// byte-identical, that no output carries an escape code, the ledger commands' JSON,
// the AWS developer guide's job walkthrough, the demo and --help.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/command_traits.h"
#include "jobledger/ledger.h"
#include "ledger/internal/keys.h"
#include "tests/projections/shapes_validator.h"
#include "tests/support/folder_snapshot.h"
#include "tests/support/raw_db.h"
#include "tools/cli.h"

#ifndef JOBLEDGER_CLI_BINARY
#define JOBLEDGER_CLI_BINARY ""
#endif

namespace jobledger::testing {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kT0 = 1'795'773'600 * kSecond;  // 2026-11-27T10:00:00Z
const std::string kThing = "arn:aws:iot:us-east-1:123456789012:thing/";
const std::string kGroup = "arn:aws:iot:us-east-1:123456789012:thinggroup/";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Epoch seconds with six fraction digits, as --now accepts them.
std::string Epoch(int64_t micros) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(micros / kSecond),
                static_cast<long long>(micros % kSecond));
  return buf;
}

// A control-plane timestamp (epoch seconds with a fraction) in microseconds.
// (INT64_MIN when it is not a number.)
int64_t Micros(const json& v) {
  if (!v.is_number()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(std::llround(v.get<double>() * 1e6));
}

std::string Shown(const Args& args) {
  std::string s = "jobledger";
  for (const std::string& a : args) s += " '" + a + "'";
  return s;
}

// One run of the command line.
struct Outcome {
  Args args;
  int exit = -1;
  std::string out, err;

  json Json() const { return json::parse(out, nullptr, /*allow_exceptions=*/false); }
  std::string What() const {
    return Shown(args) + "\n  exit " + std::to_string(exit) + "\n  stdout: " + out + "\n  stderr: " + err;
  }
};

// No output of any command carries an escape code (NO_COLOR, non-TTY output).
void ExpectNoEscapes(const Outcome& r) {
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "escape code on stdout of " << r.What();
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "escape code on stderr of " << r.What();
}

// The AWS CLI's rejection: exit 254, nothing on stdout, and the line
// "An error occurred (X) when calling the Y operation: message" on stderr.
void ExpectRejected(const Outcome& r, const std::string& exception, const std::string& operation) {
  EXPECT_EQ(r.exit, 254) << r.What();
  EXPECT_TRUE(r.out.empty()) << r.What();
  const std::regex line("(^|\n)An error occurred \\(" + exception + "\\) when calling the " + operation +
                        " operation: [^\n]+\n");
  EXPECT_TRUE(std::regex_search(r.err, line))
      << "expected \"An error occurred (" << exception << ") when calling the " << operation
      << " operation: ...\" in " << r.What();
}

// ---- files ----

// Where scratch folders go: $TEST_TMPDIR when set, else /dev/shm when it is a writable
// tmpfs (every writing command syncs its WAL; on tmpfs that costs nothing, so the suite's
// time does not depend on the disk), else the test temp dir.
std::string ScratchBase() {
  if (std::getenv("TEST_TMPDIR") == nullptr && access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
  return ::testing::TempDir();
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::path(ScratchBase()) / "jobledger-cli-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) root_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return root_; }

 private:
  std::string root_;
};


// ---- the binary, in a separate process ----

class Process {
 public:
  // Starts the binary with `args`; stdout and stderr go to files in `scratch`.
  Process(const Args& args, const std::string& scratch) : args_(args) {
    static int counter = 0;
    const std::string base = scratch + "/proc-" + std::to_string(++counter);
    out_path_ = base + ".out";
    err_path_ = base + ".err";
    std::vector<std::string> argv_text = {JOBLEDGER_CLI_BINARY};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<std::string> env_text = {"NO_COLOR=1", "USER=tester", "PATH=/usr/bin:/bin"};
    if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr) env_text.push_back(std::string("TMPDIR=") + tmp);
    std::vector<char*> argv, envp;
    for (std::string& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    // Everything the child needs is prepared before fork: it only redirects and execs.
    const int out_fd = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err_fd = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(null_fd, STDIN_FILENO);
      dup2(out_fd, STDOUT_FILENO);
      dup2(err_fd, STDERR_FILENO);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    close(out_fd);
    close(err_fd);
    close(null_fd);
  }

  Outcome Wait() {
    Outcome r;
    r.args = args_;
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, 0) == pid_) {
      r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    pid_ = -1;
    r.out = ReadFile(out_path_);
    r.err = ReadFile(err_path_);
    return r;
  }

  ~Process() {
    if (pid_ > 0) Wait();
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

 private:
  Args args_;
  pid_t pid_ = -1;
  std::string out_path_, err_path_;
};

// ---- the fixture ----

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty()) << "mkdtemp failed under " << ::testing::TempDir();
    db_ = scratch_.path() + "/ledger";
    env_vars_ = {{"USER", "tester"}, {"NO_COLOR", "1"}};
  }

  CliEnvironment Environment() const {
    CliEnvironment env;
    env.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_vars_.find(name);
      if (it == env_vars_.end()) return std::nullopt;
      return it->second;
    };
    env.stdout_is_tty = false;
    env.stderr_is_tty = false;
    env.clock = &clock_;
    return env;
  }

  // RunCli in-process; "--db <the test's ledger>" is added unless args name a --db.
  Outcome Cli(Args args) {
    bool has_db = false;
    for (const std::string& a : args) has_db = has_db || a == "--db";
    if (!has_db) {
      args.insert(args.begin(), db_);
      args.insert(args.begin(), "--db");
    }
    Outcome r;
    r.args = args;
    std::ostringstream out, err;
    r.exit = RunCli(args, out, err, Environment());
    r.out = out.str();
    r.err = err.str();
    ExpectNoEscapes(r);
    return r;
  }

  // A command that must succeed; its stdout parsed as JSON (null when empty).
  json Ok(const Args& args) {
    Outcome r = Cli(args);
    EXPECT_EQ(r.exit, 0) << r.What();
    if (r.out.empty()) return json();
    json j = r.Json();
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.What();
    return j;
  }

  // A command that must succeed and print nothing.
  void Quiet(const Args& args) {
    Outcome r = Cli(args);
    EXPECT_EQ(r.exit, 0) << r.What();
    EXPECT_EQ(r.out, "") << "expected no output: " << r.What();
  }

  // A command whose JSON must conform to `shape` of `model`.
  json Shaped(const ServiceModel& model, const std::string& shape, const Args& args) {
    Outcome r = Cli(args);
    EXPECT_EQ(r.exit, 0) << r.What();
    if (r.exit != 0) return json();
    SCOPED_TRACE(Shown(args));
    json j = ExpectConforms(model, r.out, shape);
    return j;
  }

  // The binary in a separate process, with --db added as Cli does.
  Outcome Bin(Args args) {
    args.insert(args.begin(), db_);
    args.insert(args.begin(), "--db");
    Process p(args, scratch_.path());
    Outcome r = p.Wait();
    ExpectNoEscapes(r);
    return r;
  }

  // Things t1..tN in `group`.
  void Fleet(const std::string& group, int n) {
    for (int i = 1; i <= n; ++i) {
      Quiet({"add-thing-to-thing-group", "--thing-group-name", group, "--thing-name", "t" + std::to_string(i)});
    }
  }

  uint64_t Head() {
    json d = Ok({"digest"});
    return d.value("sequence", uint64_t{0});
  }

  ScratchDir scratch_;
  std::string db_;
  std::map<std::string, std::string> env_vars_;
  ManualClock clock_{kT0};
};

// ---- 1. every job command's JSON against the model of its AWS operation ----

TEST_F(CliTest, JobCommandsPrintTheirOperationsModelShapes) {
  ASSERT_TRUE(IotModel().ok()) << IotModel().error();
  ASSERT_TRUE(IotJobsDataModel().ok()) << IotJobsDataModel().error();
  ASSERT_TRUE(IotModel().HasShape("CreateJobResponse"));
  ASSERT_TRUE(IotJobsDataModel().HasShape("UpdateJobExecutionResponse"));
  const ServiceModel& iot = IotModel();
  const ServiceModel& data = IotJobsDataModel();

  Fleet("fleet", 3);
  Quiet({"add-thing-to-thing-group", "--thing-group-name", "spare", "--thing-name", "idle"});

  clock_.Set(kT0 + kSecond);
  json alpha = Shaped(iot, "CreateJobResponse",
                      {"create-job", "--job-id", "alpha", "--targets", kGroup + "fleet", "--document",
                       R"({"operation":"install"})", "--description", "Alpha rollout", "--presigned-url-config",
                       R"({"roleArn":"arn:aws:iam::123456789012:role/presign","expiresInSec":3600})",
                       "--abort-config",
                       R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":50,"minNumberOfExecutedThings":2}]})",
                       "--timeout-config", R"({"inProgressTimeoutInMinutes":30})"});
  EXPECT_EQ(alpha.value("jobId", ""), "alpha");
  EXPECT_EQ(alpha.value("description", ""), "Alpha rollout");
  EXPECT_EQ(alpha.value("jobArn", ""), "arn:aws:iot:us-east-1:123456789012:job/alpha");
  Shaped(iot, "CreateJobResponse",
         {"create-job", "--job-id", "gamma", "--targets", kThing + "t3", "--document", "{}",
          "--job-executions-rollout-config",
          R"({"maximumPerMinute":50,"exponentialRate":{"baseRatePerMinute":5,"incrementFactor":2,"rateIncreaseCriteria":{"numberOfNotifiedThings":10}}})"});
  Shaped(iot, "CreateJobResponse",
         {"create-job", "--job-id", "beta", "--targets", kThing + "t1", "--target-selection", "CONTINUOUS",
          "--document", R"({"operation":"reboot"})"});
  Shaped(iot, "CreateJobResponse",
         {"create-job", "--job-id", "delta", "--targets", kThing + "t3", "--document", "{}"});
  json assoc = Shaped(iot, "AssociateTargetsWithJobResponse",
                      {"associate-targets-with-job", "--job-id", "beta", "--targets", kThing + "t2", "--comment",
                       "two more"});
  EXPECT_EQ(assoc.value("jobId", ""), "beta");

  for (const char* job : {"alpha", "beta", "gamma", "delta"}) {
    json j = Shaped(iot, "DescribeJobResponse", {"describe-job", "--job-id", job});
    EXPECT_EQ(j["job"].value("jobId", ""), job);
  }
  json described = Ok({"describe-job", "--job-id", "alpha"});
  EXPECT_TRUE(described["job"].contains("abortConfig")) << described.dump(2);
  EXPECT_TRUE(described["job"].contains("timeoutConfig")) << described.dump(2);
  EXPECT_TRUE(described["job"].contains("presignedUrlConfig")) << described.dump(2);
  json doc = Shaped(iot, "GetJobDocumentResponse", {"get-job-document", "--job-id", "alpha"});
  EXPECT_EQ(doc.value("document", ""), R"({"operation":"install"})");

  json jobs = Shaped(iot, "ListJobsResponse", {"list-jobs"});
  EXPECT_EQ(jobs["jobs"].size(), 4u) << jobs.dump(2);
  json page = Shaped(iot, "ListJobsResponse", {"list-jobs", "--max-results", "1"});
  ASSERT_TRUE(page.contains("nextToken")) << page.dump(2);
  Shaped(iot, "ListJobsResponse",
         {"list-jobs", "--max-results", "1", "--next-token", page["nextToken"].get<std::string>()});
  json continuous = Shaped(iot, "ListJobsResponse",
                           {"list-jobs", "--status", "IN_PROGRESS", "--target-selection", "CONTINUOUS"});
  EXPECT_EQ(continuous["jobs"].size(), 1u) << continuous.dump(2);
  json by_group = Shaped(iot, "ListJobsResponse", {"list-jobs", "--thing-group-name", "fleet"});
  EXPECT_EQ(by_group["jobs"].size(), 1u) << by_group.dump(2);

  // The device plane.
  clock_.Set(kT0 + 2 * kSecond);
  json pending = Shaped(data, "GetPendingJobExecutionsResponse", {"get-pending-job-executions", "--thing-name", "t1"});
  EXPECT_FALSE(pending["queuedJobs"].empty()) << pending.dump(2);
  json started = Shaped(data, "StartNextPendingJobExecutionResponse",
                        {"start-next-pending-job-execution", "--thing-name", "t1", "--status-details",
                         R"({"step":"download"})", "--step-timeout-in-minutes", "10"});
  ASSERT_TRUE(started.contains("execution")) << started.dump(2);
  const std::string first = started["execution"].value("jobId", "");
  EXPECT_EQ(started["execution"].value("status", ""), "IN_PROGRESS");
  json nothing = Shaped(data, "StartNextPendingJobExecutionResponse",
                        {"start-next-pending-job-execution", "--thing-name", "idle"});
  EXPECT_EQ(nothing, json::object());
  clock_.Set(kT0 + 3 * kSecond);
  json updated = Shaped(data, "UpdateJobExecutionResponse",
                        {"update-job-execution", "--job-id", first, "--thing-name", "t1", "--status", "IN_PROGRESS",
                         "--status-details", R"({"progress":"50%"})", "--include-job-execution-state",
                         "--include-job-document"});
  EXPECT_TRUE(updated.contains("executionState")) << updated.dump(2);
  EXPECT_TRUE(updated.contains("jobDocument")) << updated.dump(2);
  Outcome bare = Cli({"update-job-execution", "--job-id", first, "--thing-name", "t1", "--status", "IN_PROGRESS"});
  EXPECT_EQ(bare.exit, 0) << bare.What();
  if (!bare.out.empty()) ExpectConforms(data, bare.out, "UpdateJobExecutionResponse");
  Shaped(data, "GetPendingJobExecutionsResponse", {"get-pending-job-executions", "--thing-name", "t1"});

  json execution = Shaped(iot, "DescribeJobExecutionResponse",
                          {"describe-job-execution", "--job-id", first, "--thing-name", "t1"});
  EXPECT_EQ(execution["execution"].value("status", ""), "IN_PROGRESS");
  Shaped(iot, "DescribeJobExecutionResponse",
         {"describe-job-execution", "--job-id", first, "--thing-name", "t1", "--execution-number", "1"});
  json for_job = Shaped(iot, "ListJobExecutionsForJobResponse", {"list-job-executions-for-job", "--job-id", "alpha"});
  EXPECT_EQ(for_job["executionSummaries"].size(), 3u) << for_job.dump(2);
  json for_job_page = Shaped(iot, "ListJobExecutionsForJobResponse",
                             {"list-job-executions-for-job", "--job-id", "alpha", "--max-results", "1"});
  ASSERT_TRUE(for_job_page.contains("nextToken")) << for_job_page.dump(2);
  Shaped(iot, "ListJobExecutionsForJobResponse",
         {"list-job-executions-for-job", "--job-id", "alpha", "--max-results", "1", "--next-token",
          for_job_page["nextToken"].get<std::string>()});
  Shaped(iot, "ListJobExecutionsForJobResponse",
         {"list-job-executions-for-job", "--job-id", "alpha", "--status", "QUEUED"});
  json for_thing = Shaped(iot, "ListJobExecutionsForThingResponse",
                          {"list-job-executions-for-thing", "--thing-name", "t1"});
  EXPECT_GE(for_thing["executionSummaries"].size(), 2u) << for_thing.dump(2);
  Shaped(iot, "ListJobExecutionsForThingResponse",
         {"list-job-executions-for-thing", "--thing-name", "t1", "--status", "IN_PROGRESS"});

  // Commands without output print nothing.
  clock_.Set(kT0 + 4 * kSecond);
  Quiet({"update-job", "--job-id", "alpha", "--description", "Alpha, paused", "--timeout-config",
         R"({"inProgressTimeoutInMinutes":45})"});
  Quiet({"cancel-job-execution", "--job-id", "alpha", "--thing-name", "t2"});
  json canceled = Shaped(iot, "CancelJobResponse",
                         {"cancel-job", "--job-id", "delta", "--reason-code", "BAD_IMAGE", "--comment", "recalled"});
  EXPECT_EQ(canceled.value("jobId", ""), "delta");
  json delta = Shaped(iot, "DescribeJobResponse", {"describe-job", "--job-id", "delta"});
  EXPECT_EQ(delta["job"].value("status", ""), "CANCELED");
  EXPECT_EQ(delta["job"].value("reasonCode", ""), "BAD_IMAGE");
  Quiet({"delete-job-execution", "--job-id", "delta", "--thing-name", "t3", "--execution-number", "1"});
  Quiet({"delete-job", "--job-id", "delta"});
  Quiet({"remove-thing-from-thing-group", "--thing-group-name", "fleet", "--thing-name", "t3"});
  Quiet({"delete-thing", "--thing-name", "t3"});
  ExpectRejected(Cli({"describe-job", "--job-id", "delta"}), "ResourceNotFoundException", "DescribeJob");
  json after = Ok({"describe-job", "--job-id", "alpha"});
  EXPECT_EQ(after["job"].value("description", ""), "Alpha, paused");
}

// ---- 2. every exit status ----

TEST_F(CliTest, UsageErrorsExit252AndWriteNothing) {
  Fleet("fleet", 1);
  const std::string good_abort =
      R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":10,"minNumberOfExecutedThings":1}]})";
  struct Case {
    Args args;
    std::string names;  // what the message must name ("a|b": either)
  };
  auto names = [](const std::string& err, const std::string& alternatives) {
    std::istringstream in(alternatives);
    for (std::string one; std::getline(in, one, '|');) {
      if (Contains(err, one)) return true;
    }
    return false;
  };
  const std::vector<Case> cases = {
      {{"frobnicate"}, "frobnicate"},
      {{"describe-job", "--job-id", "a", "--bogus"}, "--bogus"},
      {{"describe-job"}, "--job-id"},
      {{"create-job", "--job-id", "x", "--document", "{}"}, "--targets"},
      {{"create-job", "--job-id", "x", "--targets", kThing + "t1", "--abort-config",
        R"({"criteriaList":[{"failureType":"SOMETIMES","action":"CANCEL","thresholdPercentage":10,"minNumberOfExecutedThings":1}]})"},
       "abortConfig.criteriaList[0].failureType"},
      {{"create-job", "--job-id", "x", "--targets", kThing + "t1", "--abort-config",
        R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":"ten","minNumberOfExecutedThings":1}]})"},
       "abortConfig.criteriaList[0].thresholdPercentage"},
      {{"create-job", "--job-id", "x", "--targets", kThing + "t1", "--abort-config", R"({"criteriaList": [)"},
       "--abort-config"},
      {{"create-job", "--job-id", "x", "--targets", kThing + "t1", "--abort-config", R"({"criteria":[]})"},
       "abortConfig.criteria"},
      {{"create-job", "--job-id", "x", "--targets", kThing + "t1", "--timeout-config",
        R"({"inProgressTimeoutInMinutes":"soon"})"},
       "timeoutConfig.inProgressTimeoutInMinutes"},
      {{"create-job", "--job-id", "x", "--targets", kThing + "t1", "--abort-config", good_abort, "--now", "yesterday"},
       "--now"},
      {{"create-job", "--job-id", "x", "--targets", kThing + "t1", "--document", "{}", "--now", "2026-13-01T00:00:00Z"}, "--now"},
      {{"describe-job", "--job-id", "x", "--now", "10 o'clock"}, "--now"},
      {{"list-jobs", "--as-of", "noon"}, "--as-of"},
      {{"list-jobs", "--at-seq", "999"}, "--at-seq"},
      {{"list-jobs", "--output", "yaml"}, "--output"},
      {{"update-job-execution", "--job-id", "x", "--thing-name", "t1", "--status", "DONE"}, "--status"},
      {{"update-job-execution", "--job-id", "x", "--thing-name", "t1", "--status", "IN_PROGRESS",
        "--status-details", R"({"progress":50})"},
       "--status-details.progress"},
      // Malformed values that must not be taken silently.
      {{"list-jobs", "--at-seq", "-5"}, "--at-seq"},
      {{"describe-job", "--job-id", "x", "--now", "2026-02-31T00:00:00Z"}, "--now"},
      {{"list-jobs", "--max-results", "0"}, "--max-results|maxResults"},
  };
  const Snapshot before = SnapshotOf(db_);
  for (const Case& c : cases) {
    Outcome r = Cli(c.args);
    EXPECT_TRUE(r.exit == 252 && r.out.empty() && names(r.err, c.names))
        << "expected exit 252, no output, and a message naming " << c.names << ": " << r.What();
  }
  EXPECT_EQ(Differences(before, SnapshotOf(db_)), "") << "a usage error wrote to the ledger";
  json jobs = Ok({"list-jobs"});
  EXPECT_TRUE(jobs["jobs"].empty()) << jobs.dump(2);

  // A bad --now on a fresh folder does not even create it.
  const std::string fresh = scratch_.path() + "/fresh";
  Outcome r = Cli({"--db", fresh, "create-job", "--job-id", "x", "--targets", kThing + "t1", "--document", "{}", "--now", "later"});
  EXPECT_EQ(r.exit, 252) << r.What();
  EXPECT_FALSE(fs::exists(fresh)) << r.What();
}

TEST_F(CliTest, RejectionsExit254WithTheAwsErrorLine) {
  Fleet("fleet", 2);
  Ok({"create-job", "--job-id", "j1", "--targets", kThing + "t1", "--document", "{}"});

  ExpectRejected(Cli({"describe-job", "--job-id", "nope"}), "ResourceNotFoundException", "DescribeJob");
  ExpectRejected(Cli({"update-job", "--job-id", "nope", "--description", "x"}), "ResourceNotFoundException",
                 "UpdateJob");
  ExpectRejected(Cli({"describe-job-execution", "--job-id", "j1", "--thing-name", "t2"}),
                 "ResourceNotFoundException", "DescribeJobExecution");
  ExpectRejected(Cli({"get-job-document", "--job-id", "nope"}), "ResourceNotFoundException", "GetJobDocument");
  ExpectRejected(Cli({"create-job", "--job-id", "j1", "--targets", kThing + "t1", "--document", "{}"}), "ResourceAlreadyExistsException",
                 "CreateJob");

  Ok({"start-next-pending-job-execution", "--thing-name", "t1"});
  ExpectRejected(Cli({"update-job-execution", "--job-id", "j1", "--thing-name", "t1", "--status", "IN_PROGRESS",
                      "--expected-version", "99"}),
                 "VersionConflictException", "UpdateJobExecution");
  Ok({"update-job-execution", "--job-id", "j1", "--thing-name", "t1", "--status", "SUCCEEDED"});
  ExpectRejected(Cli({"update-job-execution", "--job-id", "j1", "--thing-name", "t1", "--status", "IN_PROGRESS"}),
                 "InvalidStateTransitionException", "UpdateJobExecution");
  ExpectRejected(Cli({"cancel-job", "--job-id", "j1"}), "InvalidStateTransitionException", "CancelJob");

  ExpectRejected(Cli({"create-job", "--job-id", "bad id!", "--targets", kThing + "t1", "--document", "{}"}), "InvalidRequestException",
                 "CreateJob");
  ExpectRejected(Cli({"create-job", "--job-id", "j2", "--document", "{}", "--targets", "not-an-arn"}), "InvalidRequestException",
                 "CreateJob");
  Args many = {"create-job", "--job-id", "j3", "--document", "{}", "--targets"};
  for (int i = 0; i < 101; ++i) many.push_back(kThing + "many-" + std::to_string(i));
  ExpectRejected(Cli(many), "LimitExceededException", "CreateJob");

  // A rejected command appends nothing.
  json jobs = Ok({"list-jobs"});
  EXPECT_EQ(jobs["jobs"].size(), 1u) << jobs.dump(2);
}

// The ledger's region and account: given when it is created, kept with it, every ARN
// rendered from them; another --region or --account-id is refused, the AWS CLI's
// environment variables are not looked at.
TEST_F(CliTest, ALedgerKeepsTheRegionItWasCreatedForAndRefusesAnother) {
  const std::string thing = "arn:aws:iot:eu-west-1:111122223333:thing/";
  env_vars_["AWS_REGION"] = "us-west-2";
  env_vars_["AWS_DEFAULT_REGION"] = "us-west-2";
  Quiet({"--region", "eu-west-1", "--account-id", "111122223333", "add-thing-to-thing-group",
         "--thing-group-name", "fleet", "--thing-name", "t1"});
  json created = Ok({"create-job", "--job-id", "j1", "--targets", thing + "t1", "--document", "{}"});
  EXPECT_EQ(created.value("jobArn", ""), "arn:aws:iot:eu-west-1:111122223333:job/j1") << created.dump();
  ExpectRejected(Cli({"create-job", "--job-id", "j2", "--targets", kThing + "t1", "--document", "{}"}),
                 "InvalidRequestException", "CreateJob");
  json job = Ok({"describe-job", "--job-id", "j1"});
  EXPECT_EQ(job["job"].value("jobArn", ""), "arn:aws:iot:eu-west-1:111122223333:job/j1") << job.dump();
  json execs = Ok({"--region", "eu-west-1", "list-job-executions-for-job", "--job-id", "j1"});
  ASSERT_EQ(execs["executionSummaries"].size(), 1u) << execs.dump();
  EXPECT_EQ(execs["executionSummaries"][0].value("thingArn", ""), thing + "t1") << execs.dump();

  const uint64_t head = Head();
  for (const Args& args : std::vector<Args>{{"--region", "us-east-1", "describe-job", "--job-id", "j1"},
                                            {"--region", "us-east-1", "update-job", "--job-id", "j1",
                                             "--description", "x"},
                                            {"--account-id", "123456789012", "list-jobs"},
                                            {"--region", "us-east-1", "verify"}}) {
    Outcome r = Cli(args);
    EXPECT_EQ(r.exit, 255) << r.What();
    EXPECT_TRUE(r.out.empty()) << r.What();
    EXPECT_TRUE(Contains(r.err, "was created for")) << r.What();
    EXPECT_TRUE(Contains(r.err, "leave it out to use the ledger's")) << r.What();
  }
  Outcome bad = Cli({"--region", "EU", "list-jobs"});
  EXPECT_EQ(bad.exit, 252) << bad.What();
  EXPECT_TRUE(Contains(bad.err, "region: must match [a-z0-9-]{1,64}")) << bad.What();
  EXPECT_EQ(Head(), head) << "a refused command appended";

  // Its export imports into a ledger of the same region, not into a default one.
  const std::string file = scratch_.path() + "/eu.jsonl";
  Quiet({"export", "--out", file});
  Outcome other = Cli({"--db", scratch_.path() + "/us", "import", "--file", file});
  EXPECT_NE(other.exit, 0) << other.What();
  EXPECT_TRUE(Contains(other.err, "region must be 'us-east-1' (not 'eu-west-1')")) << other.What();
  Outcome same = Cli({"--db", scratch_.path() + "/eu", "--region", "eu-west-1", "--account-id", "111122223333",
                      "import", "--file", file});
  EXPECT_EQ(same.exit, 0) << same.What();
}

TEST_F(CliTest, MissingLedgerOnAReadExits255NamingTheFolder) {
  const std::string missing = scratch_.path() + "/no-such-ledger";
  for (const Args& args : std::vector<Args>{{"describe-job", "--job-id", "a"},
                                            {"list-jobs"},
                                            {"get-pending-job-executions", "--thing-name", "t1"},
                                            {"history", "--job-id", "a"},
                                            {"verify"},
                                            {"digest"},
                                            {"stats"},
                                            {"export"},
                                            {"tail"}}) {
    Args with_db = {"--db", missing};
    with_db.insert(with_db.end(), args.begin(), args.end());
    Outcome r = Cli(with_db);
    EXPECT_EQ(r.exit, 255) << r.What();
    EXPECT_TRUE(r.out.empty()) << r.What();
    EXPECT_TRUE(Contains(r.err, missing)) << "the message must name the folder: " << r.What();
    EXPECT_FALSE(fs::exists(missing)) << "a read created the ledger: " << r.What();
  }
  // $JOBLEDGER_DB is the default folder.
  env_vars_["JOBLEDGER_DB"] = missing;
  Outcome r;
  r.args = {"list-jobs"};
  std::ostringstream out, err;
  r.exit = RunCli(r.args, out, err, Environment());
  r.out = out.str();
  r.err = err.str();
  EXPECT_EQ(r.exit, 255) << r.What();
  EXPECT_TRUE(Contains(r.err, missing)) << r.What();
}

TEST_F(CliTest, VerifyExits1AfterAByteOfAnEventIsFlipped) {
  Fleet("fleet", 2);
  Ok({"create-job", "--job-id", "corruptme", "--targets", kGroup + "fleet", "--document", "{}"});
  Ok({"create-job", "--job-id", "other", "--targets", kThing + "t1", "--document", "{}"});
  json clean = Ok({"verify"});
  EXPECT_EQ(clean.value("verified", false), true) << clean.dump(2);

  json history = Ok({"history", "--job-id", "corruptme"});
  ASSERT_FALSE(history["events"].empty()) << history.dump(2);
  const uint64_t created = history["events"][0].value("sequence", uint64_t{0});
  ASSERT_EQ(history["events"][0].value("type", ""), "JobCreated") << history.dump(2);
  {
    rocksdb::Status s;
    std::unique_ptr<RawDb> raw = RawDb::Open(db_, &s);
    ASSERT_NE(raw, nullptr) << s.ToString();
    const std::string family(internal::kEventsFamily);
    std::string value;
    s = raw->Get(family, internal::EventKey(created), &value);
    ASSERT_TRUE(s.ok()) << s.ToString();
    const size_t at = value.find("corruptme", 32);
    ASSERT_NE(at, std::string::npos) << "the jobId is not in event " << created << "'s bytes";
    value[at] = static_cast<char>(value[at] ^ 0x20);  // 'c' -> 'C': still decodes
    s = raw->Put(family, internal::EventKey(created), value);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Outcome r = Cli({"verify"});
  EXPECT_EQ(r.exit, 1) << r.What();
  json j = r.Json();
  ASSERT_TRUE(j.is_object()) << r.What();
  EXPECT_EQ(j.value("verified", true), false) << r.What();
  EXPECT_EQ(j.value("firstBadSequence", uint64_t{0}), created) << r.What();
  EXPECT_FALSE(j.value("problem", "").empty()) << r.What();

  // A tampered export does not import.
  const std::string exported = scratch_.path() + "/tampered.jsonl";
  Outcome e = Cli({"export", "--out", exported});
  if (e.exit == 0) {
    Outcome i = Cli({"--db", scratch_.path() + "/restored", "import", "--file", exported});
    EXPECT_NE(i.exit, 0) << "a tampered export imported: " << i.What();
  } else {
    EXPECT_EQ(e.exit, 255) << e.What();
  }
}

// ---- 3. file:// arguments ----

TEST_F(CliTest, FileArguments) {
  Fleet("fleet", 1);
  const std::string document = "{\n  \"operation\": \"install\",\n  \"url\": \"s3://bucket/fw.bin\"\n}\n";
  WriteFile(scratch_.path() + "/job.json", document);
  WriteFile(scratch_.path() + "/abort.json",
            R"({"criteriaList":[{"failureType":"TIMED_OUT","action":"CANCEL","thresholdPercentage":25,"minNumberOfExecutedThings":3}]})");
  WriteFile(scratch_.path() + "/details.json", R"({"step":"flash","progress":"75%"})");
  WriteFile(scratch_.path() + "/bad-abort.json", R"({"criteriaList":[{"failureType":"FAILED","action":"PAUSE","thresholdPercentage":25,"minNumberOfExecutedThings":3}]})");

  Ok({"create-job", "--job-id", "fw", "--targets", kThing + "t1", "--document", "file://" + scratch_.path() + "/job.json",
      "--abort-config", "file://" + scratch_.path() + "/abort.json"});
  json doc = Ok({"get-job-document", "--job-id", "fw"});
  EXPECT_EQ(doc.value("document", ""), document);
  json job = Ok({"describe-job", "--job-id", "fw"});
  const json criteria = job["job"]["abortConfig"]["criteriaList"];
  ASSERT_EQ(criteria.size(), 1u) << job.dump(2);
  EXPECT_EQ(criteria[0].value("failureType", ""), "TIMED_OUT");
  EXPECT_EQ(criteria[0].value("minNumberOfExecutedThings", 0), 3);

  Ok({"start-next-pending-job-execution", "--thing-name", "t1"});
  Ok({"update-job-execution", "--job-id", "fw", "--thing-name", "t1", "--status", "IN_PROGRESS", "--status-details",
      "file://" + scratch_.path() + "/details.json"});
  json e = Ok({"describe-job-execution", "--job-id", "fw", "--thing-name", "t1"});
  EXPECT_EQ(e["execution"]["statusDetails"]["detailsMap"], (json{{"step", "flash"}, {"progress", "75%"}})) << e.dump(2);

  // A file's JSON is checked like inline JSON, and a missing file is a usage error.
  Outcome bad = Cli({"create-job", "--job-id", "fw2", "--targets", kThing + "t1", "--abort-config",
                 "file://" + scratch_.path() + "/bad-abort.json"});
  EXPECT_EQ(bad.exit, 252) << bad.What();
  EXPECT_TRUE(Contains(bad.err, "abortConfig.criteriaList[0].action")) << bad.What();
  const std::string missing = scratch_.path() + "/missing.json";
  for (const Args& args :
       std::vector<Args>{{"create-job", "--job-id", "fw3", "--targets", kThing + "t1", "--document", "file://" + missing},
                         {"create-job", "--job-id", "fw3", "--targets", kThing + "t1", "--abort-config", "file://" + missing},
                         {"update-job-execution", "--job-id", "fw", "--thing-name", "t1", "--status", "IN_PROGRESS",
                          "--status-details", "file://" + missing}}) {
    Outcome r = Cli(args);
    EXPECT_EQ(r.exit, 252) << r.What();
    EXPECT_TRUE(Contains(r.err, missing)) << "the message must name the file: " << r.What();
  }
  ExpectRejected(Cli({"describe-job", "--job-id", "fw3"}), "ResourceNotFoundException", "DescribeJob");
}

// ---- 4. --now, --as-of, --at-seq ----

TEST_F(CliTest, WritingCommandsActAtNowInEitherForm) {
  Fleet("fleet", 1);
  // RFC 3339 with an offset and a fraction: 12:30:00.25+02:30 is 10:00:00.25Z.
  Ok({"create-job", "--job-id", "rfc", "--targets", kThing + "t1", "--document", "{}", "--now", "2026-11-27T12:30:00.25+02:30"});
  json rfc = Ok({"describe-job", "--job-id", "rfc"});
  EXPECT_EQ(Micros(rfc["job"]["createdAt"]), kT0 + 250'000) << rfc.dump(2);
  Ok({"create-job", "--job-id", "neg", "--targets", kThing + "t1", "--document", "{}", "--now", "2026-11-27T09:00:01.5-01:00"});
  json neg = Ok({"describe-job", "--job-id", "neg"});
  EXPECT_EQ(Micros(neg["job"]["createdAt"]), kT0 + 1'500'000) << neg.dump(2);
  Ok({"create-job", "--job-id", "epoch", "--targets", kThing + "t1", "--document", "{}", "--now", "1795773602.75"});
  json epoch = Ok({"describe-job", "--job-id", "epoch"});
  EXPECT_EQ(Micros(epoch["job"]["createdAt"]), kT0 + 2'750'000) << epoch.dump(2);
  Ok({"create-job", "--job-id", "zulu", "--targets", kThing + "t1", "--document", "{}", "--now", "2026-11-27T10:00:03Z"});
  json zulu = Ok({"describe-job", "--job-id", "zulu"});
  EXPECT_EQ(Micros(zulu["job"]["createdAt"]), kT0 + 3 * kSecond) << zulu.dump(2);
  // Without --now, the environment's clock.
  clock_.Set(kT0 + 4 * kSecond + 125'000);
  Ok({"create-job", "--job-id", "clock", "--targets", kThing + "t1", "--document", "{}"});
  json clock = Ok({"describe-job", "--job-id", "clock"});
  EXPECT_EQ(Micros(clock["job"]["createdAt"]), kT0 + 4 * kSecond + 125'000) << clock.dump(2);
  // Global options may come after the command too.
  Ok({"create-job", "--job-id", "after", "--targets", kThing + "t1", "--document", "{}", "--now", "2026-11-27T10:00:05Z", "--actor",
      "user:alice", "--request-id", "req-1"});
  json history = Ok({"history", "--job-id", "after"});
  ASSERT_FALSE(history["events"].empty()) << history.dump(2);
  EXPECT_EQ(history["events"][0].value("actor", ""), "user:alice");
  EXPECT_EQ(history["events"][0].value("requestId", ""), "req-1");
  EXPECT_EQ(Micros(history["events"][0]["recordedAt"]), kT0 + 5 * kSecond) << history.dump(2);
  json rfc_history = Ok({"history", "--job-id", "rfc"});
  EXPECT_EQ(rfc_history["events"][0].value("actor", ""), "cli:tester") << "the default actor is cli:$USER";
}

TEST_F(CliTest, TimeDrivenWorkDueByNowComesFirst) {
  Fleet("fleet", 2);
  Ok({"create-job", "--job-id", "slow", "--targets", kThing + "t1", "--document", "{}", "--timeout-config",
      R"({"inProgressTimeoutInMinutes":1})", "--now", Epoch(kT0)});
  Ok({"start-next-pending-job-execution", "--thing-name", "t1", "--now", Epoch(kT0 + kSecond)});
  const uint64_t started = Head();

  // Reads compute approximateSecondsBeforeTimedOut against --now, or the as-of time.
  json now30 = Ok({"describe-job-execution", "--job-id", "slow", "--thing-name", "t1", "--now", Epoch(kT0 + 31 * kSecond)});
  EXPECT_EQ(now30["execution"].value("approximateSecondsBeforeTimedOut", int64_t{-1}), 30) << now30.dump(2);
  clock_.Set(kT0 + 41 * kSecond);
  json clock20 = Ok({"describe-job-execution", "--job-id", "slow", "--thing-name", "t1"});
  EXPECT_EQ(clock20["execution"].value("approximateSecondsBeforeTimedOut", int64_t{-1}), 20) << clock20.dump(2);
  json asof50 = Ok({"describe-job-execution", "--job-id", "slow", "--thing-name", "t1", "--as-of", Epoch(kT0 + 11 * kSecond)});
  EXPECT_EQ(asof50["execution"].value("approximateSecondsBeforeTimedOut", int64_t{-1}), 50) << asof50.dump(2);
  // Nothing is written by a read, even past the deadline.
  json late = Ok({"describe-job-execution", "--job-id", "slow", "--thing-name", "t1", "--now", Epoch(kT0 + 5 * kMinute)});
  EXPECT_EQ(late["execution"].value("status", ""), "IN_PROGRESS") << late.dump(2);
  EXPECT_EQ(Head(), started);

  // A writing command past the deadline: the timeout is appended before it.
  Quiet({"add-thing-to-thing-group", "--thing-group-name", "late", "--thing-name", "t9", "--now", Epoch(kT0 + 2 * kMinute)});
  json timed_out = Ok({"describe-job-execution", "--job-id", "slow", "--thing-name", "t1"});
  EXPECT_EQ(timed_out["execution"].value("status", ""), "TIMED_OUT") << timed_out.dump(2);
  json thing = Ok({"history", "--thing-name", "t9"});
  ASSERT_EQ(thing["events"].size(), 1u) << thing.dump(2);
  const uint64_t added = thing["events"][0].value("sequence", uint64_t{0});
  json slow = Ok({"history", "--job-id", "slow", "--thing-name", "t1"});
  bool saw_timeout = false;
  for (const json& e : slow["events"]) {
    if (e.value("type", "") != "ExecutionTimedOut") continue;
    saw_timeout = true;
    EXPECT_LT(e.value("sequence", uint64_t{0}), added) << "the timeout comes before the command:\n" << slow.dump(2);
    EXPECT_EQ(e.value("actor", ""), "system:timeout") << e.dump(2);
  }
  EXPECT_TRUE(saw_timeout) << slow.dump(2);

  // advance: the due work alone.
  Ok({"create-job", "--job-id", "slow2", "--targets", kThing + "t2", "--document", "{}", "--timeout-config",
      R"({"inProgressTimeoutInMinutes":1})", "--now", Epoch(kT0 + 3 * kMinute)});
  Ok({"start-next-pending-job-execution", "--thing-name", "t2", "--now", Epoch(kT0 + 3 * kMinute + kSecond)});
  const uint64_t before = Head();
  json nothing_due = Ok({"advance", "--now", Epoch(kT0 + 3 * kMinute + 2 * kSecond)});
  EXPECT_EQ(nothing_due.value("appended", int64_t{-1}), 0) << nothing_due.dump(2);
  EXPECT_EQ(nothing_due.value("headSequence", uint64_t{0}), before) << nothing_due.dump(2);
  json advanced = Ok({"advance", "--now", Epoch(kT0 + 10 * kMinute)});
  ASSERT_TRUE(advanced.contains("appended") && advanced.contains("headSequence")) << advanced.dump(2);
  EXPECT_GE(advanced.value("appended", int64_t{0}), 1) << advanced.dump(2);
  EXPECT_EQ(advanced.value("headSequence", uint64_t{0}),
            before + static_cast<uint64_t>(advanced.value("appended", int64_t{0})))
      << advanced.dump(2);
  EXPECT_EQ(Head(), advanced.value("headSequence", uint64_t{0}));
  json slow2 = Ok({"describe-job-execution", "--job-id", "slow2", "--thing-name", "t2"});
  EXPECT_EQ(slow2["execution"].value("status", ""), "TIMED_OUT") << slow2.dump(2);
  json again = Ok({"advance", "--now", Epoch(kT0 + 10 * kMinute)});
  EXPECT_EQ(again.value("appended", int64_t{-1}), 0) << again.dump(2);
}

// Only the service's operations and `advance` run the time-driven work due by --now:
// every maintenance command and every read on a ledger whose clock has moved on leaves
// the head and the digest as they were, and import appends exactly what it imports.
TEST_F(CliTest, MaintenanceCommandsNeverAppendOnALedgerWhoseClockMovedOn) {
  Fleet("fleet", 2);
  Ok({"create-job", "--job-id", "slow", "--targets", kThing + "t1", "--document", "{}", "--timeout-config",
      R"({"inProgressTimeoutInMinutes":1})", "--now", Epoch(kT0)});
  Ok({"create-job", "--job-id", "rollout", "--targets", kGroup + "fleet", "--document", "{}",
      "--job-executions-rollout-config", R"({"maximumPerMinute":1})", "--now", Epoch(kT0 + kSecond)});
  Ok({"start-next-pending-job-execution", "--thing-name", "t1", "--now", Epoch(kT0 + 2 * kSecond)});
  const json digest = Ok({"digest"});
  ASSERT_GT(digest.value("sequence", uint64_t{0}), 0u) << digest.dump(2);

  clock_.Set(kT0 + 21 * 24 * 60 * kMinute);  // three weeks later: a timeout and rollout steps are due
  const std::string exported = scratch_.path() + "/export.jsonl";
  const std::vector<Args> commands = {
      {"rebuild-projections"},
      {"rebuild-projections", "--compare"},
      {"verify"},
      {"digest"},
      {"stats"},
      {"export", "--out", exported},
      {"compact"},
      {"history", "--job-id", "slow"},
      {"diff", "--job-id", "slow", "--from-seq", "1", "--to-seq", "3"},
      {"tail"},
      {"describe-job", "--job-id", "slow"},
      {"list-job-executions-for-job", "--job-id", "rollout"},
      {"describe-job-execution", "--job-id", "slow", "--thing-name", "t1"},
      {"get-pending-job-executions", "--thing-name", "t2"},
  };
  for (const Args& command : commands) {
    Outcome r = Cli(command);
    EXPECT_EQ(r.exit, 0) << r.What();
    EXPECT_EQ(Ok({"digest"}), digest) << Shown(command) << " changed the ledger";
  }
  const std::string copy = scratch_.path() + "/imported";
  json imported = Ok({"--db", copy, "import", "--file", exported});
  EXPECT_EQ(imported.value("imported", uint64_t{0}), digest.value("sequence", uint64_t{0})) << imported.dump(2);
  EXPECT_EQ(Ok({"--db", copy, "digest"}), digest);

  // The control: `advance` (like any service operation) does run the work due.
  json advanced = Ok({"advance"});
  EXPECT_GE(advanced.value("appended", int64_t{0}), 2) << advanced.dump(2);
}

TEST_F(CliTest, AsOfAndAtSeqAnswerAsOfThePast) {
  Fleet("fleet", 1);
  Ok({"create-job", "--job-id", "j", "--targets", kThing + "t1", "--document", "{}", "--now", Epoch(kT0 + kMinute)});
  const uint64_t created = Head();
  Ok({"start-next-pending-job-execution", "--thing-name", "t1", "--now", Epoch(kT0 + 2 * kMinute)});
  Ok({"update-job-execution", "--job-id", "j", "--thing-name", "t1", "--status", "SUCCEEDED", "--now",
      Epoch(kT0 + 3 * kMinute)});
  json now = Ok({"describe-job", "--job-id", "j"});
  EXPECT_EQ(now["job"].value("status", ""), "SUCCEEDED") << now.dump(2);

  json then = Ok({"describe-job", "--job-id", "j", "--at-seq", std::to_string(created)});
  EXPECT_EQ(then["job"].value("status", ""), "IN_PROGRESS") << then.dump(2);
  EXPECT_FALSE(then["job"].contains("completedAt")) << then.dump(2);
  json e = Ok({"describe-job-execution", "--job-id", "j", "--thing-name", "t1", "--as-of", "2026-11-27T10:02:30Z"});
  EXPECT_EQ(e["execution"].value("status", ""), "IN_PROGRESS") << e.dump(2);
  json queued = Ok({"describe-job-execution", "--job-id", "j", "--thing-name", "t1", "--as-of",
                    "2026-11-27T11:01:30+01:00"});
  EXPECT_EQ(queued["execution"].value("status", ""), "QUEUED") << queued.dump(2);
  json pending = Ok({"get-pending-job-executions", "--thing-name", "t1", "--as-of", Epoch(kT0 + 90 * kSecond)});
  EXPECT_EQ(pending["queuedJobs"].size(), 1u) << pending.dump(2);

  // Before the job existed, and the empty ledger.
  ExpectRejected(Cli({"describe-job", "--job-id", "j", "--as-of", Epoch(kT0 + 30 * kSecond)}),
                 "ResourceNotFoundException", "DescribeJob");
  ExpectRejected(Cli({"describe-job", "--job-id", "j", "--at-seq", "0"}), "ResourceNotFoundException", "DescribeJob");
  json empty = Ok({"list-jobs", "--at-seq", "0"});
  EXPECT_TRUE(empty["jobs"].is_array() && empty["jobs"].empty()) << empty.dump(2);
  json none = Ok({"list-job-executions-for-thing", "--thing-name", "t1", "--at-seq", "0"});
  EXPECT_TRUE(none["executionSummaries"].empty()) << none.dump(2);
  Outcome both = Cli({"describe-job", "--job-id", "j", "--at-seq", "1", "--as-of", Epoch(kT0)});
  EXPECT_EQ(both.exit, 252) << both.What();
}

// ---- 5. reading commands never write ----

// Reading commands, as argument lists (the ledger has job "j" on thing "t1").
std::vector<Args> ReadingCommands(const std::string& scratch) {
  return {{"describe-job", "--job-id", "j"},
          {"describe-job", "--job-id", "j", "--at-seq", "3"},
          {"list-jobs"},
          {"list-jobs", "--output", "table"},
          {"get-job-document", "--job-id", "j"},
          {"describe-job-execution", "--job-id", "j", "--thing-name", "t1"},
          {"list-job-executions-for-job", "--job-id", "j"},
          {"list-job-executions-for-thing", "--thing-name", "t1"},
          {"get-pending-job-executions", "--thing-name", "t1"},
          {"history", "--job-id", "j"},
          {"history", "--why", "--at-seq", "3"},
          {"diff", "--job-id", "j", "--from-seq", "3", "--to-seq", "5"},
          {"verify"},
          {"digest"},
          {"digest", "--out", scratch + "/digest.json"},
          {"export"},
          {"export", "--out", scratch + "/export.jsonl"},
          {"stats"},
          {"tail"}};
}

TEST_F(CliTest, ReadingCommandsLeaveTheFolderByteIdentical) {
  Fleet("fleet", 2);
  Ok({"create-job", "--job-id", "j", "--targets", kGroup + "fleet", "--document", "{}", "--timeout-config",
      R"({"inProgressTimeoutInMinutes":5})"});
  Ok({"start-next-pending-job-execution", "--thing-name", "t1"});
  Ok({"update-job-execution", "--job-id", "j", "--thing-name", "t1", "--status", "IN_PROGRESS"});
  for (const Args& args : ReadingCommands(scratch_.path())) {
    const Snapshot before = SnapshotOf(db_);
    Outcome r = Cli(args);
    EXPECT_EQ(r.exit, 0) << r.What();
    EXPECT_EQ(Differences(before, SnapshotOf(db_)), "") << Shown(args) << " changed the ledger folder";
  }
  // Even with --now past a timeout: a read advances nothing.
  const Snapshot before = SnapshotOf(db_);
  Outcome r = Cli({"describe-job", "--job-id", "j", "--now", Epoch(kT0 + 60 * kMinute)});
  EXPECT_EQ(r.exit, 0) << r.What();
  EXPECT_EQ(Differences(before, SnapshotOf(db_)), "");
}

// A cancel over more executions than one chunk (LedgerLimits::fan_out_chunk, 500)
// goes on after its answer; the CLI finishes it before it reports, so the next
// command, a reader, sees every execution canceled.
TEST_F(CliTest, ACancelOverManyExecutionsIsWholeBeforeTheCommandReports) {
  constexpr int kThings = 600;
  {
    LedgerOptions options;
    options.clock = &clock_;
    options.sync = false;
    StatusOr<std::unique_ptr<Ledger>> writer = Ledger::Open(options, db_);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    for (int i = 0; i < kThings; ++i) {
      ASSERT_TRUE((*writer)->AddThingToThingGroup(RequestContext{"user:test", ""},
                                                  {"fleet", "t" + std::to_string(i)}).ok());
    }
  }
  Ok({"create-job", "--job-id", "big", "--targets", kGroup + "fleet", "--document", "{}"});
  json before = Ok({"describe-job", "--job-id", "big"});
  EXPECT_EQ(before["job"]["jobProcessDetails"]["numberOfQueuedThings"], kThings) << before.dump();
  Ok({"cancel-job", "--job-id", "big"});
  json after = Ok({"describe-job", "--job-id", "big"});
  const json& details = after["job"]["jobProcessDetails"];
  EXPECT_EQ(after["job"]["status"], "CANCELED");
  EXPECT_EQ(details["numberOfCanceledThings"], kThings) << after.dump();
  EXPECT_EQ(details.value("numberOfQueuedThings", 0), 0) << after.dump();
}

TEST_F(CliTest, ReadingCommandsNextToALiveWriterLeaveTheFolderByteIdentical) {
  Fleet("fleet", 2);
  Ok({"create-job", "--job-id", "j", "--targets", kGroup + "fleet", "--document", "{}"});
  Ok({"start-next-pending-job-execution", "--thing-name", "t1"});
  Ok({"update-job-execution", "--job-id", "j", "--thing-name", "t1", "--status", "IN_PROGRESS"});

  LedgerOptions options;
  options.clock = &clock_;
  StatusOr<std::unique_ptr<Ledger>> writer = Ledger::Open(options, db_);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  // The live writer appends once more, so the readers see a WAL they must not touch.
  clock_.Set(kT0 + kMinute);
  ASSERT_TRUE((*writer)->AddThingToThingGroup(RequestContext{"user:test", ""}, {"fleet", "t3"}).ok());

  for (const Args& args : ReadingCommands(scratch_.path())) {
    const Snapshot before = SnapshotOf(db_);
    Outcome r = Bin(args);
    EXPECT_EQ(r.exit, 0) << r.What();
    EXPECT_EQ(Differences(before, SnapshotOf(db_)), "") << Shown(args) << " changed the folder of a live ledger";
  }
  // The readers see the live writer's latest event.
  Outcome h = Bin({"history", "--thing-name", "t3"});
  EXPECT_EQ(h.exit, 0) << h.What();
  json hj = h.Json();
  ASSERT_TRUE(hj.is_object()) << h.What();
  EXPECT_EQ(hj["events"].size(), 1u) << h.What();
  writer->reset();
}

// ---- 6. two writers ----

TEST_F(CliTest, AWriterWaitsForAnotherAndFailsWithoutTimeToWait) {
  Fleet("fleet", 1);
  LedgerOptions options;
  options.clock = &clock_;
  StatusOr<std::unique_ptr<Ledger>> held = Ledger::Open(options, db_);
  ASSERT_TRUE(held.ok()) << held.status().ToString();

  // No time to wait: 255, naming the lock.
  Outcome impatient = Bin({"add-thing-to-thing-group", "--thing-group-name", "fleet", "--thing-name", "t2",
                       "--lock-timeout", "0"});
  EXPECT_EQ(impatient.exit, 255) << impatient.What();
  EXPECT_TRUE(Contains(impatient.err, "lock") || Contains(impatient.err, "LOCK")) << impatient.What();
  EXPECT_TRUE(Contains(impatient.err, db_)) << impatient.What();

  // Time to wait: it proceeds once the holder lets go.
  Args args = {"--db", db_, "add-thing-to-thing-group", "--thing-group-name", "fleet", "--thing-name", "t3",
               "--lock-timeout", "5"};
  Process patient(args, scratch_.path());
  std::thread release([&held] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    held->reset();
  });
  Outcome r = patient.Wait();
  release.join();
  ExpectNoEscapes(r);
  EXPECT_EQ(r.exit, 0) << r.What();
  json t3 = Ok({"history", "--thing-name", "t3"});
  EXPECT_EQ(t3["events"].size(), 1u) << t3.dump(2);
  json t2 = Ok({"history", "--thing-name", "t2"});
  EXPECT_TRUE(t2["events"].empty()) << t2.dump(2);
}

// ---- 7. no escape codes ----

TEST_F(CliTest, NoEscapeCodesWithOrWithoutNoColorWhenNotATerminal) {
  Fleet("fleet", 2);
  const std::vector<Args> commands = {
      {"create-job", "--job-id", "j", "--targets", kGroup + "fleet", "--document", "{}"},
      {"list-jobs"},
      {"list-jobs", "--output", "table"},
      {"list-jobs", "--output", "text"},
      {"describe-job", "--job-id", "j", "--output", "table"},
      {"describe-job", "--job-id", "nope"},
      {"frobnicate"},
      {"verify"},
      {"export"},
      {"stats"},
      {"history", "--job-id", "j"},
      {"create-job", "--help"},
  };
  for (bool no_color : {true, false}) {
    if (no_color) {
      env_vars_["NO_COLOR"] = "1";
    } else {
      env_vars_.erase("NO_COLOR");
    }
    for (const Args& args : commands) Cli(args);  // Cli checks every output for '\x1b'
  }
  for (const Args& args : commands) Bin(args);
}

// ---- 8. the ledger commands' JSON ----

TEST_F(CliTest, LedgerCommandsPrintTheDocumentedJson) {
  Fleet("fleet", 2);
  clock_.Set(kT0 + kSecond);
  Ok({"create-job", "--job-id", "j", "--targets", kGroup + "fleet", "--document", "{}", "--request-id", "req-create"});
  const uint64_t created = Head();
  clock_.Set(kT0 + 2 * kSecond);
  Ok({"start-next-pending-job-execution", "--thing-name", "t1"});
  clock_.Set(kT0 + 3 * kSecond);
  Ok({"update-job-execution", "--job-id", "j", "--thing-name", "t1", "--status", "SUCCEEDED", "--status-details",
      R"({"result":"ok"})"});
  const uint64_t middle = Head();
  clock_.Set(kT0 + 4 * kSecond);
  Ok({"start-next-pending-job-execution", "--thing-name", "t2"});
  Ok({"update-job-execution", "--job-id", "j", "--thing-name", "t2", "--status", "SUCCEEDED"});
  const uint64_t head = Head();

  // history
  json history = Ok({"history", "--job-id", "j"});
  ASSERT_TRUE(history["events"].is_array()) << history.dump(2);
  uint64_t previous = 0;
  uint64_t completed = 0;
  for (const json& e : history["events"]) {
    for (const char* member : {"sequence", "recordedAt", "actor", "cause", "type", "jobId", "changes"}) {
      EXPECT_TRUE(e.contains(member)) << member << " missing in " << e.dump(2);
    }
    EXPECT_TRUE(e["changes"].is_object()) << e.dump(2);
    EXPECT_GT(e.value("sequence", uint64_t{0}), previous) << history.dump(2);
    previous = e.value("sequence", uint64_t{0});
    if (e.value("type", "") == "JobCompleted") completed = previous;
    if (e.value("type", "") == "JobCreated") {
      EXPECT_EQ(e.value("requestId", ""), "req-create") << e.dump(2);
      EXPECT_EQ(Micros(e["recordedAt"]), kT0 + kSecond) << e.dump(2);
    }
  }
  ASSERT_NE(completed, 0u) << "the job completes when both things succeed:\n" << history.dump(2);
  json execution = Ok({"history", "--job-id", "j", "--thing-name", "t1"});
  bool saw_details = false;
  for (const json& e : execution["events"]) {
    EXPECT_EQ(e.value("thingName", ""), "t1") << e.dump(2);
    if (e.value("type", "") == "ExecutionStatusChanged" && e["changes"].contains("status")) {
      const json& status = e["changes"]["status"];
      EXPECT_TRUE(status.contains("from") && status.contains("to")) << e.dump(2);
      for (const auto& [field, change] : e["changes"].items()) {
        saw_details = saw_details || field.rfind("statusDetails", 0) == 0;
      }
    }
  }
  EXPECT_TRUE(saw_details) << execution.dump(2);
  json thing = Ok({"history", "--thing-name", "t2"});
  for (const json& e : thing["events"]) EXPECT_EQ(e.value("thingName", ""), "t2") << e.dump(2);
  json bounded = Ok({"history", "--job-id", "j", "--from-seq", std::to_string(created + 1), "--to-seq",
                     std::to_string(middle)});
  ASSERT_FALSE(bounded["events"].empty()) << bounded.dump(2);
  for (const json& e : bounded["events"]) {
    EXPECT_GE(e.value("sequence", uint64_t{0}), created + 1);
    EXPECT_LE(e.value("sequence", uint64_t{0}), middle);
  }
  json by_time = Ok({"history", "--job-id", "j", "--to", Epoch(kT0 + kSecond)});
  ASSERT_FALSE(by_time["events"].empty()) << by_time.dump(2);
  EXPECT_EQ(by_time["events"].back().value("sequence", uint64_t{0}), created) << by_time.dump(2);
  Outcome neither = Cli({"history"});
  EXPECT_EQ(neither.exit, 252) << neither.What();

  // history --why: the cause chain, from the event back to the command.
  json why = Ok({"history", "--why", "--at-seq", std::to_string(completed)});
  ASSERT_GE(why["events"].size(), 2u) << why.dump(2);
  EXPECT_EQ(why["events"][0].value("sequence", uint64_t{0}), completed) << why.dump(2);
  EXPECT_EQ(why["events"][0].value("type", ""), "JobCompleted") << why.dump(2);
  EXPECT_EQ(why["events"][1].value("sequence", uint64_t{0}), why["events"][0].value("cause", uint64_t{0}))
      << why.dump(2);
  Outcome why_without = Cli({"history", "--why"});
  EXPECT_EQ(why_without.exit, 252) << why_without.What();

  // diff
  json diff = Ok({"diff", "--job-id", "j", "--from-seq", std::to_string(created), "--to-seq", std::to_string(head)});
  EXPECT_EQ(diff.value("jobId", ""), "j") << diff.dump(2);
  EXPECT_EQ(diff.value("fromSequence", uint64_t{0}), created) << diff.dump(2);
  EXPECT_EQ(diff.value("toSequence", uint64_t{0}), head) << diff.dump(2);
  ASSERT_TRUE(diff["differences"].is_array()) << diff.dump(2);
  bool saw_job_status = false;
  for (const json& d : diff["differences"]) {
    ASSERT_TRUE(d.contains("entity") && d["changes"].is_object()) << d.dump(2);
    if (d["changes"].contains("status") && d["changes"]["status"].value("to", json()) == "SUCCEEDED" &&
        d["changes"]["status"].value("from", json()) == "IN_PROGRESS") {
      saw_job_status = true;
    }
  }
  EXPECT_TRUE(saw_job_status) << "the job's status IN_PROGRESS -> SUCCEEDED:\n" << diff.dump(2);
  json diff_by_time = Ok({"diff", "--job-id", "j", "--from", Epoch(kT0 + kSecond), "--to", Epoch(kT0 + 3 * kSecond)});
  EXPECT_EQ(diff_by_time.value("fromSequence", uint64_t{0}), created) << diff_by_time.dump(2);
  EXPECT_EQ(diff_by_time.value("toSequence", uint64_t{0}), middle) << diff_by_time.dump(2);
  Outcome diff_open = Cli({"diff", "--job-id", "j", "--from-seq", "1"});
  EXPECT_EQ(diff_open.exit, 252) << diff_open.What();
  // A point beyond the head is a malformed value, as it is for --at-seq.
  Outcome diff_beyond = Cli({"diff", "--job-id", "j", "--from-seq", std::to_string(created), "--to-seq",
                             std::to_string(head + 100)});
  EXPECT_TRUE(diff_beyond.exit == 252 && Contains(diff_beyond.err, "--to-seq"))
      << "expected exit 252 naming --to-seq (beyond the head " << head << "): " << diff_beyond.What();
  Outcome at_beyond = Cli({"describe-job", "--job-id", "j", "--at-seq", std::to_string(head + 100)});
  EXPECT_TRUE(at_beyond.exit == 252 && Contains(at_beyond.err, "--at-seq")) << at_beyond.What();

  // verify and digest
  json verify = Ok({"verify"});
  EXPECT_EQ(verify.value("verified", false), true) << verify.dump(2);
  EXPECT_EQ(verify.value("events", uint64_t{0}), head) << verify.dump(2);
  EXPECT_EQ(verify.value("headSequence", uint64_t{0}), head) << verify.dump(2);
  EXPECT_TRUE(std::regex_match(verify.value("headHash", ""), std::regex("[0-9a-f]{64}"))) << verify.dump(2);
  json digest = Ok({"digest"});
  EXPECT_EQ(digest.value("sequence", uint64_t{0}), head) << digest.dump(2);
  EXPECT_EQ(digest.value("hash", ""), verify.value("headHash", "")) << digest.dump(2);
  const std::string digest_file = scratch_.path() + "/digest.json";
  Quiet({"digest", "--out", digest_file});
  EXPECT_EQ(json::parse(ReadFile(digest_file), nullptr, false), digest);
  json against = Ok({"verify", "--digest", digest_file});
  EXPECT_EQ(against.value("verified", false), true) << against.dump(2);
  WriteFile(scratch_.path() + "/wrong.json",
            json{{"sequence", head}, {"hash", std::string(64, '0')}}.dump());
  Outcome wrong = Cli({"verify", "--digest", scratch_.path() + "/wrong.json"});
  EXPECT_EQ(wrong.exit, 1) << wrong.What();
  EXPECT_EQ(wrong.Json().value("verified", true), false) << wrong.What();
  Outcome not_digest = Cli({"verify", "--digest", scratch_.path() + "/nope.json"});
  EXPECT_EQ(not_digest.exit, 252) << not_digest.What();

  // export and import: the same digest in a new ledger.
  Outcome exported = Cli({"export"});
  EXPECT_EQ(exported.exit, 0) << exported.What();
  std::vector<json> lines;
  std::istringstream in(exported.out);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(json::parse(line, nullptr, false));
    ASSERT_TRUE(lines.back().is_object()) << line;
  }
  ASSERT_EQ(lines.size(), head);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].value("sequence", uint64_t{0}), i + 1);
    for (const char* member : {"recordedAt", "actor", "cause", "previousHash", "hash", "type", "body"}) {
      EXPECT_TRUE(lines[i].contains(member)) << member << " missing in " << lines[i].dump();
    }
    if (i > 0) {
      EXPECT_EQ(lines[i].value("previousHash", ""), lines[i - 1].value("hash", ""));
    }
  }
  EXPECT_EQ(lines.back().value("hash", ""), digest.value("hash", ""));
  const std::string file = scratch_.path() + "/ledger.jsonl";
  Quiet({"export", "--out", file});
  EXPECT_EQ(ReadFile(file), exported.out);
  Outcome part = Cli({"export", "--from-seq", "2", "--to-seq", "3"});
  EXPECT_EQ(part.exit, 0) << part.What();
  EXPECT_EQ(std::count(part.out.begin(), part.out.end(), '\n'), 2) << part.What();

  const std::string restored = scratch_.path() + "/restored";
  json imported = Ok({"--db", restored, "import", "--file", file});
  EXPECT_EQ(imported.value("imported", uint64_t{0}), head) << imported.dump(2);
  EXPECT_EQ(imported.value("headSequence", uint64_t{0}), head) << imported.dump(2);
  EXPECT_EQ(imported.value("headHash", ""), digest.value("hash", "")) << imported.dump(2);
  EXPECT_EQ(Ok({"--db", restored, "digest"}), digest);
  EXPECT_EQ(Ok({"--db", restored, "verify"}).value("verified", false), true);
  EXPECT_EQ(Ok({"--db", restored, "describe-job", "--job-id", "j"}), Ok({"describe-job", "--job-id", "j"}));
  Outcome twice = Cli({"--db", restored, "import", "--file", file});
  EXPECT_NE(twice.exit, 0) << "import is into an empty ledger only: " << twice.What();
  Outcome no_file = Cli({"--db", scratch_.path() + "/other", "import", "--file", scratch_.path() + "/none.jsonl"});
  EXPECT_EQ(no_file.exit, 252) << no_file.What();

  // stats
  json stats = Ok({"stats"});
  EXPECT_EQ(stats.value("events", uint64_t{0}), head) << stats.dump(2);
  EXPECT_EQ(stats.value("headSequence", uint64_t{0}), head) << stats.dump(2);
  EXPECT_EQ(stats.value("headHash", ""), digest.value("hash", "")) << stats.dump(2);
  EXPECT_GT(stats.value("bytes", uint64_t{0}), 0u) << stats.dump(2);
  EXPECT_TRUE(stats.contains("firstRecordedAt") && stats.contains("lastRecordedAt")) << stats.dump(2);
  ASSERT_TRUE(stats["projections"].is_array() && !stats["projections"].empty()) << stats.dump(2);
  for (const json& p : stats["projections"]) {
    EXPECT_TRUE(p.contains("name") && p.contains("version") && p.contains("checkpoint")) << p.dump(2);
    EXPECT_EQ(p.value("checkpoint", uint64_t{0}), head) << p.dump(2);
  }
  // stats: the folder on disk (doc/storage.md).
  const json& storage = stats["storage"];
  for (const char* key : {"files", "bytes", "sstFiles", "sstBytes", "walFiles", "walBytes", "infoLogFiles",
                          "infoLogBytes", "pendingCompactionBytes", "level0CompactionTrigger"}) {
    EXPECT_TRUE(storage.contains(key) && storage[key].is_number_unsigned()) << key << " in " << storage.dump(2);
  }
  EXPECT_EQ(storage.value("level0CompactionTrigger", 0), 4) << storage.dump(2);
  EXPECT_GE(storage.value("walFiles", 0), 1) << storage.dump(2);
  EXPECT_GE(storage.value("infoLogFiles", 0), 1) << storage.dump(2);
  ASSERT_TRUE(storage["families"].is_array()) << storage.dump(2);
  std::set<std::string> families;
  for (const json& f : storage["families"]) {
    families.insert(f.value("family", ""));
    for (const char* key : {"sstFiles", "sstBytes", "level0Files", "pendingCompactionBytes"}) {
      EXPECT_TRUE(f.contains(key) && f[key].is_number_unsigned()) << key << " in " << f.dump(2);
    }
  }
  for (const char* family : {"events", "meta", "ledger.state", "projections"}) {
    EXPECT_EQ(families.count(family), 1u) << family << " in " << storage.dump(2);
  }

  // compact: every family into its last level; the WAL emptied into SST files; the
  // ledger unchanged.
  json compacted = Ok({"compact"});
  EXPECT_EQ(compacted.value("compacted", size_t{0}), families.size()) << compacted.dump(2);
  ASSERT_TRUE(compacted.contains("before") && compacted.contains("after")) << compacted.dump(2);
  EXPECT_GT(compacted["after"].value("sstFiles", 0), 0) << compacted.dump(2);
  for (const json& f : compacted["after"]["families"]) {
    EXPECT_EQ(f.value("level0Files", -1), 0) << f.dump(2);
    EXPECT_LE(f.value("sstFiles", 99), 1) << f.dump(2);
  }
  EXPECT_EQ(Ok({"digest"}), digest);
  EXPECT_EQ(Ok({"verify"}).value("verified", false), true);

  // tail (without --follow): the last events as JSON lines.
  Outcome tail = Cli({"tail"});
  EXPECT_EQ(tail.exit, 0) << tail.What();
  std::vector<uint64_t> tailed;
  std::istringstream tin(tail.out);
  for (std::string line; std::getline(tin, line);) {
    json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    tailed.push_back(j.value("sequence", uint64_t{0}));
  }
  ASSERT_FALSE(tailed.empty()) << tail.What();
  EXPECT_EQ(tailed.back(), head) << tail.What();
  EXPECT_EQ(tailed.size(), std::min<uint64_t>(head, 10)) << tail.What();
  Outcome tail_all = Cli({"tail", "--from-seq", "1"});
  EXPECT_EQ(tail_all.out, exported.out) << "tail from 1 prints the export's lines";

  // rebuild-projections (a writer): no differences from what was kept inline.
  json rebuilt = Ok({"rebuild-projections", "--compare"});
  ASSERT_TRUE(rebuilt["rebuilt"].is_array() && !rebuilt["rebuilt"].empty()) << rebuilt.dump(2);
  for (const json& p : rebuilt["rebuilt"]) {
    EXPECT_EQ(p.value("events", uint64_t{0}), head) << p.dump(2);
    EXPECT_EQ(p.value("differences", json()), json::array()) << p.dump(2);
  }
  Outcome no_projection = Cli({"rebuild-projections", "--projection", "nope"});
  EXPECT_EQ(no_projection.exit, 252) << no_projection.What();
}

// ---- 9. the AWS developer guide's walkthrough ----

TEST_F(CliTest, DeveloperGuideWalkthrough) {
  const ServiceModel& iot = IotModel();
  const ServiceModel& data = IotJobsDataModel();
  ASSERT_TRUE(iot.ok() && data.ok()) << iot.error() << data.error();
  clock_.Set(kT0);
  Quiet({"add-thing-to-thing-group", "--thing-group-name", "MyThingGroup", "--thing-name", "MyThing"});
  WriteFile(scratch_.path() + "/job-document.json",
            R"({"operation":"customJob","otherInfo":"someValue"})");
  clock_.Set(kT0 + kMinute);
  json created = Shaped(iot, "CreateJobResponse",
                        {"create-job", "--job-id", "example-job-01", "--targets", kGroup + "MyThingGroup",
                         "--document", "file://" + scratch_.path() + "/job-document.json", "--description",
                         "example job test", "--target-selection", "SNAPSHOT"});
  EXPECT_EQ(created.value("jobId", ""), "example-job-01");
  EXPECT_EQ(created.value("description", ""), "example job test");

  clock_.Set(kT0 + 2 * kMinute);
  json pending = Shaped(data, "GetPendingJobExecutionsResponse",
                        {"get-pending-job-executions", "--thing-name", "MyThing"});
  ASSERT_EQ(pending["queuedJobs"].size(), 1u) << pending.dump(2);
  EXPECT_EQ(pending["queuedJobs"][0].value("jobId", ""), "example-job-01");
  EXPECT_TRUE(pending["inProgressJobs"].empty()) << pending.dump(2);

  json started = Shaped(data, "StartNextPendingJobExecutionResponse",
                        {"start-next-pending-job-execution", "--thing-name", "MyThing"});
  const json& execution = started["execution"];
  EXPECT_EQ(execution.value("jobId", ""), "example-job-01") << started.dump(2);
  EXPECT_EQ(execution.value("status", ""), "IN_PROGRESS") << started.dump(2);
  EXPECT_EQ(execution.value("jobDocument", ""), R"({"operation":"customJob","otherInfo":"someValue"})");
  const int64_t version = execution.value("versionNumber", int64_t{0});

  clock_.Set(kT0 + 3 * kMinute);
  json progress = Shaped(data, "UpdateJobExecutionResponse",
                         {"update-job-execution", "--job-id", "example-job-01", "--thing-name", "MyThing", "--status",
                          "IN_PROGRESS", "--status-details", R"({"progress":"50%"})", "--expected-version",
                          std::to_string(version), "--include-job-execution-state"});
  EXPECT_EQ(progress["executionState"].value("status", ""), "IN_PROGRESS") << progress.dump(2);
  EXPECT_EQ(progress["executionState"]["statusDetails"], (json{{"progress", "50%"}})) << progress.dump(2);
  json in_progress = Ok({"get-pending-job-executions", "--thing-name", "MyThing"});
  EXPECT_EQ(in_progress["inProgressJobs"].size(), 1u) << in_progress.dump(2);

  clock_.Set(kT0 + 4 * kMinute);
  Shaped(data, "UpdateJobExecutionResponse",
         {"update-job-execution", "--job-id", "example-job-01", "--thing-name", "MyThing", "--status", "SUCCEEDED",
          "--status-details", R"({"progress":"100%"})"});

  json job = Shaped(iot, "DescribeJobResponse", {"describe-job", "--job-id", "example-job-01"});
  EXPECT_EQ(job["job"].value("status", ""), "SUCCEEDED") << job.dump(2);
  ASSERT_TRUE(job["job"].contains("completedAt")) << job.dump(2);
  EXPECT_EQ(Micros(job["job"]["completedAt"]), kT0 + 4 * kMinute) << job.dump(2);
  EXPECT_EQ(Micros(job["job"]["createdAt"]), kT0 + kMinute) << job.dump(2);
  EXPECT_EQ(job["job"]["jobProcessDetails"].value("numberOfSucceededThings", 0), 1) << job.dump(2);
  EXPECT_EQ(job["job"].value("description", ""), "example job test");

  json jobs = Shaped(iot, "ListJobsResponse", {"list-jobs"});
  ASSERT_EQ(jobs["jobs"].size(), 1u) << jobs.dump(2);
  EXPECT_EQ(jobs["jobs"][0].value("jobId", ""), "example-job-01");
  EXPECT_EQ(jobs["jobs"][0].value("status", ""), "SUCCEEDED");
  json succeeded = Ok({"list-jobs", "--status", "SUCCEEDED"});
  EXPECT_EQ(succeeded["jobs"].size(), 1u) << succeeded.dump(2);

  json described = Shaped(iot, "DescribeJobExecutionResponse",
                          {"describe-job-execution", "--job-id", "example-job-01", "--thing-name", "MyThing"});
  EXPECT_EQ(described["execution"].value("status", ""), "SUCCEEDED") << described.dump(2);
  EXPECT_EQ(described["execution"]["statusDetails"]["detailsMap"], (json{{"progress", "100%"}})) << described.dump(2);
  EXPECT_EQ(Micros(described["execution"]["startedAt"]), kT0 + 2 * kMinute) << described.dump(2);
  EXPECT_EQ(Micros(described["execution"]["lastUpdatedAt"]), kT0 + 4 * kMinute) << described.dump(2);
  json none = Ok({"get-pending-job-executions", "--thing-name", "MyThing"});
  EXPECT_TRUE(none["inProgressJobs"].empty() && none["queuedJobs"].empty()) << none.dump(2);
}

// ---- 10. the demo ----

TEST_F(CliTest, DemoRunsAndItsLedgerVerifies) {
  const std::string demo = scratch_.path() + "/demo";
  Outcome r = Cli({"--db", demo, "demo", "--things", "40"});
  EXPECT_EQ(r.exit, 0) << r.What();
  for (const char* section : {"jobledger demo: 40 devices", "== The jobs as they stand ==", "mid-rollout",
                              "== Why was fw-2-1-west canceled? ==", "== Verify ==", "verified",
                              "== Explore further =="}) {
    EXPECT_TRUE(Contains(r.out, section)) << "missing \"" << section << "\" in\n" << r.out;
  }
  EXPECT_TRUE(Contains(r.out, "jobledger --db " + demo + " list-jobs")) << r.out;
  json verify = Ok({"--db", demo, "verify"});
  EXPECT_EQ(verify.value("verified", false), true) << verify.dump(2);
  json jobs = Ok({"--db", demo, "list-jobs"});
  EXPECT_GE(jobs["jobs"].size(), 3u) << jobs.dump(2);
  Outcome small = Cli({"--db", scratch_.path() + "/tiny", "demo", "--things", "3"});
  EXPECT_EQ(small.exit, 252) << small.What();
}

TEST_F(CliTest, LongWorkShowsProgressOnlyOnATerminal) {
  const std::string demo = scratch_.path() + "/progress";
  // Not a terminal: nothing on stderr.
  Outcome quiet = Cli({"--db", demo, "demo", "--things", "20"});
  ASSERT_EQ(quiet.exit, 0) << quiet.What();
  EXPECT_EQ(quiet.err, "");
  // A terminal: a progress bar on stderr, for the demo and for verify; stdout unchanged.
  CliEnvironment tty = Environment();
  tty.stderr_is_tty = true;
  for (const Args& args : {Args{"--db", demo + "-tty", "demo", "--things", "20"}, Args{"--db", demo, "verify"},
                           Args{"--db", demo, "compact"}}) {
    std::ostringstream out, err;
    ASSERT_EQ(RunCli(args, out, err, tty), 0) << err.str();
    EXPECT_TRUE(Contains(err.str(), "\r")) << err.str();
    EXPECT_TRUE(Contains(err.str(), "] ")) << err.str();
    EXPECT_FALSE(Contains(out.str(), "\r"));
  }
}

// ---- 11. --help ----

TEST_F(CliTest, HelpOnEveryCommandShowsAnExample) {
  const std::vector<std::string> commands = {
      "create-job", "update-job", "cancel-job", "delete-job", "associate-targets-with-job", "describe-job",
      "get-job-document", "list-jobs", "describe-job-execution", "list-job-executions-for-job",
      "list-job-executions-for-thing", "cancel-job-execution", "delete-job-execution", "get-pending-job-executions",
      "start-next-pending-job-execution", "update-job-execution", "add-thing-to-thing-group",
      "remove-thing-from-thing-group", "delete-thing", "advance", "history", "diff", "verify", "digest",
      "rebuild-projections", "export", "import", "stats", "compact", "tail", "serve", "demo"};
  for (const std::string& command : commands) {
    Outcome r = Cli({command, "--help"});
    EXPECT_EQ(r.exit, 0) << r.What();
    EXPECT_TRUE(Contains(r.out, "Example:")) << r.What();
    EXPECT_TRUE(Contains(r.out, "jobledger " + command) || Contains(r.out, "jobledger --db")) << r.What();
  }
  Outcome top = Cli({"--help"});
  EXPECT_EQ(top.exit, 0) << top.What();
  for (const std::string& command : commands) {
    EXPECT_TRUE(Contains(top.out, command)) << command << " is not listed in\n" << top.out;
  }
  EXPECT_FALSE(fs::exists(db_)) << "--help touched the ledger";
}

// The ledger's commands are registered from jobledger/command_traits.h: each has a
// subcommand named after its operation in kebab case, whose help names the operation.
TEST_F(CliTest, EveryCommandOfTheLedgerIsASubcommandNamedAfterItsOperation) {
  size_t seen = 0;
  command::ForEach([&]<typename Op>() {
    std::string kebab;
    for (char c : Op::kName) {
      if (std::isupper(static_cast<unsigned char>(c)) && !kebab.empty()) kebab += '-';
      kebab += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    Outcome r = Cli({kebab, "--help"});
    EXPECT_EQ(r.exit, 0) << r.What();
    const std::string name(Op::kName);
    EXPECT_TRUE(Contains(r.out, "(iot " + name + ")") || Contains(r.out, "(iot-jobs-data " + name + ")") ||
                Contains(r.out, "(iot " + name + "):"))
        << kebab << " does not name " << name << ":\n" << r.out;
    ++seen;
  });
  EXPECT_EQ(seen, 12u);
  EXPECT_FALSE(fs::exists(db_)) << "--help touched the ledger";
}

}  // namespace
}  // namespace jobledger::testing
