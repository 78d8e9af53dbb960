// The job-execution state machine (spec Part B 1.3, T1-T15), force-cancel (1.4),
// versionNumber (4.1), job-level cancel and delete, unknown resources and invalid input,
// driven through the Ledger's commands. Expectations follow the spec (Part A decides
// where Part B is silent), not the implementation.

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "tests/ledger/ledger_test_util.h"

namespace jobledger::testing {
namespace {

using ES = ExecutionStatus;

constexpr ES kAllStatuses[] = {ES::kQueued,   ES::kInProgress, ES::kSucceeded, ES::kFailed,
                               ES::kRejected, ES::kTimedOut,   ES::kCanceled,  ES::kRemoved};

// The spec's terminal set (Part B 1.2), written out rather than taken from the library.
bool SpecTerminal(ES s) {
  return s == ES::kSucceeded || s == ES::kFailed || s == ES::kTimedOut || s == ES::kRejected ||
         s == ES::kRemoved || s == ES::kCanceled;
}

std::string Name(ES s) { return std::string(ExecutionStatusName(s)); }

constexpr int64_t kTimeoutMinutes = 10;

// The execution an event changes, and the versionNumber it records.
struct ExecutionChange {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  int64_t version_number = 0;
};

std::optional<ExecutionChange> ChangeOf(const EventBody& body) {
  return std::visit(
      [](const auto& b) -> std::optional<ExecutionChange> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, ExecutionStatusChanged> ||
                      std::is_same_v<T, ExecutionCanceled> ||
                      std::is_same_v<T, ExecutionTimedOut> || std::is_same_v<T, ExecutionRemoved>) {
          ExecutionChange c;
          c.job_id = b.job_id;
          c.thing_name = b.thing_name;
          c.execution_number = b.execution_number;
          c.version_number = b.version_number;
          return c;
        } else {
          return std::nullopt;
        }
      },
      body);
}

class LedgerTransitionTest : public LedgerFixture {
 protected:
  // The subject of the CONTINUOUS-job helpers; the transition table renames them per row.
  std::string job_ = "job";
  std::string group_ = "fleet";
  std::string thing_ = "t1";  // the execution under test
  std::string other_ = "t2";  // a bystander in the same job

  std::vector<Event> EventsAfter(uint64_t after) {
    std::vector<Event> out;
    for (uint64_t seq = after + 1; seq <= Head(); ++seq) {
      auto e = ledger_->log().Read(seq);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      if (e.ok()) out.push_back(*e);
    }
    return out;
  }

  std::optional<ExecutionStateView> MaybeExec(const std::string& job, const std::string& thing,
                                              std::optional<int64_t> number = std::nullopt) {
    auto e = ledger_->GetExecutionState(job, thing, number);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : std::nullopt;
  }

  // The job's counters equal a count over its executions (every number of each thing).
  void ExpectCountsMatch(const std::string& job, const std::vector<std::string>& things) {
    std::array<int64_t, 9> counted{};
    for (const std::string& thing : things) {
      for (int64_t n = 1; n <= 4; ++n) {
        if (auto e = MaybeExec(job, thing, n)) ++counted[static_cast<size_t>(e->status)];
      }
    }
    JobStateView j = Job(job);
    for (ES s : kAllStatuses) {
      EXPECT_EQ(j.count(s), counted[static_cast<size_t>(s)]) << "counter " << Name(s);
    }
  }

  void ExpectStateChecks() {
    auto check = ledger_->CheckState();
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_TRUE(check->ok()) << check->differences.front();
  }

  // A rejected command: the exception, the field or rule named, and nothing appended.
  void ExpectRejectedNothingAppended(const Status& s, AwsError aws, const Digest& before,
                                     const std::string& message_part = "") {
    ExpectRejected(s, aws, message_part);
    EXPECT_EQ(ledger_->log().digest(), before) << "a rejected command appended events";
    EXPECT_EQ(Head(), before.sequence);
  }

  // A CONTINUOUS job job_ over group_ = {thing_, other_}, with an in-progress timeout.
  void CreateContinuousJob() {
    MustJoin(group_, thing_);
    MustJoin(group_, other_);
    CreateJobRequest r = NewJob(job_, {GroupArnOf(group_)});
    r.target_selection = TargetSelection::kContinuous;
    TimeoutConfig timeout;
    timeout.in_progress_timeout_in_minutes = kTimeoutMinutes;
    r.timeout_config = timeout;
    MustCreate(r);
  }

  void TimeOutNow() {
    clock_.Advance((kTimeoutMinutes + 1) * kMinute);
    auto advanced = ledger_->AdvanceTo(clock_.NowMicros());
    ASSERT_TRUE(advanced.ok()) << advanced.status().ToString();
  }

  Status Cancel(const std::string& job, const std::string& thing, bool force,
                std::optional<int64_t> expected_version = std::nullopt) {
    CancelJobExecutionRequest r;
    r.job_id = job;
    r.thing_name = thing;
    r.force = force;
    r.expected_version = expected_version;
    return ledger_->CancelJobExecution(As("user:ops"), r);
  }

  Status DeleteExec(const std::string& job, const std::string& thing, int64_t number, bool force) {
    DeleteJobExecutionRequest r;
    r.job_id = job;
    r.thing_name = thing;
    r.execution_number = number;
    r.force = force;
    return ledger_->DeleteJobExecution(As("user:ops"), r);
  }

  Status Device(const std::string& job, const std::string& thing, ES status,
                std::optional<int64_t> expected_version = std::nullopt) {
    UpdateJobExecutionRequest r = Update(job, thing, status);
    r.expected_version = expected_version;
    return ledger_->UpdateJobExecution(As("thing:" + thing), r).status();
  }

  StatusOr<JobReference> CancelWholeJob(const std::string& job, bool force) {
    CancelJobRequest r;
    r.job_id = job;
    r.force = force;
    return ledger_->CancelJob(As("user:ops"), r);
  }

  Status DeleteWholeJob(const std::string& job, bool force) {
    DeleteJobRequest r;
    r.job_id = job;
    r.force = force;
    return ledger_->DeleteJob(As("user:ops"), r);
  }

  // Brings thing_'s execution of the CONTINUOUS job to `from`; returns its version then.
  int64_t Reach(ES from) {
    CreateContinuousJob();  // a failure shows as the wrong status below
    int64_t version = 1;
    switch (from) {
      case ES::kQueued: break;
      case ES::kInProgress:
        MustUpdate(job_, thing_, ES::kInProgress);
        version = 2;
        break;
      case ES::kSucceeded:
      case ES::kFailed:
        MustUpdate(job_, thing_, ES::kInProgress);
        MustUpdate(job_, thing_, from);
        version = 3;
        break;
      case ES::kRejected:  // QUEUED -> REJECTED directly (T4)
        MustUpdate(job_, thing_, ES::kRejected);
        version = 2;
        break;
      case ES::kTimedOut:
        MustUpdate(job_, thing_, ES::kInProgress);
        TimeOutNow();
        version = 3;
        break;
      case ES::kCanceled: {
        Status s = Cancel(job_, thing_, /*force=*/false);
        EXPECT_TRUE(s.ok()) << s.ToString();
        version = 2;
        break;
      }
      case ES::kRemoved: {
        Status s = ledger_->RemoveThingFromThingGroup(As("user:ops"), {group_, thing_});
        EXPECT_TRUE(s.ok()) << s.ToString();
        version = 2;
        break;
      }
      default: ADD_FAILURE() << "no way to reach " << Name(from);
    }
    ExecutionStateView e = Exec(job_, thing_);
    EXPECT_EQ(e.status, from) << "setup did not reach " << Name(from);
    EXPECT_EQ(e.version_number, version) << "setup version for " << Name(from);
    return version;
  }
};

// ---------------------------------------------------------------------------
// 1. Every (from status, operation) pair of one execution.

enum class Op {
  kUpdate,        // device UpdateJobExecution(status = update_to)
  kStartNext,     // device StartNextPendingJobExecution
  kCancel,        // CancelJobExecution(force = false)
  kCancelForce,   // CancelJobExecution(force = true)
  kDelete,        // DeleteJobExecution(force = false)
  kDeleteForce,   // DeleteJobExecution(force = true)
  kTimeout,       // the service: AdvanceTo past the in-progress timeout
  kRemoval,       // the service: the thing leaves the CONTINUOUS job's target group
  kThingDeleted,  // the service: the thing is deleted
};

struct Operation {
  Op op;
  ES update_to = ES::kNone;
};

std::string OpName(const Operation& o) {
  switch (o.op) {
    case Op::kUpdate: return "UpdateJobExecution(" + Name(o.update_to) + ")";
    case Op::kStartNext: return "StartNextPendingJobExecution";
    case Op::kCancel: return "CancelJobExecution";
    case Op::kCancelForce: return "CancelJobExecution(force)";
    case Op::kDelete: return "DeleteJobExecution";
    case Op::kDeleteForce: return "DeleteJobExecution(force)";
    case Op::kTimeout: return "service timeout";
    case Op::kRemoval: return "service removal (leaves the group)";
    case Op::kThingDeleted: return "service removal (thing deleted)";
  }
  return "?";
}

enum class Outcome {
  kRejected,   // the AWS exception; nothing appended; execution unchanged
  kChanged,    // new status, versionNumber + 1
  kDeleted,    // the execution is gone
  kUnchanged,  // accepted, but nothing happens to this execution
};

struct Expected {
  Outcome outcome = Outcome::kUnchanged;
  AwsError error = AwsError::kNone;
  std::string message_part;  // for rejections
  ES status = ES::kNone;     // for kChanged
  bool force_canceled = false;
  bool appends_nothing = false;  // for kUnchanged
};

Expected Reject(AwsError error, std::string message_part) {
  Expected e;
  e.outcome = Outcome::kRejected;
  e.error = error;
  e.message_part = std::move(message_part);
  return e;
}

Expected Change(ES status, bool force_canceled = false) {
  Expected e;
  e.outcome = Outcome::kChanged;
  e.status = status;
  e.force_canceled = force_canceled;
  return e;
}

Expected Deleted() {
  Expected e;
  e.outcome = Outcome::kDeleted;
  return e;
}

Expected Unchanged(bool appends_nothing) {
  Expected e;
  e.outcome = Outcome::kUnchanged;
  e.appends_nothing = appends_nothing;
  return e;
}

// The spec's answer for one row.
Expected SpecOutcome(ES from, const Operation& o) {
  const bool terminal = SpecTerminal(from);
  switch (o.op) {
    case Op::kUpdate:
      // Part A 12: statuses only the service sets, and none, are malformed requests.
      if (o.update_to == ES::kCanceled || o.update_to == ES::kTimedOut ||
          o.update_to == ES::kRemoved || o.update_to == ES::kNone) {
        return Reject(AwsError::kInvalidRequest, "status:");
      }
      if (terminal) return Reject(AwsError::kInvalidStateTransition, "terminal state");  // T14
      if (o.update_to == ES::kQueued) return Reject(AwsError::kInvalidStateTransition, "QUEUED");
      return Change(o.update_to);  // T2, T3, T4
    case Op::kStartNext:
      if (from == ES::kQueued) return Change(ES::kInProgress);  // T2
      // IN_PROGRESS: answered as it is; terminal: nothing pending for the thing.
      return Unchanged(/*appends_nothing=*/true);
    case Op::kCancel:
      if (terminal) return Reject(AwsError::kInvalidStateTransition, "terminal state");  // T15
      if (from == ES::kInProgress) return Reject(AwsError::kInvalidStateTransition, "force");  // T8
      return Change(ES::kCanceled);                                                            // T6
    case Op::kCancelForce:
      if (terminal) return Reject(AwsError::kInvalidStateTransition, "terminal state");  // T15
      // T7: forceCanceled marks an execution canceled while IN_PROGRESS (1.4).
      return Change(ES::kCanceled, /*force_canceled=*/from == ES::kInProgress);
    case Op::kDelete:
      // Part A 11: without force only a terminal execution.
      if (!terminal) return Reject(AwsError::kInvalidStateTransition, "force");
      return Deleted();
    case Op::kDeleteForce: return Deleted();
    case Op::kTimeout:
      if (from == ES::kInProgress) return Change(ES::kTimedOut);  // T5
      return Unchanged(/*appends_nothing=*/true);
    case Op::kRemoval:
      if (from == ES::kQueued || from == ES::kInProgress) return Change(ES::kRemoved);  // T9
      // A terminal execution stays as it is; the membership change itself is recorded
      // (unless the thing already left, for REMOVED).
      return Unchanged(/*appends_nothing=*/from == ES::kRemoved);
    case Op::kThingDeleted:
      if (from == ES::kQueued || from == ES::kInProgress) return Change(ES::kRemoved);  // T9
      return Unchanged(/*appends_nothing=*/false);  // the ThingDeleted event alone
  }
  return Expected{};
}

std::vector<Operation> AllOperations() {
  std::vector<Operation> ops;
  for (ES to : kAllStatuses) ops.push_back({Op::kUpdate, to});
  ops.push_back({Op::kUpdate, ES::kNone});
  for (Op op : {Op::kStartNext, Op::kCancel, Op::kCancelForce, Op::kDelete, Op::kDeleteForce,
                Op::kTimeout, Op::kRemoval, Op::kThingDeleted}) {
    ops.push_back({op, ES::kNone});
  }
  return ops;
}

// Each row has its own job, group and things in one ledger, and deletes its job at the
// end so that no timer of an earlier row is left to fall due in a later one.
TEST_F(LedgerTransitionTest, EveryFromStatusAndOperation) {
  int row = 0;
  for (ES from : kAllStatuses) {
    for (const Operation& o : AllOperations()) {
      const std::string n = std::to_string(row++);
      job_ = "job" + n;
      group_ = "group" + n;
      thing_ = "t" + n;
      other_ = "bystander" + n;
      const std::string name = "from " + Name(from) + " / " + OpName(o) + " (" + job_ + ")";
      SCOPED_TRACE(name);
      [&] {
        const int64_t version = Reach(from);
        if (MaybeExec(job_, thing_).value_or(ExecutionStateView{}).status != from) return;
        const ExecutionStateView before = Exec(job_, thing_);
        const Digest digest = ledger_->log().digest();
        const Expected want = SpecOutcome(from, o);

        Status s;
        std::optional<StartNextPendingJobExecutionResponse> next;
        switch (o.op) {
          case Op::kUpdate: s = Device(job_, thing_, o.update_to); break;
          case Op::kStartNext: {
            StartNextPendingJobExecutionRequest r;
            r.thing_name = thing_;
            auto got = ledger_->StartNextPendingJobExecution(As("thing:" + thing_), r);
            s = got.status();
            if (got.ok()) next = *got;
            break;
          }
          case Op::kCancel: s = Cancel(job_, thing_, false); break;
          case Op::kCancelForce: s = Cancel(job_, thing_, true); break;
          case Op::kDelete: s = DeleteExec(job_, thing_, before.execution_number, false); break;
          case Op::kDeleteForce: s = DeleteExec(job_, thing_, before.execution_number, true); break;
          case Op::kTimeout: {
            clock_.Advance((kTimeoutMinutes + 1) * kMinute);
            auto advanced = ledger_->AdvanceTo(clock_.NowMicros());
            s = advanced.status();
            break;
          }
          case Op::kRemoval:
            s = ledger_->RemoveThingFromThingGroup(As("user:ops"), {group_, thing_});
            break;
          case Op::kThingDeleted: {
            DeleteThingRequest r;
            r.thing_name = thing_;
            s = ledger_->DeleteThing(As("user:ops"), r);
            break;
          }
        }

        const std::vector<Event> appended = EventsAfter(digest.sequence);
        switch (want.outcome) {
          case Outcome::kRejected: {
            ExpectRejectedNothingAppended(s, want.error, digest, want.message_part);
            ExecutionStateView after = Exec(job_, thing_);
            EXPECT_EQ(after.status, before.status);
            EXPECT_EQ(after.version_number, before.version_number);
            EXPECT_EQ(after.force_canceled, before.force_canceled);
            EXPECT_EQ(after.last_updated_at_micros, before.last_updated_at_micros);
            break;
          }
          case Outcome::kChanged: {
            ASSERT_TRUE(s.ok()) << s.ToString();
            ExecutionStateView after = Exec(job_, thing_);
            EXPECT_EQ(after.status, want.status) << "got " << Name(after.status);
            EXPECT_EQ(after.execution_number, before.execution_number);
            EXPECT_EQ(after.version_number, version + 1);
            EXPECT_EQ(after.force_canceled, want.force_canceled);
            // The log records the change with the version it produced.
            bool recorded = false;
            for (const Event& e : appended) {
              auto c = ChangeOf(e.body);
              if (c && c->job_id == job_ && c->thing_name == thing_) {
                EXPECT_EQ(c->version_number, version + 1) << "event " << e.sequence;
                recorded = true;
              }
            }
            EXPECT_TRUE(recorded) << "no execution event appended";
            if (o.op == Op::kStartNext) {
              ASSERT_TRUE(next && next->execution);
              EXPECT_EQ(next->execution->status, ES::kInProgress);
              EXPECT_EQ(next->execution->version_number, version + 1);
            }
            if (SpecTerminal(want.status)) {
              // Reaching a terminal state ends both timers (T4, [S13]).
              auto due = ledger_->NextDue();
              ASSERT_TRUE(due.ok());
              EXPECT_FALSE(due->has_value()) << "a timer outlived a terminal execution";
            }
            break;
          }
          case Outcome::kDeleted: {
            ASSERT_TRUE(s.ok()) << s.ToString();
            EXPECT_FALSE(MaybeExec(job_, thing_).has_value());
            EXPECT_FALSE(MaybeExec(job_, thing_, before.execution_number).has_value());
            auto pending = ledger_->GetPendingJobExecutions(thing_);
            ASSERT_TRUE(pending.ok());
            EXPECT_TRUE(pending->in_progress_jobs.empty());
            EXPECT_TRUE(pending->queued_jobs.empty());
            auto due = ledger_->NextDue();
            ASSERT_TRUE(due.ok());
            EXPECT_FALSE(due->has_value()) << "a deleted execution's timer is still scheduled";
            break;
          }
          case Outcome::kUnchanged: {
            ASSERT_TRUE(s.ok()) << s.ToString();
            ExecutionStateView after = Exec(job_, thing_);
            EXPECT_EQ(after.status, before.status);
            EXPECT_EQ(after.version_number, before.version_number);
            for (const Event& e : appended) {
              EXPECT_NE(JobIdOf(e.body), job_)
                  << "event " << e.sequence << " " << EventKindName(KindOf(e.body));
            }
            if (want.appends_nothing) {
              EXPECT_EQ(ledger_->log().digest(), digest);
            }
            if (o.op == Op::kStartNext) {
              ASSERT_TRUE(next.has_value());
              if (from == ES::kInProgress) {
                ASSERT_TRUE(next->execution.has_value());
                EXPECT_EQ(next->execution->status, ES::kInProgress);
                EXPECT_EQ(next->execution->version_number, before.version_number);
              } else {
                EXPECT_FALSE(next->execution.has_value());
              }
            }
            break;
          }
        }
        // The bystander is untouched by anything done to the subject.
        EXPECT_EQ(Exec(job_, other_).status, ES::kQueued);
        EXPECT_EQ(Exec(job_, other_).version_number, 1);
        EXPECT_EQ(Job(job_).status, JobStatus::kInProgress);
        ExpectCountsMatch(job_, {thing_, other_});
      }();
      Status cleanup = DeleteWholeJob(job_, /*force=*/true);
      ASSERT_TRUE(cleanup.ok()) << cleanup.ToString();
    }
  }
  ExpectStateChecks();
}

// T1, T9, T10 for a thing group whose name holds ':' (thingGroupName allows
// [a-zA-Z0-9:_-]+, spec 7.1): joining queues, leaving removes, re-joining re-queues.
TEST_F(LedgerTransitionTest, ContinuousJobOverGroupNameWithColon) {
  const std::string group = "site:fleet";
  MustJoin(group, thing_);
  CreateJobRequest r = NewJob(job_, {GroupArnOf(group)});
  r.target_selection = TargetSelection::kContinuous;
  MustCreate(r);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(Exec(job_, thing_).status, ES::kQueued);

  MustJoin(group, other_);  // T1: a thing joining later is queued
  auto joined = MaybeExec(job_, other_);
  ASSERT_TRUE(joined.has_value()) << "a thing joining " << group << " was not queued";
  EXPECT_EQ(joined->status, ES::kQueued);

  MustUpdate(job_, thing_, ES::kInProgress);
  ASSERT_TRUE(ledger_->RemoveThingFromThingGroup(As("user:ops"), {group, thing_}).ok());
  ExecutionStateView left = Exec(job_, thing_);
  EXPECT_EQ(left.status, ES::kRemoved) << "T9: got " << Name(left.status);
  EXPECT_EQ(left.version_number, 3);

  MustJoin(group, thing_);  // T10: a new execution
  ExecutionStateView again = Exec(job_, thing_);
  EXPECT_EQ(again.execution_number, 2);
  EXPECT_EQ(again.status, ES::kQueued);
  EXPECT_EQ(again.version_number, 1);
  ExpectCountsMatch(job_, {thing_, other_});
  ExpectStateChecks();
}

// ---------------------------------------------------------------------------
// 2. expectedVersion and versionNumber.

TEST_F(LedgerTransitionTest, StaleExpectedVersionIsAConflictAndAppendsNothing) {
  CreateContinuousJob();
  ASSERT_FALSE(HasFatalFailure());

  // UpdateJobExecution: a stale (or future) version conflicts; the current one passes.
  Digest d = ledger_->log().digest();
  ExpectRejectedNothingAppended(Device(job_, thing_, ES::kInProgress, 2),
                                AwsError::kVersionConflict, d, "expectedVersion");
  EXPECT_EQ(Exec(job_, thing_).version_number, 1);
  EXPECT_EQ(Exec(job_, thing_).status, ES::kQueued);
  Status s = Device(job_, thing_, ES::kInProgress, 1);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Exec(job_, thing_).version_number, 2);

  d = ledger_->log().digest();
  ExpectRejectedNothingAppended(Device(job_, thing_, ES::kSucceeded, 1), AwsError::kVersionConflict,
                                d, "expectedVersion");
  EXPECT_EQ(Exec(job_, thing_).status, ES::kInProgress);
  s = Device(job_, thing_, ES::kInProgress, 2);  // T3 with the current version
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Exec(job_, thing_).version_number, 3);

  // CancelJobExecution: the same guard.
  d = ledger_->log().digest();
  ExpectRejectedNothingAppended(Cancel(job_, thing_, true, 2), AwsError::kVersionConflict, d,
                                "expectedVersion");
  EXPECT_EQ(Exec(job_, thing_).status, ES::kInProgress);
  EXPECT_EQ(Exec(job_, thing_).version_number, 3);
  s = Cancel(job_, thing_, true, 3);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Exec(job_, thing_).status, ES::kCanceled);
  EXPECT_EQ(Exec(job_, thing_).version_number, 4);

  // A differing expectedVersion conflicts on every operation that takes it (Part A 6),
  // even when the execution is terminal; the current one meets the state check.
  d = ledger_->log().digest();
  ExpectRejectedNothingAppended(Device(job_, thing_, ES::kSucceeded, 3), AwsError::kVersionConflict,
                                d, "expectedVersion");
  ExpectRejectedNothingAppended(Device(job_, thing_, ES::kSucceeded, 4),
                                AwsError::kInvalidStateTransition, d);
  ExpectRejectedNothingAppended(Cancel(job_, thing_, true, 1), AwsError::kVersionConflict, d,
                                "expectedVersion");
  ExpectRejectedNothingAppended(Cancel(job_, thing_, true, 4), AwsError::kInvalidStateTransition,
                                d);

  // A QUEUED execution canceled without force, at its current version.
  d = ledger_->log().digest();
  ExpectRejectedNothingAppended(Cancel(job_, other_, false, 2), AwsError::kVersionConflict, d);
  s = Cancel(job_, other_, false, 1);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Exec(job_, other_).version_number, 2);
  ExpectCountsMatch(job_, {thing_, other_});
  ExpectStateChecks();
}

TEST_F(LedgerTransitionTest, VersionNumberCountsEveryAcceptedChange) {
  CreateContinuousJob();
  ASSERT_FALSE(HasFatalFailure());
  std::map<std::string, std::vector<int64_t>> seen;  // "thing#n" -> versions in order
  auto note = [&](const std::string& thing) {
    ExecutionStateView e = Exec(job_, thing);
    seen[thing + "#" + std::to_string(e.execution_number)].push_back(e.version_number);
  };
  note(thing_);
  note(other_);

  // Device: StartNext, then IN_PROGRESS twice (T3), with details and a step timer.
  StartNextPendingJobExecutionRequest start;
  start.thing_name = thing_;
  auto started = ledger_->StartNextPendingJobExecution(As("thing:t1"), start);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  note(thing_);
  UpdateJobExecutionRequest progress = Update(job_, thing_, ES::kInProgress);
  progress.status_details = DetailsMap{{"progress", "50%"}};
  ASSERT_TRUE(ledger_->UpdateJobExecution(As("thing:t1"), progress).ok());
  note(thing_);
  progress.step_timeout_in_minutes = 3;
  ASSERT_TRUE(ledger_->UpdateJobExecution(As("thing:t1"), progress).ok());
  note(thing_);
  // Rejected commands do not count.
  EXPECT_FALSE(Device(job_, thing_, ES::kQueued).ok());
  EXPECT_FALSE(Cancel(job_, thing_, false).ok());
  note(thing_);
  // Service: the step timer expires.
  clock_.Advance(4 * kMinute);
  ASSERT_TRUE(ledger_->AdvanceTo(clock_.NowMicros()).ok());
  EXPECT_EQ(Exec(job_, thing_).status, ES::kTimedOut);
  note(thing_);

  // t2: device, then the service removes it; re-joining queues execution #2 at 1, which
  // management cancels.
  MustUpdate(job_, other_, ES::kInProgress);
  note(other_);
  ASSERT_TRUE(ledger_->RemoveThingFromThingGroup(As("user:ops"), {group_, other_}).ok());
  EXPECT_EQ(Exec(job_, other_).status, ES::kRemoved);
  note(other_);
  MustJoin(group_, other_);
  EXPECT_EQ(Exec(job_, other_).execution_number, 2);
  note(other_);
  ASSERT_TRUE(Cancel(job_, other_, false).ok());
  note(other_);

  const std::map<std::string, std::vector<int64_t>> want = {
      {"t1#1", {1, 2, 3, 4, 4, 5}},
      {"t2#1", {1, 2, 3}},
      {"t2#2", {1, 2}},
  };
  EXPECT_EQ(seen, want);

  // The log agrees: per execution, each change records the next version, from 2.
  std::map<std::string, int64_t> last;
  for (const Event& e : EventsAfter(0)) {
    if (auto q = std::get_if<ExecutionQueued>(&e.body)) {
      last[q->thing_name + "#" + std::to_string(q->execution_number)] = 1;
    } else if (auto c = ChangeOf(e.body)) {
      int64_t& v = last[c->thing_name + "#" + std::to_string(c->execution_number)];
      EXPECT_EQ(c->version_number, v + 1) << "event " << e.sequence;
      v = c->version_number;
    }
  }
  EXPECT_EQ(last["t1#1"], 5);
  EXPECT_EQ(last["t2#1"], 3);
  EXPECT_EQ(last["t2#2"], 2);
  ExpectCountsMatch(job_, {thing_, other_});
  ExpectStateChecks();
}

// ---------------------------------------------------------------------------
// 3. Job-level transitions.

class LedgerTransitionJobTest : public LedgerTransitionTest {
 protected:
  // A SNAPSHOT job over t1, t2, t3: t1 IN_PROGRESS, t2 QUEUED, t3 SUCCEEDED.
  void CreateMixedJob() {
    CreateJobRequest r = NewJob(job_, {ThingArnOf("t1"), ThingArnOf("t2"), ThingArnOf("t3")});
    TimeoutConfig timeout;
    timeout.in_progress_timeout_in_minutes = kTimeoutMinutes;
    r.timeout_config = timeout;
    MustCreate(r);
    MustUpdate(job_, "t1", ES::kInProgress);
    MustUpdate(job_, "t3", ES::kSucceeded);
  }

  // The sequence of the only JobCanceled event after `after`.
  uint64_t JobCanceledAfter(uint64_t after) {
    uint64_t found = 0;
    for (const Event& e : EventsAfter(after)) {
      if (std::holds_alternative<JobCanceled>(e.body)) {
        EXPECT_EQ(found, 0u) << "two JobCanceled events";
        found = e.sequence;
      }
    }
    EXPECT_NE(found, 0u) << "no JobCanceled event";
    return found;
  }

  // The ExecutionCanceled event of `thing` after `after`.
  std::optional<Event> ExecutionCanceledAfter(uint64_t after, const std::string& thing) {
    for (const Event& e : EventsAfter(after)) {
      if (auto c = std::get_if<ExecutionCanceled>(&e.body); c && c->thing_name == thing) return e;
    }
    return std::nullopt;
  }

  const std::vector<std::string> things_ = {"t1", "t2", "t3"};
};

TEST_F(LedgerTransitionJobTest, CancelJobCancelsQueuedAndLeavesInProgress) {
  CreateMixedJob();
  ASSERT_FALSE(HasFatalFailure());
  const uint64_t before = Head();
  CancelJobRequest r;
  r.job_id = job_;
  r.reason_code = "OPS_HALT";
  r.comment = "halted by ops";
  auto canceled = ledger_->CancelJob(As("user:ops"), r);
  ASSERT_TRUE(canceled.ok()) << canceled.status().ToString();
  EXPECT_EQ(canceled->job_id, job_);

  JobStateView j = Job(job_);
  EXPECT_EQ(j.status, JobStatus::kCanceled);
  EXPECT_FALSE(j.force_canceled);
  EXPECT_EQ(j.reason_code, "OPS_HALT");
  EXPECT_EQ(j.comment, "halted by ops");

  const uint64_t job_canceled = JobCanceledAfter(before);
  auto read = ledger_->log().Read(job_canceled);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->actor, "user:ops");
  EXPECT_EQ(read->cause, 0u);

  // T6: the QUEUED execution is canceled, caused by the JobCanceled event.
  ExecutionStateView t2 = Exec(job_, "t2");
  EXPECT_EQ(t2.status, ES::kCanceled);
  EXPECT_EQ(t2.version_number, 2);
  EXPECT_FALSE(t2.force_canceled);
  auto t2_event = ExecutionCanceledAfter(before, "t2");
  ASSERT_TRUE(t2_event.has_value());
  auto t2_read = ledger_->log().Read(t2_event->sequence);
  ASSERT_TRUE(t2_read.ok());
  EXPECT_EQ(t2_read->cause, job_canceled);
  EXPECT_EQ(t2_read->actor.rfind("system:", 0), 0u) << t2_read->actor;

  // T8: IN_PROGRESS untouched; terminal untouched.
  EXPECT_FALSE(ExecutionCanceledAfter(before, "t1").has_value());
  EXPECT_FALSE(ExecutionCanceledAfter(before, "t3").has_value());
  EXPECT_EQ(Exec(job_, "t1").status, ES::kInProgress);
  EXPECT_EQ(Exec(job_, "t1").version_number, 2);
  EXPECT_FALSE(Exec(job_, "t1").force_canceled);
  EXPECT_EQ(Exec(job_, "t3").status, ES::kSucceeded);
  EXPECT_EQ(Exec(job_, "t3").version_number, 2);
  ExpectCountsMatch(job_, things_);

  // The device may still finish it; the job stays CANCELED and never completes.
  MustUpdate(job_, "t1", ES::kSucceeded);
  EXPECT_EQ(Exec(job_, "t1").status, ES::kSucceeded);
  EXPECT_EQ(Exec(job_, "t1").version_number, 3);
  j = Job(job_);
  EXPECT_EQ(j.status, JobStatus::kCanceled);
  EXPECT_FALSE(j.completed_at_micros.has_value());
  ExpectCountsMatch(job_, things_);
  ExpectStateChecks();
}

TEST_F(LedgerTransitionJobTest, CancelJobWithForceCancelsInProgress) {
  CreateMixedJob();
  ASSERT_FALSE(HasFatalFailure());
  const uint64_t before = Head();
  auto canceled = CancelWholeJob(job_, /*force=*/true);
  ASSERT_TRUE(canceled.ok()) << canceled.status().ToString();
  const uint64_t job_canceled = JobCanceledAfter(before);

  JobStateView j = Job(job_);
  EXPECT_EQ(j.status, JobStatus::kCanceled);
  EXPECT_TRUE(j.force_canceled);

  ExecutionStateView t1 = Exec(job_, "t1");
  EXPECT_EQ(t1.status, ES::kCanceled);
  EXPECT_TRUE(t1.force_canceled);
  EXPECT_EQ(t1.version_number, 3);
  EXPECT_FALSE(t1.deadline_micros.has_value());
  auto t1_event = ExecutionCanceledAfter(before, "t1");
  ASSERT_TRUE(t1_event.has_value());
  EXPECT_EQ(t1_event->cause, job_canceled);
  EXPECT_TRUE(std::get<ExecutionCanceled>(t1_event->body).force);
  EXPECT_EQ(std::get<ExecutionCanceled>(t1_event->body).from, ES::kInProgress);

  ExecutionStateView t2 = Exec(job_, "t2");
  EXPECT_EQ(t2.status, ES::kCanceled);
  EXPECT_EQ(t2.version_number, 2);
  EXPECT_FALSE(t2.force_canceled);  // canceled while QUEUED
  EXPECT_EQ(Exec(job_, "t3").status, ES::kSucceeded);
  EXPECT_EQ(Exec(job_, "t3").version_number, 2);

  // The device can no longer update the force-canceled execution.
  const Digest d = ledger_->log().digest();
  ExpectRejectedNothingAppended(Device(job_, "t1", ES::kSucceeded),
                                AwsError::kInvalidStateTransition, d, "terminal state");
  EXPECT_EQ(Exec(job_, "t1").status, ES::kCanceled);
  // Its in-progress timer died with it.
  auto due = ledger_->NextDue();
  ASSERT_TRUE(due.ok());
  EXPECT_FALSE(due->has_value());
  ExpectCountsMatch(job_, things_);
  ExpectStateChecks();
}

TEST_F(LedgerTransitionJobTest, CancelJobAgainOnlyToAddForce) {
  CreateMixedJob();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(CancelWholeJob(job_, false).ok());
  EXPECT_EQ(Exec(job_, "t1").status, ES::kInProgress);

  Digest d = ledger_->log().digest();
  auto again = CancelWholeJob(job_, false);
  ExpectRejectedNothingAppended(again.status(), AwsError::kInvalidStateTransition, d,
                                "already CANCELED");

  // With force, the first time: accepted, and the IN_PROGRESS execution is force-canceled.
  const uint64_t before = Head();
  auto forced = CancelWholeJob(job_, true);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  const uint64_t job_canceled = JobCanceledAfter(before);
  JobStateView j = Job(job_);
  EXPECT_EQ(j.status, JobStatus::kCanceled);
  EXPECT_TRUE(j.force_canceled);
  ExecutionStateView t1 = Exec(job_, "t1");
  EXPECT_EQ(t1.status, ES::kCanceled);
  EXPECT_TRUE(t1.force_canceled);
  EXPECT_EQ(t1.version_number, 3);
  auto t1_event = ExecutionCanceledAfter(before, "t1");
  ASSERT_TRUE(t1_event.has_value());
  EXPECT_EQ(t1_event->cause, job_canceled);
  // t2 was canceled by the first cancel and is not canceled again.
  EXPECT_FALSE(ExecutionCanceledAfter(before, "t2").has_value());
  EXPECT_EQ(Exec(job_, "t2").version_number, 2);

  // Nothing is left to force.
  d = ledger_->log().digest();
  ExpectRejectedNothingAppended(CancelWholeJob(job_, true).status(),
                                AwsError::kInvalidStateTransition, d, "already CANCELED");
  ExpectRejectedNothingAppended(CancelWholeJob(job_, false).status(),
                                AwsError::kInvalidStateTransition, d, "already CANCELED");
  ExpectCountsMatch(job_, things_);
  ExpectStateChecks();
}

// CancelJob(force=false) leaves an IN_PROGRESS execution running (T8), and Part A 4
// marks REMOVED the pending execution of a thing that leaves every target group of a
// CONTINUOUS job, whatever the job's status; deleting the thing does the same.
TEST_F(LedgerTransitionJobTest, LeavingTheGroupOfACanceledContinuousJobRemovesInProgress) {
  MustJoin(group_, "t1");
  MustJoin(group_, "t2");
  CreateJobRequest r = NewJob(job_, {GroupArnOf(group_)});
  r.target_selection = TargetSelection::kContinuous;
  MustCreate(r);
  MustUpdate(job_, "t1", ES::kInProgress);
  MustUpdate(job_, "t2", ES::kInProgress);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(CancelWholeJob(job_, false).ok());
  ASSERT_EQ(Exec(job_, "t1").status, ES::kInProgress);

  ASSERT_TRUE(ledger_->RemoveThingFromThingGroup(As("user:ops"), {group_, "t1"}).ok());
  ExecutionStateView left = Exec(job_, "t1");
  EXPECT_EQ(left.status, ES::kRemoved) << "leaving the group: got " << Name(left.status);
  EXPECT_EQ(left.version_number, 3);

  DeleteThingRequest d;
  d.thing_name = "t2";
  ASSERT_TRUE(ledger_->DeleteThing(As("user:ops"), d).ok());
  ExecutionStateView deleted = Exec(job_, "t2");
  EXPECT_EQ(deleted.status, ES::kRemoved) << "deleting the thing: got " << Name(deleted.status);
  EXPECT_EQ(deleted.version_number, 3);
  ExpectCountsMatch(job_, {"t1", "t2"});
  ExpectStateChecks();
}

TEST_F(LedgerTransitionJobTest, CancelJobOnSucceededJobIsRejected) {
  MustCreate(NewJob(job_, {ThingArnOf("t1")}));
  MustUpdate(job_, "t1", ES::kSucceeded);
  ASSERT_EQ(Job(job_).status, JobStatus::kSucceeded);
  const Digest d = ledger_->log().digest();
  ExpectRejectedNothingAppended(CancelWholeJob(job_, false).status(),
                                AwsError::kInvalidStateTransition, d, "SUCCEEDED");
  ExpectRejectedNothingAppended(CancelWholeJob(job_, true).status(),
                                AwsError::kInvalidStateTransition, d, "SUCCEEDED");
  EXPECT_EQ(Job(job_).status, JobStatus::kSucceeded);
  EXPECT_FALSE(Job(job_).force_canceled);
}

TEST_F(LedgerTransitionJobTest, DeleteJobInProgressNeedsForceAndFreesTheJobId) {
  CreateMixedJob();
  ASSERT_FALSE(HasFatalFailure());
  const uint64_t first_incarnation = Job(job_).created_sequence;
  auto due = ledger_->NextDue();
  ASSERT_TRUE(due.ok());
  ASSERT_TRUE(due->has_value()) << "t1's in-progress timer";

  const Digest d = ledger_->log().digest();
  ExpectRejectedNothingAppended(DeleteWholeJob(job_, false), AwsError::kInvalidStateTransition, d,
                                "force");
  EXPECT_EQ(Job(job_).status, JobStatus::kInProgress);
  EXPECT_EQ(Exec(job_, "t1").status, ES::kInProgress);

  Status s = DeleteWholeJob(job_, true);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto job = ledger_->GetJobState(job_);
  ASSERT_TRUE(job.ok());
  EXPECT_FALSE(job->has_value());
  for (const std::string& thing : things_) {
    SCOPED_TRACE(thing);
    EXPECT_FALSE(MaybeExec(job_, thing).has_value());
    EXPECT_FALSE(MaybeExec(job_, thing, 1).has_value());
    auto pending = ledger_->GetPendingJobExecutions(thing);
    ASSERT_TRUE(pending.ok());
    EXPECT_TRUE(pending->in_progress_jobs.empty());
    EXPECT_TRUE(pending->queued_jobs.empty());
  }
  // The deleted execution's timer is gone: nothing falls due, nothing times out.
  due = ledger_->NextDue();
  ASSERT_TRUE(due.ok());
  EXPECT_FALSE(due->has_value());
  clock_.Advance((kTimeoutMinutes + 1) * kMinute);
  const uint64_t head = Head();
  auto advanced = ledger_->AdvanceTo(clock_.NowMicros());
  ASSERT_TRUE(advanced.ok()) << advanced.status().ToString();
  EXPECT_EQ(advanced->appended, 0u);
  EXPECT_EQ(Head(), head);
  // The deleted job is unknown to the device plane too.
  StartNextPendingJobExecutionRequest start;
  start.thing_name = "t1";
  auto next = ledger_->StartNextPendingJobExecution(As("thing:t1"), start);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_FALSE(next->execution.has_value());
  ExpectRejectedNothingAppended(Device(job_, "t1", ES::kSucceeded), AwsError::kResourceNotFound,
                                ledger_->log().digest());

  // The jobId is free again: a new incarnation, numbering restarts.
  MustCreate(NewJob(job_, {ThingArnOf("t1")}));
  JobStateView j = Job(job_);
  EXPECT_GT(j.created_sequence, first_incarnation);
  EXPECT_EQ(j.status, JobStatus::kInProgress);
  ExecutionStateView t1 = Exec(job_, "t1");
  EXPECT_EQ(t1.execution_number, 1);
  EXPECT_EQ(t1.version_number, 1);
  EXPECT_EQ(t1.status, ES::kQueued);
  EXPECT_FALSE(MaybeExec(job_, "t2").has_value());
  ExpectCountsMatch(job_, things_);
  EXPECT_EQ(j.count(ES::kQueued), 1);
  MustUpdate(job_, "t1", ES::kSucceeded);
  EXPECT_EQ(Job(job_).status, JobStatus::kSucceeded);
  ExpectStateChecks();
}

TEST_F(LedgerTransitionJobTest, DeleteFinishedJobNeedsNoForce) {
  MustCreate(NewJob("done", {ThingArnOf("t1")}));
  MustUpdate("done", "t1", ES::kSucceeded);
  ASSERT_EQ(Job("done").status, JobStatus::kSucceeded);
  Status s = DeleteWholeJob("done", false);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(ledger_->GetJobState("done")->has_value());

  MustCreate(NewJob("stopped", {ThingArnOf("t1")}));
  ASSERT_TRUE(CancelWholeJob("stopped", false).ok());
  s = DeleteWholeJob("stopped", false);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(ledger_->GetJobState("stopped")->has_value());
  EXPECT_FALSE(MaybeExec("stopped", "t1").has_value());
  ExpectStateChecks();
}

TEST_F(LedgerTransitionJobTest, DeleteUnknownJobIsNotFound) {
  MustCreate(NewJob(job_, {ThingArnOf("t1")}));
  const Digest d = ledger_->log().digest();
  ExpectRejectedNothingAppended(DeleteWholeJob("nojob", false), AwsError::kResourceNotFound, d,
                                "jobId");
  ExpectRejectedNothingAppended(DeleteWholeJob("nojob", true), AwsError::kResourceNotFound, d,
                                "jobId");
  // Deleted twice: the second time the job is unknown.
  ASSERT_TRUE(DeleteWholeJob(job_, true).ok());
  const Digest after = ledger_->log().digest();
  ExpectRejectedNothingAppended(DeleteWholeJob(job_, true), AwsError::kResourceNotFound, after);
}

// ---------------------------------------------------------------------------
// 4. Unknown job / thing / execution.

TEST_F(LedgerTransitionTest, UnknownResourcesAreNotFoundAndAppendNothing) {
  MustCreate(NewJob(job_, {ThingArnOf("t1"), ThingArnOf("t2")}));
  MustCreate(NewJob("gone", {ThingArnOf("t1")}));
  ASSERT_TRUE(DeleteWholeJob("gone", true).ok());
  const Digest d = ledger_->log().digest();
  const RequestContext ops = As("user:ops");

  for (const std::string job : {"nojob", "gone"}) {
    SCOPED_TRACE(job);
    UpdateJobRequest update;
    update.job_id = job;
    update.description = "new";
    ExpectRejectedNothingAppended(ledger_->UpdateJob(ops, update), AwsError::kResourceNotFound, d,
                                  "jobId");
    CancelJobRequest cancel;
    cancel.job_id = job;
    ExpectRejectedNothingAppended(ledger_->CancelJob(ops, cancel).status(),
                                  AwsError::kResourceNotFound, d, "jobId");
    ExpectRejectedNothingAppended(DeleteWholeJob(job, true), AwsError::kResourceNotFound, d,
                                  "jobId");
    AssociateTargetsWithJobRequest associate;
    associate.job_id = job;
    associate.targets = {ThingArnOf("t3")};
    ExpectRejectedNothingAppended(ledger_->AssociateTargetsWithJob(ops, associate).status(),
                                  AwsError::kResourceNotFound, d, "jobId");
    ExpectRejectedNothingAppended(Cancel(job, "t1", true), AwsError::kResourceNotFound, d);
    ExpectRejectedNothingAppended(DeleteExec(job, "t1", 1, true), AwsError::kResourceNotFound, d);
    ExpectRejectedNothingAppended(Device(job, "t1", ES::kInProgress), AwsError::kResourceNotFound,
                                  d);
  }

  // A known job, a thing it has no execution on.
  ExpectRejectedNothingAppended(Cancel(job_, "t9", true), AwsError::kResourceNotFound, d,
                                "thingName");
  ExpectRejectedNothingAppended(DeleteExec(job_, "t9", 1, true), AwsError::kResourceNotFound, d);
  ExpectRejectedNothingAppended(Device(job_, "t9", ES::kInProgress), AwsError::kResourceNotFound, d,
                                "thingName");
  // A known job and thing, an execution number it does not have.
  ExpectRejectedNothingAppended(DeleteExec(job_, "t1", 2, true), AwsError::kResourceNotFound, d,
                                "executionNumber");
  UpdateJobExecutionRequest numbered = Update(job_, "t1", ES::kInProgress);
  numbered.execution_number = 2;
  ExpectRejectedNothingAppended(ledger_->UpdateJobExecution(As("thing:t1"), numbered).status(),
                                AwsError::kResourceNotFound, d, "executionNumber");
  // An unknown thing.
  DeleteThingRequest delete_thing;
  delete_thing.thing_name = "t9";
  ExpectRejectedNothingAppended(ledger_->DeleteThing(ops, delete_thing),
                                AwsError::kResourceNotFound, d, "thingName");

  // Documented as accepted without effect (ledger.h): removing a non-member.
  EXPECT_TRUE(ledger_->RemoveThingFromThingGroup(ops, {"nogroup", "t9"}).ok());
  EXPECT_EQ(ledger_->log().digest(), d);
  // The device plane of a thing with nothing pending answers empty and appends nothing.
  StartNextPendingJobExecutionRequest start;
  start.thing_name = "t9";
  auto next = ledger_->StartNextPendingJobExecution(As("thing:t9"), start);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_FALSE(next->execution.has_value());
  EXPECT_EQ(ledger_->log().digest(), d);
  // Nothing changed for the executions that exist.
  EXPECT_EQ(Exec(job_, "t1").version_number, 1);
  EXPECT_EQ(Exec(job_, "t2").version_number, 1);
}

// ---------------------------------------------------------------------------
// 5. One invalid input per command.

TEST_F(LedgerTransitionTest, InvalidInputIsInvalidRequestNamingTheField) {
  MustJoin(group_, thing_);
  CreateJobRequest continuous = NewJob(job_, {GroupArnOf(group_)});
  continuous.target_selection = TargetSelection::kContinuous;
  MustCreate(continuous);
  const Digest d = ledger_->log().digest();
  const RequestContext ops = As("user:ops");
  const std::string other_account = "arn:aws:iot:us-east-1:999999999999:thing/t1";
  const std::string other_region = "arn:aws:iot:eu-west-1:123456789012:thinggroup/fleet";
  DetailsMap eleven;
  for (int i = 0; i < 11; ++i) eleven.emplace_back("k" + std::to_string(10 + i), "v");

  {
    SCOPED_TRACE("CreateJob jobId");
    ExpectRejectedNothingAppended(
        ledger_->CreateJob(ops, NewJob("a/b", {ThingArnOf("t1")})).status(),
        AwsError::kInvalidRequest, d, "jobId:");
  }
  {
    SCOPED_TRACE("CreateJob targets of another account");
    ExpectRejectedNothingAppended(ledger_->CreateJob(ops, NewJob("job2", {other_account})).status(),
                                  AwsError::kInvalidRequest, d, "targets[0]:");
  }
  {
    SCOPED_TRACE("UpdateJob timeoutConfig");
    UpdateJobRequest r;
    r.job_id = job_;
    TimeoutConfig timeout;
    timeout.in_progress_timeout_in_minutes = 0;
    r.timeout_config = timeout;
    ExpectRejectedNothingAppended(ledger_->UpdateJob(ops, r), AwsError::kInvalidRequest, d,
                                  "timeoutConfig.inProgressTimeoutInMinutes:");
  }
  {
    SCOPED_TRACE("CancelJob reasonCode");
    CancelJobRequest r;
    r.job_id = job_;
    r.reason_code = "lower case";
    ExpectRejectedNothingAppended(ledger_->CancelJob(ops, r).status(), AwsError::kInvalidRequest, d,
                                  "reasonCode:");
  }
  {
    SCOPED_TRACE("DeleteJob jobId");
    ExpectRejectedNothingAppended(DeleteWholeJob("", true), AwsError::kInvalidRequest, d, "jobId:");
  }
  {
    SCOPED_TRACE("AssociateTargetsWithJob targets of another region");
    AssociateTargetsWithJobRequest r;
    r.job_id = job_;
    r.targets = {other_region};
    ExpectRejectedNothingAppended(ledger_->AssociateTargetsWithJob(ops, r).status(),
                                  AwsError::kInvalidRequest, d, "targets[0]:");
  }
  {
    SCOPED_TRACE("CancelJobExecution statusDetails");
    CancelJobExecutionRequest r;
    r.job_id = job_;
    r.thing_name = thing_;
    r.status_details = eleven;
    ExpectRejectedNothingAppended(ledger_->CancelJobExecution(ops, r), AwsError::kInvalidRequest, d,
                                  "statusDetails:");
  }
  {
    SCOPED_TRACE("CancelJobExecution expectedVersion");
    CancelJobExecutionRequest r;
    r.job_id = job_;
    r.thing_name = thing_;
    r.expected_version = 0;
    ExpectRejectedNothingAppended(ledger_->CancelJobExecution(ops, r), AwsError::kInvalidRequest, d,
                                  "expectedVersion:");
  }
  {
    SCOPED_TRACE("DeleteJobExecution executionNumber");
    ExpectRejectedNothingAppended(DeleteExec(job_, thing_, 0, true), AwsError::kInvalidRequest, d,
                                  "executionNumber:");
  }
  {
    SCOPED_TRACE("UpdateJobExecution thingName");
    ExpectRejectedNothingAppended(Device(job_, "t 1", ES::kInProgress), AwsError::kInvalidRequest,
                                  d, "thingName:");
  }
  {
    SCOPED_TRACE("UpdateJobExecution statusDetails");
    UpdateJobExecutionRequest r = Update(job_, thing_, ES::kInProgress);
    r.status_details = eleven;
    ExpectRejectedNothingAppended(ledger_->UpdateJobExecution(As("thing:t1"), r).status(),
                                  AwsError::kInvalidRequest, d, "statusDetails:");
  }
  {
    SCOPED_TRACE("UpdateJobExecution stepTimeoutInMinutes");
    UpdateJobExecutionRequest r = Update(job_, thing_, ES::kInProgress);
    r.step_timeout_in_minutes = 0;
    ExpectRejectedNothingAppended(ledger_->UpdateJobExecution(As("thing:t1"), r).status(),
                                  AwsError::kInvalidRequest, d, "stepTimeoutInMinutes:");
  }
  {
    SCOPED_TRACE("StartNextPendingJobExecution stepTimeoutInMinutes");
    StartNextPendingJobExecutionRequest r;
    r.thing_name = thing_;
    r.step_timeout_in_minutes = 0;
    ExpectRejectedNothingAppended(ledger_->StartNextPendingJobExecution(As("thing:t1"), r).status(),
                                  AwsError::kInvalidRequest, d, "stepTimeoutInMinutes:");
  }
  {
    SCOPED_TRACE("AddThingToThingGroup thingName");
    ExpectRejectedNothingAppended(ledger_->AddThingToThingGroup(ops, {group_, "t 2"}),
                                  AwsError::kInvalidRequest, d, "thingName:");
  }
  {
    SCOPED_TRACE("RemoveThingFromThingGroup thingGroupName");
    ExpectRejectedNothingAppended(ledger_->RemoveThingFromThingGroup(ops, {"a/b", thing_}),
                                  AwsError::kInvalidRequest, d, "thingGroupName:");
  }
  {
    SCOPED_TRACE("DeleteThing thingName");
    DeleteThingRequest r;
    r.thing_name = "t 1";
    ExpectRejectedNothingAppended(ledger_->DeleteThing(ops, r), AwsError::kInvalidRequest, d,
                                  "thingName:");
  }
  {
    SCOPED_TRACE("RequestContext actor");
    CancelJobExecutionRequest r;
    r.job_id = job_;
    r.thing_name = thing_;
    ExpectRejectedNothingAppended(ledger_->CancelJobExecution(As(""), r), AwsError::kInvalidRequest,
                                  d, "actor:");
  }
  EXPECT_EQ(Exec(job_, thing_).status, ES::kQueued);
  EXPECT_EQ(Exec(job_, thing_).version_number, 1);
}

}  // namespace
}  // namespace jobledger::testing
