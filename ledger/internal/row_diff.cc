#include "ledger/internal/row_diff.h"

namespace jobledger::internal {

StatusOr<std::vector<std::string>> DiffRows(RowIterator& a, RowIterator& b,
                                            std::string_view skip_prefix, size_t limit,
                                            const RowDiffWords& words) {
  std::vector<std::string> out;
  auto line = [&](std::string_view key, std::string_view what) {
    out.push_back("row " + PrintableKey(key) + " " + std::string(what));
  };
  auto skip = [&](RowIterator& it) {
    while (!skip_prefix.empty() && it.Valid() && it.key().substr(0, skip_prefix.size()) == skip_prefix) it.Next();
  };
  a.SeekToFirst();
  b.SeekToFirst();
  skip(a);
  skip(b);
  while ((a.Valid() || b.Valid()) && out.size() < limit) {
    if (a.Valid() && b.Valid() && a.key() == b.key()) {
      if (a.value() != b.value()) line(a.key(), words.differs);
      a.Next();
      b.Next();
    } else if (!b.Valid() || (a.Valid() && a.key() < b.key())) {
      line(a.key(), words.only_a);
      a.Next();
    } else {
      line(b.key(), words.only_b);
      b.Next();
    }
    skip(a);
    skip(b);
  }
  JOBLEDGER_RETURN_IF_ERROR(a.status());
  JOBLEDGER_RETURN_IF_ERROR(b.status());
  return out;
}

}  // namespace jobledger::internal
