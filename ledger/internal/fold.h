// The state fold: how each event changes the Ledger's write-side state. The decide
// step applies every event it appends through this function, and a rebuild applies
// the whole log through it, so the state is always a function of the log alone.

#ifndef JOBLEDGER_LEDGER_INTERNAL_FOLD_H_
#define JOBLEDGER_LEDGER_INTERNAL_FOLD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobledger/clock.h"
#include "jobledger/event.h"
#include "jobledger/status.h"
#include "ledger/internal/state.h"

namespace jobledger::internal {

// Applies `event` to the state. kDataLoss naming the sequence when the event does not
// fit the state (an execution that does not exist, a `from` that is not its status):
// the log and the state disagree.
Status ApplyEvent(const Event& event, StateStore& store);

// The rollout rate in force for a job now: maximumPerMinute, or the exponential rate
// base * factor^step capped by maximumPerMinute (default cap 1000).
int32_t RolloutRate(const JobState& job);

// The due time of a rollout window.
inline int64_t RolloutWindowDue(const JobState& job, uint64_t window) {
  return job.rollout_origin + static_cast<int64_t>(window) * kMicrosPerMinute;
}

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_FOLD_H_
