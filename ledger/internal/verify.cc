// EventLog verification: the hash chain, the head, an earlier digest, and the indexes.

#include <rocksdb/db.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/rocks_event_log.h"
#include "ledger/internal/rocks_util.h"
#include "ledger/internal/row_diff.h"

namespace jobledger {
namespace internal {

namespace {

// Events per range below which one thread checks the whole chain.
constexpr uint64_t kMinEventsPerRange = uint64_t{1} << 16;
constexpr unsigned kMaxVerifyThreads = 8;

}  // namespace

uint64_t VerifyRanges(uint64_t events, int threads) {
  if (events == 0) return 1;
  if (threads > 0) return std::clamp<uint64_t>(static_cast<uint64_t>(threads), 1, events);
  const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxVerifyThreads);
  return std::clamp<uint64_t>(events / kMinEventsPerRange, 1, n);
}

ChainFinding RocksEventLog::VerifyChainRange(uint64_t from, uint64_t to,
                                             const rocksdb::Snapshot* snapshot, const Head& head,
                                             std::atomic<uint64_t>* checked,
                                             const std::function<void(uint64_t, uint64_t)>& progress,
                                             uint64_t total) const {
  ChainFinding out;
  auto problem = [&](VerifyProblem p, uint64_t seq, std::string detail) {
    out.problem = p;
    out.sequence = seq;
    out.detail = std::move(detail);
    return out;
  };
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.fill_cache = false;  // a whole-log scan would only evict what readers use
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  Hash prev{};
  if (from > 1) {
    // The anchor: the stored hash of the event before the range.
    it->Seek(EventKey(from - 1));
    std::optional<uint64_t> key_seq;
    if (it->Valid()) key_seq = ParseEventKey(ToView(it->key()));
    if (!it->Valid() && !it->status().ok()) {
      return problem(VerifyProblem::kStorageCorruption, from - 1,
                     "storage error reading event " + SeqStr(from - 1) + ": " + it->status().ToString());
    }
    if (!key_seq || *key_seq != from - 1) {
      return problem(VerifyProblem::kMissingEvent, from - 1, "event " + SeqStr(from - 1) + " is missing");
    }
    std::string_view bytes;
    Status split = SplitValue(ToView(it->value()), from - 1, &prev, &bytes);
    if (!split.ok()) return problem(VerifyProblem::kDecodeFailed, from - 1, split.message());
    it->Next();
  } else {
    it->Seek(EventKey(from));
  }
  uint64_t since_report = 0;
  for (uint64_t seq = from; seq <= to; ++seq) {
    // Step only between events of the range: stepping past `to` could meet damage
    // outside the range and blame the range's last event.
    if (seq > from) it->Next();
    if (!it->Valid()) {
      if (!it->status().ok()) {
        return problem(VerifyProblem::kStorageCorruption, seq,
                       "storage error reading event " + SeqStr(seq) + ": " + it->status().ToString());
      }
      return problem(VerifyProblem::kMissingEvent, seq,
                     "event " + SeqStr(seq) + " is missing (the log ends at " + SeqStr(seq - 1) +
                         ", the head says " + SeqStr(head.sequence) + ")");
    }
    std::optional<uint64_t> key_seq = ParseEventKey(ToView(it->key()));
    if (!key_seq || *key_seq != seq) {
      return problem(VerifyProblem::kMissingEvent, seq, "event " + SeqStr(seq) + " is missing");
    }
    Hash hash;
    std::string_view bytes;
    Status split = SplitValue(ToView(it->value()), seq, &hash, &bytes);
    if (!split.ok()) return problem(VerifyProblem::kDecodeFailed, seq, split.message());
    if (ChainHash(prev, seq, bytes) != hash) {
      // Either the bytes changed or the chain above them did; tell which.
      StatusOr<Event> decoded = DecodeEvent(bytes, seq);
      if (decoded.ok() && decoded->previous_hash != prev) {
        return problem(VerifyProblem::kChainBroken, seq,
                       "event " + SeqStr(seq) + "'s previousHash is not the hash of event " +
                           SeqStr(seq - 1));
      }
      if (!decoded.ok()) return problem(VerifyProblem::kDecodeFailed, seq, decoded.status().message());
      return problem(VerifyProblem::kHashMismatch, seq,
                     "event " + SeqStr(seq) +
                         "'s bytes do not match its recorded hash (the event was altered)");
    }
    // The stored hash is right, but the hash is computed from the real predecessor,
    // not from the event's previousHash field: that field must agree too, or a reader
    // following the chain through the events would disagree with us. The hash proves
    // the bytes are the writer's canonical encoding, so the field is read where that
    // layout puts it; anything else is decoded in full for the reason.
    std::optional<Hash> recorded_prev = PreviousHashAt(bytes, seq);
    if (!recorded_prev.has_value()) {
      StatusOr<Hash> decoded = DecodePreviousHash(bytes, seq);
      if (!decoded.ok()) return problem(VerifyProblem::kDecodeFailed, seq, decoded.status().message());
      recorded_prev = *decoded;
    }
    if (*recorded_prev != prev) {
      return problem(VerifyProblem::kChainBroken, seq,
                     "event " + SeqStr(seq) + "'s previousHash is not the hash of event " +
                         SeqStr(seq - 1));
    }
    prev = hash;
    if (++since_report == kProgressEveryEvents) {
      const uint64_t done = checked->fetch_add(since_report, std::memory_order_relaxed) + since_report;
      since_report = 0;
      if (progress) progress(done, total);
    }
  }
  checked->fetch_add(since_report, std::memory_order_relaxed);
  if (!it->status().ok()) {
    return problem(VerifyProblem::kStorageCorruption, to,
                   "storage error after event " + SeqStr(to) + ": " + it->status().ToString());
  }
  out.last_hash = prev;
  return out;
}

StatusOr<VerifyResult> RocksEventLog::Verify(const VerifyOptions& options) const {
  // A read-write log may be appended to while we scan: read the head and the events
  // from one snapshot. Secondary and read-only instances do not change under us.
  const rocksdb::Snapshot* snapshot = mode_ == OpenMode::kReadWrite ? db_->GetSnapshot() : nullptr;
  struct SnapshotGuard {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~SnapshotGuard() {
      if (s != nullptr) db->ReleaseSnapshot(s);
    }
  } guard{db_.get(), snapshot};

  Head head;
  {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> raw,
                               Get(meta_, MetaKey(kHeadMetaName), snapshot));
    if (raw.has_value()) {
      std::optional<Head> decoded = DecodeHead(*raw);
      if (!decoded) return DataLossError("ledger at '" + path_ + "': malformed head record");
      head = *decoded;
    }
  }

  VerifyResult result;
  result.from = std::max<uint64_t>(options.from, 1);
  result.to = std::min(options.to, head.sequence);
  auto problem = [&](VerifyProblem p, uint64_t seq, std::string detail) {
    result.problem = p;
    result.first_bad_sequence = seq;
    result.detail = std::move(detail);
    return result;
  };
  auto stored_hash = [&](uint64_t seq) -> StatusOr<std::optional<Hash>> {
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> value,
                               Get(events_, EventKey(seq), snapshot));
    if (!value.has_value()) return std::optional<Hash>();
    Hash h;
    std::string_view bytes;
    JOBLEDGER_RETURN_IF_ERROR(SplitValue(*value, seq, &h, &bytes));
    return std::optional<Hash>(h);
  };

  const uint64_t total = result.to >= result.from ? result.to - result.from + 1 : 0;
  if (total > 0) {
    // The chain is checked in independent ranges, in parallel: range k starts from
    // the stored hash of the event before it, which range k-1 proves. Each range stops
    // at its first problem; the lowest one is the log's first.
    const uint64_t wanted = VerifyRanges(total, options.threads);
    const uint64_t per_range = (total + wanted - 1) / wanted;
    const uint64_t ranges = (total + per_range - 1) / per_range;  // none of them empty
    std::vector<ChainFinding> findings(ranges);
    std::atomic<uint64_t> checked{0};
    auto run = [&](uint64_t k, bool report) {
      const uint64_t from = result.from + k * per_range;
      const uint64_t to = std::min(result.to, from + per_range - 1);
      findings[k] = VerifyChainRange(from, to, snapshot, head, &checked,
                                     report ? options.progress : nullptr, total);
    };
    std::vector<std::thread> threads;
    for (uint64_t k = 1; k < ranges; ++k) threads.emplace_back(run, k, false);
    run(0, true);
    for (std::thread& t : threads) t.join();
    result.events_checked = checked.load();
    for (ChainFinding& f : findings) {
      // Ranges are in order, and a range's anchor problem names an event of the range
      // before it: the first finding by sequence, earlier range first, is the answer.
      if (f.problem == VerifyProblem::kNone) continue;
      if (result.ok() || f.sequence < result.first_bad_sequence) {
        result.problem = f.problem;
        result.first_bad_sequence = f.sequence;
        result.detail = std::move(f.detail);
      }
    }
    if (!result.ok()) {
      result.events_checked = result.first_bad_sequence > result.from
                                  ? result.first_bad_sequence - result.from
                                  : 0;
      return result;
    }
    const Hash prev = findings.back().last_hash;
    result.last_hash = prev;
    if (result.to == head.sequence && prev != head.hash) {
      return problem(VerifyProblem::kHeadMismatch, head.sequence,
                     "the head record's hash differs from event " + SeqStr(head.sequence) + "'s hash");
    }
  }
  if (options.to >= head.sequence) {
    // Nothing may follow the head.
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
    it->Seek(EventKey(head.sequence + 1));
    if (it->Valid()) {
      std::optional<uint64_t> after = ParseEventKey(ToView(it->key()));
      return problem(VerifyProblem::kHeadMismatch, after.value_or(head.sequence + 1),
                     "events are stored beyond the head record's sequence " + SeqStr(head.sequence));
    }
    if (!it->status().ok()) {
      return problem(VerifyProblem::kStorageCorruption, head.sequence + 1,
                     "storage error after the head: " + it->status().ToString());
    }
  }
  if (options.check_indexes && result.to >= result.from) {
    JOBLEDGER_RETURN_IF_ERROR(VerifyIndexes(result.from, result.to, snapshot, &result));
    if (!result.ok()) return result;
  }
  if (options.digest.has_value()) {
    const Digest& d = *options.digest;
    if (d.sequence > head.sequence) {
      return problem(VerifyProblem::kTruncated, head.sequence + 1,
                     "the digest is at sequence " + SeqStr(d.sequence) +
                         " but the log ends at " + SeqStr(head.sequence) + " (truncated)");
    }
    if (d.sequence > 0) {
      StatusOr<std::optional<Hash>> h = stored_hash(d.sequence);
      if (!h.ok()) return problem(VerifyProblem::kDecodeFailed, d.sequence, h.status().message());
      if (!h->has_value()) {
        return problem(VerifyProblem::kMissingEvent, d.sequence,
                       "event " + SeqStr(d.sequence) + " named by the digest is missing");
      }
      if (**h != d.hash) {
        return problem(VerifyProblem::kDigestMismatch, d.sequence,
                       "event " + SeqStr(d.sequence) +
                           " differs from the digest: the log up to it was rewritten");
      }
    } else if (d.hash != Hash{}) {
      return problem(VerifyProblem::kDigestMismatch, 0, "a digest at sequence 0 must have a zero hash");
    }
  }
  if (options.progress) options.progress(result.events_checked, total);
  return result;
}

namespace {

// A multiset hash of index entries: the sum of a 64-bit hash of each (key, value),
// with the count, so the order of the entries does not matter and a missing, extra or
// changed entry shows.
struct EntrySum {
  uint64_t sum = 0;
  uint64_t count = 0;
  void Add(std::string_view key, std::string_view value) {
    uint64_t h = std::hash<std::string_view>()(key) * 0x9e3779b97f4a7c15ULL ^
                 std::hash<std::string_view>()(value);
    // splitmix64's finaliser: spreads the bits before they are summed.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    sum += h;
    ++count;
  }
  friend bool operator==(const EntrySum&, const EntrySum&) = default;
};

}  // namespace

Status RocksEventLog::VerifyIndexes(uint64_t from, uint64_t to, const rocksdb::Snapshot* snapshot,
                                    VerifyResult* result) const {
  // One scan of the events computes the entries each index must hold for [from, to];
  // one scan of each index sums the entries it holds for [from, to]. Only when a sum
  // differs are the entries looked up one by one, to name the damaged one.
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.fill_cache = false;
  EntrySum want_job, want_thing;
  // The time index is checked in step with the events: its entries, ordered by
  // (recordedAt, sequence), come in sequence order too, since time never goes back.
  // Each entry of [from, to] must name an event recorded at its time, and the last
  // event of every run of equal times (and the log's last) must have one. Entries
  // outside [from, to] are skipped.
  bool time_ok = true;
  {
    std::unique_ptr<rocksdb::Iterator> ti(db_->NewIterator(ro, time_index_));
    ti->SeekToFirst();
    std::optional<TimeKeyParts> entry;  // the next entry of [from, to], if any
    auto next_entry = [&]() {
      entry.reset();
      for (; ti->Valid(); ti->Next()) {
        std::optional<TimeKeyParts> parts = ParseTimeKey(ToView(ti->key()));
        if (!parts) {
          time_ok = false;  // malformed
          return;
        }
        if (parts->sequence < from || parts->sequence > to) continue;
        entry = parts;
        ti->Next();
        return;
      }
    };
    next_entry();
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
    uint64_t seq = from;
    std::optional<int64_t> previous_time;  // of event seq - 1, when in range
    bool previous_has_entry = false;
    // Past `to` only to learn whether the successor was recorded later.
    for (it->Seek(EventKey(from)); it->Valid() && seq <= to + 1; it->Next(), ++seq) {
      Hash h;
      std::string_view bytes;
      std::optional<uint64_t> key_seq = ParseEventKey(ToView(it->key()));
      if (!key_seq || *key_seq != seq) break;  // the chain check names holes
      Status split = SplitValue(ToView(it->value()), seq, &h, &bytes);
      if (!split.ok()) return LocateIndexDamage(from, to, snapshot, result);
      StatusOr<Event> e = DecodeEvent(bytes, seq);
      if (!e.ok()) return LocateIndexDamage(from, to, snapshot, result);
      if (previous_time && *previous_time < e->recorded_at_micros && !previous_has_entry) {
        time_ok = false;  // the end of a run without its entry
      }
      if (seq > to) {
        previous_time.reset();
        break;
      }
      previous_time = e->recorded_at_micros;
      previous_has_entry = false;
      if (entry && entry->sequence < seq) time_ok = false;  // out of order: damage
      if (entry && entry->sequence == seq) {
        if (entry->recorded_at_micros != e->recorded_at_micros) time_ok = false;
        previous_has_entry = true;
        next_entry();
      }
      const char kind = static_cast<char>(KindOf(e->body));
      std::string_view job = JobIdOf(e->body);
      std::string_view thing = ThingNameOf(e->body);
      if (!job.empty()) want_job.Add(StreamKey(KeyPrefix::kJobStream, job, seq), {&kind, 1});
      if (!thing.empty()) want_thing.Add(StreamKey(KeyPrefix::kThingStream, thing, seq), {&kind, 1});
    }
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(it->status(), "reading events"));
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(ti->status(), "reading time_index"));
    // The last event of the log has its time entry whatever follows.
    if (previous_time && !previous_has_entry) time_ok = false;
    if (entry) time_ok = false;  // an entry no event of the range matched
  }
  auto sum_of = [&](rocksdb::ColumnFamilyHandle* cf) -> StatusOr<std::optional<EntrySum>> {
    EntrySum got;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = ToView(it->key());
      std::optional<uint64_t> seq = ParseStreamKeySequence(key);
      if (!seq) return std::optional<EntrySum>();  // malformed: located below
      if (*seq < from || *seq > to) continue;
      got.Add(key, ToView(it->value()));
    }
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(it->status(), "reading " + cf->GetName()));
    return std::optional<EntrySum>(got);
  };
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<EntrySum> job, sum_of(job_stream_));
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<EntrySum> thing, sum_of(thing_stream_));
  if (job == want_job && thing == want_thing && time_ok) return Status();
  JOBLEDGER_RETURN_IF_ERROR(LocateIndexDamage(from, to, snapshot, result));
  if (result->ok()) {
    // The sums differ but no entry was found wrong one by one: say which index.
    const char* which = job != want_job     ? "job_stream"
                        : thing != want_thing ? "thing_stream"
                                              : "time_index";
    result->problem = VerifyProblem::kIndexMismatch;
    result->first_bad_sequence = from;
    result->detail = std::string(which) + " does not hold exactly the entries events " + SeqStr(from) +
                     ".." + SeqStr(to) + " imply";
  }
  return Status();
}

Status RocksEventLog::LocateIndexDamage(uint64_t from, uint64_t to, const rocksdb::Snapshot* snapshot,
                                        VerifyResult* result) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  auto fail = [&](uint64_t seq, std::string detail) {
    result->problem = VerifyProblem::kIndexMismatch;
    result->first_bad_sequence = seq;
    result->detail = std::move(detail);
    return Status();
  };
  auto read = [&](uint64_t seq) -> StatusOr<Event> {
    std::string value;
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(db_->Get(ro, events_, EventKey(seq), &value),
                                                  "reading event " + SeqStr(seq)));
    Hash h;
    std::string_view bytes;
    JOBLEDGER_RETURN_IF_ERROR(SplitValue(value, seq, &h, &bytes));
    return DecodeEvent(bytes, seq);
  };
  auto has = [&](rocksdb::ColumnFamilyHandle* cf, const std::string& key) -> StatusOr<bool> {
    std::string value;
    rocksdb::Status st = db_->Get(ro, cf, key, &value);
    if (st.IsNotFound()) return false;
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(st, "reading " + cf->GetName()));
    return true;
  };
  // The time index must answer "the last event at or before t" for every t: an entry
  // (recordedAt, sequence) for every event whose successor was recorded later, and
  // for the last event.
  auto check_time_entry = [&](uint64_t seq, int64_t recorded_at) -> StatusOr<bool> {
    JOBLEDGER_ASSIGN_OR_RETURN(bool ok, has(time_index_, TimeKey(recorded_at, seq)));
    if (!ok) {
      fail(seq, "time_index has no entry for event " + SeqStr(seq) +
                    ", the last one recorded at its time; as-of reads by time would be wrong")
          .IgnoreError();
    }
    return ok;
  };
  // Every event is in the streams it names.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
    uint64_t seq = from;
    std::optional<int64_t> previous_time;  // of event seq - 1, when in range
    for (it->Seek(EventKey(from)); it->Valid() && seq <= to; it->Next(), ++seq) {
      Hash h;
      std::string_view bytes;
      JOBLEDGER_RETURN_IF_ERROR(SplitValue(ToView(it->value()), seq, &h, &bytes));
      StatusOr<Event> e = DecodeEvent(bytes, seq);
      if (!e.ok()) return fail(seq, e.status().message());
      if (previous_time && *previous_time < e->recorded_at_micros) {
        JOBLEDGER_ASSIGN_OR_RETURN(bool ok, check_time_entry(seq - 1, *previous_time));
        if (!ok) return Status();
      }
      previous_time = e->recorded_at_micros;
      if (seq == to) {
        // The range's last event: its successor, if any, decides.
        StatusOr<Event> next = read(seq + 1);
        const bool last = !next.ok() && next.status().code() == StatusCode::kNotFound;
        if (!next.ok() && !last) return next.status();
        if (last || next->recorded_at_micros > e->recorded_at_micros) {
          JOBLEDGER_ASSIGN_OR_RETURN(bool ok, check_time_entry(seq, e->recorded_at_micros));
          if (!ok) return Status();
        }
      }
      std::string_view job = JobIdOf(e->body);
      std::string_view thing = ThingNameOf(e->body);
      if (!job.empty()) {
        JOBLEDGER_ASSIGN_OR_RETURN(bool ok, has(job_stream_, StreamKey(KeyPrefix::kJobStream, job, seq)));
        if (!ok) return fail(seq, "event " + SeqStr(seq) + " is missing from job '" + std::string(job) + "''s stream");
      }
      if (!thing.empty()) {
        JOBLEDGER_ASSIGN_OR_RETURN(bool ok, has(thing_stream_, StreamKey(KeyPrefix::kThingStream, thing, seq)));
        if (!ok) return fail(seq, "event " + SeqStr(seq) + " is missing from thing '" + std::string(thing) + "''s stream");
      }
    }
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(it->status(), "reading events"));
  }
  // Every stream entry names an event of that job or thing.
  for (rocksdb::ColumnFamilyHandle* cf : {job_stream_, thing_stream_}) {
    const bool jobs = cf == job_stream_;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = ToView(it->key());
      std::optional<uint64_t> seq = ParseStreamKeySequence(key);
      if (!seq) return fail(0, cf->GetName() + ": a malformed key");
      if (*seq < from || *seq > to) continue;
      std::string_view id = key.substr(2, key.size() - 10);
      StatusOr<Event> e = read(*seq);
      if (!e.ok()) return fail(*seq, cf->GetName() + " names event " + SeqStr(*seq) + ": " + e.status().message());
      std::string_view named = jobs ? JobIdOf(e->body) : ThingNameOf(e->body);
      if (named != id) {
        return fail(*seq, cf->GetName() + " files event " + SeqStr(*seq) + " under '" + std::string(id) +
                              "' but it belongs to '" + std::string(named) + "'");
      }
      if (it->value().size() != 1 || static_cast<uint8_t>(it->value()[0]) != static_cast<uint8_t>(KindOf(e->body))) {
        return fail(*seq, cf->GetName() + " records the wrong kind for event " + SeqStr(*seq));
      }
    }
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(it->status(), "reading " + cf->GetName()));
  }
  // Every time index entry names an event recorded at that time.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, time_index_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::optional<TimeKeyParts> parts = ParseTimeKey(ToView(it->key()));
      if (!parts) return fail(0, "time_index: a malformed key");
      if (parts->sequence < from || parts->sequence > to) continue;
      StatusOr<Event> e = read(parts->sequence);
      if (!e.ok()) return fail(parts->sequence, "time_index names event " + SeqStr(parts->sequence) + ": " + e.status().message());
      if (e->recorded_at_micros != parts->recorded_at_micros) {
        return fail(parts->sequence, "time_index files event " + SeqStr(parts->sequence) +
                                         " under another time than it was recorded at");
      }
    }
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(it->status(), "reading time_index"));
  }
  return Status();
}

}  // namespace internal

std::string_view VerifyProblemName(VerifyProblem problem) {
  switch (problem) {
    case VerifyProblem::kNone: return "none";
    case VerifyProblem::kDecodeFailed: return "decode-failed";
    case VerifyProblem::kHashMismatch: return "hash-mismatch";
    case VerifyProblem::kChainBroken: return "chain-broken";
    case VerifyProblem::kMissingEvent: return "missing-event";
    case VerifyProblem::kHeadMismatch: return "head-mismatch";
    case VerifyProblem::kDigestMismatch: return "digest-mismatch";
    case VerifyProblem::kTruncated: return "truncated";
    case VerifyProblem::kStorageCorruption: return "storage-corruption";
    case VerifyProblem::kIndexMismatch: return "index-mismatch";
  }
  return "unknown";
}

std::string PrintableKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}


StatusOr<std::vector<std::string>> CompareFamilies(const RowStore& log, FamilyId a_family,
                                                   FamilyId b_family, size_t limit) {
  auto a = log.ScanRows(a_family, "");
  auto b = log.ScanRows(b_family, "");
  return internal::DiffRows(*a, *b, /*skip_prefix=*/{}, limit,
                            {"differs", "is only in the first", "is only in the second"});
}

}  // namespace jobledger
