// Crash at named points: the child installs a crash hook (ledger/test_hooks.h) that
// kills the process with SIGKILL the nth time a point is reached, or a rebuild's
// test_stop callback that does the same at a RebuildPoint. After the reopen the usual
// checks hold (CheckRecovered), and:
//   append.before_write  the group in flight is absent;
//   append.after_write   the group in flight is present, whole;
//   import.after_chunk   the ledger holds exactly the chunks imported, a valid prefix of
//                        the source; a second import is refused (it needs an empty
//                        ledger) and redoing it into an empty ledger gives the source;
//   fanout.next_chunk    (and append.after_write during a chunked fan-out) the next open
//                        resumes the fan-out; each thing is queued once; the same for a
//                        cancel in chunks: each execution is canceled once;
//   a rebuild            the registry names the old family, or the new one once switched;
//                        the other is dropped at the next open; writers went on meanwhile.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "jobledger/replay.h"
#include "tests/crash/recovery_check.h"

namespace jobledger::crash {
namespace {

constexpr uint64_t kDefaultSeed = 0x706f696e;  // "poin"
constexpr uint64_t kImportChunk = 4096;        // replay's Import appends this many at once

// Kills the child at the nth time `point` is reached, then checks the recovery.
void CrashAtWritePoint(bool ledger, const std::string& point, uint64_t nth) {
  SCOPED_TRACE(std::string(ledger ? "ledger" : "log") + " mode, " + point + " #" +
               std::to_string(nth));
  TempDir dir;
  Child child({ledger ? "ledger" : "log", dir.Sub("ledger"), "prefix=p", "threads=8",
               "crash=" + point, "nth=" + std::to_string(nth)});
  ASSERT_TRUE(child.started()) << child.error();
  Trace trace;
  ReadToEnd(child, trace);
  const int status = child.Wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child did not die at the point: " << DescribeWaitStatus(status);
  uint64_t befores = 0, writes = 0;
  for (const Trace::Group& g : trace.groups) {
    befores += g.before_write ? 1 : 0;
    writes += g.written ? 1 : 0;
  }
  const bool after = point == "append.after_write";
  EXPECT_EQ(befores, nth);
  EXPECT_EQ(writes, after ? nth : nth - 1);
  ASSERT_FALSE(trace.groups.empty());
  ASSERT_FALSE(trace.groups.back().rids.empty());

  RecoveryExpectation expect;
  expect.ledger = ledger;
  expect.in_flight = after ? InFlight::kPresent : InFlight::kAbsent;
  Recovered recovered;
  ASSERT_NO_FATAL_FAILURE(CheckRecovered(dir.Sub("ledger"), trace, expect, &recovered));
  // The group in flight was never acknowledged.
  for (const std::string& rid : trace.groups.back().rids) {
    EXPECT_EQ(trace.acked.count(rid), 0u)
        << rid << " was acknowledged before its group was written";
  }
  std::cout << "[ point    ] " << point << " #" << nth << ": in-flight group of "
            << trace.groups.back().rids.size() << " appends " << trace.groups.back().range
            << ", recovered head " << recovered.events << "\n";
}

// Runs crash_child with `args` until the crash point kills it; `lines` gets what it
// reported on the way.
void RunChildUntilKilled(const std::vector<std::string>& args, std::set<std::string>* lines) {
  Child child(args);
  ASSERT_TRUE(child.started()) << child.error();
  std::string line;
  while (child.NextLine(&line)) lines->insert(line);
  const int status = child.Wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child did not die at the point: " << DescribeWaitStatus(status);
}

// The write-side state is the fold of the log, and the chain verifies.
void ExpectStateAndChainSound(Ledger& ledger) {
  auto check = ledger.CheckState();
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->ok()) << check->differences.front();
  StatusOr<VerifyResult> verified = ledger.log().Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->ok()) << verified->detail;
}

// Reopens the ledger of a child killed during job "big"'s chunks (of 3) and lets the
// open resume them: each command waits behind the chunk queued before it.
void ReopenAndFinishChunks(const std::string& path, std::unique_ptr<Ledger>* ledger) {
  LedgerOptions options;
  options.limits.fan_out_chunk = 3;
  auto opened = Ledger::Open(options, path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  *ledger = std::move(opened).value();
  for (int i = 0; i < 20; ++i) {
    auto job = (*ledger)->GetJobState("big");
    ASSERT_TRUE(job.ok() && job->has_value());
    if (!(*job)->fan_out_pending && !(*job)->cancel_pending) return;
    ASSERT_TRUE((*ledger)->AddThingToThingGroup(RequestContext{"user:check", ""}, {"idle", "checker"}).ok());
  }
  FAIL() << "job big's chunks did not finish";
}

// A cancel over more executions than a chunk, killed between its chunks or right
// after a chunk's write: the next open resumes it, and every execution is canceled
// exactly once, each caused by the one JobCanceled.
TEST(CrashFanOutTest, AKilledCancelResumesAtTheNextOpenAndCancelsEachExecutionOnce) {
  // The fan-out's chunks 2..4 are next_chunk #1..#3; the cancel's chunks 2..4 are #4..#6.
  for (int nth : {4, 5}) {
    SCOPED_TRACE("fanout.next_chunk #" + std::to_string(nth));
    TempDir dir;
    std::set<std::string> lines;
    ASSERT_NO_FATAL_FAILURE(RunChildUntilKilled(
        {"cancel", dir.Sub("ledger"), "crash=fanout.next_chunk", "nth=" + std::to_string(nth)}, &lines));
    ASSERT_TRUE(lines.count("X") > 0);   // fanned out
    ASSERT_FALSE(lines.count("Y") > 0);  // not finished

    std::unique_ptr<Ledger> ledger;
    ASSERT_NO_FATAL_FAILURE(ReopenAndFinishChunks(dir.Sub("ledger"), &ledger));
    auto job = ledger->GetJobState("big");
    ASSERT_TRUE(job.ok() && job->has_value());
    EXPECT_FALSE((*job)->cancel_pending);
    EXPECT_EQ((*job)->status, JobStatus::kCanceled);
    EXPECT_EQ((*job)->count(ExecutionStatus::kCanceled), 10);
    EXPECT_EQ((*job)->count(ExecutionStatus::kQueued), 0);
    int canceled = 0;
    uint64_t job_canceled = 0;
    for (auto c = ledger->log().NewCursor(); c->state() == EventCursor::State::kPositioned; c->Next()) {
      if (std::holds_alternative<JobCanceled>(c->event().body)) job_canceled = c->event().sequence;
      if (std::holds_alternative<ExecutionCanceled>(c->event().body)) {
        ++canceled;
        EXPECT_EQ(c->event().cause, job_canceled);
      }
    }
    EXPECT_EQ(canceled, 10);
    ASSERT_NO_FATAL_FAILURE(ExpectStateAndChainSound(*ledger));
  }
}

// A rollout's plan made in chunks, killed between chunks or right after a chunk's
// write: the next open resumes the plan from the job's cursor, every thing is planned
// once, and the rollout then queues each once.
TEST(CrashFanOutTest, AKilledPlanResumesAtTheNextOpenAndPlansEachThingOnce) {
  for (const auto& [point, nth] : std::vector<std::pair<std::string, int>>{
           {"fanout.next_chunk", 1}, {"fanout.next_chunk", 2}, {"append.after_write", 12}}) {
    SCOPED_TRACE(point + " #" + std::to_string(nth));
    TempDir dir;
    std::set<std::string> lines;
    ASSERT_NO_FATAL_FAILURE(RunChildUntilKilled(
        {"plan", dir.Sub("ledger"), "crash=" + point, "nth=" + std::to_string(nth)}, &lines));
    ASSERT_FALSE(lines.count("X") > 0);  // not finished

    std::unique_ptr<Ledger> ledger;
    ASSERT_NO_FATAL_FAILURE(ReopenAndFinishChunks(dir.Sub("ledger"), &ledger));
    auto job = ledger->GetJobState("big");
    ASSERT_TRUE(job.ok() && job->has_value());
    EXPECT_FALSE((*job)->fan_out_pending);
    EXPECT_EQ((*job)->count(ExecutionStatus::kQueued), 2);  // the first window
    std::vector<std::string> planned;
    int done = 0;
    for (auto c = ledger->log().NewCursor(); c->state() == EventCursor::State::kPositioned; c->Next()) {
      if (const auto* p = std::get_if<RolloutPlanned>(&c->event().body)) {
        for (const PlannedExecution& e : p->entries) planned.push_back(e.thing_name);
      }
      if (const auto* f = std::get_if<FanOutStep>(&c->event().body)) {
        done += f->done;
        EXPECT_TRUE(f->plan);
      }
    }
    EXPECT_EQ(done, 1);
    std::sort(planned.begin(), planned.end());
    std::vector<std::string> want;
    for (int i = 0; i < 10; ++i) want.push_back("dev-" + std::to_string(i));
    std::sort(want.begin(), want.end());
    EXPECT_EQ(planned, want);
    ASSERT_NO_FATAL_FAILURE(ExpectStateAndChainSound(*ledger));
  }
}

// A fan-out queued in chunks (LedgerLimits::fan_out_chunk) killed between chunks, or
// right after a chunk's write before it was acknowledged: the next open resumes it from
// the job's cursor, and every thing gets exactly one execution.
TEST(CrashFanOutTest, AKilledFanOutResumesAtTheNextOpenAndQueuesEachThingOnce) {
  // 10 joins and the CreateJob are the first 11 writes; 12 and 13 are chunks 2 and 3.
  for (const auto& [point, nth] : std::vector<std::pair<std::string, int>>{
           {"fanout.next_chunk", 1}, {"fanout.next_chunk", 2}, {"append.after_write", 12},
           {"append.after_write", 13}}) {
    SCOPED_TRACE(point + " #" + std::to_string(nth));
    TempDir dir;
    std::set<std::string> lines;
    ASSERT_NO_FATAL_FAILURE(RunChildUntilKilled(
        {"fanout", dir.Sub("ledger"), "crash=" + point, "nth=" + std::to_string(nth)}, &lines));
    ASSERT_FALSE(lines.count("X") > 0);  // not finished
    {
      // The kill cut the fan-out short.
      EventLogOptions read_only;
      auto log = EventLog::Open(read_only, dir.Sub("ledger"), OpenMode::kReadOnly);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      int queued = 0;
      for (auto c = (*log)->NewCursor(); c->state() == EventCursor::State::kPositioned; c->Next()) {
        queued += std::holds_alternative<ExecutionQueued>(c->event().body);
      }
      EXPECT_LT(queued, 10);
      EXPECT_GE(queued, 3);
    }

    std::unique_ptr<Ledger> ledger;
    ASSERT_NO_FATAL_FAILURE(ReopenAndFinishChunks(dir.Sub("ledger"), &ledger));
    auto job = ledger->GetJobState("big");
    ASSERT_TRUE(job.ok() && job->has_value());
    EXPECT_FALSE((*job)->fan_out_pending);
    EXPECT_EQ((*job)->count(ExecutionStatus::kQueued), 10);
    int queued = 0, done = 0;
    for (auto c = ledger->log().NewCursor(); c->state() == EventCursor::State::kPositioned; c->Next()) {
      queued += std::holds_alternative<ExecutionQueued>(c->event().body);
      if (const auto* f = std::get_if<FanOutStep>(&c->event().body)) done += f->done;
    }
    EXPECT_EQ(queued, 10);
    EXPECT_EQ(done, 1);
    ASSERT_NO_FATAL_FAILURE(ExpectStateAndChainSound(*ledger));
  }
}

struct WritePointCase {
  const char* name;
  bool ledger;
  const char* point;
};

// Names the case in test listings (instead of its bytes).
void PrintTo(const WritePointCase& c, std::ostream* os) { *os << c.name; }

class CrashAtWritePointTest : public ::testing::TestWithParam<WritePointCase> {};

TEST_P(CrashAtWritePointTest, GroupInFlightIsAllOrNothing) {
  std::mt19937_64 rng(TestSeed(kDefaultSeed));
  const uint64_t nth = std::uniform_int_distribution<uint64_t>(1, 30)(rng);
  CrashAtWritePoint(GetParam().ledger, GetParam().point, nth);
}

const WritePointCase kWritePoints[] = {
    {"LogBeforeWrite", false, "append.before_write"},
    {"LogAfterWrite", false, "append.after_write"},
    {"LedgerBeforeWrite", true, "append.before_write"},
    {"LedgerAfterWrite", true, "append.after_write"},
};

std::string WritePointName(const ::testing::TestParamInfo<WritePointCase>& info) {
  return info.param.name;
}

// Short: one point in each mode; the slow suite below runs every combination.
INSTANTIATE_TEST_SUITE_P(Points, CrashAtWritePointTest,
                         ::testing::Values(kWritePoints[0], kWritePoints[3]), WritePointName);

// The same at more, and later, groups.
class CrashAtWritePointSlow : public ::testing::TestWithParam<WritePointCase> {};

TEST_P(CrashAtWritePointSlow, GroupInFlightIsAllOrNothing) {
  std::mt19937_64 rng(TestSeed(kDefaultSeed + 1));
  for (int round = 0; round < 4 && !HasFailure(); ++round) {
    const uint64_t nth = std::uniform_int_distribution<uint64_t>(1, 200)(rng);
    CrashAtWritePoint(GetParam().ledger, GetParam().point, nth);
  }
}

INSTANTIATE_TEST_SUITE_P(Points, CrashAtWritePointSlow, ::testing::ValuesIn(kWritePoints),
                         WritePointName);

// ---- import.after_chunk ----

// A source ledger of `chunks` import chunks and a few hundred events more, exported
// once per process.
struct ImportSource {
  TempDir dir;
  std::string file;
  std::vector<Hash> hashes;  // hashes[s - 1]: the hash of event s
  Digest digest;
};

const ImportSource& Source(uint64_t chunks) {
  static std::map<uint64_t, std::unique_ptr<ImportSource>> sources;
  std::unique_ptr<ImportSource>& s = sources[chunks];
  if (s != nullptr) return *s;
  s = std::make_unique<ImportSource>();
  LedgerOptions options;
  options.sync = false;
  auto ledger = Ledger::Open(options, s->dir.Sub("source")).value();
  for (int j = 0; ledger->log().head().sequence <= chunks * kImportChunk + 300; ++j) {
    CreateJobRequest create;
    create.job_id = "src-" + std::to_string(j);
    create.document = "{}";
    for (int t = 0; t < 60; ++t) {
      create.targets.push_back("arn:aws:iot:us-east-1:123456789012:thing/src-" + std::to_string(j) +
                               "-" + std::to_string(t));
    }
    EXPECT_TRUE(
        ledger->CreateJob(RequestContext{"user:src", "src-" + std::to_string(j)}, create).ok());
    UpdateJobExecutionRequest u;
    u.job_id = create.job_id;
    u.thing_name = "src-" + std::to_string(j) + "-0";
    u.status = ExecutionStatus::kInProgress;
    EXPECT_TRUE(ledger->UpdateJobExecution(RequestContext{"thing:" + u.thing_name, ""}, u).ok());
  }
  s->file = s->dir.Sub("export.jsonl");
  std::ofstream out(s->file);
  EXPECT_TRUE(Export(ledger->log(), 1, kMaxSequence, out).ok());
  auto cursor = ledger->log().NewCursor();
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
    s->hashes.push_back(cursor->hash());
  }
  s->digest = ledger->log().digest();
  return *s;
}

class CrashDuringImportTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(CrashDuringImportTest, LeavesAValidPrefixAndCanBeRedone) {
  const uint64_t chunks = GetParam();
  const ImportSource& source = Source(chunks);
  ASSERT_GT(source.hashes.size(), chunks * kImportChunk) << "the source is too small";
  TempDir dir;
  const std::string ledger_dir = dir.Sub("ledger");
  Child child({"import", ledger_dir, "file=" + source.file, "crash=import.after_chunk",
               "nth=" + std::to_string(chunks)});
  ASSERT_TRUE(child.started()) << child.error();
  Trace trace;
  ReadToEnd(child, trace);
  const int status = child.Wait();
  for (const std::string& f : trace.failures) ADD_FAILURE() << "child: " << f;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << DescribeWaitStatus(status);
  EXPECT_EQ(trace.Others('I').size(), chunks);

  LedgerOptions options;
  auto ledger = Ledger::Open(options, ledger_dir);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EventLog& log = (*ledger)->log();
  const uint64_t head = log.head().sequence;
  ASSERT_EQ(head, chunks * kImportChunk) << "not exactly the chunks imported before the crash";
  // The prefix is the source's: the same hashes up to the head, and a sound chain.
  VerifyOptions verify;
  verify.check_indexes = true;
  verify.digest = Digest{head, source.hashes[head - 1]};
  StatusOr<VerifyResult> verified = log.Verify(verify);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->ok()) << VerifyProblemName(verified->problem) << ": " << verified->detail;
  EXPECT_EQ(log.head().hash, source.hashes[head - 1]);
  StatusOr<StateCheckResult> state = (*ledger)->CheckState();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_TRUE(state->ok()) << state->differences.front();
  const StoredProjection stored = ReadStoredProjection(log);
  EXPECT_EQ(stored.checkpoint, std::optional<uint64_t>(head));
  auto projections = OpenJobsProjection(log);
  ASSERT_TRUE(projections.ok()) << projections.status().ToString();
  StatusOr<DriftReport> drift = (*projections)->CheckDrift(JobsProjection::kName);
  ASSERT_TRUE(drift.ok()) << drift.status().ToString();
  EXPECT_TRUE(drift->ok()) << drift->differences.front();

  // Import only goes into an empty ledger: the half-imported one refuses, unchanged.
  {
    std::ifstream in(source.file);
    auto again = Import(**ledger, in);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition) << again.status().ToString();
    EXPECT_NE(again.status().message().find("not empty"), std::string::npos)
        << again.status().message();
    EXPECT_EQ(log.head().sequence, head);
  }
  projections->reset();
  ledger->reset();

  // Redone into an empty ledger, it gives the source.
  auto fresh = Ledger::Open(options, dir.Sub("redo"));
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  auto fresh_projections = OpenJobsProjection((*fresh)->log());
  ASSERT_TRUE(fresh_projections.ok()) << fresh_projections.status().ToString();
  std::ifstream in(source.file);
  auto redone = Import(**fresh, in);
  ASSERT_TRUE(redone.ok()) << redone.status().ToString();
  EXPECT_EQ(redone->events, source.hashes.size());
  EXPECT_EQ(redone->digest, source.digest);
}

std::string ChunkName(const ::testing::TestParamInfo<uint64_t>& info) {
  return "AfterChunk" + std::to_string(info.param);
}

// Slow only: an import needs more than one 4096-event chunk, a few seconds' work.
INSTANTIATE_TEST_SUITE_P(Slow, CrashDuringImportTest, ::testing::Values(1, 2), ChunkName);

// ---- a projection rebuild, killed at each of its points while writers append ----

class CrashDuringRebuildTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CrashDuringRebuildTest, RegistryNamesOneCompleteFamily) {
  const std::string point = GetParam();
  TempDir dir;
  const std::string ledger_dir = dir.Sub("ledger");
  Recovered before;
  {
    // More than one fold chunk of history, so the rebuild applies a chunk outside the lock.
    LedgerOptions options;
    options.sync = false;
    auto ledger = Ledger::Open(options, ledger_dir);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    auto projections = OpenJobsProjection((*ledger)->log());
    ASSERT_TRUE(projections.ok()) << projections.status().ToString();
    for (int j = 0; (*ledger)->log().head().sequence <= kImportChunk + 200; ++j) {
      CreateJobRequest create;
      create.job_id = "pre-" + std::to_string(j);
      create.document = "{}";
      for (int t = 0; t < 50; ++t) {
        create.targets.push_back("arn:aws:iot:us-east-1:123456789012:thing/pre-" +
                                 std::to_string(j) + "-" + std::to_string(t));
      }
      auto created = (*ledger)->CreateJob(RequestContext{"user:pre", create.job_id}, create);
      ASSERT_TRUE(created.ok()) << created.status().ToString();
    }
    before.head = (*ledger)->log().head().sequence;
    before.hash = (*ledger)->log().head().hash;
  }

  Child child({"rebuild", ledger_dir, "prefix=rb", "threads=4", "stop=" + point, "nth=1"});
  ASSERT_TRUE(child.started()) << child.error();
  Trace trace;
  ReadToEnd(child, trace);
  const int status = child.Wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the rebuild did not die at " << point << ": " << DescribeWaitStatus(status);
  const std::vector<std::string> reached = trace.Others('P');
  ASSERT_FALSE(reached.empty());
  EXPECT_EQ(reached.back(), point + " 1");
  const std::vector<std::string> old_family = trace.Others('O');
  ASSERT_EQ(old_family.size(), 1u);
  std::string new_family;
  for (const std::string& f : trace.Others('N')) {
    if (f.rfind("proj.jobs.v", 0) == 0 && f != old_family[0]) new_family = f;
  }
  ASSERT_FALSE(new_family.empty()) << "the child reported no new family";
  const std::string expected = point == "Switched" ? new_family : old_family[0];

  RecoveryExpectation expect;
  expect.ledger = true;
  expect.prior_head = before.head;
  expect.prior_hash = before.hash;
  expect.before_projections = [&](EventLog&, const StoredProjection& stored) {
    EXPECT_EQ(stored.family, expected) << "the registry names the wrong family";
  };
  expect.after_projections = [&](EventLog& log, ProjectionManager& projections) {
    EXPECT_EQ(FamiliesWithPrefix(log, "proj.jobs.v"), std::vector<std::string>{expected})
        << "the other family was not dropped at open";
    ASSERT_EQ(projections.Info().size(), 1u);
    EXPECT_EQ(projections.Info()[0].family, expected);
    EXPECT_EQ(projections.Info()[0].checkpoint, log.head().sequence);
  };
  Recovered recovered;
  ASSERT_NO_FATAL_FAILURE(CheckRecovered(ledger_dir, trace, expect, &recovered));
  std::cout << "[ rebuild  ] killed at " << point << " with " << trace.acks
            << " commands acknowledged meanwhile; active family " << expected << "\n";
}

std::string RebuildPointName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// Slow only: each builds more than a fold chunk of history first. (projections_test's
// ProjectionManagerCrashTest stops a rebuild at every point in-process, in the fast set.)
INSTANTIATE_TEST_SUITE_P(Slow, CrashDuringRebuildTest,
                         ::testing::Values("FamilyCreated", "ChunkApplied", "CaughtUp", "Switched"),
                         RebuildPointName);

}  // namespace
}  // namespace jobledger::crash
