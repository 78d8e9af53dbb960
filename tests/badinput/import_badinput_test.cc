// Bad input to the importer (jobledger/replay.h Import; `jobledger import --file`): an
// export file is user input. Damaged files (tests/replay covers the chain checks one
// by one) and forged ones: hashes are unkeyed SHA-256, so anyone can re-chain a file
// whose events break the ledger's rules. Every bad file must be refused naming its
// line, with nothing imported: the head stays 0 also when the bad line comes after the
// first chunk of 4096 events.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "jobledger/event_json.h"
#include "jobledger/event_log.h"
#include "jobledger/replay.h"
#include "tests/badinput/badinput_test_util.h"
#include "tools/cli.h"

namespace jobledger::badinput {
namespace {

// Chains `bodies` into an export file: sequences 1.., previous hashes, true hashes.
std::string Chain(const std::vector<EventBody>& bodies) {
  std::string out;
  Hash previous{};
  uint64_t sequence = 0;
  for (const EventBody& body : bodies) {
    Event e;
    e.sequence = ++sequence;
    e.recorded_at_micros = kT0 + static_cast<int64_t>(sequence);
    e.actor = "user:forger";
    e.previous_hash = previous;
    e.body = body;
    previous = EventHash(e);
    out += EventToJsonLine(e, previous) + "\n";
  }
  return out;
}

JobCreated Created(const std::string& job, const std::string& thing) {
  JobCreated c;
  c.job_id = job;
  c.targets = {ThingArnOf(thing)};
  c.document = "{}";
  return c;
}

// A valid start: job "j" on thing "t", queued.
std::vector<EventBody> ValidStart() {
  return {Created("j", "t"), ExecutionQueued{"j", "t", 1, ThingArnOf("t")}};
}

class ImportBadInputTest : public BadInputTest {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Open(LedgerLimits{});  // empty: Import wants an empty ledger
  }

  // The file is refused naming a line, and nothing is imported.
  void ExpectRefused(const std::string& file, const std::string& line_named) {
    std::istringstream in(file);
    StatusOr<ImportResult> r = Import(*ledger_, in);
    EXPECT_FALSE(r.ok()) << "imported a bad file";
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find(line_named), std::string::npos)
          << "does not name " << line_named << ": " << r.status().ToString();
    }
    EXPECT_EQ(ledger_->log().head().sequence, 0u)
        << "a refused import appended events: " << r.status().ToString();
    if (ledger_->log().head().sequence != 0) {  // keep the next case clean
      Close();
      std::error_code ec;
      std::filesystem::remove_all(dir_.path() + "/ledger", ec);
      Open(LedgerLimits{});
    }
  }
};

TEST_F(ImportBadInputTest, DamagedFilesAreRefusedWhole) {
  const std::string good = Chain(ValidStart());
  const std::string first = good.substr(0, good.find('\n') + 1);
  const std::string second = good.substr(first.size());
  ExpectRefused(good + "\n", "line 3");
  ExpectRefused(good + "{}\n", "line 3");
  ExpectRefused(good + "not json\n", "line 3");
  ExpectRefused(second + first, "line 1");
  ExpectRefused(first + first, "line 2");
  ExpectRefused(std::string("\0", 1) + good, "line 1");
  ExpectRefused(Repeat("[", 1 << 20) + "\n", "line 1");
  ExpectRefused(Repeat(" ", 1 << 20) + "\n", "line 1");
}

TEST_F(ImportBadInputTest, ForgedEventsThatBreakTheRulesAreRefused) {
  std::vector<std::vector<EventBody>> forged;
  auto with = [&](EventBody extra) {
    std::vector<EventBody> bodies = ValidStart();
    bodies.push_back(std::move(extra));
    forged.push_back(bodies);
  };
  with(Created("../../x", "t2"));  // an id the ledger would refuse
  with(Created("j2", "a/b"));      // a target it would refuse
  JobCreated not_json = Created("j3", "t");
  not_json.document = "{";
  with(not_json);
  JobCreated huge = Created("j4", "t");
  huge.document = "\"" + Repeat("x", 2 << 20) + "\"";  // beyond the log's 1 MiB event limit
  with(huge);
  DetailsMap many;
  for (int i = 0; i < 11; ++i) many.emplace_back("k" + std::to_string(i), "v");
  with(ExecutionStatusChanged{"j", "t", 1, ExecutionStatus::kQueued, ExecutionStatus::kInProgress,
                              many, 2, std::nullopt});
  with(ExecutionStatusChanged{"j", "t", 1, ExecutionStatus::kQueued, ExecutionStatus::kNone,
                              std::nullopt, 2, std::nullopt});
  with(ExecutionStatusChanged{"nope", "t", 1, ExecutionStatus::kQueued,
                              ExecutionStatus::kInProgress, std::nullopt, 2, std::nullopt});
  with(ExecutionQueued{"j", "t", 1, ThingArnOf("t")});  // a second execution #1
  with(Created("j", "t"));                              // the job again
  for (size_t i = 0; i < forged.size(); ++i) {
    SCOPED_TRACE("forged file " + std::to_string(i));
    ExpectRefused(Chain(forged[i]), "line 3");
  }
}

// A rollout plan is the decider's promise to queue each thing once, later. A forged
// one naming a thing that already has an execution of the job, or one thing twice,
// would fail the first rollout window after the import (found by the import_jsonl
// fuzzer). The plan is refused at its line instead.
TEST_F(ImportBadInputTest, ForgedRolloutPlansThatCouldNotBeCarriedOutAreRefused) {
  const PlannedExecution t{"t", ThingArnOf("t")};
  const PlannedExecution t2{"t2", ThingArnOf("t2")};
  auto plan = [](std::vector<PlannedExecution> entries) -> EventBody {
    return RolloutPlanned{"j", std::move(entries)};
  };
  std::vector<EventBody> has_execution = ValidStart();
  has_execution.push_back(plan({t2, t}));
  ExpectRefused(Chain(has_execution), "line 3");
  std::vector<EventBody> twice = ValidStart();
  twice.push_back(plan({t2, t2}));
  ExpectRefused(Chain(twice), "line 3");
  std::vector<EventBody> again = ValidStart();
  again.push_back(plan({t2}));
  again.push_back(plan({t2}));
  ExpectRefused(Chain(again), "line 4");

  // The same plan without the contradiction is imported, and its window runs.
  std::vector<EventBody> fine = ValidStart();
  fine.push_back(plan({t2}));
  std::istringstream in(Chain(fine));
  StatusOr<ImportResult> r = Import(*ledger_, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ledger_->log().head().sequence, 3u);
  StatusOr<AdvanceResult> window = ledger_->AdvanceTo(kT0 + 3'600'000'000);
  ASSERT_TRUE(window.ok()) << window.status().ToString();
  EXPECT_EQ(window->appended, 2u) << "the rollout step and t2's execution";
  ExpectConsistent();
}

TEST_F(ImportBadInputTest, OptionalNumbersGivenAsZeroDoNotSplitStateFromLog) {
  // The wire format stores 0 as "absent" for these members. An import that takes them
  // must fold what it stores, or refuse them; never fold one thing and store another.
  std::vector<EventBody> bodies;
  JobCreated c = Created("j", "t");
  c.timeout_config = TimeoutConfig{0};
  c.presigned_url_config = PresignedUrlConfig{"", 0};
  c.job_executions_rollout_config = RolloutConfig{0, std::nullopt};
  bodies.push_back(c);
  std::istringstream in(Chain(bodies));
  StatusOr<ImportResult> r = Import(*ledger_, in);
  if (!r.ok()) {
    EXPECT_EQ(ledger_->log().head().sequence, 0u);
    return;  // refused: fine
  }
  ExpectConsistent();
}

TEST_F(ImportBadInputTest, ABadLineAfterTheFirstChunkImportsNothing) {
  std::vector<EventBody> bodies;
  for (int i = 0; i < 4100; ++i) bodies.push_back(ThingAddedToGroup{"t" + std::to_string(i), "g"});
  bodies.push_back(ExecutionStatusChanged{"nope", "t1", 1, ExecutionStatus::kQueued,
                                          ExecutionStatus::kInProgress, std::nullopt, 2,
                                          std::nullopt});
  ExpectRefused(Chain(bodies), "line 4101");
}

TEST_F(ImportBadInputTest, TheCommandLineRefusesABadFileAndImportsNothing) {
  Close();
  const std::string file = dir_.path() + "/forged.jsonl";
  std::vector<EventBody> bodies = ValidStart();
  bodies.push_back(Created("../../x", "t2"));
  std::ofstream(file) << Chain(bodies);
  const std::string db = dir_.path() + "/imported";
  CliEnvironment env;
  env.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  env.clock = &clock_;
  std::ostringstream out, err;
  const int exit = RunCli({"--db", db, "import", "--file", file}, out, err, env);
  EXPECT_TRUE(exit == kExitUsage || exit == kExitRejected) << exit << "\n"
                                                           << out.str() << err.str();
  EXPECT_NE(err.str().find("line 3"), std::string::npos) << err.str();
  std::ostringstream digest_out, digest_err;
  if (RunCli({"--db", db, "digest"}, digest_out, digest_err, env) == kExitOk) {
    EXPECT_NE(digest_out.str().find("\"sequence\": 0"), std::string::npos)
        << "the refused import left events: " << digest_out.str();
  }
}

}  // namespace
}  // namespace jobledger::badinput
