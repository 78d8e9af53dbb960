// Test-only hooks: named points in the write paths where a crash test can stop the
// process at a known moment (see tests/crash). Production code calls
// CrashPoint(name), which costs one atomic load when no hook is set (always, outside
// tests).
//
// Points:
//   append.before_write   a group is decided and about to be written
//   append.after_write    the group is written, not yet acknowledged to any caller
//   import.after_chunk    replay's Import appended a chunk and goes on to the next
//   maintain.before_flush    an open or close is about to flush the memtables
//   maintain.before_compact  an open or close is about to compact a family's level 0
//   maintain.after_compact   that compaction finished
//   fanout.next_chunk     a chunk of a fan-out committed; the next is about to be queued
// Projection rebuilds have their own stop points (RebuildOptions::test_stop).

#ifndef JOBLEDGER_LEDGER_TEST_HOOKS_H_
#define JOBLEDGER_LEDGER_TEST_HOOKS_H_

namespace jobledger::testing {

using CrashHook = void (*)(const char* point);

// Installs `hook` (nullptr removes it). It runs on the thread reaching the point.
void SetCrashHook(CrashHook hook);

// Calls the hook, if one is set, with `point`.
void CrashPoint(const char* point);

}  // namespace jobledger::testing

#endif  // JOBLEDGER_LEDGER_TEST_HOOKS_H_
