// Shared pieces of the command line: global options, opening the ledger as a writer
// or a reader, argument parsing, and how outcomes become output and exit statuses.

#ifndef JOBLEDGER_TOOLS_CLI_INTERNAL_H_
#define JOBLEDGER_TOOLS_CLI_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "jobledger/ledger.h"
#include "jobledger/time_text.h"
#include "jobledger/projection_manager.h"
#include "jobledger/read_models.h"
#include "tools/cli.h"

namespace jobledger::cli {

struct Globals {
  std::string db;                 // --db; Default: $JOBLEDGER_DB, else ./jobledger-data
  std::string now;                // --now TIME
  std::string actor;              // --actor; Default: cli:$USER
  std::string request_id;         // --request-id
  std::string output = "json";    // --output json|table|text
  std::string as_of;              // --as-of TIME (reads)
  int64_t at_seq = -1;            // --at-seq N (reads)
  double lock_timeout = 30;       // --lock-timeout SECONDS (writes)
  // --region, --account-id: a new ledger's (default us-east-1, 123456789012); for an
  // existing one, checked against the ledger's own (unset: the ledger's apply).
  std::optional<std::string> region;
  std::optional<std::string> account_id;
};

// Why a command failed, as the AWS CLI reports it.
struct Failure {
  int exit = kExitFailure;
  std::string message;
};

// One run of the command line.
class Context {
 public:
  Context(std::ostream& out, std::ostream& err, const CliEnvironment& env, Globals& globals)
      : out_(out), err_(err), env_(env), g_(globals) {}

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  const Globals& globals() const { return g_; }
  const CliEnvironment& env() const { return env_; }

  // The ledger folder, after defaults.
  std::string DbPath() const;
  RequestContext Request() const;
  // --now in microseconds, or the clock.
  StatusOr<int64_t> Now() const;

  // Whether opening a writer runs the time-driven work due by --now first: the
  // service's operations and `advance` do; maintenance commands never append.
  enum class Advance { kToNow, kNever };
  // Opens the ledger to write (creating it), waiting up to --lock-timeout for another
  // writer, and with Advance::kToNow advances it to --now before the command.
  Status OpenWriter(Advance advance = Advance::kToNow);
  // Opens the ledger to write on the system clock, for a long-running server: its
  // time-driven work is done by a scheduler as time passes, and reads answer "now" as
  // the clock moves.
  Status OpenLiveWriter();
  // Opens the ledger to read, as a RocksDB secondary instance: nothing in the folder
  // is written, and a live writer may hold it.
  Status OpenReader();

  // Events the writer's opening advance appended (rollout windows, timeouts).
  uint64_t advanced() const { return advanced_; }
  Ledger& ledger() { return *ledger_; }
  ProjectionManager& projections() { return *projections_; }
  ReadModels& reads() { return *reads_; }

  // The point a read answers for (--as-of / --at-seq), with --now as "now".
  StatusOr<ReadPoint> Point() const;

  // Prints the outcome of an AWS operation: `json` on success; the AWS error line on
  // rejection. Returns the exit status.
  int Report(const Status& status, const std::string& operation, const std::string& json = "");
  int Usage(const std::string& message);
  int Fail(const std::string& message);

  // A progress bar on stderr when it is a terminal; nothing otherwise.
  void Progress(const std::string& what, uint64_t done, uint64_t total);
  void EndProgress();

 private:
  Status OpenProjections();

  std::ostream& out_;
  std::ostream& err_;
  const CliEnvironment& env_;
  Globals& g_;
  bool live_ = false;                          // OpenLiveWriter: on system_clock_
  SystemClock system_clock_;
  std::unique_ptr<ManualClock> fixed_clock_;   // "now" of the reads
  std::unique_ptr<ManualClock> writer_clock_;  // the writer ledger's clock
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<ProjectionManager> projections_;
  std::unique_ptr<ReadModels> reads_;
  bool progress_shown_ = false;
  uint64_t advanced_ = 0;
};

// Returns from the enclosing command with the exit status of `expr`'s failure, as
// Context::Report gives it: the AWS error line naming `operation` for a rejection,
// 252 for bad input, 255 otherwise. `operation` is "" for the ledger's own commands
// (verify, export, ...), which the AWS rules never reject.
#define JL_TRY(ctx, operation, expr)                        \
  do {                                                      \
    ::jobledger::Status jl_s_ = (expr);                     \
    if (!jl_s_.ok()) return (ctx).Report(jl_s_, operation); \
  } while (0)

// An argument that may be "file://PATH": the file's contents; else the text itself.
StatusOr<std::string> ArgumentText(const std::string& value, const std::string& flag);

}  // namespace jobledger::cli

#endif  // JOBLEDGER_TOOLS_CLI_INTERNAL_H_
