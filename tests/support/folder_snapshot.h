// Test support: whole-file reads and writes, and snapshots of a folder's bytes, for
// tests that check a command left a ledger's files byte-identical (tests/tools,
// tests/faults).

#ifndef JOBLEDGER_TESTS_SUPPORT_FOLDER_SNAPSHOT_H_
#define JOBLEDGER_TESTS_SUPPORT_FOLDER_SNAPSHOT_H_

#include <map>
#include <string>

namespace jobledger::testing {

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);

// Every entry of a folder: relative name -> "<size> bytes, fnv <FNV-1a of the bytes>";
// folders as "dir".
using Snapshot = std::map<std::string, std::string>;
Snapshot SnapshotOf(const std::string& dir);
// What changed from `before` to `after`, one "\n  removed|changed|added ..." line per
// entry; empty when nothing did.
std::string Differences(const Snapshot& before, const Snapshot& after);

}  // namespace jobledger::testing

#endif  // JOBLEDGER_TESTS_SUPPORT_FOLDER_SNAPSHOT_H_
