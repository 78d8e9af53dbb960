#include "tests/faults/fault_test_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <utility>

#include "jobledger/jobs_projection.h"
#include "jobledger/replay.h"
#include "ledger/internal/keys.h"

#ifndef JOBLEDGER_CLI_BINARY
#define JOBLEDGER_CLI_BINARY ""
#endif

extern char** environ;

namespace jobledger::faults {

namespace fs = std::filesystem;

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

uint64_t TestSeed() {
  uint64_t seed = 0;
  if (const char* env = std::getenv("JOBLEDGER_SEED"); env != nullptr && *env != '\0') {
    seed = std::strtoull(env, nullptr, 0);
  } else {
    std::random_device device;
    seed = (uint64_t{device()} << 32) ^ device();
  }
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::cout << "[   SEED   ] " << (info != nullptr ? info->name() : "")
            << ": JOBLEDGER_SEED=" << seed << std::endl;
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

ScratchDir::ScratchDir() {
  std::string base = ::testing::TempDir();
  if (std::getenv("TEST_TMPDIR") == nullptr && access("/dev/shm", W_OK | X_OK) == 0)
    base = "/dev/shm";
  std::string tmpl = (fs::path(base) / "jobledger-faults-XXXXXX").string();
  if (mkdtemp(tmpl.data()) != nullptr) root_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!root_.empty()) fs::remove_all(root_, ec);
}

// ---- the plan ----

AppendRequest PlannedAppend(uint64_t i, const std::string& tag) {
  const std::string arn = "arn:aws:iot:us-east-1:123456789012:thing/";
  const std::string job = "job-" + tag + "-" + std::to_string(i % 13);
  AppendRequest r;
  r.request_id = tag + "-" + std::to_string(i);
  const size_t events = 1 + (i * 7) % 3;
  for (size_t j = 0; j < events; ++j) {
    const std::string thing = "thing-" + std::to_string(i) + "-" + std::to_string(j);
    NewEvent e;
    e.actor = "user:planner-" + std::to_string(i % 5);
    switch ((i + j) % 4) {
      case 0: {
        JobCreated c;
        c.job_id = job;
        c.targets = {arn + thing};
        // Sizes from a few bytes to a few kilobytes: some records span WAL blocks.
        c.document = R"({"operation":"install","pad":")" +
                     std::string(20 + (i * 2654435761u) % 3000, static_cast<char>('a' + i % 26)) +
                     R"("})";
        e.body = std::move(c);
        break;
      }
      case 1:
        e.body = ExecutionQueued{job, thing, static_cast<int64_t>(1 + j), arn + thing};
        if (j > 0) e.cause = CauseRef::InBatch(j - 1);
        break;
      case 2:
        e.body = ThingAddedToGroup{thing, "fleet-" + std::to_string(i % 7)};
        break;
      default: {
        ExecutionStatusChanged c;
        c.job_id = job;
        c.thing_name = thing;
        c.execution_number = 1;
        c.from = ExecutionStatus::kQueued;
        c.to = ExecutionStatus::kInProgress;
        c.status_details = DetailsMap{{"progress", std::to_string(i % 100) + "%"}};
        c.version_number = 2;
        e.body = std::move(c);
        break;
      }
    }
    r.events.push_back(std::move(e));
  }
  return r;
}

Plan Plan::Make(size_t count, const std::string& tag) {
  Plan p;
  uint64_t seq = 0;
  for (size_t i = 1; i <= count; ++i) {
    p.appends.push_back(PlannedAppend(i, tag));
    seq += p.appends.back().events.size();
    p.last_sequence.push_back(seq);
  }
  return p;
}

bool Plan::IsAppendBoundary(uint64_t sequence) const {
  return sequence == 0 || std::binary_search(last_sequence.begin(), last_sequence.end(), sequence);
}

const NewEvent& Plan::EventAt(uint64_t sequence) const {
  auto it = std::lower_bound(last_sequence.begin(), last_sequence.end(), sequence);
  const size_t k = static_cast<size_t>(it - last_sequence.begin());
  return appends.at(k).events.at(sequence - EventsBefore(k) - 1);
}

void ExpectEventIs(const Event& stored, const NewEvent& planned, const std::string& request_id) {
  EXPECT_EQ(stored.body, planned.body) << "event " << stored.sequence;
  EXPECT_EQ(stored.actor, planned.actor) << "event " << stored.sequence;
  EXPECT_EQ(stored.request_id, request_id) << "event " << stored.sequence;
}

uint64_t ExpectPlanPrefix(const EventLog& log, const Plan& plan) {
  const Head head = log.head();
  const uint64_t planned = plan.last_sequence.empty() ? 0 : plan.last_sequence.back();
  EXPECT_LE(head.sequence, planned) << "more events than were ever appended";
  EXPECT_TRUE(plan.IsAppendBoundary(head.sequence))
      << "the head " << head.sequence << " is inside an append: an append landed in part";
  uint64_t seen = 0;
  int64_t last_time = 0;
  std::unique_ptr<EventCursor> cursor = log.NewCursor();
  for (; cursor->state() == EventCursor::State::kPositioned && seen < planned; cursor->Next()) {
    const Event& e = cursor->event();
    ++seen;
    EXPECT_EQ(e.sequence, seen) << "a hole or a reordering";
    if (e.sequence != seen) break;
    auto it = std::lower_bound(plan.last_sequence.begin(), plan.last_sequence.end(), seen);
    const size_t k = static_cast<size_t>(it - plan.last_sequence.begin());
    const NewEvent& expected = plan.EventAt(seen);
    if (!(e.body == expected.body) || e.actor != expected.actor ||
        e.request_id != plan.appends[k].request_id) {
      ExpectEventIs(e, expected, plan.appends[k].request_id);
      break;
    }
    EXPECT_GE(e.recorded_at_micros, last_time) << "event " << seen;
    last_time = e.recorded_at_micros;
  }
  EXPECT_EQ(cursor->state(), EventCursor::State::kCaughtUp) << cursor->status().ToString();
  EXPECT_EQ(seen, head.sequence) << "the cursor and the head disagree";
  cursor.reset();
  VerifyOptions options;
  options.check_indexes = true;
  StatusOr<VerifyResult> verified = log.Verify(options);
  EXPECT_TRUE(verified.ok()) << verified.status().ToString();
  if (verified.ok()) {
    EXPECT_TRUE(verified->ok()) << VerifyProblemName(verified->problem) << " at "
                                << verified->first_bad_sequence << ": " << verified->detail;
    EXPECT_EQ(verified->events_checked, head.sequence);
  }
  return head.sequence;
}

// ---- a ledger with its read models ----

namespace {
std::string Thing(uint64_t k) { return "dev-" + std::to_string(k); }
std::string JobOf(uint64_t k) { return "job-" + std::to_string(k); }
}  // namespace

Status RunWorkloadStep(Ledger& ledger, uint64_t i) {
  const uint64_t k = i / 4;
  const RequestContext operator_context{"user:operator", "step-" + std::to_string(i)};
  const RequestContext device{"thing:" + Thing(k), ""};
  switch (i % 4) {
    case 0:
      return ledger.AddThingToThingGroup(operator_context, {"fleet", Thing(k)});
    case 1: {
      CreateJobRequest r;
      r.job_id = JobOf(k);
      r.targets = {"arn:aws:iot:us-east-1:123456789012:thing/" + Thing(k)};
      r.document = R"({"operation":"install","build":")" + std::to_string(k) + R"("})";
      return ledger.CreateJob(operator_context, r).status();
    }
    default: {
      UpdateJobExecutionRequest r;
      r.job_id = JobOf(k);
      r.thing_name = Thing(k);
      r.status = i % 4 == 2 ? ExecutionStatus::kInProgress : ExecutionStatus::kSucceeded;
      r.status_details = DetailsMap{{"step", std::to_string(i % 4)}};
      return ledger.UpdateJobExecution(device, r).status();
    }
  }
}

void ExpectWorkloadVisible(LedgerStack& stack, uint64_t acknowledged, uint64_t attempted) {
  for (uint64_t k = 0; 4 * k + 1 <= attempted; ++k) {
    const uint64_t create = 4 * k + 1;
    StatusOr<Job> job = stack.reads->DescribeJob(JobOf(k));
    if (create >= attempted) {  // never attempted
      EXPECT_FALSE(job.ok()) << JobOf(k) << " exists but was never created";
      continue;
    }
    if (create >= acknowledged) continue;  // attempted, not acknowledged: either way
    ASSERT_TRUE(job.ok()) << "acknowledged " << JobOf(k) << " is gone: " << job.status().ToString();
    StatusOr<JobExecution> e = stack.reads->DescribeJobExecution(JobOf(k), Thing(k));
    ASSERT_TRUE(e.ok()) << JobOf(k) << "/" << Thing(k) << ": " << e.status().ToString();
    if (create + 2 < acknowledged) {
      EXPECT_EQ(e->status, ExecutionStatus::kSucceeded)
          << JobOf(k) << " lost an acknowledged update";
      EXPECT_EQ(job->status, JobStatus::kSucceeded) << JobOf(k);
    } else if (create + 1 < acknowledged) {
      EXPECT_TRUE(e->status == ExecutionStatus::kInProgress ||
                  e->status == ExecutionStatus::kSucceeded)
          << JobOf(k) << " lost an acknowledged update";
    }
  }
}

void ExpectLedgerSound(LedgerStack& stack) {
  StatusOr<StateCheckResult> state = stack.ledger->CheckState();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_TRUE(state->ok()) << state->differences.front();
  StatusOr<VerifyReport> report =
      VerifyLedger(stack.ledger->log(), stack.ledger.get(), stack.projections.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const VerifyCheck& check : report->checks) {
    EXPECT_TRUE(check.ok) << check.name << ": " << check.problem << " at "
                          << check.first_bad_sequence << ": " << check.detail;
  }
  EXPECT_EQ(report->head_sequence, stack.ledger->log().head().sequence);
}

// ---- folders ----

void CopyFolder(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  EXPECT_FALSE(ec) << "copying " << from << " to " << to << ": " << ec.message();
}

std::vector<std::string> FilesEndingIn(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- RocksDB underneath ----

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << "cannot open " << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  ASSERT_TRUE(f.good()) << "cannot read byte " << offset << " of " << path;
  c = static_cast<char>(c ^ 0xff);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
  ASSERT_TRUE(f.good()) << "cannot write byte " << offset << " of " << path;
}

// ---- the command line ----

std::string CliRun::What() const {
  std::string s = "jobledger";
  for (const std::string& a : args) s += " '" + a + "'";
  return s + "\n  exit " + std::to_string(exit) + "\n  stdout: " + out.substr(0, 4000) +
         "\n  stderr: " + err.substr(0, 4000);
}

CliRun RunCliBinary(const std::vector<std::string>& args, const std::string& scratch) {
  static int counter = 0;
  CliRun run;
  run.args = args;
  const std::string base =
      scratch + "/cli-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
  const std::string out_path = base + ".out";
  const std::string err_path = base + ".err";
  std::vector<std::string> argv_text = {JOBLEDGER_CLI_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<std::string> env_text = {"NO_COLOR=1", "USER=tester", "PATH=/usr/bin:/bin"};
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr)
    env_text.push_back(std::string("TMPDIR=") + tmp);
  std::vector<char*> argv, envp;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    run.err = "posix_spawn of '" + argv_text[0] + "' failed: " + std::to_string(spawned);
    return run;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) == pid) {
    run.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  run.out = ReadFile(out_path);
  run.err = ReadFile(err_path);
  std::error_code ec;
  fs::remove(out_path, ec);
  fs::remove(err_path, ec);
  return run;
}

}  // namespace jobledger::faults
