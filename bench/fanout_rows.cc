#include "bench/fanout_rows.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "projections/jobs_projection.h"
#include "projections/projection_manager.h"

namespace jobledger::bench {
namespace {

using Steady = std::chrono::steady_clock;

double SecondsSince(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

std::string Arn(const std::string& kind, const std::string& name) {
  return "arn:aws:iot:us-east-1:123456789012:" + kind + "/" + name;
}

}  // namespace

StatusOr<Fanout> MeasureFanout(const std::string& dir, uint64_t things) {
  std::filesystem::remove_all(dir);
  ManualClock clock(1764237600000000);
  LedgerOptions options;
  options.clock = &clock;
  options.sync = false;
  JOBLEDGER_ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, Ledger::Open(options, dir));
  std::vector<ProjectionManager::Entry> entries;
  entries.push_back({std::make_unique<JobsProjection>(), ProjectionMode::kInline});
  JOBLEDGER_ASSIGN_OR_RETURN(std::unique_ptr<ProjectionManager> projections,
                             ProjectionManager::Open(ledger->log(), std::move(entries)));
  const RequestContext admin{"bench:admin", ""};

  // The group, from many threads so groups of appends fill.
  {
    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
    Status first_error;
    std::vector<std::thread> threads;
    for (int t = 0; t < 32; ++t) {
      threads.emplace_back([&] {
        for (uint64_t i = next++; i < things && !failed; i = next++) {
          Status s = ledger->AddThingToThingGroup(admin, {"big", "big-thing-" + std::to_string(i)});
          if (!s.ok() && !failed.exchange(true)) first_error = s;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    if (failed) return first_error;
  }

  Fanout out;
  out.things = things;
  // One device update, one caller at a time: a small job's executions moved along.
  {
    constexpr int kUpdates = 3000;
    for (int t = 0; t < kUpdates / 3; ++t) {
      JOBLEDGER_RETURN_IF_ERROR(ledger->AddThingToThingGroup(admin, {"small", "small-" + std::to_string(t)}));
    }
    CreateJobRequest small;
    small.job_id = "small";
    small.targets = {Arn("thinggroup", "small")};
    small.document = R"({"operation":"install"})";
    JOBLEDGER_RETURN_IF_ERROR(ledger->CreateJob(admin, small).status());
    const auto start = Steady::now();
    int done = 0;
    for (int t = 0; t < kUpdates / 3; ++t) {
      UpdateJobExecutionRequest u;
      u.job_id = "small";
      u.thing_name = "small-" + std::to_string(t);
      for (ExecutionStatus s : {ExecutionStatus::kInProgress, ExecutionStatus::kInProgress,
                                ExecutionStatus::kSucceeded}) {
        clock.Advance(10);
        u.status = s;
        JOBLEDGER_RETURN_IF_ERROR(ledger->UpdateJobExecution({"thing:" + u.thing_name, ""}, u).status());
        ++done;
      }
    }
    out.us_per_device_update = SecondsSince(start) * 1e6 / done;
  }

  // The fan-out, with another caller appending one small command after another.
  std::atomic<bool> stop{false};
  double max_wait = 0;
  std::thread probe([&] {
    for (uint64_t i = 0; !stop.load(); ++i) {
      const auto t0 = Steady::now();
      Status s = ledger->AddThingToThingGroup(admin, {"probe", "probe-thing-" + std::to_string(i)});
      max_wait = std::max(max_wait, SecondsSince(t0));
      if (!s.ok()) return;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the probe is running
  CreateJobRequest create;
  create.job_id = "fanout";
  create.targets = {Arn("thinggroup", "big")};
  create.document = R"({"operation":"install"})";
  const auto start = Steady::now();
  StatusOr<JobReference> created = ledger->CreateJob(admin, create);
  // CreateJob answers after the first chunk; the rest follows in appends of their own.
  for (bool pending = created.ok(); pending;) {
    StatusOr<std::optional<JobStateView>> job = ledger->GetJobState("fanout");
    JOBLEDGER_RETURN_IF_ERROR(job.status());
    pending = job->has_value() && (*job)->fan_out_pending;
    if (pending) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  out.create_s = SecondsSince(start);
  stop.store(true);
  probe.join();
  JOBLEDGER_RETURN_IF_ERROR(created.status());
  out.us_per_execution = out.create_s * 1e6 / static_cast<double>(things);
  out.max_stall_ms = max_wait * 1e3;
  return out;
}

}  // namespace jobledger::bench
