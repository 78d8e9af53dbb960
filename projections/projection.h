// A projection: a named, versioned fold of the event log into rows of a column family
// of its own. Projections are pure functions of the events they are given: the same
// log always folds to the same rows, which is what rebuilds and drift checks rely on.

#ifndef JOBLEDGER_PROJECTIONS_PROJECTION_H_
#define JOBLEDGER_PROJECTIONS_PROJECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/event.h"
#include "ledger/event_log.h"
#include "ledger/status.h"

namespace jobledger {

// The rows of one projection, inside the write that applies events to it. Reads see
// the write's own pending rows. Keys starting with 0x00 are reserved for the
// projection machinery (checkpoint) and must not be used by a projection.
class ProjectionWriter {
 public:
  ProjectionWriter(RowTxn& txn, FamilyId family) : txn_(txn), family_(family) {}
  Status Put(std::string_view key, std::string_view value) { return txn_.Put(family_, key, value); }
  Status Delete(std::string_view key) { return txn_.Delete(family_, key); }
  StatusOr<std::optional<std::string>> Get(std::string_view key) const {
    return txn_.Get(family_, key);
  }
  std::unique_ptr<RowIterator> Scan(std::string_view prefix) const {
    return txn_.Scan(family_, prefix);
  }

 private:
  RowTxn& txn_;
  FamilyId family_;
};

class Projection {
 public:
  virtual ~Projection() = default;
  // [a-z0-9_]+, stable across versions.
  virtual std::string_view name() const = 0;
  // Bump when the fold or the row format changes: a stored projection of another
  // version is rebuilt from the log.
  virtual uint32_t version() const = 0;
  // Folds one event. Events arrive in sequence order, each exactly once per family.
  virtual Status Apply(const Event& event, ProjectionWriter& rows) = 0;
};

}  // namespace jobledger

#endif  // JOBLEDGER_PROJECTIONS_PROJECTION_H_
