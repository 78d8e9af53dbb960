// Suite 8, a full disk. FaultFs lets a random number of bytes through after the
// ledger opened, then fails every write with IOStatus::NoSpace() (the write that
// crosses the budget writes what fits, as a real disk does).
//
//   - the append that meets the full disk fails with a clear error (resource
//     exhausted, "space"), nothing of it is acknowledged, the head does not move;
//   - the log reports itself failed (EventLog::failure(), the Ledger's
//     log().failure()) and refuses later appends without touching the disk; reads go on;
//   - reopening with a normal Env recovers every acknowledged event: the chain and
//     indexes verify, the write-side state and projection agree with the log
//     (CheckState, VerifyLedger), the command that failed can be retried;
//   - a disk that fills during the closing flush loses nothing (the WAL still has it);
//   - concurrent appenders: every caller gets an answer, no append succeeds after the
//     first failure, and every acknowledged one survives.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/event_log.h"
#include "jobledger/ledger.h"
#include "tests/faults/fault_fs.h"
#include "tests/faults/fault_test_util.h"

namespace jobledger::faults {
namespace {

void ExpectClearNoSpaceError(const Status& s) {
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.code() == StatusCode::kResourceExhausted || s.code() == StatusCode::kUnavailable)
      << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "space"))
      << "the error must say the disk is full: " << s.ToString();
}

void ExpectFailedLog(const EventLog& log) {
  const Status failure = log.failure();
  EXPECT_FALSE(failure.ok()) << "the log must report itself failed";
  EXPECT_EQ(failure.code(), StatusCode::kUnavailable) << failure.ToString();
  EXPECT_TRUE(Contains(failure.message(), "reopen")) << failure.ToString();
  EXPECT_TRUE(Contains(failure.message(), "space")) << failure.ToString();
}

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }
  ScratchDir dir_;
  ManualClock clock_{kT0};
};

TEST_F(DiskFullTest, AppendFailsCleanlyAndReopenRecoversEveryAcknowledgedEvent) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  const Plan plan = Plan::Make(120);
  for (int round = 0; round < 6; ++round) {
    const bool sync = round % 2 == 0;
    const uint64_t budget = rng() % 60'000;
    SCOPED_TRACE("round " + std::to_string(round) + ": sync " + (sync ? "on" : "off") + ", " +
                 std::to_string(budget) + " bytes of space");
    const std::string path = dir_.Sub("ledger-" + std::to_string(round));
    auto fs = std::make_shared<FaultFs>();
    std::unique_ptr<rocksdb::Env> env = NewFaultEnv(fs);
    uint64_t acked = 0;
    size_t failed_at = plan.appends.size();
    {
      EventLogOptions options;
      options.clock = &clock_;
      options.sync = sync;
      options.env = env.get();
      auto log = EventLog::Open(options, path);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      fs->SetSpaceBudget(budget);
      for (size_t i = 0; i < plan.appends.size(); ++i) {
        clock_.Advance(1000);
        StatusOr<AppendResult> r = (*log)->Append(plan.appends[i]);
        if (!r.ok()) {
          failed_at = i;
          ExpectClearNoSpaceError(r.status());
          break;
        }
        ASSERT_EQ(r->first_sequence, acked + 1);
        acked = r->last_sequence;
      }
      ASSERT_LT(failed_at, plan.appends.size()) << "the disk never filled";
      EXPECT_EQ((*log)->head().sequence, acked) << "a failed append moved the head";
      ExpectFailedLog(**log);
      // Later appends are refused, with the failure (none of them survives the reopen
      // below: the failed append is then appended anew at acked + 1).
      for (size_t i = failed_at; i < failed_at + 3 && i < plan.appends.size(); ++i) {
        StatusOr<AppendResult> r = (*log)->Append(plan.appends[i]);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
        EXPECT_TRUE(Contains(r.status().message(), "space")) << r.status().ToString();
      }
      EXPECT_EQ((*log)->head().sequence, acked);
      // Reads go on.
      if (acked > 0) {
        EXPECT_TRUE((*log)->Read(acked).ok());
        StatusOr<VerifyResult> v = (*log)->Verify();
        ASSERT_TRUE(v.ok()) << v.status().ToString();
        EXPECT_TRUE(v->ok()) << v->detail;
      }
    }  // the closing flush fails too: the WAL keeps everything
    EventLogOptions options;
    options.clock = &clock_;
    auto log = EventLog::Open(options, path);
    ASSERT_TRUE(log.ok()) << "reopening after a full disk: " << log.status().ToString();
    // The failed append was cut in its WAL record, so it is gone whole.
    EXPECT_EQ(ExpectPlanPrefix(**log, plan), acked);
    // The ledger goes on where it stopped, with the append that failed.
    clock_.Advance(1000);
    StatusOr<AppendResult> r = (*log)->Append(plan.appends[failed_at]);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_sequence, acked + 1);
    EXPECT_FALSE(r->duplicate);
    if (HasFailure()) return;
  }
}

TEST_F(DiskFullTest, LedgerCommandsFailCleanlyAndReopenRecoversStateAndProjections) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 4; ++round) {
    const uint64_t budget = rng() % 40'000;
    SCOPED_TRACE("round " + std::to_string(round) + ": " + std::to_string(budget) +
                 " bytes of space");
    const std::string path = dir_.Sub("ledger-" + std::to_string(round));
    auto fs = std::make_shared<FaultFs>();
    std::unique_ptr<rocksdb::Env> env = NewFaultEnv(fs);
    LedgerOptions options;
    options.clock = &clock_;
    options.env = env.get();
    uint64_t acked = 0, failed_step = 0;
    {
      auto stack = LedgerStack::Open(options, path);
      ASSERT_TRUE(stack.ok()) << stack.status().ToString();
      Ledger& ledger = *(*stack)->ledger;
      fs->SetSpaceBudget(budget);
      for (uint64_t i = 0;; ++i) {
        ASSERT_LT(i, 2000u) << "the disk never filled";
        clock_.Advance(kSecond);
        Status s = RunWorkloadStep(ledger, i);
        if (!s.ok()) {
          failed_step = i;
          ExpectClearNoSpaceError(s);
          EXPECT_EQ(s.aws_error(), AwsError::kNone) << "a full disk is no rejection of the request";
          break;
        }
        acked = i + 1;
      }
      ExpectFailedLog(ledger.log());
      const uint64_t head = ledger.log().head().sequence;
      clock_.Advance(kSecond);
      Status later = RunWorkloadStep(ledger, failed_step);
      EXPECT_FALSE(later.ok());
      EXPECT_EQ(later.code(), StatusCode::kUnavailable) << later.ToString();
      EXPECT_EQ(ledger.log().head().sequence, head);
      // The write side still reads.
      if (acked > 2) {
        auto state = ledger.GetJobState("job-0");
        EXPECT_TRUE(state.ok()) << state.status().ToString();
      }
    }
    options.env = nullptr;
    auto stack = LedgerStack::Open(options, path);
    ASSERT_TRUE(stack.ok()) << "reopening after a full disk: " << stack.status().ToString();
    ExpectWorkloadVisible(**stack, acked, failed_step + 1);
    ExpectLedgerSound(**stack);
    // The failed command, retried with its request id, goes through once.
    clock_.Advance(kSecond);
    const uint64_t before = (*stack)->ledger->log().head().sequence;
    Status retried = RunWorkloadStep(*(*stack)->ledger, failed_step);
    ASSERT_TRUE(retried.ok()) << retried.ToString();
    EXPECT_GT((*stack)->ledger->log().head().sequence, before);
    ExpectLedgerSound(**stack);
    if (HasFailure()) return;
  }
}

// Slow: RocksDB's close waits for its error recovery (about a second per close).
using DiskFullSlowTest = DiskFullTest;

TEST_F(DiskFullSlowTest, DiskFullDuringTheClosingFlushLosesNothing) {
  for (const bool sync : {true, false}) {
    SCOPED_TRACE(sync ? "sync on" : "sync off");
    const std::string path = dir_.Sub(sync ? "sync" : "nosync");
    const Plan plan = Plan::Make(50);
    auto fs = std::make_shared<FaultFs>();
    std::unique_ptr<rocksdb::Env> env = NewFaultEnv(fs);
    {
      EventLogOptions options;
      options.clock = &clock_;
      options.sync = sync;
      options.env = env.get();
      options.maintenance.max_live_wal_bytes = 0;  // the close flushes (MaintenanceOptions)
      auto log = EventLog::Open(options, path);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      for (const AppendRequest& r : plan.appends) {
        clock_.Advance(1000);
        ASSERT_TRUE((*log)->Append(r).ok());
      }
      fs->SetSpaceBudget(0);
    }
    EXPECT_GT(fs->failed_writes(), 0u) << "the closing flush did not meet the full disk";
    EventLogOptions options;
    options.clock = &clock_;
    auto log = EventLog::Open(options, path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ(ExpectPlanPrefix(**log, plan), plan.last_sequence.back());
  }
}

TEST_F(DiskFullTest, ConcurrentAppendersAllAnsweredAndAcknowledgedSurvive) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 4; ++round) {
    const uint64_t budget = 5'000 + rng() % 60'000;
    SCOPED_TRACE("round " + std::to_string(round) + ": " + std::to_string(budget) +
                 " bytes of space");
    const std::string path = dir_.Sub("ledger-" + std::to_string(round));
    auto fs = std::make_shared<FaultFs>();
    std::unique_ptr<rocksdb::Env> env = NewFaultEnv(fs);
    constexpr size_t kThreads = 4, kPerThread = 80;
    std::vector<Plan> plans;
    for (size_t t = 0; t < kThreads; ++t)
      plans.push_back(Plan::Make(kPerThread, "t" + std::to_string(t)));
    std::mutex mu;
    std::map<uint64_t, std::pair<size_t, size_t>> acked;  // first sequence -> (thread, append)
    std::vector<size_t> failures(kThreads, 0);
    {
      EventLogOptions options;
      options.clock = &clock_;
      options.env = env.get();
      options.max_group_size = 1 + rng() % 16;
      auto log = EventLog::Open(options, path);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      fs->SetSpaceBudget(budget);
      std::vector<std::thread> threads;
      for (size_t t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          bool failed = false;
          for (size_t i = 0; i < kPerThread; ++i) {
            clock_.Advance(10);
            StatusOr<AppendResult> r = (*log)->Append(plans[t].appends[i]);
            std::lock_guard<std::mutex> lock(mu);
            if (!r.ok()) {
              failed = true;
              ++failures[t];
              continue;
            }
            EXPECT_FALSE(failed) << "thread " << t << ": an append succeeded after one failed";
            acked[r->first_sequence] = {t, i};
          }
        });
      }
      for (std::thread& th : threads) th.join();
      ExpectFailedLog(**log);
      EXPECT_EQ((*log)->head().sequence, acked.empty()
                                             ? 0
                                             : acked.rbegin()->first +
                                                   plans[acked.rbegin()->second.first]
                                                       .appends[acked.rbegin()->second.second]
                                                       .events.size() -
                                                   1);
    }
    for (size_t t = 0; t < kThreads; ++t) {
      EXPECT_GT(failures[t], 0u) << "thread " << t << " never met the full disk";
    }
    EventLogOptions options;
    options.clock = &clock_;
    auto log = EventLog::Open(options, path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    uint64_t expected = 1;
    for (const auto& [first, who] : acked) {
      ASSERT_EQ(first, expected) << "acknowledged appends are not dense";
      const AppendRequest& request = plans[who.first].appends[who.second];
      for (size_t j = 0; j < request.events.size(); ++j) {
        StatusOr<Event> e = (*log)->Read(first + j);
        ASSERT_TRUE(e.ok()) << "acknowledged event " << first + j << ": " << e.status().ToString();
        ExpectEventIs(*e, request.events[j], request.request_id);
      }
      expected = first + request.events.size();
    }
    EXPECT_EQ((*log)->head().sequence, expected - 1) << "an unacknowledged append survived";
    StatusOr<VerifyResult> v = (*log)->Verify();
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->ok()) << v->detail;
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace jobledger::faults
