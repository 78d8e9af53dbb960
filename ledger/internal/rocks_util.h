// Conversions at the RocksDB boundary: no rocksdb::Status leaves the library.

#ifndef JOBLEDGER_LEDGER_INTERNAL_ROCKS_UTIL_H_
#define JOBLEDGER_LEDGER_INTERNAL_ROCKS_UTIL_H_

#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <string>
#include <string_view>

#include "ledger/status.h"

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

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_ROCKS_UTIL_H_
