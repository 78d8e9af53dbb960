// Fuzz target: sequences of ledger commands (jobledger/ledger.h) on a small id space (4
// jobs, 4 things, 2 groups), with the "jobs" projection inline and a ManualClock, in
// a fresh ledger per input. Each input byte sequence is a program: an opcode byte,
// then the bytes its command consumes (see Step()); at most kMaxSteps steps.
//
// After every step:
//   - a rejected command carries an AWS exception (not a storage error) and appended
//     nothing (digest unchanged);
// every kFoldCheckEvery steps and at the end (each folds the log into a scratch column
// family, which costs far more than the commands themselves):
//   - CheckState() (write-side state vs a fresh fold) and CheckDrift("jobs")
//     (projection vs a fresh fold) find no differences;
// every kCheckEvery steps and at the end:
//   - the write-side state and the read models agree: each job's existence, status,
//     selection, targets and cancel details; each latest execution's status, version,
//     number and details; each thing's pending list;
//   - paging (maxResults 1, following nextToken) lists what one page of 250 lists;
// and at the end:
//   - every answer recorded during the run is answered again, unchanged, "as of" the
//     sequence it was recorded at; Verify() passes.
// A violated property aborts, printing what differed.
//
// Known library bug (open): Ledger::GetPendingJobExecutions orders executions queued
// (or started) at the same microsecond by queue order, not by jobId as
// jobledger/commands.h says and the read models do. JOBLEDGER_FUZZ_SKIP_KNOWN=1 compares
// the two lists sorted, so fuzzing can go past it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fuzz/fuzz_env.h"
#include "fuzz/fuzz_util.h"
#include "jobledger/clock.h"
#include "jobledger/jobs_projection.h"
#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"
#include "jobledger/read_models.h"
#include "jobledger/validation.h"
#include "tests/support/ledger_stack.h"

namespace jobledger::fuzz {
namespace {

constexpr int64_t kStart = 1'764'237'600'000'000;  // 2025-11-27T10:00:00Z
constexpr int64_t kSecond = 1'000'000;
constexpr int kJobs = 4;
constexpr int kThings = 4;
constexpr int kGroups = 2;
constexpr int kMaxSteps = 64;
constexpr int kCheckEvery = 8;
constexpr int kFoldCheckEvery = 32;

std::string JobId(int i) { return "j" + std::to_string(i); }
std::string ThingName(int i) { return "t" + std::to_string(i); }
std::string GroupName(int i) { return "g" + std::to_string(i); }

class Rig {
 public:
  Rig() { Open(); }
  ~Rig() { Close(); }

  void Open() {
    stack_ = OpenFuzzLedger(&clock_, dir_.path() + "/ledger");
  }
  void Close() { stack_.reset(); }

  ManualClock& clock() { return clock_; }
  Ledger& ledger() { return *stack_->ledger; }
  ProjectionManager& projections() { return *stack_->projections; }
  ReadModels& reads() { return *stack_->reads; }

 private:
  ScratchDir dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<testing::LedgerStack> stack_;
};

// ---- building requests from bytes ----

std::string PickTarget(FuzzInput& in) {
  const size_t i = in.Pick(kThings + kGroups);
  const ValidationContext context;
  return i < kThings ? ThingArn(context, ThingName(static_cast<int>(i)))
                     : ThingGroupArn(context, GroupName(static_cast<int>(i - kThings)));
}

std::vector<std::string> PickTargets(FuzzInput& in) {
  std::vector<std::string> targets;
  const size_t n = 1 + in.Pick(3);
  for (size_t i = 0; i < n; ++i) targets.push_back(PickTarget(in));
  return targets;
}

std::optional<DetailsMap> PickDetails(FuzzInput& in) {
  switch (in.Pick(4)) {
    case 0:
      return std::nullopt;
    case 1:
      return DetailsMap{};
    case 2:
      return DetailsMap{{"progress", std::to_string(in.Byte())}};
    default:
      return DetailsMap{{"a", "1"}, {"step", std::to_string(in.Byte() % 4)}};
  }
}

RolloutConfig PickRollout(FuzzInput& in) {
  RolloutConfig c;
  const uint8_t bits = in.Byte();
  if ((bits & 1) != 0 || (bits & 2) == 0)
    c.maximum_per_minute = 1 + static_cast<int32_t>(in.Pick(3));
  if ((bits & 2) != 0) {
    ExponentialRate rate;
    rate.base_rate_per_minute = 1;
    rate.increment_factor = (bits & 4) != 0 ? 2.0 : 1.5;
    const int32_t n = 1 + static_cast<int32_t>(in.Pick(2));
    if ((bits & 8) != 0) {
      rate.rate_increase_criteria.number_of_succeeded_things = n;
    } else {
      rate.rate_increase_criteria.number_of_notified_things = n;
    }
    c.exponential_rate = rate;
  }
  return c;
}

AbortConfig PickAbort(FuzzInput& in) {
  AbortConfig c;
  const size_t n = 1 + in.Pick(2);
  for (size_t i = 0; i < n; ++i) {
    AbortCriteria a;
    a.failure_type = static_cast<FailureType>(in.Pick(4));
    static constexpr double kThresholds[] = {10, 50, 100};
    a.threshold_percentage = kThresholds[in.Pick(3)];
    a.min_number_of_executed_things = 1 + static_cast<int32_t>(in.Pick(3));
    c.criteria_list.push_back(a);
  }
  return c;
}

TimeoutConfig PickTimeout(FuzzInput& in) {
  static constexpr int64_t kMinutes[] = {1, 5, 10080};
  return TimeoutConfig{kMinutes[in.Pick(3)]};
}

RequestContext PickContext(FuzzInput& in, const std::string& actor) {
  RequestContext context{actor, ""};
  const uint8_t b = in.Byte();
  if (b >= 0xc0) context.request_id = "r" + std::to_string(b % 4);
  return context;
}

std::optional<int64_t> PickStepTimeout(FuzzInput& in) {
  switch (in.Pick(4)) {
    case 0:
      return std::nullopt;
    case 1:
      return -1;
    case 2:
      return 1;
    default:
      return 5;
  }
}

// ---- checking ----

void CheckOutcome(const Status& status, const Digest& before, Rig& rig, const char* op) {
  const Digest after = rig.ledger().log().digest();
  if (status.ok()) {
    JOBLEDGER_FUZZ_CHECK(after.sequence >= before.sequence,
                         std::string(op) + " moved the head back");
    return;
  }
  JOBLEDGER_FUZZ_CHECK(status.aws_error() != AwsError::kNone,
                       std::string(op) + " failed without an AWS exception: " + status.ToString());
  JOBLEDGER_FUZZ_CHECK(after == before, std::string(op) + " was rejected (" + status.ToString() +
                                            ") but appended up to " +
                                            std::to_string(after.sequence));
}

template <typename T>
void CheckRead(const StatusOr<T>& read, const std::string& what) {
  JOBLEDGER_FUZZ_CHECK(read.ok() || read.status().aws_error() == AwsError::kResourceNotFound,
                       what + ": " + read.status().ToString());
}

bool SkipKnown() {
  static const bool skip = [] {
    const char* v = std::getenv("JOBLEDGER_FUZZ_SKIP_KNOWN");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return skip;
}

// By (queuedAt or startedAt, jobId), as jobledger/commands.h documents both lists.
void SortPending(GetPendingJobExecutionsResponse* r) {
  auto by = [](bool started) {
    return [started](const PendingJobExecution& a, const PendingJobExecution& b) {
      const int64_t ta = started ? a.started_at_micros.value_or(0) : a.queued_at_micros;
      const int64_t tb = started ? b.started_at_micros.value_or(0) : b.queued_at_micros;
      return std::tie(ta, a.job_id) < std::tie(tb, b.job_id);
    };
  };
  std::stable_sort(r->in_progress_jobs.begin(), r->in_progress_jobs.end(), by(true));
  std::stable_sort(r->queued_jobs.begin(), r->queued_jobs.end(), by(false));
}

std::string Pending(const GetPendingJobExecutionsResponse& r) {
  std::string out;
  for (const auto* list : {&r.in_progress_jobs, &r.queued_jobs}) {
    out += list == &r.in_progress_jobs ? "in progress [" : " queued [";
    for (const PendingJobExecution& p : *list) {
      out += " " + p.job_id + "#" + std::to_string(p.execution_number) + " v" +
             std::to_string(p.version_number) + " q" + std::to_string(p.queued_at_micros) + " s" +
             std::to_string(p.started_at_micros.value_or(-1)) + " u" +
             std::to_string(p.last_updated_at_micros);
    }
    out += " ]";
  }
  return out;
}

// One moment's answers, to be asked again "as of" its sequence at the end.
struct Snapshot {
  uint64_t sequence = 0;
  int64_t now = 0;
  std::map<std::string, std::optional<Job>> jobs;
  std::map<std::pair<std::string, std::string>, std::optional<JobExecution>> executions;
};

ReadPoint At(uint64_t sequence, int64_t now) {
  ReadPoint p = ReadPoint::AtSequence(sequence);
  p.now_micros = now;
  return p;
}

template <typename Result, typename Request, typename List, typename Items>
void CheckPaging(const List& list, Request request, Items items, const std::string& what) {
  request.max_results = 250;
  const StatusOr<Result> all = list(request);
  CheckRead(all, what);
  if (!all.ok()) return;
  request.max_results = 1;
  size_t seen = 0;
  for (int page = 0;; ++page) {
    JOBLEDGER_FUZZ_CHECK(page <= 64, what + ": paging does not end");
    const StatusOr<Result> one = list(request);
    JOBLEDGER_FUZZ_CHECK(one.ok(),
                         what + " page " + std::to_string(page) + ": " + one.status().ToString());
    const auto& got = items(*one);
    JOBLEDGER_FUZZ_CHECK(got.size() <= 1, what + ": a page longer than maxResults");
    for (const auto& item : got) {
      JOBLEDGER_FUZZ_CHECK(seen < items(*all).size() && item == items(*all)[seen],
                           what + ": paging lists item " + std::to_string(seen) + " differently");
      ++seen;
    }
    if (!one->next_token) break;
    request.next_token = one->next_token;
  }
  JOBLEDGER_FUZZ_CHECK(seen == items(*all).size(), what + ": paging lists " + std::to_string(seen) +
                                                       " of " + std::to_string(items(*all).size()));
}

void CheckFolds(Rig& rig) {
  StatusOr<StateCheckResult> state = rig.ledger().CheckState();
  JOBLEDGER_FUZZ_CHECK(state.ok(), "CheckState: " + state.status().ToString());
  JOBLEDGER_FUZZ_CHECK(state->ok(), "CheckState: " + state->differences.front());
  StatusOr<DriftReport> drift = rig.projections().CheckDrift("jobs");
  JOBLEDGER_FUZZ_CHECK(drift.ok(), "CheckDrift: " + drift.status().ToString());
  JOBLEDGER_FUZZ_CHECK(drift->ok(), "CheckDrift: " + drift->differences.front());
}

void CheckConsistent(Rig& rig, std::vector<Snapshot>* snapshots) {
  Snapshot snap;
  snap.sequence = rig.ledger().log().head().sequence;
  snap.now = rig.clock().NowMicros();
  const ReadPoint live = At(kMaxSequence, snap.now);
  for (int j = 0; j < kJobs; ++j) {
    const std::string job = JobId(j);
    auto st = rig.ledger().GetJobState(job);
    JOBLEDGER_FUZZ_CHECK(st.ok(), "GetJobState: " + st.status().ToString());
    StatusOr<Job> read = rig.reads().DescribeJob(job, live);
    CheckRead(read, "DescribeJob " + job);
    JOBLEDGER_FUZZ_CHECK(st->has_value() == read.ok(),
                         "job " + job + ": state and read model disagree on existence");
    snap.jobs[job] = read.ok() ? std::optional<Job>(*read) : std::nullopt;
    if (read.ok()) {
      const JobStateView& s = **st;
      JOBLEDGER_FUZZ_CHECK(
          s.status == read->status && s.target_selection == read->target_selection &&
              s.targets == read->targets && s.force_canceled == read->force_canceled &&
              s.reason_code == read->reason_code && s.comment == read->comment &&
              s.completed_at_micros == read->completed_at_micros,
          "job " + job + ": state and read model disagree (status " +
              std::string(JobStatusName(s.status)) + " vs " +
              std::string(JobStatusName(read->status)) + ")");
    }
    for (int t = 0; t < kThings; ++t) {
      const std::string thing = ThingName(t);
      auto es = rig.ledger().GetExecutionState(job, thing);
      JOBLEDGER_FUZZ_CHECK(es.ok(), "GetExecutionState: " + es.status().ToString());
      StatusOr<JobExecution> exec =
          rig.reads().DescribeJobExecution(job, thing, std::nullopt, live);
      CheckRead(exec, "DescribeJobExecution " + job + "/" + thing);
      snap.executions[{job, thing}] = exec.ok() ? std::optional<JobExecution>(*exec) : std::nullopt;
      const std::string id = job + "/" + thing;
      if (!read.ok()) continue;  // a deleted job's executions are gone from the reads
      JOBLEDGER_FUZZ_CHECK(es->has_value() == exec.ok(),
                           "execution " + id + ": state and read model disagree on existence");
      if (!exec.ok()) continue;
      const ExecutionStateView& e = **es;
      JOBLEDGER_FUZZ_CHECK(e.status == exec->status && e.version_number == exec->version_number &&
                               e.execution_number == exec->execution_number &&
                               e.status_details == exec->status_details &&
                               e.queued_at_micros == exec->queued_at_micros &&
                               e.started_at_micros == exec->started_at_micros &&
                               e.force_canceled == exec->force_canceled,
                           "execution " + id + ": state and read model disagree (status " +
                               std::string(ExecutionStatusName(e.status)) + " v" +
                               std::to_string(e.version_number) + " vs " +
                               std::string(ExecutionStatusName(exec->status)) + " v" +
                               std::to_string(exec->version_number) + ")");
    }
    CheckPaging<ListJobExecutionsForJobResult>(
        [&](const ListJobExecutionsForJobRequest& r) {
          return rig.reads().ListJobExecutionsForJob(r, live);
        },
        ListJobExecutionsForJobRequest{job, std::nullopt, std::nullopt, std::nullopt},
        [](const ListJobExecutionsForJobResult& r) -> const auto& { return r.execution_summaries; },
        "ListJobExecutionsForJob " + job);
  }
  for (int t = 0; t < kThings; ++t) {
    const std::string thing = ThingName(t);
    auto pending = rig.ledger().GetPendingJobExecutions(thing);
    auto read = rig.reads().GetPendingJobExecutions(thing, live);
    JOBLEDGER_FUZZ_CHECK(pending.ok() && read.ok(), "GetPendingJobExecutions " + thing);
    if (SkipKnown()) {  // known bug: the ledger breaks ties in queue order, not by jobId
      SortPending(&*pending);
      SortPending(&*read);
    }
    JOBLEDGER_FUZZ_CHECK(pending->in_progress_jobs == read->in_progress_jobs &&
                             pending->queued_jobs == read->queued_jobs,
                         "pending executions of " + thing + ": state and read model disagree:\n" +
                             "  state: " + Pending(*pending) + "\n  reads: " + Pending(*read));
    CheckPaging<ListJobExecutionsForThingResult>(
        [&](const ListJobExecutionsForThingRequest& r) {
          return rig.reads().ListJobExecutionsForThing(r, live);
        },
        ListJobExecutionsForThingRequest{thing, std::nullopt, std::nullopt, std::nullopt},
        [](const ListJobExecutionsForThingResult& r) -> const auto& {
          return r.execution_summaries;
        },
        "ListJobExecutionsForThing " + thing);
  }
  CheckPaging<ListJobsResult>(
      [&](const ListJobsRequest& r) { return rig.reads().ListJobs(r, live); }, ListJobsRequest{},
      [](const ListJobsResult& r) -> const auto& { return r.jobs; }, "ListJobs");
  snapshots->push_back(std::move(snap));
}

// Every recorded answer again, as of its sequence.
void CheckHistory(Rig& rig, const std::vector<Snapshot>& snapshots) {
  for (const Snapshot& snap : snapshots) {
    const ReadPoint then = At(snap.sequence, snap.now);
    const std::string at = " as of " + std::to_string(snap.sequence);
    for (const auto& [job, answer] : snap.jobs) {
      StatusOr<Job> read = rig.reads().DescribeJob(job, then);
      CheckRead(read, "DescribeJob " + job + at);
      JOBLEDGER_FUZZ_CHECK(read.ok() == answer.has_value() && (!read.ok() || *read == *answer),
                           "DescribeJob " + job + at + " differs from the live answer then");
    }
    for (const auto& [key, answer] : snap.executions) {
      StatusOr<JobExecution> read =
          rig.reads().DescribeJobExecution(key.first, key.second, std::nullopt, then);
      CheckRead(read, "DescribeJobExecution" + at);
      JOBLEDGER_FUZZ_CHECK(read.ok() == answer.has_value() && (!read.ok() || *read == *answer),
                           "DescribeJobExecution " + key.first + "/" + key.second + at +
                               " differs from the live answer then");
    }
  }
}

// ---- one step ----

enum Op : uint8_t {
  kCreateJob,
  kUpdateJob,
  kCancelJob,
  kDeleteJob,
  kAssociate,
  kCancelExecution,
  kDeleteExecution,
  kUpdateExecution,
  kStartNext,
  kAddToGroup,
  kRemoveFromGroup,
  kDeleteThing,
  kAdvanceClock,
  kAdvanceToPast,
  kClockBack,
  kReopen,
  kOpCount
};

void Step(FuzzInput& in, Rig& rig) {
  Ledger& l = rig.ledger();
  const Digest before = l.log().digest();
  const uint8_t op = static_cast<uint8_t>(in.Byte() % kOpCount);
  const std::string job = JobId(static_cast<int>(in.Pick(kJobs)));
  const std::string thing = ThingName(static_cast<int>(in.Pick(kThings)));
  const RequestContext ops = PickContext(in, "user:ops");
  const RequestContext device = RequestContext{"thing:" + thing, ops.request_id};
  switch (op) {
    case kCreateJob: {
      CreateJobRequest r;
      r.job_id = job;
      r.targets = PickTargets(in);
      r.document = R"({"operation":"install"})";
      const uint8_t bits = in.Byte();
      if ((bits & 1) != 0) r.target_selection = TargetSelection::kContinuous;
      if ((bits & 2) != 0) r.job_executions_rollout_config = PickRollout(in);
      if ((bits & 4) != 0) r.abort_config = PickAbort(in);
      if ((bits & 8) != 0) r.timeout_config = PickTimeout(in);
      if ((bits & 16) != 0) r.description = "d";
      return CheckOutcome(l.CreateJob(ops, r).status(), before, rig, "CreateJob");
    }
    case kUpdateJob: {
      UpdateJobRequest r;
      r.job_id = job;
      const uint8_t bits = in.Byte();
      if ((bits & 1) != 0) r.description = "u";
      if ((bits & 2) != 0) r.job_executions_rollout_config = PickRollout(in);
      if ((bits & 4) != 0) r.abort_config = PickAbort(in);
      if ((bits & 8) != 0) r.timeout_config = PickTimeout(in);
      return CheckOutcome(l.UpdateJob(ops, r), before, rig, "UpdateJob");
    }
    case kCancelJob: {
      CancelJobRequest r;
      r.job_id = job;
      const uint8_t bits = in.Byte();
      r.force = (bits & 1) != 0;
      if ((bits & 2) != 0) r.reason_code = "STOP";
      if ((bits & 4) != 0) r.comment = "c";
      return CheckOutcome(l.CancelJob(ops, r).status(), before, rig, "CancelJob");
    }
    case kDeleteJob:
      return CheckOutcome(l.DeleteJob(ops, {job, in.Bool()}), before, rig, "DeleteJob");
    case kAssociate: {
      AssociateTargetsWithJobRequest r{job, PickTargets(in), std::nullopt};
      return CheckOutcome(l.AssociateTargetsWithJob(ops, r).status(), before, rig, "Associate");
    }
    case kCancelExecution: {
      CancelJobExecutionRequest r;
      r.job_id = job;
      r.thing_name = thing;
      const uint8_t bits = in.Byte();
      r.force = (bits & 1) != 0;
      if ((bits & 2) != 0) r.expected_version = 1 + (bits >> 4) % 6;
      r.status_details = PickDetails(in);
      return CheckOutcome(l.CancelJobExecution(ops, r), before, rig, "CancelJobExecution");
    }
    case kDeleteExecution: {
      DeleteJobExecutionRequest r{job, thing, 1 + static_cast<int64_t>(in.Pick(3)), in.Bool()};
      return CheckOutcome(l.DeleteJobExecution(ops, r), before, rig, "DeleteJobExecution");
    }
    case kUpdateExecution: {
      UpdateJobExecutionRequest r;
      r.job_id = job;
      r.thing_name = thing;
      r.status = static_cast<ExecutionStatus>(in.Pick(9));
      r.status_details = PickDetails(in);
      const uint8_t bits = in.Byte();
      if ((bits & 1) != 0) r.expected_version = 1 + (bits >> 4) % 6;
      if ((bits & 2) != 0) r.execution_number = 1 + (bits >> 2) % 3;
      r.include_job_execution_state = (bits & 4) != 0;
      r.include_job_document = (bits & 8) != 0;
      r.step_timeout_in_minutes = PickStepTimeout(in);
      return CheckOutcome(l.UpdateJobExecution(device, r).status(), before, rig,
                          "UpdateJobExecution");
    }
    case kStartNext: {
      StartNextPendingJobExecutionRequest r{thing, PickDetails(in), std::nullopt};
      if (std::optional<int64_t> step = PickStepTimeout(in); step && *step > 0)
        r.step_timeout_in_minutes = step;
      return CheckOutcome(l.StartNextPendingJobExecution(device, r).status(), before, rig,
                          "StartNext");
    }
    case kAddToGroup:
    case kRemoveFromGroup: {
      ThingGroupMembershipRequest r{GroupName(static_cast<int>(in.Pick(kGroups))), thing};
      const Status s =
          op == kAddToGroup ? l.AddThingToThingGroup(ops, r) : l.RemoveThingFromThingGroup(ops, r);
      return CheckOutcome(s, before, rig, "ThingGroupMembership");
    }
    case kDeleteThing:
      return CheckOutcome(l.DeleteThing(ops, {thing}), before, rig, "DeleteThing");
    case kAdvanceClock: {
      static constexpr int64_t kSteps[] = {
          kSecond,        30 * kSecond,    60 * kSecond,        300 * kSecond,
          3600 * kSecond, 86400 * kSecond, 7 * 86400 * kSecond, 0};
      rig.clock().Advance(kSteps[in.Pick(8)]);
      StatusOr<AdvanceResult> r = l.AdvanceTo(rig.clock().NowMicros());
      JOBLEDGER_FUZZ_CHECK(r.ok(), "AdvanceTo: " + r.status().ToString());
      JOBLEDGER_FUZZ_CHECK(r->head_sequence == before.sequence + r->appended &&
                               r->head_sequence == l.log().head().sequence,
                           "AdvanceTo's result does not match the log");
      StatusOr<std::optional<int64_t>> due = l.NextDue();
      JOBLEDGER_FUZZ_CHECK(due.ok() && (!*due || **due > rig.clock().NowMicros()),
                           "something is still due after AdvanceTo(now)");
      return;
    }
    case kAdvanceToPast: {
      StatusOr<AdvanceResult> r = l.AdvanceTo(rig.clock().NowMicros() - 3600 * kSecond);
      JOBLEDGER_FUZZ_CHECK(r.ok(), "AdvanceTo(past): " + r.status().ToString());
      return;
    }
    case kClockBack:
      rig.clock().Advance(-static_cast<int64_t>(1 + in.Pick(120)) * kSecond);
      return;
    case kReopen:
      rig.Close();
      rig.Open();
      JOBLEDGER_FUZZ_CHECK(rig.ledger().log().digest() == before, "reopening changed the digest");
      return;
    default:
      return;
  }
}

void TestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  Rig rig;
  std::vector<Snapshot> snapshots;
  for (int step = 1; step <= kMaxSteps && !in.empty(); ++step) {
    Step(in, rig);
    if (step % kCheckEvery == 0) CheckConsistent(rig, &snapshots);
    if (step % kFoldCheckEvery == 0) CheckFolds(rig);
  }
  CheckConsistent(rig, &snapshots);
  CheckFolds(rig);
  CheckHistory(rig, snapshots);
  StatusOr<VerifyResult> verified = rig.ledger().log().Verify();
  JOBLEDGER_FUZZ_CHECK(
      verified.ok() && verified->ok(),
      "Verify: " + (verified.ok() ? verified->detail : verified.status().ToString()));
}

}  // namespace
}  // namespace jobledger::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  jobledger::fuzz::TestOneInput(data, size);
  return 0;
}
