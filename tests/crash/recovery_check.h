// Checking a ledger recovered after the crash child died: CheckRecovered, and what it
// reads of the projection machinery's own rows.

#ifndef JOBLEDGER_TESTS_CRASH_RECOVERY_CHECK_H_
#define JOBLEDGER_TESTS_CRASH_RECOVERY_CHECK_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "jobledger/event_log.h"
#include "jobledger/jobs_projection.h"
#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"
#include "ledger/wire.h"
#include "tests/crash/crash_test_util.h"

namespace jobledger::crash {

// Opens the "jobs" projection (inline) on `log`.
inline StatusOr<std::unique_ptr<ProjectionManager>> OpenJobsProjection(EventLog& log) {
  std::vector<ProjectionManager::Entry> entries;
  entries.push_back({std::make_unique<JobsProjection>(), ProjectionMode::kInline});
  return ProjectionManager::Open(log, std::move(entries));
}

// The family the projection registry names for "jobs" ("" when none), and that
// family's checkpoint, read from the stored rows (before a ProjectionManager could
// repair anything).
struct StoredProjection {
  std::string family;
  std::optional<uint64_t> checkpoint;
};

inline StoredProjection ReadStoredProjection(EventLog& log) {
  StoredProjection out;
  StatusOr<FamilyId> registry = log.OpenFamily("projections");
  EXPECT_TRUE(registry.ok()) << registry.status().ToString();
  if (!registry.ok()) return out;
  StatusOr<std::optional<std::string>> row = log.GetRow(*registry, "jobs");
  EXPECT_TRUE(row.ok()) << row.status().ToString();
  if (!row.ok() || !row->has_value()) return out;
  WireReader r(**row);
  out.family = r.Str();
  EXPECT_TRUE(r.ok() && r.AtEnd()) << "malformed registry row";
  StatusOr<FamilyId> family = log.OpenFamily(out.family);
  EXPECT_TRUE(family.ok()) << out.family << ": " << family.status().ToString();
  if (!family.ok()) return out;
  StatusOr<std::optional<std::string>> cp = log.GetRow(*family, std::string("\0checkpoint", 11));
  EXPECT_TRUE(cp.ok()) << cp.status().ToString();
  if (cp.ok() && cp->has_value()) {
    WireReader c(**cp);
    out.checkpoint = c.U64();
    EXPECT_TRUE(c.ok() && c.AtEnd()) << "malformed checkpoint row";
  }
  return out;
}

inline std::vector<std::string> FamiliesWithPrefix(const EventLog& log, const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& f : log.FamilyNames()) {
    if (f.rfind(prefix, 0) == 0) out.push_back(f);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Where the recovered log must end, given the groups the child reported.
enum class InFlight {
  kEither,   // a random kill: the group being written may or may not have landed
  kAbsent,   // killed at append.before_write: the last group must be absent
  kPresent,  // killed at append.after_write: the last group must be present, whole
};

struct RecoveryExpectation {
  bool ledger = true;  // opened as a Ledger (else as a bare EventLog)
  InFlight in_flight = InFlight::kEither;
  // The ledger before the child ran (events up to it are not the child's).
  uint64_t prior_head = 0;
  Hash prior_hash{};
  // Extra checks before and after the projection manager opens.
  std::function<void(EventLog&, const StoredProjection&)> before_projections;
  std::function<void(EventLog&, ProjectionManager&)> after_projections;
};

struct Recovered {
  uint64_t head = 0;
  Hash hash{};
  uint64_t events = 0;  // the child's events that survived
};

// Reopens the ledger in `dir` after the child died and checks it against `trace`:
//  - it opens; the chain and the indexes verify; the events before the child are intact;
//  - sequences are dense; every event belongs to a request the child attempted and
//    decided, each request's events are contiguous, complete and at the sequences the
//    writer decided; rejected requests are absent;
//  - acknowledged ⊆ recovered: every acknowledged (and retried) request is there;
//  - the head is the end of a group the child saw written, or of the group in flight
//    when it died (as `expect.in_flight` allows);
//  - the ledger's state equals a fresh fold (CheckState); the projection's checkpoint
//    is the head before any repair, and the projection equals a fresh fold;
//  - acknowledged request ids are still answered from the log, and appends go on.
inline void CheckRecovered(const std::string& dir, const Trace& trace,
                           const RecoveryExpectation& expect, Recovered* out) {
  for (const std::string& f : trace.failures) ADD_FAILURE() << "child: " << f;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<EventLog> bare_log;
  if (expect.ledger) {
    LedgerOptions options;
    options.sync = true;
    auto opened = Ledger::Open(options, dir);
    ASSERT_TRUE(opened.ok()) << "reopening after the crash: " << opened.status().ToString();
    ledger = std::move(opened).value();
  } else {
    EventLogOptions options;
    options.sync = true;
    auto opened = EventLog::Open(options, dir);
    ASSERT_TRUE(opened.ok()) << "reopening after the crash: " << opened.status().ToString();
    bare_log = std::move(opened).value();
  }
  EventLog& log = expect.ledger ? ledger->log() : *bare_log;
  const Head head = log.head();

  // The chain, the indexes, and the part before the child.
  VerifyOptions verify;
  verify.check_indexes = true;
  if (expect.prior_head > 0) verify.digest = Digest{expect.prior_head, expect.prior_hash};
  StatusOr<VerifyResult> verified = log.Verify(verify);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->ok()) << VerifyProblemName(verified->problem) << " at "
                              << verified->first_bad_sequence << ": " << verified->detail;
  EXPECT_EQ(verified->events_checked, head.sequence);
  ASSERT_GE(head.sequence, expect.prior_head) << "events from before the child were lost";

  // Every event after the prior head, by request.
  std::map<std::string, Range> found;
  std::map<std::string, uint64_t> counts;
  uint64_t expected_seq = expect.prior_head + 1;
  int shown = 0;
  auto cursor = log.NewCursor(expected_seq);
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next(), ++expected_seq) {
    const Event& e = cursor->event();
    ASSERT_EQ(e.sequence, expected_seq) << "sequences are not dense";
    const std::string& rid = e.request_id;
    if (!trace.attempted.count(rid) && shown++ < 5) {
      ADD_FAILURE() << "event " << e.sequence << " has request id '" << rid
                    << "', which the child never attempted";
    }
    auto [it, inserted] = found.try_emplace(rid, Range{e.sequence, e.sequence});
    if (!inserted) {
      if (it->second.last + 1 != e.sequence && shown++ < 5) {
        ADD_FAILURE() << "request " << rid << " is split: " << it->second << " and " << e.sequence;
      }
      it->second.last = e.sequence;
    }
    // A child's own events say which they are: the k-th event of request R created
    // job R-e<k> (log mode).
    if (trace.attempted_events.count(rid)) {
      const auto* created = std::get_if<JobCreated>(&e.body);
      const std::string expected_job = rid + "-e" + std::to_string(counts[rid]);
      if ((created == nullptr || created->job_id != expected_job) && shown++ < 5) {
        ADD_FAILURE() << "event " << e.sequence << " is not " << expected_job
                      << ", the event the child appended there";
      }
    }
    ++counts[rid];
  }
  ASSERT_EQ(cursor->state(), EventCursor::State::kCaughtUp) << cursor->status().ToString();
  ASSERT_EQ(expected_seq - 1, head.sequence) << "the cursor stopped before the head";

  for (const auto& [rid, range] : found) {
    auto d = trace.decided.find(rid);
    if (d == trace.decided.end()) {
      ADD_FAILURE() << rid << " is in the log " << range << " but was never decided";
      continue;
    }
    EXPECT_EQ(range, d->second) << rid << ": recovered at other sequences than decided";
    EXPECT_EQ(trace.rejected.count(rid), 0u) << rid << " was rejected but is in the log";
    auto n = trace.attempted_events.find(rid);
    if (n != trace.attempted_events.end()) {
      EXPECT_EQ(counts[rid], n->second) << rid << ": an append landed in part";
    }
  }
  uint64_t highest_acked = 0;
  for (const auto& [rid, range] : trace.acked) {
    auto f = found.find(rid);
    if (f == found.end()) {
      ADD_FAILURE() << "acknowledged request " << rid << " was lost";
      continue;
    }
    if (range) {
      EXPECT_EQ(f->second, *range) << rid << ": acknowledged at other sequences";
    }
    highest_acked = std::max(highest_acked, f->second.last);
  }
  for (const auto& [rid, range] : trace.retried) {
    auto f = found.find(rid);
    if (f == found.end()) {
      ADD_FAILURE() << "retried request " << rid << " was lost";
    } else if (range) {
      EXPECT_EQ(f->second, *range) << rid;
    }
  }
  EXPECT_GE(head.sequence, highest_acked);

  // Groups: decided in sequence order, and the head ends a group the writer got to.
  uint64_t next = expect.prior_head + 1;
  uint64_t written_end = expect.prior_head;
  std::set<uint64_t> allowed_heads = {expect.prior_head};
  const Trace::Group* in_flight = nullptr;
  for (const Trace::Group& g : trace.groups) {
    if (g.rids.empty()) continue;  // a group of the child's setup without a tracer
    for (const std::string& rid : g.rids) {
      const Range& r = trace.decided.at(rid);
      EXPECT_EQ(r.first, next) << rid << " was decided out of sequence order";
      next = r.last + 1;
    }
    if (g.written) {
      EXPECT_EQ(in_flight, nullptr) << "a group was written after one that was not";
      written_end = g.range.last;
      allowed_heads = {written_end};
    } else {
      in_flight = &g;
      if (g.before_write && expect.in_flight != InFlight::kAbsent)
        allowed_heads.insert(g.range.last);
    }
  }
  EXPECT_TRUE(allowed_heads.count(head.sequence))
      << "recovered head " << head.sequence << "; the last written group ends at " << written_end
      << (in_flight != nullptr ? ", the group in flight at " + std::to_string(in_flight->range.last)
                               : std::string(", no group was in flight"));
  if (expect.in_flight == InFlight::kAbsent) {
    ASSERT_NE(in_flight, nullptr) << "killed before a write, but no group was in flight";
    EXPECT_TRUE(in_flight->before_write);
    EXPECT_EQ(head.sequence, written_end) << "the group killed before its write is in the log";
  }
  if (expect.in_flight == InFlight::kPresent) {
    ASSERT_FALSE(trace.groups.empty());
    EXPECT_TRUE(trace.groups.back().written) << "killed after a write, but the last group has no W";
    EXPECT_EQ(head.sequence, trace.groups.back().range.last)
        << "the group written before the kill is not (all) in the log";
  }

  // Write-side state and projections.
  if (ledger != nullptr) {
    StatusOr<StateCheckResult> state = ledger->CheckState();
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_TRUE(state->ok()) << state->differences.size()
                             << " state rows differ, first: " << state->differences.front();
    EXPECT_EQ(state->events_folded, head.sequence);
  }
  const StoredProjection stored = ReadStoredProjection(log);
  EXPECT_FALSE(stored.family.empty()) << "no active family for 'jobs'";
  EXPECT_EQ(stored.checkpoint, std::optional<uint64_t>(head.sequence))
      << "the projection's rows are not at the head the log recovered to";
  if (expect.before_projections) expect.before_projections(log, stored);
  {
    auto projections = OpenJobsProjection(log);
    ASSERT_TRUE(projections.ok()) << projections.status().ToString();
    StatusOr<DriftReport> drift = (*projections)->CheckDrift(JobsProjection::kName);
    ASSERT_TRUE(drift.ok()) << drift.status().ToString();
    EXPECT_TRUE(drift->ok()) << drift->differences.size()
                             << " rows differ from a fresh fold, first: "
                             << drift->differences.front();
    EXPECT_EQ(drift->events_folded, head.sequence);
    if (expect.after_projections) expect.after_projections(log, **projections);
  }

  // Acknowledged requests are still known (answered from the log, nothing appended).
  int retries = 0;
  for (const auto& [rid, range] : trace.acked) {
    if (retries++ >= 5) break;
    bool decided_again = false;
    StatusOr<AppendResult> again =
        log.Append(AppendOptions{rid, Durability::kDefault}, [&](AppendTxn& txn) -> Status {
          decided_again = true;
          return txn.Add({"user:check", CauseRef::None(), ThingDeleted{"x"}}).status();
        });
    ASSERT_TRUE(again.ok()) << rid << ": " << again.status().ToString();
    EXPECT_TRUE(again->duplicate) << rid << " is no longer a known request";
    EXPECT_FALSE(decided_again) << rid;
    EXPECT_EQ((Range{again->first_sequence, again->last_sequence}), found[rid]) << rid;
  }
  EXPECT_EQ(log.head().sequence, head.sequence);

  // The log goes on from the recovered head (through the ledger when there is one, so
  // its state stays the fold of the log).
  const std::string job = "after-crash-" + std::to_string(head.sequence);
  if (ledger != nullptr) {
    CreateJobRequest create;
    create.job_id = job;
    create.targets = {"arn:aws:iot:us-east-1:123456789012:thing/" + job};
    create.document = "{}";
    auto created = ledger->CreateJob(RequestContext{"user:check", job}, create);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_EQ(log.Read(head.sequence + 1)->request_id, job);
  } else {
    JobCreated created;
    created.job_id = job;
    created.targets = {"arn:aws:iot:us-east-1:123456789012:thing/" + job};
    created.document = "{}";
    AppendRequest more;
    more.request_id = job;
    more.events.push_back({"user:check", CauseRef::None(), created});
    StatusOr<AppendResult> appended = log.Append(more);
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    EXPECT_EQ(appended->first_sequence, head.sequence + 1);
  }
  StatusOr<VerifyResult> again = log.Verify();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->ok()) << again->detail;

  out->head = log.head().sequence;
  out->hash = log.head().hash;
  out->events = head.sequence - expect.prior_head;
}

}  // namespace jobledger::crash

#endif  // JOBLEDGER_TESTS_CRASH_RECOVERY_CHECK_H_
