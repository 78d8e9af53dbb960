#include "ledger/internal/row_iterator.h"

#include <algorithm>

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

class MergingRowIterator final : public RowIterator {
 public:
  MergingRowIterator(std::unique_ptr<rocksdb::Iterator> base, std::string prefix,
                     PendingRows pending, std::shared_ptr<void> keepalive,
                     std::function<void(std::unique_ptr<rocksdb::Iterator>)> release)
      : keepalive_(std::move(keepalive)),
        release_(std::move(release)),
        base_(std::move(base)),
        prefix_(std::move(prefix)),
        pending_(std::move(pending)) {
    // Only the pending rows under the prefix matter.
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                  [&](const auto& row) { return !HasPrefix(row.first); }),
                   pending_.end());
  }

  ~MergingRowIterator() override {
    if (release_) release_(std::move(base_));
  }

  void Seek(std::string_view key) override {
    std::string target = std::max(std::string(key), prefix_);
    base_->Seek(target);
    pos_ = static_cast<long>(std::lower_bound(pending_.begin(), pending_.end(), target, KeyLess) -
                             pending_.begin());
    forward_ = true;
    Settle();
  }

  void SeekForPrev(std::string_view key) override {
    base_->SeekForPrev(rocksdb::Slice(key.data(), key.size()));
    pos_ = static_cast<long>(std::upper_bound(pending_.begin(), pending_.end(), std::string(key),
                                              KeyLessRev) -
                             pending_.begin()) -
           1;
    forward_ = false;
    Settle();
  }

  void SeekToFirst() override { Seek(prefix_); }

  void SeekToLast() override {
    std::string end = PrefixEnd(prefix_);
    if (end.empty()) {
      base_->SeekToLast();
      pos_ = static_cast<long>(pending_.size()) - 1;
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
  Status status() const override { return FromRocks(base_->status(), "scanning rows"); }

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
  static bool KeyLess(const std::pair<std::string, std::optional<std::string>>& row,
                      const std::string& key) {
    return row.first < key;
  }
  static bool KeyLessRev(const std::string& key,
                         const std::pair<std::string, std::optional<std::string>>& row) {
    return key < row.first;
  }

  bool HasPrefix(std::string_view key) const {
    return key.size() >= prefix_.size() && key.substr(0, prefix_.size()) == prefix_;
  }
  bool BaseValid() const { return base_->Valid() && HasPrefix(ToView(base_->key())); }
  bool PendingValid() const { return pos_ >= 0 && pos_ < static_cast<long>(pending_.size()); }

  // Moves past the current row in `forward` direction, then settles.
  void Step(bool forward) {
    const bool base_here = BaseValid() && ToView(base_->key()) == key_;
    const bool pending_here = PendingValid() && pending_[static_cast<size_t>(pos_)].first == key_;
    if (base_here) forward ? base_->Next() : base_->Prev();
    if (pending_here) pos_ += forward ? 1 : -1;
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
      const auto* row = p ? &pending_[static_cast<size_t>(pos_)] : nullptr;
      bool take_pending;
      if (b && p) {
        take_pending = forward_ ? row->first <= bk : row->first >= bk;
      } else {
        take_pending = p;
      }
      if (take_pending) {
        if (!row->second.has_value()) {
          // A pending delete: hide the stored row with the same key too.
          if (b && bk == row->first) forward_ ? base_->Next() : base_->Prev();
          pos_ += forward_ ? 1 : -1;
          continue;
        }
        key_ = row->first;
        value_ = *row->second;
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
  PendingRows pending_;
  long pos_ = 0;
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

}  // namespace

std::unique_ptr<RowIterator> NewErrorRowIterator(Status error) {
  return std::make_unique<ErrorRowIterator>(std::move(error));
}

std::unique_ptr<RowIterator> NewMergingRowIterator(
    std::unique_ptr<rocksdb::Iterator> base, std::string prefix, PendingRows pending,
    std::shared_ptr<void> keepalive, std::function<void(std::unique_ptr<rocksdb::Iterator>)> release) {
  return std::make_unique<MergingRowIterator>(std::move(base), std::move(prefix), std::move(pending),
                                              std::move(keepalive), std::move(release));
}

}  // namespace jobledger::internal
