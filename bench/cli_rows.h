// The command line after many short-lived writers: the median wall time of a read
// (describe-job) and a write (update-job-execution) through the `jobledger` binary on
// a ledger that N earlier CLI processes wrote, against the same on a fully compacted
// copy of that ledger, measured in turns (A B A B ...).

#ifndef JOBLEDGER_BENCH_CLI_ROWS_H_
#define JOBLEDGER_BENCH_CLI_ROWS_H_

#include <string>

#include "jobledger/status.h"

namespace jobledger::bench {

struct CliDegradation {
  double read_ms = 0;             // describe-job, median, on the ledger as written
  double read_compacted_ms = 0;   // the same on the compacted copy
  double write_ms = 0;            // update-job-execution, median
  double write_compacted_ms = 0;
  int files = 0;                  // files in the ledger folder after the writes
};

// Runs `writes` CLI writes (things joining a group, then a job and its start) into
// dir/cli, copies it to dir/cli-compacted and runs `jobledger compact` there, then
// times `samples` reads and writes on each.
StatusOr<CliDegradation> MeasureCliDegradation(const std::string& binary, const std::string& dir,
                                               int writes, int samples);

}  // namespace jobledger::bench

#endif  // JOBLEDGER_BENCH_CLI_ROWS_H_
