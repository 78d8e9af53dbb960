// The injected clock. Every timestamp jobledger records comes from a Clock given in
// the options, so tests and tools control time and nothing ever sleeps to wait for it.

#ifndef JOBLEDGER_CLOCK_H_
#define JOBLEDGER_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace jobledger {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;

// Microseconds since the Unix epoch (UTC). Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
};

// The system's real-time clock. It may step backwards (NTP); the event log clamps.
class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_micros = 0) : now_(start_micros) {}
  int64_t NowMicros() const override { return now_.load(std::memory_order_acquire); }
  void Set(int64_t micros) { now_.store(micros, std::memory_order_release); }
  void Advance(int64_t delta_micros) { now_.fetch_add(delta_micros, std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace jobledger

#endif  // JOBLEDGER_CLOCK_H_
