#include "jobledger/scheduler.h"

#include <boost/asio/post.hpp>

#include <chrono>

namespace jobledger {

// Set false when the scheduler goes away; handlers already queued check it first.
struct AdvanceScheduler::Shared {
  std::atomic<bool> alive{true};
  std::atomic<bool> started{false};
};

AdvanceScheduler::AdvanceScheduler(Ledger& ledger, boost::asio::any_io_executor executor,
                                   const Clock* clock)
    : ledger_(ledger),
      clock_(clock != nullptr ? clock : &system_clock_),
      shared_(std::make_shared<Shared>()),
      strand_(boost::asio::make_strand(std::move(executor))),
      timer_(strand_) {}

AdvanceScheduler::~AdvanceScheduler() {
  Stop();
  shared_->alive = false;
}

void AdvanceScheduler::Start() {
  shared_->started = true;
  std::weak_ptr<Shared> weak = shared_;
  ledger_.SetDueListener([this, weak] {
    auto shared = weak.lock();
    if (shared && shared->alive && shared->started) Poke();
  });
  Poke();
}

void AdvanceScheduler::Stop() {
  shared_->started = false;
  ledger_.SetDueListener(nullptr);
  std::shared_ptr<Shared> shared = shared_;
  boost::asio::post(strand_, [this, shared] {
    if (shared->alive) timer_.cancel();
  });
}

void AdvanceScheduler::Poke() {
  std::shared_ptr<Shared> shared = shared_;
  boost::asio::post(strand_, [this, shared] {
    if (shared->alive && shared->started) Arm();
  });
}

Status AdvanceScheduler::last_error() const {
  MutexLock lock(&error_mu_);
  return last_error_;
}

// Runs on the strand.
void AdvanceScheduler::Arm() {
  timer_.cancel();
  StatusOr<std::optional<int64_t>> due = ledger_.NextDue();
  if (!due.ok()) {
    MutexLock lock(&error_mu_);
    last_error_ = due.status();
    return;
  }
  if (!due->has_value()) return;
  const int64_t wait = **due - clock_->NowMicros();
  std::shared_ptr<Shared> shared = shared_;
  if (wait <= 0) {
    boost::asio::post(strand_, [this, shared] {
      if (shared->alive && shared->started) Fire();
    });
    return;
  }
  timer_.expires_after(std::chrono::microseconds(wait));
  timer_.async_wait([this, shared](const boost::system::error_code& ec) {
    if (ec || !shared->alive || !shared->started) return;  // canceled or re-armed
    Fire();
  });
}

// Runs on the strand.
void AdvanceScheduler::Fire() {
  StatusOr<AdvanceResult> r = ledger_.AdvanceTo(clock_->NowMicros());
  if (!r.ok()) {
    MutexLock lock(&error_mu_);
    last_error_ = r.status();
  }
  ++runs_;
  Arm();
}

}  // namespace jobledger
