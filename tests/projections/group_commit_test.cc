// Group commit: concurrent commands merged into one WriteBatch by the log's writer.
// Each caller learns its own outcome; a rejection never fails another command; what
// was accepted is in the log exactly once, and nothing else is.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/projections/projections_test_util.h"

namespace jobledger::testing {
namespace {

// Holds the writer inside an append that adds nothing, so commands queue behind it
// and the next group takes them all at once.
class WriterGate {
 public:
  explicit WriterGate(EventLog& log) {
    log.AppendAsync(
        AppendOptions{},
        [this](AppendTxn&) {
          entered_.set_value();
          release_.get_future().wait();
          return Status();
        },
        nullptr);
    entered_.get_future().wait();
  }
  void Open() { release_.set_value(); }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
};

// The request ids found in the log, each with (first, last, count) of its events.
struct RequestSpan {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t count = 0;
};
std::map<std::string, RequestSpan> RequestsInLog(const EventLog& log) {
  std::map<std::string, RequestSpan> out;
  auto cursor = log.NewCursor(1, log.head().sequence);
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
    const Event& e = cursor->event();
    if (e.request_id.empty()) continue;
    RequestSpan& span = out[e.request_id];
    if (span.count == 0) span.first = e.sequence;
    span.last = e.sequence;
    ++span.count;
  }
  EXPECT_TRUE(cursor->status().ok()) << cursor->status().ToString();
  return out;
}

class GroupCommitTest : public ProjectionsFixture {
 protected:
  // Every accepted request is in the log once, as one contiguous run; no rejected one.
  void ExpectLogHoldsExactly(const std::set<std::string>& accepted,
                             const std::set<std::string>& rejected) {
    std::map<std::string, RequestSpan> found = RequestsInLog(ledger_->log());
    for (const std::string& id : accepted) {
      auto it = found.find(id);
      ASSERT_NE(it, found.end()) << "accepted request " << id << " is not in the log";
      EXPECT_EQ(it->second.count, it->second.last - it->second.first + 1)
          << "request " << id << " is split or repeated";
    }
    for (const std::string& id : rejected) {
      EXPECT_EQ(found.count(id), 0u) << "rejected request " << id << " is in the log";
    }
    for (const auto& [id, span] : found) {
      EXPECT_TRUE(accepted.count(id) == 1) << "request " << id << " was never accepted";
    }
  }

  void ExpectIntact() {
    auto verified = ledger_->log().Verify();
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_TRUE(verified->ok()) << verified->detail;
    EXPECT_EQ(verified->events_checked, Head());  // dense from 1 to the head
    auto state = ledger_->CheckState();
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_TRUE(state->ok()) << state->differences.front();
    ExpectNoDrift();
  }
};

TEST_F(GroupCommitTest, OneGroupDecidesInOrderAndRejectsAlone) {
  EventLog& log = ledger_->log();
  const EventLog::WriterStats before = log.writer_stats();
  WriterGate gate(log);

  // Queued behind the gate, in this order; each sees what the ones before it decided.
  std::mutex mu;
  std::map<std::string, Status> outcome;
  auto record_ref = [&](const std::string& id) {
    return [&, id](StatusOr<JobReference> r) {
      std::lock_guard<std::mutex> lock(mu);
      outcome[id] = r.status();
    };
  };
  auto record_update = [&](const std::string& id) {
    return [&, id](StatusOr<UpdateJobExecutionResponse> r) {
      std::lock_guard<std::mutex> lock(mu);
      outcome[id] = r.status();
    };
  };
  auto update = [](const std::string& thing, ExecutionStatus s, std::optional<int64_t> expected) {
    UpdateJobExecutionRequest r = Update("g1", thing, s);
    r.expected_version = expected;
    return r;
  };
  const auto things = std::vector<std::string>{ThingArnOf("a"), ThingArnOf("b"), ThingArnOf("c")};
  ASSERT_TRUE(ledger_->SubmitCreateJob(As("user:ops", "create"), NewJob("g1", things),
                                       record_ref("create")).ok());
  ASSERT_TRUE(ledger_->SubmitUpdateJobExecution(As("thing:a", "a-start"),
                                                update("a", ExecutionStatus::kInProgress, 1),
                                                record_update("a-start")).ok());
  ASSERT_TRUE(ledger_->SubmitUpdateJobExecution(As("thing:a", "a-stale"),
                                                update("a", ExecutionStatus::kInProgress, 1),
                                                record_update("a-stale")).ok());
  ASSERT_TRUE(ledger_->SubmitCreateJob(As("user:ops", "create-again"), NewJob("g1", things),
                                       record_ref("create-again")).ok());
  ASSERT_TRUE(ledger_->SubmitUpdateJobExecution(As("thing:b", "b-start"),
                                                update("b", ExecutionStatus::kInProgress, {}),
                                                record_update("b-start")).ok());
  CancelJobRequest cancel;
  cancel.job_id = "g1";
  ASSERT_TRUE(ledger_->SubmitCancelJob(As("user:ops", "cancel"), cancel, record_ref("cancel")).ok());
  ASSERT_TRUE(ledger_->SubmitUpdateJobExecution(As("thing:c", "c-start"),
                                                update("c", ExecutionStatus::kInProgress, {}),
                                                record_update("c-start")).ok());
  ASSERT_TRUE(ledger_->SubmitUpdateJobExecution(As("thing:b", "b-done"),
                                                update("b", ExecutionStatus::kSucceeded, 2),
                                                record_update("b-done")).ok());
  // A retry of a request accepted earlier in the same group.
  ASSERT_TRUE(ledger_->SubmitUpdateJobExecution(As("thing:a", "a-start"),
                                                update("a", ExecutionStatus::kInProgress, 1),
                                                record_update("a-start-retry")).ok());
  EXPECT_EQ(log.queued_appends(), 9u);
  gate.Open();
  // The blocking API waits behind the group: when it returns, every outcome is in.
  ASSERT_EQ(ledger_->CreateJob(As("user:ops", "after"), NewJob("after", {ThingArnOf("a")})).status(),
            Status());

  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(outcome.size(), 9u);
  EXPECT_TRUE(outcome["create"].ok()) << outcome["create"].ToString();
  EXPECT_TRUE(outcome["a-start"].ok()) << outcome["a-start"].ToString();
  EXPECT_EQ(outcome["a-stale"].aws_error(), AwsError::kVersionConflict) << outcome["a-stale"].ToString();
  EXPECT_EQ(outcome["create-again"].aws_error(), AwsError::kResourceAlreadyExists);
  EXPECT_TRUE(outcome["b-start"].ok()) << outcome["b-start"].ToString();
  EXPECT_TRUE(outcome["cancel"].ok()) << outcome["cancel"].ToString();
  // c was QUEUED, so the cancel canceled it before c's update was decided.
  EXPECT_EQ(outcome["c-start"].aws_error(), AwsError::kInvalidStateTransition)
      << outcome["c-start"].ToString();
  EXPECT_TRUE(outcome["b-done"].ok()) << outcome["b-done"].ToString();
  EXPECT_TRUE(outcome["a-start-retry"].ok()) << outcome["a-start-retry"].ToString();

  const EventLog::WriterStats after = log.writer_stats();
  EXPECT_GE(after.largest_group, 9u);
  // The gate's group wrote nothing; the nine commands were one batch ("after" may
  // have joined it, or come in a batch of its own).
  EXPECT_GE(after.written_groups - before.written_groups, 1u);
  EXPECT_LE(after.written_groups - before.written_groups, 2u);

  ExpectLogHoldsExactly({"create", "a-start", "b-start", "cancel", "b-done", "after"},
                        {"a-stale", "create-again", "c-start"});
  EXPECT_EQ(Exec("g1", "a").version_number, 2);
  EXPECT_EQ(Exec("g1", "b").status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(Exec("g1", "c").status, ExecutionStatus::kCanceled);
  ExpectIntact();
}

// An append that goes alone (a chunk of a fan-out, a rollout window) is decided and
// written in a group of its own: the appends queued before it are written before it is
// decided, those after it only once it is written. Each append here records the head
// it sees when decided, which moves only when a group is written.
TEST_F(GroupCommitTest, AnAppendThatGoesAloneIsAGroupOfItsOwn) {
  EventLog& log = ledger_->log();
  const uint64_t start = Head();
  WriterGate gate(log);
  std::mutex mu;
  std::map<std::string, uint64_t> head_seen;
  std::atomic<int> done{0};
  auto submit = [&](const std::string& name, bool alone) {
    AppendOptions options;
    options.alone = alone;
    log.AppendAsync(
        options,
        [&, name](AppendTxn& txn) -> Status {
          {
            std::lock_guard<std::mutex> lock(mu);
            head_seen[name] = log.head().sequence;
          }
          return txn.Add(NewEvent{"test:" + name, CauseRef::None(), ThingAddedToGroup{name, "g"}}).status();
        },
        [&](StatusOr<AppendResult> r) {
          EXPECT_TRUE(r.ok()) << r.status().ToString();
          done.fetch_add(1);
        });
  };
  submit("a", false);
  submit("b", false);
  submit("chunk", true);
  submit("c", false);
  submit("d", false);
  gate.Open();
  while (done.load() < 5) std::this_thread::yield();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(head_seen["a"], start);
  EXPECT_EQ(head_seen["b"], start) << "a and b were not one group";
  EXPECT_EQ(head_seen["chunk"], start + 2) << "the lone append was decided before a and b were written";
  EXPECT_EQ(head_seen["c"], start + 3) << "c was decided before the lone append was written";
  EXPECT_EQ(head_seen["d"], start + 3) << "c and d were not one group";
  auto verified = log.Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->ok()) << verified->detail;
}

// 64 threads, each with its own device and a share of conflicts: stale versions,
// invalid transitions, duplicate creates, and races on shared executions.
TEST_F(GroupCommitTest, SixtyFourThreadsAcceptedOnceRejectedNever) {
  constexpr int kThreads = 64;
  constexpr int kJobs = 4;
  std::vector<std::string> targets;
  for (int t = 0; t < kThreads; ++t) targets.push_back(ThingArnOf("dev-" + std::to_string(t)));
  targets.push_back(ThingArnOf("shared"));
  for (int j = 0; j < kJobs; ++j) {
    auto job = NewJob("job-" + std::to_string(j), {});
    // At most 100 targets per job: the devices, then "shared".
    job.targets = targets;
    MustCreate(job);
  }
  const uint64_t head_before = Head();

  std::mutex mu;
  std::set<std::string> accepted;
  std::set<std::string> rejected;
  std::atomic<int> shared_wins{0};
  auto note = [&](const std::string& id, const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    (s.ok() ? accepted : rejected).insert(id);
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string thing = "dev-" + std::to_string(t);
      const std::string me = "t" + std::to_string(t) + "-";
      int n = 0;
      auto id = [&] { return me + std::to_string(n++); };
      for (int j = 0; j < kJobs; ++j) {
        const std::string job = "job-" + std::to_string(j);
        // Start with the right version: accepted.
        auto start = Update(job, thing, ExecutionStatus::kInProgress);
        start.expected_version = 1;
        std::string rid = id();
        note(rid, ledger_->UpdateJobExecution(As("thing:" + thing, rid), start).status());
        // The same again: the version moved on, rejected.
        rid = id();
        Status stale = ledger_->UpdateJobExecution(As("thing:" + thing, rid), start).status();
        EXPECT_EQ(stale.aws_error(), AwsError::kVersionConflict) << stale.ToString();
        note(rid, stale);
        // Finish: accepted.
        rid = id();
        note(rid, ledger_->UpdateJobExecution(As("thing:" + thing, rid),
                                              Update(job, thing, ExecutionStatus::kSucceeded))
                      .status());
        // Back to IN_PROGRESS from a terminal state: rejected.
        rid = id();
        Status invalid = ledger_->UpdateJobExecution(
            As("thing:" + thing, rid), Update(job, thing, ExecutionStatus::kInProgress)).status();
        EXPECT_EQ(invalid.aws_error(), AwsError::kInvalidStateTransition) << invalid.ToString();
        note(rid, invalid);
        // Everyone races for the shared device's execution: one start wins per job.
        auto race = Update(job, "shared", ExecutionStatus::kInProgress);
        race.expected_version = 1;
        rid = id();
        Status raced = ledger_->UpdateJobExecution(As("thing:shared", rid), race).status();
        if (raced.ok()) ++shared_wins;
        note(rid, raced);
      }
      // A job of its own, and a second create of it: accepted, then rejected.
      auto own = NewJob("own-" + std::to_string(t), {ThingArnOf(thing)});
      std::string rid = id();
      note(rid, ledger_->CreateJob(As("user:" + thing, rid), own).status());
      rid = id();
      Status again = ledger_->CreateJob(As("user:" + thing, rid), own).status();
      EXPECT_EQ(again.aws_error(), AwsError::kResourceAlreadyExists) << again.ToString();
      note(rid, again);
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(shared_wins.load(), kJobs);
  EXPECT_EQ(accepted.size(), static_cast<size_t>(kThreads * (2 * kJobs + 1) + kJobs));
  EXPECT_GT(Head(), head_before);
  ExpectLogHoldsExactly(accepted, rejected);
  for (int j = 0; j < kJobs; ++j) {
    const JobStateView job = Job("job-" + std::to_string(j));
    EXPECT_EQ(job.count(ExecutionStatus::kSucceeded), kThreads);
    EXPECT_EQ(job.count(ExecutionStatus::kInProgress), 1);
  }
  ExpectIntact();
  // Reopened, the log and the projections still agree.
  ReopenAll();
  ExpectIntact();
}

// Durable appends from many callers share WAL syncs: fewer synced groups than commands.
TEST_F(GroupCommitTest, DurableCallersShareSyncs) {
  reads_.reset();
  projections_.reset();
  ledger_.reset();
  LedgerOptions options;
  options.clock = &clock_;
  options.sync = true;
  auto opened = Ledger::Open(options, dir_.path() + "/ledger");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ledger_ = std::move(opened).value();
  OpenProjections();

  EventLog& log = ledger_->log();
  WriterGate gate(log);
  std::atomic<int> done{0};
  constexpr int kCommands = 32;
  for (int i = 0; i < kCommands; ++i) {
    ASSERT_TRUE(ledger_->SubmitCreateJob(As("user:ops"), NewJob("d" + std::to_string(i), {ThingArnOf("x")}),
                                         [&](StatusOr<JobReference> r) {
                                           EXPECT_TRUE(r.ok()) << r.status().ToString();
                                           ++done;
                                         }).ok());
  }
  const EventLog::WriterStats before = log.writer_stats();
  gate.Open();
  ASSERT_TRUE(ledger_->CreateJob(As("user:ops"), NewJob("last", {ThingArnOf("x")})).ok());
  EXPECT_EQ(done.load(), kCommands);
  const EventLog::WriterStats after = log.writer_stats();
  // 33 durable commands, written in at most 2 synced groups (the 32, then "last").
  EXPECT_LE(after.synced_groups - before.synced_groups, 2u);
  EXPECT_EQ(after.synced_groups - before.synced_groups, after.written_groups - before.written_groups);
  ExpectIntact();
}

// A blocking append on the writer thread would wait for itself: refused.
TEST_F(GroupCommitTest, BlockingAppendOnTheWriterIsRefused) {
  std::promise<Status> inner;
  ledger_->log().AppendAsync(
      AppendOptions{},
      [&](AppendTxn&) {
        inner.set_value(ledger_->CreateJob(As("user:ops"), NewJob("x", {ThingArnOf("a")})).status());
        return Status();
      },
      nullptr);
  Status s = inner.get_future().get();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("writer thread"), std::string::npos) << s.message();
  EXPECT_EQ(Head(), 0u);
}

}  // namespace
}  // namespace jobledger::testing
