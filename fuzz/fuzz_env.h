// A RocksDB Env for the fuzz rigs that open a ledger per input: the default file system
// without fallocate. RocksDB preallocates every WAL and MANIFEST (tens of MiB); on
// tmpfs that allocates real pages, and it dominated the cost of an input.

#ifndef JOBLEDGER_FUZZ_FUZZ_ENV_H_
#define JOBLEDGER_FUZZ_FUZZ_ENV_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <memory>
#include <string>
#include <utility>

#include "fuzz/fuzz_util.h"
#include "tests/support/ledger_stack.h"

namespace jobledger::fuzz {

class NoFallocateFs : public rocksdb::FileSystemWrapper {
 public:
  NoFallocateFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "NoFallocateFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    rocksdb::FileOptions without = options;
    without.allow_fallocate = false;
    return target()->NewWritableFile(name, without, file, debug);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file,
                                       rocksdb::IODebugContext* debug) override {
    rocksdb::FileOptions without = options;
    without.allow_fallocate = false;
    return target()->ReopenWritableFile(name, without, file, debug);
  }
};

// One for the process; never destroyed (RocksDB may use it until exit).
inline rocksdb::Env* FuzzEnv() {
  static rocksdb::Env* env = rocksdb::NewCompositeEnv(std::make_shared<NoFallocateFs>()).release();
  return env;
}

// A ledger with its projection and read models for a fuzz rig, at `path`: the given
// clock, no fsync, FuzzEnv(). A failure to open ends the run.
inline std::unique_ptr<testing::LedgerStack> OpenFuzzLedger(const Clock* clock, const std::string& path) {
  LedgerOptions options;
  options.clock = clock;
  options.sync = false;
  options.env = FuzzEnv();
  auto stack = testing::LedgerStack::Open(options, path);
  JOBLEDGER_FUZZ_CHECK(stack.ok(), "open: " + stack.status().ToString());
  return std::move(stack).value();
}

}  // namespace jobledger::fuzz

#endif  // JOBLEDGER_FUZZ_FUZZ_ENV_H_
