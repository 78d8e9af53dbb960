#include "ledger/memory_rows.h"

#include <algorithm>

#include "ledger/internal/row_diff.h"

namespace jobledger {
namespace {

// Iterates a snapshot of the rows under a prefix, taken when the scan starts.
class VectorRowIterator final : public RowIterator {
 public:
  explicit VectorRowIterator(std::vector<std::pair<std::string, std::string>> rows)
      : rows_(std::move(rows)), pos_(static_cast<long>(rows_.size())) {}
  void Seek(std::string_view key) override {
    pos_ = std::lower_bound(rows_.begin(), rows_.end(), key,
                            [](const auto& row, std::string_view k) { return row.first < k; }) -
           rows_.begin();
  }
  void SeekForPrev(std::string_view key) override {
    pos_ = std::upper_bound(rows_.begin(), rows_.end(), key,
                            [](std::string_view k, const auto& row) { return k < row.first; }) -
           rows_.begin() - 1;
  }
  void SeekToFirst() override { pos_ = 0; }
  void SeekToLast() override { pos_ = static_cast<long>(rows_.size()) - 1; }
  bool Valid() const override { return pos_ >= 0 && pos_ < static_cast<long>(rows_.size()); }
  std::string_view key() const override { return rows_[static_cast<size_t>(pos_)].first; }
  std::string_view value() const override { return rows_[static_cast<size_t>(pos_)].second; }
  void Next() override { ++pos_; }
  void Prev() override { --pos_; }
  Status status() const override { return Status(); }

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
  long pos_;
};

}  // namespace

Status MemoryRows::Put(FamilyId family, std::string_view key, std::string_view value) {
  rows_[{family.value, std::string(key)}] = std::string(value);
  return Status();
}

Status MemoryRows::Delete(FamilyId family, std::string_view key) {
  rows_.erase({family.value, std::string(key)});
  return Status();
}

StatusOr<std::optional<std::string>> MemoryRows::Get(FamilyId family, std::string_view key) const {
  auto it = rows_.find({family.value, std::string(key)});
  if (it == rows_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

std::unique_ptr<RowIterator> MemoryRows::Scan(FamilyId family, std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> rows;
  for (auto it = rows_.lower_bound({family.value, std::string(prefix)});
       it != rows_.end() && it->first.first == family.value &&
       it->first.second.compare(0, prefix.size(), prefix) == 0;
       ++it) {
    rows.emplace_back(it->first.second, it->second);
  }
  return std::make_unique<VectorRowIterator>(std::move(rows));
}

size_t MemoryRows::size(FamilyId family) const {
  size_t n = 0;
  for (const auto& [key, value] : rows_) n += key.first == family.value ? 1 : 0;
  return n;
}

StatusOr<std::vector<std::string>> CompareWithStored(const MemoryRows& memory, FamilyId memory_family,
                                                     const EventLog& log, FamilyId stored,
                                                     std::string_view skip_prefix, size_t limit) {
  auto a = memory.Scan(memory_family, "");
  auto b = log.ScanRows(stored, "");
  return internal::DiffRows(*a, *b, skip_prefix, limit,
                            {"differs from the log's fold", "is in the log's fold but not stored",
                             "is stored but not in the log's fold"});
}

}  // namespace jobledger
