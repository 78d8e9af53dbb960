// Rows of upper layers' column families (the ledger's write-side state, the
// projections): the family handle, the iterator and the transactions an append, a
// fold or a rebuild writes them through, and the tools to compare and print them. The
// families themselves are opened, pinned and dropped through RowStore, which EventLog
// (jobledger/event_log.h) is.

#ifndef JOBLEDGER_ROWS_H_
#define JOBLEDGER_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobledger/status.h"

namespace jobledger {


// An upper layer's column family (the ledger's write-side state, a projection),
// opened with RowStore::OpenFamily. Its rows are written only inside an append, so
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

// The buffer of RowStore::IngestRows: rows of one family kept in memory, sorted, until
// they are written as one table file.
class IngestTxn : public RowTxn {
 public:
  // Bytes of the keys and values buffered so far (what the buffer costs in memory,
  // give or take the map's nodes).
  virtual size_t buffered_bytes() const = 0;
};

// How durable a write is.
enum class Durability {
  kDefault,  // EventLogOptions::sync decides
  kSync,     // the append returns after the WAL reached stable storage
  kNoSync,   // the append returns after the write reached the OS
};

// Keeps a family readable while it lives (RowStore::PinFamily); what it holds is the
// store's own.
using FamilyPin = std::shared_ptr<const void>;

// The families of upper layers: opened, pinned, dropped, written outside appends and
// read. EventLog (jobledger/event_log.h) is the one implementation: the families live
// in the log's storage, and an append writes its rows with its events (AppendTxn).
class RowStore {
 public:
  virtual ~RowStore() = default;

  // Opens the column family `name` ([a-z0-9_.-]+, not one of the log's own),
  // creating it in a read-write log. kNotFound in other modes when it does not exist.
  virtual StatusOr<FamilyId> OpenFamily(std::string_view name) = 0;
  // Drops a family and all its rows. Writes to it fail from then on; readers that
  // pinned it (PinFamily) or hold an iterator on it keep reading it until they let go.
  virtual Status DropFamily(FamilyId family) = 0;
  // Keeps `family` readable by id while the returned pin lives, even across a
  // concurrent DropFamily; null if the family is already gone (re-resolve it).
  virtual FamilyPin PinFamily(FamilyId family) const = 0;
  // The names of every family of upper layers in this ledger.
  virtual std::vector<std::string> FamilyNames() const = 0;

  // Writes rows outside an append, under the append lock (no append interleaves):
  // for filling a derived family from the log (a rebuild, a catch-up), never for rows
  // that must agree with a new event. All of `fill`'s writes land in one batch.
  virtual Status WriteRows(const std::function<Status(RowTxn&)>& fill,
                           Durability durability = Durability::kDefault) = 0;

  // Fills a family that appends do not write (a projection being rebuilt, before it
  // takes appends) without the memtable or the WAL: `fill` writes into an in-memory
  // buffer whose reads see its own writes over the family's stored rows; when it
  // returns OK the rows are written, sorted, as one table file and ingested into the
  // family atomically (every row or none, after a crash too). Nothing is written when
  // `fill` fails or buffers nothing. Read-write logs only; the family must be one no
  // append or WriteRows writes meanwhile.
  virtual Status IngestRows(FamilyId family, const std::function<Status(IngestTxn&)>& fill) = 0;
  // As IngestRows, with `parts` buffers (at least one) that `fill` may fill on as
  // many threads, one buffer per thread: each reads its own rows over the stored ones
  // (never another buffer's). All are written and ingested together. A key that two
  // buffers both hold must hold the same value (or delete) in each: otherwise nothing
  // is ingested and the call returns InternalError naming the key.
  virtual Status IngestPartitionedRows(
      FamilyId family, size_t parts,
      const std::function<Status(const std::vector<IngestTxn*>&)>& fill) = 0;

  // One row, or nullopt; the rows of `family` whose keys start with `prefix`.
  virtual StatusOr<std::optional<std::string>> GetRow(FamilyId family,
                                                      std::string_view key) const = 0;
  virtual std::unique_ptr<RowIterator> ScanRows(FamilyId family,
                                                std::string_view prefix) const = 0;

};

// A row key for a message: printable ASCII as is, other bytes as \xNN.
std::string PrintableKey(std::string_view key);

// Lists the rows that differ between two families of `log` (a stored family and a
// fresh fold of the log, say), in key order, at most `limit` lines, each naming the
// key (printable bytes as is, others as \xNN).
StatusOr<std::vector<std::string>> CompareFamilies(const RowStore& log, FamilyId a, FamilyId b,
                                                   size_t limit = 100);

}  // namespace jobledger

#endif  // JOBLEDGER_ROWS_H_
