#include "bench/cli_rows.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <vector>

namespace jobledger::bench {
namespace {

// Runs the binary with `args` (output discarded); the wall time in milliseconds, or
// an error naming the command when it does not exit 0.
StatusOr<double> TimedRun(const std::string& binary, const std::vector<std::string>& args) {
  std::vector<std::string> text = {binary};
  text.insert(text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string no_color = "NO_COLOR=1", user = "USER=bench";
  char* envp[] = {no_color.data(), user.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return InternalError("cannot start '" + binary + "'");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string shown = binary;
    for (const std::string& a : args) shown += " " + a;
    return InternalError("'" + shown + "' failed (wait status " + std::to_string(status) + ")");
  }
  return ms;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

StatusOr<CliDegradation> MeasureCliDegradation(const std::string& binary, const std::string& dir,
                                               int writes, int samples) {
  namespace fs = std::filesystem;
  const std::string db = dir + "/cli";
  const std::string compacted = dir + "/cli-compacted";
  fs::remove_all(db);
  fs::remove_all(compacted);
  const std::string job = "bench-cli";
  const std::string thing = "t1";
  for (int i = 1; i <= std::max(writes - 2, 1); ++i) {
    JOBLEDGER_RETURN_IF_ERROR(TimedRun(binary, {"--db", db, "add-thing-to-thing-group", "--thing-group-name",
                                                "fleet", "--thing-name", "t" + std::to_string(i)})
                                  .status());
  }
  JOBLEDGER_RETURN_IF_ERROR(
      TimedRun(binary, {"--db", db, "create-job", "--job-id", job, "--targets",
                        "arn:aws:iot:us-east-1:123456789012:thing/" + thing, "--document", "{}"})
          .status());
  JOBLEDGER_RETURN_IF_ERROR(
      TimedRun(binary, {"--db", db, "start-next-pending-job-execution", "--thing-name", thing}).status());
  CliDegradation out;
  for (const auto& entry : fs::directory_iterator(db)) out.files += entry.is_regular_file() ? 1 : 0;
  fs::copy(db, compacted, fs::copy_options::recursive);
  JOBLEDGER_RETURN_IF_ERROR(TimedRun(binary, {"--db", compacted, "compact"}).status());

  std::vector<double> read, read_c, write, write_c;
  for (int i = 0; i < samples; ++i) {
    for (const std::string* at : {&db, &compacted}) {
      JOBLEDGER_ASSIGN_OR_RETURN(double r, TimedRun(binary, {"--db", *at, "describe-job", "--job-id", job}));
      JOBLEDGER_ASSIGN_OR_RETURN(
          double w, TimedRun(binary, {"--db", *at, "update-job-execution", "--job-id", job, "--thing-name",
                                      thing, "--status", "IN_PROGRESS", "--status-details",
                                      "{\"sample\":\"" + std::to_string(i) + "\"}"}));
      (at == &db ? read : read_c).push_back(r);
      (at == &db ? write : write_c).push_back(w);
    }
  }
  out.read_ms = Median(read);
  out.read_compacted_ms = Median(read_c);
  out.write_ms = Median(write);
  out.write_compacted_ms = Median(write_c);
  return out;
}

}  // namespace jobledger::bench
