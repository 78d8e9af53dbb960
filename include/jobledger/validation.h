// Input validation for every Ledger command: the service model's patterns, lengths
// and ranges plus this project's decisions (the spec's Part A). Stateless: rules that
// depend on the ledger's current state (does the job exist, is the move allowed) are
// the Ledger's decide step.
//
// Every failure is InvalidRequestException (kInvalidArgument) unless said otherwise,
// with a message that names the field (camelCase, as in the AWS API, with its path:
// "abortConfig.criteriaList[1].thresholdPercentage") and the rule, and quotes the
// offending value, shortened and escaped:
//   "jobId: must match [a-zA-Z0-9_-]+, got 'a/b'"
//
// Character classes: `[^\p{C}]` (description, comment, statusDetails values) is checked
// as: valid UTF-8, and no control (Cc), format (Cf), surrogate, private-use or
// noncharacter code points. Code points unassigned in some Unicode version are not
// tracked (documented approximation). `\p{Upper}` in reasonCode is ASCII A-Z.

#ifndef JOBLEDGER_VALIDATION_H_
#define JOBLEDGER_VALIDATION_H_

#include <optional>
#include <string>
#include <string_view>

#include "jobledger/commands.h"
#include "jobledger/status.h"

namespace jobledger {

struct ValidationContext {
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  LedgerLimits limits;
};

// A parsed target ARN: arn:aws:iot:<region>:<account>:thing/<thingName> or
// arn:aws:iot:<region>:<account>:thinggroup/<thingGroupName>.
struct TargetRef {
  enum class Kind { kThing, kThingGroup };
  Kind kind = Kind::kThing;
  std::string name;
  friend bool operator==(const TargetRef&, const TargetRef&) = default;
};

// `field` names the argument in messages ("targets[3]"). Rejects other partitions,
// regions and accounts than the context's, other resource types, and invalid names.
StatusOr<TargetRef> ParseTargetArn(std::string_view arn, const ValidationContext& context,
                                   std::string_view field = "targets");

// The resource of a target ARN already validated (stored in an event): the part after
// the fifth ':' ("thing/NAME" or "thinggroup/NAME"; names may contain ':'). nullopt for
// anything else.
std::optional<TargetRef> SplitTargetArn(std::string_view arn);
// The thing-group name of a target ARN, if it names a group.
std::optional<std::string> TargetGroupName(std::string_view arn);

std::string JobArn(const ValidationContext& context, std::string_view job_id);
std::string ThingArn(const ValidationContext& context, std::string_view thing_name);
std::string ThingGroupArn(const ValidationContext& context, std::string_view group_name);

// Single fields. `field` is the name used in the message.
Status ValidateJobId(std::string_view job_id, std::string_view field = "jobId");
Status ValidateThingName(std::string_view thing_name, std::string_view field = "thingName");
Status ValidateThingGroupName(std::string_view name, std::string_view field = "thingGroupName");
Status ValidateStatusDetails(const DetailsMap& details, const LedgerLimits& limits,
                             std::string_view field = "statusDetails");

// Whole requests. Target lists longer than limits.max_targets are
// LimitExceededException; everything else is InvalidRequestException.
Status Validate(const CreateJobRequest& request, const ValidationContext& context);
Status Validate(const UpdateJobRequest& request, const ValidationContext& context);
Status Validate(const CancelJobRequest& request, const ValidationContext& context);
Status Validate(const DeleteJobRequest& request, const ValidationContext& context);
Status Validate(const AssociateTargetsWithJobRequest& request, const ValidationContext& context);
Status Validate(const CancelJobExecutionRequest& request, const ValidationContext& context);
Status Validate(const DeleteJobExecutionRequest& request, const ValidationContext& context);
Status Validate(const UpdateJobExecutionRequest& request, const ValidationContext& context);
Status Validate(const StartNextPendingJobExecutionRequest& request,
                const ValidationContext& context);
Status Validate(const ThingGroupMembershipRequest& request, const ValidationContext& context);
Status Validate(const DeleteThingRequest& request, const ValidationContext& context);
Status Validate(const RequestContext& request, const ValidationContext& context);

// An event body written by someone else (an import): it must be what a command could
// have written. Ids, targets, documents, configurations and status details follow
// the rules of the command that writes that kind; derived kinds have valid ids.
Status ValidateEventBody(const EventBody& body, const ValidationContext& context);

}  // namespace jobledger

#endif  // JOBLEDGER_VALIDATION_H_
