// `jobledger demo`: a realistic fleet rollout played through the library in simulated
// time, then what an investigator would look at.

#include <CLI/CLI.hpp>

#include <filesystem>
#include <map>
#include <iomanip>
#include <random>

#include "jobledger/jobs_projection.h"
#include "jobledger/json.h"
#include "jobledger/replay.h"
#include "tools/command.h"

namespace jobledger::cli {
namespace {

constexpr int64_t kStart = 1795000000000000;  // 2026-11-18T...: a fixed, simulated start

struct Demo {
  explicit Demo(Context& context) : ctx(context) {}
  Context& ctx;
  int things = 300;
  uint64_t seed = 7;

  ManualClock clock{kStart};
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<ProjectionManager> projections;
  std::unique_ptr<ReadModels> reads;
  std::mt19937_64 rng;
  // How each device behaves: 0 fine, 1 fails, 2 goes silent (times out).
  std::map<std::string, int> behaviour;

  Status Check(const Status& s, const std::string& what) {
    if (!s.ok()) return Status(s.code(), what + ": " + s.message(), s.aws_error());
    return Status();
  }

  Status Open(const std::string& path) {
    std::filesystem::remove_all(path);
    LedgerOptions options;
    options.clock = &clock;
    options.sync = false;  // a demo: speed over durability
    options.region = ctx.globals().region;
    options.account_id = ctx.globals().account_id;
    JOBLEDGER_ASSIGN_OR_RETURN(ledger, Ledger::Open(options, path));
    std::vector<ProjectionManager::Entry> entries;
    entries.push_back({std::make_unique<JobsProjection>(), ProjectionMode::kInline});
    JOBLEDGER_ASSIGN_OR_RETURN(projections, ProjectionManager::Open(ledger->log(), std::move(entries)));
    reads = std::make_unique<ReadModels>(ledger->log(), *projections, ledger->context(), &clock);
    return Status();
  }

  RequestContext As(const std::string& actor) { return RequestContext{actor, ""}; }

  Status Join(const std::string& group, const std::string& thing) {
    return ledger->AddThingToThingGroup(As("user:fleet-admin"), {group, thing});
  }

  // One simulated minute: time-driven work, then every device with pending work acts.
  Status Minute() {
    ctx.Progress("demo", ++minutes_played, kMicrosPerMinutesTotal);
    clock.Advance(kMicrosPerMinute);
    JOBLEDGER_RETURN_IF_ERROR(ledger->AdvanceTo(clock.NowMicros()).status());
    for (const auto& [thing, how] : behaviour) {
      if (rng() % 3 != 0) continue;  // devices are not all busy every minute
      JOBLEDGER_ASSIGN_OR_RETURN(GetPendingJobExecutionsResponse pending,
                                 ledger->GetPendingJobExecutions(thing));
      const RequestContext device = As("thing:" + thing);
      if (!pending.in_progress_jobs.empty()) {
        const PendingJobExecution& p = pending.in_progress_jobs.front();
        if (how == 2) continue;  // silent: the timeout will catch it
        UpdateJobExecutionRequest u;
        u.job_id = p.job_id;
        u.thing_name = thing;
        const bool done = p.version_number >= 3;
        u.status = !done ? ExecutionStatus::kInProgress
                         : (how == 1 ? ExecutionStatus::kFailed : ExecutionStatus::kSucceeded);
        u.status_details = DetailsMap{{"progress", done ? "100%" : "60%"}};
        if (u.status == ExecutionStatus::kFailed) u.status_details = DetailsMap{{"error", "checksum mismatch"}};
        u.expected_version = p.version_number;
        StatusOr<UpdateJobExecutionResponse> r = ledger->UpdateJobExecution(device, u);
        // A device racing a cancel or a timeout is told so; that is part of the story.
        if (!r.ok() && r.status().aws_error() == AwsError::kNone) return r.status();
      } else if (!pending.queued_jobs.empty()) {
        StartNextPendingJobExecutionRequest s;
        s.thing_name = thing;
        s.status_details = DetailsMap{{"progress", "5%"}};
        JOBLEDGER_RETURN_IF_ERROR(ledger->StartNextPendingJobExecution(device, s).status());
      }
    }
    return Status();
  }

  Status Play() {
    rng.seed(seed);
    // The fleet: two regions, a canary group.
    for (int i = 0; i < things; ++i) {
      const std::string thing = "sensor-" + std::to_string(1000 + i);
      const std::string region = i % 2 ? "fleet-west" : "fleet-east";
      JOBLEDGER_RETURN_IF_ERROR(Check(Join(region, thing), "join " + region));
      if (i < 12) JOBLEDGER_RETURN_IF_ERROR(Check(Join("canary", thing), "join canary"));
      const uint64_t roll = rng() % 100;
      // West devices got a bad batch: many fail; a few devices everywhere go silent.
      behaviour[thing] = roll < 4 ? 2 : ((i % 2 && roll < 40) || roll < 7) ? 1 : 0;
    }
    // 1. A canary job, completed quickly.
    CreateJobRequest canary;
    canary.job_id = "fw-2-1-canary";
    canary.targets = {ThingGroupArn(ledger->context(), "canary")};
    canary.document = R"({"operation":"install","firmware":"2.1.0"})";
    canary.description = "Firmware 2.1.0 on the canary group";
    JOBLEDGER_RETURN_IF_ERROR(Check(ledger->CreateJob(As("user:release-bot"), canary).status(), "create canary"));
    for (int m = 0; m < 10; ++m) JOBLEDGER_RETURN_IF_ERROR(Minute());

    // 2. East: a rate-limited rollout with a 15-minute timeout.
    CreateJobRequest east;
    east.job_id = "fw-2-1-east";
    east.targets = {ThingGroupArn(ledger->context(), "fleet-east")};
    east.document = canary.document;
    east.description = "Firmware 2.1.0, east region";
    RolloutConfig rollout;
    rollout.maximum_per_minute = 40;
    ExponentialRate rate;
    rate.base_rate_per_minute = 10;
    rate.increment_factor = 2.0;
    rate.rate_increase_criteria.number_of_succeeded_things = 10;
    rollout.exponential_rate = rate;
    east.job_executions_rollout_config = rollout;
    east.timeout_config = TimeoutConfig{15};
    JOBLEDGER_RETURN_IF_ERROR(Check(ledger->CreateJob(As("user:release-bot"), east).status(), "create east"));

    // 3. West: aborted by its abort criteria when failures pass 20%.
    CreateJobRequest west;
    west.job_id = "fw-2-1-west";
    west.targets = {ThingGroupArn(ledger->context(), "fleet-west")};
    west.document = canary.document;
    west.description = "Firmware 2.1.0, west region";
    west.abort_config = AbortConfig{{AbortCriteria{FailureType::kFailed, 20, 20}}};
    west.timeout_config = TimeoutConfig{15};
    JOBLEDGER_RETURN_IF_ERROR(Check(ledger->CreateJob(As("user:release-bot"), west).status(), "create west"));

    // 4. A config push that an operator force-cancels.
    CreateJobRequest push;
    push.job_id = "bad-config-push";
    push.targets = {ThingGroupArn(ledger->context(), "canary")};
    push.document = R"({"operation":"set-config","ntp":"10.0.0.1"})";
    JOBLEDGER_RETURN_IF_ERROR(Check(ledger->CreateJob(As("user:alice"), push).status(), "create push"));

    // 5. A CONTINUOUS agent install on new arrivals.
    CreateJobRequest agent;
    agent.job_id = "agent-continuous";
    agent.targets = {ThingGroupArn(ledger->context(), "new-arrivals")};
    agent.document = R"({"operation":"install","package":"agent-4"})";
    agent.target_selection = TargetSelection::kContinuous;
    JOBLEDGER_RETURN_IF_ERROR(Check(ledger->CreateJob(As("user:release-bot"), agent).status(), "create agent"));

    for (int m = 0; m < 6; ++m) JOBLEDGER_RETURN_IF_ERROR(Minute());
    mid_rollout_ = clock.NowMicros();
    CancelJobRequest cancel;
    cancel.job_id = "bad-config-push";
    cancel.force = true;
    cancel.reason_code = "WRONG_NTP_SERVER";
    cancel.comment = "pushed the lab NTP server to production";
    JOBLEDGER_RETURN_IF_ERROR(Check(ledger->CancelJob(As("user:oncall-bob"), cancel).status(), "cancel push"));
    for (int i = 0; i < 8; ++i) {
      const std::string thing = "sensor-new-" + std::to_string(i);
      behaviour[thing] = 0;
      JOBLEDGER_RETURN_IF_ERROR(Check(Join("new-arrivals", thing), "join new-arrivals"));
      JOBLEDGER_RETURN_IF_ERROR(Minute());
    }
    for (int m = 0; m < 40; ++m) JOBLEDGER_RETURN_IF_ERROR(Minute());
    return Status();
  }

  int64_t mid_rollout_ = 0;
  static constexpr uint64_t kMicrosPerMinutesTotal = 64;  // the minutes Play() simulates
  uint64_t minutes_played = 0;
};

// `jobledger demo`: plays the rollout, then prints what an investigator looks at.
class DemoCommand : public Command {
 public:
  void AddFlags(CLI::App& c) override {
    c.add_option("--things", things_, "how many devices (default 300)")->check(CLI::Range(20, 100000));
    c.add_option("--seed", seed_, "random seed (default 7)");
  }
  int Run(Context& ctx) override {
    std::ostream& out = ctx.out();
    const std::string path = ctx.globals().db.empty() ? "jobledger-demo" : ctx.globals().db;
    Demo demo(ctx);
    demo.things = things_;
    demo.seed = seed_;
    Status s = demo.Open(path);
    if (s.ok()) s = demo.Play();
    ctx.EndProgress();
    if (!s.ok()) return ctx.Fail("demo: " + s.ToString());
    const EventLog& log = demo.ledger->log();
    out << "jobledger demo: " << demo.things << " devices, " << log.head().sequence
        << " events in '" << path << "' (simulated time " << FormatTime(kStart) << " .. "
        << FormatTime(demo.clock.NowMicros()) << ")\n\n";

    out << "== The jobs as they stand ==\n";
    ListJobsRequest all;
    auto jobs = demo.reads->ListJobs(all);
    if (!jobs.ok()) return ctx.Fail(jobs.status().ToString());
    out << std::left << std::setw(18) << "jobId" << std::setw(13) << "status" << std::setw(12)
        << "selection" << "queued inProg succeeded failed timedOut canceled removed\n";
    for (const JobSummary& j : jobs->jobs) {
      auto job = demo.reads->DescribeJob(j.job_id);
      if (!job.ok()) return ctx.Fail(job.status().ToString());
      const JobProcessDetails& d = job->job_process_details;
      out << std::left << std::setw(18) << j.job_id << std::setw(13) << JobStatusName(j.status)
          << std::setw(12) << TargetSelectionName(j.target_selection) << std::setw(7)
          << d.number_of_queued_things << std::setw(7) << d.number_of_in_progress_things << std::setw(10)
          << d.number_of_succeeded_things << std::setw(7) << d.number_of_failed_things << std::setw(9)
          << d.number_of_timed_out_things << std::setw(9) << d.number_of_canceled_things
          << d.number_of_removed_things << "\n";
    }

    out << "\n== fw-2-1-east mid-rollout (" << FormatTime(demo.mid_rollout_) << ") and now ==\n";
    auto at = AtTime(log, demo.mid_rollout_);
    auto then = demo.reads->DescribeJob("fw-2-1-east", *at);
    auto now = demo.reads->DescribeJob("fw-2-1-east");
    if (!then.ok() || !now.ok()) return ctx.Fail("describe fw-2-1-east failed");
    auto line = [&](const char* label, const Job& j) {
      const JobProcessDetails& d = j.job_process_details;
      out << "  " << label << ": queued " << d.number_of_queued_things << ", in progress "
          << d.number_of_in_progress_things << ", succeeded " << d.number_of_succeeded_things
          << ", failed " << d.number_of_failed_things << ", timed out " << d.number_of_timed_out_things
          << (d.processing_targets.empty() ? "; rollout finished" : "; still rolling out") << "\n";
    };
    line("then", *then);
    line("now ", *now);

    out << "\n== The audit trail of fw-2-1-west ==\n";
    Auditor auditor(log, *demo.reads);
    HistoryRequest h;
    h.job_id = "fw-2-1-west";
    auto history = auditor.History(h);
    if (!history.ok()) return ctx.Fail(history.status().ToString());
    uint64_t cancel_seq = 0;
    std::map<std::string, int> by_kind;
    for (const AuditEntry& e : *history) {
      if (e.kind == EventKind::kJobCanceled) cancel_seq = e.sequence;
      ++by_kind[std::string(EventKindName(e.kind))];
      const bool job_level = e.thing_name.empty();
      if (job_level || (cancel_seq != 0 && e.cause == cancel_seq && by_kind["shown"]++ < 3)) {
        out << "  #" << e.sequence << " " << FormatTime(e.recorded_at_micros) << " "
            << EventKindName(e.kind) << " by " << e.actor;
        if (e.cause != 0) out << " (cause #" << e.cause << ")";
        if (!e.thing_name.empty()) out << " " << e.thing_name;
        out << "\n";
      }
    }
    out << "  in all:";
    for (const auto& [kind, n] : by_kind) {
      if (kind != "shown") out << " " << n << " " << kind;
    }
    out << "\n";

    out << "\n== Why was fw-2-1-west canceled? ==\n";
    if (cancel_seq == 0) {
      out << "  (not aborted with this seed)\n";
    } else {
      auto why = auditor.Why(cancel_seq);
      if (!why.ok()) return ctx.Fail(why.status().ToString());
      for (size_t i = 0; i < why->size(); ++i) {
        const AuditEntry& e = (*why)[i];
        out << "  " << (i == 0 ? "" : "<- ") << "#" << e.sequence << " " << FormatTime(e.recorded_at_micros)
            << " " << EventKindName(e.kind) << " by " << e.actor;
        if (!e.thing_name.empty()) out << " (" << e.thing_name << ")";
        for (const FieldChange& change : e.changes) {
          if (change.field == "status" || change.field == "reasonCode" || change.field == "comment") {
            out << "\n       " << change.field << ": " << change.before.value_or("-") << " -> "
                << change.after.value_or("-");
          }
        }
        out << "\n";
      }
    }

    out << "\n== Verify ==\n";
    auto report = VerifyLedger(log, demo.ledger.get(), demo.projections.get());
    if (!report.ok()) return ctx.Fail(report.status().ToString());
    out << "  " << (report->ok() ? "verified" : "PROBLEM") << ": " << report->events << " events, head "
        << report->head_sequence << " " << HashToHex(report->head_hash) << "\n";
    for (const VerifyCheck& check : report->checks) {
      out << "    " << (check.ok ? "ok   " : "FAIL ") << check.name << "\n";
    }

    out << "\n== Explore further ==   (after scripts/run, jobledger is build/tools/jobledger)\n"
        << "  jobledger --db " << path << " list-jobs --output table\n"
        << "  jobledger --db " << path << " describe-job --job-id fw-2-1-east --as-of " << FormatTime(demo.mid_rollout_) << "\n"
        << "  jobledger --db " << path << " history --job-id fw-2-1-west --thing-name sensor-1001\n"
        << "  jobledger --db " << path << " history --why --at-seq " << cancel_seq << "\n"
        << "  jobledger --db " << path << " verify\n";
    return report->ok() ? kExitOk : kExitProblem;
  }

 private:
  int things_ = 300;
  uint64_t seed_ = 7;
};

}  // namespace

void AddDemoCommand(CommandSet& set) {
  set.Add<DemoCommand>({"demo", "Plays a fleet rollout in simulated time in its own folder, then investigates it.",
                        "jobledger demo --things 300 --seed 7"});
}

}  // namespace jobledger::cli
