// Where the writer thread spends its time, by stage: each stage's nanoseconds are
// summed while the writer works (a steady clock read at each boundary, about 20 ns).
// EventLog::writer_stats() reports them; the benchmark prints them per event.

#ifndef JOBLEDGER_LEDGER_INTERNAL_STAGES_H_
#define JOBLEDGER_LEDGER_INTERNAL_STAGES_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "jobledger/event_log.h"

namespace jobledger::internal {

using Stage = WriterStage;

struct StageClock {
  std::array<std::atomic<uint64_t>, kWriterStageCount> nanos{};
};

// The clock of the log whose writer runs on this thread (null elsewhere): decide steps
// in the ledger above the log time their parts with it.
inline thread_local StageClock* t_stage_clock = nullptr;

// Adds the time until it goes out of scope to `stage` of this thread's clock.
class ScopedStage {
 public:
  explicit ScopedStage(Stage stage) : clock_(t_stage_clock), stage_(stage) {
    if (clock_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedStage() {
    if (clock_ == nullptr) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start_)
                        .count();
    clock_->nanos[static_cast<size_t>(stage_)].fetch_add(static_cast<uint64_t>(ns),
                                                          std::memory_order_relaxed);
  }
  ScopedStage(const ScopedStage&) = delete;
  ScopedStage& operator=(const ScopedStage&) = delete;

 private:
  StageClock* clock_;
  Stage stage_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_STAGES_H_
