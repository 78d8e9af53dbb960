#include "ledger/internal/row_iterator.h"

#include <algorithm>
#include <map>

#include "ledger/internal/rocks_util.h"

namespace jobledger::internal {
namespace {

// The smallest string greater than every string starting with `prefix`; empty when
// there is none (a prefix of 0xff bytes only).
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

// The pending side of a merge: the rows of a sorted vector (a transaction's, copied
// and cut to the prefix) ...
class VectorSide {
 public:
  VectorSide(PendingRows rows, const std::string& prefix) : rows_(std::move(rows)) {
    rows_.erase(std::remove_if(rows_.begin(), rows_.end(),
                               [&](const auto& row) { return !HasPrefix(row.first, prefix); }),
                rows_.end());
  }
  void SeekGE(const std::string& key) {
    pos_ = static_cast<long>(std::lower_bound(rows_.begin(), rows_.end(), key,
                                              [](const auto& row, const std::string& k) {
                                                return row.first < k;
                                              }) -
                             rows_.begin());
  }
  void SeekLE(const std::string& key) {
    pos_ = static_cast<long>(std::upper_bound(rows_.begin(), rows_.end(), key,
                                              [](const std::string& k, const auto& row) {
                                                return k < row.first;
                                              }) -
                             rows_.begin()) -
           1;
  }
  void SeekLast() { pos_ = static_cast<long>(rows_.size()) - 1; }
  bool Valid(const std::string&) const { return pos_ >= 0 && pos_ < static_cast<long>(rows_.size()); }
  std::string_view key() const { return rows_[static_cast<size_t>(pos_)].first; }
  bool present() const { return rows_[static_cast<size_t>(pos_)].second.has_value(); }
  std::string_view value() const { return *rows_[static_cast<size_t>(pos_)].second; }
  void Next() { ++pos_; }
  void Prev() { --pos_; }

  static bool HasPrefix(std::string_view key, std::string_view prefix) {
    return key.size() >= prefix.size() && key.substr(0, prefix.size()) == prefix;
  }

 private:
  PendingRows rows_;
  long pos_ = 0;
};

// ... or a live std::map (a RowBuffer's), read in place: the map may gain rows while
// the iterator lives (its iterators stay valid), never lose them (deletes are kept as
// nullopt).
template <typename Map>
class MapSide {
 public:
  explicit MapSide(const Map* rows) : rows_(rows), it_(rows->end()) {}
  void SeekGE(const std::string& key) { it_ = rows_->lower_bound(std::string_view(key)); }
  void SeekLE(const std::string& key) {
    it_ = rows_->upper_bound(std::string_view(key));
    Prev();
  }
  void SeekLast() {
    it_ = rows_->end();
    Prev();
  }
  bool Valid(const std::string& prefix) const {
    return it_ != rows_->end() && VectorSide::HasPrefix(it_->first, prefix);
  }
  std::string_view key() const { return it_->first; }
  bool present() const { return it_->second.has_value(); }
  std::string_view value() const { return *it_->second; }
  void Next() { ++it_; }
  void Prev() {
    if (it_ == rows_->begin()) {
      it_ = rows_->end();  // before the first: not valid
    } else {
      --it_;
    }
  }

 private:
  const Map* rows_;
  typename Map::const_iterator it_;
};

// Stored rows (`base`, may be null: a family known to be empty) merged with pending
// ones, which win.
template <typename Side>
class MergingRowIterator final : public RowIterator {
 public:
  MergingRowIterator(std::unique_ptr<rocksdb::Iterator> base, std::string prefix, Side pending,
                     std::shared_ptr<void> keepalive,
                     std::function<void(std::unique_ptr<rocksdb::Iterator>)> release)
      : keepalive_(std::move(keepalive)),
        release_(std::move(release)),
        base_(std::move(base)),
        prefix_(std::move(prefix)),
        pending_(std::move(pending)) {}

  ~MergingRowIterator() override {
    if (release_) release_(std::move(base_));
  }

  void Seek(std::string_view key) override {
    std::string target = std::max(std::string(key), prefix_);
    if (base_) base_->Seek(target);
    pending_.SeekGE(target);
    forward_ = true;
    Settle();
  }

  void SeekForPrev(std::string_view key) override {
    if (base_) base_->SeekForPrev(rocksdb::Slice(key.data(), key.size()));
    pending_.SeekLE(std::string(key));
    forward_ = false;
    Settle();
  }

  void SeekToFirst() override { Seek(prefix_); }

  void SeekToLast() override {
    std::string end = PrefixEnd(prefix_);
    if (end.empty()) {
      if (base_) base_->SeekToLast();
      pending_.SeekLast();
      forward_ = false;
      Settle();
      return;
    }
    SeekForPrev(end);
    if (valid_ && key_ == end) Prev();  // `end` itself is outside the prefix
  }

  bool Valid() const override { return valid_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override {
    return base_ ? FromRocks(base_->status(), "scanning rows") : Status();
  }

  void Next() override {
    if (!valid_) return;
    if (!forward_) {
      // Re-position both sides on the current key, moving forwards.
      std::string current = key_;
      Seek(current);
      if (!valid_) return;
    }
    Step(/*forward=*/true);
  }

  void Prev() override {
    if (!valid_) return;
    if (forward_) {
      std::string current = key_;
      SeekForPrev(current);
      if (!valid_) return;
    }
    Step(/*forward=*/false);
  }

 private:
  bool HasPrefix(std::string_view key) const { return VectorSide::HasPrefix(key, prefix_); }
  bool BaseValid() const { return base_ && base_->Valid() && HasPrefix(ToView(base_->key())); }
  bool PendingValid() const { return pending_.Valid(prefix_); }

  // Moves past the current row in `forward` direction, then settles.
  void Step(bool forward) {
    const bool base_here = BaseValid() && ToView(base_->key()) == key_;
    const bool pending_here = PendingValid() && pending_.key() == key_;
    if (base_here) forward ? base_->Next() : base_->Prev();
    if (pending_here) forward ? pending_.Next() : pending_.Prev();
    Settle();
  }

  // Makes the current row the nearest visible one in the current direction.
  void Settle() {
    while (true) {
      const bool b = BaseValid();
      const bool p = PendingValid();
      if (!b && !p) {
        valid_ = false;
        return;
      }
      std::string_view bk = b ? ToView(base_->key()) : std::string_view();
      bool take_pending;
      if (b && p) {
        take_pending = forward_ ? pending_.key() <= bk : pending_.key() >= bk;
      } else {
        take_pending = p;
      }
      if (take_pending) {
        if (!pending_.present()) {
          // A pending delete: hide the stored row with the same key too.
          if (b && bk == pending_.key()) forward_ ? base_->Next() : base_->Prev();
          forward_ ? pending_.Next() : pending_.Prev();
          continue;
        }
        key_.assign(pending_.key());
        value_.assign(pending_.value());
      } else {
        key_ = std::string(bk);
        value_ = std::string(ToView(base_->value()));
      }
      valid_ = true;
      return;
    }
  }

  std::shared_ptr<void> keepalive_;  // declared first: destroyed after base_
  std::function<void(std::unique_ptr<rocksdb::Iterator>)> release_;
  std::unique_ptr<rocksdb::Iterator> base_;
  std::string prefix_;
  Side pending_;
  bool forward_ = true;
  bool valid_ = false;
  std::string key_;
  std::string value_;
};

class ErrorRowIterator final : public RowIterator {
 public:
  explicit ErrorRowIterator(Status error) : error_(std::move(error)) {}
  void Seek(std::string_view) override {}
  void SeekForPrev(std::string_view) override {}
  void SeekToFirst() override {}
  void SeekToLast() override {}
  bool Valid() const override { return false; }
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  void Next() override {}
  void Prev() override {}
  Status status() const override { return error_; }

 private:
  Status error_;
};

// The base merged with a map of pending rows (BufferedRows or ArenaRows).
template <typename Rows>
std::unique_ptr<RowIterator> NewMapRowIterator(
    std::unique_ptr<rocksdb::Iterator> base, std::string prefix, const Rows* rows,
    std::shared_ptr<void> keepalive, std::function<void(std::unique_ptr<rocksdb::Iterator>)> release) {
  return std::make_unique<MergingRowIterator<MapSide<Rows>>>(
      std::move(base), std::move(prefix), MapSide<Rows>(rows), std::move(keepalive),
      std::move(release));
}

}  // namespace

std::unique_ptr<RowIterator> NewErrorRowIterator(Status error) {
  return std::make_unique<ErrorRowIterator>(std::move(error));
}

std::unique_ptr<RowIterator> NewMergingRowIterator(
    std::unique_ptr<rocksdb::Iterator> base, std::string prefix, PendingRows pending,
    std::shared_ptr<void> keepalive, std::function<void(std::unique_ptr<rocksdb::Iterator>)> release) {
  VectorSide side(std::move(pending), prefix);
  return std::make_unique<MergingRowIterator<VectorSide>>(std::move(base), std::move(prefix),
                                                          std::move(side), std::move(keepalive),
                                                          std::move(release));
}

std::unique_ptr<RowIterator> NewBufferedRowIterator(
    std::unique_ptr<rocksdb::Iterator> base, std::string prefix, const BufferedRows* rows,
    std::shared_ptr<void> keepalive, std::function<void(std::unique_ptr<rocksdb::Iterator>)> release) {
  return NewMapRowIterator(std::move(base), std::move(prefix), rows, std::move(keepalive),
                           std::move(release));
}

std::unique_ptr<RowIterator> NewArenaRowIterator(
    std::unique_ptr<rocksdb::Iterator> base, std::string prefix, const ArenaRows* rows,
    std::shared_ptr<void> keepalive, std::function<void(std::unique_ptr<rocksdb::Iterator>)> release) {
  return NewMapRowIterator(std::move(base), std::move(prefix), rows, std::move(keepalive),
                           std::move(release));
}

}  // namespace jobledger::internal
