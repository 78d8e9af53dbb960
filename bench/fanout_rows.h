// Fan-out: CreateJob over one large thing group, in-process, sync off, with the jobs
// projection inline. Reports the seconds it takes, the cost per queued execution
// against the cost of one device update measured on the same ledger, and the longest
// wait of another caller (one small append after another) during the fan-out.

#ifndef JOBLEDGER_BENCH_FANOUT_ROWS_H_
#define JOBLEDGER_BENCH_FANOUT_ROWS_H_

#include <cstdint>
#include <string>

#include "jobledger/status.h"

namespace jobledger::bench {

struct Fanout {
  uint64_t things = 0;
  double create_s = 0;               // CreateJob over the group, until it returned
  double us_per_execution = 0;       // create_s / things
  double us_per_device_update = 0;   // one UpdateJobExecution, one caller
  double max_stall_ms = 0;           // the longest any other caller waited meanwhile
  double plan_s = 0;                 // CreateJob with a rollout (1,000 a minute) over the
                                     // same group, until its plan is whole
  double plan_max_stall_ms = 0;      // the longest any other caller waited meanwhile
};

// Builds a ledger in `dir` with one group of `things` things, then measures.
StatusOr<Fanout> MeasureFanout(const std::string& dir, uint64_t things);

}  // namespace jobledger::bench

#endif  // JOBLEDGER_BENCH_FANOUT_ROWS_H_
