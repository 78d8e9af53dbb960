// Test support: a ledger folder opened with plain RocksDB and every column family it
// has, for tests that look at or damage stored rows underneath the ledger (the
// corruption, replay, command-line and fault suites).

#ifndef JOBLEDGER_TESTS_SUPPORT_RAW_DB_H_
#define JOBLEDGER_TESTS_SUPPORT_RAW_DB_H_

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobledger/event.h"

namespace jobledger::testing {

// An events-family value: hash:32 | the event's canonical bytes (ledger/internal/keys.h).
struct StoredEvent {
  Hash hash{};
  std::string bytes;
};
// Empty when the value is shorter than a hash.
StoredEvent SplitStoredEvent(std::string_view value);
std::string JoinStoredEvent(const Hash& hash, std::string_view bytes);
// The meta family's head record: seq:be64 hash:32 recordedAt:be64.
std::string EncodeHeadRecord(uint64_t sequence, const Hash& hash, int64_t recorded_at_micros);

class RawDb {
 public:
  // Opens read-write; null with *status set when RocksDB refuses.
  static std::unique_ptr<RawDb> Open(const std::string& path, rocksdb::Status* status);
  // The handles are destroyed before the DB (Debian's RocksDB asserts otherwise).
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  rocksdb::DB* db() { return db_; }
  // The family's handle; null when the folder has no such family.
  rocksdb::ColumnFamilyHandle* cf(const std::string& name) const;
  rocksdb::Status Get(const std::string& family, const std::string& key, std::string* value);
  rocksdb::Status Put(const std::string& family, const std::string& key, std::string_view value);
  rocksdb::Status Delete(const std::string& family, const std::string& key);
  // Event `sequence` as stored (NotFound when it is not).
  rocksdb::Status GetEvent(uint64_t sequence, StoredEvent* out);
  // The live SST files of `family`: (absolute path, data block bytes) in file order.
  std::vector<std::pair<std::string, uint64_t>> SstFiles(const std::string& family);

 private:
  RawDb() = default;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

}  // namespace jobledger::testing

// Asserts (GoogleTest) that a rocksdb::Status is OK, printing it when not.
#define ASSERT_ROCKS_OK(expr)                                    \
  do {                                                           \
    const ::rocksdb::Status rocks_status_ = (expr);              \
    ASSERT_TRUE(rocks_status_.ok()) << rocks_status_.ToString(); \
  } while (0)

#endif  // JOBLEDGER_TESTS_SUPPORT_RAW_DB_H_
