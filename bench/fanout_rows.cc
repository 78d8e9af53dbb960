#include "bench/fanout_rows.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/jobs_projection.h"
#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"

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

  // A job over the big group, with another caller appending one small command after
  // another meanwhile: the seconds until its last chunk, and that caller's longest wait.
  auto measure = [&](const CreateJobRequest& create, double* seconds, double* stall_ms) -> Status {
    std::atomic<bool> stop{false};
    double max_wait = 0;
    std::thread probe([&] {
      for (uint64_t i = 0; !stop.load(); ++i) {
        const auto t0 = Steady::now();
        Status s = ledger->AddThingToThingGroup(
            admin, {"probe", "probe-" + create.job_id + "-" + std::to_string(i)});
        max_wait = std::max(max_wait, SecondsSince(t0));
        if (!s.ok()) return;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the probe is running
    const auto start = Steady::now();
    StatusOr<JobReference> created = ledger->CreateJob(admin, create);
    // CreateJob answers after the first chunk; the rest follows in appends of their own.
    Status read;
    for (bool pending = created.ok(); pending && read.ok();) {
      StatusOr<std::optional<JobStateView>> job = ledger->GetJobState(create.job_id);
      read = job.status();
      pending = read.ok() && job->has_value() && (*job)->fan_out_pending;
      if (pending) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    *seconds = SecondsSince(start);
    stop.store(true);
    probe.join();
    JOBLEDGER_RETURN_IF_ERROR(created.status());
    JOBLEDGER_RETURN_IF_ERROR(read);
    *stall_ms = max_wait * 1e3;
    return Status();
  };
  CreateJobRequest create;
  create.job_id = "fanout";
  create.targets = {Arn("thinggroup", "big")};
  create.document = R"({"operation":"install"})";
  JOBLEDGER_RETURN_IF_ERROR(measure(create, &out.create_s, &out.max_stall_ms));
  out.us_per_execution = out.create_s * 1e6 / static_cast<double>(things);
  // The same group rolled out at the highest rate: its plan is made in chunks, and the
  // first window queues 1,000 executions in the first one.
  CreateJobRequest rollout = create;
  rollout.job_id = "rollout";
  RolloutConfig config;
  config.maximum_per_minute = 1000;
  rollout.job_executions_rollout_config = config;
  JOBLEDGER_RETURN_IF_ERROR(measure(rollout, &out.plan_s, &out.plan_max_stall_ms));
  return out;
}

}  // namespace jobledger::bench
