// Test support: random command histories over a small world, for the suites that
// check properties after any history (the projections' drift and rebuild checks,
// replay's as-of comparisons at hidden cuts).

#ifndef JOBLEDGER_TESTS_SUPPORT_RANDOM_COMMANDS_H_
#define JOBLEDGER_TESTS_SUPPORT_RANDOM_COMMANDS_H_

#include <cstdint>
#include <random>
#include <string>

#include "jobledger/clock.h"
#include "jobledger/ledger.h"

namespace jobledger::testing {

// The ids a history draws from: jobs j0.., things t0.., groups g0...
struct RandomWorld {
  int jobs = 6;
  int things = 6;
  int groups = 2;
  // A third of the commands carry a fresh request id ("req-N").
  bool request_ids = false;
  // The clock moves 0..3 s before each command, and a tenth of the time steps move
  // it back 1..30 s instead (the log clamps).
  bool clock_jitter = false;
};

struct RandomCounts {
  int accepted = 0;
  int rejected = 0;
  uint64_t requests = 0;  // request ids handed out
};

// One random command (or a time step: the clock moves 5..150 s and AdvanceTo runs).
// A rejection must carry an AWS error; a failure without one (storage) fails the test.
// `job` and `thing`, when given, receive the ids the step drew.
void RandomStep(std::mt19937_64& rng, const RandomWorld& world, Ledger& ledger, ManualClock& clock,
                RandomCounts* counts, std::string* job = nullptr, std::string* thing = nullptr);

}  // namespace jobledger::testing

#endif  // JOBLEDGER_TESTS_SUPPORT_RANDOM_COMMANDS_H_
