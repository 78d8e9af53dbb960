// The benchmark's baselines: plain RocksDB, SQLite and PostgreSQL given the very event
// bytes a ledger stored. Each returns events per second.

#ifndef JOBLEDGER_BENCH_BASELINES_H_
#define JOBLEDGER_BENCH_BASELINES_H_

#include <rocksdb/db.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "jobledger/status.h"

namespace jobledger::bench {

using Steady = std::chrono::steady_clock;

inline double Seconds(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

[[noreturn]] void Die(const std::string& what, const Status& s);

template <typename T>
T Must(StatusOr<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}
inline void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}

// A ledger folder opened with plain RocksDB, read-only.
class RawDb {
 public:
  explicit RawDb(const std::string& path);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Scans the events family; with `decode`, decodes every event and folds execution
  // status changes into per-job counters (a minimal projection). Returns the count.
  uint64_t ScanDecodeFold(bool decode);
  // One seek to an event key, then a get of it: the cheapest point read RocksDB does.
  void SeekThenGet(uint64_t seq);
  // Calls fn(key, value) for the first `limit` events, in order.
  void ForEachEvent(uint64_t limit, const std::function<void(std::string_view, std::string_view)>& fn);

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
};

// Writes the first `count` events of `source` (key and stored value) into a fresh
// RocksDB at `path`, `batch` per WriteBatch. Only the writes are timed.
double RawPut(RawDb& source, const std::string& path, uint64_t count, size_t batch, bool sync);

// As RawPut, with each event's job and thing stream entries (the rows any event log
// that reads a job's or a thing's history writes with the event) in two more column
// families, in the same WriteBatch. Returns events per second.
double RawPutLogRows(RawDb& source, const std::string& path, uint64_t count, size_t batch);

// The first `count` events into a SQLite table (WAL mode, synchronous=FULL, indexes on
// job and thing), `group` rows per transaction.
StatusOr<double> SqliteAppend(RawDb& source, const std::string& path, uint64_t count, size_t group);

// The same into PostgreSQL with a jsonb payload, on a throw-away server started in
// `dir` (Unix socket only). An error when PostgreSQL is not installed or did not
// start; *note describes the setup.
StatusOr<double> PostgresAppend(RawDb& source, const std::string& dir, uint64_t count, size_t group,
                                std::string* note);

}  // namespace jobledger::bench

#endif  // JOBLEDGER_BENCH_BASELINES_H_
