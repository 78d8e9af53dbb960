// The project's types as the service model's JSON, one mapping per type: the job
// configurations (presigned URL, rollout, abort, timeout) both ways, used by the read
// models' renderer (jobledger/json.h), the export (jobledger/event_json.h) and the
// command line, so the three cannot disagree; a Job and a JobExecution as DescribeJob
// and DescribeJobExecution print them (the renderer's and the audit's). Private to the
// project (not installed): it speaks nlohmann::ordered_json.
//
// ToJson: the model's member names; optional members absent when unset (roleArn too
// when empty: the ledger stores "no role" as an empty string).
// FromJson: strict. Every member must be one of the structure's, of the model's type
// (integers within their range), and every member the model requires must be there;
// otherwise kInvalidArgument naming `path`.member and the rule (the first problem
// only). Values are not judged here: jobledger/validation.h does that for commands and
// imports alike.

#ifndef JOBLEDGER_PROJECTIONS_CONFIG_JSON_H_
#define JOBLEDGER_PROJECTIONS_CONFIG_JSON_H_

#include <nlohmann/json.hpp>

#include <string>

#include "jobledger/event.h"
#include "jobledger/status.h"
#include "jobledger/types.h"

namespace jobledger {

nlohmann::ordered_json ToJson(const PresignedUrlConfig& config);
nlohmann::ordered_json ToJson(const RolloutConfig& config);
nlohmann::ordered_json ToJson(const AbortConfig& config);
nlohmann::ordered_json ToJson(const TimeoutConfig& config);
// The objects under "job" and "execution" of DescribeJob and DescribeJobExecution.
nlohmann::ordered_json ToJson(const Job& job);
nlohmann::ordered_json ToJson(const JobExecution& execution);

// T is one of the four configurations. `path` names the object in messages
// ("jobExecutionsRolloutConfig", "line 3: body.abortConfig").
template <typename T>
StatusOr<T> FromJson(const nlohmann::ordered_json& json, const std::string& path);

}  // namespace jobledger

#endif  // JOBLEDGER_PROJECTIONS_CONFIG_JSON_H_
