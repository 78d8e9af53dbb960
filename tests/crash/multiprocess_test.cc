// Two processes on one ledger:
//   - a secondary instance follows a live writer in another process: every state it
//     catches up to is a consistent prefix (the chain, the indexes, the write-side
//     state and the projection verify on what it sees), its head never goes back, and
//     everything the writer acknowledged before the catch-up is visible;
//   - a second read-write open, from either side, is refused with kUnavailable and a
//     message naming the ledger and its lock, and succeeds once the holder is gone.

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "jobledger/read_models.h"
#include "jobledger/replay.h"
#include "tests/crash/recovery_check.h"

namespace jobledger::crash {
namespace {

void ExpectVerified(const StatusOr<VerifyReport>& report, uint64_t head) {
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const VerifyCheck& c : report->checks) {
    EXPECT_TRUE(c.ok) << c.name << ": " << c.problem << " at " << c.first_bad_sequence << ": "
                      << c.detail;
  }
  EXPECT_EQ(report->head_sequence, head);
}

TEST(MultiProcess, SecondaryFollowsALiveWriterInAnotherProcess) {
  constexpr int kRounds = 12;
  // Iterations the writer may run per round; each acknowledges at least 4 commands.
  constexpr uint64_t kGrant = 8;
  TempDir dir;
  const std::string ledger_dir = dir.Sub("ledger");
  // Paced: the writer runs what each round grants, so it is never far ahead.
  Child writer({"ledger", ledger_dir, "prefix=s", "threads=4", "paced=" + std::to_string(kGrant)});
  ASSERT_TRUE(writer.started()) << writer.error();
  ASSERT_TRUE(writer.Grant());
  uint64_t granted = 1;
  Trace trace;
  // The writer's families exist once its first command is acknowledged.
  ASSERT_TRUE(ReadUntil(writer, trace, [](char kind) { return kind == 'K'; }))
      << "the writer ended early";

  LedgerOptions options;
  options.mode = OpenMode::kSecondary;
  options.secondary_path = dir.Sub("secondary");
  auto secondary = Ledger::Open(options, ledger_dir);
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  EventLog& log = (*secondary)->log();
  auto projections = OpenJobsProjection(log);
  ASSERT_TRUE(projections.ok()) << projections.status().ToString();
  ReadModels reads(log, **projections, (*secondary)->context());

  Head last{};
  uint64_t distinct_heads = 0;
  for (int round = 0; round < kRounds && !::testing::Test::HasFailure(); ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Half of this round's grant acknowledged: the writer is busy with the rest while
    // the secondary catches up.
    ASSERT_TRUE(writer.Grant());
    ++granted;
    const uint64_t target = 4 * kGrant * granted - 2 * kGrant;
    ASSERT_TRUE(ReadUntil(writer, trace, [&](char) { return trace.acks >= target; }))
        << "the writer ended early";
    uint64_t acked_end = 0;
    std::vector<std::string> acked_jobs;
    for (const auto& [rid, range] : trace.acked) {
      auto d = trace.decided.find(rid);
      ASSERT_NE(d, trace.decided.end()) << rid << " acknowledged but never decided";
      acked_end = std::max(acked_end, d->second.last);
      if (rid.size() > 2 && rid.compare(rid.size() - 2, 2, "-c") == 0) {
        acked_jobs.push_back(rid.substr(0, rid.size() - 2));
      }
    }

    Status caught_up = log.CatchUpWithPrimary();
    ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
    // Lines written before the events it now sees (A, D) are in the pipe already.
    ReadAvailable(writer, trace);
    const Head head = log.head();
    ASSERT_GE(head.sequence, last.sequence) << "the secondary's head went backwards";
    EXPECT_GE(head.sequence, acked_end)
        << "an acknowledged append is not visible after catching up";
    if (head.sequence != last.sequence) ++distinct_heads;

    // What it sees is a prefix of one chain: what it saw before is unchanged.
    VerifyOptions verify;
    verify.check_indexes = true;
    if (last.sequence > 0) verify.digest = Digest{last.sequence, last.hash};
    StatusOr<VerifyResult> verified = log.Verify(verify);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    ASSERT_TRUE(verified->ok()) << VerifyProblemName(verified->problem) << " at "
                                << verified->first_bad_sequence << ": " << verified->detail;
    ASSERT_EQ(verified->events_checked, head.sequence);
    // Every new event belongs to a request the writer decided, whole.
    auto cursor = log.NewCursor(last.sequence + 1, head.sequence);
    for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
      const Event& e = cursor->event();
      auto d = trace.decided.find(e.request_id);
      ASSERT_NE(d, trace.decided.end())
          << "event " << e.sequence << ": unknown request " << e.request_id;
      ASSERT_LE(d->second.last, head.sequence) << e.request_id << " is visible in part";
    }
    ASSERT_EQ(cursor->state(), EventCursor::State::kCaughtUp) << cursor->status().ToString();
    // The projection stands at the head it came with.
    ASSERT_EQ((*projections)->Info().size(), 1u);
    EXPECT_EQ((*projections)->Info()[0].checkpoint, head.sequence);
    // Acknowledged jobs are there, with both executions counted.
    for (size_t i = acked_jobs.size() > 5 ? acked_jobs.size() - 5 : 0; i < acked_jobs.size(); ++i) {
      auto job = reads.DescribeJob(acked_jobs[i]);
      ASSERT_TRUE(job.ok()) << acked_jobs[i] << ": " << job.status().ToString();
      const JobProcessDetails& d = job->job_process_details;
      EXPECT_EQ(d.number_of_queued_things + d.number_of_in_progress_things +
                    d.number_of_succeeded_things + d.number_of_failed_things,
                2)
          << acked_jobs[i];
    }
    if (round % 4 == 3) {
      // The write-side state and the projection, folded in memory, match.
      ExpectVerified(VerifyLedger(log, secondary->get(), projections->get()), head.sequence);
    }
    last = head;
  }
  std::cout << "[ follower ] " << distinct_heads << " distinct heads over " << kRounds
            << " catch-ups, last " << last.sequence << "\n";
  EXPECT_GT(distinct_heads, 1u);

  // The writer dies; the secondary ends at the state a read-write reopen recovers.
  writer.Kill();
  ReadToEnd(writer, trace);
  writer.Wait();
  for (const std::string& f : trace.failures) ADD_FAILURE() << "writer: " << f;
  Status caught_up = log.CatchUpWithPrimary();
  ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
  const Head final_head = log.head();
  EXPECT_GE(final_head.sequence, last.sequence);
  ExpectVerified(VerifyLedger(log, secondary->get(), projections->get()), final_head.sequence);
  projections->reset();
  secondary->reset();
  LedgerOptions writable;
  auto reopened = Ledger::Open(writable, ledger_dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->log().head().sequence, final_head.sequence);
  EXPECT_EQ((*reopened)->log().head().hash, final_head.hash);
}

// RocksDB 7.8.3 secondary instances (facebook/rocksdb#14444 scenario 1, #15051): when
// the writer flushes its memtables (EventLog's destructor does, and RocksDB does
// whenever a memtable fills), a secondary that had replayed those writes from the WAL
// keeps them in its memtable, where they shadow the newer flushed values of every
// overwritten key (the head record, state rows, checkpoints). Found by this suite.
// CatchUpWithPrimary now detects it (events beyond the head record) and says to reopen
// (kUnavailable) instead of serving the stale state; a reopened secondary is right.
TEST(MultiProcess, SecondaryNeverServesStaleStateAfterTheWriterFlushes) {
  TempDir dir;
  const std::string ledger_dir = dir.Sub("ledger");
  Child writer({"ledger", ledger_dir, "prefix=f", "threads=4", "paced=5"});
  ASSERT_TRUE(writer.started()) << writer.error();
  Trace trace;
  ASSERT_TRUE(writer.Grant());
  ASSERT_TRUE(ReadUntil(writer, trace, [&](char) { return trace.acks >= 20; }));
  LedgerOptions options;
  options.mode = OpenMode::kSecondary;
  auto secondary = Ledger::Open(options, ledger_dir);
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  EventLog& log = (*secondary)->log();
  // Caught up while the writer's memtables hold its writes, and written to again.
  ASSERT_TRUE(writer.Grant());
  ASSERT_TRUE(ReadUntil(writer, trace, [&](char) { return trace.acks >= 40; }));
  ASSERT_TRUE(log.CatchUpWithPrimary().ok());
  const uint64_t seen = log.head().sequence;
  ASSERT_GT(seen, 0u);
  // More events after the ones seen, decided before stdin closes (closing it stops the
  // workers, possibly before they use this grant: the writer may have run all of the
  // previous grant before the catch-up).
  ASSERT_TRUE(writer.Grant());
  ASSERT_TRUE(ReadUntil(writer, trace, [&](char) {
    for (const auto& [rid, range] : trace.decided) {
      if (range.last > seen) return true;
    }
    return false;
  })) << "the writer ended early";
  // The writer closes cleanly: its memtables are flushed.
  writer.CloseStdin();
  ReadToEnd(writer, trace);
  const int status = writer.Wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << DescribeWaitStatus(status);
  const std::vector<std::string> exit_line = trace.Others('X');
  ASSERT_EQ(exit_line.size(), 1u);
  ASSERT_GT(std::stoull(exit_line[0]), seen);

  Status caught = log.CatchUpWithPrimary();
  if (caught.ok()) {
    EXPECT_EQ(std::to_string(log.head().sequence), exit_line[0]) << "the head record is stale";
  } else {
    EXPECT_EQ(caught.code(), StatusCode::kUnavailable) << caught.ToString();
    EXPECT_NE(caught.message().find("reopen"), std::string::npos) << caught.message();
    secondary->reset();
    secondary = Ledger::Open(options, ledger_dir);
    ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  }
  EventLog& current = (*secondary)->log();
  EXPECT_EQ(std::to_string(current.head().sequence), exit_line[0]);
  auto projections = OpenJobsProjection(current);
  ASSERT_TRUE(projections.ok()) << projections.status().ToString();
  ExpectVerified(VerifyLedger(current, secondary->get(), projections->get()), current.head().sequence);
}

// ---- one writer per ledger ----

void ExpectHeldMessage(const Status& s, const std::string& ledger_dir) {
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find(ledger_dir), std::string::npos)
      << "does not name the ledger: " << s.message();
  EXPECT_NE(s.message().find("held read-write by another process"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("LOCK"), std::string::npos)
      << "does not name the lock: " << s.message();
}

TEST(MultiProcess, SecondWriterInThisProcessIsRefusedWhileAnotherHoldsTheLedger) {
  TempDir dir;
  const std::string ledger_dir = dir.Sub("ledger");
  Child holder({"hold", ledger_dir});
  ASSERT_TRUE(holder.started()) << holder.error();
  Trace trace;
  ASSERT_TRUE(ReadUntil(holder, trace, [](char kind) { return kind == 'R' || kind == 'F'; }));
  ASSERT_TRUE(trace.failures.empty()) << trace.failures.front();

  LedgerOptions options;
  auto second = Ledger::Open(options, ledger_dir);
  ASSERT_FALSE(second.ok()) << "a second writer was let in";
  ExpectHeldMessage(second.status(), ledger_dir);
  auto second_log = EventLog::Open(EventLogOptions{}, ledger_dir);
  ASSERT_FALSE(second_log.ok());
  ExpectHeldMessage(second_log.status(), ledger_dir);
  // Readers are welcome beside the writer.
  {
    LedgerOptions reader;
    reader.mode = OpenMode::kSecondary;
    auto follower = Ledger::Open(reader, ledger_dir);
    EXPECT_TRUE(follower.ok()) << follower.status().ToString();
  }

  // Once the holder is gone, the ledger opens read-write.
  holder.CloseStdin();
  ReadToEnd(holder, trace);
  const int status = holder.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << DescribeWaitStatus(status);
  auto now = Ledger::Open(options, ledger_dir);
  EXPECT_TRUE(now.ok()) << now.status().ToString();
}

TEST(MultiProcess, AnotherProcessIsRefusedWhileThisOneHoldsTheLedger) {
  TempDir dir;
  const std::string ledger_dir = dir.Sub("ledger");
  auto attempt = [&]() -> std::string {
    Child other({"open", ledger_dir});
    EXPECT_TRUE(other.started()) << other.error();
    Trace trace;
    ReadToEnd(other, trace);
    const int status = other.Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << DescribeWaitStatus(status);
    const std::vector<std::string> s = trace.Others('S');
    return s.size() == 1 ? s[0] : "no status line";
  };
  {
    LedgerOptions options;
    auto holder = Ledger::Open(options, ledger_dir);
    ASSERT_TRUE(holder.ok()) << holder.status().ToString();
    const std::string refused = attempt();
    const std::string unavailable =
        std::to_string(static_cast<int>(StatusCode::kUnavailable)) + " ";
    ASSERT_EQ(refused.rfind(unavailable, 0), 0u) << refused;
    ExpectHeldMessage(Status(StatusCode::kUnavailable, refused.substr(unavailable.size())),
                      ledger_dir);
  }
  EXPECT_EQ(attempt(), "0 ");
}

}  // namespace
}  // namespace jobledger::crash
