// AsyncLedger: the Ledger's commands as Boost.Asio asynchronous operations.
//
// Each async_* operation follows Asio's completion-token convention, so the caller
// picks how to receive the outcome: a callback `void(StatusOr<T>)` (or `void(Status)`
// for commands without a result), boost::asio::use_future (a std::future of it), or
// boost::asio::use_awaitable inside a C++20 coroutine. Outcomes are values, never
// exceptions: a rejected command completes with its Status (with the AWS exception).
// The names follow Asio's own (async_read, async_wait) rather than this project's
// CamelCase, so they read as what they are at the call site.
//
// Threading model:
//   - The initiating call (async_create_job, ...) validates the input on the calling
//     thread, queues the command and returns at once; any thread may call it.
//   - The command is decided and written on the ledger's writer thread, in a group
//     with the commands queued beside it (see "Group commit" in jobledger/event_log.h).
//   - The completion handler never runs inside the initiating call nor on the writer
//     thread: it is posted to the handler's associated executor (for use_awaitable,
//     the coroutine's executor), or, when it has none, to the executor given to
//     AsyncLedger. Outstanding work is counted on that executor until the handler
//     has run, so io_context::run() does not return while a command is in flight.
//   - Back-pressure: when the writer's queue is full (LedgerOptions::
//     append_queue_capacity), a new operation waits in line: its completion comes
//     later and nothing is dropped. A caller that prefers to be told uses the
//     Ledger's Submit* methods with Ledger::Admission::kTry (kResourceExhausted).
//   - The Ledger must outlive every operation in flight.

#ifndef JOBLEDGER_ASYNC_H_
#define JOBLEDGER_ASYNC_H_

#include <utility>  // before Asio: g++ 12 needs it for Asio's coroutine support

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <type_traits>

#include "jobledger/commands.h"
#include "jobledger/ledger.h"
#include "jobledger/status.h"

namespace jobledger {

class AsyncLedger {
 public:
  // `executor` runs completion handlers that have no associated executor.
  AsyncLedger(Ledger& ledger, boost::asio::any_io_executor executor)
      : ledger_(ledger), executor_(std::move(executor)) {}

  Ledger& ledger() const { return ledger_; }
  const boost::asio::any_io_executor& get_executor() const { return executor_; }

  // One per command of JOBLEDGER_LEDGER_COMMANDS (jobledger/commands.h):
  //   auto async_snake_name(RequestContext, Request, Token&&)  ->  void(Answer)
  // e.g. async_create_job(context, CreateJobRequest, token) completes with
  // StatusOr<JobReference>; async_update_job with Status.
#define JOBLEDGER_ASYNC(Name, snake_name, Request, Answer)                                     \
  template <typename Token>                                                                    \
  auto async_##snake_name(RequestContext context, Request request, Token&& token) {            \
    return Initiate<Answer>(std::forward<Token>(token), &Ledger::Submit##Name, std::move(context), \
                            std::move(request));                                               \
  }
  JOBLEDGER_LEDGER_COMMANDS(JOBLEDGER_ASYNC)
#undef JOBLEDGER_ASYNC

 private:
  // Starts `submit` on the ledger; the outcome (of type Outcome) is posted to the
  // handler's associated executor, or executor_.
  template <typename Outcome, typename Token, typename Submit, typename Request>
  auto Initiate(Token&& token, Submit submit, RequestContext context, Request request) {
    return boost::asio::async_initiate<Token, void(Outcome)>(
        [this, submit](auto handler, RequestContext c, Request r) {
          using Handler = std::decay_t<decltype(handler)>;
          auto guard = boost::asio::make_work_guard(handler, executor_);
          using Work = decltype(guard);
          struct Pending {
            Handler handler;
            Work work;
          };
          // Shared: Ledger callbacks are std::function (copyable); handlers may not be.
          auto pending = std::make_shared<Pending>(Pending{std::move(handler), std::move(guard)});
          auto done = [pending](Outcome outcome) {
            Work work = std::move(pending->work);
            boost::asio::post(work.get_executor(), [pending, outcome = std::move(outcome)]() mutable {
              Handler h = std::move(pending->handler);
              std::move(h)(std::move(outcome));
            });
            // Released here, after post() has returned, not in the handler: post()
            // still touches the executor's io_context after queueing (it signals a
            // waiting thread), and once the work count is zero the caller may destroy
            // it (found by ThreadSanitizer).
            work.reset();
          };
          // kWait never refuses: the outcome always comes through `done`.
          (ledger_.*submit)(std::move(c), std::move(r), std::move(done), Ledger::Admission::kWait)
              .IgnoreError();
        },
        token, std::move(context), std::move(request));
  }

  Ledger& ledger_;
  boost::asio::any_io_executor executor_;
};

}  // namespace jobledger

#endif  // JOBLEDGER_ASYNC_H_
