#include "jobledger/ledger.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>

#include "ledger/memory_rows.h"

#include "jobledger/validation.h"
#include "ledger/internal/answers.h"
#include "ledger/internal/codec.h"
#include "ledger/internal/decide.h"
#include "ledger/internal/fold.h"
#include "ledger/internal/mutex.h"
#include "ledger/internal/state.h"
#include "ledger/test_hooks.h"

namespace jobledger {
namespace {

using internal::Decider;
using internal::ExecState;
using internal::ExecutionId;
using internal::JobState;
using internal::StateStore;

// Events per append when AdvanceTo works through a large backlog.
constexpr size_t kAdvanceChunk = 10000;

JobStateView ToView(std::string_view job_id, const JobState& j) {
  JobStateView v;
  v.job_id = std::string(job_id);
  v.created_sequence = j.incarnation;
  v.status = j.status;
  v.target_selection = j.target_selection;
  v.targets = j.targets;
  v.force_canceled = j.force_canceled;
  v.reason_code = j.reason_code;
  v.comment = j.comment;
  v.created_at_micros = j.created_at;
  v.last_updated_at_micros = j.last_updated_at;
  v.completed_at_micros = j.completed_at;
  v.counts = j.counts;
  v.rollout_pending = j.rollout_pending;
  v.rollout_rate_per_minute = j.rollout_config ? internal::RolloutRate(j) : 0;
  v.fan_out_pending = j.fanout_pending;
  v.cancel_pending = internal::CancelPending(j);
  return v;
}

ExecutionStateView ToView(const ExecutionId& id, const ExecState& e) {
  ExecutionStateView v;
  v.job_id = id.job_id;
  v.thing_name = id.thing_name;
  v.execution_number = id.execution_number;
  v.status = e.status;
  v.version_number = e.version;
  v.status_details = e.status_details;
  v.force_canceled = e.force_canceled;
  v.queued_at_micros = e.queued_at;
  v.started_at_micros = e.started_at;
  v.last_updated_at_micros = e.last_updated_at;
  v.deadline_micros = e.deadline();
  return v;
}

class LedgerImpl final : public Ledger {
 public:
  LedgerImpl(std::unique_ptr<EventLog> log, FamilyId state, ValidationContext context)
      : owned_log_(std::move(log)), log_(owned_log_.get()), state_(state), context_(std::move(context)) {}
  // Closing the log finishes the appends queued before it (their callbacks use this
  // object's members, so the log goes first); no further fan-out chunk is queued, and
  // an unfinished fan-out goes on at the next open. A callback that runs while the log
  // closes may still submit (it read `closing_` just before), so `log_` is never
  // written: only `owned_log_`, which nothing else reads.
  ~LedgerImpl() override {
    BeginClose();
    owned_log_.reset();
  }

  // Folds the whole log into `family` (which must be empty), in chunks.
  Status FoldLogInto(FamilyId family, uint64_t* folded) {
    const uint64_t head = log_->head().sequence;
    uint64_t next = 1;
    while (next <= head) {
      const uint64_t last = std::min(head, next + kFoldBatchEvents - 1);
      JOBLEDGER_RETURN_IF_ERROR(log_->WriteRows(
          [&](RowTxn& txn) -> Status {
            StateStore store(&txn, family);
            auto cursor = log_->NewCursor(next, last);
            for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
              JOBLEDGER_RETURN_IF_ERROR(internal::ApplyEvent(cursor->event(), store));
            }
            return cursor->status();
          },
          Durability::kNoSync));
      next = last + 1;
    }
    *folded = head;
    return Status();
  }

  // ---- commands ----

  // Queues a command: `decide` (Decider& -> StatusOr<Result>) runs on the writer;
  // `finish` receives (the decided result; for a retried request the answer kept with
  // its record, or Result{} when it kept none; the append's result) or the rejection,
  // on the writer thread. A command with a request id whose Result is an answer
  // (internal::kKeepsAnswer) keeps it with the request's record.
  template <typename Result, typename DecideCommand, typename Finish>
  Status Submit(RequestContext context, DecideCommand decide, Finish finish, Admission admission,
                bool alone = false) {
    Status valid = Validate(context, context_);
    if (!valid.ok()) {
      finish(StatusOr<std::pair<Result, AppendResult>>(std::move(valid)));
      return Status();
    }
    auto decided = std::make_shared<std::optional<Result>>();
    // The jobs whose fan-out or cancel stopped short: their next chunks follow, each
    // an append of its own, once this one commits.
    auto continued = std::make_shared<std::vector<std::string>>();
    AppendOptions options;
    options.request_id = context.request_id;
    options.alone = alone;
    const bool keep_answer = !context.request_id.empty();
    DecideFn decide_fn = [this, decided, continued, keep_answer, actor = std::move(context.actor),
                          decide = std::move(decide)](AppendTxn& txn) mutable -> Status {
      Decider decider(txn, state_, context_, actor);
      StatusOr<Result> r = decide(decider);
      if (!r.ok()) return r.status();
      if constexpr (internal::kKeepsAnswer<Result>) {
        if (keep_answer) txn.SetAnswer(internal::EncodeAnswer(*r));
      } else {
        (void)keep_answer;  // a Status is the whole answer: the log's record suffices
      }
      decided->emplace(std::move(r).value());
      *continued = decider.continued();
      return Status();
    };
    AppendCallback done = [this, decided, continued, finish,
                           request_id = options.request_id](StatusOr<AppendResult> appended) mutable {
      if (!appended.ok()) {
        finish(StatusOr<std::pair<Result, AppendResult>>(appended.status()));
        return;
      }
      if (!appended->duplicate) StartChains(std::move(*continued));
      NotifyDue(*appended);
      // A retried request decided nothing: the answer kept with its record, if any.
      Result result = appended->duplicate || !decided->has_value() ? Result{} : std::move(**decided);
      if constexpr (internal::kKeepsAnswer<Result>) {
        if (appended->duplicate && !appended->answer.empty()) {
          StatusOr<Result> kept = internal::DecodeAnswer<Result>(appended->answer, request_id);
          if (!kept.ok()) {
            finish(StatusOr<std::pair<Result, AppendResult>>(kept.status()));
            return;
          }
          result = std::move(kept).value();
        }
      } else {
        (void)request_id;
      }
      finish(StatusOr<std::pair<Result, AppendResult>>(std::make_pair(std::move(result), *appended)));
    };
    if (admission == Admission::kTry) {
      return log_->TryAppendAsync(std::move(options), std::move(decide_fn), std::move(done));
    }
    log_->AppendAsync(std::move(options), std::move(decide_fn), std::move(done));
    return Status();
  }

  // A command answered with a Status only.
  template <typename Request, typename Method>
  Status SubmitCommand(RequestContext context, Request request, DoneStatus done, Admission admission,
                       Method method) {
    Status valid = Validate(request, context_);
    if (!valid.ok()) {
      done(std::move(valid));
      return Status();
    }
    return Submit<bool>(
        std::move(context),
        [request = std::move(request), method](Decider& d) -> StatusOr<bool> {
          JOBLEDGER_RETURN_IF_ERROR((d.*method)(request));
          return true;
        },
        [done = std::move(done)](StatusOr<std::pair<bool, AppendResult>> r) { done(r.status()); },
        admission);
  }

  // A command answered with a T (kept with its request id's record: a retry gets it
  // back; a record that kept none is answered by Unkept).
  template <typename Request, typename T, typename Method>
  Status SubmitCommand(RequestContext context, Request request, Done<T> done, Admission admission,
                       Method method) {
    Status valid = Validate(request, context_);
    if (!valid.ok()) {
      done(std::move(valid));
      return Status();
    }
    auto shared = std::make_shared<const Request>(std::move(request));
    return Submit<T>(
        std::move(context), [shared, method](Decider& d) { return (d.*method)(*shared); },
        [this, shared, done = std::move(done)](StatusOr<std::pair<T, AppendResult>> r) {
          if (!r.ok()) return done(r.status());
          if (!r->second.duplicate || !r->second.answer.empty()) return done(std::move(r->first));
          done(Unkept(*shared, r->second));
        },
        admission);
  }

#define JOBLEDGER_SUBMIT(Name, snake_name, Request, Answer)                                         \
  Status Submit##Name(RequestContext context, Request request, std::function<void(Answer)> done,    \
                      Admission admission) override {                                               \
    return SubmitCommand(std::move(context), std::move(request), std::move(done), admission,        \
                         &Decider::Name);                                                           \
  }
  JOBLEDGER_LEDGER_COMMANDS(JOBLEDGER_SUBMIT)
#undef JOBLEDGER_SUBMIT

  void NotifyDue(const AppendResult& appended) {
    if (appended.duplicate || appended.last_sequence < appended.first_sequence) return;
    std::function<void()> listener;
    {
      internal::MutexLock lock(&listener_mu_);
      listener = due_listener_;
    }
    if (listener) listener();
  }

  // ---- retries whose record kept no answer ----
  // Written by a build before answers were kept, or brought in by an import (an export
  // holds the events only): answered from the log, one way per answer type.

  // A job reference: from the event the request appended first.
  template <typename Request>
  StatusOr<JobReference> Unkept(const Request& /*request*/, const AppendResult& appended) {
    JOBLEDGER_ASSIGN_OR_RETURN(Event first, log_->Read(appended.first_sequence));
    std::string job_id(JobIdOf(first.body));
    JobReference ref{JobArn(context_, job_id), job_id, std::nullopt};
    if (const auto* c = std::get_if<JobCreated>(&first.body)) ref.description = c->description;
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobStateView> job, GetJobState(job_id));
    if (job && job->created_sequence <= appended.first_sequence) {
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> state, StateStore(log_, state_).GetJob(job_id));
      if (state) ref.description = state->description;
    }
    return ref;
  }

  // A chain is one job's chunks, one after another; AwaitFanOuts waits for none to run.
  void ChainStarted() {
    internal::MutexLock lock(&fanout_mu_);
    ++fanout_chains_;
  }
  void ChainEnded() {
    {
      internal::MutexLock lock(&fanout_mu_);
      --fanout_chains_;
    }
    fanout_cv_.notify_all();
  }

  Status AwaitFanOuts() override {
    if (log_->on_writer_thread()) {
      return FailedPreconditionError("AwaitFanOuts called on the writer thread would wait for itself");
    }
    internal::MutexLock lock(&fanout_mu_);
    fanout_cv_.wait(fanout_mu_, [&]() JOBLEDGER_REQUIRES(fanout_mu_) { return fanout_chains_ == 0; });
    return log_->failure();
  }

  // Submits the next chunk of a job's unfinished fan-out or cancel; when that one
  // stops short too, Submit schedules the one after it as it commits (a chain of its
  // own, started before this one ends): other commands queued meanwhile run between
  // chunks. Not once the ledger is closing (the next open resumes it). A chunk that
  // fails leaves the job's state where it was: the next open resumes from there.
  // Within a chain (ChainStarted before the call).
  void ScheduleFanOut(std::string job_id) {
    if (closing_.load(std::memory_order_acquire)) return ChainEnded();
    testing::CrashPoint("fanout.next_chunk");
    RequestContext system{std::string(internal::kActorRollout), ""};
    Submit<bool>(
        std::move(system),
        [job_id](Decider& d) -> StatusOr<bool> {
          JOBLEDGER_RETURN_IF_ERROR(d.ContinueFanOut(job_id));
          return true;
        },
        [this](StatusOr<std::pair<bool, AppendResult>>) { ChainEnded(); }, Admission::kWait,
        /*alone=*/true)  // a chunk: the appends queued around it wait for it at most once
        .IgnoreError();  // kWait never refuses
  }

  // A chain of chunks for each job.
  void StartChains(std::vector<std::string> jobs) {
    for (std::string& job : jobs) {
      ChainStarted();
      ScheduleFanOut(std::move(job));
    }
  }

  // Every unfinished fan-out or cancel, at a read-write open (a crash or a close cut
  // it short).
  Status ResumeFanOuts() {
    JOBLEDGER_ASSIGN_OR_RETURN(std::vector<std::string> jobs, StateStore(log_, state_).JobsWithFanOut());
    StartChains(std::move(jobs));
    return Status();
  }

  void BeginClose() { closing_.store(true, std::memory_order_release); }

  // An update: what the original appended.
  StatusOr<UpdateJobExecutionResponse> Unkept(const UpdateJobExecutionRequest& request,
                                              const AppendResult& appended) {
    JOBLEDGER_ASSIGN_OR_RETURN(Event first, log_->Read(appended.first_sequence));
    UpdateJobExecutionResponse out;
    const auto* changed = std::get_if<ExecutionStatusChanged>(&first.body);
    if (changed == nullptr) return out;
    if (request.include_job_execution_state) {
      JobExecutionState state{changed->to, changed->status_details.value_or(DetailsMap{}),
                              changed->version_number};
      JOBLEDGER_ASSIGN_OR_RETURN(auto now, GetExecutionState(changed->job_id, changed->thing_name,
                                                             changed->execution_number));
      if (!changed->status_details && now && now->version_number == changed->version_number) {
        state.status_details = now->status_details;
      }
      out.execution_state = std::move(state);
    }
    if (request.include_job_document) {
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobStateView> job, GetJobState(changed->job_id));
      if (job) {
        JOBLEDGER_ASSIGN_OR_RETURN(Event created, log_->Read(job->created_sequence));
        if (const auto* c = std::get_if<JobCreated>(&created.body)) out.job_document = c->document;
      }
    }
    return out;
  }

  // A start: the execution it started, as it stands now (the first answer is not
  // known).
  StatusOr<StartNextPendingJobExecutionResponse> Unkept(const StartNextPendingJobExecutionRequest& /*request*/,
                                                        const AppendResult& appended) {
    JOBLEDGER_ASSIGN_OR_RETURN(Event first, log_->Read(appended.first_sequence));
    StartNextPendingJobExecutionResponse out;
    const auto* changed = std::get_if<ExecutionStatusChanged>(&first.body);
    if (changed == nullptr) return out;
    ExecutionId id{changed->job_id, changed->thing_name, changed->execution_number};
    StateStore store(log_, state_);
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecState> exec, store.GetExecution(id));
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> job, store.GetJob(id.job_id));
    if (!exec || !job) return out;
    DeviceJobExecution view;
    view.job_id = id.job_id;
    view.thing_name = id.thing_name;
    view.status = exec->status;
    view.status_details = exec->status_details;
    view.queued_at_micros = exec->queued_at;
    view.started_at_micros = exec->started_at;
    view.last_updated_at_micros = exec->last_updated_at;
    view.version_number = exec->version;
    view.execution_number = id.execution_number;
    JOBLEDGER_ASSIGN_OR_RETURN(Event created, log_->Read(job->incarnation));
    if (const auto* c = std::get_if<JobCreated>(&created.body)) view.job_document = c->document;
    out.execution = std::move(view);
    return out;
  }

  StatusOr<GetPendingJobExecutionsResponse> GetPendingJobExecutions(
      std::string_view thing_name) const override {
    JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(thing_name));
    StateStore store(log_, state_);
    JOBLEDGER_ASSIGN_OR_RETURN(std::vector<internal::PendingEntry> pending,
                               store.PendingOfThing(thing_name));
    GetPendingJobExecutionsResponse out;
    for (const internal::PendingEntry& p : pending) {
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecState> exec, store.GetExecution(p.id));
      if (!exec) continue;  // a concurrent append removed it between the two reads
      PendingJobExecution summary{p.id.job_id,    exec->queued_at,      exec->started_at,
                                  exec->last_updated_at, exec->version, p.id.execution_number};
      if (exec->status == ExecutionStatus::kInProgress) {
        out.in_progress_jobs.push_back(std::move(summary));
      } else if (exec->status == ExecutionStatus::kQueued) {
        out.queued_jobs.push_back(std::move(summary));
      }
    }
    // Queued by queue time, in progress by start time; ties by jobId (as the read
    // models and jobledger/commands.h say).
    std::stable_sort(out.queued_jobs.begin(), out.queued_jobs.end(),
                     [](const PendingJobExecution& a, const PendingJobExecution& b) {
                       return std::tie(a.queued_at_micros, a.job_id) < std::tie(b.queued_at_micros, b.job_id);
                     });
    std::stable_sort(out.in_progress_jobs.begin(), out.in_progress_jobs.end(),
                     [](const PendingJobExecution& a, const PendingJobExecution& b) {
                       return std::tie(a.started_at_micros, a.job_id) < std::tie(b.started_at_micros, b.job_id);
                     });
    return out;
  }

  StatusOr<AdvanceResult> AdvanceTo(int64_t now_micros) override {
    AdvanceResult out;
    for (bool more = true; more;) {
      more = false;
      std::vector<std::string> continued;  // an abort's cancel that stopped short
      AppendOptions options;
      options.alone = true;  // timeouts and windows: up to a chunk of them
      JOBLEDGER_ASSIGN_OR_RETURN(
          AppendResult appended, log_->Append(options, [&](AppendTxn& txn) -> Status {
            Decider decider(txn, state_, context_, std::string(internal::kActorTimeout));
            JOBLEDGER_RETURN_IF_ERROR(decider.Advance(now_micros, kAdvanceChunk, &more));
            continued = decider.continued();
            return Status();
          }));
      StartChains(std::move(continued));
      if (appended.last_sequence >= appended.first_sequence) {
        out.appended += appended.last_sequence - appended.first_sequence + 1;
      }
    }
    out.head_sequence = log_->head().sequence;
    JOBLEDGER_ASSIGN_OR_RETURN(out.next_due_micros, NextDue());
    return out;
  }

  StatusOr<std::optional<int64_t>> NextDue() const override {
    StateStore store(log_, state_);
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<internal::DueTimer> timer, store.FirstDeadline());
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<internal::DueRollout> window, store.FirstRolloutDue());
    std::optional<int64_t> due;
    if (timer) due = timer->deadline;
    if (window && (!due || window->due < *due)) due = window->due;
    return due;
  }

  void SetDueListener(std::function<void()> listener) override {
    internal::MutexLock lock(&listener_mu_);
    due_listener_ = std::move(listener);
  }

  StatusOr<std::optional<JobStateView>> GetJobState(std::string_view job_id) const override {
    JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(job_id));
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<JobState> job, StateStore(log_, state_).GetJob(job_id));
    if (!job) return std::optional<JobStateView>();
    return std::optional<JobStateView>(ToView(job_id, *job));
  }

  StatusOr<std::optional<ExecutionStateView>> GetExecutionState(
      std::string_view job_id, std::string_view thing_name,
      std::optional<int64_t> execution_number) const override {
    JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(job_id));
    JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(thing_name));
    StateStore store(log_, state_);
    if (execution_number) {
      ExecutionId id{std::string(job_id), std::string(thing_name), *execution_number};
      JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecState> exec, store.GetExecution(id));
      if (!exec) return std::optional<ExecutionStateView>();
      return std::optional<ExecutionStateView>(ToView(id, *exec));
    }
    JOBLEDGER_ASSIGN_OR_RETURN(auto latest, store.LatestExecution(job_id, thing_name));
    if (!latest) return std::optional<ExecutionStateView>();
    ExecutionId id{std::string(job_id), std::string(thing_name), latest->first};
    return std::optional<ExecutionStateView>(ToView(id, latest->second));
  }

  StatusOr<StateCheckResult> CheckState() override {
    StateCheckResult result;
    if (log_->mode() != OpenMode::kReadWrite) {
      // Nothing may be written: fold into memory.
      MemoryRows memory;
      const FamilyId scratch{0};
      StateStore store(&memory, scratch);
      auto cursor = log_->NewCursor(1, log_->head().sequence);
      for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
        JOBLEDGER_RETURN_IF_ERROR(internal::ApplyEvent(cursor->event(), store));
        ++result.events_folded;
      }
      JOBLEDGER_RETURN_IF_ERROR(cursor->status());
      JOBLEDGER_ASSIGN_OR_RETURN(result.differences, CompareWithStored(memory, scratch, *log_, state_));
      return result;
    }
    static constexpr std::string_view kScratch = "ledger.state.check";
    for (const std::string& name : log_->FamilyNames()) {
      if (name == kScratch) {
        JOBLEDGER_ASSIGN_OR_RETURN(FamilyId stale, log_->OpenFamily(kScratch));
        JOBLEDGER_RETURN_IF_ERROR(log_->DropFamily(stale));
      }
    }
    JOBLEDGER_ASSIGN_OR_RETURN(FamilyId scratch, log_->OpenFamily(kScratch));
    uint64_t folded_to = 0;
    Status folded = FoldLogInto(scratch, &folded_to);
    // Compare under the append lock once the fold has reached the head, so the stored
    // state and the fold stand at one sequence while writers go on; fold what arrived
    // meanwhile and look again if not.
    for (bool done = false; folded.ok() && !done;) {
      folded = log_->WriteRows(
          [&](RowTxn& txn) -> Status {
            const uint64_t head = log_->head().sequence;
            if (head == folded_to) {
              // The stored state first, the log's fold second.
              JOBLEDGER_ASSIGN_OR_RETURN(result.differences, CompareFamilies(*log_, state_, scratch));
              done = true;
              return Status();
            }
            StateStore store(&txn, scratch);
            auto cursor = log_->NewCursor(folded_to + 1, head);
            for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
              JOBLEDGER_RETURN_IF_ERROR(internal::ApplyEvent(cursor->event(), store));
            }
            JOBLEDGER_RETURN_IF_ERROR(cursor->status());
            folded_to = head;
            return Status();
          },
          Durability::kNoSync);
    }
    result.events_folded = folded_to;
    Status dropped = log_->DropFamily(scratch);
    JOBLEDGER_RETURN_IF_ERROR(folded);
    JOBLEDGER_RETURN_IF_ERROR(dropped);
    return result;
  }

  Status ImportEvents(const std::vector<Event>& events) override {
    if (events.empty()) return Status();
    JOBLEDGER_ASSIGN_OR_RETURN(
        AppendResult appended, log_->Append(AppendOptions{}, [&](AppendTxn& txn) -> Status {
          StateStore store(&txn, state_);
          for (const Event& e : events) {
            JOBLEDGER_RETURN_IF_ERROR(txn.AddVerbatim(e).status());
            JOBLEDGER_RETURN_IF_ERROR(internal::ApplyEvent(txn.events().back(), store));
          }
          return Status();
        }));
    NotifyDue(appended);
    return Status();
  }

  Status CheckImport(const std::vector<Event>& events, size_t* bad) const override {
    MemoryRows memory;
    StateStore store(&memory, FamilyId{0});
    for (size_t i = 0; i < events.size(); ++i) {
      *bad = i;
      JOBLEDGER_RETURN_IF_ERROR(ValidateEventBody(events[i].body, context_));
      // Fold what will be stored: the encoding keeps some zeros as "absent".
      JOBLEDGER_ASSIGN_OR_RETURN(Event stored,
                                 internal::DecodeEvent(internal::EncodeEvent(events[i]), events[i].sequence));
      JOBLEDGER_RETURN_IF_ERROR(internal::ApplyEvent(stored, store));
    }
    return Status();
  }

  const ValidationContext& context() const override { return context_; }
  EventLog& log() override { return *log_; }
  const EventLog& log() const override { return *log_; }

 private:
  std::unique_ptr<EventLog> owned_log_;
  EventLog* const log_;  // owned_log_, for the writer's callbacks while it closes
  FamilyId state_;
  ValidationContext context_;
  std::atomic<bool> closing_{false};  // no more fan-out chunks are submitted
  internal::Mutex fanout_mu_;
  std::condition_variable_any fanout_cv_;
  size_t fanout_chains_ JOBLEDGER_GUARDED_BY(fanout_mu_) = 0;
  internal::Mutex listener_mu_;
  std::function<void()> due_listener_ JOBLEDGER_GUARDED_BY(listener_mu_);
};

}  // namespace

namespace {

// Submits through `submit(done)` and waits for `done`.
template <typename Outcome, typename SubmitFn>
Outcome Wait(SubmitFn submit) {
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Outcome> outcome;
  };
  auto waiter = std::make_shared<Waiter>();
  Status queued = submit([waiter](Outcome outcome) {
    std::lock_guard<std::mutex> lock(waiter->mu);
    waiter->outcome.emplace(std::move(outcome));
    waiter->cv.notify_one();
  });
  if (!queued.ok()) return Outcome(std::move(queued));
  std::unique_lock<std::mutex> lock(waiter->mu);
  waiter->cv.wait(lock, [&] { return waiter->outcome.has_value(); });
  return std::move(*waiter->outcome);
}

}  // namespace

#define JOBLEDGER_BLOCKING(Name, snake_name, Request, Answer)                          \
  Answer Ledger::Name(const RequestContext& context, const Request& request) {          \
    if (log().on_writer_thread()) {                                                     \
      return Answer(FailedPreconditionError(                                            \
          #Name ": a blocking command on the writer thread would wait for itself"));     \
    }                                                                                   \
    return Wait<Answer>(                                                                \
        [&](auto done) { return Submit##Name(context, request, std::move(done)); });    \
  }

JOBLEDGER_LEDGER_COMMANDS(JOBLEDGER_BLOCKING)

#undef JOBLEDGER_BLOCKING

namespace {

// The ledger's region and account, as kept with its log (LedgerOptions::region).
constexpr std::string_view kRegionSetting = "region";
constexpr std::string_view kAccountSetting = "account-id";
constexpr std::string_view kDefaultRegion = "us-east-1";
constexpr std::string_view kDefaultAccount = "123456789012";

Status CheckRegion(std::string_view region, std::string_view what) {
  bool ok = !region.empty() && region.size() <= 64;
  for (char c : region) ok &= (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  if (!ok) {
    return InvalidArgumentError(std::string(what) + ": must match [a-z0-9-]{1,64} (as us-east-1), got '" +
                                PrintableKey(region) + "'");
  }
  return Status();
}

Status CheckAccount(std::string_view account, std::string_view what) {
  bool ok = account.size() == 12;
  for (char c : account) ok &= c >= '0' && c <= '9';
  if (!ok) {
    return InvalidArgumentError(std::string(what) + ": must be 12 digits (as 123456789012), got '" +
                                PrintableKey(account) + "'");
  }
  return Status();
}

// One of the two: the stored value, checked against an explicit option; or, when none
// is stored, the option's (else the default), stored by a read-write open.
StatusOr<std::string> ResolveSetting(EventLog& log, std::string_view setting, std::string_view field,
                                     const std::optional<std::string>& option, std::string_view fallback,
                                     Status (*check)(std::string_view, std::string_view)) {
  if (option.has_value()) JOBLEDGER_RETURN_IF_ERROR(check(*option, field));
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> stored, log.GetSetting(setting));
  if (stored.has_value()) {
    Status valid = check(*stored, field);
    if (!valid.ok()) {
      return DataLossError("ledger at '" + log.path() + "': its stored " + valid.message());
    }
    if (option.has_value() && *option != *stored) {
      return FailedPreconditionError(std::string(field) + ": the ledger at '" + log.path() +
                                     "' was created for " + std::string(field) + " '" + *stored +
                                     "', not '" + *option + "'; leave it out to use the ledger's");
    }
    return std::move(*stored);
  }
  std::string value = option.value_or(std::string(fallback));
  if (log.mode() == OpenMode::kReadWrite) JOBLEDGER_RETURN_IF_ERROR(log.PutSetting(setting, value));
  return value;
}

}  // namespace

StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options, std::string_view path) {
  if (options.region.has_value()) JOBLEDGER_RETURN_IF_ERROR(CheckRegion(*options.region, "region"));
  if (options.account_id.has_value()) {
    JOBLEDGER_RETURN_IF_ERROR(CheckAccount(*options.account_id, "accountId"));
  }
  JOBLEDGER_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log,
                             EventLog::Open(static_cast<const EventLogOptions&>(options), path, options.mode));
  ValidationContext context;
  context.limits = options.limits;
  JOBLEDGER_ASSIGN_OR_RETURN(context.region, ResolveSetting(*log, kRegionSetting, "region", options.region,
                                                            kDefaultRegion, &CheckRegion));
  JOBLEDGER_ASSIGN_OR_RETURN(context.account_id,
                             ResolveSetting(*log, kAccountSetting, "accountId", options.account_id,
                                            kDefaultAccount, &CheckAccount));
  bool had_state = false;
  for (const std::string& name : log->FamilyNames()) had_state |= name == internal::kStateFamily;
  JOBLEDGER_ASSIGN_OR_RETURN(FamilyId state, log->OpenFamily(internal::kStateFamily));
  auto ledger = std::make_unique<LedgerImpl>(std::move(log), state, std::move(context));
  if (!had_state && ledger->log().head().sequence > 0) {
    // A log written without the ledger's state (or by a build before it): fold it.
    uint64_t folded = 0;
    JOBLEDGER_RETURN_IF_ERROR(ledger->FoldLogInto(state, &folded));
  }
  if (options.mode == OpenMode::kReadWrite) JOBLEDGER_RETURN_IF_ERROR(ledger->ResumeFanOuts());
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace jobledger
