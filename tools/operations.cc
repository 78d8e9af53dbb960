// The ledger's commands on the command line, one subcommand per line of
// JOBLEDGER_LEDGER_COMMANDS: the subcommand's name is the operation's in kebab case
// (CreateJob: create-job, as `aws iot create-job`), and Operation<command::Name> below
// gives its help and its flags. A command without an Operation does not compile.

#include <CLI/CLI.hpp>

#include <cctype>
#include <limits>

#include "jobledger/command_traits.h"
#include "jobledger/json.h"
#include "tools/command.h"
#include "tools/flags.h"

namespace jobledger::cli {
namespace {

void Optional(const std::string& flag, std::optional<std::string>* into) {
  if (!flag.empty()) *into = flag;
}
void Optional(int64_t flag, std::optional<int64_t>* into) {
  if (flag >= 0) *into = flag;
}

// A flag whose every given value is passed on (the request validation names what is
// out of range); kNotGiven when it is absent.
constexpr int64_t kNotGiven = std::numeric_limits<int64_t>::min();

// --status-details, when given.
Status TakeDetails(const std::string& flag, std::optional<DetailsMap>* into) {
  if (flag.empty()) return Status();
  JOBLEDGER_ASSIGN_OR_RETURN(*into, ParseDetails(flag));
  return Status();
}

// Operation<Op>, Op a command of jobledger/command_traits.h: kSummary and kExample for --help, and Flags, which declares the
// subcommand's flags (Add) and turns them into the command's request (Take; a
// malformed value is an InvalidArgument naming the flag).
template <typename Op>
struct Operation;

template <>
struct Operation<command::CreateJob> {
  static constexpr const char* kSummary = "Creates a job (iot CreateJob).";
  static constexpr const char* kExample =
      "jobledger create-job --job-id fw-2-1 --targets arn:aws:iot:us-east-1:123456789012:thinggroup/fleet "
      "--document file://job.json";
  struct Flags {
    std::string job_id, document, description, target_selection;
    std::vector<std::string> targets;
    ConfigFlags configs;

    void Add(CLI::App& c) {
      c.add_option("--job-id", job_id)->check(kNonEmpty)->required();
      c.add_option("--targets", targets)->required();
      c.add_option("--document", document)->check(kNonEmpty);
      c.add_option("--description", description)->check(kNonEmpty);
      c.add_option("--target-selection", target_selection)
          ->check(kNonEmpty)
          ->check(CLI::IsMember({"SNAPSHOT", "CONTINUOUS"}));
      configs.Add(c);
    }
    Status Take(CreateJobRequest* r) const {
      r->job_id = job_id;
      r->targets = targets;
      if (!document.empty()) {
        JOBLEDGER_ASSIGN_OR_RETURN(r->document, ArgumentText(document, "--document"));
      }
      Optional(description, &r->description);
      if (!target_selection.empty()) r->target_selection = ParseTargetSelection(target_selection);
      return configs.Take(r);
    }
  };
};

template <>
struct Operation<command::UpdateJob> {
  static constexpr const char* kSummary = "Updates a job's description and configurations (iot UpdateJob).";
  static constexpr const char* kExample =
      "jobledger update-job --job-id fw-2-1 --description 'pause rollout' "
      "--job-executions-rollout-config '{\"maximumPerMinute\": 5}'";
  struct Flags {
    std::string job_id, description;
    ConfigFlags configs;

    void Add(CLI::App& c) {
      c.add_option("--job-id", job_id)->check(kNonEmpty)->required();
      c.add_option("--description", description)->check(kNonEmpty);
      configs.Add(c);
    }
    Status Take(UpdateJobRequest* r) const {
      r->job_id = job_id;
      Optional(description, &r->description);
      return configs.Take(r);
    }
  };
};

template <>
struct Operation<command::CancelJob> {
  static constexpr const char* kSummary = "Cancels a job (iot CancelJob).";
  static constexpr const char* kExample =
      "jobledger cancel-job --job-id fw-2-1 --reason-code BAD_IMAGE --comment 'checksum mismatch' --force";
  struct Flags {
    std::string job_id, reason_code, comment;
    bool force = false;

    void Add(CLI::App& c) {
      c.add_option("--job-id", job_id)->check(kNonEmpty)->required();
      c.add_option("--reason-code", reason_code)->check(kNonEmpty);
      c.add_option("--comment", comment)->check(kNonEmpty);
      c.add_flag("--force", force);
    }
    Status Take(CancelJobRequest* r) const {
      r->job_id = job_id;
      Optional(reason_code, &r->reason_code);
      Optional(comment, &r->comment);
      r->force = force;
      return Status();
    }
  };
};

template <>
struct Operation<command::DeleteJob> {
  static constexpr const char* kSummary = "Deletes a job and its executions (iot DeleteJob).";
  static constexpr const char* kExample = "jobledger delete-job --job-id fw-2-1 --force";
  struct Flags {
    std::string job_id;
    bool force = false;

    void Add(CLI::App& c) {
      c.add_option("--job-id", job_id)->check(kNonEmpty)->required();
      c.add_flag("--force", force);
    }
    Status Take(DeleteJobRequest* r) const {
      r->job_id = job_id;
      r->force = force;
      return Status();
    }
  };
};

template <>
struct Operation<command::AssociateTargetsWithJob> {
  static constexpr const char* kSummary = "Adds targets to a CONTINUOUS job (iot AssociateTargetsWithJob).";
  static constexpr const char* kExample =
      "jobledger associate-targets-with-job --job-id fw-2-1 "
      "--targets arn:aws:iot:us-east-1:123456789012:thinggroup/late-fleet";
  struct Flags {
    std::string job_id, comment;
    std::vector<std::string> targets;

    void Add(CLI::App& c) {
      c.add_option("--job-id", job_id)->check(kNonEmpty)->required();
      c.add_option("--targets", targets)->required();
      c.add_option("--comment", comment)->check(kNonEmpty);
    }
    Status Take(AssociateTargetsWithJobRequest* r) const {
      r->job_id = job_id;
      r->targets = targets;
      Optional(comment, &r->comment);
      return Status();
    }
  };
};

template <>
struct Operation<command::CancelJobExecution> {
  static constexpr const char* kSummary = "Cancels a job execution (iot CancelJobExecution).";
  static constexpr const char* kExample =
      "jobledger cancel-job-execution --job-id fw-2-1 --thing-name sensor-7 --force --expected-version 3";
  struct Flags {
    std::string job_id, thing_name, status_details;
    bool force = false;
    int64_t expected_version = -1;

    void Add(CLI::App& c) {
      c.add_option("--job-id", job_id)->check(kNonEmpty)->required();
      c.add_option("--thing-name", thing_name)->check(kNonEmpty)->required();
      c.add_flag("--force", force);
      c.add_option("--expected-version", expected_version)->check(kInt64)->check(CLI::NonNegativeNumber);
      c.add_option("--status-details", status_details)->check(kNonEmpty);
    }
    Status Take(CancelJobExecutionRequest* r) const {
      r->job_id = job_id;
      r->thing_name = thing_name;
      r->force = force;
      Optional(expected_version, &r->expected_version);
      return TakeDetails(status_details, &r->status_details);
    }
  };
};

template <>
struct Operation<command::DeleteJobExecution> {
  static constexpr const char* kSummary = "Deletes a job execution (iot DeleteJobExecution).";
  static constexpr const char* kExample =
      "jobledger delete-job-execution --job-id fw-2-1 --thing-name sensor-7 --execution-number 1";
  struct Flags {
    std::string job_id, thing_name;
    int64_t execution_number = -1;
    bool force = false;

    void Add(CLI::App& c) {
      c.add_option("--job-id", job_id)->check(kNonEmpty)->required();
      c.add_option("--thing-name", thing_name)->check(kNonEmpty)->required();
      c.add_option("--execution-number", execution_number)
          ->required()
          ->check(kInt64)
          ->check(CLI::PositiveNumber);
      c.add_flag("--force", force);
    }
    Status Take(DeleteJobExecutionRequest* r) const {
      r->job_id = job_id;
      r->thing_name = thing_name;
      r->execution_number = execution_number;
      r->force = force;
      return Status();
    }
  };
};

template <>
struct Operation<command::UpdateJobExecution> {
  static constexpr const char* kSummary =
      "A device's update of its execution (iot-jobs-data UpdateJobExecution).";
  static constexpr const char* kExample =
      "jobledger update-job-execution --job-id fw-2-1 --thing-name sensor-7 --status IN_PROGRESS "
      "--status-details '{\"progress\": \"50%\"}' --expected-version 2";
  struct Flags {
    std::string job_id, thing_name, status, status_details;
    int64_t expected_version = -1, execution_number = -1, step_timeout = kNotGiven;
    bool include_state = false, include_document = false;

    void Add(CLI::App& c) {
      c.add_option("--job-id", job_id)->check(kNonEmpty)->required();
      c.add_option("--thing-name", thing_name)->check(kNonEmpty)->required();
      c.add_option("--status", status)->check(kNonEmpty)->required();
      c.add_option("--status-details", status_details)->check(kNonEmpty);
      c.add_option("--expected-version", expected_version)->check(kInt64)->check(CLI::NonNegativeNumber);
      c.add_option("--step-timeout-in-minutes", step_timeout)->check(kInt64);
      c.add_option("--execution-number", execution_number)->check(kInt64)->check(CLI::PositiveNumber);
      c.add_flag("--include-job-execution-state", include_state);
      c.add_flag("--include-job-document", include_document);
    }
    Status Take(UpdateJobExecutionRequest* r) const {
      r->job_id = job_id;
      r->thing_name = thing_name;
      JOBLEDGER_ASSIGN_OR_RETURN(r->status, ParseStatusFlag(status));
      JOBLEDGER_RETURN_IF_ERROR(TakeDetails(status_details, &r->status_details));
      Optional(expected_version, &r->expected_version);
      if (step_timeout != kNotGiven) r->step_timeout_in_minutes = step_timeout;
      Optional(execution_number, &r->execution_number);
      r->include_job_execution_state = include_state;
      r->include_job_document = include_document;
      return Status();
    }
  };
};

template <>
struct Operation<command::StartNextPendingJobExecution> {
  static constexpr const char* kSummary =
      "Starts a thing's next pending execution (iot-jobs-data StartNextPendingJobExecution).";
  static constexpr const char* kExample =
      "jobledger start-next-pending-job-execution --thing-name sensor-7 --status-details '{\"step\": \"download\"}'";
  struct Flags {
    std::string thing_name, status_details;
    int64_t step_timeout = kNotGiven;

    void Add(CLI::App& c) {
      c.add_option("--thing-name", thing_name)->check(kNonEmpty)->required();
      c.add_option("--status-details", status_details)->check(kNonEmpty);
      c.add_option("--step-timeout-in-minutes", step_timeout)->check(kInt64);
    }
    Status Take(StartNextPendingJobExecutionRequest* r) const {
      r->thing_name = thing_name;
      JOBLEDGER_RETURN_IF_ERROR(TakeDetails(status_details, &r->status_details));
      if (step_timeout != kNotGiven) r->step_timeout_in_minutes = step_timeout;
      return Status();
    }
  };
};

// AddThingToThingGroup and RemoveThingFromThingGroup take the same flags.
struct MembershipFlags {
  std::string group_name, thing_name;

  void Add(CLI::App& c) {
    c.add_option("--thing-group-name", group_name)->check(kNonEmpty)->required();
    c.add_option("--thing-name", thing_name)->check(kNonEmpty)->required();
  }
  Status Take(ThingGroupMembershipRequest* r) const {
    *r = {group_name, thing_name};
    return Status();
  }
};

template <>
struct Operation<command::AddThingToThingGroup> {
  static constexpr const char* kSummary = "Adds a thing to a thing group (iot AddThingToThingGroup).";
  static constexpr const char* kExample =
      "jobledger add-thing-to-thing-group --thing-group-name fleet --thing-name sensor-7";
  using Flags = MembershipFlags;
};

template <>
struct Operation<command::RemoveThingFromThingGroup> {
  static constexpr const char* kSummary = "Removes a thing from a group (iot RemoveThingFromThingGroup).";
  static constexpr const char* kExample =
      "jobledger remove-thing-from-thing-group --thing-group-name fleet --thing-name sensor-7";
  using Flags = MembershipFlags;
};

template <>
struct Operation<command::DeleteThing> {
  static constexpr const char* kSummary =
      "Deletes a thing (iot DeleteThing): its pending executions become REMOVED.";
  static constexpr const char* kExample = "jobledger delete-thing --thing-name sensor-7";
  struct Flags {
    std::string thing_name;

    void Add(CLI::App& c) { c.add_option("--thing-name", thing_name)->check(kNonEmpty)->required(); }
    Status Take(DeleteThingRequest* r) const {
      r->thing_name = thing_name;
      return Status();
    }
  };
};

int Answer(Context& ctx, const std::string& operation, const Status& status) {
  return ctx.Report(status, operation);
}
template <typename T>
int Answer(Context& ctx, const std::string& operation, const StatusOr<T>& answer) {
  return ctx.Report(answer.status(), operation, answer.ok() ? RenderAnswer(*answer) : "");
}

// Any of the ledger's commands: flags to request, open a writer (advancing to --now),
// call, print the answer.
template <typename Op>
class OperationCommand : public Command {
 public:
  void AddFlags(CLI::App& c) override { flags_.Add(c); }
  int Run(Context& ctx) override {
    const std::string operation(Op::kName);
    typename Op::Request request;
    Status parsed = flags_.Take(&request);
    if (!parsed.ok()) return ctx.Usage(parsed.message());
    JL_TRY(ctx, operation, ctx.OpenWriter());
    return Answer(ctx, operation, Op::Call(ctx.ledger(), ctx.Request(), request));
  }

 private:
  typename Operation<Op>::Flags flags_;
};

// "CreateJob" -> "create-job".
std::string KebabCase(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (!out.empty()) out += '-';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void AddOperationCommands(CommandSet& set) {
  command::ForEach([&set]<typename Op>() {
    set.Add<OperationCommand<Op>>(
        {KebabCase(Op::kName), Operation<Op>::kSummary, Operation<Op>::kExample});
  });
}

}  // namespace jobledger::cli
