// jobledger's benchmark: every figure next to a baseline measured in the same run on
// the same machine and the same events, reported as a ratio (ledger / baseline).
// Never part of the tests.
//
//   jobledger_bench [--events N] [--json] [--dir DIR] [--keep] [--callers C]
//                   [--durable-events N] [--single-events N]
//                   [--cli-writes N] [--cli-samples N] [--cli PATH] [--only-cli]
//                   [--fanout-things N] [--only-fanout]
//
// Workload: a realistic mix of validated commands (jobs over thing groups of 20;
// devices start, report progress and finish, mostly SUCCEEDED, some FAILED; some
// executions force-canceled; some jobs canceled), issued by many caller threads, each
// driving its own jobs, through the Ledger with every index, the hash chain and the
// "jobs" projection inline. The baselines write the very event bytes the ledger
// stored (read back from its events family).
//
// Rows (see README "Performance"):
//   append_events_per_s          --callers callers (default 64), sync off
//   raw_batch_put_events_per_s   the same event bytes, RocksDB WriteBatches of 256, sync off
//   raw_log_rows_events_per_s    the same with each event's job and thing stream entries
//   cpu_floor_us_per_event       caller_us_per_event + the log rows' write + encode + hash
//                                + answer: the CPU per event no writer design drops, to
//                                compare with cpu_budget_at_0.15_us_per_event (two cores
//                                at append_ratio 0.15; see doc/performance.md)
//   durable_append_events_per_s  64 callers, sync on (--durable-events, default 200000)
//   raw_sync_batch_events_per_s  sync WriteBatches of 64
//   durable_single_events_per_s  one caller, sync on, one command at a time
//                                (--single-events, default 20000)
//   raw_sync_put_events_per_s    one sync Put per event
//   open_ms                      open the ledger and its projections, one DescribeJob
//   asof_p50_us, asof_p99_us     DescribeJob as of a random sequence
//   raw_seek_get_p99_us          a RocksDB seek then get of a random event
//   rebuild_events_per_s         ProjectionManager::Rebuild of every projection
//   raw_fold_events_per_s        scan + Cap'n Proto decode + in-memory fold
//   verify_events_per_s          EventLog::Verify (hash chain)
//   raw_scan_events_per_s        scan of the events family
//   bytes_per_event              the ledger's folder size / events
//   sqlite_append_events_per_s   the durable rows' events into SQLite (WAL mode,
//                                synchronous=FULL, indexes on job and thing, one
//                                transaction per group of the ledger's mean group size)
//   postgres_append_events_per_s the same into PostgreSQL (jsonb payload), on a
//                                throw-away server on a Unix socket; skipped with a note
//                                when PostgreSQL is not installed
//   cli_read_ms, cli_write_ms    median wall time of `jobledger describe-job` and
//                                `update-job-execution` after --cli-writes (default
//                                2000) earlier CLI writes; *_compacted_ms the same on a
//                                compacted copy; cli_read_degradation and
//                                cli_write_degradation their ratios (goal <= 1.5)
//   writer_us_per_event          the writer thread's CPU per event in the append row;
//   derive_us_per_event          of which the state fold and the projections;
//   caller_us_per_event          the caller threads' CPU per event (building requests,
//                                validation, submitting, waiting and being woken);
//   process_us_per_event         the whole process's CPU per event in the append row;
//   stage_<stage>_us             its wall time per event by stage (decide, fold, encode,
//                                hash, observers, write, answer; fold, encode and hash
//                                are inside decide); validate_us the callers' Validate
//   fanout_100k_s                CreateJob over a group of --fanout-things (default
//                                100000) things, in-process, sync off; with
//                                fanout_us_per_execution, device_update_us (one
//                                UpdateJobExecution, one caller), their ratio
//                                fanout_per_execution_ratio (goal <= 2), and
//                                max_writer_stall_ms (another caller's longest wait
//                                during the fan-out; goal <= 50); a refusal is reported
//   rollout_plan_s               CreateJob over the same group with a rollout (1000 a
//                                minute) until its plan is whole (made in chunks), and
//                                rollout_max_stall_ms (another caller's longest wait)
//   peak_rss_mb                  the process's peak resident memory
//   ratios: append_ratio, durable_append_ratio, durable_single_ratio, rebuild_ratio,
//           verify_ratio, asof_p99_over_raw, sqlite_ratio, postgres_ratio

#include <rocksdb/db.h>
#include <sys/resource.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/baselines.h"
#include "bench/cli_rows.h"
#include "bench/fanout_rows.h"
#include "jobledger/jobs_projection.h"
#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"
#include "jobledger/read_models.h"
#include "jobledger/validation.h"
#include "ledger/internal/codec.h"
#include "ledger/internal/keys.h"

using namespace jobledger;
using namespace jobledger::bench;

namespace {

constexpr int kThingsPerGroup = 20;
constexpr int kGroups = 50;

std::string Arn(const std::string& kind, const std::string& name) {
  return "arn:aws:iot:us-east-1:123456789012:" + kind + "/" + name;
}

// The thing groups every job targets; set up before the timed part.
void AddFleet(Ledger& ledger) {
  for (int g = 0; g < kGroups; ++g) {
    const std::string group = "fleet-" + std::to_string(g);
    for (int t = 0; t < kThingsPerGroup; ++t) {
      Must(ledger.AddThingToThingGroup({"bench:admin", ""}, {group, group + "-thing-" + std::to_string(t)}),
           "add thing");
    }
  }
}

// One job's life: created over a group, every device starts, reports progress and
// finishes (some fail, some are force-canceled); every 25th job is canceled halfway.
void RunJob(Ledger& ledger, ManualClock& clock, uint64_t job, const std::atomic<bool>& stop) {
  const std::string group = "fleet-" + std::to_string(job % kGroups);
  CreateJobRequest create;
  create.job_id = "job-" + std::to_string(job);
  create.targets = {Arn("thinggroup", group)};
  create.document = R"({"operation":"install","url":"https://example.com/fw.bin"})";
  create.description = "firmware rollout " + std::to_string(job);
  create.timeout_config = TimeoutConfig{30};
  Must(ledger.CreateJob({"bench:operator", ""}, create).status(), "create job");
  for (int t = 0; t < kThingsPerGroup && !stop.load(std::memory_order_relaxed); ++t) {
    const std::string thing = group + "-thing-" + std::to_string(t);
    clock.Advance(1000);
    if (job % 25 == 24 && t == kThingsPerGroup / 2) {
      CancelJobRequest cancel;
      cancel.job_id = create.job_id;
      cancel.reason_code = "BENCH";
      Must(ledger.CancelJob({"bench:operator", ""}, cancel).status(), "cancel job");
      return;
    }
    UpdateJobExecutionRequest u;
    u.job_id = create.job_id;
    u.thing_name = thing;
    u.status = ExecutionStatus::kInProgress;
    u.status_details = DetailsMap{{"progress", "10%"}};
    Must(ledger.UpdateJobExecution({"thing:" + thing, ""}, u).status(), "start");
    u.status_details = DetailsMap{{"progress", "60%"}};
    Must(ledger.UpdateJobExecution({"thing:" + thing, ""}, u).status(), "progress");
    if (t == 7 && job % 10 == 3) {
      CancelJobExecutionRequest c;
      c.job_id = create.job_id;
      c.thing_name = thing;
      c.force = true;
      Must(ledger.CancelJobExecution({"bench:operator", ""}, c), "cancel execution");
      continue;
    }
    u.status = (t % 9 == 4) ? ExecutionStatus::kFailed : ExecutionStatus::kSucceeded;
    u.status_details = DetailsMap{{"progress", "100%"}};
    Must(ledger.UpdateJobExecution({"thing:" + thing, ""}, u).status(), "finish");
  }
}

struct AppendRun {
  uint64_t events = 0;
  uint64_t jobs = 0;
  double seconds = 0;
  double events_per_group = 0;
  EventLog::WriterStats writer;  // the writer's counters over the run (differences)
  uint64_t caller_cpu_nanos = 0;   // the caller threads' CPU, summed
  uint64_t process_cpu_nanos = 0;  // the whole process's CPU (callers, writer, RocksDB)
};

uint64_t ThreadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t ProcessCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// `callers` threads run jobs until `target` more events are in the log; only the
// commands are timed (the fleet is set up first).
AppendRun RunCallers(Ledger& ledger, ManualClock& clock, int callers, uint64_t target) {
  AddFleet(ledger);
  const uint64_t head0 = ledger.log().head().sequence;
  const EventLog::WriterStats stats0 = ledger.log().writer_stats();
  std::atomic<uint64_t> next_job{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> caller_cpu{0};
  const uint64_t process0 = ProcessCpuNanos();
  const auto start = Steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        if (ledger.log().head().sequence >= head0 + target) {
          stop.store(true);
          break;
        }
        RunJob(ledger, clock, next_job.fetch_add(1), stop);
      }
      caller_cpu.fetch_add(ThreadCpuNanos());
    });
  }
  for (auto& t : threads) t.join();
  AppendRun run;
  run.seconds = Seconds(start);
  run.process_cpu_nanos = ProcessCpuNanos() - process0;
  run.caller_cpu_nanos = caller_cpu.load();
  run.events = ledger.log().head().sequence - head0;
  run.jobs = next_job.load();
  const EventLog::WriterStats stats = ledger.log().writer_stats();
  const uint64_t groups = stats.written_groups - stats0.written_groups;
  run.writer.writer_cpu_nanos = stats.writer_cpu_nanos - stats0.writer_cpu_nanos;
  for (size_t i = 0; i < kWriterStageCount; ++i) {
    run.writer.stage_nanos[i] = stats.stage_nanos[i] - stats0.stage_nanos[i];
  }
  run.events_per_group = groups ? static_cast<double>(run.events) / static_cast<double>(groups) : 0;
  return run;
}

// The caller side's validation, one CreateJob and one UpdateJobExecution request as
// the workload sends them, in microseconds per pair.
double MeasureValidation() {
  CreateJobRequest create;
  create.job_id = "job-1";
  create.targets = {Arn("thinggroup", "fleet-1")};
  create.document = R"({"operation":"install","url":"https://example.com/fw.bin"})";
  create.description = "firmware rollout 1";
  create.timeout_config = TimeoutConfig{30};
  UpdateJobExecutionRequest u;
  u.job_id = "job-1";
  u.thing_name = "fleet-1-thing-1";
  u.status = ExecutionStatus::kInProgress;
  u.status_details = DetailsMap{{"progress", "10%"}};
  const ValidationContext context;
  constexpr int kRounds = 20000;
  const auto start = Steady::now();
  int ok = 0;
  for (int i = 0; i < kRounds; ++i) {
    ok += Validate(create, context).ok();
    ok += Validate(u, context).ok();
  }
  const double us = Seconds(start) * 1e6 / kRounds;
  if (ok != 2 * kRounds) Die("validation", InvalidArgumentError("the bench's requests are invalid"));
  return us;
}

double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

uint64_t FolderBytes(const std::string& path) {
  uint64_t bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes;
}

struct Row {
  std::string key;
  double value;
  std::string note;
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 1000000;
  uint64_t durable_events = 200000;
  uint64_t single_events = 20000;
  int callers = 64;
  bool json = false;
  bool keep = false;
  bool only_cli = false;
  uint64_t fanout_things = 100000;
  bool only_fanout = false;
  int cli_writes = 2000;
  int cli_samples = 15;
  std::string cli = JOBLEDGER_CLI_BINARY;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--events" && i + 1 < argc) {
      events = std::stoull(argv[++i]);
    } else if (a == "--durable-events" && i + 1 < argc) {
      durable_events = std::stoull(argv[++i]);
    } else if (a == "--single-events" && i + 1 < argc) {
      single_events = std::stoull(argv[++i]);
    } else if (a == "--callers" && i + 1 < argc) {
      callers = std::max(1, std::stoi(argv[++i]));
    } else if (a == "--json") {
      json = true;
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--cli-writes" && i + 1 < argc) {
      cli_writes = std::stoi(argv[++i]);
    } else if (a == "--cli-samples" && i + 1 < argc) {
      cli_samples = std::max(1, std::stoi(argv[++i]));
    } else if (a == "--cli" && i + 1 < argc) {
      cli = argv[++i];
    } else if (a == "--only-cli") {
      only_cli = true;
    } else if (a == "--fanout-things" && i + 1 < argc) {
      fanout_things = std::stoull(argv[++i]);
    } else if (a == "--only-fanout") {
      only_fanout = true;
    } else {
      std::fprintf(stderr,
                   "usage: jobledger_bench [--events N] [--json] [--dir DIR] [--keep] [--callers C]\n"
                   "                       [--durable-events N] [--single-events N]\n"
                   "                       [--cli-writes N] [--cli-samples N] [--cli PATH] [--only-cli]\n"
                   "                       [--fanout-things N] [--only-fanout]\n");
      return 2;
    }
  }
  durable_events = std::min(durable_events, events);
  single_events = std::min(single_events, events);
  if (dir.empty()) dir = (std::filesystem::temp_directory_path() / "jobledger-bench").string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/ledger";
  std::vector<Row> rows;
  auto add = [&](const std::string& key, double value, std::string note = "") {
    rows.push_back({key, value, std::move(note)});
    if (!json) std::fprintf(stderr, "  %-30s %14.3f %s\n", key.c_str(), value, rows.back().note.c_str());
  };
  auto get = [&](const std::string& key) {
    for (const Row& r : rows) {
      if (r.key == key) return r.value;
    }
    return 0.0;
  };

  // ---- the command line after many short-lived writers ----
  auto cli_rows = [&] {
    if (cli_writes <= 0) return;
    StatusOr<bench::CliDegradation> d = bench::MeasureCliDegradation(cli, dir, cli_writes, cli_samples);
    if (!d.ok()) Die("cli rows", d.status());
    add("cli_writes", cli_writes);
    add("cli_files", d->files, "files in the ledger folder after the writes");
    add("cli_read_ms", d->read_ms, "describe-job, median of " + std::to_string(cli_samples));
    add("cli_read_compacted_ms", d->read_compacted_ms, "the same on a compacted copy");
    add("cli_read_degradation", d->read_ms / d->read_compacted_ms, "goal <= 1.5");
    add("cli_write_ms", d->write_ms, "update-job-execution, median of " + std::to_string(cli_samples));
    add("cli_write_compacted_ms", d->write_compacted_ms, "the same on a compacted copy");
    add("cli_write_degradation", d->write_ms / d->write_compacted_ms, "goal <= 1.5");
    std::filesystem::remove_all(dir + "/cli");
    std::filesystem::remove_all(dir + "/cli-compacted");
  };

  ManualClock clock(1764237600000000);
  auto open_all = [&](const std::string& at, bool sync, std::unique_ptr<Ledger>* ledger,
                      std::unique_ptr<ProjectionManager>* projections) {
    LedgerOptions options;
    options.clock = &clock;
    options.sync = sync;
    *ledger = Must(Ledger::Open(options, at), "open " + at);
    std::vector<ProjectionManager::Entry> entries;
    entries.push_back({std::make_unique<JobsProjection>(), ProjectionMode::kInline});
    *projections = Must(ProjectionManager::Open((*ledger)->log(), std::move(entries)), "projections");
  };

  // Prints every row (and removes the scratch folder unless --keep); main's result.
  auto finish = [&]() -> int {
    if (json) {
      // A skipped row is null, with its reason under "<key>_note".
      std::printf("{");
      for (size_t i = 0; i < rows.size(); ++i) {
        if (std::isnan(rows[i].value)) {
          std::printf("%s\"%s\": null", i ? ", " : "", rows[i].key.c_str());
          if (rows[i].note != "skipped") {
            std::printf(", \"%s_note\": \"%s\"", rows[i].key.c_str(), rows[i].note.c_str());
          }
        } else {
          std::printf("%s\"%s\": %.6g", i ? ", " : "", rows[i].key.c_str(), rows[i].value);
        }
      }
      std::printf("}\n");
    } else {
      std::printf("%-30s %16s  %s\n", "metric", "value", "note");
      for (const Row& r : rows) std::printf("%-30s %16.3f  %s\n", r.key.c_str(), r.value, r.note.c_str());
    }
    if (!keep) std::filesystem::remove_all(dir);
    return 0;
  };

  // ---- fan-out over one large group ----
  auto fanout_rows = [&] {
    if (fanout_things == 0) return;
    StatusOr<bench::Fanout> f = bench::MeasureFanout(dir + "/fanout", fanout_things);
    const std::string key = fanout_things == 100000 ? "fanout_100k_s"
                                                    : "fanout_" + std::to_string(fanout_things) + "_s";
    if (!f.ok()) {
      // A refusal is a result too (a fan-out beyond one append's events, say).
      std::fprintf(stderr, "jobledger_bench: fan-out refused: %s\n", f.status().ToString().c_str());
      for (const char* k : {key.c_str(), "fanout_us_per_execution", "device_update_us",
                            "fanout_per_execution_ratio", "max_writer_stall_ms", "rollout_plan_s",
                            "rollout_max_stall_ms"}) {
        rows.push_back({k, std::nan(""), "refused: " + f.status().message()});
      }
      std::filesystem::remove_all(dir + "/fanout");
      return;
    }
    add(key, f->create_s, "CreateJob over a group of " + std::to_string(fanout_things) + " things");
    add("fanout_us_per_execution", f->us_per_execution);
    add("device_update_us", f->us_per_device_update, "one caller, sync off");
    add("fanout_per_execution_ratio", f->us_per_execution / f->us_per_device_update, "goal <= 2");
    add("max_writer_stall_ms", f->max_stall_ms, "another caller's longest wait during it; goal <= 50");
    add("rollout_plan_s", f->plan_s,
        "CreateJob with a rollout (1000 a minute) over the same group, until the plan is whole");
    add("rollout_max_stall_ms", f->plan_max_stall_ms, "another caller's longest wait during it; goal <= 50");
    std::filesystem::remove_all(dir + "/fanout");
  };

  if (only_cli) {
    cli_rows();
    return finish();
  }
  if (only_fanout) {
    fanout_rows();
    return finish();
  }

  // ---- appends: the main log, many callers, sync off ----
  uint64_t n = 0;
  uint64_t jobs = 0;
  double mean_group = 0;
  {
    std::unique_ptr<Ledger> ledger;
    std::unique_ptr<ProjectionManager> projections;
    open_all(path, /*sync=*/false, &ledger, &projections);
    AppendRun run = RunCallers(*ledger, clock, callers, events);
    n = ledger->log().head().sequence;
    jobs = run.jobs;
    add("events", static_cast<double>(n));
    add("append_events_per_s", static_cast<double>(run.events) / run.seconds,
        std::to_string(callers) + " callers, " + std::to_string(run.events_per_group).substr(0, 6) +
            " events/group");
    // Where the writer's time goes, per event (stages nested in decide are also in it).
    const double per = 1e-3 / static_cast<double>(std::max<uint64_t>(run.events, 1));
    auto stage = [&](WriterStage s) {
      return static_cast<double>(run.writer.stage_nanos[static_cast<size_t>(s)]) * per;
    };
    add("writer_us_per_event", static_cast<double>(run.writer.writer_cpu_nanos) * per,
        "the writer thread's CPU");
    add("derive_us_per_event", stage(WriterStage::kFold) + stage(WriterStage::kObservers),
        "state fold + projections, on the writer thread");
    add("caller_us_per_event", static_cast<double>(run.caller_cpu_nanos) * per,
        "the caller threads' CPU (requests, validation, submit, wait, wake)");
    add("process_us_per_event", static_cast<double>(run.process_cpu_nanos) * per,
        "all threads: callers, writer, RocksDB's flushes and compactions");
    for (size_t i = 0; i < kWriterStageCount; ++i) {
      const auto s = static_cast<WriterStage>(i);
      std::string note = "writer wall time per event";
      if (s == WriterStage::kDecide) {
        note = "of which decide proper " +
               std::to_string(stage(s) - stage(WriterStage::kFold) - stage(WriterStage::kEncode) -
                              stage(WriterStage::kHash)).substr(0, 5);
      }
      add("stage_" + std::string(WriterStageName(s)) + "_us", stage(s), note);
    }
    add("validate_us", MeasureValidation(), "caller side: Validate of a CreateJob and an UpdateJobExecution request");
  }
  add("bytes_per_event", static_cast<double>(FolderBytes(path)) / static_cast<double>(n));
  {
    RawDb source(path);
    add("raw_batch_put_events_per_s",
        RawPut(source, dir + "/raw-batch", n, /*batch=*/256, /*sync=*/false), "batches of 256");
  }
  {
    RawDb source(path);
    add("raw_log_rows_events_per_s", RawPutLogRows(source, dir + "/raw-log-rows", n, /*batch=*/256),
        "with each event's two stream entries, batches of 256 events");
  }
  add("append_ratio", get("append_events_per_s") / get("raw_batch_put_events_per_s"));
  // What two cores allow (doc/performance.md): the CPU per event the callers take, plus
  // what no design of the writer drops (the events with their stream entries written,
  // encoded and hashed, the callers woken), against two cores' budget at ratio 0.15.
  add("cpu_floor_us_per_event",
      get("caller_us_per_event") + 1e6 / get("raw_log_rows_events_per_s") + get("stage_encode_us") +
          get("stage_hash_us") + get("stage_answer_us"),
      "callers + log rows + encode + hash + answer");
  add("cpu_budget_at_0.15_us_per_event", 2e6 / (0.15 * get("raw_batch_put_events_per_s")),
      "two cores at append_ratio 0.15");

  // ---- durable appends: 64 callers, then one ----
  {
    std::unique_ptr<Ledger> ledger;
    std::unique_ptr<ProjectionManager> projections;
    open_all(dir + "/durable", /*sync=*/true, &ledger, &projections);
    AppendRun run = RunCallers(*ledger, clock, 64, durable_events);
    mean_group = run.events_per_group;
    add("durable_events", static_cast<double>(run.events));
    add("durable_append_events_per_s", static_cast<double>(run.events) / run.seconds,
        "64 callers, " + std::to_string(run.events_per_group).substr(0, 6) + " events/sync");
  }
  {
    RawDb source(path);
    add("raw_sync_batch_events_per_s",
        RawPut(source, dir + "/raw-sync-batch", durable_events, /*batch=*/64, /*sync=*/true),
        "sync batches of 64");
  }
  add("durable_append_ratio", get("durable_append_events_per_s") / get("raw_sync_batch_events_per_s"));
  {
    std::unique_ptr<Ledger> ledger;
    std::unique_ptr<ProjectionManager> projections;
    open_all(dir + "/single", /*sync=*/true, &ledger, &projections);
    AppendRun run = RunCallers(*ledger, clock, 1, single_events);
    add("durable_single_events", static_cast<double>(run.events));
    add("durable_single_events_per_s", static_cast<double>(run.events) / run.seconds, "1 caller");
  }
  {
    RawDb source(path);
    add("raw_sync_put_events_per_s",
        RawPut(source, dir + "/raw-sync-put", single_events, /*batch=*/1, /*sync=*/true),
        "one sync Put per event");
  }
  add("durable_single_ratio", get("durable_single_events_per_s") / get("raw_sync_put_events_per_s"));
  std::filesystem::remove_all(dir + "/durable");
  std::filesystem::remove_all(dir + "/single");
  std::filesystem::remove_all(dir + "/raw-batch");
  std::filesystem::remove_all(dir + "/raw-sync-batch");
  std::filesystem::remove_all(dir + "/raw-sync-put");

  // ---- reads on the main log ----
  {
    // Cold open: the ledger, its projections, and one answer.
    auto start = Steady::now();
    std::unique_ptr<Ledger> ledger;
    std::unique_ptr<ProjectionManager> projections;
    open_all(path, /*sync=*/false, &ledger, &projections);
    ReadModels reads(ledger->log(), *projections, ledger->context(), &clock);
    Must(reads.DescribeJob("job-0").status(), "describe");
    add("open_ms", Seconds(start) * 1000);

    // As-of reads at random points.
    std::mt19937_64 rng(42);
    std::vector<double> samples;
    for (int i = 0; i < 20000; ++i) {
      const std::string job = "job-" + std::to_string(rng() % jobs);
      const uint64_t at = 1 + rng() % n;
      auto t0 = Steady::now();
      auto answer = reads.DescribeJob(job, ReadPoint::AtSequence(at));
      samples.push_back(Seconds(t0) * 1e6);
      if (!answer.ok() && answer.status().aws_error() != AwsError::kResourceNotFound) {
        Die("as-of describe", answer.status());
      }
    }
    add("asof_p50_us", Percentile(samples, 0.50));
    add("asof_p99_us", Percentile(samples, 0.99));

    start = Steady::now();
    RebuildReport report = Must(projections->Rebuild(JobsProjection::kName), "rebuild");
    add("rebuild_events_per_s", static_cast<double>(report.events) / Seconds(start));

    start = Steady::now();
    VerifyResult verified = Must(ledger->log().Verify(), "verify");
    const double verify_s = Seconds(start);
    if (!verified.ok()) Die("verify", DataLossError(verified.detail));
    add("verify_events_per_s", static_cast<double>(verified.events_checked) / verify_s);
  }
  {
    RawDb raw(path);
    auto start = Steady::now();
    uint64_t folded = raw.ScanDecodeFold(/*decode=*/true);
    add("raw_fold_events_per_s", static_cast<double>(folded) / Seconds(start));
    start = Steady::now();
    uint64_t scanned = raw.ScanDecodeFold(/*decode=*/false);
    add("raw_scan_events_per_s", static_cast<double>(scanned) / Seconds(start));
    std::mt19937_64 rng(43);
    std::vector<double> samples;
    for (int i = 0; i < 20000; ++i) {
      const uint64_t at = 1 + rng() % n;
      auto t0 = Steady::now();
      raw.SeekThenGet(at);
      samples.push_back(Seconds(t0) * 1e6);
    }
    add("raw_seek_get_p99_us", Percentile(samples, 0.99));
  }
  add("rebuild_ratio", get("rebuild_events_per_s") / get("raw_fold_events_per_s"));
  add("verify_ratio", get("verify_events_per_s") / get("raw_scan_events_per_s"));
  add("asof_p99_over_raw", get("asof_p99_us") / get("raw_seek_get_p99_us"));

  // ---- what users would build instead ----
  const size_t group = std::max<size_t>(1, static_cast<size_t>(mean_group + 0.5));
  {
    RawDb source(path);
    StatusOr<double> sqlite = SqliteAppend(source, dir + "/sqlite.db", durable_events, group);
    if (!sqlite.ok()) Die("sqlite", sqlite.status());
    add("sqlite_append_events_per_s", *sqlite,
        "WAL, synchronous=FULL, " + std::to_string(group) + " events/transaction");
    add("sqlite_ratio", get("durable_append_events_per_s") / *sqlite);
  }
  {
    RawDb source(path);
    std::string note;
    StatusOr<double> pg = PostgresAppend(source, dir + "/pg", durable_events, group, &note);
    if (pg.ok()) {
      add("postgres_append_events_per_s", *pg, note);
      add("postgres_ratio", get("durable_append_events_per_s") / *pg);
    } else {
      std::fprintf(stderr, "jobledger_bench: postgres row skipped: %s\n", pg.status().message().c_str());
      rows.push_back({"postgres_append_events_per_s", std::nan(""), "skipped: " + pg.status().message()});
      rows.push_back({"postgres_ratio", std::nan(""), "skipped"});
    }
  }

  add("peak_rss_mb", PeakRssMb(), "the benchmark process's peak resident set");
  fanout_rows();
  cli_rows();
  return finish();
}
