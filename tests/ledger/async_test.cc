// The asynchronous API: AsyncLedger with each completion token, and back-pressure.

#include <utility>  // before Asio: g++ 12 needs it for Asio's coroutine support

#include <boost/asio/io_context.hpp>
#if defined(BOOST_ASIO_HAS_CO_AWAIT)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#endif
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "jobledger/async.h"
#include "tests/ledger/ledger_test_util.h"

namespace jobledger::testing {
namespace {

namespace asio = boost::asio;

class AsyncLedgerTest : public LedgerFixture {
 protected:
  asio::io_context io_;
};

TEST_F(AsyncLedgerTest, CallbackRunsOnTheHandlersExecutor) {
  AsyncLedger async(*ledger_, io_.get_executor());
  std::optional<StatusOr<JobReference>> got;
  std::thread::id ran_on;
  async.async_create_job(As("user:ops"), NewJob("j1", {ThingArnOf("a")}),
                         [&](StatusOr<JobReference> r) {
                           got.emplace(std::move(r));
                           ran_on = std::this_thread::get_id();
                         });
  // Outstanding work keeps run() going until the handler has run.
  io_.run();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->status().ToString();
  EXPECT_EQ((*got)->job_id, "j1");
  EXPECT_EQ(ran_on, std::this_thread::get_id());  // this thread ran io_, not the writer
  EXPECT_EQ(Job("j1").status, JobStatus::kInProgress);
}

TEST_F(AsyncLedgerTest, RejectionsAndInvalidInputCompleteWithTheirStatus) {
  AsyncLedger async(*ledger_, io_.get_executor());
  MustCreate(NewJob("j1", {ThingArnOf("a")}));
  const uint64_t head = Head();
  Status conflict, invalid;
  auto stale = Update("j1", "a", ExecutionStatus::kInProgress);
  stale.expected_version = 7;
  async.async_update_job_execution(As("thing:a"), stale,
                                   [&](StatusOr<UpdateJobExecutionResponse> r) { conflict = r.status(); });
  async.async_delete_job(As("user:ops"), DeleteJobRequest{"bad id!", false},
                         [&](Status s) { invalid = s; });
  io_.run();
  EXPECT_EQ(conflict.aws_error(), AwsError::kVersionConflict) << conflict.ToString();
  EXPECT_EQ(invalid.aws_error(), AwsError::kInvalidRequest) << invalid.ToString();
  EXPECT_NE(invalid.message().find("jobId"), std::string::npos) << invalid.message();
  EXPECT_EQ(Head(), head);
}

TEST_F(AsyncLedgerTest, UseFuture) {
  AsyncLedger async(*ledger_, io_.get_executor());
  std::future<StatusOr<JobReference>> created =
      async.async_create_job(As("user:ops"), NewJob("j1", {ThingArnOf("a")}), asio::use_future);
  StatusOr<JobReference> r = created.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::future<StatusOr<UpdateJobExecutionResponse>> updated = async.async_update_job_execution(
      As("thing:a"), Update("j1", "a", ExecutionStatus::kInProgress), asio::use_future);
  ASSERT_TRUE(updated.get().ok());
  std::future<Status> removed = async.async_remove_thing_from_thing_group(
      As("user:ops"), ThingGroupMembershipRequest{"fleet", "a"}, asio::use_future);
  EXPECT_TRUE(removed.get().ok());
  EXPECT_EQ(Exec("j1", "a").status, ExecutionStatus::kInProgress);
}

// Asio 1.74 offers use_awaitable only where the compiler has C++20 coroutines it
// recognises: g++ 12 (the normal build); clang 14 (the sanitizer build) skips this.
#if defined(BOOST_ASIO_HAS_CO_AWAIT)
TEST_F(AsyncLedgerTest, UseAwaitable) {
  AsyncLedger async(*ledger_, io_.get_executor());
  std::vector<std::string> trace;
  // Requests are built outside the co_await expressions: g++ 12 miscompiles braced
  // temporaries (initializer lists) inside them.
  const CreateJobRequest create = NewJob("j1", {ThingArnOf("a")});
  const RequestContext ops = As("user:ops");
  const RequestContext device = As("thing:a");
  StartNextPendingJobExecutionRequest next;
  next.thing_name = "a";
  const UpdateJobExecutionRequest succeed = Update("j1", "a", ExecutionStatus::kSucceeded);
  const UpdateJobExecutionRequest restart = Update("j1", "a", ExecutionStatus::kInProgress);
  auto device_flow = [&]() -> asio::awaitable<void> {
    StatusOr<JobReference> created = co_await async.async_create_job(ops, create, asio::use_awaitable);
    trace.push_back(created.ok() ? std::string("created") : created.status().ToString());
    StatusOr<StartNextPendingJobExecutionResponse> started =
        co_await async.async_start_next_pending_job_execution(device, next, asio::use_awaitable);
    trace.push_back(std::string(started.ok() && started->execution ? "started" : "no start"));
    StatusOr<UpdateJobExecutionResponse> done =
        co_await async.async_update_job_execution(device, succeed, asio::use_awaitable);
    trace.push_back(done.ok() ? std::string("succeeded") : done.status().ToString());
    // A rejection is a value, not an exception.
    StatusOr<UpdateJobExecutionResponse> again =
        co_await async.async_update_job_execution(device, restart, asio::use_awaitable);
    trace.push_back(std::string(AwsExceptionName(again.status().aws_error())));
  };
  asio::co_spawn(io_, device_flow(), asio::detached);
  io_.run();
  EXPECT_EQ(trace, (std::vector<std::string>{"created", "started", "succeeded",
                                             "InvalidStateTransitionException"}));
  EXPECT_EQ(Job("j1").status, JobStatus::kSucceeded);
}
#endif  // BOOST_ASIO_HAS_CO_AWAIT

// With a queue of one, a try-submit is told; a waiting submit queues; none is lost.
TEST_F(AsyncLedgerTest, BackPressureWithATinyQueue) {
  ledger_.reset();
  LedgerOptions options;
  options.clock = &clock_;
  options.sync = false;
  options.append_queue_capacity = 1;
  auto opened = Ledger::Open(options, dir_.path() + "/tiny");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ledger_ = std::move(opened).value();
  EventLog& log = ledger_->log();

  // Hold the writer in an append, so nothing leaves the queue.
  std::promise<void> entered, release;
  log.AppendAsync(
      AppendOptions{},
      [&](AppendTxn&) {
        entered.set_value();
        release.get_future().wait();
        return Status();
      },
      nullptr);
  entered.get_future().wait();

  std::atomic<int> completed{0};
  std::atomic<int> refused_called{0};
  auto count = [&](StatusOr<JobReference> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    ++completed;
  };
  // Fills the queue.
  ASSERT_TRUE(ledger_->SubmitCreateJob(As("user:ops"), NewJob("q1", {ThingArnOf("a")}), count,
                                       Ledger::Admission::kTry).ok());
  EXPECT_EQ(log.queued_appends(), 1u);
  // Full: told at once, never queued, its callback never runs.
  Status refused = ledger_->SubmitCreateJob(
      As("user:ops"), NewJob("refused", {ThingArnOf("a")}),
      [&](StatusOr<JobReference>) { ++refused_called; }, Ledger::Admission::kTry);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_NE(refused.message().find("queue"), std::string::npos) << refused.message();
  // An asynchronous caller waits in line instead.
  AsyncLedger async(*ledger_, io_.get_executor());
  std::future<StatusOr<JobReference>> waited =
      async.async_create_job(As("user:ops"), NewJob("q2", {ThingArnOf("a")}), asio::use_future);
  // A blocking caller waits for room.
  std::future<Status> blocked = std::async(std::launch::async, [&] {
    return ledger_->CreateJob(As("user:ops"), NewJob("q3", {ThingArnOf("a")})).status();
  });

  release.set_value();
  EXPECT_TRUE(waited.get().ok());
  EXPECT_TRUE(blocked.get().ok());
  // q1's callback ran before q2 and q3 were written (queue order).
  EXPECT_EQ(completed.load(), 1);
  EXPECT_EQ(refused_called.load(), 0);
  for (const char* job : {"q1", "q2", "q3"}) EXPECT_EQ(Job(job).job_id, job);
  auto refused_job = ledger_->GetJobState("refused");
  ASSERT_TRUE(refused_job.ok());
  EXPECT_FALSE(refused_job->has_value());
}

}  // namespace
}  // namespace jobledger::testing
