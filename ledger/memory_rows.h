// MemoryRows: a RowTxn kept in memory. Folding the log into one gives a fresh copy of
// a derived family without writing anything (read-only drift and state checks).

#ifndef JOBLEDGER_LEDGER_MEMORY_ROWS_H_
#define JOBLEDGER_LEDGER_MEMORY_ROWS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobledger/event_log.h"

namespace jobledger {

class MemoryRows final : public RowTxn {
 public:
  // Rows of every family given to Put, by family.
  Status Put(FamilyId family, std::string_view key, std::string_view value) override;
  Status Delete(FamilyId family, std::string_view key) override;
  StatusOr<std::optional<std::string>> Get(FamilyId family, std::string_view key) const override;
  std::unique_ptr<RowIterator> Scan(FamilyId family, std::string_view prefix) const override;

  size_t size(FamilyId family) const;

 private:
  std::map<std::pair<uint32_t, std::string>, std::string> rows_;
};

// Lists the rows that differ between `memory`'s rows of `memory_family` and the
// stored family `stored` of `log`, ignoring keys that start with `skip_prefix` (the
// projection machinery's own rows, say). At most `limit` lines.
StatusOr<std::vector<std::string>> CompareWithStored(const MemoryRows& memory, FamilyId memory_family,
                                                     const EventLog& log, FamilyId stored,
                                                     std::string_view skip_prefix = {},
                                                     size_t limit = 100);

}  // namespace jobledger

#endif  // JOBLEDGER_LEDGER_MEMORY_ROWS_H_
