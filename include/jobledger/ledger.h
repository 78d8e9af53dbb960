// Ledger: the AWS IoT Jobs operations as validated commands over the event log.
//
// Each command validates its input (jobledger/validation.h), reads the small write-side
// state it needs, decides, and appends the resulting events in one atomic write:
// the command's own event (actor = the caller) and every derived consequence (a
// SNAPSHOT job's completion, an abort, executions queued or removed by membership
// changes, executions canceled by a job cancel), each an event of its own whose
// `cause` is the sequence of its trigger and whose actor is a `system:*` principal.
// A rejected command appends nothing. The write-side state lives in the ledger's
// own column family and is updated in the same batch as the events, so opening a
// ledger never replays the log.
//
// Errors carry the AWS exception (Status::aws_error()):
//   InvalidRequestException         bad input (named field and rule)
//   ResourceNotFoundException       no such job / execution / thing
//   ResourceAlreadyExistsException  CreateJob with a jobId in use
//   VersionConflictException        expectedVersion differs from the execution's
//   InvalidStateTransitionException the move is not allowed from the current state
//   LimitExceededException          more than LedgerLimits::max_targets targets
// Errors without an AWS exception are storage failures (kDataLoss names a sequence).
//
// Thread safety: every method may be called from any thread. Commands from all
// threads are queued for the log's single writer, which decides them one at a time in
// queue order and writes them in groups (one WriteBatch and one WAL sync per group);
// a rejected command never affects another. The blocking methods are thin wrappers
// over the Submit* ones; jobledger/async.h offers them with Asio completion tokens.
//
// Time: a command acts at the injected clock's time (the time its events are
// recorded at). Time-driven work (rollout windows, in-progress and step timeouts)
// happens only in AdvanceTo(now), which an embedding schedules with
// jobledger/scheduler.h and tests call directly.

#ifndef JOBLEDGER_LEDGER_H_
#define JOBLEDGER_LEDGER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/commands.h"
#include "jobledger/event_log.h"
#include "jobledger/status.h"
#include "jobledger/validation.h"

namespace jobledger {

// The log's options (clock, sync, queue and group sizes, env, secondary path,
// maintenance: see EventLogOptions) and the ledger's own. An EventLogOptions by
// inheritance, as RocksDB's Options is a DBOptions: one declaration of each field,
// passed to the log as it is.
struct LedgerOptions : EventLogOptions {
  // ARNs are arn:aws:iot:<region>:<account>:... Targets of another region or account
  // are rejected. The ledger keeps both with its log: the read-write open that creates
  // it stores these (unset: "us-east-1", "123456789012"; a ledger made before it kept
  // them gets them at its next read-write open), and every later open reads them.
  // Set, they must equal the stored ones (kFailedPrecondition naming both otherwise);
  // unset, the stored ones apply. Ledger::context() has the values in use.
  std::optional<std::string> region;
  std::optional<std::string> account_id;

  // Default: kReadWrite. kReadOnly and kSecondary ledgers answer reads only.
  OpenMode mode = OpenMode::kReadWrite;

  // Default: see LedgerLimits.
  LedgerLimits limits;
};

// The write-side state of a job, as the decide step sees it.
struct JobStateView {
  std::string job_id;
  uint64_t created_sequence = 0;  // the JobCreated event of this incarnation
  JobStatus status = JobStatus::kInProgress;
  TargetSelection target_selection = TargetSelection::kSnapshot;
  std::vector<std::string> targets;
  bool force_canceled = false;
  std::optional<std::string> reason_code;
  std::optional<std::string> comment;
  int64_t created_at_micros = 0;
  int64_t last_updated_at_micros = 0;
  std::optional<int64_t> completed_at_micros;
  // Executions of the job by status, indexed by ExecutionStatus.
  ExecutionCounts counts{};
  uint64_t rollout_pending = 0;  // planned things not yet queued
  int32_t rollout_rate_per_minute = 0;
  // A fan-out queued in chunks (LedgerLimits::fan_out_chunk) has more to queue.
  bool fan_out_pending = false;
  // A cancel over more executions than LedgerLimits::fan_out_chunk has more to cancel
  // (its chunks follow; no device can start or update those executions meanwhile).
  bool cancel_pending = false;

  int64_t count(ExecutionStatus s) const { return counts[static_cast<size_t>(s)]; }
};

// The write-side state of one job execution.
struct ExecutionStateView {
  std::string job_id;
  std::string thing_name;
  int64_t execution_number = 0;
  ExecutionStatus status = ExecutionStatus::kQueued;
  int64_t version_number = 0;
  DetailsMap status_details;
  bool force_canceled = false;
  int64_t queued_at_micros = 0;
  std::optional<int64_t> started_at_micros;
  int64_t last_updated_at_micros = 0;
  // When it times out if nothing else happens first (the earlier of the in-progress
  // and the step timer), while IN_PROGRESS with a timer running.
  std::optional<int64_t> deadline_micros;
};

// The result of comparing the stored write-side state with a fresh fold of the log.
struct StateCheckResult {
  bool ok() const { return differences.empty(); }
  uint64_t events_folded = 0;
  std::vector<std::string> differences;  // one line per differing row
};

class Ledger {
 public:
  static StatusOr<std::unique_ptr<Ledger>> Open(const LedgerOptions& options,
                                                std::string_view path);

  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;
  virtual ~Ledger() = default;

  // ---- commands, asynchronous ----
  // Each validates its input on the calling thread, then queues the command for the
  // log's writer (see "Group commit" in jobledger/event_log.h) and returns at once.
  // `done` is called exactly once: on the writer thread after the command's group was
  // written or the command was rejected, or on the calling thread when the input
  // fails validation. With Admission::kTry, a full queue instead returns
  // kResourceExhausted (the command is not queued and `done` is never called); with
  // kWait the command waits in line and the return is always OK. `done` must be
  // short and must not call a blocking Ledger method (it runs on the writer).
  // jobledger/async.h wraps these with Boost.Asio completion tokens.
  template <typename T>
  using Done = std::function<void(StatusOr<T>)>;
  using DoneStatus = std::function<void(Status)>;
  enum class Admission { kWait, kTry };

  // One per command of JOBLEDGER_LEDGER_COMMANDS (jobledger/commands.h):
  //   Status SubmitName(RequestContext, Request, std::function<void(Answer)> done,
  //                     Admission = kWait);
  // e.g. SubmitCreateJob(context, CreateJobRequest, Done<JobReference>).
#define JOBLEDGER_DECLARE_SUBMIT(Name, snake_name, Request, Answer)                      \
  virtual Status Submit##Name(RequestContext context, Request request,                  \
                              std::function<void(Answer)> done,                         \
                              Admission admission = Admission::kWait) = 0;
  JOBLEDGER_LEDGER_COMMANDS(JOBLEDGER_DECLARE_SUBMIT)
#undef JOBLEDGER_DECLARE_SUBMIT

  // ---- commands, blocking: each submits and waits for the outcome ----
  // Must not be called on the writer thread (from a `done` callback or a listener):
  // that returns kFailedPrecondition rather than waiting for itself.

  // One per command of JOBLEDGER_LEDGER_COMMANDS: Answer Name(context, request), e.g.
  // StatusOr<JobReference> CreateJob(const RequestContext&, const CreateJobRequest&).
  // The control plane: CreateJob, UpdateJob, CancelJob, DeleteJob,
  // AssociateTargetsWithJob, CancelJobExecution, DeleteJobExecution. The device plane:
  // UpdateJobExecution, StartNextPendingJobExecution (and GetPendingJobExecutions
  // below, a read). The thing registry, as far as jobs need it: AddThingToThingGroup,
  // RemoveThingFromThingGroup (adding a member twice, or removing a non-member, is
  // accepted and appends nothing, as the service's own calls are idempotent),
  // DeleteThing (an unknown thing is ResourceNotFoundException).
#define JOBLEDGER_DECLARE_BLOCKING(Name, snake_name, Request, Answer) \
  Answer Name(const RequestContext& context, const Request& request);
  JOBLEDGER_LEDGER_COMMANDS(JOBLEDGER_DECLARE_BLOCKING)
#undef JOBLEDGER_DECLARE_BLOCKING

  // Reads only; appends nothing.
  virtual StatusOr<GetPendingJobExecutionsResponse> GetPendingJobExecutions(
      std::string_view thing_name) const = 0;

  // ---- time ----
  // Appends every time-driven consequence due at or before `now_micros` (rollout
  // windows, timeouts, and what they cause), in due order, in one atomic append (or
  // several, for very large backlogs). The events are recorded at the clock's time
  // and carry the deadline they enforce.
  virtual StatusOr<AdvanceResult> AdvanceTo(int64_t now_micros) = 0;
  // The earliest time something falls due; nullopt when nothing is scheduled.
  virtual StatusOr<std::optional<int64_t>> NextDue() const = 0;
  // Called (from the appending thread) after an append that may have made something
  // due earlier than before; the scheduler uses it to re-arm. Set before use.
  virtual void SetDueListener(std::function<void()> listener) = 0;

  // ---- fan-out ----
  // A CreateJob over more things than LedgerLimits::fan_out_chunk answers after its
  // first chunk; the others follow in appends of their own, queued in the background
  // one after another (and resumed by the next read-write open if the process ends
  // first). Blocks until every fan-out this ledger is running has queued its last
  // chunk; returns the log's failure if one stopped it. For a short-lived process (the
  // CLI) before it exits. Not from the writer thread (kFailedPrecondition).
  virtual Status AwaitFanOuts() = 0;

  // ---- write-side state ----
  virtual StatusOr<std::optional<JobStateView>> GetJobState(std::string_view job_id) const = 0;
  // The latest execution of (job, thing), or the one numbered `execution_number`.
  virtual StatusOr<std::optional<ExecutionStateView>> GetExecutionState(
      std::string_view job_id, std::string_view thing_name,
      std::optional<int64_t> execution_number = std::nullopt) const = 0;
  // Folds the whole log and compares the result with the stored state: in a scratch
  // family (read-write; the comparison at one sequence, under the append lock, so it
  // may run beside writers), or in memory (read-only and secondary; needs memory for
  // the whole state).
  virtual StatusOr<StateCheckResult> CheckState() = 0;

  // Appends events with their whole envelope, as an import does: each must continue
  // the chain (next sequence, previousHash = the head's hash, recordedAt not earlier).
  // The write-side state and inline projections follow in the same batch. All or
  // nothing; validate the events first (replay's Import does).
  virtual Status ImportEvents(const std::vector<Event>& events) = 0;

  // Checks, without writing, that `events` imported into an empty ledger are what
  // commands could have written: every body passes ValidateEventBody and the state
  // folds without a contradiction (an execution of an unknown job, a job created
  // twice). On failure *bad is the index of the offending event.
  virtual Status CheckImport(const std::vector<Event>& events, size_t* bad) const = 0;

  // The region and account this ledger was created for (every ARN is rendered from
  // them) and its limits: what ReadModels renders with.
  virtual const ValidationContext& context() const = 0;

  // The underlying log, for reads, verification and upper layers.
  virtual EventLog& log() = 0;
  virtual const EventLog& log() const = 0;

 protected:
  Ledger() = default;
};

}  // namespace jobledger

#endif  // JOBLEDGER_LEDGER_H_
