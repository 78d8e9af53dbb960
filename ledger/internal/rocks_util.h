// Conversions at the RocksDB boundary: no rocksdb::Status leaves the library.

#ifndef JOBLEDGER_LEDGER_INTERNAL_ROCKS_UTIL_H_
#define JOBLEDGER_LEDGER_INTERNAL_ROCKS_UTIL_H_

#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <string>
#include <string_view>

#include "jobledger/status.h"

namespace jobledger::internal {

inline std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// Maps a RocksDB status to ours; `context` says what was being done.
// Corruption becomes kDataLoss, NoSpace kResourceExhausted, other I/O kUnavailable.
inline Status FromRocks(const rocksdb::Status& s, const std::string& context) {
  if (s.ok()) return Status();
  std::string message = context + ": " + s.ToString();
  if (s.IsCorruption()) return DataLossError(std::move(message));
  if (s.IsNotFound() || s.IsPathNotFound()) return NotFoundError(std::move(message));
  if (s.IsNoSpace()) return ResourceExhaustedError(std::move(message));
  if (s.IsIOError()) return UnavailableError(std::move(message));
  if (s.IsInvalidArgument()) return InvalidArgumentError(std::move(message));
  if (s.IsNotSupported()) return Status(StatusCode::kUnimplemented, std::move(message));
  return InternalError(std::move(message));
}

// ThreadSanitizer and Debian's RocksDB. The library is linked statically and not
// built with TSan: its memtable publishes an insert to readers through atomics TSan
// cannot see, but the memcpy that fills the entry is intercepted. Every later read of
// that entry by jobledger's code (copying a key or value out of an iterator) would be
// reported as a race with that memcpy. Under TSan, a thread's memory accesses are
// ignored while it is inside a RocksDB call that writes memtables (Write, Put,
// TryCatchUpWithPrimary); mutexes and other synchronisation are still tracked, and
// every access in jobledger's own code still is. Elsewhere this just makes the call.
#if defined(__SANITIZE_THREAD__)
#define JOBLEDGER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define JOBLEDGER_TSAN 1
#endif
#endif

#ifdef JOBLEDGER_TSAN
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

// Runs `call` (a RocksDB call that writes memtables) and returns what it returns.
template <typename Call>
rocksdb::Status InsideRocksDbWrite(Call&& call) {
#ifdef JOBLEDGER_TSAN
  __tsan_ignore_thread_begin();
  rocksdb::Status s = call();
  __tsan_ignore_thread_end();
  return s;
#else
  return call();
#endif
}

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_ROCKS_UTIL_H_
