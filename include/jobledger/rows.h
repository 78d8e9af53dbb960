// Rows of upper layers' column families (the ledger's write-side state, the
// projections): the family handle, the iterator and the transactions an append, a
// fold or a rebuild writes them through, and the tools to compare and print them. The
// families themselves are opened, pinned and dropped through EventLog
// (jobledger/event_log.h), which owns them.

#ifndef JOBLEDGER_ROWS_H_
#define JOBLEDGER_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobledger/status.h"

namespace jobledger {

class EventLog;

// An upper layer's column family (the ledger's write-side state, a projection),
// opened with EventLog::OpenFamily. Its rows are written only inside an append, so
// they always agree with the events that caused them.
struct FamilyId {
  uint32_t value = 0;
  friend bool operator==(const FamilyId&, const FamilyId&) = default;
};

// Iterates the rows of one family whose keys start with a prefix, in key order.
// Check status() when Valid() turns false: a storage error also ends iteration.
class RowIterator {
 public:
  virtual ~RowIterator() = default;
  virtual void Seek(std::string_view key) = 0;         // first row >= key
  virtual void SeekForPrev(std::string_view key) = 0;  // last row <= key
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual bool Valid() const = 0;
  virtual std::string_view key() const = 0;    // requires Valid()
  virtual std::string_view value() const = 0;  // requires Valid()
  virtual void Next() = 0;
  virtual void Prev() = 0;
  virtual Status status() const = 0;
};

// Reads and writes rows of upper layers' families inside one atomic write; reads see
// the write's own pending rows.
class RowTxn {
 public:
  virtual ~RowTxn() = default;
  virtual Status Put(FamilyId family, std::string_view key, std::string_view value) = 0;
  virtual Status Delete(FamilyId family, std::string_view key) = 0;
  virtual StatusOr<std::optional<std::string>> Get(FamilyId family,
                                                   std::string_view key) const = 0;
  virtual std::unique_ptr<RowIterator> Scan(FamilyId family, std::string_view prefix) const = 0;
  // Put, for a row that nothing reads, rewrites or deletes in this write: a buffer
  // may keep it aside, unsorted, where this write's Get and Scan do not see it (an
  // index row written once per event, such as "thing T has execution J#N"). After
  // the write it reads like any row. By default the same as Put.
  virtual Status PutUnread(FamilyId family, std::string_view key, std::string_view value) {
    return Put(family, key, value);
  }
};

// The buffer of EventLog::IngestRows: rows of one family kept in memory, sorted, until
// they are written as one table file.
class IngestTxn : public RowTxn {
 public:
  // Bytes of the keys and values buffered so far (what the buffer costs in memory,
  // give or take the map's nodes).
  virtual size_t buffered_bytes() const = 0;
};

// A row key for a message: printable ASCII as is, other bytes as \xNN.
std::string PrintableKey(std::string_view key);

// Lists the rows that differ between two families of `log` (a stored family and a
// fresh fold of the log, say), in key order, at most `limit` lines, each naming the
// key (printable bytes as is, others as \xNN).
StatusOr<std::vector<std::string>> CompareFamilies(const EventLog& log, FamilyId a, FamilyId b,
                                                   size_t limit = 100);

}  // namespace jobledger

#endif  // JOBLEDGER_ROWS_H_
