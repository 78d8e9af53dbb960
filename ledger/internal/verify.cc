// EventLog verification: the hash chain, the head, an earlier digest, and the indexes.

#include <rocksdb/db.h>

#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/rocks_event_log.h"
#include "ledger/internal/rocks_util.h"

namespace jobledger {
namespace internal {

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
    Hash prev{};
    if (result.from > 1) {
      StatusOr<std::optional<Hash>> anchor = stored_hash(result.from - 1);
      if (!anchor.ok()) {
        // A storage error reading the anchor is storage corruption; a value too short
        // to hold a hash is a decode failure.
        const VerifyProblem p = anchor.status().message().find("shorter than its hash") !=
                                        std::string::npos
                                    ? VerifyProblem::kDecodeFailed
                                    : VerifyProblem::kStorageCorruption;
        return problem(p, result.from - 1, anchor.status().message());
      }
      if (!anchor->has_value()) {
        return problem(VerifyProblem::kMissingEvent, result.from - 1,
                       "event " + SeqStr(result.from - 1) + " is missing");
      }
      prev = **anchor;
    }
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
    it->Seek(EventKey(result.from));
    for (uint64_t seq = result.from; seq <= result.to; ++seq) {
      // Step only between events of the range: stepping past `to` could meet damage
      // outside the range and blame the range's last event.
      if (seq > result.from) it->Next();
      if (!it->Valid()) {
        if (!it->status().ok()) {
          return problem(VerifyProblem::kStorageCorruption, seq,
                         "storage error reading event " + SeqStr(seq) + ": " +
                             it->status().ToString());
        }
        return problem(VerifyProblem::kMissingEvent, seq,
                       "event " + SeqStr(seq) + " is missing (the log ends at " +
                           SeqStr(seq - 1) + ", the head says " + SeqStr(head.sequence) + ")");
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
                         "event " + SeqStr(seq) +
                             "'s previousHash is not the hash of event " + SeqStr(seq - 1));
        }
        if (!decoded.ok()) {
          return problem(VerifyProblem::kDecodeFailed, seq, decoded.status().message());
        }
        return problem(VerifyProblem::kHashMismatch, seq,
                       "event " + SeqStr(seq) +
                           "'s bytes do not match its recorded hash (the event was altered)");
      }
      // The stored hash is right, but the hash is computed from the real predecessor,
      // not from the event's previousHash field: that field must agree too, or a
      // reader following the chain through the events would disagree with us.
      StatusOr<Hash> recorded_prev = DecodePreviousHash(bytes, seq);
      if (!recorded_prev.ok()) {
        return problem(VerifyProblem::kDecodeFailed, seq, recorded_prev.status().message());
      }
      if (*recorded_prev != prev) {
        return problem(VerifyProblem::kChainBroken, seq,
                       "event " + SeqStr(seq) + "'s previousHash is not the hash of event " +
                           SeqStr(seq - 1));
      }
      prev = hash;
      ++result.events_checked;
      if (options.progress && result.events_checked % kProgressEvery == 0) {
        options.progress(result.events_checked, total);
      }
    }
    result.last_hash = prev;
    if (result.to == head.sequence && prev != head.hash) {
      return problem(VerifyProblem::kHeadMismatch, head.sequence,
                     "the head record's hash differs from event " + SeqStr(head.sequence) + "'s hash");
    }
    if (!it->status().ok()) {
      return problem(VerifyProblem::kStorageCorruption, result.to,
                     "storage error after event " + SeqStr(result.to) + ": " + it->status().ToString());
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

Status RocksEventLog::VerifyIndexes(uint64_t from, uint64_t to, const rocksdb::Snapshot* snapshot,
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


StatusOr<std::vector<std::string>> CompareFamilies(const EventLog& log, FamilyId a_family,
                                                   FamilyId b_family, size_t limit) {
  std::vector<std::string> out;
  auto a = log.ScanRows(a_family, "");
  auto b = log.ScanRows(b_family, "");
  a->SeekToFirst();
  b->SeekToFirst();
  while ((a->Valid() || b->Valid()) && out.size() < limit) {
    if (a->Valid() && b->Valid() && a->key() == b->key()) {
      if (a->value() != b->value()) out.push_back("row " + PrintableKey(a->key()) + " differs");
      a->Next();
      b->Next();
    } else if (!b->Valid() || (a->Valid() && a->key() < b->key())) {
      out.push_back("row " + PrintableKey(a->key()) + " is only in the first");
      a->Next();
    } else {
      out.push_back("row " + PrintableKey(b->key()) + " is only in the second");
      b->Next();
    }
  }
  JOBLEDGER_RETURN_IF_ERROR(a->status());
  JOBLEDGER_RETURN_IF_ERROR(b->status());
  return out;
}

}  // namespace jobledger
