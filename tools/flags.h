// Flag values shared by several commands: validators, JSON arguments, and the parsing
// of the service's structured arguments.

#ifndef JOBLEDGER_TOOLS_FLAGS_H_
#define JOBLEDGER_TOOLS_FLAGS_H_

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "jobledger/commands.h"
#include "jobledger/event.h"
#include "jobledger/status.h"

namespace jobledger::cli {

// A flag given with an empty value is an error, never "not given".
extern const CLI::Validator kNonEmpty;
// A whole number that fits in 64 bits (CLI11 would clamp an overflowing one).
extern const CLI::Validator kInt64;
// Numbers that narrow to int must fit before they do: 1..2^31-1.
extern const CLI::Range kIntRange;
// TIME: RFC 3339 or epoch seconds (checked when the command runs, naming the flag).

// --status-details '{"k": "v"}' (or file://PATH): string values only.
StatusOr<DetailsMap> ParseDetails(const std::string& value);
// --status: a job execution status name.
StatusOr<ExecutionStatus> ParseStatusFlag(const std::string& value);

// The four job configuration flags CreateJob and UpdateJob share, as the service model
// names them.
struct ConfigFlags {
  std::string presigned, rollout, abort, timeout;

  void Add(CLI::App& c);
  // Parses the given ones into `r` (a CreateJobRequest or UpdateJobRequest).
  template <typename Request>
  Status Take(Request* r) const {
    return TakeInto(&r->presigned_url_config, &r->job_executions_rollout_config, &r->abort_config,
                    &r->timeout_config);
  }

 private:
  Status TakeInto(std::optional<PresignedUrlConfig>* presigned_config,
                  std::optional<RolloutConfig>* rollout_config, std::optional<AbortConfig>* abort_config,
                  std::optional<TimeoutConfig>* timeout_config) const;
};

}  // namespace jobledger::cli

#endif  // JOBLEDGER_TOOLS_FLAGS_H_
