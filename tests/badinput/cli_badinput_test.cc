// Bad input on the command line (tools/cli.h), in-process through RunCli as
// tests/tools/cli_test.cc drives it, and as the built binary where the working folder
// matters: malformed JSON in every JSON flag, numbers out of range, identifiers with
// path and separator characters. Each is refused with exit 252 (usage) or 254 (the
// AWS error line) and a message naming the flag or field, and the ledger's digest does
// not move. No path from user input reaches the file system except --db, --out,
// --file and file:// arguments: ids like "../../x" create nothing anywhere.
// (tests/tools/cli_test.cc covers one usage error per kind; this covers every JSON
// flag and member kind.)

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/badinput/badinput_test_util.h"
#include "tools/cli.h"

#ifndef JOBLEDGER_CLI_BINARY
#define JOBLEDGER_CLI_BINARY ""
#endif

namespace jobledger::badinput {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

struct Outcome {
  int exit = -1;
  std::string out, err, shown;
  std::string What() const {
    return shown + "\n  exit " + std::to_string(exit) + "\n  stdout: " + out + "\n  stderr: " + err;
  }
};

class CliBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    db_ = dir_.path() + "/ledger";
    Ok({"add-thing-to-thing-group", "--thing-group-name", "fleet", "--thing-name", "t1"});
    Ok({"create-job", "--job-id", "job-1", "--targets", GroupArnOf("fleet"), "--document", "{}",
        "--target-selection", "CONTINUOUS"});
    Ok({"start-next-pending-job-execution", "--thing-name", "t1"});
  }

  Outcome Cli(Args args) {
    bool has_now = false;
    for (const std::string& a : args) has_now = has_now || a == "--now";
    if (!has_now) args.insert(args.begin(), {"--now", "2025-11-27T10:00:00Z"});
    args.insert(args.begin(), {"--db", db_});
    Outcome r;
    for (const std::string& a : args) r.shown += " '" + a + "'";
    CliEnvironment env;
    env.getenv = [](const std::string& name) -> std::optional<std::string> {
      if (name == "USER") return "tester";
      return std::nullopt;
    };
    env.clock = &clock_;
    std::ostringstream out, err;
    r.exit = RunCli(args, out, err, env);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  void Ok(const Args& args) {
    Outcome r = Cli(args);
    ASSERT_EQ(r.exit, 0) << r.What();
  }
  std::string Digest() {
    Outcome r = Cli({"digest"});
    EXPECT_EQ(r.exit, 0) << r.What();
    return r.out;
  }

  // Refused with `exit` (252 or 254; 0 means either), naming one of `names` ("a|b"),
  // and the ledger's digest unchanged.
  void ExpectRefused(const Args& args, const std::string& names, int exit = 0) {
    const std::string before = Digest();
    Outcome r = Cli(args);
    if (exit == 0) {
      EXPECT_TRUE(r.exit == kExitUsage || r.exit == kExitRejected) << r.What();
    } else {
      EXPECT_EQ(r.exit, exit) << r.What();
    }
    EXPECT_TRUE(r.out.empty()) << r.What();
    bool named = false;
    std::istringstream in(names);
    for (std::string one; std::getline(in, one, '|');)
      named = named || r.err.find(one) != std::string::npos;
    EXPECT_TRUE(named) << "the message does not name " << names << ": " << r.What();
    EXPECT_EQ(Digest(), before) << "a refused command appended: " << r.What();
  }

  ScratchDir dir_;
  std::string db_;
  ManualClock clock_{kT0};
};

const std::string kT1 = ThingArnOf("t1");

TEST_F(CliBadInputTest, MalformedStatusDetails) {
  const std::vector<std::string> bad = {"",
                                        "{",
                                        "}",
                                        "[]",
                                        "\"x\"",
                                        "5",
                                        "null",
                                        "true",
                                        R"({"a":1})",
                                        R"({"a":null})",
                                        R"({"a":["b"]})",
                                        R"({"a":{"b":"c"}})",
                                        "{\"a\":\"1\"} trailing",
                                        R"({"a":"1",})",
                                        std::string("{\"a\":\"\0\"}", 9),
                                        "{\"a\":\"\xff\"}",
                                        R"({"a b":"v"})",
                                        R"({"":"v"})",
                                        R"({"a":"\u0000"})",
                                        R"({"a":"\ud800"})",
                                        R"({"a":""})",
                                        "{\"k\":\"" + Repeat("v", 1025) + "\"}",
                                        Repeat("[", 100000)};
  for (const std::string& details : bad) {
    SCOPED_TRACE(details.substr(0, 60));
    ExpectRefused({"update-job-execution", "--job-id", "job-1", "--thing-name", "t1", "--status",
                   "IN_PROGRESS", "--status-details", details},
                  "--status-details|statusDetails");
    ExpectRefused({"cancel-job-execution", "--job-id", "job-1", "--thing-name", "t1",
                   "--status-details", details},
                  "--status-details|statusDetails");
    ExpectRefused(
        {"start-next-pending-job-execution", "--thing-name", "t1", "--status-details", details},
        "--status-details|statusDetails");
  }
  std::string eleven = "{";
  for (int i = 0; i < 11; ++i) eleven += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  ExpectRefused({"update-job-execution", "--job-id", "job-1", "--thing-name", "t1", "--status",
                 "IN_PROGRESS", "--status-details", eleven + "}"},
                "statusDetails", kExitRejected);
}

TEST_F(CliBadInputTest, MalformedConfigurationFlags) {
  struct Case {
    std::string flag, value, names;
  };
  const std::vector<Case> cases = {
      {"--presigned-url-config", "", "--presigned-url-config"},
      {"--presigned-url-config", "{", "--presigned-url-config"},
      {"--presigned-url-config", "[]", "--presigned-url-config"},
      {"--presigned-url-config", R"({"roleArn":5})", "presignedUrlConfig.roleArn"},
      {"--presigned-url-config", R"({"expiresInSec":1.5})", "presignedUrlConfig.expiresInSec"},
      {"--presigned-url-config", R"({"expiresInSec":"60"})", "presignedUrlConfig.expiresInSec"},
      {"--presigned-url-config", R"({"expiresInSec":1e30})", "presignedUrlConfig.expiresInSec"},
      {"--presigned-url-config", R"({"expiresInSec":18446744073709551615})", "expiresInSec"},
      {"--presigned-url-config", R"({"expiresInSec":59})", "presignedUrlConfig.expiresInSec"},
      {"--presigned-url-config", R"({"role":"x"})", "presignedUrlConfig.role"},
      {"--job-executions-rollout-config", "{}", "jobExecutionsRolloutConfig"},
      {"--job-executions-rollout-config", R"({"maximumPerMinute":2147483648})", "maximumPerMinute"},
      {"--job-executions-rollout-config", R"({"maximumPerMinute":-2147483649})",
       "maximumPerMinute"},
      {"--job-executions-rollout-config", R"({"maximumPerMinute":1001})", "maximumPerMinute"},
      {"--job-executions-rollout-config", R"({"maximumPerMinute":0})", "maximumPerMinute"},
      {"--job-executions-rollout-config", R"({"exponentialRate":5})", "exponentialRate"},
      {"--job-executions-rollout-config",
       R"({"exponentialRate":{"baseRatePerMinute":1,"incrementFactor":"2","rateIncreaseCriteria":{}}})",
       "exponentialRate.incrementFactor: must be a number"},
      // Every member the model requires (exponentialRate's three, each abort criterion's four).
      {"--job-executions-rollout-config", R"({"exponentialRate":{"incrementFactor":2}})",
       "exponentialRate.baseRatePerMinute: is missing"},
      {"--job-executions-rollout-config",
       R"({"exponentialRate":{"baseRatePerMinute":1,"incrementFactor":2}})",
       "exponentialRate.rateIncreaseCriteria: is missing"},
      {"--abort-config",
       R"({"criteriaList":[{"failureType":"FAILED","thresholdPercentage":50,"minNumberOfExecutedThings":1}]})",
       "abortConfig.criteriaList[0].action: is missing"},
      {"--job-executions-rollout-config",
       R"({"exponentialRate":{"baseRatePerMinute":1,"incrementFactor":2,)"
       R"("rateIncreaseCriteria":[]}})",
       "rateIncreaseCriteria"},
      {"--job-executions-rollout-config",
       R"({"exponentialRate":{"baseRatePerMinute":1,"incrementFactor":2,)"
       R"("rateIncreaseCriteria":{"numberOfNotifiedThings":0}}})",
       "numberOfNotifiedThings"},
      {"--job-executions-rollout-config",
       R"({"exponentialRate":{"baseRatePerMinute":1,"incrementFactor":2,)"
       R"("rateIncreaseCriteria":{"x":1}}})",
       "rateIncreaseCriteria.x"},
      {"--abort-config", "{}", "abortConfig.criteriaList"},
      {"--abort-config", R"({"criteriaList":null})", "abortConfig.criteriaList"},
      {"--abort-config", R"({"criteriaList":[]})", "abortConfig.criteriaList"},
      {"--abort-config", R"({"criteriaList":[1]})", "abortConfig.criteriaList[0]"},
      {"--abort-config",
       R"({"criteriaList":[{"failureType":"FAILED","action":"PAUSE",)"
       R"("thresholdPercentage":10,"minNumberOfExecutedThings":1}]})",
       "abortConfig.criteriaList[0].action"},
      {"--abort-config",
       R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL",)"
       R"("thresholdPercentage":100.001,"minNumberOfExecutedThings":1}]})",
       "thresholdPercentage"},
      {"--abort-config",
       R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL",)"
       R"("thresholdPercentage":10,"minNumberOfExecutedThings":2147483648}]})",
       "minNumberOfExecutedThings"},
      {"--timeout-config", R"({"inProgressTimeoutInMinutes":1.5})", "inProgressTimeoutInMinutes"},
      {"--timeout-config", R"({"inProgressTimeoutInMinutes":10081})", "inProgressTimeoutInMinutes"},
      {"--timeout-config", R"({"inProgressTimeoutInMinutes":9223372036854775808})",
       "inProgressTimeoutInMinutes"},
      {"--timeout-config", Repeat("{\"a\":", 50000), "--timeout-config"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.flag + " " + c.value.substr(0, 80));
    const std::string job =
        "new-" + std::to_string(++n);  // a wrongly accepted one cannot mask the next
    ExpectRefused(
        {"create-job", "--job-id", job, "--targets", kT1, "--document", "{}", c.flag, c.value},
        c.names);
    ExpectRefused({"update-job", "--job-id", "job-1", c.flag, c.value}, c.names);
  }
}

TEST_F(CliBadInputTest, MalformedDocuments) {
  for (const std::string& doc :
       {std::string("{"), std::string("{} x"), std::string("\xff"), std::string("{\"a\":\"\xc3\"}"),
        Repeat("x", 32769), "{\"a\":\"" + Repeat("x", 32763) + "\"}"}) {
    SCOPED_TRACE(doc.substr(0, 40));
    ExpectRefused({"create-job", "--job-id", "new", "--targets", kT1, "--document", doc},
                  "document", kExitRejected);
  }
  // Deep but valid and within the limit: stored, and every reading renders it.
  const std::string deep = Repeat("[", 16000) + Repeat("]", 16000);
  Ok({"create-job", "--job-id", "deep", "--targets", kT1, "--document", deep});
  Outcome r = Cli({"get-job-document", "--job-id", "deep"});
  EXPECT_EQ(r.exit, 0) << r.What().substr(0, 400);
  r = Cli({"update-job-execution", "--job-id", "deep", "--thing-name", "t1", "--status",
           "IN_PROGRESS", "--include-job-document"});
  EXPECT_EQ(r.exit, 0) << r.What().substr(0, 400);
}

TEST_F(CliBadInputTest, NumbersOutOfRangeAreNeverTakenSilently) {
  const Args update = {
      "update-job-execution", "--job-id", "job-1", "--thing-name", "t1", "--status", "IN_PROGRESS"};
  auto with = [&](Args extra) {
    Args a = update;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  // -1 is the CLI's "not given"; other negative numbers must not mean that too.
  ExpectRefused(with({"--expected-version", "-5"}), "--expected-version|expectedVersion");
  ExpectRefused(with({"--expected-version", "0"}), "--expected-version|expectedVersion");
  ExpectRefused(with({"--expected-version", "99999999999999999999"}), "--expected-version");
  ExpectRefused(with({"--execution-number", "-3"}), "--execution-number|executionNumber");
  ExpectRefused(with({"--execution-number", "0"}), "--execution-number|executionNumber");
  ExpectRefused(with({"--step-timeout-in-minutes", "0"}),
                "--step-timeout-in-minutes|stepTimeoutInMinutes");
  ExpectRefused(with({"--step-timeout-in-minutes", "-2"}),
                "--step-timeout-in-minutes|stepTimeoutInMinutes");
  ExpectRefused(with({"--step-timeout-in-minutes", "10081"}), "stepTimeoutInMinutes");
  ExpectRefused(with({"--step-timeout-in-minutes", "x"}), "--step-timeout-in-minutes");
  ExpectRefused({"describe-job-execution", "--job-id", "job-1", "--thing-name", "t1",
                 "--execution-number", "-7"},
                "--execution-number|executionNumber");
  ExpectRefused({"delete-job-execution", "--job-id", "job-1", "--thing-name", "t1",
                 "--execution-number", "-1"},
                "--execution-number|executionNumber");
  ExpectRefused({"cancel-job-execution", "--job-id", "job-1", "--thing-name", "t1",
                 "--expected-version", "-9"},
                "--expected-version|expectedVersion");
  ExpectRefused({"list-jobs", "--max-results", "251"}, "maxResults|--max-results");
  ExpectRefused({"list-jobs", "--max-results", "-1"}, "--max-results");
  ExpectRefused({"list-jobs", "--max-results", "4294967297"}, "maxResults|--max-results");
  ExpectRefused({"list-job-executions-for-job", "--job-id", "job-1", "--max-results", "2147483648"},
                "maxResults|--max-results");
  // Times beyond what microseconds since the epoch hold.
  for (const std::string now :
       {"99999999999999", "-99999999999999", "9223372036854775807", "99999999999999.999999"}) {
    SCOPED_TRACE(now);
    ExpectRefused(
        {"add-thing-to-thing-group", "--thing-group-name", "g", "--thing-name", "t9", "--now", now},
        "--now");
    ExpectRefused({"describe-job", "--job-id", "job-1", "--as-of", now}, "--as-of");
  }
  // A malformed time is a usage error (252) for the ledger's own commands too.
  ExpectRefused({"advance", "--now", "yesterday"}, "--now", kExitUsage);
  ExpectRefused({"stats", "--now", "noon"}, "--now", kExitUsage);
  ExpectRefused({"diff", "--job-id", "job-1", "--from", "noon", "--to-seq", "1"}, "--from",
                kExitUsage);
}

TEST_F(CliBadInputTest, NextTokensOfEveryListCommand) {
  for (const std::string& token :
       std::vector<std::string>{"x", "zz", "../../x", "4a4c31", Repeat("0", 5000)}) {
    SCOPED_TRACE(token.substr(0, 40));
    ExpectRefused({"list-jobs", "--next-token", token}, "nextToken", kExitRejected);
    ExpectRefused({"list-job-executions-for-job", "--job-id", "job-1", "--next-token", token},
                  "nextToken", kExitRejected);
    ExpectRefused({"list-job-executions-for-thing", "--thing-name", "t1", "--next-token", token},
                  "nextToken", kExitRejected);
  }
}

TEST_F(CliBadInputTest, IdentifiersWithPathsAndSeparators) {
  for (const std::string id :
       {"../../x", "..", "a/b", "/tmp/x", "a|b", "a\xff", "caf\xc3\xa9", "a:b", "a\\b", "a%2fb"}) {
    SCOPED_TRACE(id);
    ExpectRefused({"create-job", "--job-id", id, "--targets", kT1, "--document", "{}"}, "jobId",
                  kExitRejected);
    ExpectRefused({"describe-job", "--job-id", id}, "jobId", kExitRejected);
    ExpectRefused({"delete-job", "--job-id", id}, "jobId", kExitRejected);
    if (id == "a:b") continue;  // a valid thing or group name
    ExpectRefused({"add-thing-to-thing-group", "--thing-group-name", id, "--thing-name", "t1"},
                  "thingGroupName", kExitRejected);
    ExpectRefused({"delete-thing", "--thing-name", id}, "thingName", kExitRejected);
    ExpectRefused({"get-pending-job-executions", "--thing-name", id}, "thingName", kExitRejected);
    ExpectRefused(
        {"create-job", "--job-id", "new", "--targets", ThingArnOf(id), "--document", "{}"},
        "targets", kExitRejected);
  }
  ExpectRefused({"update-job-execution", "--job-id", "job-1", "--thing-name", "t1", "--status",
                 "IN_PROGRESS", "--actor", std::string("a\nb")},
                "actor", kExitRejected);
  ExpectRefused({"add-thing-to-thing-group", "--thing-group-name", "g", "--thing-name", "t1",
                 "--request-id", "../../\x01"},
                "requestId", kExitRejected);
}

// ---- the file system ----

// Runs the binary in `cwd` with TMPDIR=`tmp`.
Outcome RunBinary(const Args& args, const std::string& cwd, const std::string& tmp,
                  const std::string& scratch) {
  static int counter = 0;
  const std::string out_path = scratch + "/bin-" + std::to_string(++counter) + ".out";
  const std::string err_path = scratch + "/bin-" + std::to_string(counter) + ".err";
  std::vector<std::string> argv_text = {JOBLEDGER_CLI_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<std::string> env_text = {"USER=tester", "PATH=/usr/bin:/bin", "TMPDIR=" + tmp};
  std::vector<char*> argv, envp;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  Outcome r;
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) r.exit = WEXITSTATUS(status);
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  r.out = read(out_path);
  r.err = read(err_path);
  for (const std::string& a : args) r.shown += " '" + a + "'";
  fs::remove(out_path);
  fs::remove(err_path);
  return r;
}

TEST(CliFileSystemTest, NoPathFromUserInputReachesTheFileSystem) {
  ASSERT_STRNE(JOBLEDGER_CLI_BINARY, "");
  ScratchDir scratch;
  // scratch/a/b/cwd is the working folder and scratch/a/b/db the ledger: "../../x"
  // from either lands inside scratch, where it would be seen.
  const std::string base = scratch.path() + "/a/b";
  const std::string cwd = base + "/cwd", tmp = base + "/tmp", db = base + "/db";
  fs::create_directories(cwd);
  fs::create_directories(tmp);
  const std::vector<std::string> evil = {
      "../../x", "..", "../x", "x/../../y", "/tmp/jobledger-evil", "~", ".", "a/b"};
  std::vector<Args> commands;
  for (const std::string& id : evil) {
    commands.push_back(
        {"create-job", "--job-id", id, "--targets", ThingArnOf(id), "--document", "{}"});
    commands.push_back({"add-thing-to-thing-group", "--thing-group-name", id, "--thing-name", id});
    commands.push_back({"delete-thing", "--thing-name", id});
    commands.push_back({"describe-job", "--job-id", id});
    commands.push_back({"history", "--job-id", id});
    commands.push_back({"list-jobs", "--thing-group-name", id, "--next-token", id});
    commands.push_back({"add-thing-to-thing-group", "--thing-group-name", "g", "--thing-name", "t",
                        "--request-id", id, "--actor", id});
    commands.push_back({"update-job-execution", "--job-id", "j", "--thing-name", "t", "--status",
                        "IN_PROGRESS", "--status-details", "{\"" + id + "\":\"" + id + "\"}"});
  }
  const std::regex rocksdb_file(
      R"(^(CURRENT|IDENTITY|LOCK|LOG(\.old\.\d+)?|MANIFEST-\d+|OPTIONS-\d+(\.dbtmp)?)"
      R"(|\d+\.(log|sst)|\d+\.dbtmp)$)");
  for (const Args& command : commands) {
    Args args = {"--db", db, "--now", "2025-11-27T10:00:00Z"};
    args.insert(args.end(), command.begin(), command.end());
    Outcome r = RunBinary(args, cwd, tmp, scratch.path());
    EXPECT_NE(r.exit, 127) << "could not run " << JOBLEDGER_CLI_BINARY;
    EXPECT_TRUE(Tree(cwd).empty()) << "the working folder got files after " << r.What();
    EXPECT_TRUE(Tree(tmp).empty()) << "TMPDIR kept files after " << r.What();
    const std::set<std::string> top = Tree(scratch.path());
    for (const std::string& p : top) {
      const bool expected = p == "a" || p == "a/b" || p.rfind("a/b/cwd", 0) == 0 ||
                            p.rfind("a/b/tmp", 0) == 0 || p.rfind("a/b/db", 0) == 0;
      EXPECT_TRUE(expected) << "unexpected " << p << " after " << r.What();
    }
    for (const auto& e : fs::directory_iterator(db)) {
      const std::string name = e.path().filename().string();
      EXPECT_TRUE(e.is_regular_file() && std::regex_match(name, rocksdb_file))
          << "not a RocksDB file in the ledger folder: " << name << " after " << r.What();
    }
  }
  EXPECT_FALSE(fs::exists("/tmp/jobledger-evil"));
}

}  // namespace
}  // namespace jobledger::badinput
