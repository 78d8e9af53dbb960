// The `jobledger` command line as a library: RunCli parses the arguments, runs the
// command against a ledger folder and writes what the AWS CLI would write. The binary
// (tools/main.cc) is a thin main over it; tests call RunCli directly.
//
// Exit status, as the AWS CLI v2: 0 success; 252 a usage error (unknown command or
// flag, malformed value); 254 the ledger rejected the request (stderr: "An error
// occurred (ExceptionName) when calling the OperationName operation: message"); 255
// any other failure (I/O, corrupt data); `verify` exits 1 when it finds a problem.

#ifndef JOBLEDGER_TOOLS_CLI_H_
#define JOBLEDGER_TOOLS_CLI_H_

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "jobledger/clock.h"

namespace jobledger {

inline constexpr int kExitOk = 0;
inline constexpr int kExitProblem = 1;  // verify found a problem
inline constexpr int kExitUsage = 252;
inline constexpr int kExitRejected = 254;
inline constexpr int kExitFailure = 255;

// What the command line reads from its surroundings; tests replace it.
struct CliEnvironment {
  // Environment variables (JOBLEDGER_DB, NO_COLOR, USER). Default: none set.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  bool stdout_is_tty = false;
  bool stderr_is_tty = false;
  // The clock when --now is not given. Default: nullptr, the system clock.
  const Clock* clock = nullptr;
};

// `args` excludes the program name.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const CliEnvironment& env);

}  // namespace jobledger

#endif  // JOBLEDGER_TOOLS_CLI_H_
