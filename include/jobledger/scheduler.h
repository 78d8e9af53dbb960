// AdvanceScheduler: runs a Ledger's time-driven work (rollout windows, in-progress and
// step timeouts) on a Boost.Asio executor the host provides, at the next due time.
//
// Threading: every handler runs on a strand of the given executor, so the scheduler
// needs no locking of its own and the host may run the io_context on any number of
// threads. AdvanceTo itself takes the ledger's append lock like any command.
// Lifetime: the ledger and the clock must outlive the scheduler; destroy (or Stop)
// the scheduler before the io_context is destroyed.
//
// Time: waits are computed against the injected clock. A host on the system clock
// needs nothing more; a test on a ManualClock advances the clock and calls Poke(),
// and the due work is posted at once (no real waiting), so poll() runs it.

#ifndef JOBLEDGER_SCHEDULER_H_
#define JOBLEDGER_SCHEDULER_H_

#include <utility>  // before Asio: g++ 12 needs it for Asio's coroutine support

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

#include "jobledger/clock.h"
#include "jobledger/ledger.h"
#include "jobledger/status.h"
#include "jobledger/thread_annotations.h"

namespace jobledger {

class AdvanceScheduler {
 public:
  // `clock`: Default nullptr, the system clock.
  AdvanceScheduler(Ledger& ledger, boost::asio::any_io_executor executor,
                   const Clock* clock = nullptr);
  ~AdvanceScheduler();

  AdvanceScheduler(const AdvanceScheduler&) = delete;
  AdvanceScheduler& operator=(const AdvanceScheduler&) = delete;

  // Arms the timer for the ledger's next due time, and re-arms whenever an append
  // may have made something due earlier.
  void Start();
  // Cancels the timer; no AdvanceTo runs after Stop returns... unless one is already
  // running on another thread, which completes.
  void Stop();
  // Recomputes the wait against the clock now (after a ManualClock moved).
  void Poke();

  // How many AdvanceTo runs completed, and the last failure (OK if none).
  uint64_t runs() const { return runs_.load(); }
  Status last_error() const JOBLEDGER_EXCLUDES(error_mu_);

 private:
  struct Shared;
  void Arm();
  void Fire();

  Ledger& ledger_;
  const Clock* clock_;
  SystemClock system_clock_;
  std::shared_ptr<Shared> shared_;  // outlives handlers still queued after destruction
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  std::atomic<uint64_t> runs_{0};
  mutable Mutex error_mu_;
  Status last_error_ JOBLEDGER_GUARDED_BY(error_mu_);
};

}  // namespace jobledger

#endif  // JOBLEDGER_SCHEDULER_H_
