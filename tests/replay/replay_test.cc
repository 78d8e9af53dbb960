// The replay library against the ledger it reads:
//   1. as-of answers equal live answers on a ledger holding only the first N events
//      (random histories, exported and imported);
//   2. AtTime between, at, before and after events, with a clock stepping back;
//   3. export / import determinism;
//   4. History, Why and Diff of a known scenario;
//   5. VerifyLedger on a corruption table (through raw RocksDB), read-only included;
//   6. export -> import round trip and tampered export files.

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobledger/event_json.h"
#include "jobledger/json.h"
#include "jobledger/replay.h"
#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/keys.h"
#include "tests/projections/projections_test_util.h"
#include "tests/support/random_commands.h"
#include "tests/support/raw_db.h"

namespace jobledger::testing {
namespace {

constexpr uint64_t kDefaultSeed = 0x7265706c6179;  // "replay"
constexpr int64_t kSecond = 1'000'000;

uint64_t SeedFromEnv() {
  const char* env = std::getenv("JOBLEDGER_SEED");
  if (env != nullptr && *env != '\0') return std::strtoull(env, nullptr, 0);
  return kDefaultSeed;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

ReadPoint AsOf(uint64_t sequence, int64_t now) {
  ReadPoint p;
  p.sequence = sequence;
  p.now_micros = now;
  return p;
}

ReadPoint Live(int64_t now) {
  ReadPoint p;
  p.now_micros = now;
  return p;
}

// Every event of `log` with its stored chain hash.
struct LoggedEvents {
  std::vector<Event> events;
  std::vector<Hash> hashes;
};

LoggedEvents AllEvents(const EventLog& log) {
  LoggedEvents out;
  auto cursor = log.NewCursor(1, log.head().sequence);
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
    out.events.push_back(cursor->event());
    out.hashes.push_back(cursor->hash());
  }
  EXPECT_TRUE(cursor->status().ok()) << cursor->status().ToString();
  EXPECT_EQ(out.events.size(), log.head().sequence);
  return out;
}

std::string ExportText(const EventLog& log, uint64_t from, uint64_t to) {
  std::stringstream out;
  StatusOr<uint64_t> n = Export(log, from, to, out);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return out.str();
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// ---- comparing answers ----

bool Same(const jobledger::Job& a, const jobledger::Job& b) { return a == b; }
bool Same(const std::string& a, const std::string& b) { return a == b; }
bool Same(const JobExecution& a, const JobExecution& b) { return a == b; }
bool Same(const ListJobsResult& a, const ListJobsResult& b) {
  return a.jobs == b.jobs && a.next_token == b.next_token;
}
bool Same(const ListJobExecutionsForJobResult& a, const ListJobExecutionsForJobResult& b) {
  return a.execution_summaries == b.execution_summaries && a.next_token == b.next_token;
}
bool Same(const ListJobExecutionsForThingResult& a, const ListJobExecutionsForThingResult& b) {
  return a.execution_summaries == b.execution_summaries && a.next_token == b.next_token;
}
bool Same(const GetPendingJobExecutionsResponse& a, const GetPendingJobExecutionsResponse& b) {
  return a.in_progress_jobs == b.in_progress_jobs && a.queued_jobs == b.queued_jobs;
}

std::string Show(const jobledger::Job& j) { return RenderDescribeJob(j, -1); }
std::string Show(const std::string& s) { return s; }
std::string Show(const JobExecution& e) { return RenderDescribeJobExecution(e, -1); }
std::string Show(const ListJobsResult& r) { return RenderListJobs(r, -1); }
std::string Show(const ListJobExecutionsForJobResult& r) { return RenderListJobExecutionsForJob(r, -1); }
std::string Show(const ListJobExecutionsForThingResult& r) {
  return RenderListJobExecutionsForThing(r, -1);
}
std::string Show(const GetPendingJobExecutionsResponse& r) { return RenderGetPendingJobExecutions(r, -1); }

// Compares answers of two sides, reporting the first few differences.
class AnswerCheck {
 public:
  AnswerCheck(std::string context, std::string label_a, std::string label_b)
      : context_(std::move(context)), label_a_(std::move(label_a)), label_b_(std::move(label_b)) {}

  template <typename T>
  bool Expect(const StatusOr<T>& a, const StatusOr<T>& b, const std::string& what) {
    ++compared_;
    std::string problem;
    if (a.ok() && b.ok()) {
      if (Same(*a, *b)) return true;
      problem = "answers differ\n  " + label_a_ + ": " + Show(*a) + "\n  " + label_b_ + ": " + Show(*b);
    } else if (a.ok() != b.ok()) {
      problem = "only one side failed\n  " + label_a_ + ": " + (a.ok() ? Show(*a) : a.status().ToString()) +
                "\n  " + label_b_ + ": " + (b.ok() ? Show(*b) : b.status().ToString());
    } else if (a.status().code() != b.status().code() ||
               a.status().aws_error() != b.status().aws_error()) {
      problem = "errors differ\n  " + label_a_ + ": " + a.status().ToString() + "\n  " + label_b_ +
                ": " + b.status().ToString();
    } else {
      return true;
    }
    if (++mismatches_ <= 8) {
      ADD_FAILURE() << context_ << ": " << what << ": " << problem;
    }
    return false;
  }

  int compared() const { return compared_; }
  int mismatches() const { return mismatches_; }

 private:
  std::string context_;
  std::string label_a_;
  std::string label_b_;
  int compared_ = 0;
  int mismatches_ = 0;
};

// Follows nextToken on both sides, page by page.
template <typename Request, typename QueryA, typename QueryB>
void ComparePages(const Request& first, QueryA&& query_a, QueryB&& query_b, AnswerCheck& check,
                  const std::string& what) {
  Request ra = first;
  Request rb = first;
  for (int page = 0; page < 200; ++page) {
    auto a = query_a(ra);
    auto b = query_b(rb);
    if (!check.Expect(a, b, what + " page " + std::to_string(page))) return;
    if (!a.ok() || !a->next_token) return;
    ra.next_token = a->next_token;
    rb.next_token = b->next_token;
  }
  ADD_FAILURE() << what << ": more than 200 pages";
}

// The ids the random histories draw from, plus one of each that is never used.
struct World {
  std::vector<std::string> jobs;
  std::vector<std::string> things;
  std::vector<std::string> groups;
  int64_t max_execution_number = 4;
};

World SmallWorld() {
  World w;
  for (int i = 0; i < 6; ++i) w.jobs.push_back("j" + std::to_string(i));
  w.jobs.push_back("never-created");
  for (int i = 0; i < 6; ++i) w.things.push_back("t" + std::to_string(i));
  w.things.push_back("ghost");
  for (int i = 0; i < 2; ++i) w.groups.push_back("g" + std::to_string(i));
  w.groups.push_back("no-such-group");
  return w;
}

std::vector<std::pair<std::string, ListJobsRequest>> ListJobsVariants(const World& w) {
  std::vector<std::pair<std::string, ListJobsRequest>> out;
  ListJobsRequest all;
  out.emplace_back("ListJobs()", all);
  ListJobsRequest small;
  small.max_results = 2;
  out.emplace_back("ListJobs(maxResults 2)", small);
  for (JobStatus s : {JobStatus::kInProgress, JobStatus::kCanceled, JobStatus::kSucceeded}) {
    ListJobsRequest r;
    r.status = s;
    r.max_results = 2;
    out.emplace_back("ListJobs(status " + std::string(JobStatusName(s)) + ")", r);
  }
  for (TargetSelection t : {TargetSelection::kSnapshot, TargetSelection::kContinuous}) {
    ListJobsRequest r;
    r.target_selection = t;
    r.max_results = 2;
    out.emplace_back("ListJobs(targetSelection " + std::string(TargetSelectionName(t)) + ")", r);
  }
  for (const std::string& g : w.groups) {
    ListJobsRequest r;
    r.thing_group_name = g;
    r.max_results = 2;
    out.emplace_back("ListJobs(thingGroupName " + g + ")", r);
  }
  ListJobsRequest combined;
  combined.status = JobStatus::kInProgress;
  combined.thing_group_name = w.groups.front();
  out.emplace_back("ListJobs(status IN_PROGRESS, thingGroupName " + w.groups.front() + ")", combined);
  return out;
}

// Every query of the read models on side a (at pa) and side b (at pb).
void CompareAll(const ReadModels& ra, const ReadPoint& pa, const ReadModels& rb, const ReadPoint& pb,
                const World& w, AnswerCheck& check) {
  for (const std::string& job : w.jobs) {
    check.Expect(ra.DescribeJob(job, pa), rb.DescribeJob(job, pb), "DescribeJob(" + job + ")");
    check.Expect(ra.GetJobDocument(job, pa), rb.GetJobDocument(job, pb), "GetJobDocument(" + job + ")");
    std::vector<std::pair<std::string, ListJobExecutionsForJobRequest>> variants;
    ListJobExecutionsForJobRequest paged;
    paged.job_id = job;
    paged.max_results = 2;
    variants.emplace_back("maxResults 2", paged);
    for (ExecutionStatus s : {ExecutionStatus::kQueued, ExecutionStatus::kInProgress,
                              ExecutionStatus::kSucceeded}) {
      ListJobExecutionsForJobRequest r;
      r.job_id = job;
      r.status = s;
      variants.emplace_back("status " + std::string(ExecutionStatusName(s)), r);
    }
    for (const auto& [label, request] : variants) {
      ComparePages(
          request, [&](const ListJobExecutionsForJobRequest& r) { return ra.ListJobExecutionsForJob(r, pa); },
          [&](const ListJobExecutionsForJobRequest& r) { return rb.ListJobExecutionsForJob(r, pb); }, check,
          "ListJobExecutionsForJob(" + job + ", " + label + ")");
    }
    for (const std::string& thing : w.things) {
      check.Expect(ra.DescribeJobExecution(job, thing, std::nullopt, pa),
                   rb.DescribeJobExecution(job, thing, std::nullopt, pb),
                   "DescribeJobExecution(" + job + ", " + thing + ")");
      for (int64_t n = 1; n <= w.max_execution_number; ++n) {
        check.Expect(ra.DescribeJobExecution(job, thing, n, pa), rb.DescribeJobExecution(job, thing, n, pb),
                     "DescribeJobExecution(" + job + ", " + thing + ", #" + std::to_string(n) + ")");
      }
    }
  }
  for (const auto& [label, request] : ListJobsVariants(w)) {
    ComparePages(
        request, [&](const ListJobsRequest& r) { return ra.ListJobs(r, pa); },
        [&](const ListJobsRequest& r) { return rb.ListJobs(r, pb); }, check, label);
  }
  for (const std::string& thing : w.things) {
    ListJobExecutionsForThingRequest paged;
    paged.thing_name = thing;
    paged.max_results = 2;
    ListJobExecutionsForThingRequest succeeded;
    succeeded.thing_name = thing;
    succeeded.status = ExecutionStatus::kSucceeded;
    for (const auto& [label, request] :
         {std::make_pair(std::string("maxResults 2"), paged), std::make_pair(std::string("status SUCCEEDED"), succeeded)}) {
      ComparePages(
          request, [&](const ListJobExecutionsForThingRequest& r) { return ra.ListJobExecutionsForThing(r, pa); },
          [&](const ListJobExecutionsForThingRequest& r) { return rb.ListJobExecutionsForThing(r, pb); }, check,
          "ListJobExecutionsForThing(" + thing + ", " + label + ")");
    }
    check.Expect(ra.GetPendingJobExecutions(thing, pa), rb.GetPendingJobExecutions(thing, pb),
                 "GetPendingJobExecutions(" + thing + ")");
  }
}

// ---- a second ledger (an import target) ----

struct Replica {
  TempDir dir;
  ManualClock clock{kT0};
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<ProjectionManager> projections;
  std::unique_ptr<ReadModels> reads;

  void Close() {
    reads.reset();
    projections.reset();
    ledger.reset();
  }
  ~Replica() { Close(); }
};

void OpenReplica(Replica* r) {
  LedgerOptions options;
  options.clock = &r->clock;
  options.sync = false;
  auto opened = Ledger::Open(options, r->dir.Sub("ledger"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  r->ledger = std::move(opened).value();
  std::vector<ProjectionManager::Entry> entries;
  ProjectionManager::Entry jobs;
  jobs.projection = std::make_unique<JobsProjection>();
  jobs.mode = ProjectionMode::kInline;
  entries.push_back(std::move(jobs));
  auto pm = ProjectionManager::Open(r->ledger->log(), std::move(entries));
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  r->projections = std::move(pm).value();
  r->reads = std::make_unique<ReadModels>(r->ledger->log(), *r->projections, r->ledger->context(), &r->clock);
}

StatusOr<ImportResult> ImportText(Replica& r, const std::string& text) {
  std::istringstream in(text);
  return Import(*r.ledger, in);
}

// Every row of a family, in key order.
std::vector<std::pair<std::string, std::string>> Rows(const EventLog& log, FamilyId family) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = log.ScanRows(family, "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

// ---- raw RocksDB access (storage checksums stay valid) ----

const std::string kEvents(internal::kEventsFamily);
const std::string kMeta(internal::kMetaFamily);
const std::string kJobStream(internal::kJobStreamFamily);
const std::string kThingStream(internal::kThingStreamFamily);
constexpr size_t kHashBytes = sizeof(Hash);

StoredEvent GetStored(RawDb& raw, uint64_t seq) {
  StoredEvent out;
  rocksdb::Status s = raw.GetEvent(seq, &out);
  EXPECT_TRUE(s.ok()) << "event " << seq << ": " << s.ToString();
  return out;
}

// Stores `event_k` (re-encoded) as event k, re-chains k+1..last and rewrites the head.
void RechainFrom(RawDb& raw, const Event& event_k, uint64_t last) {
  const uint64_t k = event_k.sequence;
  Hash prev{};
  if (k > 1) prev = GetStored(raw, k - 1).hash;
  int64_t last_recorded_at = 0;
  for (uint64_t seq = k; seq <= last; ++seq) {
    Event e = event_k;
    if (seq != k) {
      StatusOr<Event> decoded = internal::DecodeEvent(GetStored(raw, seq).bytes, seq);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      e = *decoded;
    }
    e.previous_hash = prev;
    last_recorded_at = e.recorded_at_micros;
    const std::string bytes = internal::EncodeEvent(e);
    const Hash hash = internal::ChainHash(prev, seq, bytes);
    ASSERT_ROCKS_OK(raw.Put(kEvents, internal::EventKey(seq), JoinStoredEvent(hash, bytes)));
    prev = hash;
  }
  ASSERT_ROCKS_OK(raw.Put(kMeta, internal::MetaKey(internal::kHeadMetaName),
                          EncodeHeadRecord(last, prev, last_recorded_at)));
}

// Every file under `root` with its bytes.
std::map<std::string, std::string> FolderContents(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    out[entry.path().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

const VerifyCheck* FindCheck(const VerifyReport& report, const std::string& name) {
  for (const VerifyCheck& c : report.checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string DescribeReport(const VerifyReport& report) {
  std::string out;
  for (const VerifyCheck& c : report.checks) {
    out += "\n  " + c.name + ": " + (c.ok ? "ok" : "FAILED " + c.problem + " at " +
                                                       std::to_string(c.first_bad_sequence) + " (" + c.detail + ")");
  }
  return out;
}

const FieldChange* FindChange(const AuditEntry& entry, const std::string& field) {
  for (const FieldChange& c : entry.changes) {
    if (c.field == field) return &c;
  }
  return nullptr;
}

// The sequences of the events matching `keep`.
template <typename Pred>
std::vector<uint64_t> SequencesWhere(const EventLog& log, Pred&& keep) {
  std::vector<uint64_t> out;
  for (const Event& e : AllEvents(log).events) {
    if (keep(e)) out.push_back(e.sequence);
  }
  return out;
}

// ---- the fixture ----

// Sequences of the scenario of BuildScenario.
struct Scenario {
  uint64_t risky_created = 0;
  uint64_t other_created = 0;
  uint64_t t0_started = 0;      // risky on t0: QUEUED -> IN_PROGRESS, progress 10%, req-1
  uint64_t t0_progress = 0;     // risky on t0: progress 50%, req-2
  uint64_t other_started = 0;   // other on t0: IN_PROGRESS
  uint64_t t1_failed = 0;       // risky on t1: FAILED
  uint64_t t2_succeeded = 0;    // risky on t2: SUCCEEDED, trips the abort
  uint64_t head = 0;            // the last ExecutionCanceled of the abort
};

class ReplayTest : public ProjectionsFixture {
 protected:
  // A new, empty ledger in the fixture's folder, the clock back at kT0.
  void FreshLedger() {
    reads_.reset();
    projections_.reset();
    ledger_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_.path() + "/ledger", ec);
    clock_.Set(kT0);
    ASSERT_NO_FATAL_FAILURE(Reopen());
    ASSERT_NO_FATAL_FAILURE(OpenProjections());
  }

  void CloseAll() {
    reads_.reset();
    projections_.reset();
    ledger_.reset();
  }

  std::string LedgerPath() const { return dir_.path() + "/ledger"; }

  // One random command (or a time step) over SmallWorld (tests/support/random_commands.h),
  // with request ids and a clock that jitters and steps back.
  void RandomStep(std::mt19937_64& rng) {
    RandomWorld world;
    world.request_ids = true;
    world.clock_jitter = true;
    RandomCounts counts;
    counts.requests = request_counter_;
    testing::RandomStep(rng, world, *ledger_, clock_, &counts);
    accepted_ += counts.accepted;
    rejected_ += counts.rejected;
    request_counter_ = counts.requests;
  }

  void RandomHistory(uint64_t seed, int steps) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < steps && !HasFatalFailure(); ++i) RandomStep(rng);
  }

  // Four things in group "fleet"; job "risky" on the fleet aborts when half of its
  // terminal executions failed (min 2); job "other" on t0.
  Scenario BuildScenario() {
    Scenario s;
    auto tick = [&] { clock_.Advance(kMinute); };
    for (int i = 0; i < 4; ++i) {
      tick();
      MustJoin("fleet", "t" + std::to_string(i));
    }
    tick();
    CreateJobRequest r = NewJob("risky", {GroupArnOf("fleet")});
    AbortCriteria criteria;
    criteria.failure_type = FailureType::kFailed;
    criteria.threshold_percentage = 50;
    criteria.min_number_of_executed_things = 2;
    AbortConfig abort;
    abort.criteria_list.push_back(criteria);
    r.abort_config = abort;
    TimeoutConfig timeout;
    timeout.in_progress_timeout_in_minutes = 30;
    r.timeout_config = timeout;
    s.risky_created = Head() + 1;
    MustCreate(r);
    tick();
    s.other_created = Head() + 1;
    MustCreate(NewJob("other", {ThingArnOf("t0")}));
    tick();
    UpdateJobExecutionRequest u = Update("risky", "t0", ExecutionStatus::kInProgress);
    u.status_details = DetailsMap{{"progress", "10%"}};
    EXPECT_TRUE(ledger_->UpdateJobExecution(As("thing:t0", "req-1"), u).ok());
    s.t0_started = Head();
    tick();
    u.status_details = DetailsMap{{"progress", "50%"}};
    EXPECT_TRUE(ledger_->UpdateJobExecution(As("thing:t0", "req-2"), u).ok());
    s.t0_progress = Head();
    tick();
    MustUpdate("other", "t0", ExecutionStatus::kInProgress);
    s.other_started = Head();
    tick();
    MustUpdate("risky", "t1", ExecutionStatus::kFailed);
    s.t1_failed = Head();
    tick();
    s.t2_succeeded = Head() + 1;
    MustUpdate("risky", "t2", ExecutionStatus::kSucceeded);
    s.head = Head();
    return s;
  }

  StatusOr<VerifyReport> VerifyHere(std::optional<Digest> digest = std::nullopt) {
    LedgerVerifyOptions options;
    options.digest = digest;
    return VerifyLedger(ledger_->log(), ledger_.get(), projections_.get(), options);
  }

  // Closes everything, runs VerifyLedger on a read-only open (a Ledger and the "jobs"
  // projection on its log) and checks that no file of the folder changed.
  void VerifyReadOnly(const std::optional<Digest>& digest, VerifyReport* out) {
    CloseAll();
    const std::map<std::string, std::string> before = FolderContents(LedgerPath());
    {
      LedgerOptions options;
      options.clock = &clock_;
      options.mode = OpenMode::kReadOnly;
      auto ro = Ledger::Open(options, LedgerPath());
      ASSERT_TRUE(ro.ok()) << ro.status().ToString();
      std::vector<ProjectionManager::Entry> entries;
      ProjectionManager::Entry jobs;
      jobs.projection = std::make_unique<JobsProjection>();
      entries.push_back(std::move(jobs));
      auto pm = ProjectionManager::Open((*ro)->log(), std::move(entries));
      ASSERT_TRUE(pm.ok()) << pm.status().ToString();
      LedgerVerifyOptions vo;
      vo.digest = digest;
      auto report = VerifyLedger((*ro)->log(), ro->get(), pm->get(), vo);
      ASSERT_TRUE(report.ok()) << report.status().ToString();
      *out = *report;
      pm->reset();
      ro->reset();
    }
    const std::map<std::string, std::string> after = FolderContents(LedgerPath());
    std::vector<std::string> changed;
    for (const auto& [path, bytes] : after) {
      auto it = before.find(path);
      if (it == before.end()) {
        changed.push_back("new " + path);
      } else if (it->second != bytes) {
        changed.push_back("changed " + path);
      }
    }
    for (const auto& [path, bytes] : before) {
      if (after.count(path) == 0) changed.push_back("removed " + path);
    }
    EXPECT_TRUE(changed.empty()) << "a read-only verify wrote to the folder: "
                                 << ::testing::PrintToString(changed);
  }

  int accepted_ = 0;
  int rejected_ = 0;
  uint64_t request_counter_ = 0;
};

// ---- 1. as of N == live on a ledger of the first N events --------------------------

TEST_F(ReplayTest, AsOfEqualsLiveOnImportedPrefix) {
  const uint64_t seed = SeedFromEnv();
  std::cout << "[ seed     ] " << seed << " (replay: JOBLEDGER_SEED=" << seed << ")\n";
  const World world = SmallWorld();
  constexpr int kHistories = 3;
  constexpr int kSteps = 260;
  constexpr int kRandomPoints = 6;
  int compared = 0;
  for (int h = 0; h < kHistories && !HasFailure(); ++h) {
    const uint64_t history_seed = seed + static_cast<uint64_t>(h);
    if (h > 0) {
      ASSERT_NO_FATAL_FAILURE(FreshLedger());
    }
    accepted_ = 0;
    rejected_ = 0;
    ASSERT_NO_FATAL_FAILURE(RandomHistory(history_seed, kSteps));
    const uint64_t head = Head();
    ASSERT_GT(head, 10u);
    const LoggedEvents logged = AllEvents(ledger_->log());
    // What the history exercised.
    std::map<EventKind, int> kinds;
    std::set<std::string> deleted;
    int reused = 0;
    int clamped = 0;
    for (const Event& e : logged.events) {
      ++kinds[KindOf(e.body)];
      if (e.clamped_from_micros != 0) ++clamped;
      if (KindOf(e.body) == EventKind::kJobDeleted) deleted.insert(std::string(JobIdOf(e.body)));
      if (KindOf(e.body) == EventKind::kJobCreated && deleted.count(std::string(JobIdOf(e.body))) > 0) ++reused;
    }
    const std::string full = ExportText(ledger_->log(), 1, kMaxSequence);
    const std::vector<std::string> full_lines = SplitLines(full);
    ASSERT_EQ(full_lines.size(), head);

    std::mt19937_64 rng(history_seed ^ 0x9e3779b97f4a7c15ull);
    std::set<uint64_t> points = {0, head};
    for (int i = 0; i < kRandomPoints; ++i) {
      points.insert(std::uniform_int_distribution<uint64_t>(1, head - 1)(rng));
    }
    std::cout << "[ history  ] seed " << history_seed << ": " << head << " events ("
              << accepted_ << " commands accepted, " << rejected_ << " rejected; " << reused
              << " jobIds reused, " << clamped << " clamped;";
    for (const auto& [kind, count] : kinds) std::cout << " " << EventKindName(kind) << " " << count;
    std::cout << "); points";
    for (uint64_t n : points) std::cout << " " << n;
    std::cout << "\n";

    for (uint64_t n : points) {
      SCOPED_TRACE("seed " + std::to_string(history_seed) + ", point " + std::to_string(n) + " of " +
                   std::to_string(head));
      std::stringstream out;
      StatusOr<uint64_t> exported = Export(ledger_->log(), 1, n, out);
      ASSERT_TRUE(exported.ok()) << exported.status().ToString();
      ASSERT_EQ(*exported, n);
      // The export of [1, N] is the first N lines of the whole export.
      const std::vector<std::string> prefix_lines = SplitLines(out.str());
      ASSERT_EQ(prefix_lines.size(), n);
      EXPECT_TRUE(std::equal(prefix_lines.begin(), prefix_lines.end(), full_lines.begin()));

      Replica replica;
      ASSERT_NO_FATAL_FAILURE(OpenReplica(&replica));
      StatusOr<ImportResult> imported = ImportText(replica, out.str());
      ASSERT_TRUE(imported.ok()) << imported.status().ToString();
      EXPECT_EQ(imported->events, n);
      EXPECT_EQ(replica.ledger->log().head().sequence, n);
      const Hash expected_hash = n == 0 ? Hash{} : logged.hashes[n - 1];
      EXPECT_EQ(imported->digest, (Digest{n, expected_hash}));

      const int64_t base = n == 0 ? kT0 : logged.events[n - 1].recorded_at_micros;
      const int64_t now = base + std::uniform_int_distribution<int64_t>(0, 20 * kMinute)(rng);
      AnswerCheck check("seed " + std::to_string(history_seed) + ", as of " + std::to_string(n) + " of " +
                            std::to_string(head) + ", now " + std::to_string(now),
                        "as of N on the full ledger", "live on the imported prefix");
      CompareAll(*reads_, AsOf(n, now), *replica.reads, Live(now), world, check);
      compared += check.compared();
      ASSERT_EQ(check.mismatches(), 0) << check.mismatches() << " of " << check.compared()
                                       << " answers differ (first ones above)";
    }
  }
  std::cout << "[ compared ] " << compared << " answers\n";
}

// ---- 2. as of a time --------------------------------------------------------------

TEST_F(ReplayTest, AtTimeIsTheLastEventAtOrBeforeAndMonotone) {
  // Distinct times, then a clock that steps back twice (clamped), then forward.
  clock_.Advance(kMinute);
  MustJoin("fleet", "t0");
  clock_.Advance(kMinute);
  MustCreate(NewJob("a", {ThingArnOf("t0"), ThingArnOf("t1")}));  // created + 2 queued, one time
  clock_.Advance(kMinute);
  MustUpdate("a", "t0", ExecutionStatus::kInProgress);
  const uint64_t before_step_back = Head();
  clock_.Advance(-30 * kSecond);
  MustUpdate("a", "t1", ExecutionStatus::kInProgress);
  clock_.Advance(-30 * kSecond);
  MustUpdate("a", "t0", ExecutionStatus::kSucceeded);
  const uint64_t last_clamped = Head();
  clock_.Advance(3 * kMinute);
  MustUpdate("a", "t1", ExecutionStatus::kSucceeded);  // and the job completes
  const uint64_t head = Head();
  ASSERT_GT(head, last_clamped);

  const LoggedEvents logged = AllEvents(ledger_->log());
  ASSERT_EQ(logged.events.size(), head);
  // The clamped events share the recordedAt of the event before the step back.
  const int64_t shared = logged.events[before_step_back - 1].recorded_at_micros;
  for (uint64_t seq = before_step_back + 1; seq <= last_clamped; ++seq) {
    EXPECT_EQ(logged.events[seq - 1].recorded_at_micros, shared) << "event " << seq;
    EXPECT_NE(logged.events[seq - 1].clamped_from_micros, 0) << "event " << seq;
  }

  // The expected answer, straight from the events.
  auto expected_at = [&](int64_t t) {
    uint64_t seq = 0;
    for (const Event& e : logged.events) {
      if (e.recorded_at_micros <= t) seq = e.sequence;
    }
    return seq;
  };
  std::set<int64_t> times;
  const int64_t first = logged.events.front().recorded_at_micros;
  const int64_t last = logged.events.back().recorded_at_micros;
  times.insert(first - kMinute);
  times.insert(first - 1);
  times.insert(kT0 - 365LL * 24 * 60 * kMinute);
  times.insert(last + 1);
  times.insert(last + kMinute);
  times.insert(std::numeric_limits<int64_t>::min());
  times.insert(std::numeric_limits<int64_t>::max());
  for (size_t i = 0; i < logged.events.size(); ++i) {
    const int64_t t = logged.events[i].recorded_at_micros;
    times.insert(t);      // exactly at
    times.insert(t - 1);  // just before
    times.insert(t + 1);  // just after
    if (i + 1 < logged.events.size()) {
      times.insert(t + (logged.events[i + 1].recorded_at_micros - t) / 2);  // between
    }
  }

  uint64_t previous_seq = 0;
  int64_t previous_succeeded = -1;
  for (int64_t t : times) {
    SCOPED_TRACE("T = " + std::to_string(t));
    StatusOr<ReadPoint> at = AtTime(ledger_->log(), t);
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    EXPECT_EQ(at->sequence, expected_at(t));
    ASSERT_TRUE(at->now_micros.has_value());
    EXPECT_EQ(*at->now_micros, t);
    EXPECT_GE(at->sequence, previous_seq) << "AtTime went back in time";
    previous_seq = at->sequence;
    if (t < first) {
      EXPECT_EQ(at->sequence, 0u);
    }
    if (t >= last) {
      EXPECT_EQ(at->sequence, head);
    }
    if (t == shared) {
      EXPECT_EQ(at->sequence, last_clamped) << "every event sharing the time is included";
    }
    // Answers as of the time: the job's succeeded count never decreases with T.
    StatusOr<jobledger::Job> job = reads_->DescribeJob("a", *at);
    if (at->sequence < 2) {
      EXPECT_EQ(job.status().aws_error(), AwsError::kResourceNotFound) << job.status().ToString();
    } else {
      ASSERT_TRUE(job.ok()) << job.status().ToString();
      EXPECT_GE(job->job_process_details.number_of_succeeded_things, previous_succeeded);
      previous_succeeded = job->job_process_details.number_of_succeeded_things;
      StatusOr<jobledger::Job> by_sequence = reads_->DescribeJob("a", AsOf(at->sequence, t));
      ASSERT_TRUE(by_sequence.ok());
      EXPECT_EQ(*job, *by_sequence);
    }
  }
  EXPECT_EQ(previous_seq, head);
  EXPECT_EQ(previous_succeeded, 2);
}

// ---- 3. determinism --------------------------------------------------------------

TEST_F(ReplayTest, ExportAndImportAreDeterministic) {
  const uint64_t seed = SeedFromEnv() + 1000;
  std::cout << "[ seed     ] " << seed << "\n";
  ASSERT_NO_FATAL_FAILURE(RandomHistory(seed, 200));
  const uint64_t head = Head();
  const std::string first = ExportText(ledger_->log(), 1, kMaxSequence);
  const std::string second = ExportText(ledger_->log(), 1, kMaxSequence);
  EXPECT_EQ(first, second);
  EXPECT_EQ(SplitLines(first).size(), head);

  Replica a;
  Replica b;
  ASSERT_NO_FATAL_FAILURE(OpenReplica(&a));
  ASSERT_NO_FATAL_FAILURE(OpenReplica(&b));
  StatusOr<ImportResult> ia = ImportText(a, first);
  StatusOr<ImportResult> ib = ImportText(b, second);
  ASSERT_TRUE(ia.ok()) << ia.status().ToString();
  ASSERT_TRUE(ib.ok()) << ib.status().ToString();
  EXPECT_EQ(ia->digest, ib->digest);
  EXPECT_EQ(ia->digest, ledger_->log().digest());
  EXPECT_EQ(a.ledger->log().digest(), b.ledger->log().digest());

  const World world = SmallWorld();
  const int64_t now = clock_.NowMicros() + 7 * kMinute;
  {
    AnswerCheck check("replica a vs replica b", "replica a", "replica b");
    CompareAll(*a.reads, Live(now), *b.reads, Live(now), world, check);
    EXPECT_EQ(check.mismatches(), 0);
  }
  {
    AnswerCheck check("source vs replica a", "source", "replica a");
    CompareAll(*reads_, Live(now), *a.reads, Live(now), world, check);
    EXPECT_EQ(check.mismatches(), 0);
  }
  // The exports of the replicas are the source's export.
  EXPECT_EQ(ExportText(a.ledger->log(), 1, kMaxSequence), first);

  for (Replica* r : {&a, &b}) {
    StatusOr<StateCheckResult> state = r->ledger->CheckState();
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_TRUE(state->ok()) << state->differences.front();
    StatusOr<DriftReport> drift = r->projections->CheckDrift("jobs");
    ASSERT_TRUE(drift.ok()) << drift.status().ToString();
    EXPECT_TRUE(drift->ok()) << drift->differences.front();
    StatusOr<VerifyReport> report = VerifyLedger(r->ledger->log(), r->ledger.get(), r->projections.get());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok()) << DescribeReport(*report);
  }
  // Byte-identical rows: the projection's active family and the write-side state.
  StatusOr<FamilyId> fa = a.projections->ActiveFamily("jobs");
  StatusOr<FamilyId> fb = b.projections->ActiveFamily("jobs");
  ASSERT_TRUE(fa.ok() && fb.ok());
  EXPECT_TRUE(Rows(a.ledger->log(), *fa) == Rows(b.ledger->log(), *fb)) << "projection rows differ";
  StatusOr<FamilyId> sa = a.ledger->log().OpenFamily("ledger.state");
  StatusOr<FamilyId> sb = b.ledger->log().OpenFamily("ledger.state");
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_TRUE(Rows(a.ledger->log(), *sa) == Rows(b.ledger->log(), *sb)) << "ledger.state rows differ";
}

// ---- 4. audit ---------------------------------------------------------------------

TEST_F(ReplayTest, HistoryOfAnExecution) {
  const Scenario s = BuildScenario();
  Auditor auditor(ledger_->log(), *reads_);
  HistoryRequest h;
  h.job_id = "risky";
  h.thing_name = "t0";
  auto history = auditor.History(h);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  const std::vector<uint64_t> expected = SequencesWhere(ledger_->log(), [](const Event& e) {
    return JobIdOf(e.body) == "risky" && ThingNameOf(e.body) == "t0";
  });
  std::vector<uint64_t> got;
  for (const AuditEntry& e : *history) got.push_back(e.sequence);
  ASSERT_EQ(got, expected);
  ASSERT_EQ(history->size(), 3u);  // queued, IN_PROGRESS, progress

  const AuditEntry& queued = (*history)[0];
  EXPECT_EQ(queued.kind, EventKind::kExecutionQueued);
  EXPECT_EQ(queued.actor, "system:rollout");
  EXPECT_EQ(queued.cause, s.risky_created);
  EXPECT_EQ(queued.job_id, "risky");
  EXPECT_EQ(queued.thing_name, "t0");
  EXPECT_EQ(queued.execution_number, 1);
  const FieldChange* appeared = FindChange(queued, "status");
  ASSERT_NE(appeared, nullptr);
  EXPECT_EQ(appeared->before, std::nullopt);
  EXPECT_EQ(appeared->after, "\"QUEUED\"");

  const AuditEntry& started = (*history)[1];
  EXPECT_EQ(started.sequence, s.t0_started);
  EXPECT_EQ(started.kind, EventKind::kExecutionStatusChanged);
  EXPECT_EQ(started.actor, "thing:t0");
  EXPECT_EQ(started.request_id, "req-1");
  EXPECT_EQ(started.cause, 0u);
  EXPECT_EQ(started.execution_number, 1);
  EXPECT_EQ(started.recorded_at_micros, ledger_->log().Read(s.t0_started)->recorded_at_micros);
  const FieldChange* status = FindChange(started, "status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(*status, (FieldChange{"status", "\"QUEUED\"", "\"IN_PROGRESS\""}));
  const FieldChange* version = FindChange(started, "versionNumber");
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(*version, (FieldChange{"versionNumber", "1", "2"}));
  const FieldChange* progress = FindChange(started, "statusDetails.detailsMap.progress");
  ASSERT_NE(progress, nullptr);
  EXPECT_EQ(*progress, (FieldChange{"statusDetails.detailsMap.progress", std::nullopt, "\"10%\""}));
  EXPECT_NE(FindChange(started, "startedAt"), nullptr);
  EXPECT_EQ(FindChange(started, "approximateSecondsBeforeTimedOut"), nullptr) << "a volatile field";
  const FieldChange* in_progress = FindChange(started, "job.jobProcessDetails.numberOfInProgressThings");
  ASSERT_NE(in_progress, nullptr);
  EXPECT_EQ(*in_progress, (FieldChange{"job.jobProcessDetails.numberOfInProgressThings", "0", "1"}));
  const FieldChange* queued_count = FindChange(started, "job.jobProcessDetails.numberOfQueuedThings");
  ASSERT_NE(queued_count, nullptr);
  EXPECT_EQ(*queued_count, (FieldChange{"job.jobProcessDetails.numberOfQueuedThings", "4", "3"}));

  const AuditEntry& more = (*history)[2];
  EXPECT_EQ(more.sequence, s.t0_progress);
  EXPECT_EQ(more.request_id, "req-2");
  EXPECT_EQ(FindChange(more, "status"), nullptr) << "IN_PROGRESS -> IN_PROGRESS changes no status";
  const FieldChange* progress2 = FindChange(more, "statusDetails.detailsMap.progress");
  ASSERT_NE(progress2, nullptr);
  EXPECT_EQ(*progress2, (FieldChange{"statusDetails.detailsMap.progress", "\"10%\"", "\"50%\""}));
  const FieldChange* version2 = FindChange(more, "versionNumber");
  ASSERT_NE(version2, nullptr);
  EXPECT_EQ(*version2, (FieldChange{"versionNumber", "2", "3"}));
  EXPECT_EQ(FindChange(more, "job.jobProcessDetails.numberOfInProgressThings"), nullptr);
}

TEST_F(ReplayTest, HistoryOfAThingAndSequenceBounds) {
  const Scenario s = BuildScenario();
  Auditor auditor(ledger_->log(), *reads_);
  HistoryRequest h;
  h.thing_name = "t0";
  auto history = auditor.History(h);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  const std::vector<uint64_t> expected =
      SequencesWhere(ledger_->log(), [](const Event& e) { return ThingNameOf(e.body) == "t0"; });
  std::vector<uint64_t> got;
  std::set<std::string> jobs;
  bool saw_membership = false;
  for (const AuditEntry& e : *history) {
    got.push_back(e.sequence);
    EXPECT_EQ(e.thing_name, "t0");
    if (!e.job_id.empty()) jobs.insert(e.job_id);
    if (e.kind == EventKind::kThingAddedToGroup) {
      saw_membership = true;
      EXPECT_EQ(e.job_id, "");
      EXPECT_EQ(e.actor, "user:ops");
      EXPECT_TRUE(e.changes.empty());
    }
  }
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(jobs, (std::set<std::string>{"other", "risky"}));
  EXPECT_TRUE(saw_membership);
  EXPECT_EQ(got.front(), 1u);  // t0 joined the fleet first

  // Bounds: [risky's t0 queued + 1, other's start].
  HistoryRequest bounded;
  bounded.thing_name = "t0";
  bounded.from_sequence = s.other_created;
  bounded.to_sequence = s.t0_progress;
  auto within = auditor.History(bounded);
  ASSERT_TRUE(within.ok()) << within.status().ToString();
  std::vector<uint64_t> expected_within;
  for (uint64_t seq : expected) {
    if (seq >= bounded.from_sequence && seq <= bounded.to_sequence) expected_within.push_back(seq);
  }
  std::vector<uint64_t> got_within;
  for (const AuditEntry& e : *within) got_within.push_back(e.sequence);
  EXPECT_EQ(got_within, expected_within);
  EXPECT_EQ(got_within.size(), 3u);  // other queued, risky started, risky progress

  // Bounds on one execution's history, and a limit.
  HistoryRequest one;
  one.job_id = "risky";
  one.thing_name = "t0";
  one.from_sequence = s.t0_started;
  one.to_sequence = s.t0_started;
  auto single = auditor.History(one);
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  ASSERT_EQ(single->size(), 1u);
  EXPECT_EQ(single->front().sequence, s.t0_started);
  HistoryRequest limited;
  limited.job_id = "risky";
  limited.limit = 2;
  auto first_two = auditor.History(limited);
  ASSERT_TRUE(first_two.ok()) << first_two.status().ToString();
  ASSERT_EQ(first_two->size(), 2u);
  EXPECT_EQ((*first_two)[0].sequence, s.risky_created);
  // A job history lists job-level events too.
  HistoryRequest job_only;
  job_only.job_id = "risky";
  auto job_history = auditor.History(job_only);
  ASSERT_TRUE(job_history.ok());
  const std::vector<uint64_t> job_expected =
      SequencesWhere(ledger_->log(), [](const Event& e) { return JobIdOf(e.body) == "risky"; });
  std::vector<uint64_t> job_got;
  for (const AuditEntry& e : *job_history) job_got.push_back(e.sequence);
  EXPECT_EQ(job_got, job_expected);
  // Neither: refused.
  HistoryRequest none;
  EXPECT_EQ(auditor.History(none).status().aws_error(), AwsError::kInvalidRequest);
}

TEST_F(ReplayTest, WhyFollowsTheCauseChain) {
  const Scenario s = BuildScenario();
  Auditor auditor(ledger_->log(), *reads_);
  // The abort: the last event is an ExecutionCanceled of t3.
  auto why = auditor.Why(s.head);
  ASSERT_TRUE(why.ok()) << why.status().ToString();
  ASSERT_EQ(why->size(), 3u);
  EXPECT_EQ((*why)[0].sequence, s.head);
  EXPECT_EQ((*why)[0].kind, EventKind::kExecutionCanceled);
  EXPECT_EQ((*why)[0].actor, "system:abort");
  EXPECT_EQ((*why)[0].thing_name, "t3");
  const FieldChange* canceled = FindChange((*why)[0], "status");
  ASSERT_NE(canceled, nullptr);
  EXPECT_EQ(*canceled, (FieldChange{"status", "\"QUEUED\"", "\"CANCELED\""}));
  EXPECT_EQ((*why)[1].kind, EventKind::kJobCanceled);
  EXPECT_EQ((*why)[1].actor, "system:abort");
  EXPECT_EQ((*why)[0].cause, (*why)[1].sequence);
  const FieldChange* job_status = FindChange((*why)[1], "status");
  ASSERT_NE(job_status, nullptr);
  EXPECT_EQ(*job_status, (FieldChange{"status", "\"IN_PROGRESS\"", "\"CANCELED\""}));
  const FieldChange* reason = FindChange((*why)[1], "reasonCode");
  ASSERT_NE(reason, nullptr);
  EXPECT_EQ(reason->after, "\"ABORT_CRITERIA_MET\"");
  EXPECT_EQ((*why)[1].cause, s.t2_succeeded);
  EXPECT_EQ((*why)[2].sequence, s.t2_succeeded);
  EXPECT_EQ((*why)[2].kind, EventKind::kExecutionStatusChanged);
  EXPECT_EQ((*why)[2].actor, "thing:t2");
  EXPECT_EQ((*why)[2].cause, 0u);

  // A direct command: just itself.
  auto direct = auditor.Why(s.t0_started);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  ASSERT_EQ(direct->size(), 1u);
  EXPECT_EQ(direct->front().sequence, s.t0_started);
  EXPECT_EQ(direct->front().request_id, "req-1");
  auto created = auditor.Why(s.other_created);
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->size(), 1u);
  EXPECT_EQ(created->front().kind, EventKind::kJobCreated);
  // A queued execution: the JobCreated that queued it.
  auto queued = auditor.Why(s.other_created + 1);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[1].sequence, s.other_created);

  // Beyond the head.
  for (uint64_t beyond : {s.head + 1, s.head + 1000, kMaxSequence}) {
    auto missing = auditor.Why(beyond);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().aws_error(), AwsError::kResourceNotFound) << missing.status().ToString();
  }
}

// Sequence 0 names no event (Read(0) is kNotFound): like a sequence beyond the head,
// it has no cause chain to explain.
TEST_F(ReplayTest, WhyOfSequenceZeroIsNotFound) {
  BuildScenario();
  Auditor auditor(ledger_->log(), *reads_);
  auto why = auditor.Why(0);
  ASSERT_FALSE(why.ok()) << "Why(0) answered " << why->size() << " entries";
  EXPECT_EQ(why.status().aws_error(), AwsError::kResourceNotFound) << why.status().ToString();
}

TEST_F(ReplayTest, DiffOfAJobBetweenTwoPoints) {
  const Scenario s = BuildScenario();
  Auditor auditor(ledger_->log(), *reads_);
  const ReadPoint before = ReadPoint::AtSequence(s.other_created - 1);  // risky fully queued
  const ReadPoint after = ReadPoint::AtSequence(s.head);
  auto diff = auditor.Diff("risky", before, after);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  std::map<std::string, std::vector<FieldChange>> by_entity;
  for (const auto& d : *diff) by_entity[d.entity] = d.changes;
  std::set<std::string> entities;
  for (const auto& [name, changes] : by_entity) entities.insert(name);
  EXPECT_EQ(entities, (std::set<std::string>{"job", "execution t0#1", "execution t1#1", "execution t2#1",
                                             "execution t3#1"}));
  auto find = [&](const std::string& entity, const std::string& field) -> std::optional<FieldChange> {
    for (const FieldChange& c : by_entity[entity]) {
      if (c.field == field) return c;
    }
    return std::nullopt;
  };
  EXPECT_EQ(find("job", "status"), (FieldChange{"status", "\"IN_PROGRESS\"", "\"CANCELED\""}));
  EXPECT_EQ(find("job", "reasonCode"), (FieldChange{"reasonCode", std::nullopt, "\"ABORT_CRITERIA_MET\""}));
  EXPECT_EQ(find("job", "jobProcessDetails.numberOfQueuedThings"),
            (FieldChange{"jobProcessDetails.numberOfQueuedThings", "4", "0"}));
  EXPECT_EQ(find("job", "jobProcessDetails.numberOfFailedThings"),
            (FieldChange{"jobProcessDetails.numberOfFailedThings", "0", "1"}));
  EXPECT_EQ(find("job", "jobProcessDetails.numberOfCanceledThings"),
            (FieldChange{"jobProcessDetails.numberOfCanceledThings", "0", "1"}));
  EXPECT_EQ(find("job", "targets.0"), std::nullopt) << "unchanged fields are not listed";
  EXPECT_EQ(find("execution t0#1", "status"), (FieldChange{"status", "\"QUEUED\"", "\"IN_PROGRESS\""}));
  EXPECT_EQ(find("execution t0#1", "statusDetails.detailsMap.progress"),
            (FieldChange{"statusDetails.detailsMap.progress", std::nullopt, "\"50%\""}));
  EXPECT_EQ(find("execution t1#1", "status"), (FieldChange{"status", "\"QUEUED\"", "\"FAILED\""}));
  EXPECT_EQ(find("execution t2#1", "status"), (FieldChange{"status", "\"QUEUED\"", "\"SUCCEEDED\""}));
  EXPECT_EQ(find("execution t3#1", "status"), (FieldChange{"status", "\"QUEUED\"", "\"CANCELED\""}));

  // A point and itself: nothing.
  for (const ReadPoint& p : {before, after, ReadPoint::AtSequence(s.t0_started)}) {
    auto same = auditor.Diff("risky", p, p);
    ASSERT_TRUE(same.ok()) << same.status().ToString();
    EXPECT_TRUE(same->empty()) << same->size() << " entities differ, first " << same->front().entity;
  }
  // Between the job's absence and its creation: the job and its four executions appear.
  auto created = auditor.Diff("risky", ReadPoint::AtSequence(s.risky_created - 1),
                              ReadPoint::AtSequence(s.other_created - 1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->size(), 5u);
  EXPECT_EQ(created->front().entity, "job");
  for (const FieldChange& c : created->front().changes) {
    EXPECT_EQ(c.before, std::nullopt) << c.field;
  }
  // No job at either point.
  auto nothing = auditor.Diff("risky", ReadPoint::AtSequence(0), ReadPoint::AtSequence(1));
  EXPECT_EQ(nothing.status().aws_error(), AwsError::kResourceNotFound) << nothing.status().ToString();
}

// ---- 5. verification: a corruption table ---------------------------------------------

TEST_F(ReplayTest, VerifyIntactLedgerPassesEveryCheck) {
  const Scenario s = BuildScenario();
  auto report = VerifyHere(ledger_->log().digest());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << DescribeReport(*report);
  EXPECT_EQ(report->events, s.head);
  EXPECT_EQ(report->head_sequence, s.head);
  EXPECT_EQ(report->head_hash, ledger_->log().head().hash);
  for (const char* name : {"chain", "indexes", "digest", "state", "projection jobs"}) {
    const VerifyCheck* c = FindCheck(*report, name);
    ASSERT_NE(c, nullptr) << "no check " << name << DescribeReport(*report);
    EXPECT_TRUE(c->ok) << name;
  }
}

TEST_F(ReplayTest, VerifyFlippedByteInStoredEvent) {
  const Scenario s = BuildScenario();
  CloseAll();
  {
    rocksdb::Status st;
    std::unique_ptr<RawDb> raw = RawDb::Open(LedgerPath(), &st);
    ASSERT_NE(raw, nullptr) << st.ToString();
    std::string value;
    ASSERT_ROCKS_OK(raw->Get(kEvents, internal::EventKey(s.t1_failed), &value));
    const size_t at = value.find("thing:t1", kHashBytes);
    ASSERT_NE(at, std::string::npos);
    value[at] = static_cast<char>(value[at] ^ 0x20);  // "thing:t1" -> "Thing:t1"
    ASSERT_TRUE(internal::DecodeEvent(std::string_view(value).substr(kHashBytes), s.t1_failed).ok());
    ASSERT_ROCKS_OK(raw->Put(kEvents, internal::EventKey(s.t1_failed), value));
  }
  ASSERT_NO_FATAL_FAILURE(ReopenAll());
  auto report = VerifyHere();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_FALSE(report->ok());
  const VerifyCheck* bad = report->first_problem();
  EXPECT_EQ(bad->name, "chain") << DescribeReport(*report);
  EXPECT_EQ(bad->problem, "hash-mismatch");
  EXPECT_EQ(bad->first_bad_sequence, s.t1_failed);
  EXPECT_TRUE(Contains(bad->detail, std::to_string(s.t1_failed))) << bad->detail;

  VerifyReport ro;
  ASSERT_NO_FATAL_FAILURE(VerifyReadOnly(std::nullopt, &ro));
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.first_problem()->name, "chain") << DescribeReport(ro);
  EXPECT_EQ(ro.first_problem()->problem, "hash-mismatch");
  EXPECT_EQ(ro.first_problem()->first_bad_sequence, s.t1_failed);
}

TEST_F(ReplayTest, VerifyRechainedForgeryIsCaughtOnlyByDigest) {
  const Scenario s = BuildScenario();
  const Digest earlier = ledger_->log().digest();
  CloseAll();
  {
    rocksdb::Status st;
    std::unique_ptr<RawDb> raw = RawDb::Open(LedgerPath(), &st);
    ASSERT_NE(raw, nullptr) << st.ToString();
    StatusOr<Event> e = internal::DecodeEvent(GetStored(*raw, s.t2_succeeded).bytes, s.t2_succeeded);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_EQ(e->actor, "thing:t2");
    e->actor = "thing:t9";  // the forgery: someone else did it
    ASSERT_NO_FATAL_FAILURE(RechainFrom(*raw, *e, s.head));
  }
  ASSERT_NO_FATAL_FAILURE(ReopenAll());
  EXPECT_EQ(ledger_->log().Read(s.t2_succeeded)->actor, "thing:t9");
  EXPECT_NE(ledger_->log().digest(), earlier);

  auto alone = VerifyHere();
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  EXPECT_TRUE(alone->ok()) << "a consistent rewrite passes without a digest" << DescribeReport(*alone);

  auto with_digest = VerifyHere(earlier);
  ASSERT_TRUE(with_digest.ok()) << with_digest.status().ToString();
  ASSERT_FALSE(with_digest->ok());
  const VerifyCheck* bad = with_digest->first_problem();
  EXPECT_EQ(bad->name, "digest") << DescribeReport(*with_digest);
  EXPECT_EQ(bad->problem, "digest-mismatch");
  EXPECT_EQ(bad->first_bad_sequence, earlier.sequence);
  const VerifyCheck* chain = FindCheck(*with_digest, "chain");
  ASSERT_NE(chain, nullptr);
  EXPECT_TRUE(chain->ok);
}

TEST_F(ReplayTest, VerifyTruncationIsCaughtByDigest) {
  const Scenario s = BuildScenario();
  const Digest earlier = ledger_->log().digest();
  const uint64_t keep = s.t1_failed;
  CloseAll();
  {
    rocksdb::Status st;
    std::unique_ptr<RawDb> raw = RawDb::Open(LedgerPath(), &st);
    ASSERT_NE(raw, nullptr) << st.ToString();
    const StoredEvent last_kept = GetStored(*raw, keep);
    StatusOr<Event> e = internal::DecodeEvent(last_kept.bytes, keep);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    for (uint64_t seq = keep + 1; seq <= s.head; ++seq) {
      ASSERT_ROCKS_OK(raw->Delete(kEvents, internal::EventKey(seq)));
    }
    ASSERT_ROCKS_OK(raw->Put(kMeta, internal::MetaKey(internal::kHeadMetaName),
                             EncodeHeadRecord(keep, last_kept.hash, e->recorded_at_micros)));
  }
  ASSERT_NO_FATAL_FAILURE(ReopenAll());
  ASSERT_EQ(Head(), keep);
  auto report = VerifyHere(earlier);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_FALSE(report->ok());
  const VerifyCheck* bad = report->first_problem();
  EXPECT_EQ(bad->name, "digest") << DescribeReport(*report);
  EXPECT_EQ(bad->problem, "truncated");
  EXPECT_EQ(bad->first_bad_sequence, keep + 1);
  EXPECT_TRUE(Contains(bad->detail, std::to_string(earlier.sequence))) << bad->detail;
}

TEST_F(ReplayTest, VerifyMissingJobStreamEntry) {
  const Scenario s = BuildScenario();
  CloseAll();
  {
    rocksdb::Status st;
    std::unique_ptr<RawDb> raw = RawDb::Open(LedgerPath(), &st);
    ASSERT_NE(raw, nullptr) << st.ToString();
    const std::string key = internal::StreamKey(internal::KeyPrefix::kJobStream, "risky", s.t0_progress);
    std::string value;
    ASSERT_ROCKS_OK(raw->Get(kJobStream, key, &value));
    ASSERT_ROCKS_OK(raw->Delete(kJobStream, key));
  }
  ASSERT_NO_FATAL_FAILURE(ReopenAll());
  auto report = VerifyHere();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_FALSE(report->ok());
  const VerifyCheck* bad = report->first_problem();
  EXPECT_EQ(bad->name, "indexes") << DescribeReport(*report);
  EXPECT_EQ(bad->problem, "index-mismatch");
  EXPECT_EQ(bad->first_bad_sequence, s.t0_progress);
  EXPECT_TRUE(Contains(bad->detail, std::to_string(s.t0_progress))) << bad->detail;
}

TEST_F(ReplayTest, VerifyThingStreamEntryFiledUnderAnotherThing) {
  const Scenario s = BuildScenario();
  CloseAll();
  {
    rocksdb::Status st;
    std::unique_ptr<RawDb> raw = RawDb::Open(LedgerPath(), &st);
    ASSERT_NE(raw, nullptr) << st.ToString();
    const std::string key = internal::StreamKey(internal::KeyPrefix::kThingStream, "t1", s.t1_failed);
    std::string value;
    ASSERT_ROCKS_OK(raw->Get(kThingStream, key, &value));
    ASSERT_ROCKS_OK(raw->Delete(kThingStream, key));
    ASSERT_ROCKS_OK(raw->Put(kThingStream,
                             internal::StreamKey(internal::KeyPrefix::kThingStream, "t3", s.t1_failed), value));
  }
  ASSERT_NO_FATAL_FAILURE(ReopenAll());
  auto report = VerifyHere();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_FALSE(report->ok());
  const VerifyCheck* bad = report->first_problem();
  EXPECT_EQ(bad->name, "indexes") << DescribeReport(*report);
  EXPECT_EQ(bad->problem, "index-mismatch");
  EXPECT_EQ(bad->first_bad_sequence, s.t1_failed);

  VerifyReport ro;
  ASSERT_NO_FATAL_FAILURE(VerifyReadOnly(std::nullopt, &ro));
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.first_problem()->name, "indexes") << DescribeReport(ro);
  EXPECT_EQ(ro.first_problem()->problem, "index-mismatch");
  EXPECT_EQ(ro.first_problem()->first_bad_sequence, s.t1_failed);
}

TEST_F(ReplayTest, VerifyDriftedProjectionRowReadWriteAndReadOnly) {
  const Scenario s = BuildScenario();
  StatusOr<FamilyId> family = projections_->ActiveFamily("jobs");
  ASSERT_TRUE(family.ok()) << family.status().ToString();
  std::string drifted_key;
  Status written = ledger_->log().WriteRows([&](RowTxn& txn) -> Status {
    auto it = txn.Scan(*family, "J");
    it->SeekToFirst();
    if (!it->Valid()) return InternalError("no job row");
    drifted_key = std::string(it->key());
    std::string value(it->value());
    value.back() = static_cast<char>(value.back() ^ 0x01);
    return txn.Put(*family, drifted_key, value);
  });
  ASSERT_TRUE(written.ok()) << written.ToString();

  auto report = VerifyHere(ledger_->log().digest());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_FALSE(report->ok());
  const VerifyCheck* bad = report->first_problem();
  EXPECT_EQ(bad->name, "projection jobs") << DescribeReport(*report);
  EXPECT_EQ(bad->problem, "drift");
  for (const char* name : {"chain", "indexes", "digest", "state"}) {
    const VerifyCheck* c = FindCheck(*report, name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_TRUE(c->ok) << name;
  }
  const Digest digest = ledger_->log().digest();
  EXPECT_EQ(digest.sequence, s.head);

  // Read-only: the same finding, and not one byte written.
  VerifyReport ro;
  ASSERT_NO_FATAL_FAILURE(VerifyReadOnly(digest, &ro));
  ASSERT_FALSE(ro.ok());
  const VerifyCheck* ro_bad = ro.first_problem();
  EXPECT_EQ(ro_bad->name, "projection jobs") << DescribeReport(ro);
  EXPECT_EQ(ro_bad->problem, "drift");
  const VerifyCheck* state = FindCheck(ro, "state");
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(state->ok) << state->detail;
}

TEST_F(ReplayTest, VerifyDriftedLedgerStateRow) {
  BuildScenario();
  StatusOr<FamilyId> state = ledger_->log().OpenFamily("ledger.state");
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  Status written = ledger_->log().WriteRows([&](RowTxn& txn) -> Status {
    // A known-thing row ('K' len thingName) for a thing no event ever named.
    std::string key = "K";
    internal::PutId(&key, "ghost");
    return txn.Put(*state, key, "");
  });
  ASSERT_TRUE(written.ok()) << written.ToString();
  auto report = VerifyHere(ledger_->log().digest());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_FALSE(report->ok());
  const VerifyCheck* bad = report->first_problem();
  EXPECT_EQ(bad->name, "state") << DescribeReport(*report);
  EXPECT_EQ(bad->problem, "drift");
  EXPECT_TRUE(Contains(bad->detail, "ghost")) << bad->detail;
  const VerifyCheck* projection = FindCheck(*report, "projection jobs");
  ASSERT_NE(projection, nullptr);
  EXPECT_TRUE(projection->ok);

  // Read-only: folded in memory, the same finding, nothing written.
  const Digest digest = ledger_->log().digest();
  VerifyReport ro;
  ASSERT_NO_FATAL_FAILURE(VerifyReadOnly(digest, &ro));
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.first_problem()->name, "state") << DescribeReport(ro);
  EXPECT_EQ(ro.first_problem()->problem, "drift");
  EXPECT_TRUE(Contains(ro.first_problem()->detail, "ghost")) << ro.first_problem()->detail;
}

// ---- 6. export -> import ------------------------------------------------------------

TEST_F(ReplayTest, RoundTripAndTamperedFilesAreRefused) {
  const Scenario s = BuildScenario();
  const std::string text = ExportText(ledger_->log(), 1, kMaxSequence);
  const Digest source = ledger_->log().digest();
  {
    Replica copy;
    ASSERT_NO_FATAL_FAILURE(OpenReplica(&copy));
    auto imported = ImportText(copy, text);
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    EXPECT_EQ(imported->events, s.head);
    EXPECT_EQ(imported->digest, source);
    EXPECT_EQ(copy.ledger->log().digest(), source);
    const int64_t now = clock_.NowMicros() + kMinute;
    World world;
    world.jobs = {"risky", "other", "never"};
    world.things = {"t0", "t1", "t2", "t3", "t4"};
    world.groups = {"fleet", "none"};
    world.max_execution_number = 2;
    AnswerCheck check("round trip", "source", "imported");
    CompareAll(*reads_, Live(now), *copy.reads, Live(now), world, check);
    EXPECT_EQ(check.mismatches(), 0);
    // And as of every point.
    for (uint64_t n = 0; n <= s.head; ++n) {
      CompareAll(*reads_, AsOf(n, now), *copy.reads, AsOf(n, now), world, check);
    }
    EXPECT_EQ(check.mismatches(), 0);
    Auditor a(ledger_->log(), *reads_);
    Auditor b(copy.ledger->log(), *copy.reads);
    auto why_a = a.Why(s.head);
    auto why_b = b.Why(s.head);
    ASSERT_TRUE(why_a.ok() && why_b.ok());
    ASSERT_EQ(why_a->size(), why_b->size());
    for (size_t i = 0; i < why_a->size(); ++i) {
      EXPECT_EQ((*why_a)[i].sequence, (*why_b)[i].sequence);
      EXPECT_EQ((*why_a)[i].actor, (*why_b)[i].actor);
      EXPECT_EQ((*why_a)[i].recorded_at_micros, (*why_b)[i].recorded_at_micros);
      EXPECT_EQ((*why_a)[i].changes, (*why_b)[i].changes);
    }
  }

  const std::vector<std::string> lines = SplitLines(text);
  ASSERT_EQ(lines.size(), s.head);
  const size_t k = static_cast<size_t>(s.t0_started);  // 1-based line of the 10% update
  ASSERT_TRUE(Contains(lines[k - 1], "\"10%\"")) << lines[k - 1];
  ASSERT_TRUE(Contains(lines[k - 1], "\"type\":\"ExecutionStatusChanged\"")) << lines[k - 1];

  struct Tampered {
    std::string name;
    std::string text;
    size_t bad_line;
  };
  std::vector<Tampered> cases;
  {
    std::vector<std::string> t = lines;
    t[k - 1].replace(t[k - 1].find("\"10%\""), 5, "\"11%\"");
    cases.push_back({"altered body value", JoinLines(t), k});
  }
  {
    std::vector<std::string> t = lines;
    t.erase(t.begin() + static_cast<long>(k - 1));
    cases.push_back({"missing line", JoinLines(t), k});
  }
  {
    std::vector<std::string> t = lines;
    std::swap(t[k - 1], t[k]);
    cases.push_back({"two lines swapped", JoinLines(t), k});
  }
  {
    std::vector<std::string> t = lines;
    const std::string tag = "\"hash\":\"";
    const size_t at = t[k - 1].find(tag);
    ASSERT_NE(at, std::string::npos);
    char& digit = t[k - 1][at + tag.size()];
    digit = digit == '0' ? '1' : '0';
    cases.push_back({"wrong hash", JoinLines(t), k});
  }
  {
    std::vector<std::string> t = lines;
    t[k - 1] = "this is not JSON {";
    cases.push_back({"not JSON", JoinLines(t), k});
  }
  {
    std::vector<std::string> t = lines;
    const std::string type = "\"type\":\"ExecutionStatusChanged\"";
    t[k - 1].replace(t[k - 1].find(type), type.size(), "\"type\":\"ExecutionTeleported\"");
    cases.push_back({"unknown type", JoinLines(t), k});
  }
  {
    std::vector<std::string> t = lines;
    t[0].replace(t[0].find("\"actor\":\"user:ops\""), 18, "\"actor\":\"user:eve\"");
    cases.push_back({"altered first line envelope", JoinLines(t), 1});
  }
  {
    std::vector<std::string> t(lines.begin() + 1, lines.end());
    cases.push_back({"an export that starts past sequence 1", JoinLines(t), 1});
  }
  {
    std::vector<std::string> t = lines;
    t.insert(t.begin() + static_cast<long>(k - 1), "");
    cases.push_back({"an empty line", JoinLines(t), k});
  }
  {
    std::vector<std::string> t = lines;
    t.pop_back();
    t.push_back(lines.back());
    t.push_back(lines.back());
    cases.push_back({"duplicated last line", JoinLines(t), lines.size() + 1});
  }
  // One target for every refusal: each must leave it empty, so the intact file
  // imports into it afterwards.
  Replica target;
  ASSERT_NO_FATAL_FAILURE(OpenReplica(&target));
  for (const Tampered& c : cases) {
    SCOPED_TRACE(c.name);
    auto refused = ImportText(target, c.text);
    ASSERT_FALSE(refused.ok()) << "imported " << refused->events << " events";
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status().ToString();
    const std::string needle = "line " + std::to_string(c.bad_line) + ":";
    EXPECT_TRUE(Contains(refused.status().message(), needle))
        << "expected '" << needle << "' in: " << refused.status().message();
    EXPECT_EQ(target.ledger->log().head().sequence, 0u);
    auto listed = target.reads->ListJobs(ListJobsRequest{});
    ASSERT_TRUE(listed.ok());
    EXPECT_TRUE(listed->jobs.empty());
    HistoryRequest of_risky;
    of_risky.job_id = "risky";
    auto history = Auditor(target.ledger->log(), *target.reads).History(of_risky);
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    EXPECT_TRUE(history->empty());
  }
  auto intact = ImportText(target, text);
  ASSERT_TRUE(intact.ok()) << intact.status().ToString();
  EXPECT_EQ(intact->digest, source);

  // Into a non-empty ledger: refused before reading.
  std::istringstream in(text);
  auto into_source = Import(*ledger_, in);
  ASSERT_FALSE(into_source.ok());
  EXPECT_EQ(into_source.status().code(), StatusCode::kFailedPrecondition) << into_source.status().ToString();
  EXPECT_EQ(ledger_->log().digest(), source);
}

}  // namespace
}  // namespace jobledger::testing
