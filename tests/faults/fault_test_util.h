// Shared pieces of the storage-fault suites: seeds, scratch folders, a planned history
// of appends and its checks, folder snapshots, raw RocksDB access and the CLI binary.

#ifndef JOBLEDGER_TESTS_FAULTS_FAULT_TEST_UTIL_H_
#define JOBLEDGER_TESTS_FAULTS_FAULT_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/event.h"
#include "jobledger/event_log.h"
#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"
#include "jobledger/read_models.h"
#include "jobledger/status.h"
#include "tests/support/folder_snapshot.h"
#include "tests/support/ledger_stack.h"
#include "tests/support/raw_db.h"

namespace jobledger::faults {

inline constexpr int64_t kSecond = 1'000'000;
inline constexpr int64_t kT0 = 1'795'773'600 * kSecond;  // 2026-11-27T10:00:00Z

bool Contains(std::string_view haystack, std::string_view needle);

// The suite's seed: $JOBLEDGER_SEED if set, else a fresh one. Printed (and recorded
// as a test property) so that a failure can be replayed.
uint64_t TestSeed();

// A fresh folder (on /dev/shm when writable, so syncs cost nothing), removed with
// everything in it.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  bool ok() const { return !root_.empty(); }
  const std::string& path() const { return root_; }
  std::string Sub(const std::string& name) const { return root_ + "/" + name; }

 private:
  std::string root_;
};

// ---- a planned history ----

// Append number `i` (1-based) of a deterministic history: 1 to 3 events whose bodies
// and sizes vary with `i`, with request id "<tag>-<i>".
AppendRequest PlannedAppend(uint64_t i, const std::string& tag = "plan");

// The appends of a plan with their sequences.
struct Plan {
  std::vector<AppendRequest> appends;
  std::vector<uint64_t> last_sequence;  // after append k (0-based)
  static Plan Make(size_t count, const std::string& tag = "plan");
  // How many events appends [0, k) hold.
  uint64_t EventsBefore(size_t k) const { return k == 0 ? 0 : last_sequence[k - 1]; }
  // Whether `sequence` ends an append (or is 0).
  bool IsAppendBoundary(uint64_t sequence) const;
  // The planned event at `sequence` (1-based).
  const NewEvent& EventAt(uint64_t sequence) const;
};

// Checks that `log` holds exactly plan events 1..head, densely, with a valid chain,
// their stored indexes right, and head at an append boundary (appends are atomic).
// Returns the head sequence.
uint64_t ExpectPlanPrefix(const EventLog& log, const Plan& plan);

// Checks one stored event against what was appended.
void ExpectEventIs(const Event& stored, const NewEvent& planned, const std::string& request_id);

// ---- a ledger with its read models ----

using ::jobledger::testing::LedgerStack;  // tests/support/ledger_stack.h

// Step `i` (0-based) of a deterministic workload of Ledger commands: thing k joins
// "fleet", job "job-k" is created on it, the device starts it, the device finishes
// it (k = i / 4). Every step is accepted on an intact ledger.
Status RunWorkloadStep(Ledger& ledger, uint64_t i);
// Checks that the effect of steps [0, acknowledged) is visible through the read
// models, and that no step beyond `attempted` left a trace.
void ExpectWorkloadVisible(LedgerStack& stack, uint64_t acknowledged, uint64_t attempted);
// CheckState and every check of VerifyLedger (chain, indexes, state, projections).
void ExpectLedgerSound(LedgerStack& stack);

// ---- folders ----

// Folder snapshots and whole-file reads and writes: tests/support/folder_snapshot.h.
using ::jobledger::testing::Differences;
using ::jobledger::testing::ReadFile;
using ::jobledger::testing::Snapshot;
using ::jobledger::testing::SnapshotOf;
using ::jobledger::testing::WriteFile;
// Copies a folder (files only, recursively).
void CopyFolder(const std::string& from, const std::string& to);
// Files of `dir` whose names end in `suffix`, sorted by name.
std::vector<std::string> FilesEndingIn(const std::string& dir, const std::string& suffix);

// ---- RocksDB underneath ----

using ::jobledger::testing::EncodeHeadRecord;  // tests/support/raw_db.h
using ::jobledger::testing::JoinStoredEvent;
using ::jobledger::testing::RawDb;
using ::jobledger::testing::StoredEvent;

// Flips the bits of byte `offset` of a file.
void FlipByte(const std::string& path, uint64_t offset);

// ---- the command line ----

struct CliRun {
  std::vector<std::string> args;
  int exit = -1;
  std::string out, err;
  std::string What() const;
};

// Runs the built `jobledger` binary with `args` (stdout and stderr captured through
// files in `scratch`), with a clean environment.
CliRun RunCliBinary(const std::vector<std::string>& args, const std::string& scratch);

}  // namespace jobledger::faults

#endif  // JOBLEDGER_TESTS_FAULTS_FAULT_TEST_UTIL_H_
