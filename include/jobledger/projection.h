// A projection: a named, versioned fold of the event log into rows of a column family
// of its own. Projections are pure functions of the events they are given: the same
// log always folds to the same rows, which is what rebuilds and drift checks rely on.

#ifndef JOBLEDGER_PROJECTION_H_
#define JOBLEDGER_PROJECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "jobledger/event.h"
#include "jobledger/event_log.h"
#include "jobledger/status.h"

namespace jobledger {

// A fold's memo of values it derived from its rows, such as the latest version of an
// entity, so that it need not read them back through the rows on every event. Valid as
// long as every row of the family is written by the fold that owns the memo: the
// appends to an inline projection's active family (a memo kept across appends, each
// append's values kept or dropped with it), or a rebuild while no append writes its
// new family. The fold keeps each remembered value equal to what reading its rows
// would give.
class ProjectionMemo {
 public:
  ProjectionMemo() = default;
  // A memo over `base` (one write's, over what the writes before it remembered):
  // recalls what it remembers itself, else what `base` does; remembers into itself.
  explicit ProjectionMemo(const ProjectionMemo* base) : base_(base) {}
  ProjectionMemo(const ProjectionMemo&) = delete;
  ProjectionMemo& operator=(const ProjectionMemo&) = delete;
  ProjectionMemo(ProjectionMemo&&) = default;
  ProjectionMemo& operator=(ProjectionMemo&&) = default;

  // Null for a name never remembered (or forgotten by Clear).
  const std::optional<std::string>* Recall(std::string_view name) const {
    auto it = memo_.find(name);
    if (it != memo_.end()) return &it->second;
    return base_ != nullptr ? base_->Recall(name) : nullptr;
  }
  void Remember(std::string_view name, std::optional<std::string> value) {
    const size_t size = value ? value->size() : 0;
    auto it = memo_.find(name);  // a name remembered before: no key to allocate
    if (it == memo_.end()) {
      memo_.emplace(std::string(name), std::move(value));
      bytes_ += name.size() + size + kOverhead;
    } else {
      bytes_ += size;
      bytes_ -= it->second ? it->second->size() : 0;
      it->second = std::move(value);
    }
  }
  // About what the memo holds in memory (not counting its base).
  size_t bytes() const { return bytes_; }
  // Forgets everything (its base stays as it is). Safe at any time for a memo without
  // a base; one over a base must not be cleared in the middle of its write (the base
  // would answer with values the write has since replaced).
  void Clear() {
    memo_.clear();
    bytes_ = 0;
  }
  // Hands every value to `target` (this memo's base, once its write is kept), leaving
  // this memo empty.
  void MoveInto(ProjectionMemo& target) {
    for (auto& [name, value] : memo_) target.Remember(name, std::move(value));
    Clear();
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  static constexpr size_t kOverhead = 96;  // a node, its strings, the bucket

  std::unordered_map<std::string, std::optional<std::string>, Hash, std::equal_to<>> memo_;
  size_t bytes_ = 0;
  const ProjectionMemo* base_ = nullptr;
};

// The rows of one projection, inside the write that applies events to it. Reads see
// the write's own pending rows. Keys starting with 0x00 are reserved for the
// projection machinery (checkpoint) and must not be used by a projection.
class ProjectionWriter {
 public:
  // `memo`: one that outlives this writer (a rebuild's, across its chunks), or null
  // for one of this writer's own.
  ProjectionWriter(RowTxn& txn, FamilyId family, ProjectionMemo* memo = nullptr)
      : txn_(txn), family_(family), memo_(memo != nullptr ? memo : &own_memo_) {}
  Status Put(std::string_view key, std::string_view value) { return txn_.Put(family_, key, value); }
  // A row this fold writes once and never reads back, rewrites or deletes (see
  // RowTxn::PutUnread): cheaper in a rebuild's buffer.
  Status PutUnread(std::string_view key, std::string_view value) {
    return txn_.PutUnread(family_, key, value);
  }
  // A row holding the latest version of an entity that this writer's memo now
  // remembers (ProjectionMemo::Remember) and that the fold reads back only through the
  // memo, never by Get or Scan: put aside unread (RowTxn::PutUnread) when the memo
  // spans the whole write (SetMemoSpansWrite), else an ordinary Put.
  Status PutRemembered(std::string_view key, std::string_view value) {
    return memo_spans_write_ ? txn_.PutUnread(family_, key, value) : txn_.Put(family_, key, value);
  }
  Status Delete(std::string_view key) { return txn_.Delete(family_, key); }
  StatusOr<std::optional<std::string>> Get(std::string_view key) const {
    return txn_.Get(family_, key);
  }
  std::unique_ptr<RowIterator> Scan(std::string_view prefix) const {
    return txn_.Scan(family_, prefix);
  }
  ProjectionMemo& memo() { return *memo_; }
  // Promises that the memo is not cleared before the write ends, so that it remembers
  // every entity put through PutRemembered in it (a rebuild's chunk, whose memo is
  // cleared only between chunks).
  void SetMemoSpansWrite(bool spans) { memo_spans_write_ = spans; }

  // Whether this writer folds the rows of `partition_key` (see
  // Projection::partitioned): always, except in one partition of a rebuild's fold on
  // several threads, which owns the keys that hash to it.
  bool Owns(std::string_view partition_key) const {
    return parts_ == 1 || PartitionOf(partition_key, parts_) == part_;
  }
  // Makes this writer partition `part` of `parts`.
  void SetPartition(size_t part, size_t parts) {
    part_ = part;
    parts_ = parts;
  }
  static size_t PartitionOf(std::string_view partition_key, size_t parts) {
    return std::hash<std::string_view>()(partition_key) % parts;
  }

 private:
  RowTxn& txn_;
  FamilyId family_;
  size_t part_ = 0;
  size_t parts_ = 1;
  bool memo_spans_write_ = false;
  ProjectionMemo own_memo_;
  ProjectionMemo* memo_;
};

class Projection {
 public:
  virtual ~Projection() = default;
  // [a-z0-9_]+, stable across versions.
  virtual std::string_view name() const = 0;
  // Bump when the fold or the row format changes: a stored projection of another
  // version is rebuilt from the log.
  virtual uint32_t version() const = 0;
  // Folds one event. Events arrive in sequence order, each exactly once per family
  // (once per partition, for an event without a partition key, below).
  virtual Status Apply(const Event& event, ProjectionWriter& rows) = 0;

  // A rebuild folds a partitioned projection on several threads, one partition each.
  // An event with a partition key is folded only by the partition that owns the key
  // (ProjectionWriter::Owns), so one key's events fold in log order on one thread; an
  // event without one is folded by every partition, and its fold must change only
  // rows of keys the writer owns. A partition must read only rows of keys it owns,
  // and a row that several partitions write must get the same value from each. The
  // result must equal the fold on one thread, row for row (the rebuild and drift
  // tests compare them). Apply is then called from several threads at once, one per
  // partition, each with a writer of its own: it must keep no state of its own
  // outside the writer (its memo included). Default: not partitioned, one thread
  // folds every event.
  virtual bool partitioned() const { return false; }
  virtual std::optional<std::string_view> PartitionKey(const Event&) const { return std::nullopt; }
};

}  // namespace jobledger

#endif  // JOBLEDGER_PROJECTION_H_
