// jobledger: a thin main over the command library (tools/cli.h).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  jobledger::CliEnvironment env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  env.stdout_is_tty = isatty(STDOUT_FILENO) == 1;
  env.stderr_is_tty = isatty(STDERR_FILENO) == 1;
  return jobledger::RunCli(args, std::cout, std::cerr, env);
}
