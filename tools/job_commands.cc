// The AWS IoT Jobs commands: the names, flags and JSON output of `aws iot` and
// `aws iot-jobs-data`.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdint>
#include <iomanip>
#include <limits>
#include <sstream>

#include "projections/json_mapping.h"
#include "jobledger/json.h"
#include "tools/cli_internal.h"

namespace jobledger::cli {
namespace {

using Json = nlohmann::json;

// ---- JSON arguments ----

StatusOr<Json> JsonArgument(const std::string& value, const std::string& flag) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::string text, ArgumentText(value, flag));
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(flag + ": not valid JSON");
  if (!j.is_object()) return InvalidArgumentError(flag + ": must be a JSON object");
  return j;
}

// A job configuration argument (projections/json_mapping.h); `member` names it in
// messages as the service model does ("abortConfig.criteriaList[0].action").
template <typename T>
StatusOr<T> ParseConfig(const std::string& value, const std::string& flag, const std::string& member) {
  JOBLEDGER_ASSIGN_OR_RETURN(Json j, JsonArgument(value, flag));
  return FromJson<T>(nlohmann::ordered_json(j), member);
}

StatusOr<DetailsMap> ParseDetails(const std::string& value) {
  JOBLEDGER_ASSIGN_OR_RETURN(Json j, JsonArgument(value, "--status-details"));
  DetailsMap out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) {
      return InvalidArgumentError("--status-details." + it.key() + ": must be a string");
    }
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}

std::optional<ExecutionStatus> ParseStatusFlag(const std::string& s) { return ParseExecutionStatus(s); }

// A flag given with an empty value is an error, never "not given".
const CLI::Validator kNonEmpty(
    [](std::string& value) { return value.empty() ? std::string("must not be empty") : std::string(); },
    "NONEMPTY");

// A whole number that fits in 64 bits (CLI11 would clamp an overflowing one).
const CLI::Validator kInt64(
    [](std::string& value) {
      int64_t parsed = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (ec != std::errc() || end != value.data() + value.size()) {
        return std::string("must be a whole number within 64 bits, got '" + value + "'");
      }
      return std::string();
    },
    "INT64");

// Numbers that narrow to int must fit before they do.
const CLI::Range kIntRange(int64_t{1}, int64_t{2147483647});

// Holds the flags of one command as strings until it runs.
struct Flags {
  std::string job_id, thing_name, description, document, target_selection, presigned, rollout,
      abort, timeout, reason_code, comment, status, status_details, next_token, group_name, group_id;
  std::vector<std::string> targets;
  bool force = false, include_state = false, include_document = false;
  int64_t expected_version = -1, execution_number = -1, max_results = 0;
  // Any given value is passed on (the request validation names what is out of
  // range); kNotGiven when the flag is absent.
  static constexpr int64_t kNotGiven = std::numeric_limits<int64_t>::min();
  int64_t step_timeout = kNotGiven;
};


template <typename T>
bool Take(Context& ctx, int* exit, StatusOr<T> parsed, std::optional<T>* into) {
  if (!parsed.ok()) {
    *exit = ctx.Usage(parsed.status().message());
    return false;
  }
  *into = std::move(parsed).value();
  return true;
}

// The four job configuration flags CreateJob and UpdateJob share.
void AddConfigFlags(CLI::App* c, Flags& f) {
  c->add_option("--presigned-url-config", f.presigned)->check(kNonEmpty);
  c->add_option("--job-executions-rollout-config", f.rollout)->check(kNonEmpty);
  c->add_option("--abort-config", f.abort)->check(kNonEmpty);
  c->add_option("--timeout-config", f.timeout)->check(kNonEmpty);
}

// Parses the configuration flags into a CreateJobRequest or UpdateJobRequest; false
// (with *exit set) on a malformed one.
template <typename Request>
bool TakeConfigs(Context& ctx, const Flags& a, int* exit, Request* r) {
  return (a.presigned.empty() ||
          Take(ctx, exit, ParseConfig<PresignedUrlConfig>(a.presigned, "--presigned-url-config", "presignedUrlConfig"),
               &r->presigned_url_config)) &&
         (a.rollout.empty() ||
          Take(ctx, exit,
               ParseConfig<RolloutConfig>(a.rollout, "--job-executions-rollout-config", "jobExecutionsRolloutConfig"),
               &r->job_executions_rollout_config)) &&
         (a.abort.empty() ||
          Take(ctx, exit, ParseConfig<AbortConfig>(a.abort, "--abort-config", "abortConfig"), &r->abort_config)) &&
         (a.timeout.empty() ||
          Take(ctx, exit, ParseConfig<TimeoutConfig>(a.timeout, "--timeout-config", "timeoutConfig"),
               &r->timeout_config));
}

std::string LocalTime(int64_t micros) {
  std::time_t seconds = static_cast<std::time_t>(micros / kMicrosPerSecond);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  return buf;
}

}  // namespace

void AddJobCommands(CLI::App& app, Context& ctx, std::function<int()>* action) {
  auto flags = std::make_shared<Flags>();
  Flags& f = *flags;
  auto cmd = [&](const char* name, const char* help, const char* example) {
    CLI::App* c = app.add_subcommand(name, help);
    c->footer(std::string("Example:\n  ") + example);
    return c;
  };

  // ---- create-job ----
  CLI::App* c = cmd("create-job", "Creates a job (iot CreateJob).",
                    "jobledger create-job --job-id fw-2-1 --targets arn:aws:iot:us-east-1:123456789012:thinggroup/fleet --document file://job.json");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->add_option("--targets", f.targets)->required();
  c->add_option("--document", f.document)->check(kNonEmpty);
  c->add_option("--description", f.description)->check(kNonEmpty);
  c->add_option("--target-selection", f.target_selection)->check(kNonEmpty)->check(CLI::IsMember({"SNAPSHOT", "CONTINUOUS"}));
  AddConfigFlags(c, f);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      const Flags& a = *flags;
      CreateJobRequest r;
      r.job_id = a.job_id;
      r.targets = a.targets;
      int exit = 0;
      if (!a.document.empty()) {
        std::optional<std::string> doc;
        if (!Take(ctx, &exit, ArgumentText(a.document, "--document"), &doc)) return exit;
        r.document = doc;
      }
      if (!a.description.empty()) r.description = a.description;
      if (!a.target_selection.empty()) r.target_selection = ParseTargetSelection(a.target_selection);
      if (!TakeConfigs(ctx, a, &exit, &r)) return exit;
      JL_TRY(ctx, "CreateJob", ctx.OpenWriter());
      StatusOr<JobReference> ref = ctx.ledger().CreateJob(ctx.Request(), r);
      return ctx.Report(ref.status(), "CreateJob", ref.ok() ? RenderJobReference(*ref) : "");
    };
  });

  // ---- update-job ----
  c = cmd("update-job", "Updates a job's description and configurations (iot UpdateJob).",
          "jobledger update-job --job-id fw-2-1 --description 'pause rollout' --job-executions-rollout-config '{\"maximumPerMinute\": 5}'");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->add_option("--description", f.description)->check(kNonEmpty);
  AddConfigFlags(c, f);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      const Flags& a = *flags;
      UpdateJobRequest r;
      r.job_id = a.job_id;
      int exit = 0;
      if (!a.description.empty()) r.description = a.description;
      if (!TakeConfigs(ctx, a, &exit, &r)) return exit;
      JL_TRY(ctx, "UpdateJob", ctx.OpenWriter());
      return ctx.Report(ctx.ledger().UpdateJob(ctx.Request(), r), "UpdateJob");
    };
  });

  // ---- cancel-job ----
  c = cmd("cancel-job", "Cancels a job (iot CancelJob).",
          "jobledger cancel-job --job-id fw-2-1 --reason-code BAD_IMAGE --comment 'checksum mismatch' --force");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->add_option("--reason-code", f.reason_code)->check(kNonEmpty);
  c->add_option("--comment", f.comment)->check(kNonEmpty);
  c->add_flag("--force", f.force);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      const Flags& a = *flags;
      CancelJobRequest r;
      r.job_id = a.job_id;
      if (!a.reason_code.empty()) r.reason_code = a.reason_code;
      if (!a.comment.empty()) r.comment = a.comment;
      r.force = a.force;
      JL_TRY(ctx, "CancelJob", ctx.OpenWriter());
      StatusOr<JobReference> ref = ctx.ledger().CancelJob(ctx.Request(), r);
      return ctx.Report(ref.status(), "CancelJob", ref.ok() ? RenderJobReference(*ref) : "");
    };
  });

  // ---- delete-job ----
  c = cmd("delete-job", "Deletes a job and its executions (iot DeleteJob).",
          "jobledger delete-job --job-id fw-2-1 --force");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->add_flag("--force", f.force);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      DeleteJobRequest r;
      r.job_id = flags->job_id;
      r.force = flags->force;
      JL_TRY(ctx, "DeleteJob", ctx.OpenWriter());
      return ctx.Report(ctx.ledger().DeleteJob(ctx.Request(), r), "DeleteJob");
    };
  });

  // ---- associate-targets-with-job ----
  c = cmd("associate-targets-with-job", "Adds targets to a CONTINUOUS job (iot AssociateTargetsWithJob).",
          "jobledger associate-targets-with-job --job-id fw-2-1 --targets arn:aws:iot:us-east-1:123456789012:thinggroup/late-fleet");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->add_option("--targets", f.targets)->required();
  c->add_option("--comment", f.comment)->check(kNonEmpty);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      AssociateTargetsWithJobRequest r;
      r.job_id = flags->job_id;
      r.targets = flags->targets;
      if (!flags->comment.empty()) r.comment = flags->comment;
      JL_TRY(ctx, "AssociateTargetsWithJob", ctx.OpenWriter());
      StatusOr<JobReference> ref = ctx.ledger().AssociateTargetsWithJob(ctx.Request(), r);
      return ctx.Report(ref.status(), "AssociateTargetsWithJob", ref.ok() ? RenderJobReference(*ref) : "");
    };
  });

  // ---- describe-job / get-job-document ----
  c = cmd("describe-job", "Describes a job (iot DescribeJob); --as-of/--at-seq for a past moment.",
          "jobledger describe-job --job-id fw-2-1 --as-of 2026-11-27T03:12:00Z");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      JL_TRY(ctx, "DescribeJob", ctx.OpenReader());
      StatusOr<ReadPoint> at = ctx.Point();
      if (!at.ok()) return ctx.Usage(at.status().message());
      StatusOr<Job> job = ctx.reads().DescribeJob(flags->job_id, *at);
      return ctx.Report(job.status(), "DescribeJob", job.ok() ? RenderDescribeJob(*job) : "");
    };
  });
  c = cmd("get-job-document", "Gets a job's document (iot GetJobDocument).",
          "jobledger get-job-document --job-id fw-2-1");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      JL_TRY(ctx, "GetJobDocument", ctx.OpenReader());
      StatusOr<ReadPoint> at = ctx.Point();
      if (!at.ok()) return ctx.Usage(at.status().message());
      StatusOr<std::string> doc = ctx.reads().GetJobDocument(flags->job_id, *at);
      return ctx.Report(doc.status(), "GetJobDocument", doc.ok() ? RenderGetJobDocument(*doc) : "");
    };
  });

  // ---- list-jobs ----
  c = cmd("list-jobs", "Lists jobs (iot ListJobs), by jobId.",
          "jobledger list-jobs --status IN_PROGRESS --max-results 25 --output table");
  c->add_option("--status", f.status)->check(kNonEmpty);
  c->add_option("--target-selection", f.target_selection)->check(kNonEmpty)->check(CLI::IsMember({"SNAPSHOT", "CONTINUOUS"}));
  c->add_option("--thing-group-name", f.group_name)->check(kNonEmpty);
  c->add_option("--thing-group-id", f.group_id)->check(kNonEmpty);
  c->add_option("--max-results", f.max_results)->check(kInt64)->check(kIntRange);
  c->add_option("--next-token", f.next_token)->check(kNonEmpty);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      const Flags& a = *flags;
      ListJobsRequest r;
      if (!a.status.empty()) {
        r.status = ParseJobStatus(a.status);
        if (!r.status) return ctx.Usage("--status: must be IN_PROGRESS, CANCELED, SUCCEEDED or COMPLETED, got '" + a.status + "'");
      }
      if (!a.target_selection.empty()) r.target_selection = ParseTargetSelection(a.target_selection);
      if (!a.group_name.empty()) r.thing_group_name = a.group_name;
      if (!a.group_id.empty()) r.thing_group_id = a.group_id;
      if (a.max_results != 0) r.max_results = static_cast<int>(a.max_results);
      if (!a.next_token.empty()) r.next_token = a.next_token;
      JL_TRY(ctx, "ListJobs", ctx.OpenReader());
      StatusOr<ReadPoint> at = ctx.Point();
      if (!at.ok()) return ctx.Usage(at.status().message());
      StatusOr<ListJobsResult> list = ctx.reads().ListJobs(r, *at);
      if (!list.ok() || ctx.globals().output == "json") {
        return ctx.Report(list.status(), "ListJobs", list.ok() ? RenderListJobs(*list) : "");
      }
      // A table (or tab-separated text) with the counts an investigator wants.
      const bool table = ctx.globals().output == "table";
      std::ostream& out = ctx.out();
      auto row = [&](const std::vector<std::string>& cells) {
        static const int widths[] = {24, 12, 11, 7, 12, 9, 7, 9, 26};
        for (size_t i = 0; i < cells.size(); ++i) {
          if (table) {
            out << std::left << std::setw(widths[i]) << cells[i] << (i + 1 < cells.size() ? " " : "");
          } else {
            out << cells[i] << (i + 1 < cells.size() ? "\t" : "");
          }
        }
        out << "\n";
      };
      row({"jobId", "status", "selection", "queued", "inProgress", "succeeded", "failed", "canceled", "createdAt"});
      for (const JobSummary& s : list->jobs) {
        StatusOr<Job> job = ctx.reads().DescribeJob(s.job_id, *at);
        const JobProcessDetails d = job.ok() ? job->job_process_details : JobProcessDetails{};
        row({s.job_id, std::string(JobStatusName(s.status)), std::string(TargetSelectionName(s.target_selection)),
             std::to_string(d.number_of_queued_things), std::to_string(d.number_of_in_progress_things),
             std::to_string(d.number_of_succeeded_things), std::to_string(d.number_of_failed_things),
             std::to_string(d.number_of_canceled_things), LocalTime(s.created_at_micros)});
      }
      if (list->next_token) out << "nextToken: " << *list->next_token << "\n";
      return kExitOk;
    };
  });

  // ---- executions ----
  c = cmd("describe-job-execution", "Describes a job execution (iot DescribeJobExecution).",
          "jobledger describe-job-execution --job-id fw-2-1 --thing-name sensor-7");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->add_option("--thing-name", f.thing_name)->check(kNonEmpty)->required();
  c->add_option("--execution-number", f.execution_number)->check(kInt64)->check(CLI::PositiveNumber);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      JL_TRY(ctx, "DescribeJobExecution", ctx.OpenReader());
      StatusOr<ReadPoint> at = ctx.Point();
      if (!at.ok()) return ctx.Usage(at.status().message());
      std::optional<int64_t> number;
      if (flags->execution_number >= 0) number = flags->execution_number;
      StatusOr<JobExecution> e = ctx.reads().DescribeJobExecution(flags->job_id, flags->thing_name, number, *at);
      return ctx.Report(e.status(), "DescribeJobExecution", e.ok() ? RenderDescribeJobExecution(*e) : "");
    };
  });
  for (bool for_job : {true, false}) {
    c = for_job ? cmd("list-job-executions-for-job", "Lists a job's executions (iot ListJobExecutionsForJob).",
                      "jobledger list-job-executions-for-job --job-id fw-2-1 --status FAILED")
                : cmd("list-job-executions-for-thing", "Lists a thing's executions (iot ListJobExecutionsForThing).",
                      "jobledger list-job-executions-for-thing --thing-name sensor-7");
    if (for_job) {
      c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
    } else {
      c->add_option("--thing-name", f.thing_name)->check(kNonEmpty)->required();
    }
    c->add_option("--status", f.status)->check(kNonEmpty);
    c->add_option("--max-results", f.max_results)->check(kInt64)->check(kIntRange);
    c->add_option("--next-token", f.next_token)->check(kNonEmpty);
    c->callback([&ctx, action, flags, for_job] {
      *action = [&ctx, flags, for_job]() -> int {
        const Flags& a = *flags;
        const std::string operation = for_job ? "ListJobExecutionsForJob" : "ListJobExecutionsForThing";
        std::optional<ExecutionStatus> status;
        if (!a.status.empty()) {
          status = ParseStatusFlag(a.status);
          if (!status) return ctx.Usage("--status: not a job execution status: '" + a.status + "'");
        }
        std::optional<int> max;
        if (a.max_results != 0) max = static_cast<int>(a.max_results);
        std::optional<std::string> token;
        if (!a.next_token.empty()) token = a.next_token;
        JL_TRY(ctx, operation, ctx.OpenReader());
        StatusOr<ReadPoint> at = ctx.Point();
        if (!at.ok()) return ctx.Usage(at.status().message());
        if (for_job) {
          ListJobExecutionsForJobRequest r{a.job_id, status, max, token};
          auto list = ctx.reads().ListJobExecutionsForJob(r, *at);
          return ctx.Report(list.status(), operation, list.ok() ? RenderListJobExecutionsForJob(*list) : "");
        }
        ListJobExecutionsForThingRequest r{a.thing_name, status, max, token};
        auto list = ctx.reads().ListJobExecutionsForThing(r, *at);
        return ctx.Report(list.status(), operation, list.ok() ? RenderListJobExecutionsForThing(*list) : "");
      };
    });
  }

  c = cmd("cancel-job-execution", "Cancels a job execution (iot CancelJobExecution).",
          "jobledger cancel-job-execution --job-id fw-2-1 --thing-name sensor-7 --force --expected-version 3");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->add_option("--thing-name", f.thing_name)->check(kNonEmpty)->required();
  c->add_flag("--force", f.force);
  c->add_option("--expected-version", f.expected_version)->check(kInt64)->check(CLI::NonNegativeNumber);
  c->add_option("--status-details", f.status_details)->check(kNonEmpty);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      const Flags& a = *flags;
      CancelJobExecutionRequest r;
      r.job_id = a.job_id;
      r.thing_name = a.thing_name;
      r.force = a.force;
      if (a.expected_version >= 0) r.expected_version = a.expected_version;
      int exit = 0;
      if (!a.status_details.empty() && !Take(ctx, &exit, ParseDetails(a.status_details), &r.status_details)) return exit;
      JL_TRY(ctx, "CancelJobExecution", ctx.OpenWriter());
      return ctx.Report(ctx.ledger().CancelJobExecution(ctx.Request(), r), "CancelJobExecution");
    };
  });

  c = cmd("delete-job-execution", "Deletes a job execution (iot DeleteJobExecution).",
          "jobledger delete-job-execution --job-id fw-2-1 --thing-name sensor-7 --execution-number 1");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->add_option("--thing-name", f.thing_name)->check(kNonEmpty)->required();
  c->add_option("--execution-number", f.execution_number)->required()->check(kInt64)->check(CLI::PositiveNumber);
  c->add_flag("--force", f.force);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      DeleteJobExecutionRequest r;
      r.job_id = flags->job_id;
      r.thing_name = flags->thing_name;
      r.execution_number = flags->execution_number;
      r.force = flags->force;
      JL_TRY(ctx, "DeleteJobExecution", ctx.OpenWriter());
      return ctx.Report(ctx.ledger().DeleteJobExecution(ctx.Request(), r), "DeleteJobExecution");
    };
  });

  // ---- device plane ----
  c = cmd("get-pending-job-executions", "A thing's pending executions (iot-jobs-data GetPendingJobExecutions).",
          "jobledger get-pending-job-executions --thing-name sensor-7");
  c->add_option("--thing-name", f.thing_name)->check(kNonEmpty)->required();
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      JL_TRY(ctx, "GetPendingJobExecutions", ctx.OpenReader());
      StatusOr<ReadPoint> at = ctx.Point();
      if (!at.ok()) return ctx.Usage(at.status().message());
      auto pending = ctx.reads().GetPendingJobExecutions(flags->thing_name, *at);
      return ctx.Report(pending.status(), "GetPendingJobExecutions",
                        pending.ok() ? RenderGetPendingJobExecutions(*pending) : "");
    };
  });

  c = cmd("start-next-pending-job-execution",
          "Starts a thing's next pending execution (iot-jobs-data StartNextPendingJobExecution).",
          "jobledger start-next-pending-job-execution --thing-name sensor-7 --status-details '{\"step\": \"download\"}'");
  c->add_option("--thing-name", f.thing_name)->check(kNonEmpty)->required();
  c->add_option("--status-details", f.status_details)->check(kNonEmpty);
  c->add_option("--step-timeout-in-minutes", f.step_timeout)->check(kInt64);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      const Flags& a = *flags;
      StartNextPendingJobExecutionRequest r;
      r.thing_name = a.thing_name;
      int exit = 0;
      if (!a.status_details.empty() && !Take(ctx, &exit, ParseDetails(a.status_details), &r.status_details)) return exit;
      if (a.step_timeout != Flags::kNotGiven) r.step_timeout_in_minutes = a.step_timeout;
      JL_TRY(ctx, "StartNextPendingJobExecution", ctx.OpenWriter());
      auto started = ctx.ledger().StartNextPendingJobExecution(ctx.Request(), r);
      return ctx.Report(started.status(), "StartNextPendingJobExecution",
                        started.ok() ? RenderStartNextPendingJobExecution(*started) : "");
    };
  });

  c = cmd("update-job-execution", "A device's update of its execution (iot-jobs-data UpdateJobExecution).",
          "jobledger update-job-execution --job-id fw-2-1 --thing-name sensor-7 --status IN_PROGRESS --status-details '{\"progress\": \"50%\"}' --expected-version 2");
  c->add_option("--job-id", f.job_id)->check(kNonEmpty)->required();
  c->add_option("--thing-name", f.thing_name)->check(kNonEmpty)->required();
  c->add_option("--status", f.status)->check(kNonEmpty)->required();
  c->add_option("--status-details", f.status_details)->check(kNonEmpty);
  c->add_option("--expected-version", f.expected_version)->check(kInt64)->check(CLI::NonNegativeNumber);
  c->add_option("--step-timeout-in-minutes", f.step_timeout)->check(kInt64);
  c->add_option("--execution-number", f.execution_number)->check(kInt64)->check(CLI::PositiveNumber);
  c->add_flag("--include-job-execution-state", f.include_state);
  c->add_flag("--include-job-document", f.include_document);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      const Flags& a = *flags;
      UpdateJobExecutionRequest r;
      r.job_id = a.job_id;
      r.thing_name = a.thing_name;
      std::optional<ExecutionStatus> status = ParseStatusFlag(a.status);
      if (!status) return ctx.Usage("--status: not a job execution status: '" + a.status + "'");
      r.status = *status;
      int exit = 0;
      if (!a.status_details.empty() && !Take(ctx, &exit, ParseDetails(a.status_details), &r.status_details)) return exit;
      if (a.expected_version >= 0) r.expected_version = a.expected_version;
      if (a.step_timeout != Flags::kNotGiven) r.step_timeout_in_minutes = a.step_timeout;
      if (a.execution_number >= 0) r.execution_number = a.execution_number;
      r.include_job_execution_state = a.include_state;
      r.include_job_document = a.include_document;
      JL_TRY(ctx, "UpdateJobExecution", ctx.OpenWriter());
      auto updated = ctx.ledger().UpdateJobExecution(ctx.Request(), r);
      return ctx.Report(updated.status(), "UpdateJobExecution",
                        updated.ok() ? RenderUpdateJobExecution(*updated) : "");
    };
  });

  // ---- registry ----
  for (bool add : {true, false}) {
    c = add ? cmd("add-thing-to-thing-group", "Adds a thing to a thing group (iot AddThingToThingGroup).",
                  "jobledger add-thing-to-thing-group --thing-group-name fleet --thing-name sensor-7")
            : cmd("remove-thing-from-thing-group", "Removes a thing from a group (iot RemoveThingFromThingGroup).",
                  "jobledger remove-thing-from-thing-group --thing-group-name fleet --thing-name sensor-7");
    c->add_option("--thing-group-name", f.group_name)->check(kNonEmpty)->required();
    c->add_option("--thing-name", f.thing_name)->check(kNonEmpty)->required();
    c->callback([&ctx, action, flags, add] {
      *action = [&ctx, flags, add]() -> int {
        const std::string operation = add ? "AddThingToThingGroup" : "RemoveThingFromThingGroup";
        ThingGroupMembershipRequest r{flags->group_name, flags->thing_name};
        JL_TRY(ctx, operation, ctx.OpenWriter());
        Status s = add ? ctx.ledger().AddThingToThingGroup(ctx.Request(), r)
                       : ctx.ledger().RemoveThingFromThingGroup(ctx.Request(), r);
        return ctx.Report(s, operation);
      };
    });
  }
  c = cmd("delete-thing", "Deletes a thing (iot DeleteThing): its pending executions become REMOVED.",
          "jobledger delete-thing --thing-name sensor-7");
  c->add_option("--thing-name", f.thing_name)->check(kNonEmpty)->required();
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      JL_TRY(ctx, "DeleteThing", ctx.OpenWriter());
      return ctx.Report(ctx.ledger().DeleteThing(ctx.Request(), {flags->thing_name}), "DeleteThing");
    };
  });
}

}  // namespace jobledger::cli
