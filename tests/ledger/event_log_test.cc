#include "jobledger/event_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <map>
#include <memory>
#include <memory_resource>
#include <thread>

#include "ledger/internal/huge_pages.h"
#include "tests/ledger/sample_events.h"

namespace jobledger {
namespace {

using testing::Command;
using testing::Created;
using testing::Queued;
using testing::Single;

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(OpenMode mode = OpenMode::kReadWrite) {
    log_.reset();
    EventLogOptions options;
    options.clock = &clock_;
    options.sync = false;
    auto opened = EventLog::Open(options, dir_.path() + "/ledger", mode);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(opened).value();
  }

  AppendResult MustAppend(const AppendRequest& request) {
    StatusOr<AppendResult> r = log_->Append(request);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AppendResult{};
  }

  // Head, digest, streams and time index must be exactly as before a failed append.
  void ExpectUnchanged(const Head& before, const std::string& job) {
    Head after = log_->head();
    EXPECT_EQ(after.sequence, before.sequence);
    EXPECT_EQ(after.hash, before.hash);
    EXPECT_EQ(log_->LastInStream(StreamKind::kJob, job).value(), 0u);
    EXPECT_EQ(log_->LastSequenceAtOrBefore(INT64_MAX).value(), before.sequence);
    EXPECT_EQ(log_->Read(before.sequence + 1).status().code(), StatusCode::kNotFound);
    StatusOr<VerifyResult> v = log_->Verify();
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->ok()) << v->detail;
  }

  testing::TempDir dir_;
  ManualClock clock_{1764237600000000};
  std::unique_ptr<EventLog> log_;
};

TEST_F(EventLogTest, EmptyLogHasZeroHeadAndVerifies) {
  EXPECT_EQ(log_->head().sequence, 0u);
  EXPECT_EQ(log_->head().hash, Hash{});
  EXPECT_EQ(log_->Read(1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->Read(0).status().code(), StatusCode::kNotFound);
  auto cursor = log_->NewCursor();
  EXPECT_EQ(cursor->state(), EventCursor::State::kCaughtUp);
  StatusOr<VerifyResult> v = log_->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok());
  EXPECT_EQ(v->events_checked, 0u);
}

TEST_F(EventLogTest, EveryKindRoundTripsWithItsEnvelope) {
  std::vector<EventBody> bodies = testing::OneBodyOfEveryKind();
  uint64_t expected_seq = 1;
  Hash prev{};
  for (const EventBody& body : bodies) {
    clock_.Advance(1000);
    AppendResult r = MustAppend(Single(body, "req-" + std::to_string(expected_seq)));
    ASSERT_EQ(r.first_sequence, expected_seq);
    ASSERT_EQ(r.last_sequence, expected_seq);
    StatusOr<Event> e = log_->Read(expected_seq);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(e->sequence, expected_seq);
    EXPECT_EQ(e->recorded_at_micros, clock_.NowMicros());
    EXPECT_EQ(e->clamped_from_micros, 0);
    EXPECT_EQ(e->actor, "user:alice");
    EXPECT_EQ(e->cause, 0u);
    EXPECT_EQ(e->request_id, "req-" + std::to_string(expected_seq));
    EXPECT_EQ(e->previous_hash, prev);
    EXPECT_EQ(e->body, body);
    prev = log_->head().hash;
    ++expected_seq;
  }
  // Reading them all back through a cursor gives the same bodies in order.
  auto cursor = log_->NewCursor();
  for (const EventBody& body : bodies) {
    ASSERT_EQ(cursor->state(), EventCursor::State::kPositioned);
    EXPECT_EQ(cursor->event().body, body);
    cursor->Next();
  }
  EXPECT_EQ(cursor->state(), EventCursor::State::kCaughtUp);
}

TEST_F(EventLogTest, BatchIsDenseAndCausesInBatchResolveToSequences) {
  MustAppend(Single(ThingAddedToGroup{"t1", "g"}));
  AppendRequest r;
  r.events.push_back(Command(Created("job1")));
  r.events.push_back(NewEvent{"system:rollout", CauseRef::InBatch(0), Queued("job1", "t1")});
  r.events.push_back(NewEvent{"system:rollout", CauseRef::Sequence(1), Queued("job1", "t2")});
  AppendResult a = MustAppend(r);
  EXPECT_EQ(a.first_sequence, 2u);
  EXPECT_EQ(a.last_sequence, 4u);
  EXPECT_EQ(log_->Read(2)->cause, 0u);
  EXPECT_EQ(log_->Read(3)->cause, 2u);
  EXPECT_EQ(log_->Read(4)->cause, 1u);
  EXPECT_EQ(log_->Read(3)->actor, "system:rollout");
  // Streams: the job's stream has all three; each thing's stream its own.
  EXPECT_EQ(log_->StreamSequences(StreamKind::kJob, "job1").value(),
            (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(log_->StreamSequences(StreamKind::kThing, "t1").value(),
            (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(log_->StreamSequences(StreamKind::kThing, "t2").value(), (std::vector<uint64_t>{4}));
  EXPECT_EQ(log_->StreamSequences(StreamKind::kJob, "job1", 3, 3).value(),
            (std::vector<uint64_t>{3}));
  EXPECT_EQ(log_->StreamSequences(StreamKind::kJob, "job1", 1, 10, 2).value(),
            (std::vector<uint64_t>{2, 3}));
  EXPECT_TRUE(log_->StreamSequences(StreamKind::kJob, "job").value().empty());
  EXPECT_EQ(log_->LastInStream(StreamKind::kJob, "job1", 3).value(), 3u);
  EXPECT_EQ(log_->LastInStream(StreamKind::kJob, "job1", 1).value(), 0u);
  EXPECT_EQ(log_->LastInStream(StreamKind::kThing, "t1").value(), 3u);
  auto events = log_->ReadStream(StreamKind::kThing, "t1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(KindOf((*events)[1].body), EventKind::kExecutionQueued);
}

TEST_F(EventLogTest, InvalidRequestsAreRejectedAndAppendNothing) {
  MustAppend(Single(ThingAddedToGroup{"t1", "g"}));
  const Head before = log_->head();
  struct Case {
    const char* name;
    AppendRequest request;
    const char* field;
  };
  std::vector<Case> cases;
  cases.push_back({"no events", AppendRequest{}, "events"});
  {
    AppendRequest r = Single(JobCompleted{"jobX"});
    r.events[0].actor = "";
    cases.push_back({"empty actor", r, "events[0].actor"});
  }
  {
    AppendRequest r = Single(JobCompleted{"jobX"});
    r.events.push_back(NewEvent{"a", CauseRef::InBatch(1), JobCompleted{"jobX"}});
    cases.push_back({"cause not earlier", r, "events[1].cause"});
  }
  {
    AppendRequest r = Single(JobCompleted{"jobX"});
    r.events[0].cause = CauseRef::Sequence(99);
    cases.push_back({"cause beyond head", r, "events[0].cause"});
  }
  cases.push_back({"unknown body", Single(UnknownEvent{99}), "events[0].body"});
  cases.push_back({"empty job id", Single(JobCompleted{""}), "events[0].jobId"});
  cases.push_back({"empty thing", Single(ExecutionQueued{"jobX", "", 1, ""}), "events[0].thingName"});
  cases.push_back({"long request id", Single(JobCompleted{"jobX"}, std::string(256, 'r')),
                   "requestId"});
  {
    // The third event is too large to store: the first two must not land either.
    AppendRequest r;
    r.events.push_back(Command(Created("jobX")));
    r.events.push_back(Command(Queued("jobX", "t1")));
    JobUpdated huge;
    huge.job_id = "jobX";
    huge.description = std::string(2 << 20, 'd');
    r.events.push_back(Command(huge));
    cases.push_back({"oversized third event", r, "events[2]"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    StatusOr<AppendResult> r = log_->Append(c.request);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(c.field, 0), 0u) << r.status().message();
    ExpectUnchanged(before, "jobX");
  }
}

TEST_F(EventLogTest, ExpectedStreamVersionConflictAppendsNothing) {
  AppendRequest create = Single(Created("job1"));
  create.expected = {{"job1", 0}};  // the job must be new
  AppendResult first = MustAppend(create);
  EXPECT_EQ(first.first_sequence, 1u);

  AppendRequest again = create;  // a second create expecting an empty stream
  StatusOr<AppendResult> conflict = log_->Append(again);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().code(), StatusCode::kAborted);
  EXPECT_EQ(conflict.status().aws_error(), AwsError::kVersionConflict);
  EXPECT_NE(conflict.status().message().find("job1"), std::string::npos);
  EXPECT_EQ(log_->head().sequence, 1u);

  AppendRequest next = Single(Queued("job1", "t1"));
  next.expected = {{"job1", 1}};
  EXPECT_EQ(MustAppend(next).first_sequence, 2u);
  next.expected = {{"job1", 1}};  // stale now
  EXPECT_EQ(log_->Append(next).status().aws_error(), AwsError::kVersionConflict);
  EXPECT_EQ(log_->head().sequence, 2u);
}

TEST_F(EventLogTest, RetryWithSameRequestIdReturnsOriginalSequences) {
  AppendRequest r;
  r.request_id = "req-42";
  r.events.push_back(Command(Created("job1")));
  r.events.push_back(Command(Queued("job1", "t1")));
  AppendResult first = MustAppend(r);
  MustAppend(Single(ThingDeleted{"t9"}));
  const Head before = log_->head();
  clock_.Advance(5'000'000);
  AppendResult retry = MustAppend(r);
  EXPECT_TRUE(retry.duplicate);
  EXPECT_FALSE(first.duplicate);
  EXPECT_EQ(retry.first_sequence, first.first_sequence);
  EXPECT_EQ(retry.last_sequence, first.last_sequence);
  EXPECT_EQ(retry.recorded_at_micros, first.recorded_at_micros);
  EXPECT_EQ(log_->head().sequence, before.sequence);
  EXPECT_EQ(log_->head().hash, before.hash);
  // It survives a reopen.
  Reopen();
  EXPECT_TRUE(MustAppend(r).duplicate);
  EXPECT_EQ(log_->head().sequence, before.sequence);
}

TEST_F(EventLogTest, ClockSteppingBackIsClampedAndRecorded) {
  clock_.Set(2'000'000);
  MustAppend(Single(ThingDeleted{"a"}));
  clock_.Set(1'000'000);  // an hour? a second: back it goes
  AppendResult r = MustAppend(Single(ThingDeleted{"b"}));
  EXPECT_EQ(r.recorded_at_micros, 2'000'000);
  Event e = log_->Read(2).value();
  EXPECT_EQ(e.recorded_at_micros, 2'000'000);
  EXPECT_EQ(e.clamped_from_micros, 1'000'000);
  clock_.Set(3'000'000);
  MustAppend(Single(ThingDeleted{"c"}));
  EXPECT_EQ(log_->Read(3)->clamped_from_micros, 0);
  // As-of by time stays monotone: at 2s the last event is 2, at 2.5s still 2.
  EXPECT_EQ(log_->LastSequenceAtOrBefore(1'999'999).value(), 0u);
  EXPECT_EQ(log_->LastSequenceAtOrBefore(2'000'000).value(), 2u);
  EXPECT_EQ(log_->LastSequenceAtOrBefore(2'500'000).value(), 2u);
  EXPECT_EQ(log_->LastSequenceAtOrBefore(3'000'000).value(), 3u);
  EXPECT_EQ(log_->LastSequenceAtOrBefore(INT64_MAX).value(), 3u);
  // The clamp survives a reopen (the head carries the last recordedAt).
  Reopen();
  clock_.Set(500);
  EXPECT_EQ(MustAppend(Single(ThingDeleted{"d"})).recorded_at_micros, 3'000'000);
}

TEST_F(EventLogTest, ReopenKeepsHeadAndChainAndContinuesIt) {
  for (int i = 0; i < 50; ++i) MustAppend(Single(Queued("job1", "t" + std::to_string(i))));
  const Head before = log_->head();
  Reopen();
  EXPECT_EQ(log_->head().sequence, before.sequence);
  EXPECT_EQ(log_->head().hash, before.hash);
  EXPECT_EQ(log_->head().recorded_at_micros, before.recorded_at_micros);
  EXPECT_EQ(MustAppend(Single(ThingDeleted{"t1"})).first_sequence, 51u);
  EXPECT_EQ(log_->Read(51)->previous_hash, before.hash);
  StatusOr<VerifyResult> v = log_->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->detail;
  EXPECT_EQ(v->events_checked, 51u);
  // A partial range verifies too, anchored on the stored hash before it.
  VerifyOptions range;
  range.from = 20;
  range.to = 30;
  v = log_->Verify(range);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->detail;
  EXPECT_EQ(v->events_checked, 11u);
}

TEST_F(EventLogTest, DigestMatchesLaterLogAndProgressIsReported) {
  for (int i = 0; i < 10; ++i) MustAppend(Single(ThingDeleted{"t" + std::to_string(i)}));
  Digest d = log_->digest();
  EXPECT_EQ(d.sequence, 10u);
  for (int i = 0; i < 10; ++i) MustAppend(Single(ThingDeleted{"u" + std::to_string(i)}));
  uint64_t last_done = 0, last_total = 0;
  VerifyOptions options;
  options.digest = d;
  options.progress = [&](uint64_t done, uint64_t total) {
    last_done = done;
    last_total = total;
  };
  StatusOr<VerifyResult> v = log_->Verify(options);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->detail;
  EXPECT_EQ(last_done, 20u);
  EXPECT_EQ(last_total, 20u);
  // A digest that was never this log's is caught.
  Digest forged = d;
  forged.hash[0] ^= 1;
  options.digest = forged;
  v = log_->Verify(options);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->problem, VerifyProblem::kDigestMismatch);
  EXPECT_EQ(v->first_bad_sequence, 10u);
}

TEST_F(EventLogTest, CursorFollowsTheLogAndRespectsItsRange) {
  auto cursor = log_->NewCursor(2);
  EXPECT_EQ(cursor->state(), EventCursor::State::kCaughtUp);
  for (int i = 0; i < 3; ++i) MustAppend(Single(ThingDeleted{"t" + std::to_string(i)}));
  cursor->Next();  // looks again
  ASSERT_EQ(cursor->state(), EventCursor::State::kPositioned);
  EXPECT_EQ(cursor->event().sequence, 2u);
  cursor->Next();
  EXPECT_EQ(cursor->event().sequence, 3u);
  cursor->Next();
  EXPECT_EQ(cursor->state(), EventCursor::State::kCaughtUp);
  MustAppend(Single(ThingDeleted{"t3"}));
  cursor->Next();
  ASSERT_EQ(cursor->state(), EventCursor::State::kPositioned);
  EXPECT_EQ(cursor->event().sequence, 4u);
  EXPECT_TRUE(cursor->status().ok());

  auto bounded = log_->NewCursor(1, 2);
  EXPECT_EQ(bounded->event().sequence, 1u);
  bounded->Next();
  EXPECT_EQ(bounded->event().sequence, 2u);
  bounded->Next();
  EXPECT_EQ(bounded->state(), EventCursor::State::kCaughtUp);
}

TEST_F(EventLogTest, ConcurrentAppendsGiveDenseSequencesAndAValidChain) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10000;
  std::vector<std::vector<uint64_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        AppendRequest r = Single(Queued("job" + std::to_string(t), "thing" + std::to_string(i)));
        StatusOr<AppendResult> a = log_->Append(r);
        if (!a.ok()) {
          ADD_FAILURE() << a.status().ToString();
          return;
        }
        seen[static_cast<size_t>(t)].push_back(a->first_sequence);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<uint64_t> all;
  for (const auto& s : seen) {
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));  // each caller's order is kept
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1);
  EXPECT_EQ(log_->head().sequence, all.size());
  StatusOr<VerifyResult> v = log_->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->detail;
  EXPECT_EQ(v->events_checked, all.size());
  EXPECT_EQ(log_->StreamSequences(StreamKind::kJob, "job3").value().size(),
            static_cast<size_t>(kPerThread));
}

TEST_F(EventLogTest, ReadOnlyOpenRefusesAppendsAndMissingLedgerIsNotFound) {
  MustAppend(Single(ThingDeleted{"t"}));
  Reopen(OpenMode::kReadOnly);
  EXPECT_EQ(log_->head().sequence, 1u);
  StatusOr<AppendResult> r = log_->Append(Single(ThingDeleted{"u"}));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);

  EventLogOptions options;
  for (OpenMode mode : {OpenMode::kReadOnly, OpenMode::kSecondary}) {
    auto missing = EventLog::Open(options, dir_.Sub("nope"), mode);
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  }
  options.create_if_missing = false;
  EXPECT_EQ(EventLog::Open(options, dir_.Sub("nope")).status().code(), StatusCode::kNotFound);
}

TEST_F(EventLogTest, SecondWriterIsRefusedWithAClearMessage) {
  EventLogOptions options;
  auto second = EventLog::Open(options, dir_.path() + "/ledger");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("held read-write by another"), std::string::npos)
      << second.status().message();
}


// ---- transactions, families and observers ----

std::vector<std::pair<std::string, std::string>> Rows(RowIterator& it) {
  std::vector<std::pair<std::string, std::string>> out;
  for (; it.Valid(); it.Next()) out.emplace_back(it.key(), it.value());
  EXPECT_TRUE(it.status().ok());
  return out;
}

// The merged view of stored rows a/1 a/3 a/5 under pending a/2 a/3 (new), a/5
// (deleted), a/6: forwards, backwards, switching direction, seeking onto a deleted row.
// Leaves the iterator on a/6.
void ExpectMergedBothWays(RowIterator& it) {
  it.SeekToFirst();
  using Rows_t = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Rows(it), (Rows_t{{"a/1", "storeda/1"}, {"a/2", "new2"}, {"a/3", "new3"}, {"a/6", "new6"}}));
  it.SeekToLast();
  EXPECT_EQ(it.key(), "a/6");
  it.Prev();
  EXPECT_EQ(it.key(), "a/3");
  it.Prev();
  EXPECT_EQ(it.key(), "a/2");
  it.Next();
  EXPECT_EQ(it.key(), "a/3");
  it.SeekForPrev("a/5");  // deleted: lands on a/3
  EXPECT_EQ(it.key(), "a/3");
  it.Seek("a/4");  // a/5 is deleted: lands on a/6
  EXPECT_EQ(it.key(), "a/6");
}

TEST_F(EventLogTest, TransactionCommitsRowsWithEventsAndReadsItsOwnWrites) {
  FamilyId state = log_->OpenFamily("state").value();
  StatusOr<AppendResult> r = log_->Append(AppendOptions{}, [&](AppendTxn& txn) -> Status {
    EXPECT_EQ(txn.next_sequence(), 1u);
    EXPECT_EQ(txn.now_micros(), clock_.NowMicros());
    StatusOr<uint64_t> seq = txn.Add(Command(Created("job1")));
    EXPECT_EQ(seq.value(), 1u);
    StatusOr<uint64_t> derived = txn.Add(NewEvent{"system:rollout", CauseRef::Sequence(1),
                                                  Queued("job1", "t1")});
    EXPECT_EQ(derived.value(), 2u);
    JOBLEDGER_RETURN_IF_ERROR(txn.Put(state, "job/job1", "IN_PROGRESS"));
    JOBLEDGER_RETURN_IF_ERROR(txn.Put(state, "exec/job1/t1", "QUEUED"));
    EXPECT_EQ(txn.Get(state, "job/job1").value(), std::optional<std::string>("IN_PROGRESS"));
    EXPECT_EQ(txn.events().size(), 2u);
    return Status();
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->last_sequence, 2u);
  EXPECT_EQ(log_->Read(2)->cause, 1u);
  EXPECT_EQ(log_->GetRow(state, "job/job1").value(), std::optional<std::string>("IN_PROGRESS"));
  // Rows survive a reopen, under the same family name.
  Reopen();
  state = log_->OpenFamily("state").value();
  EXPECT_EQ(log_->GetRow(state, "exec/job1/t1").value(), std::optional<std::string>("QUEUED"));
  EXPECT_EQ(log_->FamilyNames(), std::vector<std::string>{"state"});
}

TEST_F(EventLogTest, RejectedTransactionWritesNeitherEventsNorRows) {
  FamilyId state = log_->OpenFamily("state").value();
  StatusOr<AppendResult> r = log_->Append(AppendOptions{}, [&](AppendTxn& txn) -> Status {
    EXPECT_TRUE(txn.Add(Command(Created("job1"))).ok());
    EXPECT_TRUE(txn.Put(state, "job/job1", "x").ok());
    return InvalidStateTransition("job1: no");
  });
  EXPECT_EQ(r.status().aws_error(), AwsError::kInvalidStateTransition);
  EXPECT_EQ(log_->head().sequence, 0u);
  EXPECT_FALSE(log_->GetRow(state, "job/job1").value().has_value());

  // Rows without an event are refused: every row must follow from an event.
  r = log_->Append(AppendOptions{}, [&](AppendTxn& txn) { return txn.Put(state, "k", "v"); });
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_FALSE(log_->GetRow(state, "k").value().has_value());

  // Nothing added: an empty result, nothing written.
  r = log_->Append(AppendOptions{}, [](AppendTxn&) { return Status(); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_sequence, 1u);
  EXPECT_EQ(r->last_sequence, 0u);

  // A cause that is not earlier is refused by Add.
  r = log_->Append(AppendOptions{}, [&](AppendTxn& txn) -> Status {
    return txn.Add(NewEvent{"a", CauseRef::Sequence(1), Created("j")}).status();
  });
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->head().sequence, 0u);
}

TEST_F(EventLogTest, TransactionScanMergesPendingWritesBothWays) {
  FamilyId f = log_->OpenFamily("rows").value();
  ASSERT_TRUE(log_->Append(AppendOptions{}, [&](AppendTxn& txn) -> Status {
                    JOBLEDGER_RETURN_IF_ERROR(txn.Add(Command(Created("j"))).status());
                    for (std::string k : {"a/1", "a/3", "a/5", "b/1"}) {
                      JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, k, "stored" + k));
                    }
                    return Status();
                  })
                  .ok());
  ASSERT_TRUE(log_->Append(AppendOptions{}, [&](AppendTxn& txn) -> Status {
                    JOBLEDGER_RETURN_IF_ERROR(txn.Add(Command(Created("k"))).status());
                    JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, "a/2", "new2"));
                    JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, "a/3", "new3"));  // overwrite
                    JOBLEDGER_RETURN_IF_ERROR(txn.Delete(f, "a/5"));       // hide
                    JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, "a/6", "new6"));
                    JOBLEDGER_RETURN_IF_ERROR(txn.Delete(f, "a/9"));       // absent anyway
                    auto it = txn.Scan(f, "a/");
                    ExpectMergedBothWays(*it);
                    it->Next();
                    EXPECT_FALSE(it->Valid());
                    it->SeekForPrev("a/0");
                    EXPECT_FALSE(it->Valid());
                    return Status();
                  })
                  .ok());
  // Outside a transaction the committed state is the merged one.
  auto it = log_->ScanRows(f, "a/");
  it->SeekToFirst();
  EXPECT_EQ(Rows(*it).size(), 4u);
  it = log_->ScanRows(f, "b/");
  it->SeekToLast();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b/1");
}

// IngestRows' buffer reads like a transaction (its own rows over the stored ones, both
// ways, deletes hiding stored rows), and its rows land all at once, as a table file.
TEST_F(EventLogTest, IngestedRowsMergeWithStoredRowsAndLandAtOnce) {
  FamilyId f = log_->OpenFamily("rows").value();
  // Into the empty family: a delete there is nothing to write.
  ASSERT_TRUE(log_->IngestRows(f, [&](IngestTxn& txn) -> Status {
                    for (std::string k : {"a/1", "a/3", "a/5", "b/1"}) {
                      JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, k, "stored" + k));
                    }
                    JOBLEDGER_RETURN_IF_ERROR(txn.Delete(f, "a/0"));
                    EXPECT_EQ(txn.Get(f, "a/3").value(), std::optional<std::string>("storeda/3"));
                    EXPECT_GT(txn.buffered_bytes(), 0u);
                    return Status();
                  })
                  .ok());
  EXPECT_EQ(log_->GetRow(f, "a/3").value(), std::optional<std::string>("storeda/3"));
  ASSERT_TRUE(log_->IngestRows(f, [&](IngestTxn& txn) -> Status {
                    JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, "a/2", "new2"));
                    JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, "a/3", "new3"));  // overwrite
                    JOBLEDGER_RETURN_IF_ERROR(txn.Delete(f, "a/5"));       // hide
                    JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, "a/6", "new6"));
                    JOBLEDGER_RETURN_IF_ERROR(txn.Delete(f, "a/9"));       // absent anyway
                    EXPECT_EQ(txn.Get(f, "a/1").value(), std::optional<std::string>("storeda/1"));
                    EXPECT_EQ(txn.Get(f, "a/5").value(), std::nullopt);
                    auto it = txn.Scan(f, "a/");
                    ExpectMergedBothWays(*it);
                    // A row added while an iterator lives is seen by it, not a crash.
                    JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, "a/7", "new7"));
                    it->Next();
                    EXPECT_TRUE(it->Valid() && it->key() == "a/7");
                    it->Next();
                    EXPECT_FALSE(it->Valid());
                    // Another family is refused.
                    EXPECT_FALSE(txn.Put(FamilyId{f.value + 100}, "x", "y").ok());
                    return Status();
                  })
                  .ok());
  auto it = log_->ScanRows(f, "a/");
  it->SeekToFirst();
  using Rows_t = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Rows(*it), (Rows_t{{"a/1", "storeda/1"}, {"a/2", "new2"}, {"a/3", "new3"},
                               {"a/6", "new6"}, {"a/7", "new7"}}));
  it.reset();
  // A failing fill writes nothing.
  Status failed = log_->IngestRows(f, [&](IngestTxn& txn) -> Status {
    JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, "a/8", "never"));
    return InternalError("fold failed");
  });
  EXPECT_EQ(failed.code(), StatusCode::kInternal);
  EXPECT_EQ(log_->GetRow(f, "a/8").value(), std::nullopt);
  // The rows were ingested as table files: no memtable holds them, and nothing is
  // left in the ingest folder.
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ledger/ingest") &&
               !std::filesystem::is_empty(dir_.path() + "/ledger/ingest"));
  // A file a crash left there is cleared by the next read-write open, and the rows
  // survive the reopen.
  std::filesystem::create_directories(dir_.path() + "/ledger/ingest");
  { std::ofstream(dir_.path() + "/ledger/ingest/rows-9.sst") << "half-written"; }
  Reopen();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ledger/ingest/rows-9.sst"));
  f = log_->OpenFamily("rows").value();
  EXPECT_EQ(log_->GetRow(f, "a/6").value(), std::optional<std::string>("new6"));
  EXPECT_EQ(log_->GetRow(f, "a/5").value(), std::nullopt);
  Reopen(OpenMode::kReadOnly);
  f = log_->OpenFamily("rows").value();
  EXPECT_EQ(log_->IngestRows(f, [](IngestTxn&) { return Status(); }).code(),
            StatusCode::kFailedPrecondition);
}

// Partitioned buffers (a rebuild folding on several threads): each reads its own rows
// over the stored ones and never another buffer's; all land together, merged in key
// order across the buffers (in both table files of a large ingestion); a key both
// buffers hold with the same value lands once, and with different values the whole
// ingestion is refused, naming the key.
TEST_F(EventLogTest, PartitionedBuffersReadTheirOwnRowsAndLandTogetherMerged) {
  FamilyId f = log_->OpenFamily("rows").value();
  ASSERT_TRUE(log_->IngestRows(f, [&](IngestTxn& txn) { return txn.Put(f, "s/1", "stored"); }).ok());
  constexpr int kKeys = 100000;  // past the size written as two files
  auto key = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "k/%06d", i);
    return std::string(buf);
  };
  std::map<std::string, std::string> expected{{"s/1", "stored"}};
  Status s = log_->IngestPartitionedRows(f, 2, [&](const std::vector<IngestTxn*>& txns) -> Status {
    EXPECT_EQ(txns.size(), 2u);
    std::vector<std::thread> threads;
    std::vector<Status> status(2);
    for (size_t part = 0; part < 2; ++part) {
      threads.emplace_back([&, part] {
        IngestTxn& txn = *txns[part];
        for (int i = static_cast<int>(part); i < kKeys; i += 2) {
          Status put = txn.Put(f, key(i), "p" + std::to_string(part));
          if (!put.ok()) status[part] = put;
        }
        // A row both write alike, and the stored row seen by each.
        Status put = txn.Put(f, "shared", "same");
        if (!put.ok()) status[part] = put;
        EXPECT_EQ(txn.Get(f, "s/1").value(), std::optional<std::string>("stored"));
        // The other buffer's rows are not this one's to read.
        EXPECT_EQ(txn.Get(f, key(static_cast<int>(1 - part))).value(), std::nullopt);
        auto it = txn.Scan(f, "k/");
        it->SeekToFirst();
        ASSERT_TRUE(it->Valid());
        EXPECT_EQ(it->key(), key(static_cast<int>(part)));
        it->Next();
        ASSERT_TRUE(it->Valid());
        EXPECT_EQ(it->key(), key(static_cast<int>(part) + 2));
      });
    }
    for (std::thread& t : threads) t.join();
    for (const Status& one : status) JOBLEDGER_RETURN_IF_ERROR(one);
    return Status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (int i = 0; i < kKeys; ++i) expected[key(i)] = "p" + std::to_string(i % 2);
  expected["shared"] = "same";
  auto it = log_->ScanRows(f, "");
  it->SeekToFirst();
  auto want = expected.begin();
  for (; it->Valid() && want != expected.end(); it->Next(), ++want) {
    ASSERT_EQ(it->key(), want->first);
    ASSERT_EQ(it->value(), want->second);
  }
  EXPECT_FALSE(it->Valid());
  EXPECT_EQ(want, expected.end());
  it.reset();

  // One key, two values: nothing lands.
  Status refused = log_->IngestPartitionedRows(f, 2, [&](const std::vector<IngestTxn*>& txns) -> Status {
    JOBLEDGER_RETURN_IF_ERROR(txns[0]->Put(f, "x/new", "fine"));
    JOBLEDGER_RETURN_IF_ERROR(txns[0]->Put(f, "x/both", "one"));
    return txns[1]->Put(f, "x/both", "two");
  });
  EXPECT_EQ(refused.code(), StatusCode::kInternal);
  EXPECT_NE(refused.message().find("x/both"), std::string::npos) << refused.ToString();
  EXPECT_NE(refused.message().find("different values"), std::string::npos) << refused.ToString();
  // Rows put aside as unread: not read within the write, written with the rest (the
  // last of a key put twice), merged with the other buffer's rows.
  ASSERT_TRUE(log_->IngestPartitionedRows(f, 2, [&](const std::vector<IngestTxn*>& txns) -> Status {
                    JOBLEDGER_RETURN_IF_ERROR(txns[0]->PutUnread(f, "u/2", "first"));
                    JOBLEDGER_RETURN_IF_ERROR(txns[0]->PutUnread(f, "u/1", "one"));
                    JOBLEDGER_RETURN_IF_ERROR(txns[0]->PutUnread(f, "u/2", "second"));
                    JOBLEDGER_RETURN_IF_ERROR(txns[1]->PutUnread(f, "u/0", "zero"));
                    JOBLEDGER_RETURN_IF_ERROR(txns[1]->Put(f, "u/3", "three"));
                    EXPECT_EQ(txns[0]->Get(f, "u/1").value(), std::nullopt);
                    return Status();
                  })
                  .ok());
  {
    auto u = log_->ScanRows(f, "u/");
    u->SeekToFirst();
    using Rows_t = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(Rows(*u), (Rows_t{{"u/0", "zero"}, {"u/1", "one"}, {"u/2", "second"}, {"u/3", "three"}}));
  }
  // An unread row and a row of one key with different values: refused.
  refused = log_->IngestPartitionedRows(f, 1, [&](const std::vector<IngestTxn*>& txns) -> Status {
    JOBLEDGER_RETURN_IF_ERROR(txns[0]->PutUnread(f, "u/9", "a"));
    return txns[0]->Put(f, "u/9", "b");
  });
  EXPECT_EQ(refused.code(), StatusCode::kInternal);
  EXPECT_EQ(log_->GetRow(f, "u/9").value(), std::nullopt);
  EXPECT_EQ(log_->GetRow(f, "x/new").value(), std::nullopt);
  // A put in one buffer and a delete of the same key in the other: refused too.
  refused = log_->IngestPartitionedRows(f, 2, [&](const std::vector<IngestTxn*>& txns) -> Status {
    JOBLEDGER_RETURN_IF_ERROR(txns[0]->Put(f, "s/1", "changed"));
    return txns[1]->Delete(f, "s/1");
  });
  EXPECT_EQ(refused.code(), StatusCode::kInternal);
  EXPECT_EQ(log_->GetRow(f, "s/1").value(), std::optional<std::string>("stored"));
  EXPECT_EQ(log_->IngestPartitionedRows(f, 0, [](const std::vector<IngestTxn*>&) { return Status(); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() + "/ledger/ingest"));
}

// More rows than the 65,536 at which the buffer is written as two table files of
// adjacent key ranges on two threads: every row lands once, in order, and deletes hide
// stored rows in both halves.
TEST_F(EventLogTest, ALargeIngestIsWrittenInTwoFilesThatLandTogether) {
  FamilyId f = log_->OpenFamily("rows").value();
  constexpr int kKeys = 150000;
  auto key = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "k/%06d", i);
    return std::string(buf);
  };
  std::map<std::string, std::string> expected;
  ASSERT_TRUE(log_->IngestRows(f, [&](IngestTxn& txn) -> Status {
                    for (int i = 0; i < kKeys; i += 2) {
                      JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, key(i), "stored" + std::to_string(i)));
                      expected[key(i)] = "stored" + std::to_string(i);
                    }
                    return Status();
                  })
                  .ok());
  ASSERT_TRUE(log_->IngestRows(f, [&](IngestTxn& txn) -> Status {
                    for (int i = 0; i < kKeys; ++i) {
                      if (i % 5 == 0) {
                        JOBLEDGER_RETURN_IF_ERROR(txn.Delete(f, key(i)));
                        expected.erase(key(i));
                      } else if (i % 2 == 1 || i % 3 == 0) {
                        JOBLEDGER_RETURN_IF_ERROR(txn.Put(f, key(i), "new" + std::to_string(i)));
                        expected[key(i)] = "new" + std::to_string(i);
                      }
                    }
                    return Status();
                  })
                  .ok());
  auto check = [&] {
    auto it = log_->ScanRows(f, "k/");
    it->SeekToFirst();
    auto want = expected.begin();
    size_t seen = 0;
    for (; it->Valid() && want != expected.end(); it->Next(), ++want, ++seen) {
      ASSERT_EQ(it->key(), want->first);
      ASSERT_EQ(it->value(), want->second);
    }
    EXPECT_FALSE(it->Valid());
    EXPECT_EQ(seen, expected.size());
  };
  check();
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() + "/ledger/ingest"));
  Reopen();
  f = log_->OpenFamily("rows").value();
  check();
}

TEST_F(EventLogTest, FamiliesAreCreatedDroppedAndNotCreatedByReaders) {
  EXPECT_EQ(log_->OpenFamily("events").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->OpenFamily("Bad Name").status().code(), StatusCode::kInvalidArgument);
  FamilyId a = log_->OpenFamily("proj.jobs-v1").value();
  FamilyId again = log_->OpenFamily("proj.jobs-v1").value();
  EXPECT_EQ(a, again);
  ASSERT_TRUE(log_->DropFamily(a).ok());
  EXPECT_EQ(log_->GetRow(a, "k").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(log_->FamilyNames().empty());
  MustAppend(Single(ThingDeleted{"t"}));
  Reopen(OpenMode::kReadOnly);
  EXPECT_EQ(log_->OpenFamily("proj.jobs-v2").status().code(), StatusCode::kNotFound);
}

class CountingObserver final : public AppendObserver {
 public:
  explicit CountingObserver(FamilyId family) : family_(family) {}
  Status OnAppend(AppendTxn& txn) override {
    if (fail_) return InternalError("observer failed");
    for (const Event& e : txn.events()) {
      JOBLEDGER_RETURN_IF_ERROR(txn.Put(family_, "seen/" + std::to_string(e.sequence),
                                        std::string(EventKindName(KindOf(e.body)))));
    }
    return Status();
  }
  bool fail_ = false;

 private:
  FamilyId family_;
};

TEST_F(EventLogTest, ObserversFoldEveryAppendInItsOwnBatch) {
  FamilyId f = log_->OpenFamily("observed").value();
  CountingObserver observer(f);
  log_->AddObserver(&observer);
  AppendRequest r;
  r.events.push_back(Command(Created("j")));
  r.events.push_back(Command(Queued("j", "t")));
  MustAppend(r);
  EXPECT_EQ(log_->GetRow(f, "seen/2").value(), std::optional<std::string>("ExecutionQueued"));
  observer.fail_ = true;
  EXPECT_EQ(log_->Append(Single(ThingDeleted{"t"})).status().code(), StatusCode::kInternal);
  EXPECT_EQ(log_->head().sequence, 2u);
  log_->RemoveObserver(&observer);
  MustAppend(Single(ThingDeleted{"t"}));
  EXPECT_FALSE(log_->GetRow(f, "seen/3").value().has_value());
}

// Observers come and go while others append (a projection manager is opened or
// closed beside live writers): once RemoveObserver returns, the observer is never
// called again and may be destroyed. The ThreadSanitizer run (label concurrency) checks
// the registry itself; before it was guarded, TSan found the writer reading it while
// a projection manager removed itself.
TEST_F(EventLogTest, ConcurrentObserverChangesNeverCallARemovedObserver) {
  class FlagObserver final : public AppendObserver {
   public:
    Status OnAppend(AppendTxn&) override {
      calls.fetch_add(1, std::memory_order_relaxed);
      if (removed.load(std::memory_order_acquire)) late.fetch_add(1, std::memory_order_relaxed);
      return Status();
    }
    std::atomic<uint64_t> calls{0};
    std::atomic<bool> removed{false};
    std::atomic<uint64_t> late{0};
  };
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(std::memory_order_acquire); ++i) {
        StatusOr<AppendResult> a =
            log_->Append(Single(Queued("job" + std::to_string(t), "thing" + std::to_string(i))));
        if (!a.ok()) {
          ADD_FAILURE() << a.status().ToString();
          return;
        }
      }
    });
  }
  uint64_t late = 0;
  uint64_t called = 0;
  for (int round = 0; round < 200; ++round) {
    auto observer = std::make_unique<FlagObserver>();
    log_->AddObserver(observer.get());
    // Until it has seen an append, so removals race real groups (no sleeps).
    while (observer->calls.load(std::memory_order_relaxed) == 0 && !HasFailure()) {
      std::this_thread::yield();
    }
    log_->RemoveObserver(observer.get());
    observer->removed.store(true, std::memory_order_release);
    const uint64_t head = log_->head().sequence;
    while (log_->head().sequence < head + 8 && !HasFailure()) std::this_thread::yield();  // later groups
    late += observer->late.load();
    if (observer->calls.load() > 0) ++called;
  }  // each observer is destroyed here: a late call would be a use after free (ASan)
  stop.store(true, std::memory_order_release);
  for (std::thread& w : writers) w.join();
  EXPECT_EQ(late, 0u) << "a removed observer was called";
  EXPECT_EQ(called, 200u);
}

// The rebuild buffers' memory: blocks of 2 MiB and more are mappings of their own,
// their bytes starting just past a 2 MiB boundary, whole and writable, and unmapped
// when freed; smaller ones come from operator new. As the buffers use it, under a
// monotonic arena that grows from 2 MiB.
TEST(HugePageResourceTest, LargeBlocksAreMappedAlignedWritableAndReturned) {
  std::pmr::memory_resource* r = internal::HugePageResource();
  constexpr size_t kHuge = internal::HugePageMemoryResource::kHugePageBytes;
  for (size_t bytes : {kHuge, kHuge + 1, 3 * kHuge + 12345}) {
    SCOPED_TRACE(bytes);
    char* p = static_cast<char*>(r->allocate(bytes, alignof(std::max_align_t)));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(std::max_align_t), 0u);
    EXPECT_LT(reinterpret_cast<uintptr_t>(p) % kHuge, size_t{4096}) << "not just past a huge page";
    std::memset(p, 0x5a, bytes);
    EXPECT_EQ(p[bytes - 1], 0x5a);
    r->deallocate(p, bytes, alignof(std::max_align_t));
  }
  void* small = r->allocate(100, 8);
  ASSERT_NE(small, nullptr);
  r->deallocate(small, 100, 8);

  std::pmr::monotonic_buffer_resource arena(kHuge, r);
  std::pmr::vector<std::pmr::string> rows(&arena);
  for (int i = 0; i < 200000; ++i) rows.emplace_back("row-" + std::to_string(i) + std::string(40, 'x'));
  EXPECT_EQ(rows[123456].substr(0, 11), "row-123456x");
}

}  // namespace
}  // namespace jobledger
