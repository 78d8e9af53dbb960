// ProjectionManager: inline, catch-up and rebuilt projections agree; schema changes
// rebuild online; rebuilds run beside writers (and readers); a crash at any point of a
// rebuild recovers at the next open; checkpoints ahead of or behind the log are
// handled; dry runs leave the active family alone.
//
// Randomized histories use JOBLEDGER_SEED (default kDefaultSeed); the seed is printed.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ledger/wire.h"
#include "tests/projections/projections_test_util.h"
#include "tests/support/random_commands.h"

namespace jobledger::testing {
namespace {

constexpr uint64_t kDefaultSeed = 0x70726f6a;  // "proj"
constexpr uint64_t kChunkEvents = 4096;           // the manager's fold chunk
const std::string kCheckpointKey("\0checkpoint", 11);

uint64_t SeedFromEnv() {
  const char* env = std::getenv("JOBLEDGER_SEED");
  if (env != nullptr && *env != '\0') return std::strtoull(env, nullptr, 0);
  return kDefaultSeed;
}

// The jobs fold, recording every sequence it is given (catch-up mode only: it is
// applied on the calling thread).
class RecordingProjection final : public Projection {
 public:
  RecordingProjection(std::string name, std::shared_ptr<std::vector<uint64_t>> seen)
      : name_(std::move(name)), seen_(std::move(seen)) {}
  std::string_view name() const override { return name_; }
  uint32_t version() const override { return 1; }
  Status Apply(const Event& event, ProjectionWriter& rows) override {
    seen_->push_back(event.sequence);
    return inner_.Apply(event, rows);
  }

 private:
  std::string name_;
  std::shared_ptr<std::vector<uint64_t>> seen_;
  JobsProjection inner_;
};

ProjectionManager::Entry CatchUpEntry(std::unique_ptr<Projection> p) {
  ProjectionManager::Entry e;
  e.projection = std::move(p);
  e.mode = ProjectionMode::kCatchUp;
  return e;
}

std::vector<ProjectionManager::Entry> CatchUpJobs(const std::string& name) {
  std::vector<ProjectionManager::Entry> extra;
  extra.push_back(CatchUpEntry(std::make_unique<RenamedJobsProjection>(name, 1)));
  return extra;
}

// What the read models answer, for comparing before and after.
struct Answers {
  std::map<std::string, std::optional<jobledger::Job>> jobs;  // nullopt: not found
  std::vector<JobSummary> list;
  std::map<std::string, GetPendingJobExecutionsResponse> pending;
};

class ProjectionManagerTest : public ProjectionsFixture {
 protected:
  ProjectionInfo InfoOf(const std::string& name) {
    for (const ProjectionInfo& i : projections_->Info()) {
      if (i.name == name) return i;
    }
    ADD_FAILURE() << "no projection '" << name << "' in Info()";
    return ProjectionInfo{};
  }

  FamilyId Active(const std::string& name) {
    auto f = projections_->ActiveFamily(name);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? *f : FamilyId{};
  }

  std::vector<std::string> FamiliesWithPrefix(const std::string& prefix) {
    std::vector<std::string> out;
    for (const std::string& f : ledger_->log().FamilyNames()) {
      if (f.rfind(prefix, 0) == 0) out.push_back(f);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::string> Diff(const std::string& a, const std::string& b) {
    auto d = CompareFamilies(ledger_->log(), Active(a), Active(b));
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : std::vector<std::string>{"CompareFamilies failed"};
  }

  void ExpectNoDriftOf(const std::string& name) {
    auto drift = projections_->CheckDrift(name);
    ASSERT_TRUE(drift.ok()) << drift.status().ToString();
    EXPECT_TRUE(drift->ok()) << name << ": " << drift->differences.size()
                             << " differences, first: " << drift->differences.front();
    EXPECT_EQ(drift->events_folded, Head());
  }

  Answers Read(const std::set<std::string>& job_ids, const std::set<std::string>& things) {
    Answers a;
    for (const std::string& id : job_ids) {
      auto j = reads_->DescribeJob(id);
      if (j.ok()) {
        a.jobs[id] = *j;
      } else {
        EXPECT_EQ(j.status().aws_error(), AwsError::kResourceNotFound) << id << ": " << j.status().ToString();
        a.jobs[id] = std::nullopt;
      }
    }
    ListJobsRequest r;
    r.max_results = 250;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = reads_->ListJobs(r);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      a.list.insert(a.list.end(), page->jobs.begin(), page->jobs.end());
      if (!page->next_token) break;
      r.next_token = page->next_token;
    }
    for (const std::string& t : things) {
      auto p = reads_->GetPendingJobExecutions(t);
      EXPECT_TRUE(p.ok()) << t << ": " << p.status().ToString();
      if (p.ok()) a.pending[t] = *p;
    }
    return a;
  }

  void ExpectSameAnswers(const Answers& before, const Answers& after) {
    ASSERT_EQ(before.jobs.size(), after.jobs.size());
    int shown = 0;
    for (const auto& [id, job] : before.jobs) {
      auto it = after.jobs.find(id);
      ASSERT_NE(it, after.jobs.end()) << id;
      if (job != it->second && shown++ < 5) {
        ADD_FAILURE() << "DescribeJob(" << id << ") changed: before "
                      << (job ? JobStatusName(job->status) : "not found") << ", after "
                      << (it->second ? JobStatusName(it->second->status) : "not found");
      }
    }
    EXPECT_EQ(before.list.size(), after.list.size());
    EXPECT_TRUE(before.list == after.list) << "ListJobs answers differ";
    ASSERT_EQ(before.pending.size(), after.pending.size());
    for (const auto& [thing, p] : before.pending) {
      auto it = after.pending.find(thing);
      ASSERT_NE(it, after.pending.end()) << thing;
      EXPECT_EQ(p.queued_jobs, it->second.queued_jobs) << thing;
      EXPECT_EQ(p.in_progress_jobs, it->second.in_progress_jobs) << thing;
    }
  }

  // One random command (or a time step) over a small world
  // (tests/support/random_commands.h); remembers the ids it drew.
  void RandomStep(std::mt19937_64& rng) {
    RandomWorld world;
    world.jobs = 8;
    world.things = 8;
    world.groups = 3;
    RandomCounts counts;
    std::string job, thing;
    testing::RandomStep(rng, world, *ledger_, clock_, &counts, &job, &thing);
    job_ids_.insert(job);
    things_.insert(thing);
    accepted_ += counts.accepted;
    rejected_ += counts.rejected;
  }

  uint64_t StartSeed() {
    const uint64_t seed = SeedFromEnv();
    std::cout << "[ seed     ] " << seed << " (replay: JOBLEDGER_SEED=" << seed << ")\n";
    return seed;
  }

  // `jobs` jobs, each on a thing of its own, each executed to SUCCEEDED: about five
  // events per job.
  void BulkHistory(const std::string& prefix, int jobs) {
    for (int i = 0; i < jobs; ++i) {
      const std::string job = prefix + std::to_string(i);
      const std::string thing = prefix + "thing" + std::to_string(i);
      ASSERT_NO_FATAL_FAILURE(MustCreate(NewJob(job, {ThingArnOf(thing)})));
      ASSERT_NO_FATAL_FAILURE(MustUpdate(job, thing, ExecutionStatus::kInProgress));
      if (i % 2 == 0) {
        ASSERT_NO_FATAL_FAILURE(MustUpdate(job, thing, ExecutionStatus::kSucceeded));
      }
      job_ids_.insert(job);
      if (i % 50 == 0) things_.insert(thing);
    }
  }

  std::set<std::string> job_ids_;
  std::set<std::string> things_;
  int accepted_ = 0;
  int rejected_ = 0;
};

// ---- 1. inline == rebuilt == catch-up -------------------------------------------

TEST_F(ProjectionManagerTest, InlineEqualsRebuiltEqualsCatchUp) {
  ASSERT_NO_FATAL_FAILURE(OpenProjections(CatchUpJobs("jobs_catchup")));
  std::mt19937_64 rng(StartSeed());
  constexpr int kSteps = 3000;
  for (int i = 0; i < kSteps && !HasFailure(); ++i) {
    RandomStep(rng);
    if (i == kSteps / 2) {
      Status s = projections_->CatchUp("jobs_catchup");
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(InfoOf("jobs_catchup").checkpoint, Head());
    }
  }
  std::cout << "[ history  ] " << Head() << " events, " << accepted_ << " commands accepted, "
            << rejected_ << " rejected\n";
  ASSERT_GT(Head(), 500u);
  EXPECT_LT(InfoOf("jobs_catchup").checkpoint, Head());  // appends do not reach it
  Status s = projections_->CatchUp("jobs_catchup");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(InfoOf("jobs_catchup").checkpoint, Head());
  EXPECT_EQ(InfoOf("jobs").checkpoint, Head());

  std::vector<std::string> diff = Diff("jobs", "jobs_catchup");
  EXPECT_TRUE(diff.empty()) << diff.size() << " rows differ, first: " << diff.front();
  ExpectNoDriftOf("jobs");
  ExpectNoDriftOf("jobs_catchup");

  const Answers before = Read(job_ids_, things_);
  const std::string old_family = InfoOf("jobs").family;
  RebuildOptions options;
  options.compare = true;
  auto rebuilt = projections_->Rebuild("jobs", options);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_TRUE(rebuilt->differences.empty()) << rebuilt->differences.front();
  EXPECT_TRUE(rebuilt->switched);
  EXPECT_EQ(rebuilt->events, Head());
  EXPECT_NE(rebuilt->family, old_family);
  EXPECT_EQ(InfoOf("jobs").family, rebuilt->family);
  EXPECT_EQ(FamiliesWithPrefix("proj.jobs.v"), std::vector<std::string>{rebuilt->family});
  ExpectSameAnswers(before, Read(job_ids_, things_));
  diff = Diff("jobs", "jobs_catchup");
  EXPECT_TRUE(diff.empty()) << diff.size() << " rows differ, first: " << diff.front();
  ExpectNoDrift();
}

// A rebuild folds the jobs projection by job on several threads (the log read on one
// more), in chunks of a small memory budget: on one, two and three threads it equals
// the inline fold row for row, over a history long enough to be folded in memory and
// ingested (more than one chunk of 4,096 events) with every command in it: things
// deleted while planned in the rollouts of jobs of different partitions, job deletions,
// cancels, associations, timeouts.
TEST_F(ProjectionManagerTest, ARebuildOnSeveralThreadsEqualsTheInlineFold) {
  // Two jobs that two partitions fold apart, each rolling out one thing a minute, so
  // that both have "tx" planned; long after (the plans in an earlier chunk's stored
  // rows), one job's counters change and "tx" is deleted right away: each partition
  // must unplan it from its own job only (the other's counters it could read only as
  // the earlier chunk left them).
  std::vector<std::string> planners;
  for (int i = 0; planners.size() < 2; ++i) {
    const std::string job = "plan" + std::to_string(i);
    const size_t part = ProjectionWriter::PartitionOf(job, 2);
    if (planners.empty() ? part == 0 : part == 1) planners.push_back(job);
  }
  ASSERT_TRUE(ledger_->AddThingToThingGroup(As("user:ops"), {"gx", "tx"}).ok());  // a known thing
  for (const std::string& job : planners) {
    CreateJobRequest r = NewJob(job, {ThingArnOf("p0"), ThingArnOf("p1"), ThingArnOf("tx")});
    RolloutConfig rollout;
    rollout.maximum_per_minute = 1;
    r.job_executions_rollout_config = rollout;
    ASSERT_NO_FATAL_FAILURE(MustCreate(r));
    job_ids_.insert(job);
  }
  things_.insert({"p0", "p1", "tx"});
  ASSERT_NO_FATAL_FAILURE(BulkHistory("bulk", 1000));
  ASSERT_NO_FATAL_FAILURE(MustUpdate(planners[1], "p0", ExecutionStatus::kInProgress));
  DeleteThingRequest deleted;
  deleted.thing_name = "tx";
  Status gone = ledger_->DeleteThing(As("user:ops"), deleted);
  ASSERT_TRUE(gone.ok()) << gone.ToString();
  std::mt19937_64 rng(StartSeed() + 7);
  while (Head() < 9000 && !HasFailure()) RandomStep(rng);
  std::cout << "[ history  ] " << Head() << " events, " << accepted_ << " commands accepted, "
            << rejected_ << " rejected\n";
  std::map<EventKind, int> kinds;
  auto cursor = ledger_->log().NewCursor(1, Head());
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
    ++kinds[KindOf(cursor->event().body)];
  }
  ASSERT_TRUE(cursor->status().ok());
  for (EventKind k : {EventKind::kThingDeleted, EventKind::kRolloutPlanned, EventKind::kJobDeleted,
                      EventKind::kJobCanceled, EventKind::kExecutionTimedOut, EventKind::kTargetsAssociated}) {
    EXPECT_GT(kinds[k], 0) << EventKindName(k) << " is missing from the history";
  }
  const Answers before = Read(job_ids_, things_);
  for (size_t threads : {size_t{1}, size_t{2}, size_t{3}}) {
    SCOPED_TRACE("fold_threads " + std::to_string(threads));
    RebuildOptions options;
    options.compare = true;
    options.fold_threads = threads;
    options.memory_budget_bytes = 64 << 10;  // several chunks
    int chunks = 0;
    options.progress = [&](const RebuildProgress&) { ++chunks; };
    auto rebuilt = projections_->Rebuild("jobs", options);
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
    EXPECT_TRUE(rebuilt->differences.empty())
        << rebuilt->differences.size() << " rows differ, first: " << rebuilt->differences.front();
    EXPECT_GE(chunks, 3);
    ExpectSameAnswers(before, Read(job_ids_, things_));
  }
  ExpectNoDrift();
}

// The jobs fold, partitioned as it is, failing on the events of chosen jobs once armed.
class PoisonedProjection final : public Projection {
 public:
  PoisonedProjection(std::set<std::string> poisoned, std::shared_ptr<std::atomic<bool>> armed)
      : poisoned_(std::move(poisoned)), armed_(std::move(armed)) {}
  std::string_view name() const override { return "poisoned"; }
  uint32_t version() const override { return 1; }
  Status Apply(const Event& event, ProjectionWriter& rows) override {
    std::optional<std::string_view> job = inner_.PartitionKey(event);
    if (armed_->load() && job && poisoned_.count(std::string(*job)) > 0) {
      return DataLossError("poisoned event " + std::to_string(event.sequence));
    }
    return inner_.Apply(event, rows);
  }
  bool partitioned() const override { return true; }
  std::optional<std::string_view> PartitionKey(const Event& event) const override {
    return inner_.PartitionKey(event);
  }

 private:
  std::set<std::string> poisoned_;
  std::shared_ptr<std::atomic<bool>> armed_;
  JobsProjection inner_;
};

// A fold failing in two partitions reports the failure one thread would have met
// first (the earlier event), whichever thread failed first, and switches nothing.
TEST_F(ProjectionManagerTest, ARebuildFailingInTwoPartitionsReportsTheEarlierEvent) {
  ASSERT_NO_FATAL_FAILURE(BulkHistory("bulk", 1500));
  ASSERT_GT(Head(), 4096u);  // folded in memory, not under the append lock
  // The earlier poisoned job folds on the worker thread (partition 1), the next job
  // after it that partition 0 folds on the calling thread: both fail in one batch,
  // and the calling thread reaches its own failure without waiting for the worker.
  std::string early, late;
  int i = 100;
  for (; early.empty(); ++i) {
    if (ProjectionWriter::PartitionOf("bulk" + std::to_string(i), 2) == 1) early = "bulk" + std::to_string(i);
  }
  for (; late.empty(); ++i) {
    if (ProjectionWriter::PartitionOf("bulk" + std::to_string(i), 2) == 0) late = "bulk" + std::to_string(i);
  }
  std::vector<ProjectionManager::Entry> extra;
  auto armed = std::make_shared<std::atomic<bool>>(false);
  extra.push_back(CatchUpEntry(std::make_unique<PoisonedProjection>(std::set<std::string>{early, late}, armed)));
  ASSERT_NO_FATAL_FAILURE(OpenProjections(std::move(extra)));
  armed->store(true);
  uint64_t first_poisoned = 0;
  auto cursor = ledger_->log().NewCursor(1, Head());
  for (; cursor->state() == EventCursor::State::kPositioned && first_poisoned == 0; cursor->Next()) {
    if (const auto* c = std::get_if<JobCreated>(&cursor->event().body); c && c->job_id == early) {
      first_poisoned = cursor->event().sequence;
    }
  }
  ASSERT_NE(first_poisoned, 0u);
  const std::string family = InfoOf("poisoned").family;
  auto rebuilt = projections_->Rebuild("poisoned");
  ASSERT_FALSE(rebuilt.ok());
  EXPECT_EQ(rebuilt.status().message(), "poisoned event " + std::to_string(first_poisoned));
  EXPECT_EQ(InfoOf("poisoned").family, family);
}

// Rejects the appends whose events associate a target ARN ending in "/poison", after
// the projections folded them.
class PoisonObserver final : public AppendObserver {
 public:
  Status OnAppend(AppendTxn& txn) override {
    for (const Event& e : txn.events()) {
      if (const auto* a = std::get_if<TargetsAssociated>(&e.body)) {
        for (const std::string& t : a->targets) {
          if (t.size() >= 7 && t.compare(t.size() - 7, 7, "/poison") == 0) {
            return InvalidArgumentError("poisoned association");
          }
        }
      }
    }
    return Status();
  }
};

// The jobs projection remembers the latest version of what it folded across appends
// (ProjectionManager::Entry::memo_budget_bytes): an append rejected after it folded
// (here by an observer after it) leaves nothing remembered, so the next append folds
// from the rows. Without that, the job below would list the rejected target.
TEST_F(ProjectionManagerTest, AnAppendRejectedAfterTheFoldLeavesNothingRemembered) {
  CreateJobRequest r = NewJob("cont", {ThingArnOf("t1")});
  r.target_selection = TargetSelection::kContinuous;
  ASSERT_NO_FATAL_FAILURE(MustCreate(r));
  PoisonObserver poison;
  ledger_->log().AddObserver(&poison);
  AssociateTargetsWithJobRequest bad;
  bad.job_id = "cont";
  bad.targets = {ThingArnOf("poison")};
  EXPECT_EQ(ledger_->AssociateTargetsWithJob(As("user:ops"), bad).status().code(),
            StatusCode::kInvalidArgument);
  AssociateTargetsWithJobRequest good;
  good.job_id = "cont";
  good.targets = {ThingArnOf("t2")};
  ASSERT_TRUE(ledger_->AssociateTargetsWithJob(As("user:ops"), good).ok());
  ledger_->log().RemoveObserver(&poison);
  EXPECT_EQ(Describe("cont").targets, (std::vector<std::string>{ThingArnOf("t1"), ThingArnOf("t2")}));
  ExpectNoDrift();
}

// ---- 2. schema change ----------------------------------------------------------

TEST_F(ProjectionManagerTest, SchemaChangeServesOldVersionUntilRebuilt) {
  std::mt19937_64 rng(StartSeed() + 1);
  for (int i = 0; i < 600 && !HasFailure(); ++i) RandomStep(rng);
  const Answers before = Read(job_ids_, things_);
  const ProjectionInfo v1 = InfoOf("jobs");
  EXPECT_EQ(v1.code_version, 1u);
  EXPECT_EQ(v1.stored_version, 1u);

  ASSERT_NO_FATAL_FAILURE(ReopenAll({}, /*jobs_version=*/2));
  ProjectionInfo info = InfoOf("jobs");
  EXPECT_EQ(info.code_version, 2u);
  EXPECT_EQ(info.stored_version, 1u);
  EXPECT_EQ(info.family, v1.family);
  EXPECT_EQ(info.checkpoint, Head());
  ExpectSameAnswers(before, Read(job_ids_, things_));

  auto reports = projections_->RebuildOutdated();
  ASSERT_TRUE(reports.ok()) << reports.status().ToString();
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_TRUE((*reports)[0].switched);
  EXPECT_EQ((*reports)[0].version, 2u);
  info = InfoOf("jobs");
  EXPECT_EQ(info.code_version, 2u);
  EXPECT_EQ(info.stored_version, 2u);
  EXPECT_EQ(info.family, (*reports)[0].family);
  EXPECT_EQ(info.family.rfind("proj.jobs.v2.", 0), 0u) << info.family;
  EXPECT_EQ(info.checkpoint, Head());
  const std::vector<std::string> names = ledger_->log().FamilyNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), v1.family), 0) << v1.family << " still exists";
  EXPECT_EQ(FamiliesWithPrefix("proj.jobs.v"), std::vector<std::string>{info.family});
  ExpectSameAnswers(before, Read(job_ids_, things_));
  ExpectNoDrift();

  // Nothing is outdated any more, and the new version survives a reopen.
  auto again = projections_->RebuildOutdated();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->empty());
  ASSERT_NO_FATAL_FAILURE(ReopenAll({}, 2));
  EXPECT_EQ(InfoOf("jobs").stored_version, 2u);
  EXPECT_EQ(InfoOf("jobs").family, info.family);
  ExpectSameAnswers(before, Read(job_ids_, things_));
}

// ---- 3. rebuild beside writers ---------------------------------------------------

TEST_F(ProjectionManagerTest, RebuildWithConcurrentWriters) {
  ASSERT_NO_FATAL_FAILURE(BulkHistory("pre", 3000));
  std::cout << "[ history  ] " << Head() << " events before the rebuild\n";
  ASSERT_GT(Head(), 2 * kChunkEvents);

  constexpr int kWriters = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> started{0};
  std::mutex errors_mu;
  std::vector<std::string> errors;
  std::vector<std::string> last_job(kWriters);  // the last job driven to SUCCEEDED
  std::vector<int> iterations(kWriters, 0);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto fail = [&](const std::string& what, const Status& s) {
        std::lock_guard<std::mutex> lock(errors_mu);
        errors.push_back(what + ": " + s.ToString());
      };
      bool counted = false;
      for (int i = 0; !stop.load(std::memory_order_acquire); ++i) {
        const std::string job = "w" + std::to_string(w) + "-" + std::to_string(i);
        const std::string thing = "w" + std::to_string(w) + "-thing" + std::to_string(i);
        auto created = ledger_->CreateJob(As("user:writer"), NewJob(job, {ThingArnOf(thing)}));
        if (!created.ok()) return fail("CreateJob " + job, created.status());
        auto started_exec = ledger_->UpdateJobExecution(
            As("thing:" + thing), Update(job, thing, ExecutionStatus::kInProgress));
        if (!started_exec.ok()) return fail("IN_PROGRESS " + job, started_exec.status());
        auto done = ledger_->UpdateJobExecution(As("thing:" + thing),
                                                Update(job, thing, ExecutionStatus::kSucceeded));
        if (!done.ok()) return fail("SUCCEEDED " + job, done.status());
        last_job[static_cast<size_t>(w)] = job;
        iterations[static_cast<size_t>(w)] = i + 1;
        if (!counted) {
          counted = true;
          started.fetch_add(1, std::memory_order_acq_rel);
        }
      }
    });
  }
  // Every writer is running before the rebuild starts.
  while (started.load(std::memory_order_acquire) < kWriters) {
    {
      std::lock_guard<std::mutex> lock(errors_mu);
      if (!errors.empty()) break;
    }
    std::this_thread::yield();
  }

  std::vector<RebuildProgress> calls;
  RebuildOptions options;
  options.progress = [&](const RebuildProgress& p) { calls.push_back(p); };
  // A small budget: many table files, each chunk's fold reading what earlier chunks
  // ingested (the drift check below folds in one chunk and must agree).
  options.memory_budget_bytes = 256 << 10;
  const std::string old_family = InfoOf("jobs").family;
  const uint64_t head_at_start = Head();
  auto rebuilt = projections_->Rebuild("jobs", options);
  const uint64_t head_at_return = Head();
  stop.store(true, std::memory_order_release);
  for (std::thread& t : writers) t.join();

  for (const std::string& e : errors) ADD_FAILURE() << "writer failed: " << e;
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_TRUE(rebuilt->switched);
  EXPECT_NE(rebuilt->family, old_family);
  EXPECT_EQ(InfoOf("jobs").family, rebuilt->family);
  EXPECT_GE(rebuilt->events, head_at_start);
  EXPECT_GT(head_at_return, head_at_start) << "the writers appended nothing during the rebuild";
  std::cout << "[ rebuild  ] " << rebuilt->events << " events folded in " << rebuilt->seconds
            << " s; " << calls.size() << " progress calls; head " << head_at_start << " -> "
            << head_at_return << " during it; writer iterations:";
  for (int n : iterations) std::cout << " " << n;
  std::cout << "\n";

  ASSERT_FALSE(calls.empty());
  EXPECT_GE(calls.size(), 4u);  // several chunks, and the end
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].projection, "jobs");
    EXPECT_LE(calls[i].events_done, calls[i].events_total) << "call " << i;
    if (i > 0) {
      EXPECT_GE(calls[i].events_done, calls[i - 1].events_done) << "call " << i;
    }
  }
  EXPECT_EQ(calls.back().events_done, rebuilt->events);

  EXPECT_EQ(InfoOf("jobs").checkpoint, Head());
  ExpectNoDrift();
  for (int w = 0; w < kWriters; ++w) {
    const std::string& job = last_job[static_cast<size_t>(w)];
    ASSERT_FALSE(job.empty()) << "writer " << w;
    auto described = reads_->DescribeJob(job);
    ASSERT_TRUE(described.ok()) << job << ": " << described.status().ToString();
    EXPECT_EQ(described->status, JobStatus::kSucceeded) << job;
    EXPECT_EQ(described->job_process_details.number_of_succeeded_things, 1) << job;
  }
}

// ---- 4. a crash at every point of a rebuild ------------------------------------

class ProjectionManagerCrashTest : public ProjectionManagerTest,
                                   public ::testing::WithParamInterface<RebuildPoint> {};

std::string PointName(const ::testing::TestParamInfo<RebuildPoint>& info) {
  switch (info.param) {
    case RebuildPoint::kFamilyCreated: return "FamilyCreated";
    case RebuildPoint::kChunkApplied: return "ChunkApplied";
    case RebuildPoint::kCaughtUp: return "CaughtUp";
    case RebuildPoint::kSwitched: return "Switched";
  }
  return "Unknown";
}

TEST_P(ProjectionManagerCrashTest, RecoversAtNextOpen) {
  const RebuildPoint point = GetParam();
  ASSERT_NO_FATAL_FAILURE(BulkHistory("c", 1100));
  ASSERT_GT(Head(), kChunkEvents);  // so kChunkApplied is reached
  const Answers before = Read(job_ids_, things_);
  const std::string old_family = InfoOf("jobs").family;

  std::vector<RebuildPoint> reached;
  std::string new_family;
  RebuildOptions options;
  options.test_stop = [&](RebuildPoint p) {
    reached.push_back(p);
    if (p == RebuildPoint::kFamilyCreated) {
      for (const std::string& f : FamiliesWithPrefix("proj.jobs.v")) {
        if (f != old_family) new_family = f;
      }
    }
    return p != point;
  };
  auto stopped = projections_->Rebuild("jobs", options);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), StatusCode::kAborted) << stopped.status().ToString();
  ASSERT_FALSE(reached.empty());
  EXPECT_EQ(reached.back(), point);
  EXPECT_FALSE(new_family.empty());

  // The process dies here.
  ASSERT_NO_FATAL_FAILURE(ReopenAll());
  const std::string expected_family = point == RebuildPoint::kSwitched ? new_family : old_family;
  EXPECT_EQ(FamiliesWithPrefix("proj.jobs.v"), std::vector<std::string>{expected_family});
  EXPECT_EQ(InfoOf("jobs").family, expected_family);
  EXPECT_EQ(InfoOf("jobs").checkpoint, Head());
  ExpectSameAnswers(before, Read(job_ids_, things_));
  ExpectNoDrift();

  // Appends keep the surviving family current, and a second rebuild completes.
  ASSERT_NO_FATAL_FAILURE(MustCreate(NewJob("after", {ThingArnOf("after-thing")})));
  EXPECT_EQ(Describe("after").job_process_details.number_of_queued_things, 1);
  job_ids_.insert("after");
  things_.insert("after-thing");
  const Answers with_after = Read(job_ids_, things_);
  auto second = projections_->Rebuild("jobs");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->switched);
  EXPECT_EQ(FamiliesWithPrefix("proj.jobs.v"), std::vector<std::string>{second->family});
  ExpectSameAnswers(with_after, Read(job_ids_, things_));
  ExpectNoDrift();
}

INSTANTIATE_TEST_SUITE_P(ProjectionManagerPoints, ProjectionManagerCrashTest,
                         ::testing::Values(RebuildPoint::kFamilyCreated, RebuildPoint::kChunkApplied,
                                           RebuildPoint::kCaughtUp, RebuildPoint::kSwitched),
                         PointName);

// ---- 5. checkpoints ahead of and behind the log --------------------------------

TEST_F(ProjectionManagerTest, CheckpointAheadOfTheLogIsRebuiltAtOpen) {
  std::mt19937_64 rng(StartSeed() + 5);
  for (int i = 0; i < 400 && !HasFailure(); ++i) RandomStep(rng);
  const Answers before = Read(job_ids_, things_);
  const std::string old_family = InfoOf("jobs").family;
  const uint64_t head = Head();
  ASSERT_GT(head, 0u);

  // As if the log were restored from a backup older than the projection.
  const FamilyId family = Active("jobs");
  Status written = ledger_->log().WriteRows([&](RowTxn& txn) {
    WireWriter w;
    w.U64(head + 1000);
    return txn.Put(family, kCheckpointKey, w.Take());
  });
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(InfoOf("jobs").checkpoint, head + 1000);

  ASSERT_NO_FATAL_FAILURE(ReopenAll());
  const ProjectionInfo info = InfoOf("jobs");
  EXPECT_EQ(info.checkpoint, head);
  EXPECT_EQ(Head(), head);
  EXPECT_NE(info.family, old_family) << "served with the checkpoint ahead of the log";
  EXPECT_EQ(FamiliesWithPrefix("proj.jobs.v"), std::vector<std::string>{info.family});
  ExpectNoDrift();
  ExpectSameAnswers(before, Read(job_ids_, things_));
}

TEST_F(ProjectionManagerTest, CatchUpAppliesExactlyTheMissingEvents) {
  auto seen = std::make_shared<std::vector<uint64_t>>();
  auto extra = [&] {
    std::vector<ProjectionManager::Entry> e;
    e.push_back(CatchUpEntry(std::make_unique<RecordingProjection>("jobs_catchup", seen)));
    return e;
  };
  ASSERT_NO_FATAL_FAILURE(OpenProjections(extra()));
  std::mt19937_64 rng(StartSeed() + 6);
  for (int i = 0; i < 300 && !HasFailure(); ++i) RandomStep(rng);
  Status s = projections_->CatchUp("jobs_catchup");
  ASSERT_TRUE(s.ok()) << s.ToString();
  const uint64_t first = Head();
  EXPECT_EQ(InfoOf("jobs_catchup").checkpoint, first);

  // More than one chunk behind, and still behind across a reopen (catch-up
  // projections are not caught up at open).
  ASSERT_NO_FATAL_FAILURE(BulkHistory("b", 1100));
  const uint64_t second = Head();
  ASSERT_GT(second - first, kChunkEvents);
  EXPECT_EQ(InfoOf("jobs_catchup").checkpoint, first);
  EXPECT_EQ(InfoOf("jobs").checkpoint, second);
  ASSERT_NO_FATAL_FAILURE(ReopenAll(extra()));
  EXPECT_EQ(InfoOf("jobs_catchup").checkpoint, first);
  EXPECT_EQ(InfoOf("jobs").checkpoint, second);

  seen->clear();
  s = projections_->CatchUp("jobs_catchup");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen->size(), second - first);
  std::vector<uint64_t> expected;
  for (uint64_t q = first + 1; q <= second; ++q) expected.push_back(q);
  EXPECT_TRUE(*seen == expected) << "applied " << seen->size() << " events, first "
                                 << (seen->empty() ? 0 : seen->front());
  EXPECT_EQ(InfoOf("jobs_catchup").checkpoint, second);
  std::vector<std::string> diff = Diff("jobs", "jobs_catchup");
  EXPECT_TRUE(diff.empty()) << diff.size() << " rows differ, first: " << diff.front();

  // Caught up: another CatchUp applies nothing.
  seen->clear();
  s = projections_->CatchUp("jobs_catchup");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(seen->empty());
  ExpectNoDriftOf("jobs_catchup");
}

// ---- 6. dry run -------------------------------------------------------------------

TEST_F(ProjectionManagerTest, DryRunKeepsTheActiveFamily) {
  std::mt19937_64 rng(StartSeed() + 7);
  for (int i = 0; i < 400 && !HasFailure(); ++i) RandomStep(rng);
  const Answers before = Read(job_ids_, things_);
  const std::vector<std::string> families_before = ledger_->log().FamilyNames();
  const std::string active = InfoOf("jobs").family;

  std::string built;
  RebuildOptions options;
  options.compare = true;
  options.dry_run = true;
  options.test_stop = [&](RebuildPoint p) {
    if (p == RebuildPoint::kFamilyCreated) {
      for (const std::string& f : FamiliesWithPrefix("proj.jobs.v")) {
        if (f != active) built = f;
      }
    }
    return true;
  };
  auto report = projections_->Rebuild("jobs", options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->switched);
  EXPECT_TRUE(report->differences.empty()) << report->differences.front();
  EXPECT_EQ(report->family, active);
  EXPECT_EQ(report->events, Head());
  EXPECT_FALSE(built.empty());
  EXPECT_EQ(InfoOf("jobs").family, active);
  const std::vector<std::string> names = ledger_->log().FamilyNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), built), 0) << built << " was not dropped";
  EXPECT_EQ(names, families_before);
  ExpectSameAnswers(before, Read(job_ids_, things_));

  // Appends afterwards go to the active family only, and it stays right.
  ASSERT_NO_FATAL_FAILURE(MustCreate(NewJob("later", {ThingArnOf("later-thing")})));
  EXPECT_EQ(Describe("later").job_process_details.number_of_queued_things, 1);
  EXPECT_EQ(InfoOf("jobs").checkpoint, Head());
  ExpectNoDrift();
}

// ---- extra: readers beside a rebuild ----------------------------------------------

// The active family keeps answering while a rebuild runs: a reader racing the switch
// must never see an existing job as missing, or get an error.
TEST_F(ProjectionManagerTest, ReadsDuringRebuildKeepAnswering) {
  ASSERT_NO_FATAL_FAILURE(BulkHistory("r", 200));
  constexpr int kReaders = 3;
  constexpr int kRebuilds = 20;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> not_found{0};     // an existing job answered as missing
  std::atomic<uint64_t> other_errors{0};  // e.g. kDataLoss
  std::mutex errors_mu;
  std::vector<std::string> errors;
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      for (int i = 0; !stop.load(std::memory_order_acquire); ++i) {
        const std::string job = "r" + std::to_string((i * kReaders + r) % 200);
        auto j = reads_->DescribeJob(job);
        reads.fetch_add(1, std::memory_order_relaxed);
        if (!j.ok()) {
          (j.status().aws_error() == AwsError::kResourceNotFound ? not_found : other_errors)
              .fetch_add(1, std::memory_order_relaxed);
          std::lock_guard<std::mutex> lock(errors_mu);
          if (errors.size() < 5 || (j.status().aws_error() == AwsError::kResourceNotFound &&
                                    errors.size() < 10)) {
            errors.push_back(job + ": " + j.status().ToString());
          }
        }
      }
    });
  }
  int switched = 0;
  for (int i = 0; i < kRebuilds; ++i) {
    auto rebuilt = projections_->Rebuild("jobs");
    if (rebuilt.ok() && rebuilt->switched) ++switched;
  }
  stop.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  std::cout << "[ readers  ] " << reads.load() << " reads beside " << kRebuilds << " rebuilds: "
            << not_found.load() << " answered not found, " << other_errors.load()
            << " failed otherwise\n";
  EXPECT_EQ(not_found.load(), 0u);
  EXPECT_EQ(other_errors.load(), 0u);
  EXPECT_EQ(switched, kRebuilds);
  for (const std::string& e : errors) ADD_FAILURE() << "read during a rebuild failed: " << e;
  ExpectNoDrift();
}

}  // namespace
}  // namespace jobledger::testing
