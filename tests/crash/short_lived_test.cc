// Short-lived writers killed at random moments. Each crash_child `once` process opens
// the ledger, appends one command and closes, and with small WAL limits
// (MaintenanceOptions) flushes and compacts level 0 often: at open for odd writers,
// at close for even ones. Some are killed: by the crash hook at a maintain.* point,
// or by the test right after the child reported a line, which leaves it somewhere in
// its append, its close or a level-0 compaction. After all of them:
//   - every acknowledged append is in the log, once, and nothing else is;
//   - the chain, the indexes, the state and the projections verify, and a rebuild of
//     the projection equals the stored one;
//   - a clean open and close leaves every family's level 0 below the trigger.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "jobledger/replay.h"
#include "tests/crash/recovery_check.h"

namespace jobledger::crash {
namespace {

constexpr uint64_t kDefaultSeed = 0x73686f72;  // "shor"

// How a writer ends.
enum class Ending {
  kCrashBeforeFlush,    // the hook at maintain.before_flush
  kCrashBeforeCompact,  // the hook at maintain.before_compact
  kCrashAfterCompact,   // the hook at maintain.after_compact
  kKillAfterAttempt,    // the test, after "A": in the append
  kKillAfterAck,        // the test, after "K": in the close
  kKillInCompaction,    // the test, after "M maintain.before_compact": in CompactFiles
  kClean,
  kCount
};

void RunShortLivedWriters(int writers) {
  const uint64_t seed = [] {
    const char* s = std::getenv("JOBLEDGER_SEED");
    return s != nullptr ? std::strtoull(s, nullptr, 0) : kDefaultSeed;
  }();
  SCOPED_TRACE("JOBLEDGER_SEED=" + std::to_string(seed));
  TempDir dir;
  const std::string db = dir.Sub("ledger");
  std::mt19937_64 rng(seed);
  std::set<std::string> attempted, acked;
  std::map<std::string, uint64_t> points_reached;  // maintain.* point -> writers that reached it
  uint64_t killed = 0;
  for (int i = 0; i < writers; ++i) {
    const std::string rid = "w" + std::to_string(i);
    std::vector<std::string> args = {"once", db, "prefix=" + rid};
    if (i % 2 == 0) args.push_back("wal_bytes=1");  // flush (and compact) at close
    const auto ending = static_cast<Ending>(rng() % static_cast<uint64_t>(Ending::kCount));
    switch (ending) {
      case Ending::kCrashBeforeFlush:
        args.push_back("crash=maintain.before_flush");
        break;
      case Ending::kCrashBeforeCompact:
        args.push_back("crash=maintain.before_compact");
        break;
      case Ending::kCrashAfterCompact:
        args.push_back("crash=maintain.after_compact");
        break;
      default:
        break;
    }
    Child child(args);
    ASSERT_TRUE(child.started()) << child.error();
    Trace trace;
    std::string line;
    while (child.NextLine(&line)) {
      trace.Add(line);
      if (line.rfind("M ", 0) == 0) ++points_reached[line.substr(2, line.rfind(' ') - 2)];
      const bool kill = (ending == Ending::kKillAfterAttempt && line[0] == 'A') ||
                        (ending == Ending::kKillAfterAck && line[0] == 'K') ||
                        (ending == Ending::kKillInCompaction &&
                         line.rfind("M maintain.before_compact", 0) == 0);
      if (kill) child.Kill();
    }
    const int status = child.Wait();
    ASSERT_TRUE(trace.failures.empty()) << child.command() << ": " << trace.failures.front();
    if (WIFSIGNALED(status)) {
      ++killed;
    } else {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << child.command() << ": " << DescribeWaitStatus(status);
    }
    attempted.insert(trace.attempted.begin(), trace.attempted.end());
    for (const auto& [r, range] : trace.acked) acked.insert(r);
  }
  // The run reached what it is about: compactions at open and close, and kills there.
  EXPECT_GT(points_reached["maintain.before_flush"], 0u);
  EXPECT_GT(points_reached["maintain.before_compact"], 0u);
  EXPECT_GT(killed, 0u);

  {
    LedgerOptions options;
    options.sync = true;
    auto opened = Ledger::Open(options, db);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    std::unique_ptr<Ledger> ledger = std::move(opened).value();
    auto projections = OpenJobsProjection(ledger->log());
    ASSERT_TRUE(projections.ok()) << projections.status().ToString();

    // Every acknowledged append is in the log once; nothing that was not attempted is.
    std::map<std::string, uint64_t> in_log;
    auto cursor = ledger->log().NewCursor();
    for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
      ++in_log[cursor->event().request_id];
    }
    ASSERT_NE(cursor->state(), EventCursor::State::kFailed) << cursor->status().ToString();
    for (const std::string& rid : acked) {
      EXPECT_EQ(in_log.count(rid), 1u) << rid << " was acknowledged but is not in the log";
    }
    for (const auto& [rid, events] : in_log) {
      EXPECT_EQ(attempted.count(rid), 1u) << rid << " is in the log but was never attempted";
      EXPECT_EQ(events, 1u) << rid << " is in the log " << events << " times";
    }

    StatusOr<VerifyReport> report = VerifyLedger(ledger->log(), ledger.get(), projections->get());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok()) << report->first_problem()->name << ": " << report->first_problem()->detail;
    RebuildOptions rebuild;
    rebuild.compare = true;
    StatusOr<RebuildReport> rebuilt = (*projections)->Rebuild(JobsProjection::kName, rebuild);
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
    EXPECT_TRUE(rebuilt->differences.empty()) << rebuilt->differences.front();
    std::cout << "[ writers  ] " << writers << " short-lived writers, " << killed << " killed, "
              << acked.size() << " acknowledged, " << in_log.size() << " in the log\n";
  }  // a clean close pays what the killed writers left

  EventLogOptions read_only;
  auto log = EventLog::Open(read_only, db, OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  StatusOr<StorageStats> stats = (*log)->storage_stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  for (const FamilyStorage& f : stats->families) {
    EXPECT_LT(f.level0_files, stats->level0_trigger) << f.name;
  }
}

TEST(ShortLivedWriters, KilledInAppendsFlushesAndCompactionsLoseNoAcknowledgedWrite) {
  RunShortLivedWriters(64);
}

TEST(ShortLivedWritersSlow, KilledInAppendsFlushesAndCompactionsLoseNoAcknowledgedWrite) {
  RunShortLivedWriters(600);
}

}  // namespace
}  // namespace jobledger::crash
