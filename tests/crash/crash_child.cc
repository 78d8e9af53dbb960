// crash_child: the process the crash and multi-process tests start, kill and inspect.
//
//   crash_child MODE LEDGER_DIR [name=value ...]
//
// Modes:
//   log      EventLog (sync) with the "jobs" projection inline; `threads` threads append
//            AppendRequests of 1, 8 and 64 JobCreated events (and bursts of AppendAsync
//            appends of 1..8) until killed or stdin closes.
//   ledger   Ledger (sync) with the "jobs" projection inline; `threads` threads run job
//            commands (blocking, and bursts of Submit* calls) until killed or stdin closes.
//   rebuild  As `ledger` on an existing ledger, while the main thread rebuilds "jobs";
//            `stop` names the RebuildPoint where the process kills itself (the `nth` time).
//   import   Imports `file` (replay's Import) into an empty ledger.
//   hold     Opens the ledger read-write, reports "R", holds it until stdin closes.
//   open     Tries to open the ledger read-write and reports "S <code> <message>".
//   once     A short-lived writer: opens the ledger (Ledger, "jobs" inline), adds the
//            thing `prefix` to the group "fleet" with request id `prefix`, closes.
//            Flushes past `wal_files` WAL files or `wal_bytes` bytes of them
//            (MaintenanceOptions; default 2 files), so that the flush and the level-0
//            compaction at open (wal_files) or close (wal_bytes=1) come often.
//
// Options: prefix=P (request ids and names start with P; default "r0"), threads=N,
// paced=N (workers run N iterations, all threads together, per byte written to stdin),
// crash=POINT nth=N (a ledger/test_hooks.h crash point: kill the process the nth time
// it is reached), stop=FamilyCreated|ChunkApplied|CaughtUp|Switched (rebuild), file=PATH
// (import), seed=S.
//
// Report lines go to fd 3 (stdout when fd 3 is not open), each with one write(), so a
// line in the pipe is whole and was written before anything that followed it:
//   A rid [events]       about to append (events: how many, for `log`)
//   D rid first last     decided into a group (on the writer thread, before the write)
//   B                    the group is about to be written (append.before_write)
//   W                    the group was written (append.after_write)
//   K rid [first last]   acknowledged: the append returned OK
//   E rid CODE           rejected (expected for the requests the child means to fail)
//   Y rid [first last]   a retry of an acknowledged request answered from the log
//   I n                  import chunk n done (import.after_chunk)
//   M point n            the nth time a maintain.* point was reached (open, close)
//   O family / N family  rebuild: the active family at start / every family at kFamilyCreated
//   P point n            rebuild: the nth time `point` was reached
//   R | S ... | X head | Z ...   ready / open status / clean exit / rebuild or import ended
//   F message            something unexpected failed; the child exits with status 4

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "jobledger/event_log.h"
#include "jobledger/jobs_projection.h"
#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"
#include "jobledger/replay.h"
#include "ledger/test_hooks.h"

namespace jobledger::crash {
namespace {

int g_report_fd = 3;
std::atomic<bool> g_stop{false};

// paced=N: workers run only as many iterations as the test grants, N per byte it
// writes to stdin (so a reader in the test is never far behind). Guarded by g_budget_mu.
std::mutex g_budget_mu;
std::condition_variable g_budget_cv;
uint64_t g_paced = 0;  // fixed before any thread starts
uint64_t g_budget = 0;

// Fixed before any thread starts; read-only afterwards.
std::string g_crash_point;
uint64_t g_crash_nth = 0;
std::atomic<uint64_t> g_before_writes{0};
std::atomic<uint64_t> g_after_writes{0};
std::atomic<uint64_t> g_import_chunks{0};
std::map<std::string, uint64_t> g_maintain_points;  // reached on one thread (open, close)

// Acknowledged appends, for "wait until the writers are running".
std::mutex g_acks_mu;
std::condition_variable g_acks_cv;
uint64_t g_acks = 0;

void Report(const std::string& line) {
  std::string out = line;
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  out.push_back('\n');
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    const ssize_t n = write(g_report_fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      _exit(3);  // the test is gone
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void Die() {
  kill(getpid(), SIGKILL);
  for (;;) pause();
}

[[noreturn]] void Fatal(const std::string& what) {
  Report("F " + what);
  _exit(4);
}

void CountAck() {
  std::lock_guard<std::mutex> lock(g_acks_mu);
  ++g_acks;
  g_acks_cv.notify_all();
}

void Ack(const std::string& rid, const Status& s) {
  if (s.ok()) {
    Report("K " + rid);
    CountAck();
  } else {
    Report("E " + rid + " " + std::string(StatusCodeName(s.code())));
  }
}

uint64_t g_fanout_chunks = 0;

void CrashHook(const char* point) {
  const std::string_view p(point);
  uint64_t n = 0;
  if (p == "append.before_write") {
    Report("B");
    n = ++g_before_writes;
  } else if (p == "append.after_write") {
    Report("W");
    n = ++g_after_writes;
  } else if (p == "import.after_chunk") {
    n = ++g_import_chunks;
    Report("I " + std::to_string(n));
  } else if (p == "fanout.next_chunk") {
    n = ++g_fanout_chunks;
    Report("N " + std::to_string(n));
  } else if (p.rfind("maintain.", 0) == 0) {
    n = ++g_maintain_points[std::string(p)];
    Report("M " + std::string(p) + " " + std::to_string(n));
  } else {
    Report("? " + std::string(p));
    return;
  }
  if (p == g_crash_point && n == g_crash_nth) Die();
}

// Reports every append that joins a group, with its sequences, on the writer thread.
// Registered after the projection manager, so it runs after every other observer.
class Tracer final : public AppendObserver {
 public:
  Status OnAppend(AppendTxn& txn) override {
    const std::vector<Event>& events = txn.events();
    if (events.empty()) return Status();
    Report("D " + events.front().request_id + " " + std::to_string(events.front().sequence) + " " +
           std::to_string(events.back().sequence));
    return Status();
  }
};

struct Options {
  std::string mode;
  std::string dir;
  std::string prefix = "r0";
  int threads = 8;
  std::string stop;
  uint64_t nth = 1;
  std::string file;
  uint64_t seed = 1;
  size_t wal_files = 2;  // once: MaintenanceOptions::max_live_wal_files
  uint64_t wal_bytes = uint64_t{8} << 20;  // once: MaintenanceOptions::max_live_wal_bytes
};

// Whether a worker may run another iteration: false once stdin closed. Paced workers
// wait for the test's grant.
bool KeepGoing() {
  if (g_paced == 0) return !g_stop.load(std::memory_order_acquire);
  std::unique_lock<std::mutex> lock(g_budget_mu);
  g_budget_cv.wait(lock, [] { return g_budget > 0 || g_stop.load(std::memory_order_acquire); });
  if (g_stop.load(std::memory_order_acquire)) return false;
  --g_budget;
  return true;
}

std::string ThingArnOf(const std::string& thing) {
  return "arn:aws:iot:us-east-1:123456789012:thing/" + thing;
}

std::unique_ptr<ProjectionManager> OpenProjections(EventLog& log) {
  std::vector<ProjectionManager::Entry> entries;
  entries.push_back({std::make_unique<JobsProjection>(), ProjectionMode::kInline});
  auto opened = ProjectionManager::Open(log, std::move(entries));
  if (!opened.ok()) Fatal("ProjectionManager::Open: " + opened.status().ToString());
  return std::move(opened).value();
}

// ---- log mode ----

// Appends queued with AppendAsync all at once (each decided by a DecideFn on the
// writer thread), so they share groups; waits for every callback.
void AsyncBurst(EventLog& log, const std::string& base) {
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    int left = 0;
  };
  constexpr int kBurst = 8;
  auto pending = std::make_shared<Pending>();
  pending->left = kBurst;
  for (int k = 0; k < kBurst; ++k) {
    const std::string rid = base + "-a" + std::to_string(k);
    const size_t events = static_cast<size_t>(k) + 1;
    Report("A " + rid + " " + std::to_string(events));
    AppendOptions options;
    options.request_id = rid;
    log.AppendAsync(
        options,
        [rid, events](AppendTxn& txn) -> Status {
          for (size_t e = 0; e < events; ++e) {
            JobCreated created;
            created.job_id = rid + "-e" + std::to_string(e);
            created.targets = {"arn:aws:iot:us-east-1:123456789012:thing/" + rid};
            created.document = "{}";
            JOBLEDGER_RETURN_IF_ERROR(txn.Add({"user:crash", CauseRef::None(), created}).status());
          }
          return Status();
        },
        [pending, rid](StatusOr<AppendResult> r) {
          if (!r.ok()) Fatal("async append " + rid + ": " + r.status().ToString());
          Report("K " + rid + " " + std::to_string(r->first_sequence) + " " +
                 std::to_string(r->last_sequence));
          CountAck();
          std::lock_guard<std::mutex> lock(pending->mu);
          --pending->left;
          pending->cv.notify_all();
        });
  }
  std::unique_lock<std::mutex> lock(pending->mu);
  pending->cv.wait(lock, [&] { return pending->left == 0; });
}

void LogWorker(EventLog& log, const Options& o, int t) {
  static constexpr size_t kBatches[] = {1, 8, 64};
  for (uint64_t n = 0; KeepGoing(); ++n) {
    const std::string rid = o.prefix + "-t" + std::to_string(t) + "-" + std::to_string(n);
    const size_t size = kBatches[(static_cast<uint64_t>(t) + n + o.seed) % 3];
    AppendRequest request;
    request.request_id = rid;
    for (size_t k = 0; k < size; ++k) {
      JobCreated created;
      created.job_id = rid + "-e" + std::to_string(k);
      created.targets = {ThingArnOf(rid)};
      created.document = "{}";
      request.events.push_back({"user:crash", CauseRef::None(), created});
    }
    const bool must_conflict = n % 10 == 9;
    if (must_conflict) request.expected = {{rid + "-e0", 7}};  // the stream is empty
    Report("A " + rid + " " + std::to_string(size));
    StatusOr<AppendResult> r = log.Append(request);
    if (!r.ok()) {
      if (!must_conflict || r.status().code() != StatusCode::kAborted) {
        Fatal("append " + rid + ": " + r.status().ToString());
      }
      Report("E " + rid + " " + std::string(StatusCodeName(r.status().code())));
      continue;
    }
    if (must_conflict) Fatal("append " + rid + " should have conflicted");
    const std::string range =
        std::to_string(r->first_sequence) + " " + std::to_string(r->last_sequence);
    Report("K " + rid + " " + range);
    CountAck();
    if (t == 0 && n % 4 == 2) AsyncBurst(log, rid);
    if (n % 7 == 6) {
      StatusOr<AppendResult> again = log.Append(request);
      if (!again.ok() || !again->duplicate || again->first_sequence != r->first_sequence ||
          again->last_sequence != r->last_sequence) {
        Fatal("retry of " + rid + " was not answered from the log: " + again.status().ToString());
      }
      Report("Y " + rid + " " + range);
    }
  }
}

// ---- ledger mode ----

// Runs one command: "A", the command, then "K" or "E".
template <typename Command>
Status Run(const std::string& rid, Command&& command) {
  Report("A " + rid);
  Status s = command(RequestContext{"user:crash", rid});
  Ack(rid, s);
  return s;
}

void MustSucceed(const std::string& rid, const Status& s) {
  if (!s.ok()) Fatal(rid + ": " + s.ToString());
}

// A burst of asynchronous membership commands, so the writer sees many at once.
void Burst(Ledger& ledger, const std::string& base, const std::string& group) {
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    int left = 0;
  };
  constexpr int kBurst = 16;
  auto pending = std::make_shared<Pending>();
  pending->left = kBurst;
  for (int k = 0; k < kBurst; ++k) {
    const std::string thing = base + "-m" + std::to_string(k);
    const std::string rid = thing;
    Report("A " + rid);
    Status queued = ledger.SubmitAddThingToThingGroup(
        RequestContext{"user:crash", rid}, ThingGroupMembershipRequest{group, thing},
        [pending, rid](Status s) {
          if (!s.ok()) Fatal(rid + ": " + s.ToString());
          Ack(rid, s);
          std::lock_guard<std::mutex> lock(pending->mu);
          --pending->left;
          pending->cv.notify_all();
        });
    if (!queued.ok()) Fatal(rid + " not queued: " + queued.ToString());
  }
  std::unique_lock<std::mutex> lock(pending->mu);
  pending->cv.wait(lock, [&] { return pending->left == 0; });
}

void LedgerWorker(Ledger& ledger, const Options& o, int t) {
  const std::string group = o.prefix + "-fleet";
  for (uint64_t n = 0; KeepGoing(); ++n) {
    const std::string base = o.prefix + "-t" + std::to_string(t) + "-" + std::to_string(n);
    const std::string a = base + "-a";
    const std::string b = base + "-b";
    CreateJobRequest create;
    create.job_id = base;
    create.targets = {ThingArnOf(a), ThingArnOf(b)};
    create.document = R"({"operation":"install"})";
    MustSucceed(base + "-c", Run(base + "-c", [&](const RequestContext& c) {
                  return ledger.CreateJob(c, create).status();
                }));
    auto update = [&](const std::string& thing, ExecutionStatus status) {
      return [&ledger, &base, thing, status](RequestContext c) {
        c.actor = "thing:" + thing;
        UpdateJobExecutionRequest u;
        u.job_id = base;
        u.thing_name = thing;
        u.status = status;
        return ledger.UpdateJobExecution(c, u).status();
      };
    };
    MustSucceed(base + "-u1", Run(base + "-u1", update(a, ExecutionStatus::kInProgress)));
    MustSucceed(base + "-u2", Run(base + "-u2", update(a, ExecutionStatus::kSucceeded)));
    if (n % 5 == 4) {
      // A terminal execution cannot move: rejected, alone, inside its group.
      Status s = Run(base + "-x", update(a, ExecutionStatus::kInProgress));
      if (s.aws_error() != AwsError::kInvalidStateTransition) Fatal(base + "-x: " + s.ToString());
    }
    // The job completes with this one (a derived JobCompleted).
    MustSucceed(base + "-u3", Run(base + "-u3", update(b, ExecutionStatus::kFailed)));
    if (n % 4 == 1) {
      // The continuous job on the group queues an execution for the new member.
      MustSucceed(base + "-g", Run(base + "-g", [&](const RequestContext& c) {
                    return ledger.AddThingToThingGroup(c, {group, a});
                  }));
    }
    if (n % 7 == 3) {
      Status again = ledger.CreateJob(RequestContext{"user:crash", base + "-c"}, create).status();
      if (!again.ok()) Fatal("retry of " + base + "-c: " + again.ToString());
      Report("Y " + base + "-c");
    }
    if (t == 0 && n % 3 == 0) Burst(ledger, base, group);
  }
}

// The continuous job on the prefix's group, before the workers start.
void CreateFleetJob(Ledger& ledger, const Options& o) {
  CreateJobRequest fleet;
  fleet.job_id = o.prefix + "-fleet-job";
  fleet.targets = {"arn:aws:iot:us-east-1:123456789012:thinggroup/" + o.prefix + "-fleet"};
  fleet.document = "{}";
  fleet.target_selection = TargetSelection::kContinuous;
  MustSucceed(o.prefix + "-init", Run(o.prefix + "-init", [&](const RequestContext& c) {
                return ledger.CreateJob(c, fleet).status();
              }));
}

std::unique_ptr<Ledger> OpenLedger(const Options& o) {
  LedgerOptions options;
  options.sync = true;
  auto opened = Ledger::Open(options, o.dir);
  if (!opened.ok()) Fatal("Ledger::Open: " + opened.status().ToString());
  return std::move(opened).value();
}

template <typename Worker>
void RunWorkers(int threads, Worker worker) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back([&worker, t] { worker(t); });
  for (std::thread& w : workers) w.join();
}

int RunLog(const Options& o) {
  EventLogOptions options;
  options.sync = true;
  auto opened = EventLog::Open(options, o.dir);
  if (!opened.ok()) Fatal("EventLog::Open: " + opened.status().ToString());
  std::unique_ptr<EventLog> log = std::move(opened).value();
  std::unique_ptr<ProjectionManager> projections = OpenProjections(*log);
  Tracer tracer;
  log->AddObserver(&tracer);
  RunWorkers(o.threads, [&](int t) { LogWorker(*log, o, t); });
  log->RemoveObserver(&tracer);
  Report("X " + std::to_string(log->head().sequence));
  projections.reset();
  return 0;
}

int RunLedger(const Options& o) {
  std::unique_ptr<Ledger> ledger = OpenLedger(o);
  std::unique_ptr<ProjectionManager> projections = OpenProjections(ledger->log());
  Tracer tracer;
  ledger->log().AddObserver(&tracer);
  CreateFleetJob(*ledger, o);
  RunWorkers(o.threads, [&](int t) { LedgerWorker(*ledger, o, t); });
  ledger->log().RemoveObserver(&tracer);
  Report("X " + std::to_string(ledger->log().head().sequence));
  projections.reset();
  return 0;
}

std::string PointName(RebuildPoint p) {
  switch (p) {
    case RebuildPoint::kFamilyCreated:
      return "FamilyCreated";
    case RebuildPoint::kChunkApplied:
      return "ChunkApplied";
    case RebuildPoint::kCaughtUp:
      return "CaughtUp";
    case RebuildPoint::kSwitched:
      return "Switched";
  }
  return "Unknown";
}

int RunRebuild(const Options& o) {
  std::unique_ptr<Ledger> ledger = OpenLedger(o);
  std::unique_ptr<ProjectionManager> projections = OpenProjections(ledger->log());
  Tracer tracer;
  ledger->log().AddObserver(&tracer);
  for (const ProjectionInfo& info : projections->Info()) Report("O " + info.family);
  CreateFleetJob(*ledger, o);
  std::vector<std::thread> writers;
  for (int t = 0; t < o.threads; ++t) {
    writers.emplace_back([&, t] { LedgerWorker(*ledger, o, t); });
  }
  {
    // The rebuild starts once the writers are appending.
    std::unique_lock<std::mutex> lock(g_acks_mu);
    g_acks_cv.wait(lock, [] { return g_acks >= 20; });
  }
  std::map<RebuildPoint, uint64_t> hits;
  RebuildOptions options;
  options.test_stop = [&](RebuildPoint p) {
    if (p == RebuildPoint::kFamilyCreated) {
      for (const std::string& f : ledger->log().FamilyNames()) Report("N " + f);
    }
    const uint64_t n = ++hits[p];
    Report("P " + PointName(p) + " " + std::to_string(n));
    if (PointName(p) == o.stop && n == o.nth) Die();
    return true;
  };
  auto rebuilt = projections->Rebuild(JobsProjection::kName, options);
  Report("Z rebuild " + (rebuilt.ok() ? std::string("ok") : rebuilt.status().ToString()));
  g_stop.store(true, std::memory_order_release);
  for (std::thread& w : writers) w.join();
  ledger->log().RemoveObserver(&tracer);
  return 2;  // the stop point was never reached
}

int RunImport(const Options& o) {
  std::unique_ptr<Ledger> ledger = OpenLedger(o);
  std::unique_ptr<ProjectionManager> projections = OpenProjections(ledger->log());
  std::ifstream in(o.file);
  if (!in) Fatal("cannot read " + o.file);
  auto imported = Import(*ledger, in);
  Report("Z import " +
         (imported.ok() ? std::to_string(imported->events) : imported.status().ToString()));
  return imported.ok() ? 0 : 4;
}

int RunHold(const Options& o) {
  std::unique_ptr<Ledger> ledger = OpenLedger(o);
  Report("R");
  while (!g_stop.load(std::memory_order_acquire)) {
    char c;
    if (read(0, &c, 1) <= 0) break;
  }
  return 0;
}

int RunOnce(const Options& o) {
  LedgerOptions options;
  options.sync = true;
  options.maintenance.max_live_wal_files = o.wal_files;
  options.maintenance.max_live_wal_bytes = o.wal_bytes;
  {
    auto opened = Ledger::Open(options, o.dir);
    if (!opened.ok()) Fatal("Ledger::Open: " + opened.status().ToString());
    std::unique_ptr<Ledger> ledger = std::move(opened).value();
    std::unique_ptr<ProjectionManager> projections = OpenProjections(ledger->log());
    const std::string rid = o.prefix;
    Report("A " + rid);
    Status s = ledger->AddThingToThingGroup(RequestContext{"user:crash", rid},
                                            ThingGroupMembershipRequest{"fleet", o.prefix});
    if (!s.ok()) Fatal(rid + ": " + s.ToString());
    Ack(rid, s);
    projections.reset();
  }  // the close: flush and compaction (MaintenanceOptions)
  Report("X");
  return 0;
}

// A job over a group of 10 things, queued (mode "plan": planned for a rollout) in
// chunks of 3 (the crash hook kills the process on the way, at a chunk or a write);
// then waits for the fan-out to end.
int RunFanOut(const Options& o) {
  LedgerOptions options;
  options.sync = true;
  options.limits.fan_out_chunk = 3;
  auto opened = Ledger::Open(options, o.dir);
  if (!opened.ok()) Fatal("Ledger::Open: " + opened.status().ToString());
  std::unique_ptr<Ledger> ledger = std::move(opened).value();
  for (int i = 0; i < 10; ++i) {
    Status s = ledger->AddThingToThingGroup(RequestContext{"user:crash", ""},
                                            ThingGroupMembershipRequest{"fleet", "dev-" + std::to_string(i)});
    if (!s.ok()) Fatal("join: " + s.ToString());
  }
  CreateJobRequest create;
  create.job_id = "big";
  create.targets = {"arn:aws:iot:us-east-1:123456789012:thinggroup/fleet"};
  create.document = R"({"operation":"install"})";
  if (o.mode == "plan") {
    // A rollout: the plan is made in chunks of 3 (the first window takes 2).
    RolloutConfig rollout;
    rollout.maximum_per_minute = 2;
    create.job_executions_rollout_config = rollout;
  }
  StatusOr<JobReference> created = ledger->CreateJob(RequestContext{"user:crash", "create-big"}, create);
  if (!created.ok()) Fatal("create: " + created.status().ToString());
  Report("C");
  // Each command waits for at most one chunk queued before it.
  auto finish_chunks = [&] {
    for (int i = 0; i < 20; ++i) {
      StatusOr<std::optional<JobStateView>> job = ledger->GetJobState("big");
      if (!job.ok()) Fatal("read: " + job.status().ToString());
      if (!job->has_value() || (!(*job)->fan_out_pending && !(*job)->cancel_pending)) return;
      Status s = ledger->AddThingToThingGroup(RequestContext{"user:crash", ""},
                                              ThingGroupMembershipRequest{"idle", "idler"});
      if (!s.ok()) Fatal("idle: " + s.ToString());
    }
  };
  finish_chunks();
  Report("X");
  if (o.mode != "cancel") return 0;
  // Then the job's cancel, over 10 QUEUED executions: in chunks of 3 as well.
  CancelJobRequest cancel;
  cancel.job_id = "big";
  StatusOr<JobReference> canceled = ledger->CancelJob(RequestContext{"user:crash", "cancel-big"}, cancel);
  if (!canceled.ok()) Fatal("cancel: " + canceled.status().ToString());
  finish_chunks();
  Report("Y");
  return 0;
}

int RunOpen(const Options& o) {
  LedgerOptions options;
  auto opened = Ledger::Open(options, o.dir);
  Report("S " + std::to_string(static_cast<int>(opened.status().code())) + " " +
         opened.status().message());
  return 0;
}

}  // namespace
}  // namespace jobledger::crash

int main(int argc, char** argv) {
  using namespace jobledger::crash;  // NOLINT: the child's own namespace
  if (fcntl(3, F_GETFD) < 0) g_report_fd = 1;
  if (argc < 3) {
    Report("F usage: crash_child MODE LEDGER_DIR [name=value ...]");
    return 4;
  }
  Options o;
  o.mode = argv[1];
  o.dir = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (name == "prefix") {
      o.prefix = value;
    } else if (name == "threads") {
      o.threads = std::atoi(value.c_str());
    } else if (name == "crash") {
      g_crash_point = value;
    } else if (name == "nth") {
      o.nth = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "stop") {
      o.stop = value;
    } else if (name == "file") {
      o.file = value;
    } else if (name == "paced") {
      g_paced = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "wal_bytes") {
      o.wal_bytes = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "wal_files") {
      o.wal_files = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "seed") {
      o.seed = std::strtoull(value.c_str(), nullptr, 0);
    } else {
      Report("F unknown option " + arg);
      return 4;
    }
  }
  g_crash_nth = o.nth;
  jobledger::testing::SetCrashHook(&CrashHook);
  if (o.mode != "hold") {
    // Closing stdin asks the workers to stop; the test keeps it open while it wants
    // the child running.
    std::thread([] {
      char buf[64];
      for (ssize_t n; (n = read(0, buf, sizeof buf)) > 0;) {
        std::lock_guard<std::mutex> lock(g_budget_mu);
        g_budget += g_paced * static_cast<uint64_t>(n);
        g_budget_cv.notify_all();
      }
      std::lock_guard<std::mutex> lock(g_budget_mu);
      g_stop.store(true, std::memory_order_release);
      g_budget_cv.notify_all();
    }).detach();
  }
  if (o.mode == "log") return RunLog(o);
  if (o.mode == "ledger") return RunLedger(o);
  if (o.mode == "rebuild") return RunRebuild(o);
  if (o.mode == "import") return RunImport(o);
  if (o.mode == "hold") return RunHold(o);
  if (o.mode == "open") return RunOpen(o);
  if (o.mode == "fanout" || o.mode == "cancel" || o.mode == "plan") return RunFanOut(o);
  if (o.mode == "once") return RunOnce(o);
  Report("F unknown mode " + o.mode);
  return 4;
}
