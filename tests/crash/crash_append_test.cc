// Crash during append: a child process appends from many threads (EventLog requests of
// 1, 8 and 64 events; Ledger commands, blocking and in bursts, merged by the group
// commit writer) and reports every attempt and acknowledgement through a pipe as it
// happens. The test kills it with SIGKILL at a random moment, reopens the ledger and
// checks acknowledged ⊆ recovered ⊆ attempted, dense sequences, the chain, the
// ledger's state and the projection (see CheckRecovered). Several rounds run on one
// ledger, so recovery after recovery is covered too.
//
// The kill moment: after a random number of acknowledgements, then a random number of
// further report lines (the pipe paces it; nothing sleeps). JOBLEDGER_SEED replays.

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "tests/crash/recovery_check.h"

namespace jobledger::crash {
namespace {

constexpr uint64_t kDefaultSeed = 0x63726173;  // "cras"

struct RoundsConfig {
  bool ledger = true;
  int rounds = 2;
  int rounds_per_ledger = 2;  // then a fresh ledger
  int threads = 8;
  int max_acks_before_kill = 150;
};

void RunRounds(const RoundsConfig& config, uint64_t seed) {
  std::unique_ptr<TempDir> dir;
  Recovered state;
  uint64_t total_recovered = 0, total_acked = 0, largest_group = 0;
  for (int round = 0; round < config.rounds && !::testing::Test::HasFailure(); ++round) {
    if (round % config.rounds_per_ledger == 0) {
      dir = std::make_unique<TempDir>();
      state = Recovered{};
    }
    const std::string ledger_dir = dir->Sub("ledger");
    std::mt19937_64 rng(seed + static_cast<uint64_t>(round));
    const uint64_t kill_after_acks = std::uniform_int_distribution<uint64_t>(
        1, static_cast<uint64_t>(config.max_acks_before_kill))(rng);
    const uint64_t then_lines = std::uniform_int_distribution<uint64_t>(0, 64)(rng);
    SCOPED_TRACE("round " + std::to_string(round) + " (seed " + std::to_string(seed) +
                 "): kill after " + std::to_string(kill_after_acks) + " acks and " +
                 std::to_string(then_lines) + " more lines");

    Child child({config.ledger ? "ledger" : "log", ledger_dir, "prefix=r" + std::to_string(round),
                 "threads=" + std::to_string(config.threads), "seed=" + std::to_string(rng())});
    ASSERT_TRUE(child.started()) << child.error();
    Trace trace;
    uint64_t extra = 0;
    const bool alive = ReadUntil(child, trace, [&](char) {
      if (trace.acks < kill_after_acks) return false;
      return extra++ >= then_lines;
    });
    child.Kill();
    ReadToEnd(child, trace);
    const int status = child.Wait();
    ASSERT_TRUE(alive) << "the child ended before the kill: " << DescribeWaitStatus(status);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << DescribeWaitStatus(status);

    RecoveryExpectation expect;
    expect.ledger = config.ledger;
    expect.prior_head = state.head;
    expect.prior_hash = state.hash;
    Recovered recovered;
    ASSERT_NO_FATAL_FAILURE(CheckRecovered(ledger_dir, trace, expect, &recovered));
    std::cout << "[ round    ] " << round << ": " << trace.attempted.size() << " attempted, "
              << trace.acks << " acked, " << trace.groups.size() << " groups (largest "
              << trace.largest_group() << " appends), " << recovered.events
              << " events recovered, head " << recovered.head << "\n";
    total_recovered += recovered.events;
    total_acked += trace.acks;
    largest_group = std::max<uint64_t>(largest_group, trace.largest_group());
    state = recovered;
  }
  std::cout << "[ total    ] " << config.rounds << " rounds: " << total_acked << " acked appends, "
            << total_recovered << " events recovered, largest group " << largest_group << "\n";
  // The writer really merged concurrent appends into groups.
  EXPECT_GT(largest_group, 1u);
}

TEST(CrashDuringAppend, EventLogBatchesFromManyThreads) {
  RoundsConfig config;
  config.ledger = false;
  config.rounds = 2;
  config.rounds_per_ledger = 2;
  RunRounds(config, TestSeed(kDefaultSeed));
}

TEST(CrashDuringAppend, LedgerCommandsFromManyThreads) {
  RoundsConfig config;
  config.ledger = true;
  config.rounds = 2;
  config.rounds_per_ledger = 2;
  RunRounds(config, TestSeed(kDefaultSeed + 1));
}

TEST(CrashDuringAppendSlow, EventLogBatchesFromManyThreads) {
  RoundsConfig config;
  config.ledger = false;
  config.rounds = 25;
  config.rounds_per_ledger = 5;
  config.max_acks_before_kill = 400;
  RunRounds(config, TestSeed(kDefaultSeed + 100));
}

TEST(CrashDuringAppendSlow, LedgerCommandsFromManyThreads) {
  RoundsConfig config;
  config.ledger = true;
  config.rounds = 25;
  config.rounds_per_ledger = 5;
  config.max_acks_before_kill = 400;
  RunRounds(config, TestSeed(kDefaultSeed + 200));
}

// The checks can fail: one recovered ledger, checked against doctored reports (each on
// a copy of the folder), must fail each time with the reason; the true report passes.
TEST(CrashDuringAppend, CheckerCatchesDoctoredReports) {
  TempDir dir;
  const std::string ledger_dir = dir.Sub("ledger");
  Trace trace;
  {
    Child child({"log", ledger_dir, "prefix=d", "threads=4"});
    ASSERT_TRUE(child.started()) << child.error();
    ASSERT_TRUE(ReadUntil(child, trace, [&](char) { return trace.acks >= 30; }));
    child.Kill();
    ReadToEnd(child, trace);
    const int status = child.Wait();
    ASSERT_TRUE(WIFSIGNALED(status)) << DescribeWaitStatus(status);
  }
  ASSERT_FALSE(trace.groups.empty());
  ASSERT_TRUE(trace.groups.front().written);
  const std::string present = trace.groups.front().rids.front();  // a written group's

  struct Doctored {
    const char* what;
    std::function<void(Trace&)> doctor;
    const char* expected_failure;
  };
  const std::vector<Doctored> cases = {
      {"an acknowledgement the log lost", [](Trace& t) { t.acked["d-ghost"] = std::nullopt; },
       "acknowledged request d-ghost was lost"},
      {"a rejected request in the log", [&](Trace& t) { t.rejected[present] = "ABORTED"; },
       "was rejected but is in the log"},
      {"an append that landed in part", [&](Trace& t) { ++t.attempted_events[present]; },
       "an append landed in part"},
  };
  int copy = 0;
  for (const Doctored& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string copy_dir = dir.Sub("copy" + std::to_string(copy++));
    std::filesystem::copy(ledger_dir, copy_dir, std::filesystem::copy_options::recursive);
    Trace doctored = trace;
    c.doctor(doctored);
    RecoveryExpectation expect;
    expect.ledger = false;
    ::testing::TestPartResultArray failures;
    {
      ::testing::ScopedFakeTestPartResultReporter reporter(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
      Recovered recovered;
      CheckRecovered(copy_dir, doctored, expect, &recovered);
    }
    bool found = false;
    for (int i = 0; i < failures.size(); ++i) {
      found =
          found || std::string(failures.GetTestPartResult(i).message()).find(c.expected_failure) !=
                       std::string::npos;
    }
    EXPECT_TRUE(found) << failures.size() << " failures, none saying '" << c.expected_failure
                       << "'";
  }
  RecoveryExpectation expect;
  expect.ledger = false;
  Recovered recovered;
  CheckRecovered(ledger_dir, trace, expect, &recovered);
}

}  // namespace
}  // namespace jobledger::crash
