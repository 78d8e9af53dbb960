// One command of the command line as a unit of its own, after ldb's command classes:
// it declares its own flags (members of the unit, never shared with another command)
// and runs once the arguments are parsed. Adding a command is one class and one line
// in its file's Add*Commands; the ledger's operations are registered from
// jobledger/command_traits.h (tools/operations.cc).

#ifndef JOBLEDGER_TOOLS_COMMAND_H_
#define JOBLEDGER_TOOLS_COMMAND_H_

#include <functional>
#include <memory>
#include <string>

#include "tools/cli_internal.h"

namespace CLI {
class App;
}

namespace jobledger::cli {

class Command {
 public:
  virtual ~Command() = default;
  // Declares the command's flags on its subcommand `c`, bound to this unit's members.
  virtual void AddFlags(CLI::App& c) = 0;
  // Runs the command; returns the exit status.
  virtual int Run(Context& ctx) = 0;
};

// What a command is called and how it is shown in --help.
struct CommandHelp {
  std::string name;     // "create-job"
  std::string summary;  // one line
  std::string example;  // a whole command line
};

// Adds the subcommands to an App; the one the arguments name becomes the action.
class CommandSet {
 public:
  CommandSet(CLI::App& app, Context& ctx, std::function<int()>* action)
      : app_(app), ctx_(ctx), action_(action) {}

  void Add(const CommandHelp& help, std::shared_ptr<Command> command);
  template <typename T>
  void Add(const CommandHelp& help) {
    Add(help, std::make_shared<T>());
  }

 private:
  CLI::App& app_;
  Context& ctx_;
  std::function<int()>* action_;
};

// Registers each file's commands.
void AddOperationCommands(CommandSet& set);    // tools/operations.cc: the ledger's commands
void AddReadCommands(CommandSet& set);         // tools/reads.cc: the service's reads
void AddAuditCommands(CommandSet& set);        // tools/audit_commands.cc
void AddMaintenanceCommands(CommandSet& set);  // tools/maintenance_commands.cc
void AddServeCommand(CommandSet& set);         // tools/serve_command.cc
void AddDemoCommand(CommandSet& set);          // tools/demo.cc

}  // namespace jobledger::cli

#endif  // JOBLEDGER_TOOLS_COMMAND_H_
