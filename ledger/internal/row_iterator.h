// RowIterator over one column family's rows with a key prefix, optionally merged with
// a transaction's pending writes (which win over stored rows; a pending delete hides
// the stored row).

#ifndef JOBLEDGER_LEDGER_INTERNAL_ROW_ITERATOR_H_
#define JOBLEDGER_LEDGER_INTERNAL_ROW_ITERATOR_H_

#include <rocksdb/iterator.h>

#include <functional>
#include <map>
#include <memory_resource>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jobledger/event_log.h"

namespace jobledger::internal {

// Pending writes of a transaction, sorted by key; nullopt is a delete.
using PendingRows = std::vector<std::pair<std::string, std::optional<std::string>>>;

// Takes ownership of `base`, which iterates the whole column family. Only rows whose
// keys start with `prefix` are visible. `keepalive` is held until the iterator goes
// (the family's handle, so a concurrent drop cannot pull it away).
// `release`, if set, receives `base` back when the iterator goes (an iterator pool).
std::unique_ptr<RowIterator> NewMergingRowIterator(
    std::unique_ptr<rocksdb::Iterator> base, std::string prefix, PendingRows pending,
    std::shared_ptr<void> keepalive = nullptr,
    std::function<void(std::unique_ptr<rocksdb::Iterator>)> release = nullptr);

// Rows of one family kept in memory, by key; nullopt is a delete.
using BufferedRows = std::map<std::string, std::optional<std::string>, std::less<>>;

// As NewMergingRowIterator, but reads `rows` in place (no copy), so it costs the same
// whatever the number of rows under the prefix. `rows` must outlive the iterator and
// may gain rows meanwhile (a delete is kept as nullopt, never erased). `base` may be
// null: a family with no stored rows.
std::unique_ptr<RowIterator> NewBufferedRowIterator(
    std::unique_ptr<rocksdb::Iterator> base, std::string prefix, const BufferedRows* rows,
    std::shared_ptr<void> keepalive = nullptr,
    std::function<void(std::unique_ptr<rocksdb::Iterator>)> release = nullptr);

// Rows kept in one arena (a buffer cleared all at once): no allocation of its own
// per row, and nothing to free one by one.
using ArenaRows = std::pmr::map<std::pmr::string, std::optional<std::pmr::string>, std::less<>>;

// As NewBufferedRowIterator, over ArenaRows.
std::unique_ptr<RowIterator> NewArenaRowIterator(
    std::unique_ptr<rocksdb::Iterator> base, std::string prefix, const ArenaRows* rows,
    std::shared_ptr<void> keepalive = nullptr,
    std::function<void(std::unique_ptr<rocksdb::Iterator>)> release = nullptr);

// An iterator over nothing whose status() is `error` (an unknown or dropped family).
std::unique_ptr<RowIterator> NewErrorRowIterator(Status error);

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_ROW_ITERATOR_H_
