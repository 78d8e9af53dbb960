// Suite 3, power loss. A ledger runs on FaultFs for a few sessions (each closed
// cleanly), then the power goes off at a random point of the last one, in the middle
// of a write or between appends; the folder is left as a machine finds it when the
// power comes back (unsynced bytes dropped, or a random part of them kept; files whose
// directory entry was never synced gone), and the ledger is reopened on the real file
// system.
//
//   - sync on: no acknowledged event is lost; what survives is a prefix of the
//     appended events, whole appends only, dense, with a valid chain and indexes;
//   - sync off (with an occasional kSync append): the same prefix property, and
//     everything up to the last synced append or clean close survives;
//   - concurrent appenders (group commit): the same, per appender;
//   - the job ledger (commands, write-side state, inline projection): acknowledged
//     commands are visible, CheckState and every verify check pass.
//
// Rounds are seeded; the seed is printed and JOBLEDGER_SEED replays it.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
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

uint64_t ApproxRecordBytes(const AppendRequest& r) {
  uint64_t bytes = 200;
  for (const NewEvent& e : r.events) {
    bytes += 250;
    if (const auto* c = std::get_if<JobCreated>(&e.body)) bytes += c->document.size();
  }
  return bytes;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "\n  " + l;
  return out;
}

// One round of the single-appender power loss.
void PowerLossRound(uint64_t round_seed, bool sync, size_t appends) {
  std::mt19937_64 rng(round_seed);
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.Sub("ledger");
  auto fs = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env = NewFaultEnv(fs);
  const Plan plan = Plan::Make(appends);
  ManualClock clock(kT0);

  size_t next = 0;            // the next append of the plan
  uint64_t acked = 0;         // the last acknowledged sequence
  uint64_t must_survive = 0;  // synced or cleanly closed
  uint64_t attempted = 0;     // the last sequence of the last append attempted
  const int sessions = 1 + static_cast<int>(rng() % 3);
  std::string story;
  for (int s = 0; s < sessions; ++s) {
    const bool last = s + 1 == sessions;
    EventLogOptions options;
    options.clock = &clock;
    options.sync = sync;
    options.env = env.get();
    auto log = EventLog::Open(options, path);
    ASSERT_TRUE(log.ok()) << "session " << s << ": " << log.status().ToString();
    ASSERT_EQ((*log)->head().sequence, acked);
    size_t count =
        last ? plan.appends.size() - next : rng() % (1 + (plan.appends.size() - next) / 3);
    // Where the power goes: inside the write of append `cut_at` (after a random number
    // of its bytes, which may reach into later appends), or exactly before it.
    const size_t cut_at = next + (count == 0 ? 0 : rng() % count);
    const bool cut_between = rng() % 4 == 0;
    story += "session " + std::to_string(s) + ": appends " + std::to_string(next + 1) + ".." +
             std::to_string(next + count);
    for (size_t n = 0; n < count; ++n, ++next) {
      if (last && next == cut_at) {
        if (cut_between) {
          fs->CutPower();
          story += ", power cut before append " + std::to_string(next + 1);
        } else {
          const uint64_t bytes = rng() % ApproxRecordBytes(plan.appends[next]);
          fs->CutPowerAfterBytes(bytes);
          story += ", power cut " + std::to_string(bytes) + " bytes into append " +
                   std::to_string(next + 1);
        }
      }
      AppendRequest request = plan.appends[next];
      const bool synced = sync || rng() % 8 == 0;
      if (!sync && synced) request.durability = Durability::kSync;
      clock.Advance(1000);
      attempted = plan.last_sequence[next];
      StatusOr<AppendResult> r = (*log)->Append(request);
      if (!r.ok()) {
        ASSERT_TRUE(last) << "append " << next + 1
                          << " failed with the power on: " << r.status().ToString();
        ASSERT_FALSE(fs->powered()) << r.status().ToString();
        EXPECT_FALSE((*log)->failure().ok()) << "a failed write must mark the log failed";
        // Later appends are refused with the failure (RocksDB's own background work
        // may still try the disk, so "wrote nothing" is checked by the reopen).
        StatusOr<AppendResult> again = (*log)->Append(plan.appends[next]);
        EXPECT_FALSE(again.ok());
        EXPECT_EQ(again.status().code(), StatusCode::kUnavailable) << again.status().ToString();
        break;
      }
      ASSERT_EQ(r->first_sequence, acked + 1);
      ASSERT_EQ(r->last_sequence, plan.last_sequence[next]);
      acked = r->last_sequence;
      if (synced) must_survive = acked;
    }
    if (!last) {
      log->reset();  // a clean close flushes: everything acknowledged is durable
      must_survive = acked;
      story += ", closed; ";
      continue;
    }
    if (fs->powered()) {
      fs->CutPower();
      story += ", power cut after the last append";
    }
    log->reset();  // the process is gone: nothing more reaches the disk
  }
  const bool keep_some = rng() % 2 == 0;
  const std::vector<std::string> changes = fs->DropUnsyncedData(keep_some ? &rng : nullptr);
  SCOPED_TRACE(story + (keep_some ? "; random unsynced tails kept" : "; unsynced data dropped") +
               "; acknowledged " + std::to_string(acked) + ", must survive " +
               std::to_string(must_survive) + Joined(changes));

  EventLogOptions options;
  options.clock = &clock;
  auto log = EventLog::Open(options, path);
  ASSERT_TRUE(log.ok()) << "the ledger does not open after the power loss: "
                        << log.status().ToString();
  const uint64_t head = ExpectPlanPrefix(**log, plan);
  EXPECT_GE(head, must_survive) << "acknowledged durable events were lost";
  if (sync) {
    EXPECT_GE(head, acked) << "acknowledged events were lost with sync on";
  }
  EXPECT_LE(head, attempted);
  // The recovered ledger goes on.
  AppendRequest more = PlannedAppend(appends + 1, "after");
  clock.Advance(1000);
  StatusOr<AppendResult> r = (*log)->Append(more);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_sequence, head + 1);
  StatusOr<VerifyResult> v = (*log)->Verify();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->ok()) << v->detail;
}

// Runs `rounds` rounds of `round`, each with its own seed drawn from the test's.
template <typename Round>
void Rounds(int rounds, Round&& round) {
  std::mt19937_64 seeds(TestSeed());
  for (int n = 0; n < rounds; ++n) {
    const uint64_t round_seed = seeds();
    SCOPED_TRACE("round " + std::to_string(n) + ", round seed " + std::to_string(round_seed));
    round(round_seed);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(PowerLossTest, SyncOnLosesNoAcknowledgedEvent) {
  Rounds(4, [](uint64_t seed) { PowerLossRound(seed, /*sync=*/true, 40); });
}

TEST(PowerLossTest, SyncOffKeepsADensePrefix) {
  Rounds(4, [](uint64_t seed) { PowerLossRound(seed, /*sync=*/false, 60); });
}

// A writer killed before its close leaves WAL data it never synced (sync off, or a
// group written but not yet synced), which the next open recovers and keeps: no flush
// at recovery (MaintenanceOptions). That open syncs it before anything new is
// appended; otherwise a power cut could take the older events and keep the newer ones
// synced in a newer WAL file, a hole in the chain.
void KilledThenPowerCutRound(uint64_t round_seed) {
  std::mt19937_64 rng(round_seed);
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.Sub("ledger");
  auto fs = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env = NewFaultEnv(fs);
  const Plan plan = Plan::Make(40);
  ManualClock clock(kT0);
  const size_t killed_after = 1 + rng() % 15;
  const size_t cut_after = killed_after + 1 + rng() % 15;
  auto open = [&](bool sync) {
    EventLogOptions options;
    options.clock = &clock;
    options.sync = sync;
    options.env = env.get();
    return EventLog::Open(options, path);
  };
  {
    auto log = open(/*sync=*/false);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (size_t k = 0; k < killed_after; ++k) {
      clock.Advance(1000);
      ASSERT_TRUE((*log)->Append(plan.appends[k]).ok());
    }
    fs->CutPower();  // the process is killed: its close reaches no file
  }
  fs->RestartProcess();
  uint64_t acked = 0;
  {
    auto log = open(/*sync=*/true);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_EQ((*log)->head().sequence, plan.last_sequence[killed_after - 1])
        << "the next open recovers everything the killed writer wrote";
    for (size_t k = killed_after; k < cut_after; ++k) {
      clock.Advance(1000);
      StatusOr<AppendResult> r = (*log)->Append(plan.appends[k]);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      acked = r->last_sequence;
    }
    fs->CutPower();
  }
  const std::vector<std::string> changes = fs->DropUnsyncedData(rng() % 2 == 0 ? &rng : nullptr);
  SCOPED_TRACE("killed after append " + std::to_string(killed_after) + ", power cut after " +
               std::to_string(cut_after) + Joined(changes));
  auto log = open(/*sync=*/true);
  ASSERT_TRUE(log.ok()) << "the ledger does not open after the power loss: " << log.status().ToString();
  const uint64_t head = ExpectPlanPrefix(**log, plan);
  EXPECT_GE(head, acked) << "acknowledged synced events were lost";
}

TEST(PowerLossTest, AKilledWritersUnsyncedAppendsAreMadeDurableByTheNextOpen) {
  Rounds(6, KilledThenPowerCutRound);
}

// The same, with more rounds and longer histories (records spanning WAL blocks).
TEST(PowerLossSlowTest, ManyRoundsSyncOnAndOff) {
  Rounds(60, [](uint64_t seed) { PowerLossRound(seed, /*sync=*/seed % 2 == 0, 150); });
}

// Appenders on several threads; the power goes off after a random number of bytes
// while they append (group commit puts several appends in one write).
void ConcurrentRound(uint64_t round_seed, bool sync) {
  std::mt19937_64 rng(round_seed);
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.Sub("ledger");
  auto fs = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env = NewFaultEnv(fs);
  ManualClock clock(kT0);
  constexpr size_t kThreads = 4;
  constexpr size_t kPerThread = 60;
  std::vector<Plan> plans;
  for (size_t t = 0; t < kThreads; ++t)
    plans.push_back(Plan::Make(kPerThread, "t" + std::to_string(t)));
  // What each thread attempted and had acknowledged: append index -> first sequence.
  std::vector<size_t> attempted(kThreads, 0);
  std::vector<std::map<size_t, AppendResult>> acked(kThreads);
  {
    EventLogOptions options;
    options.clock = &clock;
    options.sync = sync;
    options.env = env.get();
    options.max_group_size = 1 + rng() % 8;
    auto log = EventLog::Open(options, path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    const uint64_t cut = rng() % 150'000;
    fs->CutPowerAfterBytes(cut);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = 0; i < kPerThread; ++i) {
          attempted[t] = i + 1;
          clock.Advance(10);
          StatusOr<AppendResult> r = (*log)->Append(plans[t].appends[i]);
          if (!r.ok()) return;
          acked[t][i] = *r;
        }
      });
    }
    for (std::thread& th : threads) th.join();
    fs->CutPower();
    log->reset();
  }
  std::vector<std::string> changes = fs->DropUnsyncedData(rng() % 2 == 0 ? &rng : nullptr);
  SCOPED_TRACE("files after the power came back:" + Joined(changes));

  EventLogOptions options;
  options.clock = &clock;
  auto log = EventLog::Open(options, path);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  // Every surviving event belongs to a whole append some thread attempted, appends of
  // one thread survive as a prefix, and (sync on) every acknowledged one survives.
  std::vector<size_t> survived(kThreads, 0);
  uint64_t seq = 1;
  const uint64_t head = (*log)->head().sequence;
  while (seq <= head) {
    StatusOr<Event> first = (*log)->Read(seq);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    const std::string& id = first->request_id;  // "t<thread>-<i>"
    ASSERT_TRUE(id.size() > 3 && id[0] == 't')
        << "event " << seq << " has request id '" << id << "'";
    const size_t t = static_cast<size_t>(id[1] - '0');
    const size_t i = std::stoul(id.substr(3)) - 1;
    ASSERT_TRUE(t < kThreads && i < kPerThread) << id;
    EXPECT_EQ(i, survived[t]) << "thread " << t
                              << "'s appends survived out of order or with a hole";
    EXPECT_LT(i, attempted[t]) << "an append that was never attempted survived";
    const AppendRequest& request = plans[t].appends[i];
    for (size_t j = 0; j < request.events.size(); ++j, ++seq) {
      ASSERT_LE(seq, head) << "append " << id << " survived in part";
      StatusOr<Event> e = (*log)->Read(seq);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      ExpectEventIs(*e, request.events[j], request.request_id);
    }
    auto it = acked[t].find(i);
    if (it != acked[t].end()) {
      EXPECT_EQ(it->second.first_sequence, seq - request.events.size());
    }
    survived[t] = i + 1;
    if (::testing::Test::HasFailure()) return;
  }
  for (size_t t = 0; t < kThreads; ++t) {
    if (sync && !acked[t].empty()) {
      EXPECT_GT(survived[t], acked[t].rbegin()->first)
          << "thread " << t << " lost acknowledged appends";
    }
  }
  VerifyOptions verify;
  verify.check_indexes = true;
  StatusOr<VerifyResult> v = (*log)->Verify(verify);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->ok()) << VerifyProblemName(v->problem) << ": " << v->detail;
  EXPECT_EQ(v->events_checked, head);
}

TEST(PowerLossTest, ConcurrentAppendersSyncOn) {
  Rounds(4, [](uint64_t seed) { ConcurrentRound(seed, /*sync=*/true); });
}

TEST(PowerLossTest, ConcurrentAppendersSyncOff) {
  Rounds(4, [](uint64_t seed) { ConcurrentRound(seed, /*sync=*/false); });
}

TEST(PowerLossSlowTest, ConcurrentAppendersManyRounds) {
  Rounds(40, [](uint64_t seed) { ConcurrentRound(seed, /*sync=*/seed % 2 == 0); });
}

// The job ledger: commands with their write-side state and inline projection rows in
// the same batch. After the power loss, acknowledged commands are visible and the
// state and projection agree with the log.
void LedgerRound(uint64_t round_seed) {
  std::mt19937_64 rng(round_seed);
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.Sub("ledger");
  auto fs = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env = NewFaultEnv(fs);
  ManualClock clock(kT0);
  LedgerOptions options;
  options.clock = &clock;
  options.env = env.get();
  const uint64_t steps = 40;
  uint64_t acknowledged = 0, attempted = 0;
  {
    auto stack = LedgerStack::Open(options, path);
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    fs->CutPowerAfterBytes(rng() % 40'000);
    for (uint64_t i = 0; i < steps; ++i) {
      clock.Advance(kSecond);
      attempted = i + 1;
      Status s = RunWorkloadStep(*(*stack)->ledger, i);
      if (!s.ok()) {
        ASSERT_FALSE(fs->powered()) << "step " << i << ": " << s.ToString();
        EXPECT_FALSE((*stack)->ledger->log().failure().ok());
        break;
      }
      acknowledged = i + 1;
    }
    fs->CutPower();
  }
  std::vector<std::string> changes = fs->DropUnsyncedData(rng() % 2 == 0 ? &rng : nullptr);
  SCOPED_TRACE("acknowledged " + std::to_string(acknowledged) + " of " + std::to_string(attempted) +
               " attempted steps" + Joined(changes));
  options.env = nullptr;
  auto stack = LedgerStack::Open(options, path);
  ASSERT_TRUE(stack.ok()) << stack.status().ToString();
  ExpectWorkloadVisible(**stack, acknowledged, attempted);
  ExpectLedgerSound(**stack);
}

TEST(PowerLossTest, LedgerCommandsSurviveWithStateAndProjections) { Rounds(4, LedgerRound); }

TEST(PowerLossSlowTest, LedgerCommandsManyRounds) { Rounds(30, LedgerRound); }

}  // namespace
}  // namespace jobledger::faults
