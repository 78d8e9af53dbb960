// Concurrency of the Ledger: racing updates of one execution with expectedVersion,
// independent device flows interleaved by several threads, and CheckState beside
// writers.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/ledger/ledger_test_util.h"

namespace jobledger::testing {
namespace {

class LedgerConcurrencyTest : public LedgerFixture {
 protected:
  void ExpectLogAndStateSound() {
    auto verified = ledger_->log().Verify();
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_TRUE(verified->ok()) << verified->detail;
    EXPECT_EQ(verified->events_checked, Head());
    auto check = ledger_->CheckState();
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_TRUE(check->ok()) << (check->differences.empty() ? "" : check->differences[0]);
  }
};

TEST_F(LedgerConcurrencyTest, RacingUpdatesOfOneExecutionSerializeByVersion) {
  MustCreate(NewJob("race", {ThingArnOf("racer")}));
  MustUpdate("race", "racer", ExecutionStatus::kInProgress);
  ASSERT_EQ(Exec("race", "racer").version_number, 2);
  const uint64_t head_before = Head();

  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  std::mutex mu;
  std::vector<int64_t> based_on;  // the version each success was based on
  std::vector<std::string> other;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < kRounds; ++round) {
        auto read = ledger_->GetExecutionState("race", "racer");
        if (!read.ok() || !read->has_value()) {
          std::lock_guard<std::mutex> lock(mu);
          other.push_back("GetExecutionState: " + read.status().ToString());
          continue;
        }
        const int64_t v = (*read)->version_number;
        UpdateJobExecutionRequest r = Update("race", "racer", ExecutionStatus::kInProgress);
        r.expected_version = v;
        r.include_job_execution_state = true;
        r.status_details = DetailsMap{{"writer", std::to_string(w) + "-" + std::to_string(round)}};
        auto u = ledger_->UpdateJobExecution(As("thing:racer"), r);
        if (u.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          based_on.push_back(v);
          if (!u->execution_state || u->execution_state->version_number != v + 1) {
            other.push_back("a success based on v" + std::to_string(v) + " did not answer v" +
                            std::to_string(v + 1));
          }
        } else if (u.status().aws_error() == AwsError::kVersionConflict) {
          ++conflicts;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          other.push_back(u.status().ToString());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_TRUE(other.empty()) << other.size() << " calls neither succeeded nor conflicted; first: "
                             << (other.empty() ? "" : other[0]);
  const auto successes = static_cast<int64_t>(based_on.size());
  EXPECT_EQ(successes + conflicts.load(), int64_t{kThreads} * kRounds);
  std::sort(based_on.begin(), based_on.end());
  EXPECT_TRUE(std::adjacent_find(based_on.begin(), based_on.end()) == based_on.end())
      << "two updates succeeded on the same expectedVersion";
  // Each success moved the version by one from the version it expected: together they
  // are exactly 2, 3, ..., 2 + successes - 1.
  for (size_t i = 0; i < based_on.size(); ++i) {
    EXPECT_EQ(based_on[i], static_cast<int64_t>(i) + 2);
  }
  const ExecutionStateView after = Exec("race", "racer");
  EXPECT_EQ(after.version_number, 1 + 1 + successes);
  EXPECT_EQ(after.status, ExecutionStatus::kInProgress);
  EXPECT_EQ(Head(), head_before + static_cast<uint64_t>(successes));
  std::cout << "[ race     ] " << successes << " successes, " << conflicts.load()
            << " VersionConflictException\n";
  ExpectLogAndStateSound();
}

// CheckState beside writers: it compares at one sequence (under the append lock, after
// folding what arrived meanwhile), so a consistent ledger never shows a difference
// merely because an append landed between its fold and its comparison.
TEST_F(LedgerConcurrencyTest, CheckStateBesideWritersFindsNoDifference) {
  MustCreate(NewJob("busy", {ThingArnOf("d0"), ThingArnOf("d1"), ThingArnOf("d2"), ThingArnOf("d3")}));
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      const std::string thing = "d" + std::to_string(w);
      for (int i = 0; !stop.load(); ++i) {
        UpdateJobExecutionRequest r = Update("busy", thing, ExecutionStatus::kInProgress);
        r.status_details = DetailsMap{{"i", std::to_string(i)}};
        if (ledger_->UpdateJobExecution(As("thing:" + thing), r).ok()) ++appended;
        ThingGroupMembershipRequest m{"g" + std::to_string(w), thing + "-" + std::to_string(i)};
        if (ledger_->AddThingToThingGroup(As("user:ops"), m).ok()) ++appended;
      }
    });
  }
  int checks = 0;
  std::vector<std::string> differences;
  while (checks < 5 || appended.load() < 200) {
    auto check = ledger_->CheckState();
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    for (std::string& d : check->differences) differences.push_back(std::move(d));
    ++checks;
    if (checks > 200) break;
  }
  stop.store(true);
  for (std::thread& t : writers) t.join();
  EXPECT_TRUE(differences.empty()) << differences.size() << " differences over " << checks
                                   << " checks; first: " << differences.front();
  EXPECT_GE(appended.load(), 200);
  ExpectLogAndStateSound();
}

TEST_F(LedgerConcurrencyTest, IndependentDeviceFlowsInterleaveCleanly) {
  constexpr int kWorkers = 4;
  constexpr int kJobsPerWorker = 6;
  constexpr int kThingsPerWorker = 3;
  std::mutex mu;
  std::vector<std::string> errors;
  auto fail = [&mu, &errors](const std::string& message) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(message);
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      const std::string prefix = "w" + std::to_string(w);
      const std::string group = prefix + "-fleet";
      std::vector<std::string> things;
      for (int k = 0; k < kThingsPerWorker; ++k) things.push_back(prefix + "-t" + std::to_string(k));
      for (int k = 0; k + 1 < kThingsPerWorker; ++k) {
        ThingGroupMembershipRequest m;
        m.thing_group_name = group;
        m.thing_name = things[static_cast<size_t>(k)];
        Status s = ledger_->AddThingToThingGroup(As("user:" + prefix), m);
        if (!s.ok()) fail("AddThingToThingGroup: " + s.ToString());
      }
      for (int j = 0; j < kJobsPerWorker; ++j) {
        const std::string job = prefix + "-job" + std::to_string(j);
        auto created = ledger_->CreateJob(
            As("user:" + prefix), NewJob(job, {GroupArnOf(group), ThingArnOf(things.back())}));
        if (!created.ok()) {
          fail("CreateJob " + job + ": " + created.status().ToString());
          continue;
        }
        for (const std::string& thing : things) {
          StartNextPendingJobExecutionRequest start;
          start.thing_name = thing;
          start.status_details = DetailsMap{{"step", "start"}};
          auto next = ledger_->StartNextPendingJobExecution(As("thing:" + thing), start);
          if (!next.ok() || !next->execution || next->execution->job_id != job ||
              next->execution->version_number != 2 ||
              next->execution->status != ExecutionStatus::kInProgress) {
            fail("StartNext " + thing + " for " + job + ": " +
                 (next.ok() ? (next->execution ? "got " + next->execution->job_id + " v" +
                                                     std::to_string(next->execution->version_number)
                                               : std::string("nothing pending"))
                            : next.status().ToString()));
            continue;
          }
          UpdateJobExecutionRequest progress = Update(job, thing, ExecutionStatus::kInProgress);
          progress.expected_version = 2;
          progress.status_details = DetailsMap{{"step", "download"}};
          auto p = ledger_->UpdateJobExecution(As("thing:" + thing), progress);
          if (!p.ok()) fail("IN_PROGRESS " + job + "/" + thing + ": " + p.status().ToString());
          UpdateJobExecutionRequest done = Update(job, thing, ExecutionStatus::kSucceeded);
          done.expected_version = 3;
          auto d = ledger_->UpdateJobExecution(As("thing:" + thing), done);
          if (!d.ok()) fail("SUCCEEDED " + job + "/" + thing + ": " + d.status().ToString());
        }
        auto state = ledger_->GetJobState(job);
        if (!state.ok() || !state->has_value() || (*state)->status != JobStatus::kSucceeded) {
          fail("job " + job + " is not SUCCEEDED after its flows");
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors; first: " << (errors.empty() ? "" : errors[0]);

  for (int w = 0; w < kWorkers; ++w) {
    for (int j = 0; j < kJobsPerWorker; ++j) {
      const std::string job = "w" + std::to_string(w) + "-job" + std::to_string(j);
      const JobStateView state = Job(job);
      EXPECT_EQ(state.status, JobStatus::kSucceeded) << Describe(state);
      EXPECT_TRUE(state.completed_at_micros.has_value()) << Describe(state);
      EXPECT_EQ(state.count(ExecutionStatus::kSucceeded), kThingsPerWorker) << Describe(state);
      auto stream = ledger_->log().ReadStream(StreamKind::kJob, job);
      ASSERT_TRUE(stream.ok()) << stream.status().ToString();
      ASSERT_FALSE(stream->empty());
      EXPECT_TRUE(std::holds_alternative<JobCreated>(stream->front().body));
      EXPECT_TRUE(std::holds_alternative<JobCompleted>(stream->back().body));
    }
  }

  // Dense sequences: a cursor from 1 reads 1, 2, ..., head.
  uint64_t read = 0;
  auto cursor = ledger_->log().NewCursor();
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
    ++read;
    EXPECT_EQ(cursor->event().sequence, read);
    EXPECT_TRUE(cursor->event().cause == 0 || cursor->event().cause < cursor->event().sequence);
  }
  EXPECT_TRUE(cursor->status().ok()) << cursor->status().ToString();
  EXPECT_EQ(read, Head());
  // Per worker: 2 memberships; per job 1 JobCreated + 3 queued + 3 x 3 updates + 1 completed.
  EXPECT_EQ(Head(), static_cast<uint64_t>(kWorkers * (2 + kJobsPerWorker * 14)));
  ExpectLogAndStateSound();
}

}  // namespace
}  // namespace jobledger::testing
