#include "tools/cli.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "jobledger/jobs_projection.h"
#include "tools/cli_internal.h"
#include "tools/command.h"

namespace jobledger {
namespace cli {

std::string Context::DbPath() const {
  if (!g_.db.empty()) return g_.db;
  if (env_.getenv) {
    if (auto db = env_.getenv("JOBLEDGER_DB"); db && !db->empty()) return *db;
  }
  return "jobledger-data";
}

RequestContext Context::Request() const {
  RequestContext r;
  r.actor = g_.actor;
  if (r.actor.empty()) {
    std::optional<std::string> user = env_.getenv ? env_.getenv("USER") : std::nullopt;
    r.actor = "cli:" + (user && !user->empty() ? *user : std::string("unknown"));
  }
  r.request_id = g_.request_id;
  return r;
}

StatusOr<int64_t> Context::Now() const {
  if (!g_.now.empty()) {
    std::optional<int64_t> t = ParseTime(g_.now);
    if (!t) {
      return InvalidArgumentError("--now: must be RFC 3339 (2026-11-27T10:00:00Z) or epoch seconds, got '" +
                                  g_.now + "'");
    }
    return *t;
  }
  SystemClock system;
  return env_.clock != nullptr ? env_.clock->NowMicros() : system.NowMicros();
}

Status Context::OpenProjections() {
  std::vector<ProjectionManager::Entry> entries;
  entries.push_back({std::make_unique<JobsProjection>(), ProjectionMode::kInline});
  JOBLEDGER_ASSIGN_OR_RETURN(projections_, ProjectionManager::Open(ledger_->log(), std::move(entries)));
  JOBLEDGER_ASSIGN_OR_RETURN(int64_t now, Now());
  fixed_clock_ = std::make_unique<ManualClock>(now);
  const Clock* reads_clock = live_ ? static_cast<const Clock*>(&system_clock_) : fixed_clock_.get();
  reads_ = std::make_unique<ReadModels>(ledger_->log(), *projections_, ledger_->context(), reads_clock);
  return Status();
}

Status Context::OpenWriter(Advance advance) {
  JOBLEDGER_ASSIGN_OR_RETURN(int64_t now, Now());
  LedgerOptions options;
  options.region = g_.region;
  options.account_id = g_.account_id;
  // A writing command acts at --now (or the clock's time now); a server as time passes.
  auto clock = std::make_unique<ManualClock>(now);
  options.clock = live_ ? static_cast<const Clock*>(&system_clock_) : clock.get();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(g_.lock_timeout * 1000));
  for (;;) {
    StatusOr<std::unique_ptr<Ledger>> opened = Ledger::Open(options, DbPath());
    if (opened.ok()) {
      ledger_ = std::move(opened).value();
      break;
    }
    // Another writer holds the folder: wait for it, never fail merely for that.
    if (opened.status().code() != StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline) {
      return opened.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  writer_clock_ = std::move(clock);  // the ledger's clock lives as long as the context
  // A fan-out an earlier process left unfinished (it was killed) is resumed by the
  // open; finish it before this command.
  JOBLEDGER_RETURN_IF_ERROR(ledger_->AwaitFanOuts());
  JOBLEDGER_RETURN_IF_ERROR(OpenProjections());
  if (advance == Advance::kNever) return Status();
  // Time-driven work due by now happens before the command.
  JOBLEDGER_ASSIGN_OR_RETURN(AdvanceResult advanced, ledger_->AdvanceTo(now));
  advanced_ = advanced.appended;
  return Status();
}

Status Context::OpenLiveWriter() {
  live_ = true;
  return OpenWriter(Advance::kToNow);
}

Status Context::OpenReader() {
  const std::string path = DbPath();
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
    return NotFoundError("no ledger at '" + path + "' (set --db or JOBLEDGER_DB)");
  }
  LedgerOptions options;
  options.region = g_.region;
  options.account_id = g_.account_id;
  options.mode = OpenMode::kSecondary;
  JOBLEDGER_ASSIGN_OR_RETURN(ledger_, Ledger::Open(options, path));
  return OpenProjections();
}

StatusOr<ReadPoint> Context::Point() const {
  ReadPoint p;
  if (!g_.as_of.empty() && g_.at_seq >= 0) {
    return InvalidArgumentError("--as-of and --at-seq: give one of them, not both");
  }
  if (!g_.as_of.empty()) {
    std::optional<int64_t> t = ParseTime(g_.as_of);
    if (!t) return InvalidArgumentError("--as-of: must be RFC 3339 or epoch seconds, got '" + g_.as_of + "'");
    JOBLEDGER_ASSIGN_OR_RETURN(p.sequence, ledger_->log().LastSequenceAtOrBefore(*t));
    p.now_micros = *t;  // an as-of reading's "now" is the as-of time
    return p;
  }
  if (g_.at_seq >= 0) {
    p.sequence = static_cast<uint64_t>(g_.at_seq);
    if (p.sequence > ledger_->log().head().sequence) {
      return InvalidArgumentError("--at-seq: " + std::to_string(g_.at_seq) + " is beyond the head " +
                                  std::to_string(ledger_->log().head().sequence));
    }
  }
  if (!g_.now.empty()) {
    JOBLEDGER_ASSIGN_OR_RETURN(int64_t now, Now());
    p.now_micros = now;
  }
  return p;
}

namespace {

// --output text: one line per value, "path<TAB>value", in document order (greppable,
// stable). --output table: the same as two aligned columns.
void Leaves(const nlohmann::ordered_json& j, const std::string& path,
            std::vector<std::pair<std::string, std::string>>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      Leaves(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Leaves(j[i], path + "[" + std::to_string(i) + "]", out);
  } else {
    out->emplace_back(path, j.is_string() ? j.get<std::string>() : j.dump());
  }
}

std::string Reformat(const std::string& json, const std::string& output) {
  if (output == "json") return json;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(json, nullptr, false);
  if (j.is_discarded()) return json;
  std::vector<std::pair<std::string, std::string>> leaves;
  Leaves(j, "", &leaves);
  size_t width = 0;
  for (const auto& [k, v] : leaves) width = std::max(width, k.size());
  std::string text;
  for (const auto& [k, v] : leaves) {
    text += k;
    text += output == "table" ? std::string(width - k.size() + 2, ' ') : std::string("\t");
    text += v;
    text += "\n";
  }
  if (!text.empty()) text.pop_back();
  return text;
}

}  // namespace

int Context::Report(const Status& status, const std::string& operation, const std::string& json) {
  // A write may leave chunks to follow its answer (a large fan-out, a cancel over many
  // executions): this process finishes them before it reports, so the next command,
  // a reader's included, sees the whole of it.
  if (ledger_ != nullptr) {
    Status finished = ledger_->AwaitFanOuts();
    if (!finished.ok() && status.ok()) return Fail(finished.message());
  }
  if (status.ok()) {
    if (!json.empty()) {
      std::string shown = Reformat(json, g_.output);
      if (!shown.empty()) out_ << shown << "\n";
    }
    return kExitOk;
  }
  if (status.aws_error() != AwsError::kNone) {
    err_ << "\nAn error occurred (" << AwsExceptionName(status.aws_error()) << ") when calling the "
         << operation << " operation: " << status.message() << "\n";
    return kExitRejected;
  }
  if (status.code() == StatusCode::kInvalidArgument) return Usage(status.message());
  return Fail(status.message());
}

int Context::Usage(const std::string& message) {
  err_ << "jobledger: error: " << message << "\n";
  return kExitUsage;
}

int Context::Fail(const std::string& message) {
  EndProgress();
  err_ << "jobledger: ledger '" << DbPath() << "': " << message << "\n";
  return kExitFailure;
}

void Context::Progress(const std::string& what, uint64_t done, uint64_t total) {
  if (!env_.stderr_is_tty) return;
  const int width = 30;
  const double fraction = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * width);
  err_ << "\r" << what << " [" << std::string(static_cast<size_t>(filled), '#')
       << std::string(static_cast<size_t>(width - filled), ' ') << "] " << done << "/" << total << std::flush;
  progress_shown_ = true;
}

void Context::EndProgress() {
  if (progress_shown_) err_ << "\n";
  progress_shown_ = false;
}

// ---- time and arguments ----

StatusOr<std::string> ArgumentText(const std::string& value, const std::string& flag) {
  static constexpr std::string_view kFile = "file://";
  if (value.rfind(kFile, 0) != 0) return value;
  const std::string path = value.substr(kFile.size());
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError(flag + ": cannot read '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void CommandSet::Add(const CommandHelp& help, std::shared_ptr<Command> command) {
  CLI::App* c = app_.add_subcommand(help.name, help.summary);
  c->footer("Example:\n  " + help.example);
  command->AddFlags(*c);
  c->callback([this, command = std::move(command)] {
    *action_ = [this, command] { return command->Run(ctx_); };
  });
}

}  // namespace cli

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const CliEnvironment& env) {
  cli::Globals globals;
  cli::Context ctx(out, err, env, globals);
  CLI::App app{"jobledger: the system of record for AWS IoT Jobs-style jobs and job executions"};
  app.name("jobledger");
  app.require_subcommand(1);
  app.fallthrough();  // global options may come after the command too
  app.add_option("--db", globals.db, "ledger folder (default: $JOBLEDGER_DB, else ./jobledger-data)");
  app.add_option("--now", globals.now, "the command's current time: RFC 3339 or epoch seconds");
  app.add_option("--actor", globals.actor, "principal recorded on the events (default: cli:$USER)");
  app.add_option("--request-id", globals.request_id, "idempotency key of a writing command");
  app.add_option("--output", globals.output, "json|table|text")->check(CLI::IsMember({"json", "table", "text"}));
  app.add_option("--as-of", globals.as_of, "read as of this time");
  app.add_option("--at-seq", globals.at_seq, "read as of this sequence (0: the empty ledger)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--lock-timeout", globals.lock_timeout, "seconds a writer waits for another (default 30)");
  // Only these flags are compared with the ledger's region and account: AWS_REGION and
  // AWS_DEFAULT_REGION are ignored, so a shell set up for AWS does not break reads.
  app.add_option_function<std::string>(
      "--region", [&globals](const std::string& v) { globals.region = v; },
      "the ledger's AWS region: a new ledger's (default us-east-1), else checked against its own");
  app.add_option_function<std::string>(
      "--account-id", [&globals](const std::string& v) { globals.account_id = v; },
      "the ledger's AWS account: a new ledger's (default 123456789012), else checked against its own");
  std::function<int()> action;
  cli::CommandSet commands(app, ctx, &action);
  cli::AddOperationCommands(commands);
  cli::AddReadCommands(commands);
  cli::AddAuditCommands(commands);
  cli::AddMaintenanceCommands(commands);
  cli::AddServeCommand(commands);
  cli::AddDemoCommand(commands);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    std::vector<CLI::App*> subs = app.get_subcommands();
    out << (subs.empty() ? app.help() : subs.front()->help());
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // A subcommand's own --help.
    if (e.get_exit_code() == 0) {
      for (CLI::App* sub : app.get_subcommands()) out << sub->help();
      return kExitOk;
    }
    if (app.get_subcommands().empty()) {
      // Name the word that is not a command, rather than "a subcommand is required".
      static const std::set<std::string> kValued = {"--db", "--now", "--actor", "--request-id", "--output",
                                                    "--as-of", "--at-seq", "--lock-timeout",
                                                    "--region", "--account-id"};
      for (size_t i = 0; i < args.size(); ++i) {
        if (kValued.count(args[i]) > 0) {
          ++i;
        } else if (!args[i].empty() && args[i][0] != '-') {
          err << "jobledger: error: unknown command '" << args[i] << "'; jobledger --help lists them\n";
          return kExitUsage;
        }
      }
    }
    err << "jobledger: error: " << e.what() << "\n";
    err << "usage: jobledger [options] <command> [parameters]; jobledger --help\n";
    return kExitUsage;
  }
  if (!action) {
    err << "jobledger: error: no command\n";
    return kExitUsage;
  }
  try {
    return action();
  } catch (const std::exception& e) {
    err << "jobledger: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace jobledger
