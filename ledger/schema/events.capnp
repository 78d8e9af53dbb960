# The jobledger event contract.
#
# Every job and job-execution change is one Event. The stored bytes of an event are
# the canonical Cap'n Proto encoding of `Event` (single segment, no segment table),
# so the hash chain over them is stable across writers.
#
# Evolution rules (checked in review, never relaxed):
#   - ordinals only grow: never renumber, reuse or retype a field or a union member;
#   - a new event kind is a new member at the end of `body`;
#   - a new optional field gets the next ordinal; its default must mean "absent".
# Readers that meet a union member they do not know report it (kind kUnknown)
# instead of failing.
#
# Integer fields whose valid values are >= 1 use 0 for "absent". Timestamps are
# microseconds since the Unix epoch (UTC).

@0xf9ce995b21a2eb7a;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("jobledger::schema");

enum ExecutionStatus {
  none @0;        # "no execution yet" (the `from` of a first transition)
  queued @1;
  inProgress @2;
  succeeded @3;
  failed @4;
  timedOut @5;
  rejected @6;
  removed @7;
  canceled @8;
}

enum TargetSelection {
  snapshot @0;
  continuous @1;
}

enum FailureType {
  failed @0;
  rejected @1;
  timedOut @2;
  all @3;
}

enum AbortAction {
  cancel @0;
}

struct DetailsEntry {
  key @0 :Text;
  value @1 :Text;
}

struct PresignedUrlConfig {
  roleArn @0 :Text;
  expiresInSec @1 :Int64;   # 0 = absent
}

struct RateIncreaseCriteria {
  numberOfNotifiedThings @0 :Int32;    # 0 = absent
  numberOfSucceededThings @1 :Int32;   # 0 = absent
}

struct ExponentialRate {
  baseRatePerMinute @0 :Int32;
  incrementFactor @1 :Float64;
  rateIncreaseCriteria @2 :RateIncreaseCriteria;
}

struct RolloutConfig {
  maximumPerMinute @0 :Int32;          # 0 = absent
  exponentialRate @1 :ExponentialRate; # null = absent
}

struct AbortCriteria {
  failureType @0 :FailureType;
  action @1 :AbortAction;
  thresholdPercentage @2 :Float64;
  minNumberOfExecutedThings @3 :Int32;
}

struct AbortConfig {
  criteriaList @0 :List(AbortCriteria);
}

struct TimeoutConfig {
  inProgressTimeoutInMinutes @0 :Int64;  # 0 = absent
}

# Optional text: `present` distinguishes an absent value from an empty one.
struct OptionalText {
  present @0 :Bool;
  value @1 :Text;
}

# A statusDetails map. `supplied` false means "not supplied, leave unchanged";
# true with no entries means "replace with the empty map".
struct StatusDetails {
  supplied @0 :Bool;
  entries @1 :List(DetailsEntry);  # sorted by key, keys unique
}

struct JobCreated {
  jobId @0 :Text;
  targets @1 :List(Text);
  document @2 :Text;
  description @3 :OptionalText;
  targetSelection @4 :TargetSelection;
  presignedUrlConfig @5 :PresignedUrlConfig;        # null = absent
  jobExecutionsRolloutConfig @6 :RolloutConfig;     # null = absent
  abortConfig @7 :AbortConfig;                      # null = absent
  timeoutConfig @8 :TimeoutConfig;                  # null = absent
}

# Only the members that are non-null were changed by UpdateJob.
struct JobUpdated {
  jobId @0 :Text;
  description @1 :OptionalText;
  presignedUrlConfig @2 :PresignedUrlConfig;
  jobExecutionsRolloutConfig @3 :RolloutConfig;
  abortConfig @4 :AbortConfig;
  timeoutConfig @5 :TimeoutConfig;
}

struct TargetsAssociated {
  jobId @0 :Text;
  targets @1 :List(Text);
  comment @2 :OptionalText;
}

struct JobCanceled {
  jobId @0 :Text;
  reasonCode @1 :OptionalText;
  comment @2 :OptionalText;
  force @3 :Bool;
}

struct JobCompleted {
  jobId @0 :Text;
}

struct JobDeleted {
  jobId @0 :Text;
  force @1 :Bool;
}

struct ExecutionQueued {
  jobId @0 :Text;
  thingName @1 :Text;
  executionNumber @2 :Int64;
  target @3 :Text;   # the target ARN (thing or thing group) that brought the thing in
}

struct ExecutionStatusChanged {
  jobId @0 :Text;
  thingName @1 :Text;
  executionNumber @2 :Int64;
  from @3 :ExecutionStatus;
  to @4 :ExecutionStatus;
  statusDetails @5 :StatusDetails;
  versionNumber @6 :Int64;          # the version after this change
  stepTimeoutInMinutes @7 :Int64;   # 0 = not supplied, -1 = cancel the step timer
}

struct ExecutionCanceled {
  jobId @0 :Text;
  thingName @1 :Text;
  executionNumber @2 :Int64;
  from @3 :ExecutionStatus;
  force @4 :Bool;
  statusDetails @5 :StatusDetails;
  versionNumber @6 :Int64;
}

struct ExecutionTimedOut {
  jobId @0 :Text;
  thingName @1 :Text;
  executionNumber @2 :Int64;
  deadline @3 :Int64;               # microseconds; the deadline this event enforces
  versionNumber @4 :Int64;
}

struct ExecutionRemoved {
  jobId @0 :Text;
  thingName @1 :Text;
  executionNumber @2 :Int64;
  from @3 :ExecutionStatus;
  versionNumber @4 :Int64;
}

struct ExecutionDeleted {
  jobId @0 :Text;
  thingName @1 :Text;
  executionNumber @2 :Int64;
  force @3 :Bool;
}

struct ThingGroupMembership {
  thingName @0 :Text;
  thingGroupName @1 :Text;
}

struct ThingDeleted {
  thingName @0 :Text;
}

# Things that a job's rollout will queue over time, in order (the targets resolved
# when the plan was made: a SNAPSHOT job's group members at creation).
struct PlannedExecution {
  thingName @0 :Text;
  target @1 :Text;   # the target ARN that brought the thing in
}

struct RolloutPlanned {
  jobId @0 :Text;
  entries @1 :List(PlannedExecution);
}

# One rollout window opened: up to `quota` planned things are queued by the
# ExecutionQueued events this step causes.
struct RolloutStep {
  jobId @0 :Text;
  window @1 :UInt64;           # 0 at the plan's start, one per minute
  ratePerMinute @2 :Int32;     # the rate in force for this window
  quota @3 :Int32;             # how many this window may queue
  skipped @4 :List(Text);      # planned things dropped without queuing: they left every
                               # target of a CONTINUOUS job before their window
}

# A job's fan-out over many things is queued in chunks, each an append of its own: this
# event ends a chunk (its ExecutionQueued events come before it, caused by the job's
# JobCreated) and says where the next one resumes, or that the fan-out is done.
struct FanOutStep {
  jobId @0 :Text;
  target @1 :Text;    # the target ARN the next chunk resumes in ("" when done)
  after @2 :Text;     # the last thing of that target this chunk reached ("" = from the start)
  done @3 :Bool;      # every target was reached: no chunk follows
  plan @4 :Bool;      # the fan-out makes a rollout's plan (RolloutPlanned chunks), not executions
}

struct Event {
  sequence @0 :UInt64;
  recordedAt @1 :Int64;        # microseconds since the epoch; never decreases
  clampedFrom @2 :Int64;       # the clock's reading when it stepped back, else 0
  actor @3 :Text;              # principal, or system:timeout / system:abort / ...
  cause @4 :UInt64;            # sequence of the triggering event, 0 = direct command
  requestId @5 :Text;          # idempotency / correlation key, may be empty
  previousHash @6 :Data;       # 32 bytes: chain hash of event sequence-1 (zeros for 1)

  body :union {
    jobCreated @7 :JobCreated;
    jobUpdated @8 :JobUpdated;
    targetsAssociated @9 :TargetsAssociated;
    jobCanceled @10 :JobCanceled;
    jobCompleted @11 :JobCompleted;
    jobDeleted @12 :JobDeleted;
    executionQueued @13 :ExecutionQueued;
    executionStatusChanged @14 :ExecutionStatusChanged;
    executionCanceled @15 :ExecutionCanceled;
    executionTimedOut @16 :ExecutionTimedOut;
    executionRemoved @17 :ExecutionRemoved;
    executionDeleted @18 :ExecutionDeleted;
    thingAddedToGroup @19 :ThingGroupMembership;
    thingRemovedFromGroup @20 :ThingGroupMembership;
    thingDeleted @21 :ThingDeleted;
    rolloutPlanned @22 :RolloutPlanned;
    rolloutStep @23 :RolloutStep;
    fanOutStep @24 :FanOutStep;
  }
}
