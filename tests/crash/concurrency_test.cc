// Writers and readers together, in one process: writer threads run job commands
// (merged into groups by the log's writer) while reader threads query the read models
// and the log. Every read must be consistent:
//   - a job's counters and its execution list, read at one sequence, agree, and add up
//     to its targets; a job is SUCCEEDED exactly when all its executions are terminal
//     (the completion is derived in the same append);
//   - an answer as of a sequence never changes afterwards, however much is appended;
//   - ListJobs pages are in jobId order without repeats;
//   - a cursor following the log sees dense sequences and an unbroken chain, and the
//     head always names an event that can be read.
// Afterwards the state, the projection and the chain verify.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/read_models.h"
#include "tests/crash/recovery_check.h"

namespace jobledger::crash {
namespace {

constexpr int64_t kT0 = 1764237600000000;      // 2025-11-27T10:00:00Z
constexpr uint64_t kDefaultSeed = 0x636f6e63;  // "conc"
constexpr int kTargets = 3;

std::string ThingArnOf(const std::string& thing) {
  return "arn:aws:iot:us-east-1:123456789012:thing/" + thing;
}

int64_t Total(const JobProcessDetails& d) {
  return d.number_of_canceled_things + d.number_of_succeeded_things + d.number_of_failed_things +
         d.number_of_rejected_things + d.number_of_queued_things + d.number_of_in_progress_things +
         d.number_of_removed_things + d.number_of_timed_out_things;
}

std::array<int64_t, 9> CountsOf(const JobProcessDetails& d) {
  std::array<int64_t, 9> c{};
  c[static_cast<size_t>(ExecutionStatus::kQueued)] = d.number_of_queued_things;
  c[static_cast<size_t>(ExecutionStatus::kInProgress)] = d.number_of_in_progress_things;
  c[static_cast<size_t>(ExecutionStatus::kSucceeded)] = d.number_of_succeeded_things;
  c[static_cast<size_t>(ExecutionStatus::kFailed)] = d.number_of_failed_things;
  c[static_cast<size_t>(ExecutionStatus::kTimedOut)] = d.number_of_timed_out_things;
  c[static_cast<size_t>(ExecutionStatus::kRejected)] = d.number_of_rejected_things;
  c[static_cast<size_t>(ExecutionStatus::kRemoved)] = d.number_of_removed_things;
  c[static_cast<size_t>(ExecutionStatus::kCanceled)] = d.number_of_canceled_things;
  return c;
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LedgerOptions options;
    options.clock = &clock_;
    options.sync = false;
    auto ledger = Ledger::Open(options, dir_.Sub("ledger"));
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(ledger).value();
    auto projections = OpenJobsProjection(ledger_->log());
    ASSERT_TRUE(projections.ok()) << projections.status().ToString();
    projections_ = std::move(projections).value();
    reads_ =
        std::make_unique<ReadModels>(ledger_->log(), *projections_, ledger_->context(), &clock_);
  }
  void TearDown() override {
    reads_.reset();
    projections_.reset();
    ledger_.reset();
  }

  // Records a problem seen on any thread (the first few are reported).
  void Problem(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (problems_++ < 10) ADD_FAILURE() << what;
  }

  // The executions of `job` as of `at`, all pages.
  std::vector<JobExecutionSummaryForJob> Executions(const std::string& job, const ReadPoint& at) {
    std::vector<JobExecutionSummaryForJob> out;
    ListJobExecutionsForJobRequest r;
    r.job_id = job;
    r.max_results = 5;
    for (;;) {
      auto page = reads_->ListJobExecutionsForJob(r, at);
      if (!page.ok()) {
        Problem("ListJobExecutionsForJob(" + job + "): " + page.status().ToString());
        return out;
      }
      out.insert(out.end(), page->execution_summaries.begin(), page->execution_summaries.end());
      if (!page->next_token) return out;
      r.next_token = page->next_token;
    }
  }

  // Checks one job at one sequence: counters, executions and status agree.
  void CheckJobAt(const std::string& job, uint64_t seq, std::optional<int64_t> targets) {
    const ReadPoint at = ReadPoint::AtSequence(seq);
    auto described = reads_->DescribeJob(job, at);
    if (!described.ok()) {
      return Problem("DescribeJob(" + job + ") at " + std::to_string(seq) + ": " +
                     described.status().ToString());
    }
    const JobProcessDetails& d = described->job_process_details;
    if (targets && Total(d) != *targets) {
      Problem(job + " at " + std::to_string(seq) + ": counters add up to " +
              std::to_string(Total(d)) + ", not " + std::to_string(*targets));
    }
    std::array<int64_t, 9> listed{};
    for (const JobExecutionSummaryForJob& e : Executions(job, at)) {
      ++listed[static_cast<size_t>(e.job_execution_summary.status)];
    }
    if (listed != CountsOf(d)) {
      Problem(job + " at " + std::to_string(seq) + ": counters and execution list disagree");
    }
    const bool all_terminal = d.number_of_queued_things == 0 && d.number_of_in_progress_things == 0;
    if (targets && (described->status == JobStatus::kSucceeded) != all_terminal) {
      Problem(job + " at " + std::to_string(seq) + ": status " +
              std::string(JobStatusName(described->status)) + " with " +
              std::to_string(d.number_of_queued_things + d.number_of_in_progress_things) +
              " executions pending");
    }
    if (described->status == JobStatus::kSucceeded && !described->completed_at_micros) {
      Problem(job + " at " + std::to_string(seq) + ": SUCCEEDED without completedAt");
    }
  }

  TempDir dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<ProjectionManager> projections_;
  std::unique_ptr<ReadModels> reads_;
  std::mutex mu_;
  int problems_ = 0;
};

TEST_F(ConcurrencyTest, ReadersSeeConsistentStateWhileWritersAppend) {
  constexpr int kWriters = 4;
  constexpr int kIterations = 30;  // per writer
  const uint64_t seed = TestSeed(kDefaultSeed);
  CreateJobRequest fleet;
  fleet.job_id = "fleet-job";
  fleet.targets = {"arn:aws:iot:us-east-1:123456789012:thinggroup/fleet"};
  fleet.document = "{}";
  fleet.target_selection = TargetSelection::kContinuous;
  ASSERT_TRUE(ledger_->CreateJob(RequestContext{"user:ops", ""}, fleet).ok());

  std::mutex jobs_mu;
  std::vector<std::string> jobs;  // created and acknowledged
  std::atomic<int> writers_running{kWriters};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int n = 0; n < kIterations; ++n) {
        const std::string job = "w" + std::to_string(w) + "-" + std::to_string(n);
        std::vector<std::string> things;
        CreateJobRequest create;
        create.job_id = job;
        create.document = "{}";
        for (int t = 0; t < kTargets; ++t) {
          things.push_back(job + "-" + std::to_string(t));
          create.targets.push_back(ThingArnOf(things.back()));
        }
        auto created = ledger_->CreateJob(RequestContext{"user:ops", ""}, create);
        if (!created.ok()) return Problem("CreateJob " + job + ": " + created.status().ToString());
        {
          std::lock_guard<std::mutex> lock(jobs_mu);
          jobs.push_back(job);
        }
        const ExecutionStatus steps[][2] = {
            {ExecutionStatus::kInProgress, ExecutionStatus::kSucceeded},
            {ExecutionStatus::kFailed, ExecutionStatus::kNone},
            {ExecutionStatus::kInProgress, ExecutionStatus::kRejected}};
        for (int t = 0; t < kTargets; ++t) {
          for (ExecutionStatus s : steps[t]) {
            if (s == ExecutionStatus::kNone) continue;
            UpdateJobExecutionRequest u;
            u.job_id = job;
            u.thing_name = things[static_cast<size_t>(t)];
            u.status = s;
            auto updated =
                ledger_->UpdateJobExecution(RequestContext{"thing:" + u.thing_name, ""}, u);
            if (!updated.ok()) return Problem("update " + job + ": " + updated.status().ToString());
          }
        }
        if (n % 3 == 0) {
          Status joined =
              ledger_->AddThingToThingGroup(RequestContext{"user:ops", ""}, {"fleet", things[0]});
          if (!joined.ok()) return Problem("AddThingToThingGroup: " + joined.ToString());
        }
      }
      writers_running.fetch_sub(1, std::memory_order_acq_rel);
    });
  }
  auto writing = [&] { return writers_running.load(std::memory_order_acquire) > 0; };
  auto pick_job = [&](std::mt19937_64& rng) -> std::string {
    std::lock_guard<std::mutex> lock(jobs_mu);
    if (jobs.empty()) return "";
    return jobs[std::uniform_int_distribution<size_t>(0, jobs.size() - 1)(rng)];
  };

  // Jobs and lists read as of a sequence, to read again at the end.
  struct Sample {
    std::string job;
    uint64_t seq;
    jobledger::Job answer;
  };
  std::vector<Sample> samples;
  std::vector<std::pair<uint64_t, std::vector<JobSummary>>> lists;
  std::array<std::atomic<uint64_t>, 4> reads{};

  // Reader 0: a job's counters, executions and status at one sequence.
  threads.emplace_back([&] {
    std::mt19937_64 rng(seed);
    do {
      const std::string job = pick_job(rng);
      if (job.empty()) continue;
      const uint64_t seq = ledger_->log().head().sequence;  // after the job was created
      CheckJobAt(job, seq, kTargets);
      auto again = reads_->DescribeJob(job, ReadPoint::AtSequence(seq));
      if (again.ok() && samples.size() < 200) samples.push_back({job, seq, *again});
      reads[0].fetch_add(1);
    } while (writing());
  });
  // Reader 1: the continuous job everyone joins, and a thing's pending list.
  threads.emplace_back([&] {
    std::mt19937_64 rng(seed + 1);
    do {
      CheckJobAt("fleet-job", ledger_->log().head().sequence, std::nullopt);
      const std::string job = pick_job(rng);
      if (!job.empty()) {
        auto pending = reads_->GetPendingJobExecutions(job + "-0");
        if (!pending.ok()) Problem("GetPendingJobExecutions: " + pending.status().ToString());
      }
      reads[1].fetch_add(1);
    } while (writing());
  });
  // Reader 2: ListJobs, all pages, at one sequence.
  threads.emplace_back([&] {
    do {
      const uint64_t seq = ledger_->log().head().sequence;
      std::vector<JobSummary> all;
      ListJobsRequest r;
      r.max_results = 7;
      for (;;) {
        auto page = reads_->ListJobs(r, ReadPoint::AtSequence(seq));
        if (!page.ok()) {
          Problem("ListJobs: " + page.status().ToString());
          break;
        }
        all.insert(all.end(), page->jobs.begin(), page->jobs.end());
        if (!page->next_token) break;
        r.next_token = page->next_token;
      }
      for (size_t i = 1; i < all.size(); ++i) {
        if (!(all[i - 1].job_id < all[i].job_id)) {
          Problem("ListJobs at " + std::to_string(seq) + ": " + all[i - 1].job_id + " before " +
                  all[i].job_id);
          break;
        }
      }
      if (lists.size() < 50) lists.emplace_back(seq, std::move(all));
      reads[2].fetch_add(1);
    } while (writing());
  });
  // Reader 3: a cursor following the log.
  threads.emplace_back([&] {
    auto cursor = ledger_->log().NewCursor(1);
    uint64_t expected = 1;
    Hash previous{};
    for (bool last_look = false;;) {
      if (cursor->state() == EventCursor::State::kFailed) {
        return Problem("cursor failed: " + cursor->status().ToString());
      }
      if (cursor->state() == EventCursor::State::kCaughtUp) {
        const Head head = ledger_->log().head();
        if (head.sequence > 0 && !ledger_->log().Read(head.sequence).ok()) {
          Problem("the head " + std::to_string(head.sequence) + " cannot be read");
        }
        if (last_look) break;
        last_look = !writing();  // one more look after the writers stopped
        cursor->Next();
        continue;
      }
      const Event& e = cursor->event();
      if (e.sequence != expected) {
        return Problem("cursor: sequence " + std::to_string(e.sequence) + " after " +
                       std::to_string(expected - 1));
      }
      if (e.previous_hash != previous) {
        return Problem("cursor: event " + std::to_string(e.sequence) + " does not chain");
      }
      previous = cursor->hash();
      ++expected;
      reads[3].fetch_add(1);
      cursor->Next();
    }
    if (expected - 1 != ledger_->log().head().sequence) {
      Problem("cursor stopped at " + std::to_string(expected - 1) + ", head " +
              std::to_string(ledger_->log().head().sequence));
    }
  });
  for (std::thread& t : threads) t.join();
  std::cout << "[ reads    ] " << reads[0] << " job checks, " << reads[1] << " fleet checks, "
            << reads[2] << " listings, " << reads[3] << " events followed, beside "
            << ledger_->log().head().sequence << " events appended\n";
  ASSERT_EQ(problems_, 0);

  // Answers as of a sequence did not change with everything appended since.
  for (const Sample& s : samples) {
    auto now = reads_->DescribeJob(s.job, ReadPoint::AtSequence(s.seq));
    ASSERT_TRUE(now.ok()) << now.status().ToString();
    EXPECT_TRUE(*now == s.answer) << s.job << " as of " << s.seq << " changed";
  }
  for (const auto& [seq, list] : lists) {
    ListJobsRequest r;
    r.max_results = 250;
    auto page = reads_->ListJobs(r, ReadPoint::AtSequence(seq));
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_TRUE(page->jobs == list) << "ListJobs as of " << seq << " changed";
  }
  // Every job ended SUCCEEDED with one execution per status the writers chose.
  for (int w = 0; w < kWriters; ++w) {
    CheckJobAt("w" + std::to_string(w) + "-" + std::to_string(kIterations - 1),
               ledger_->log().head().sequence, kTargets);
  }
  EXPECT_EQ(problems_, 0);
  auto fleet_now = reads_->DescribeJob("fleet-job");
  ASSERT_TRUE(fleet_now.ok());
  EXPECT_EQ(Total(fleet_now->job_process_details), kWriters * ((kIterations + 2) / 3));

  VerifyOptions verify;
  verify.check_indexes = true;
  StatusOr<VerifyResult> verified = ledger_->log().Verify(verify);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->detail;
  StatusOr<StateCheckResult> state = ledger_->CheckState();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_TRUE(state->ok()) << state->differences.front();
  StatusOr<DriftReport> drift = projections_->CheckDrift(JobsProjection::kName);
  ASSERT_TRUE(drift.ok()) << drift.status().ToString();
  EXPECT_TRUE(drift->ok()) << drift->differences.front();
}

}  // namespace
}  // namespace jobledger::crash
