#include "tools/flags.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <limits>

#include "projections/json_mapping.h"
#include "tools/cli_internal.h"

namespace jobledger::cli {
namespace {

using Json = nlohmann::json;

StatusOr<Json> JsonArgument(const std::string& value, const std::string& flag) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::string text, ArgumentText(value, flag));
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(flag + ": not valid JSON");
  if (!j.is_object()) return InvalidArgumentError(flag + ": must be a JSON object");
  return j;
}

// A job configuration argument (projections/json_mapping.h) into `into` when given;
// `member` names it in messages as the service model does
// ("abortConfig.criteriaList[0].action").
template <typename T>
Status ParseConfig(const std::string& value, const std::string& flag, const std::string& member,
                   std::optional<T>* into) {
  if (value.empty()) return Status();
  JOBLEDGER_ASSIGN_OR_RETURN(Json j, JsonArgument(value, flag));
  JOBLEDGER_ASSIGN_OR_RETURN(*into, FromJson<T>(nlohmann::ordered_json(j), member));
  return Status();
}

}  // namespace

const CLI::Validator kNonEmpty(
    [](std::string& value) { return value.empty() ? std::string("must not be empty") : std::string(); },
    "NONEMPTY");

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

const CLI::Range kIntRange(int64_t{1}, int64_t{std::numeric_limits<int32_t>::max()});

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

StatusOr<ExecutionStatus> ParseStatusFlag(const std::string& value) {
  std::optional<ExecutionStatus> status = ParseExecutionStatus(value);
  if (!status) return InvalidArgumentError("--status: not a job execution status: '" + value + "'");
  return *status;
}

void ConfigFlags::Add(CLI::App& c) {
  c.add_option("--presigned-url-config", presigned)->check(kNonEmpty);
  c.add_option("--job-executions-rollout-config", rollout)->check(kNonEmpty);
  c.add_option("--abort-config", abort)->check(kNonEmpty);
  c.add_option("--timeout-config", timeout)->check(kNonEmpty);
}

Status ConfigFlags::TakeInto(std::optional<PresignedUrlConfig>* presigned_config,
                             std::optional<RolloutConfig>* rollout_config,
                             std::optional<AbortConfig>* abort_config,
                             std::optional<TimeoutConfig>* timeout_config) const {
  JOBLEDGER_RETURN_IF_ERROR(
      ParseConfig(presigned, "--presigned-url-config", "presignedUrlConfig", presigned_config));
  JOBLEDGER_RETURN_IF_ERROR(ParseConfig(rollout, "--job-executions-rollout-config",
                                        "jobExecutionsRolloutConfig", rollout_config));
  JOBLEDGER_RETURN_IF_ERROR(ParseConfig(abort, "--abort-config", "abortConfig", abort_config));
  return ParseConfig(timeout, "--timeout-config", "timeoutConfig", timeout_config);
}

}  // namespace jobledger::cli
