// The service's reads on the command line (`aws iot describe-job`, ...): each opens the
// ledger as a reader and answers as of --as-of / --at-seq, or now.

#include <CLI/CLI.hpp>

#include <ctime>
#include <iomanip>

#include "jobledger/json.h"
#include "tools/command.h"
#include "tools/flags.h"

namespace jobledger::cli {
namespace {

// A read: parses its flags, opens a reader, resolves the read point, answers.
class ReadCommand : public Command {
 public:
  explicit ReadCommand(std::string operation) : operation_(std::move(operation)) {}

  int Run(Context& ctx) final {
    Status parsed = Parse();
    if (!parsed.ok()) return ctx.Usage(parsed.message());
    JL_TRY(ctx, operation_, ctx.OpenReader());
    StatusOr<ReadPoint> at = ctx.Point();
    if (!at.ok()) return ctx.Usage(at.status().message());
    return Read(ctx, *at);
  }

 protected:
  // Checks the flags that need more than CLI11's checks, before anything is opened.
  virtual Status Parse() { return Status(); }
  virtual int Read(Context& ctx, const ReadPoint& at) = 0;

  // Prints a successful answer's JSON, or the rejection.
  template <typename T, typename Render>
  int Answer(Context& ctx, const StatusOr<T>& answer, Render render) {
    return ctx.Report(answer.status(), operation_, answer.ok() ? render(*answer) : "");
  }

  const std::string operation_;
};

// --status of the execution lists.
Status TakeStatus(const std::string& flag, std::optional<ExecutionStatus>* into) {
  if (flag.empty()) return Status();
  JOBLEDGER_ASSIGN_OR_RETURN(*into, ParseStatusFlag(flag));
  return Status();
}

class DescribeJob : public ReadCommand {
 public:
  DescribeJob() : ReadCommand("DescribeJob") {}
  void AddFlags(CLI::App& c) override { c.add_option("--job-id", job_id_)->check(kNonEmpty)->required(); }
  int Read(Context& ctx, const ReadPoint& at) override {
    return Answer(ctx, ctx.reads().DescribeJob(job_id_, at), [](const Job& j) { return RenderDescribeJob(j); });
  }

 private:
  std::string job_id_;
};

class GetJobDocument : public ReadCommand {
 public:
  GetJobDocument() : ReadCommand("GetJobDocument") {}
  void AddFlags(CLI::App& c) override { c.add_option("--job-id", job_id_)->check(kNonEmpty)->required(); }
  int Read(Context& ctx, const ReadPoint& at) override {
    return Answer(ctx, ctx.reads().GetJobDocument(job_id_, at),
                  [](const std::string& d) { return RenderGetJobDocument(d); });
  }

 private:
  std::string job_id_;
};

std::string LocalTime(int64_t micros) {
  std::time_t seconds = static_cast<std::time_t>(micros / kMicrosPerSecond);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  return buf;
}

class ListJobs : public ReadCommand {
 public:
  ListJobs() : ReadCommand("ListJobs") {}
  void AddFlags(CLI::App& c) override {
    c.add_option("--status", status_)->check(kNonEmpty);
    c.add_option("--target-selection", target_selection_)
        ->check(kNonEmpty)
        ->check(CLI::IsMember({"SNAPSHOT", "CONTINUOUS"}));
    c.add_option("--thing-group-name", group_name_)->check(kNonEmpty);
    c.add_option("--thing-group-id", group_id_)->check(kNonEmpty);
    c.add_option("--max-results", max_results_)->check(kInt64)->check(kIntRange);
    c.add_option("--next-token", next_token_)->check(kNonEmpty);
  }
  Status Parse() override {
    if (!status_.empty()) {
      request_.status = ParseJobStatus(status_);
      if (!request_.status) {
        return InvalidArgumentError("--status: must be IN_PROGRESS, CANCELED, SUCCEEDED or COMPLETED, got '" +
                                    status_ + "'");
      }
    }
    if (!target_selection_.empty()) request_.target_selection = ParseTargetSelection(target_selection_);
    if (!group_name_.empty()) request_.thing_group_name = group_name_;
    if (!group_id_.empty()) request_.thing_group_id = group_id_;
    if (max_results_ != 0) request_.max_results = static_cast<int>(max_results_);
    if (!next_token_.empty()) request_.next_token = next_token_;
    return Status();
  }
  int Read(Context& ctx, const ReadPoint& at) override {
    StatusOr<ListJobsResult> list = ctx.reads().ListJobs(request_, at);
    if (!list.ok() || ctx.globals().output == "json") {
      return Answer(ctx, list, [](const ListJobsResult& r) { return RenderListJobs(r); });
    }
    PrintTable(ctx, *list, at);
    return kExitOk;
  }

 private:
  // A table (or tab-separated text) with the counts an investigator wants.
  static void PrintTable(Context& ctx, const ListJobsResult& list, const ReadPoint& at) {
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
    for (const JobSummary& s : list.jobs) {
      StatusOr<Job> job = ctx.reads().DescribeJob(s.job_id, at);
      const JobProcessDetails d = job.ok() ? job->job_process_details : JobProcessDetails{};
      row({s.job_id, std::string(JobStatusName(s.status)), std::string(TargetSelectionName(s.target_selection)),
           std::to_string(d.number_of_queued_things), std::to_string(d.number_of_in_progress_things),
           std::to_string(d.number_of_succeeded_things), std::to_string(d.number_of_failed_things),
           std::to_string(d.number_of_canceled_things), LocalTime(s.created_at_micros)});
    }
    if (list.next_token) out << "nextToken: " << *list.next_token << "\n";
  }

  std::string status_, target_selection_, group_name_, group_id_, next_token_;
  int64_t max_results_ = 0;
  ListJobsRequest request_;
};

class DescribeJobExecution : public ReadCommand {
 public:
  DescribeJobExecution() : ReadCommand("DescribeJobExecution") {}
  void AddFlags(CLI::App& c) override {
    c.add_option("--job-id", job_id_)->check(kNonEmpty)->required();
    c.add_option("--thing-name", thing_name_)->check(kNonEmpty)->required();
    c.add_option("--execution-number", execution_number_)->check(kInt64)->check(CLI::PositiveNumber);
  }
  int Read(Context& ctx, const ReadPoint& at) override {
    std::optional<int64_t> number;
    if (execution_number_ >= 0) number = execution_number_;
    return Answer(ctx, ctx.reads().DescribeJobExecution(job_id_, thing_name_, number, at),
                  [](const JobExecution& e) { return RenderDescribeJobExecution(e); });
  }

 private:
  std::string job_id_, thing_name_;
  int64_t execution_number_ = -1;
};

// ListJobExecutionsForJob and ListJobExecutionsForThing: one by --job-id, the other by
// --thing-name; the same filter and paging flags.
template <typename Request>
class ListExecutions : public ReadCommand {
 public:
  using ReadCommand::ReadCommand;
  void AddFlags(CLI::App& c) override {
    if constexpr (std::is_same_v<Request, ListJobExecutionsForJobRequest>) {
      c.add_option("--job-id", key_)->check(kNonEmpty)->required();
    } else {
      c.add_option("--thing-name", key_)->check(kNonEmpty)->required();
    }
    c.add_option("--status", status_)->check(kNonEmpty);
    c.add_option("--max-results", max_results_)->check(kInt64)->check(kIntRange);
    c.add_option("--next-token", next_token_)->check(kNonEmpty);
  }
  Status Parse() override {
    std::optional<ExecutionStatus> status;
    JOBLEDGER_RETURN_IF_ERROR(TakeStatus(status_, &status));
    std::optional<int> max;
    if (max_results_ != 0) max = static_cast<int>(max_results_);
    std::optional<std::string> token;
    if (!next_token_.empty()) token = next_token_;
    request_ = Request{key_, status, max, token};
    return Status();
  }
  int Read(Context& ctx, const ReadPoint& at) override {
    if constexpr (std::is_same_v<Request, ListJobExecutionsForJobRequest>) {
      return Answer(ctx, ctx.reads().ListJobExecutionsForJob(request_, at),
                    [](const auto& r) { return RenderListJobExecutionsForJob(r); });
    } else {
      return Answer(ctx, ctx.reads().ListJobExecutionsForThing(request_, at),
                    [](const auto& r) { return RenderListJobExecutionsForThing(r); });
    }
  }

 private:
  std::string key_, status_, next_token_;
  int64_t max_results_ = 0;
  Request request_;
};

class GetPendingJobExecutions : public ReadCommand {
 public:
  GetPendingJobExecutions() : ReadCommand("GetPendingJobExecutions") {}
  void AddFlags(CLI::App& c) override {
    c.add_option("--thing-name", thing_name_)->check(kNonEmpty)->required();
  }
  int Read(Context& ctx, const ReadPoint& at) override {
    return Answer(ctx, ctx.reads().GetPendingJobExecutions(thing_name_, at),
                  [](const GetPendingJobExecutionsResponse& r) { return RenderGetPendingJobExecutions(r); });
  }

 private:
  std::string thing_name_;
};

}  // namespace

void AddReadCommands(CommandSet& set) {
  set.Add<DescribeJob>({"describe-job", "Describes a job (iot DescribeJob); --as-of/--at-seq for a past moment.",
                        "jobledger describe-job --job-id fw-2-1 --as-of 2026-11-27T03:12:00Z"});
  set.Add<GetJobDocument>({"get-job-document", "Gets a job's document (iot GetJobDocument).",
                           "jobledger get-job-document --job-id fw-2-1"});
  set.Add<ListJobs>({"list-jobs", "Lists jobs (iot ListJobs), by jobId.",
                     "jobledger list-jobs --status IN_PROGRESS --max-results 25 --output table"});
  set.Add<DescribeJobExecution>({"describe-job-execution", "Describes a job execution (iot DescribeJobExecution).",
                                 "jobledger describe-job-execution --job-id fw-2-1 --thing-name sensor-7"});
  set.Add({"list-job-executions-for-job", "Lists a job's executions (iot ListJobExecutionsForJob).",
           "jobledger list-job-executions-for-job --job-id fw-2-1 --status FAILED"},
          std::make_shared<ListExecutions<ListJobExecutionsForJobRequest>>("ListJobExecutionsForJob"));
  set.Add({"list-job-executions-for-thing", "Lists a thing's executions (iot ListJobExecutionsForThing).",
           "jobledger list-job-executions-for-thing --thing-name sensor-7"},
          std::make_shared<ListExecutions<ListJobExecutionsForThingRequest>>("ListJobExecutionsForThing"));
  set.Add<GetPendingJobExecutions>({"get-pending-job-executions",
                                    "A thing's pending executions (iot-jobs-data GetPendingJobExecutions).",
                                    "jobledger get-pending-job-executions --thing-name sensor-7"});
}

}  // namespace jobledger::cli
