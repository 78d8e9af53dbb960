// A job's fan-out over more things than LedgerLimits::fan_out_chunk is queued in
// chunks, each an append of its own ending with a FanOutStep; targets associated with a
// CONTINUOUS job later are queued the same way, and a cancel over more executions than
// a chunk cancels them in chunks. These tests use chunks
// of 3 over groups of 10 and hold the writer with a decide step that waits, so the
// order of appends is fixed without sleeping.

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "jobledger/ledger.h"
#include "ledger/internal/state.h"
#include "ledger/wire.h"
#include "tests/ledger/ledger_test_util.h"

namespace jobledger::testing {
namespace {

constexpr size_t kChunk = 3;
constexpr int kThings = 10;

class FanOutTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  // `max_group_size` 1: every append is a group of its own, so a Gate() is never
  // decided in the group of the appends before it (whose answers come after the
  // group's write).
  void Open(size_t max_group_size = 256, size_t chunk = kChunk, const std::string& folder = "ledger") {
    ledger_.reset();
    LedgerOptions options;
    options.clock = &clock_;
    options.sync = false;
    options.max_group_size = max_group_size;
    options.limits.fan_out_chunk = chunk;
    auto opened = Ledger::Open(options, dir_.path() + "/" + folder);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ledger_ = std::move(opened).value();
  }

  void Fleet(const std::string& group, int things) {
    for (int i = 0; i < things; ++i) {
      Status s = ledger_->AddThingToThingGroup(As("user:ops"), {group, Thing(i)});
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  static std::string Thing(int i) { return "dev-" + std::to_string(i); }

  // Holds the writer: appends submitted until Release() are decided after it, in order.
  void Hold() {
    held_ = true;
    ledger_->log().AppendAsync(
        AppendOptions{},
        [this](AppendTxn&) {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return !held_; });
          return Status();
        },
        nullptr);
  }
  // Blocks the writer at this point of its queue (behind what is submitted so far)
  // until the returned promise is set. Needs Open(1): in a group with earlier appends
  // it would hold back their answers too.
  std::shared_ptr<std::promise<void>> Gate() {
    auto open = std::make_shared<std::promise<void>>();
    std::shared_future<void> opened = open->get_future().share();
    ledger_->log().AppendAsync(
        AppendOptions{},
        [opened](AppendTxn&) {
          opened.wait();
          return Status();
        },
        nullptr);
    return open;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }

  // Submits a CreateJob without waiting; the future gets its answer.
  std::future<StatusOr<JobReference>> SubmitCreate(const CreateJobRequest& r, const std::string& request_id = "") {
    auto promise = std::make_shared<std::promise<StatusOr<JobReference>>>();
    auto future = promise->get_future();
    Status s = ledger_->SubmitCreateJob(As("user:ops", request_id), r,
                                        [promise](StatusOr<JobReference> ref) { promise->set_value(std::move(ref)); });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return future;
  }

  // Submits a device's update of job "big" without waiting.
  std::future<StatusOr<UpdateJobExecutionResponse>> SubmitUpdate(const std::string& thing, ExecutionStatus status) {
    auto promise = std::make_shared<std::promise<StatusOr<UpdateJobExecutionResponse>>>();
    auto future = promise->get_future();
    Status s = ledger_->SubmitUpdateJobExecution(
        As("thing:" + thing), Update("big", thing, status),
        [promise](StatusOr<UpdateJobExecutionResponse> u) { promise->set_value(std::move(u)); });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return future;
  }

  // Submits job "big"'s CancelJob without waiting.
  std::future<StatusOr<JobReference>> SubmitCancel(bool force = false) {
    auto promise = std::make_shared<std::promise<StatusOr<JobReference>>>();
    auto future = promise->get_future();
    CancelJobRequest cancel;
    cancel.job_id = "big";
    cancel.force = force;
    Status s = ledger_->SubmitCancelJob(As("user:ops"), cancel,
                                        [promise](StatusOr<JobReference> r) { promise->set_value(std::move(r)); });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return future;
  }

  // Job "big" over a group of kThings, its fan-out done: kThings QUEUED executions.
  void QueuedJob() {
    ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
    ASSERT_TRUE(ledger_->CreateJob(As("user:ops"), NewJob("big", {GroupArnOf("fleet")})).ok());
    ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
    ASSERT_EQ(Job().count(ExecutionStatus::kQueued), kThings);
  }

  // Lets the chunks run: each blocking command waits behind the chunk queued before
  // it, so at most one chunk per call; stops once the fan-out (and a cancel) is done.
  void DrainFanOut(const std::string& job) {
    for (int i = 0; i < kThings + 2; ++i) {
      auto j = ledger_->GetJobState(job);
      ASSERT_TRUE(j.ok()) << j.status().ToString();
      if (!j->has_value() || (!(*j)->fan_out_pending && !(*j)->cancel_pending)) return;
      Status s = ledger_->AddThingToThingGroup(As("user:ops"), {"idle", "idler"});
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    FAIL() << "the fan-out of " << job << " did not finish";
  }

  JobStateView Job(const std::string& job = "big") {
    auto j = ledger_->GetJobState(job);
    EXPECT_TRUE(j.ok() && j->has_value()) << "no job " << job;
    return j.ok() && j->has_value() ? **j : JobStateView{};
  }

  void MustSucceed(const std::string& thing) {
    auto u = ledger_->UpdateJobExecution(As("thing:" + thing), Update("big", thing, ExecutionStatus::kSucceeded));
    ASSERT_TRUE(u.ok()) << thing << ": " << u.status().ToString();
  }

  std::vector<Event> Events() {
    std::vector<Event> out;
    for (auto c = ledger_->log().NewCursor(); c->state() == EventCursor::State::kPositioned; c->Next()) {
      out.push_back(c->event());
    }
    return out;
  }

  int Count(EventKind kind, const std::string& job) {
    int n = 0;
    for (const Event& e : Events()) n += KindOf(e.body) == kind && JobIdOf(e.body) == job;
    return n;
  }

  // The write-side state's rows, read directly.
  internal::StateStore StateRows() {
    return internal::StateStore(&ledger_->log(), ledger_->log().OpenFamily(internal::kStateFamily).value());
  }

  void ExpectStateIsTheFoldOfTheLog() {
    auto check = ledger_->CheckState();
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_TRUE(check->differences.empty()) << check->differences.size() << " differ, first: "
                                            << (check->differences.empty() ? "" : check->differences.front());
  }

  // Job "roll" over groups a (10 things) and b (dev-0..dev-4 and only-b) and two things,
  // rolled out `per_minute` things a minute.
  CreateJobRequest RolloutJob(int per_minute) {
    CreateJobRequest r = NewJob("roll", {GroupArnOf("a"), ThingArnOf("dev-1"), GroupArnOf("b"), ThingArnOf("solo")});
    RolloutConfig rollout;
    rollout.maximum_per_minute = per_minute;
    r.job_executions_rollout_config = rollout;
    return r;
  }
  void RolloutFleet() {
    ASSERT_NO_FATAL_FAILURE(Fleet("a", kThings));
    ASSERT_NO_FATAL_FAILURE(Fleet("b", kThings / 2));
    ASSERT_TRUE(ledger_->AddThingToThingGroup(As("user:ops"), {"b", "only-b"}).ok());
  }
  // The things each window of job "roll" queued, window by window, after the clock
  // has moved `minutes` minutes a minute at a time.
  std::vector<std::vector<std::string>> Windows(int minutes) {
    for (int i = 0; i < minutes; ++i) {
      clock_.Advance(60'000'000);
      auto advanced = ledger_->AdvanceTo(clock_.NowMicros());
      EXPECT_TRUE(advanced.ok()) << advanced.status().ToString();
    }
    std::vector<std::vector<std::string>> out;
    for (const Event& e : Events()) {
      if (JobIdOf(e.body) != "roll") continue;
      if (const auto* s = std::get_if<RolloutStep>(&e.body)) {
        EXPECT_EQ(s->window, out.size());
        out.emplace_back();
      } else if (const auto* q = std::get_if<ExecutionQueued>(&e.body)) {
        EXPECT_FALSE(out.empty()) << q->thing_name << " queued outside a window";
        if (!out.empty()) out.back().push_back(q->thing_name);
      }
    }
    return out;
  }
  // The things of job "roll"'s plan in plan order, and the size of each plan event.
  std::vector<std::string> PlanOrder(std::vector<size_t>* sizes = nullptr) {
    std::vector<std::string> out;
    for (const Event& e : Events()) {
      if (const auto* p = std::get_if<RolloutPlanned>(&e.body); p && p->job_id == "roll") {
        if (sizes != nullptr) sizes->push_back(p->entries.size());
        for (const PlannedExecution& entry : p->entries) out.push_back(entry.thing_name);
      }
    }
    return out;
  }

  TempDir dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<Ledger> ledger_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
};

TEST_F(FanOutTest, AGroupBeyondOneChunkIsQueuedInChunksOfItsOwnEachAnAppend) {
  ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
  ASSERT_TRUE(ledger_->CreateJob(As("user:ops"), NewJob("big", {GroupArnOf("fleet")})).ok());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  const JobStateView job = Job();
  EXPECT_EQ(job.count(ExecutionStatus::kQueued), kThings);
  EXPECT_FALSE(job.fan_out_pending);
  // ceil(10 / 3) = 4 chunks: three stop short, the last one is marked done.
  std::vector<uint64_t> step_at;
  std::vector<bool> done;
  int queued_since_step = 0;
  for (const Event& e : Events()) {
    if (JobIdOf(e.body) != "big") continue;
    if (const auto* q = std::get_if<ExecutionQueued>(&e.body)) {
      EXPECT_EQ(q->target, GroupArnOf("fleet"));
      ++queued_since_step;
    }
    if (const auto* f = std::get_if<FanOutStep>(&e.body)) {
      step_at.push_back(e.sequence);
      done.push_back(f->done);
      EXPECT_LE(queued_since_step, static_cast<int>(kChunk));
      queued_since_step = 0;
      EXPECT_EQ(e.cause, job.created_sequence) << "a chunk is caused by the job's creation";
    }
  }
  ASSERT_EQ(step_at.size(), 4u);
  EXPECT_EQ(done, (std::vector<bool>{false, false, false, true}));
  // Each thing once, every execution number 1.
  for (int i = 0; i < kThings; ++i) {
    auto e = ledger_->GetExecutionState("big", Thing(i));
    ASSERT_TRUE(e.ok() && e->has_value()) << Thing(i);
    EXPECT_EQ((*e)->execution_number, 1);
  }
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, AwaitFanOutsReturnsOnceEveryChunkIsQueued) {
  ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
  ASSERT_TRUE(ledger_->CreateJob(As("user:ops"), NewJob("big", {GroupArnOf("fleet")})).ok());
  ASSERT_TRUE(ledger_->AwaitFanOuts().ok());
  EXPECT_FALSE(Job().fan_out_pending);
  EXPECT_EQ(Job().count(ExecutionStatus::kQueued), kThings);
  // Nothing running: it returns at once.
  EXPECT_TRUE(ledger_->AwaitFanOuts().ok());
}

TEST_F(FanOutTest, AJobWithinOneChunkAppendsNoFanOutStep) {
  ASSERT_NO_FATAL_FAILURE(Fleet("small", static_cast<int>(kChunk)));
  ASSERT_TRUE(ledger_->CreateJob(As("user:ops"), NewJob("fits", {GroupArnOf("small")})).ok());
  EXPECT_EQ(Count(EventKind::kFanOutStep, "fits"), 0);
  EXPECT_FALSE(Job("fits").fan_out_pending);
  EXPECT_EQ(Job("fits").count(ExecutionStatus::kQueued), static_cast<int64_t>(kChunk));
}

TEST_F(FanOutTest, OtherCommandsRunBetweenChunks) {
  ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
  // Submitted when CreateJob is answered (on the writer, right after its first chunk
  // committed and the second was queued): it runs after the second chunk, before the
  // third, instead of waiting for the whole fan-out.
  std::promise<Status> joined;
  ASSERT_TRUE(ledger_
                  ->SubmitCreateJob(As("user:ops"), NewJob("big", {GroupArnOf("fleet")}),
                                    [&](StatusOr<JobReference> ref) {
                                      EXPECT_TRUE(ref.ok()) << ref.status().ToString();
                                      Status s = ledger_->SubmitAddThingToThingGroup(
                                          As("user:ops"), {"other", "bystander"},
                                          [&](Status done) { joined.set_value(done); });
                                      EXPECT_TRUE(s.ok()) << s.ToString();
                                    })
                  .ok());
  ASSERT_TRUE(joined.get_future().get().ok());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  uint64_t bystander = 0;
  std::vector<uint64_t> steps;
  for (const Event& e : Events()) {
    if (const auto* m = std::get_if<ThingAddedToGroup>(&e.body); m && m->thing_name == "bystander") bystander = e.sequence;
    if (std::holds_alternative<FanOutStep>(e.body)) steps.push_back(e.sequence);
  }
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_GT(bystander, steps[1]);
  EXPECT_LT(bystander, steps[2]) << "the other command waited for more than one chunk";
}

TEST_F(FanOutTest, BetweenChunksCountersAgreeAndTheSnapshotJobDoesNotComplete) {
  ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
  Hold();
  auto created = SubmitCreate(NewJob("big", {GroupArnOf("fleet")}));
  // Decided in the same group, right after the first chunk: its three executions end.
  std::vector<std::future<StatusOr<UpdateJobExecutionResponse>>> done;
  for (int i = 0; i < static_cast<int>(kChunk); ++i) done.push_back(SubmitUpdate(Thing(i), ExecutionStatus::kSucceeded));
  Release();
  ASSERT_TRUE(created.get().ok());
  for (auto& d : done) ASSERT_TRUE(d.get().ok());
  // Every execution queued so far ended, but more are to come: not complete.
  const JobStateView between = Job();
  EXPECT_EQ(between.status, JobStatus::kInProgress);
  int64_t total = 0;
  for (int64_t c : between.counts) total += c;
  EXPECT_EQ(total, between.count(ExecutionStatus::kQueued) + between.count(ExecutionStatus::kSucceeded));
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  EXPECT_EQ(Job().status, JobStatus::kInProgress);
  for (int i = static_cast<int>(kChunk); i < kThings; ++i) {
    ASSERT_NO_FATAL_FAILURE(MustSucceed(Thing(i)));
  }
  EXPECT_EQ(Job().status, JobStatus::kSucceeded);
  // The completion follows the fan-out's last step.
  uint64_t completed = 0, finished = 0;
  for (const Event& e : Events()) {
    if (std::holds_alternative<JobCompleted>(e.body)) completed = e.sequence;
    if (const auto* f = std::get_if<FanOutStep>(&e.body); f && f->done) finished = e.sequence;
  }
  EXPECT_GT(completed, finished);
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, AbortCriteriaWaitForTheFanOutThenFire) {
  ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
  CreateJobRequest r = NewJob("big", {GroupArnOf("fleet")});
  r.abort_config = AbortConfig{{AbortCriteria{FailureType::kFailed, 50, 1}}};
  Hold();
  auto created = SubmitCreate(r);
  std::vector<std::future<StatusOr<UpdateJobExecutionResponse>>> failed;
  for (int i = 0; i < static_cast<int>(kChunk); ++i) failed.push_back(SubmitUpdate(Thing(i), ExecutionStatus::kFailed));
  Release();
  ASSERT_TRUE(created.get().ok());
  for (auto& f : failed) ASSERT_TRUE(f.get().ok());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  // The criteria were met by the first chunk's failures, but only the last chunk
  // checks them (the log shows the cancel after the fan-out's end): 3 of 3 failed.
  const JobStateView after = Job();
  EXPECT_EQ(after.status, JobStatus::kCanceled);
  EXPECT_EQ(after.count(ExecutionStatus::kQueued), 0);
  uint64_t canceled = 0, finished = 0;
  for (const Event& e : Events()) {
    if (std::holds_alternative<JobCanceled>(e.body)) {
      canceled = e.sequence;
      EXPECT_EQ(e.actor, "system:abort");
    }
    if (const auto* f = std::get_if<FanOutStep>(&e.body); f && f->done) finished = e.sequence;
  }
  EXPECT_GT(canceled, finished);
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, ACancelDuringTheFanOutStopsTheRemainingChunks) {
  ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
  Hold();
  auto created = SubmitCreate(NewJob("big", {GroupArnOf("fleet")}));
  auto canceled = SubmitCancel();
  Release();
  ASSERT_TRUE(created.get().ok());
  ASSERT_TRUE(canceled.get().ok());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  const JobStateView job = Job();
  EXPECT_EQ(job.status, JobStatus::kCanceled);
  EXPECT_FALSE(job.fan_out_pending);
  EXPECT_EQ(job.count(ExecutionStatus::kCanceled), static_cast<int64_t>(kChunk));
  EXPECT_EQ(Count(EventKind::kExecutionQueued, "big"), static_cast<int>(kChunk)) << "a chunk ran after the cancel";
  EXPECT_EQ(Count(EventKind::kFanOutStep, "big"), 1);
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, ARetriedCreateJobInTheMiddleOfItsFanOutIsADuplicate) {
  ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
  Hold();
  auto first = SubmitCreate(NewJob("big", {GroupArnOf("fleet")}), "create-big-1");
  auto again = SubmitCreate(NewJob("big", {GroupArnOf("fleet")}), "create-big-1");
  Release();
  ASSERT_TRUE(first.get().ok());
  StatusOr<JobReference> retried = again.get();
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->job_id, "big");
  // Once more, after another chunk.
  ASSERT_TRUE(ledger_->AddThingToThingGroup(As("user:ops"), {"idle", "idler"}).ok());
  StatusOr<JobReference> late = ledger_->CreateJob(As("user:ops", "create-big-1"), NewJob("big", {GroupArnOf("fleet")}));
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  EXPECT_EQ(Count(EventKind::kJobCreated, "big"), 1);
  EXPECT_EQ(Count(EventKind::kExecutionQueued, "big"), kThings);
  int finished = 0;
  for (const Event& e : Events()) {
    if (const auto* f = std::get_if<FanOutStep>(&e.body); f && f->done) ++finished;
  }
  EXPECT_EQ(finished, 1);
}

// Closing while chunks are queued: the writer finishes what is queued and submits no
// further chunk; the next open resumes from the cursor. (A kill between chunks is in
// tests/crash/crash_points_test.cc.)
TEST_F(FanOutTest, AFanOutCutShortByACloseResumesAtTheNextOpenAndIsNeverDoneTwice) {
  ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
  Hold();
  auto created = SubmitCreate(NewJob("big", {GroupArnOf("fleet")}));
  Release();
  ASSERT_TRUE(created.get().ok());
  ledger_.reset();
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  EXPECT_EQ(Job().count(ExecutionStatus::kQueued), kThings);
  EXPECT_EQ(Count(EventKind::kExecutionQueued, "big"), kThings);
  // A second reopen finds nothing left to do.
  ledger_.reset();
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_TRUE(ledger_->AddThingToThingGroup(As("user:ops"), {"idle", "idler-2"}).ok());
  EXPECT_EQ(Count(EventKind::kExecutionQueued, "big"), kThings);
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, ThingsInSeveralTargetsAreQueuedOnceAcrossChunks) {
  ASSERT_NO_FATAL_FAILURE(Fleet("a", kThings));
  ASSERT_NO_FATAL_FAILURE(Fleet("b", kThings / 2));  // dev-0..dev-4: in both
  ASSERT_TRUE(ledger_->AddThingToThingGroup(As("user:ops"), {"b", "only-b"}).ok());
  ASSERT_TRUE(ledger_
                  ->CreateJob(As("user:ops"), NewJob("both", {GroupArnOf("a"), ThingArnOf("dev-1"),
                                                              GroupArnOf("b"), ThingArnOf("solo")}))
                  .ok());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("both"));
  EXPECT_EQ(Job("both").count(ExecutionStatus::kQueued), kThings + 2);  // + only-b, solo
  EXPECT_EQ(Count(EventKind::kExecutionQueued, "both"), kThings + 2);
  ExpectStateIsTheFoldOfTheLog();
}

// ---- a rollout's plan in chunks ----

// A rollout's plan over more things than a chunk is made in chunks, each an append of
// its own (RolloutPlanned of at most a chunk, the first holding at least the first
// window, then a FanOutStep of the plan), and rolls out window by window exactly as a
// plan made at once does: the same things in the same windows, each once (things in
// several targets included).
TEST_F(FanOutTest, ARolloutPlanIsMadeInChunksAndRollsOutAsAPlanMadeAtOnce) {
  for (int per_minute : {2, 5}) {
    SCOPED_TRACE("maximumPerMinute " + std::to_string(per_minute));
    const std::string tag = std::to_string(per_minute);
    // At once: a chunk larger than the fleet.
    ASSERT_NO_FATAL_FAILURE(Open(256, /*chunk=*/1000, "at-once-" + tag));
    ASSERT_NO_FATAL_FAILURE(RolloutFleet());
    ASSERT_TRUE(ledger_->CreateJob(As("user:ops"), RolloutJob(per_minute)).ok());
    EXPECT_EQ(Count(EventKind::kFanOutStep, "roll"), 0);
    const std::vector<std::string> plan_at_once = PlanOrder();
    const auto at_once = Windows(10);
    // In chunks of 3.
    ASSERT_NO_FATAL_FAILURE(Open(256, kChunk, "chunked-" + tag));
    ASSERT_NO_FATAL_FAILURE(RolloutFleet());
    ASSERT_TRUE(ledger_->CreateJob(As("user:ops"), RolloutJob(per_minute)).ok());
    ASSERT_NO_FATAL_FAILURE(DrainFanOut("roll"));
    std::vector<size_t> sizes;
    EXPECT_EQ(PlanOrder(&sizes), plan_at_once);
    ASSERT_GE(sizes.size(), 3u);
    EXPECT_EQ(sizes[0], std::max<size_t>(kChunk, static_cast<size_t>(per_minute)));
    for (size_t i = 1; i < sizes.size(); ++i) EXPECT_LE(sizes[i], kChunk);
    int steps = 0, done = 0;
    for (const Event& e : Events()) {
      if (const auto* f = std::get_if<FanOutStep>(&e.body); f && f->job_id == "roll") {
        ++steps;
        done += f->done;
        EXPECT_TRUE(f->plan);
      }
    }
    EXPECT_EQ(steps, static_cast<int>(sizes.size()));
    EXPECT_EQ(done, 1);
    EXPECT_EQ(Windows(10), at_once);
    // A window larger than a chunk is queued in chunks, every execution caused by its
    // window's RolloutStep whichever chunk queued it.
    uint64_t step = 0;
    for (const Event& e : Events()) {
      if (JobIdOf(e.body) != "roll") continue;
      if (std::holds_alternative<RolloutStep>(e.body)) step = e.sequence;
      if (std::holds_alternative<ExecutionQueued>(e.body)) {
        EXPECT_EQ(e.cause, step) << e.sequence;
      }
    }
    EXPECT_EQ(StateRows().GetJob("roll").value()->window_left, 0u);
    EXPECT_EQ(Job("roll").status, JobStatus::kInProgress);  // every thing queued, none done
    EXPECT_EQ(Job("roll").count(ExecutionStatus::kQueued), static_cast<int64_t>(plan_at_once.size()));
    ExpectStateIsTheFoldOfTheLog();
  }
}

// While the plan is still being made, no window after the first is due, however late
// the clock: the rest of the plan is not there yet. The first chunk's append only
// plans: the first window, due at once, opens in the append after it (no append both
// plans a chunk and queues a window). The plan's last chunk schedules the next window,
// and the windows that came due meanwhile open at the next AdvanceTo.
TEST_F(FanOutTest, NoWindowIsDueWhileThePlanIsBeingMade) {
  ASSERT_NO_FATAL_FAILURE(Open(/*max_group_size=*/1));
  ASSERT_NO_FATAL_FAILURE(RolloutFleet());
  internal::StateStore store = StateRows();
  Hold();
  auto created = SubmitCreate(RolloutJob(2));
  std::shared_ptr<std::promise<void>> gate = Gate();
  Release();
  ASSERT_TRUE(created.get().ok());
  // Between the first chunk and the second.
  ASSERT_TRUE(Job("roll").fan_out_pending);
  std::optional<internal::JobState> during = store.GetJob("roll").value();
  ASSERT_TRUE(during.has_value());
  EXPECT_TRUE(during->fanout_plans);
  EXPECT_EQ(during->rollout_next_window, 0u);
  EXPECT_EQ(Count(EventKind::kExecutionQueued, "roll"), 0) << "the first chunk's append queued a window";
  std::optional<internal::DueRollout> first = store.FirstRolloutDue().value();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->due, kT0);  // the first window, and no other
  gate->set_value();
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("roll"));
  std::optional<internal::DueRollout> due = store.FirstRolloutDue().value();
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->job_id, "roll");
  EXPECT_EQ(due->due, kT0 + 60'000'000);  // window 1, a minute after the plan began
  EXPECT_FALSE(store.GetJob("roll").value()->fanout_plans);
  // Five minutes on: windows 1 to 5 open now, in order, two things each.
  clock_.Advance(5 * 60'000'000);
  const auto windows = Windows(0);
  ASSERT_EQ(windows.size(), 1u);
  ASSERT_TRUE(ledger_->AdvanceTo(clock_.NowMicros()).ok());
  const auto after = Windows(0);
  ASSERT_EQ(after.size(), 6u);
  for (const auto& w : after) EXPECT_EQ(w.size(), 2u);
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, ACancelWhileThePlanIsMadeStopsItAndForgetsThePlan) {
  ASSERT_NO_FATAL_FAILURE(RolloutFleet());
  Hold();
  auto created = SubmitCreate(RolloutJob(2));
  CancelJobRequest cancel;
  cancel.job_id = "roll";
  auto promise = std::make_shared<std::promise<StatusOr<JobReference>>>();
  ASSERT_TRUE(ledger_->SubmitCancelJob(As("user:ops"), cancel,
                                       [promise](StatusOr<JobReference> r) { promise->set_value(std::move(r)); })
                  .ok());
  Release();
  ASSERT_TRUE(created.get().ok());
  ASSERT_TRUE(promise->get_future().get().ok());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("roll"));
  const JobStateView job = Job("roll");
  EXPECT_EQ(job.status, JobStatus::kCanceled);
  EXPECT_FALSE(job.fan_out_pending);
  EXPECT_EQ(Count(EventKind::kRolloutPlanned, "roll"), 1) << "a chunk of the plan ran after the cancel";
  EXPECT_EQ(Count(EventKind::kFanOutStep, "roll"), 1);
  // The cancel was decided right after the plan's first chunk, before the append that
  // opens the first window: nothing was queued, so nothing is canceled.
  EXPECT_EQ(job.count(ExecutionStatus::kCanceled), 0);
  EXPECT_EQ(Windows(5).size(), 0u);
  ExpectStateIsTheFoldOfTheLog();
}

// (At 2 a minute the windows fit a chunk; at 7 each is queued in chunks of 3 too, and
// a close between a window's chunks resumes the window before the plan.)
TEST_F(FanOutTest, APlanCutShortByACloseResumesAtTheNextOpenAndPlansEachThingOnce) {
  for (int per_minute : {2, 7}) {
  SCOPED_TRACE("maximumPerMinute " + std::to_string(per_minute));
  ASSERT_NO_FATAL_FAILURE(Open(256, kChunk, "cut-" + std::to_string(per_minute)));
  ASSERT_NO_FATAL_FAILURE(RolloutFleet());
  Hold();
  auto created = SubmitCreate(RolloutJob(per_minute));
  Release();
  ASSERT_TRUE(created.get().ok());
  ledger_.reset();
  ASSERT_NO_FATAL_FAILURE(Open(256, kChunk, "cut-" + std::to_string(per_minute)));
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("roll"));
  std::vector<std::string> plan = PlanOrder();
  EXPECT_EQ(plan.size(), static_cast<size_t>(kThings + 2));  // + only-b, solo
  std::sort(plan.begin(), plan.end());
  EXPECT_EQ(std::adjacent_find(plan.begin(), plan.end()), plan.end()) << "a thing planned twice";
  const auto windows = Windows(10);
  size_t queued = 0;
  for (const auto& w : windows) queued += w.size();
  EXPECT_EQ(queued, static_cast<size_t>(kThings + 2));
  ExpectStateIsTheFoldOfTheLog();
  }
}

// ---- a cancel over many executions, and targets associated later ----

TEST_F(FanOutTest, ACancelBeyondOneChunkCancelsInChunksAndNoDeviceStartsMeanwhile) {
  ASSERT_NO_FATAL_FAILURE(Open(/*max_group_size=*/1));
  ASSERT_NO_FATAL_FAILURE(QueuedJob());
  // The device calls are decided after the cancel's first chunk, before its second.
  Hold();
  auto canceled = SubmitCancel();
  auto update = SubmitUpdate(Thing(kThings - 1), ExecutionStatus::kInProgress);
  auto start_promise = std::make_shared<std::promise<StatusOr<StartNextPendingJobExecutionResponse>>>();
  auto started = start_promise->get_future();
  StartNextPendingJobExecutionRequest next;
  next.thing_name = Thing(kThings - 2);
  ASSERT_TRUE(ledger_->SubmitStartNextPendingJobExecution(
                         As("thing:" + next.thing_name), next,
                         [start_promise](StatusOr<StartNextPendingJobExecutionResponse> r) {
                           start_promise->set_value(std::move(r));
                         })
                  .ok());
  // The second chunk is queued when the first commits, behind this gate: the reads
  // below happen between the two.
  std::shared_ptr<std::promise<void>> gate = Gate();
  Release();
  ASSERT_TRUE(canceled.get().ok());
  StatusOr<UpdateJobExecutionResponse> refused = update.get();
  ASSERT_EQ(refused.status().aws_error(), AwsError::kInvalidStateTransition) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("is being canceled"), std::string::npos) << refused.status().ToString();
  StatusOr<StartNextPendingJobExecutionResponse> nothing = started.get();
  ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
  EXPECT_FALSE(nothing->execution.has_value()) << "a device started an execution its job's cancel is canceling";
  // Between chunks: the job is CANCELED, the counters agree with the executions
  // canceled so far, and the rest is still to do.
  JobStateView between = Job();
  EXPECT_EQ(between.status, JobStatus::kCanceled);
  EXPECT_TRUE(between.cancel_pending);
  EXPECT_EQ(between.count(ExecutionStatus::kCanceled), static_cast<int64_t>(kChunk));
  EXPECT_EQ(between.count(ExecutionStatus::kQueued), kThings - static_cast<int64_t>(kChunk));
  gate->set_value();
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  const JobStateView after = Job();
  EXPECT_FALSE(after.cancel_pending);
  EXPECT_EQ(after.count(ExecutionStatus::kCanceled), kThings);
  EXPECT_EQ(after.count(ExecutionStatus::kQueued), 0);
  // Every execution canceled once, each caused by the one JobCanceled, in appends of
  // at most a chunk.
  uint64_t job_canceled = 0;
  int executions = 0;
  for (const Event& e : Events()) {
    if (std::holds_alternative<JobCanceled>(e.body)) job_canceled = e.sequence;
    if (std::holds_alternative<ExecutionCanceled>(e.body)) {
      ++executions;
      EXPECT_EQ(e.cause, job_canceled);
      EXPECT_EQ(e.actor, "system:cancel");
    }
  }
  EXPECT_EQ(executions, kThings);
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, AForceCancelBeyondOneChunkCancelsInProgressExecutionsInChunks) {
  ASSERT_NO_FATAL_FAILURE(Open(/*max_group_size=*/1));
  ASSERT_NO_FATAL_FAILURE(QueuedJob());
  for (int i = 0; i < kThings / 2; ++i) {
    auto u = ledger_->UpdateJobExecution(As("thing:" + Thing(i)), Update("big", Thing(i), ExecutionStatus::kInProgress));
    ASSERT_TRUE(u.ok()) << u.status().ToString();
  }
  // A plain cancel leaves the IN_PROGRESS ones; a second one with force takes them.
  CancelJobRequest cancel;
  cancel.job_id = "big";
  ASSERT_TRUE(ledger_->CancelJob(As("user:ops"), cancel).ok());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  EXPECT_EQ(Job().count(ExecutionStatus::kInProgress), kThings / 2);
  EXPECT_EQ(Job().count(ExecutionStatus::kCanceled), kThings / 2);
  Hold();
  auto forced = SubmitCancel(/*force=*/true);
  std::shared_ptr<std::promise<void>> gate = Gate();  // ahead of the second chunk
  Release();
  ASSERT_TRUE(forced.get().ok());
  EXPECT_TRUE(Job().cancel_pending);  // 5 IN_PROGRESS, chunks of 3
  EXPECT_EQ(Job().count(ExecutionStatus::kInProgress), kThings / 2 - static_cast<int64_t>(kChunk));
  gate->set_value();
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  EXPECT_EQ(Job().count(ExecutionStatus::kInProgress), 0);
  EXPECT_EQ(Job().count(ExecutionStatus::kCanceled), kThings);
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, ACancelCutShortByACloseResumesAtTheNextOpen) {
  ASSERT_NO_FATAL_FAILURE(QueuedJob());
  Hold();
  auto canceled = SubmitCancel();
  Release();
  ASSERT_TRUE(canceled.get().ok());
  ledger_.reset();
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  EXPECT_EQ(Job().count(ExecutionStatus::kCanceled), kThings);
  EXPECT_EQ(Count(EventKind::kExecutionCanceled, "big"), kThings);
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, AJobDeletedDuringItsCancelLeavesNothingToResume) {
  ASSERT_NO_FATAL_FAILURE(QueuedJob());
  Hold();
  auto canceled = SubmitCancel();
  DeleteJobRequest del;
  del.job_id = "big";
  del.force = true;
  auto del_promise = std::make_shared<std::promise<Status>>();
  auto deleted = del_promise->get_future();
  ASSERT_TRUE(ledger_->SubmitDeleteJob(As("user:ops"), del, [del_promise](Status s) { del_promise->set_value(s); }).ok());
  Release();
  ASSERT_TRUE(canceled.get().ok());
  ASSERT_TRUE(deleted.get().ok());
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  EXPECT_EQ(Count(EventKind::kExecutionCanceled, "big"), static_cast<int>(kChunk));
  ExpectStateIsTheFoldOfTheLog();
  ledger_.reset();
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_TRUE(ledger_->AwaitFanOuts().ok());
  EXPECT_EQ(Count(EventKind::kExecutionCanceled, "big"), static_cast<int>(kChunk));
  ExpectStateIsTheFoldOfTheLog();
}

TEST_F(FanOutTest, AGroupAssociatedWithAContinuousJobIsQueuedInChunks) {
  ASSERT_NO_FATAL_FAILURE(Fleet("fleet", kThings));
  CreateJobRequest r = NewJob("cont", {ThingArnOf("solo")});
  r.target_selection = TargetSelection::kContinuous;
  ASSERT_TRUE(ledger_->CreateJob(As("user:ops"), r).ok());
  AssociateTargetsWithJobRequest associate;
  associate.job_id = "cont";
  associate.targets = {GroupArnOf("fleet"), ThingArnOf("solo")};
  const uint64_t before = ledger_->log().head().sequence;
  ASSERT_TRUE(ledger_->AssociateTargetsWithJob(As("user:ops"), associate).ok());
  // The first append: the association, one chunk, and where to resume.
  std::vector<EventKind> first;
  for (const Event& e : Events()) {
    if (e.sequence > before && first.size() < kChunk + 3) first.push_back(KindOf(e.body));
  }
  ASSERT_GE(first.size(), kChunk + 2);
  EXPECT_EQ(first[0], EventKind::kTargetsAssociated);
  for (size_t i = 1; i <= kChunk; ++i) EXPECT_EQ(first[i], EventKind::kExecutionQueued);
  EXPECT_EQ(first[kChunk + 1], EventKind::kFanOutStep);
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("cont"));
  EXPECT_EQ(Job("cont").count(ExecutionStatus::kQueued), kThings + 1);  // + solo
  EXPECT_EQ(Count(EventKind::kExecutionQueued, "cont"), kThings + 1);
  EXPECT_EQ(Job("cont").status, JobStatus::kInProgress);
  ExpectStateIsTheFoldOfTheLog();
}

// The job's state row carries the cancel (its event, and whether an abort made it) only
// while the cancel is unfinished: a finished one leaves the row as an atomic cancel
// did, so ledgers written before chunked cancels fold to the same rows.
TEST_F(FanOutTest, TheJobsStateRowCarriesACancelOnlyWhileItIsUnfinished) {
  ASSERT_NO_FATAL_FAILURE(Open(/*max_group_size=*/1));
  ASSERT_NO_FATAL_FAILURE(QueuedJob());
  internal::StateStore store = StateRows();
  Hold();
  auto canceled = SubmitCancel();
  std::shared_ptr<std::promise<void>> gate = Gate();
  Release();
  ASSERT_TRUE(canceled.get().ok());
  std::optional<internal::JobState> during = store.GetJob("big").value();
  ASSERT_TRUE(during.has_value());
  EXPECT_TRUE(internal::CancelPending(*during));
  EXPECT_NE(during->canceled_seq, 0u);
  EXPECT_FALSE(during->canceled_by_abort);
  gate->set_value();
  ASSERT_NO_FATAL_FAILURE(DrainFanOut("big"));
  std::optional<internal::JobState> after = store.GetJob("big").value();
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(internal::CancelPending(*after));
  EXPECT_EQ(after->canceled_seq, 0u);

  // The codec: both optional sections round-trip; out of order or unknown, the row is
  // malformed (a DataLoss error naming the job), never misread.
  internal::JobState j = *during;
  j.fanout_pending = true;
  j.fanout_target = "arn:aws:iot:us-east-1:123456789012:thinggroup/fleet";
  j.fanout_after = "dev-4";
  j.canceled_by_abort = true;
  StatusOr<internal::JobState> back = internal::DecodeJobState(internal::EncodeJobState(j), "big");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, j);
  internal::JobState plain = j;
  plain.fanout_pending = false;
  plain.fanout_target.clear();
  plain.fanout_after.clear();
  plain.canceled_seq = 0;
  plain.canceled_by_abort = false;
  const std::string base = internal::EncodeJobState(plain);
  auto with = [&](std::initializer_list<uint64_t> tags) {
    WireWriter w;
    for (uint64_t tag : tags) {
      w.U64(tag);
      if (tag == 1) {
        w.Str("arn:aws:iot:us-east-1:123456789012:thinggroup/fleet");
        w.Str("dev-4");
      } else if (tag == 3) {
        // the plan marker holds nothing
      } else {
        w.U64(7);
        w.Bool(false);
      }
    }
    return base + w.Take();
  };
  EXPECT_TRUE(internal::DecodeJobState(with({1, 2}), "big").ok());
  StatusOr<internal::JobState> plans = internal::DecodeJobState(with({1, 3}), "big");
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  EXPECT_TRUE(plans->fanout_plans);
  EXPECT_EQ(internal::DecodeJobState(internal::EncodeJobState(*plans), "big").value(), *plans);
  // The plan marker without a fan-out, or a tag this build does not know: malformed.
  for (auto bad : {with({2, 1}), with({1, 1}), with({3}), with({1, 4})}) {
    StatusOr<internal::JobState> refused = internal::DecodeJobState(bad, "big");
    EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(refused.status().message().find("'big'"), std::string::npos) << refused.status().ToString();
  }
}

}  // namespace
}  // namespace jobledger::testing
