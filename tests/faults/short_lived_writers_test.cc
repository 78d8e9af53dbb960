// A ledger written by thousands of short-lived processes stays healthy: each writer
// opens the ledger, appends, and closes. The folder's files (WAL files included),
// every family's level-0 files and the info logs stay under the bounds of
// doc/storage.md whatever the number of opens; the chain verifies and the projection
// equals a rebuild. In-process in the fast suite, through the CLI binary in the slow
// one. A control run with the flush-and-compact rule switched off shows that the
// bounds are what the rule keeps (the check can fail).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobledger/event_log.h"
#include "jobledger/json.h"
#include "jobledger/ledger.h"
#include "tests/faults/fault_test_util.h"

namespace jobledger::faults {
namespace {

// The bounds doc/storage.md documents for a ledger with the default options and the
// families of a Ledger with the "jobs" projection.
constexpr uint64_t kMaxFiles = 80;
constexpr uint64_t kMaxWalFiles = 17;  // max_live_wal_files, and the one the next open starts
constexpr uint64_t kMaxInfoLogBytes = uint64_t{4} << 20;

// The storage figures, read through a read-only open, which leaves the folder
// byte-identical (no info log of its own).
StorageStats StatsOf(const std::string& path) {
  const Snapshot before = SnapshotOf(path);
  StatusOr<StorageStats> stats = InternalError("not opened");
  {
    EventLogOptions options;
    auto log = EventLog::Open(options, path, OpenMode::kReadOnly);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return {};
    stats = (*log)->storage_stats();
  }
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(Differences(before, SnapshotOf(path)), "") << "a read-only open changed the folder";
  return stats.ok() ? *stats : StorageStats{};
}

std::string Describe(const StorageStats& s) {
  std::string out = std::to_string(s.files) + " files (" + std::to_string(s.sst_files) + " SST, " +
                    std::to_string(s.wal_files) + " WAL, " + std::to_string(s.info_log_files) +
                    " info logs of " + std::to_string(s.info_log_bytes) + " bytes); level 0:";
  for (const FamilyStorage& f : s.families) out += " " + f.name + "=" + std::to_string(f.level0_files);
  return out;
}

// Checks the documented bounds on the folder after `opens` opens.
void ExpectBounded(const std::string& path, uint64_t opens) {
  const StorageStats s = StatsOf(path);
  SCOPED_TRACE("after " + std::to_string(opens) + " opens: " + Describe(s));
  EXPECT_LE(s.files, kMaxFiles);
  EXPECT_LE(s.wal_files, kMaxWalFiles);
  EXPECT_LE(s.info_log_bytes, kMaxInfoLogBytes);
  for (const FamilyStorage& f : s.families) {
    EXPECT_LE(f.level0_files, s.level0_trigger) << f.name;
  }
}

// A ledger folder in a scratch folder, and the options of its writers.
class ShortLivedWritersTest : public ::testing::Test {
 protected:
  ShortLivedWritersTest() { options.clock = &clock; }

  ScratchDir scratch;
  const std::string path = scratch.Sub("ledger");
  ManualClock clock{kT0};
  LedgerOptions options;
};

using CompactTest = ShortLivedWritersTest;

TEST_F(ShortLivedWritersTest, TwoThousandOpensKeepTheFolderBounded) {
  ASSERT_TRUE(scratch.ok());
  constexpr uint64_t kWriters = 2000;
  for (uint64_t i = 0; i < kWriters; ++i) {
    clock.Advance(kSecond);
    auto stack = LedgerStack::Open(options, path);
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    Status s = RunWorkloadStep(*(*stack)->ledger, i);
    ASSERT_TRUE(s.ok()) << "step " << i << ": " << s.ToString();
    stack->reset();  // the close
    if ((i + 1) % 250 == 0) {
      ExpectBounded(path, i + 1);
      if (HasFailure()) return;
    }
  }
  auto stack = LedgerStack::Open(options, path);
  ASSERT_TRUE(stack.ok()) << stack.status().ToString();
  ExpectWorkloadVisible(**stack, kWriters, kWriters);
  ExpectLedgerSound(**stack);
  RebuildOptions rebuild;
  rebuild.compare = true;
  StatusOr<RebuildReport> rebuilt = (*stack)->projections->Rebuild("jobs", rebuild);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_TRUE(rebuilt->differences.empty()) << rebuilt->differences.front();
}

// The control: with the rule off (a flush at every close, no compaction at open or
// close, as the ledger behaved before), a few hundred opens already pass the bound.
TEST_F(ShortLivedWritersTest, WithoutTheRuleFilesPassTheBound) {
  ASSERT_TRUE(scratch.ok());
  options.maintenance.max_live_wal_bytes = 0;
  options.maintenance.compaction_budget = std::chrono::milliseconds(0);
  for (uint64_t i = 0; i < 200; ++i) {
    clock.Advance(kSecond);
    auto stack = LedgerStack::Open(options, path);
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    ASSERT_TRUE(RunWorkloadStep(*(*stack)->ledger, i).ok());
  }
  const StorageStats s = StatsOf(path);
  EXPECT_GT(s.files, kMaxFiles) << Describe(s);
  EXPECT_GT(s.sst_files, 200u) << Describe(s);  // about one per family with rows per process
}

// `compact` beside readers: a reader opening the ledger as a secondary (as every CLI
// read does) while the writer compacts it again and again gets the right answer, or
// kUnavailable saying to retry; never a wrong or partial answer.
TEST_F(CompactTest, ReadersBesideACompactionAreAnsweredOrToldToRetryConcurrent) {
  ASSERT_TRUE(scratch.ok());
  LedgerOptions many_files = options;  // every close flushes and nothing is compacted
  many_files.maintenance.max_live_wal_bytes = 0;
  many_files.maintenance.compaction_budget = std::chrono::milliseconds(0);
  constexpr uint64_t kSteps = 400;
  for (uint64_t i = 0; i < kSteps; i += 8) {
    auto stack = LedgerStack::Open(many_files, path);
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    for (uint64_t j = i; j < i + 8; ++j) ASSERT_TRUE(RunWorkloadStep(*(*stack)->ledger, j).ok());
  }
  LedgerOptions reader = options;
  reader.mode = OpenMode::kSecondary;
  std::vector<std::string> expected;
  {
    auto stack = LedgerStack::Open(reader, path);
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    for (uint64_t k = 0; k < kSteps / 4; ++k) {
      StatusOr<Job> job = (*stack)->reads->DescribeJob("job-" + std::to_string(k));
      ASSERT_TRUE(job.ok()) << job.status().ToString();
      expected.push_back(RenderDescribeJob(*job));
    }
  }
  ASSERT_GT(StatsOf(path).sst_files, 50u);

  auto writer = LedgerStack::Open(options, path);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::atomic<bool> done{false};
  std::thread compactor([&] {
    for (int round = 0; round < 12; ++round) {
      Status s = (*writer)->ledger->log().Compact();
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    done.store(true);
  });
  uint64_t answered = 0, retry = 0;
  while (!done.load()) {
    auto stack = LedgerStack::Open(reader, path);
    if (!stack.ok()) {
      EXPECT_EQ(stack.status().code(), StatusCode::kUnavailable) << stack.status().ToString();
      EXPECT_TRUE(Contains(stack.status().message(), "retry")) << stack.status().ToString();
      ++retry;
      continue;
    }
    for (uint64_t k = answered % expected.size(), n = 0; n < 8; ++n, k = (k + 1) % expected.size()) {
      StatusOr<Job> job = (*stack)->reads->DescribeJob("job-" + std::to_string(k));
      ASSERT_TRUE(job.ok()) << job.status().ToString();
      EXPECT_EQ(RenderDescribeJob(*job), expected[k]);
    }
    ++answered;
  }
  compactor.join();
  EXPECT_GT(answered, 0u);
  std::cout << "[ readers  ] " << answered << " opens answered, " << retry
            << " told to retry, beside 12 full compactions\n";
  const StorageStats after = StatsOf(path);
  EXPECT_LE(after.sst_files, 2 * after.families.size()) << Describe(after);
}

// The same through the command line: 2,000 `jobledger` processes, each one write.
TEST(ShortLivedWritersSlowTest, TwoThousandCliWritersKeepTheFolderBounded) {
  ScratchDir scratch;
  ASSERT_TRUE(scratch.ok());
  const std::string db = scratch.Sub("ledger");
  constexpr int kWriters = 2000;
  for (int i = 1; i < kWriters; ++i) {
    CliRun r = RunCliBinary({"--db", db, "add-thing-to-thing-group", "--thing-group-name", "fleet",
                             "--thing-name", "t" + std::to_string(i)},
                            scratch.path());
    ASSERT_EQ(r.exit, 0) << r.What();
    if (i % 250 == 0) {
      ExpectBounded(db, static_cast<uint64_t>(i));
      if (HasFailure()) return;
    }
  }
  CliRun created = RunCliBinary({"--db", db, "create-job", "--job-id", "over-the-fleet", "--targets",
                                 "arn:aws:iot:us-east-1:123456789012:thinggroup/fleet", "--document",
                                 "{}"},
                                scratch.path());
  ASSERT_EQ(created.exit, 0) << created.What();
  ExpectBounded(db, kWriters);

  CliRun described = RunCliBinary({"--db", db, "describe-job", "--job-id", "over-the-fleet"}, scratch.path());
  ASSERT_EQ(described.exit, 0) << described.What();
  nlohmann::json job = nlohmann::json::parse(described.out, nullptr, false);
  EXPECT_EQ(job["job"]["jobProcessDetails"].value("numberOfQueuedThings", 0), kWriters - 1) << described.out;
  CliRun verified = RunCliBinary({"--db", db, "verify"}, scratch.path());
  EXPECT_EQ(verified.exit, 0) << verified.What();
  CliRun rebuilt = RunCliBinary({"--db", db, "rebuild-projections", "--compare"}, scratch.path());
  ASSERT_EQ(rebuilt.exit, 0) << rebuilt.What();
  nlohmann::json report = nlohmann::json::parse(rebuilt.out, nullptr, false);
  ASSERT_TRUE(report.contains("rebuilt")) << rebuilt.out;
  for (const auto& p : report["rebuilt"]) EXPECT_TRUE(p["differences"].empty()) << rebuilt.out;
  ExpectBounded(db, kWriters + 3);
}

}  // namespace
}  // namespace jobledger::faults
