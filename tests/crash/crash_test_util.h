// The crash tests' side of tests/crash/crash_child.cc: starting the child and reading
// its report lines (checking the recovered ledger is tests/crash/recovery_check.h).

#ifndef JOBLEDGER_TESTS_CRASH_CRASH_TEST_UTIL_H_
#define JOBLEDGER_TESTS_CRASH_CRASH_TEST_UTIL_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/ledger/sample_events.h"

extern char** environ;

namespace jobledger::crash {

using testing::TempDir;

// JOBLEDGER_SEED, or `fallback`; printed so a failure can be replayed.
inline uint64_t TestSeed(uint64_t fallback) {
  uint64_t seed = fallback;
  const char* env = std::getenv("JOBLEDGER_SEED");
  if (env != nullptr && *env != '\0') seed = std::strtoull(env, nullptr, 0);
  std::cout << "[ seed     ] " << seed << " (replay: JOBLEDGER_SEED=" << seed << ")\n";
  return seed;
}

// The child process: its report pipe (its fd 3) and its stdin, which the test keeps
// open for as long as it wants the child to run.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    signal(SIGPIPE, SIG_IGN);  // a write to a child that died fails instead
    int report[2], input[2];
    if (pipe2(report, O_CLOEXEC) != 0 || pipe2(input, O_CLOEXEC) != 0) {
      error_ = "pipe2 failed";
      return;
    }
    std::vector<std::string> argv_text = {JOBLEDGER_CRASH_CHILD};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, report[1], 3);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(report[1]);
    close(input[0]);
    report_fd_ = report[0];
    stdin_fd_ = input[1];
    if (rc != 0) {
      error_ = std::string("posix_spawn ") + argv_text[0] + ": " + strerror(rc);
      pid_ = -1;
    }
    command_ = argv_text[1];
    for (size_t i = 2; i < argv_text.size(); ++i) command_ += " " + argv_text[i];
  }
  ~Child() {
    if (pid_ > 0) {
      Kill();
      Wait();
    }
    CloseStdin();
    if (report_fd_ >= 0) close(report_fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  const std::string& command() const { return command_; }

  // The next whole line the child reported; false at end of file (the child is gone).
  bool NextLine(std::string* line) {
    for (;;) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        *line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return true;
      }
      char chunk[4096];
      const ssize_t n = read(report_fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;  // a partial last line cannot happen: one write() per line
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // The next line if the child has written it already; false otherwise (never waits).
  bool NextLineIfWritten(std::string* line) {
    if (buffer_.find('\n') == std::string::npos) {
      pollfd p{report_fd_, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0 || (p.revents & (POLLIN | POLLHUP)) == 0) return false;
    }
    return NextLine(line);
  }

  void Kill() {
    if (pid_ > 0) kill(pid_, SIGKILL);
  }
  // Writes `bytes` bytes to the child's stdin: a paced child's grant (see crash_child.cc).
  bool Grant(size_t bytes = 1) {
    const std::string grant(bytes, 'g');
    return stdin_fd_ >= 0 &&
           write(stdin_fd_, grant.data(), grant.size()) == static_cast<ssize_t>(grant.size());
  }
  void CloseStdin() {
    if (stdin_fd_ >= 0) close(stdin_fd_);
    stdin_fd_ = -1;
  }
  // The wait status (see waitpid); -1 if the child was never started.
  int Wait() {
    if (pid_ <= 0) return wait_status_;
    while (waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return wait_status_;
  }

 private:
  pid_t pid_ = -1;
  int report_fd_ = -1;
  int stdin_fd_ = -1;
  int wait_status_ = -1;
  std::string buffer_;
  std::string error_;
  std::string command_;
};

inline std::string DescribeWaitStatus(int status) {
  if (status == -1) return "not started";
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "wait status " + std::to_string(status);
}

struct Range {
  uint64_t first = 0;
  uint64_t last = 0;
  friend bool operator==(const Range&, const Range&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const Range& r) {
  return os << "[" << r.first << ".." << r.last << "]";
}

// What the child reported, parsed.
struct Trace {
  struct Group {
    std::vector<std::string> rids;  // in decide (= sequence) order
    Range range;
    bool before_write = false;  // "B": the write was about to start
    bool written = false;       // "W": the write returned
  };

  std::set<std::string> attempted;
  std::map<std::string, uint64_t> attempted_events;  // log mode: events per request
  std::map<std::string, Range> decided;
  std::map<std::string, std::optional<Range>> acked;  // the range, when the child knew it
  std::map<std::string, std::optional<Range>> retried;
  std::map<std::string, std::string> rejected;
  std::vector<Group> groups;
  std::vector<std::string> failures;
  std::vector<std::string> others;  // O, N, P, I, R, S, X, Z lines, in order
  uint64_t acks = 0;
  uint64_t lines = 0;

  // Adds one line; returns its kind ('K', 'D', ...).
  char Add(const std::string& line) {
    ++lines;
    std::istringstream in(line);
    std::string kind, rid;
    in >> kind;
    if (kind.size() != 1) {
      failures.push_back("unparsable report line: " + line);
      return '?';
    }
    auto read_range = [&]() -> std::optional<Range> {
      Range r;
      if (in >> r.first >> r.last) return r;
      return std::nullopt;
    };
    switch (kind[0]) {
      case 'A': {
        in >> rid;
        attempted.insert(rid);
        uint64_t events = 0;
        if (in >> events) attempted_events[rid] = events;
        break;
      }
      case 'D': {
        in >> rid;
        std::optional<Range> r = read_range();
        if (!r) {
          failures.push_back("bad D line: " + line);
          break;
        }
        if (!decided.emplace(rid, *r).second) failures.push_back("decided twice: " + line);
        if (groups.empty() || groups.back().before_write) groups.emplace_back();
        Group& g = groups.back();
        if (g.rids.empty()) g.range.first = r->first;
        g.range.last = r->last;
        g.rids.push_back(rid);
        break;
      }
      case 'B':
        if (groups.empty() || groups.back().before_write) groups.emplace_back();
        groups.back().before_write = true;
        break;
      case 'W':
        if (groups.empty() || !groups.back().before_write) {
          failures.push_back("W without B");
          break;
        }
        groups.back().written = true;
        break;
      case 'K':
        in >> rid;
        acked[rid] = read_range();
        ++acks;
        break;
      case 'Y':
        in >> rid;
        retried[rid] = read_range();
        break;
      case 'E': {
        in >> rid;
        std::string code;
        in >> code;
        rejected[rid] = code;
        break;
      }
      case 'F':
        failures.push_back(line);
        break;
      default:
        others.push_back(line);
        break;
    }
    return kind[0];
  }

  // Lines of kind `kind` ("O", "N", ...), without the kind.
  std::vector<std::string> Others(char kind) const {
    std::vector<std::string> out;
    for (const std::string& l : others) {
      if (!l.empty() && l[0] == kind) out.push_back(l.size() > 2 ? l.substr(2) : "");
    }
    return out;
  }

  size_t largest_group() const {
    size_t n = 0;
    for (const Group& g : groups) n = std::max(n, g.rids.size());
    return n;
  }
};

// Reads the child's lines until `stop` says so (true: stop reading) or the child
// is gone; returns false if the child was gone first.
inline bool ReadUntil(Child& child, Trace& trace, const std::function<bool(char)>& stop) {
  std::string line;
  while (child.NextLine(&line)) {
    if (stop(trace.Add(line))) return true;
  }
  return false;
}

// Adds every line the child has written so far, without waiting for more.
inline void ReadAvailable(Child& child, Trace& trace) {
  std::string line;
  while (child.NextLineIfWritten(&line)) trace.Add(line);
}

inline void ReadToEnd(Child& child, Trace& trace) {
  ReadUntil(child, trace, [](char) { return false; });
}

}  // namespace jobledger::crash

#endif  // JOBLEDGER_TESTS_CRASH_CRASH_TEST_UTIL_H_
