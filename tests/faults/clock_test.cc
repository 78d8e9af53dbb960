// Suite 11, the clock stepping back an hour and jumping a year (ManualClock).
//
//   - order is by sequence, always; recordedAt never decreases: an append whose clock
//     reading is earlier than the last recorded time gets the previous event's time
//     and records the reading in clampedFrom (also across a reopen);
//   - as-of by time stays monotone and exact: EventLog::LastSequenceAtOrBefore(t)
//     and replay's AtTime(log, t) are the last sequence recorded at or before t, for
//     every recorded time, the times around them and the clamped readings;
//   - the job ledger: a timeout that falls due in the year the clock jumped is
//     appended by AdvanceTo at the new time, and as-of reads before and after it
//     answer the state of their moment;
//   - appenders on several threads while another thread moves the clock back and
//     forth: the same properties.

#include "jobledger/clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "jobledger/event_log.h"
#include "jobledger/ledger.h"
#include "jobledger/replay.h"
#include "tests/faults/fault_test_util.h"

namespace jobledger::faults {
namespace {

constexpr int64_t kHour = 3600 * kSecond;
constexpr int64_t kYear = 365 * 24 * kHour;

// Every event of `log`, in order; checks density and the recordedAt rules.
std::vector<Event> ExpectOrderedAndClamped(const EventLog& log) {
  std::vector<Event> events;
  std::unique_ptr<EventCursor> c = log.NewCursor();
  for (; c->state() == EventCursor::State::kPositioned; c->Next()) events.push_back(c->event());
  EXPECT_EQ(c->state(), EventCursor::State::kCaughtUp) << c->status().ToString();
  EXPECT_EQ(events.size(), log.head().sequence);
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    EXPECT_EQ(e.sequence, i + 1);
    if (i == 0) continue;
    const Event& prev = events[i - 1];
    EXPECT_GE(e.recorded_at_micros, prev.recorded_at_micros)
        << "recordedAt went back at event " << e.sequence;
    if (e.clamped_from_micros != 0) {
      EXPECT_EQ(e.recorded_at_micros, prev.recorded_at_micros)
          << "a clamped event " << e.sequence << " gets the previous event's time";
      EXPECT_LT(e.clamped_from_micros, e.recorded_at_micros) << "event " << e.sequence;
    }
  }
  return events;
}

// LastSequenceAtOrBefore and AtTime, at every interesting time, against a brute-force
// answer from the events; and monotone in time.
void ExpectAsOfByTimeExactAndMonotone(const EventLog& log, const std::vector<Event>& events,
                                      const std::vector<int64_t>& extra_times) {
  std::set<int64_t> probes(extra_times.begin(), extra_times.end());
  for (const Event& e : events) {
    for (int64_t d : {-kHour, int64_t{-1}, int64_t{0}, int64_t{1}, kHour})
      probes.insert(e.recorded_at_micros + d);
    if (e.clamped_from_micros != 0) probes.insert(e.clamped_from_micros);
  }
  probes.insert(0);
  probes.insert(std::numeric_limits<int64_t>::max());
  uint64_t previous = 0;
  for (int64_t t : probes) {
    uint64_t expected = 0;
    for (const Event& e : events) {
      if (e.recorded_at_micros <= t) expected = e.sequence;
    }
    StatusOr<uint64_t> got = log.LastSequenceAtOrBefore(t);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, expected) << "as of " << t;
    StatusOr<ReadPoint> at = AtTime(log, t);
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    EXPECT_EQ(at->sequence, expected) << "AtTime " << t;
    EXPECT_GE(*got, previous) << "as of " << t << " went back in time";
    previous = *got;
  }
}

TEST(ClockTest, SteppingBackAnHourAndJumpingAYearKeepOrderAndAsOf) {
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  ManualClock clock(kT0);
  EventLogOptions options;
  options.clock = &clock;
  options.sync = false;
  const Plan plan = Plan::Make(60);
  std::vector<int64_t> readings;  // the clock reading of each append
  size_t next = 0;
  auto append = [&](EventLog& log, int n, int64_t step) {
    for (int i = 0; i < n; ++i, ++next) {
      clock.Advance(step);
      readings.push_back(clock.NowMicros());
      StatusOr<AppendResult> r = log.Append(plan.appends[next]);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  };
  {
    auto log = EventLog::Open(options, dir.Sub("ledger"));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    append(**log, 10, kSecond);  // normal time
    clock.Advance(-kHour);       // NTP steps back an hour
    append(**log, 10, kSecond);  // all clamped: still before the last time
    clock.Advance(kYear);        // a year ahead
    append(**log, 10, kSecond);
    clock.Advance(-kHour);  // back an hour from there
    append(**log, 5, 10 * kSecond);
  }
  {
    auto log = EventLog::Open(options, dir.Sub("ledger"));  // the clamp survives a reopen
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    clock.Advance(-2 * kHour);
    append(**log, 5, kSecond);
    clock.Set(kT0);  // and back to where it all began
    append(**log, 5, kSecond);
    clock.Advance(2 * kYear);
    append(**log, 5, kSecond);
  }
  auto log = EventLog::Open(options, dir.Sub("ledger"), OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const std::vector<Event> events = ExpectOrderedAndClamped(**log);
  ASSERT_EQ(events.size(), plan.last_sequence[next - 1]);
  // Each event's time is its append's reading, or the running maximum when the
  // reading is earlier (then the reading is recorded).
  int64_t max_time = 0;
  int clamped = 0;
  for (size_t k = 0; k < next; ++k) {
    const int64_t reading = readings[k];
    const int64_t want = std::max(reading, max_time);
    for (uint64_t seq = plan.EventsBefore(k) + 1; seq <= plan.last_sequence[k]; ++seq) {
      const Event& e = events[seq - 1];
      EXPECT_EQ(e.recorded_at_micros, want) << "event " << seq;
      EXPECT_EQ(e.clamped_from_micros, reading < max_time ? reading : 0) << "event " << seq;
    }
    if (reading < max_time) ++clamped;
    max_time = want;
  }
  EXPECT_GE(clamped, 25) << "the scenario must clamp";
  ExpectAsOfByTimeExactAndMonotone(**log, events, readings);
}

// Timeouts in the job ledger when the clock jumps a year: AdvanceTo appends the
// TIMED_OUT at the new time, as-of reads answer each moment's state.
TEST(ClockTest, LedgerTimeoutsAndAsOfReadsAcrossClockSteps) {
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  ManualClock clock(kT0);
  LedgerOptions options;
  options.clock = &clock;
  auto stack = LedgerStack::Open(options, dir.Sub("ledger"));
  ASSERT_TRUE(stack.ok()) << stack.status().ToString();
  Ledger& ledger = *(*stack)->ledger;
  ASSERT_TRUE(ledger.AddThingToThingGroup({"user:ops", ""}, {"fleet", "dev-1"}).ok());
  clock.Advance(kSecond);
  CreateJobRequest create;
  create.job_id = "timed";
  create.targets = {"arn:aws:iot:us-east-1:123456789012:thing/dev-1"};
  create.document = "{}";
  create.timeout_config = TimeoutConfig{10};  // minutes
  ASSERT_TRUE(ledger.CreateJob({"user:ops", ""}, create).ok());
  clock.Advance(kSecond);
  UpdateJobExecutionRequest start;
  start.job_id = "timed";
  start.thing_name = "dev-1";
  start.status = ExecutionStatus::kInProgress;
  ASSERT_TRUE(ledger.UpdateJobExecution({"thing:dev-1", ""}, start).ok());
  const int64_t started_at = clock.NowMicros();
  const uint64_t started_seq = ledger.log().head().sequence;

  // The clock steps back an hour: an update is clamped; nothing is due.
  clock.Advance(-kHour);
  UpdateJobExecutionRequest progress = start;
  progress.status_details = DetailsMap{{"progress", "50%"}};
  ASSERT_TRUE(ledger.UpdateJobExecution({"thing:dev-1", ""}, progress).ok());
  StatusOr<Event> clamped = ledger.log().Read(ledger.log().head().sequence);
  ASSERT_TRUE(clamped.ok());
  EXPECT_EQ(clamped->recorded_at_micros, started_at);
  EXPECT_EQ(clamped->clamped_from_micros, started_at - kHour);
  StatusOr<AdvanceResult> none = ledger.AdvanceTo(clock.NowMicros());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->appended, 0u);
  const uint64_t before_jump = ledger.log().head().sequence;

  // A year later the timeout is long due.
  clock.Advance(kYear);
  StatusOr<AdvanceResult> advanced = ledger.AdvanceTo(clock.NowMicros());
  ASSERT_TRUE(advanced.ok()) << advanced.status().ToString();
  EXPECT_GE(advanced->appended, 1u);
  StatusOr<Event> timed_out = ledger.log().Read(before_jump + 1);
  ASSERT_TRUE(timed_out.ok());
  ASSERT_TRUE(std::holds_alternative<ExecutionTimedOut>(timed_out->body));
  EXPECT_EQ(timed_out->recorded_at_micros, clock.NowMicros());
  EXPECT_EQ(std::get<ExecutionTimedOut>(timed_out->body).deadline_micros,
            started_at + 10 * 60 * kSecond);

  // The clock steps back again; as of each moment, the state of that moment.
  clock.Advance(-kHour);
  ASSERT_TRUE(ledger.AddThingToThingGroup({"user:ops", ""}, {"fleet", "dev-2"}).ok());
  const std::vector<Event> events = ExpectOrderedAndClamped(ledger.log());
  ExpectAsOfByTimeExactAndMonotone(ledger.log(), events,
                                   {started_at - kHour, started_at + kYear / 2});
  struct Moment {
    int64_t at;
    ExecutionStatus status;
  };
  for (const Moment& m : {Moment{started_at, ExecutionStatus::kInProgress},
                          Moment{started_at + kYear / 2, ExecutionStatus::kInProgress},
                          Moment{timed_out->recorded_at_micros - 1, ExecutionStatus::kInProgress},
                          Moment{timed_out->recorded_at_micros, ExecutionStatus::kTimedOut},
                          Moment{clock.NowMicros() + kHour, ExecutionStatus::kTimedOut}}) {
    StatusOr<ReadPoint> at = AtTime(ledger.log(), m.at);
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    EXPECT_GE(at->sequence, started_seq);
    StatusOr<JobExecution> e =
        (*stack)->reads->DescribeJobExecution("timed", "dev-1", std::nullopt, *at);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(e->status, m.status) << "as of " << m.at;
  }
}

// Appenders on several threads while another thread steps the clock back an hour and
// forward a year at random (seeded); group commit decides them in order.
TEST(ClockTest, ConcurrentAppendersWhileTheClockStepsBackAndForth) {
  const uint64_t seed = TestSeed();
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  ManualClock clock(kT0);
  EventLogOptions options;
  options.clock = &clock;
  options.sync = false;
  options.max_group_size = 8;
  auto log = EventLog::Open(options, dir.Sub("ledger"));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  constexpr size_t kThreads = 4, kPerThread = 150;
  std::atomic<size_t> running{kThreads};
  std::thread mover([&] {
    std::mt19937_64 rng(seed);
    while (running.load(std::memory_order_acquire) > 0) {
      switch (rng() % 4) {
        case 0:
          clock.Advance(-kHour);
          break;
        case 1:  // a year ahead, or (past two decades) all the way back to the start
          if (clock.NowMicros() > kT0 + 20 * kYear) {
            clock.Set(kT0);
          } else {
            clock.Advance(kYear);
          }
          break;
        default:
          clock.Advance(static_cast<int64_t>(rng() % kSecond));
          break;
      }
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> appenders;
  for (size_t t = 0; t < kThreads; ++t) {
    appenders.emplace_back([&, t] {
      const Plan plan = Plan::Make(kPerThread, "t" + std::to_string(t));
      for (const AppendRequest& r : plan.appends) {
        StatusOr<AppendResult> result = (*log)->Append(r);
        EXPECT_TRUE(result.ok()) << result.status().ToString();
      }
      running.fetch_sub(1, std::memory_order_acq_rel);
    });
  }
  for (std::thread& a : appenders) a.join();
  mover.join();
  const std::vector<Event> events = ExpectOrderedAndClamped(**log);
  size_t clamped = 0;
  for (const Event& e : events) clamped += e.clamped_from_micros != 0 ? 1 : 0;
  RecordProperty("clamped_events", static_cast<int>(clamped));
  ExpectAsOfByTimeExactAndMonotone(**log, events, {});
  StatusOr<VerifyResult> v = (*log)->Verify();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->ok()) << v->detail;
}

}  // namespace
}  // namespace jobledger::faults
