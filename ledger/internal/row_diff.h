// Lists the rows that differ between two row iterators: the one walk both
// CompareFamilies (rows.h) and CompareWithStored (memory_rows.h) make.

#ifndef JOBLEDGER_LEDGER_INTERNAL_ROW_DIFF_H_
#define JOBLEDGER_LEDGER_INTERNAL_ROW_DIFF_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "jobledger/rows.h"
#include "jobledger/status.h"

namespace jobledger::internal {

// What a difference line says after "row <key> ".
struct RowDiffWords {
  std::string_view differs;  // the key is on both sides, the values differ
  std::string_view only_a;   // the key is only on side a
  std::string_view only_b;   // the key is only on side b
};

// Walks `a` and `b` from their first rows in key order, passing over keys that start
// with `skip_prefix` (none when empty), and lists at most `limit` differences.
StatusOr<std::vector<std::string>> DiffRows(RowIterator& a, RowIterator& b,
                                            std::string_view skip_prefix, size_t limit,
                                            const RowDiffWords& words);

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_ROW_DIFF_H_
