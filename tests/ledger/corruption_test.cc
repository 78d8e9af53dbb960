// Corruption table for EventLog: each test damages a ledger folder the way a disk, an
// operator or an attacker could (through RocksDB itself, so storage checksums pass)
// and checks that Open, Read, cursors and Verify name the damage precisely.

#include <capnp/schema.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/event.h"
#include "jobledger/event_log.h"
#include "jobledger/status.h"
#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/keys.h"
#include "ledger/schema/events.capnp.h"
#include "tests/support/raw_db.h"

namespace jobledger {
namespace {

using testing::EncodeHeadRecord;  // tests/support/raw_db.h
using testing::JoinStoredEvent;
using testing::RawDb;
using testing::StoredEvent;

constexpr size_t kHashBytes = sizeof(Hash);
constexpr int64_t kStartMicros = 1'700'000'000'000'000;
const std::string kEvents(internal::kEventsFamily);
const std::string kMeta(internal::kMetaFamily);

// Compares VerifyProblems by name, so a failure prints "hash-mismatch", not bytes.
#define EXPECT_PROBLEM(result, expected)                                                     \
  EXPECT_EQ(VerifyProblemName((result).problem), VerifyProblemName(VerifyProblem::expected)) \
      << (result).detail

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// A fresh folder under the test temp dir, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl =
        (std::filesystem::path(::testing::TempDir()) / "jobledger-corruption-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) root_ = tmpl;
  }
  ~ScratchDir() {
    if (root_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  bool ok() const { return !root_.empty(); }
  std::string ledger() const { return root_ + "/ledger"; }

 private:
  std::string root_;
};

// A stored events-family value: hash:32 | canonical event bytes.
std::string JobIdFor(uint64_t n) { return "firmware-rollout-" + std::to_string((n - 1) / 5 + 1); }

// Event n (1-based) of a realistic history: every job is created, queued on two
// things, and the first thing runs it to success.
NewEvent MakeEvent(uint64_t n) {
  const uint64_t job = (n - 1) / 5 + 1;
  const uint64_t created_at = (job - 1) * 5 + 1;
  const std::string job_id = JobIdFor(n);
  const std::string thing_a = "sensor-" + std::to_string(job) + "-a";
  const std::string thing_b = "sensor-" + std::to_string(job) + "-b";
  const std::string arn = "arn:aws:iot:eu-west-1:123456789012:thing/";
  NewEvent e;
  switch ((n - 1) % 5) {
    case 0: {
      JobCreated b;
      b.job_id = job_id;
      b.targets = {arn + thing_a, arn + thing_b};
      b.document = R"({"operation":"firmware-update","version":"2.)" + std::to_string(job) +
                   R"(.0","url":"s3://fw-bucket/image.bin"})";
      b.description = "Roll out firmware 2." + std::to_string(job) + ".0";
      b.timeout_config = TimeoutConfig{60};
      e.actor = "arn:aws:iam::123456789012:user/release-operator";
      e.body = std::move(b);
      break;
    }
    case 1:
    case 2: {
      const std::string& thing = (n - 1) % 5 == 1 ? thing_a : thing_b;
      e.actor = "system:rollout";
      e.cause = CauseRef::Sequence(created_at);
      e.body = ExecutionQueued{job_id, thing, 1, arn + thing};
      break;
    }
    case 3:
    case 4: {
      const bool first = (n - 1) % 5 == 3;
      ExecutionStatusChanged b;
      b.job_id = job_id;
      b.thing_name = thing_a;
      b.execution_number = 1;
      b.from = first ? ExecutionStatus::kQueued : ExecutionStatus::kInProgress;
      b.to = first ? ExecutionStatus::kInProgress : ExecutionStatus::kSucceeded;
      b.status_details = DetailsMap{{"progress", first ? "10%" : "100%"}, {"step", "flash"}};
      b.version_number = first ? 2 : 3;
      if (first) b.step_timeout_in_minutes = 15;
      e.actor = "arn:aws:iot:eu-west-1:123456789012:thing/" + thing_a;
      e.body = std::move(b);
      break;
    }
  }
  return e;
}

Hash Flipped(Hash h) {
  h[0] = static_cast<uint8_t>(h[0] ^ 0x01);
  return h;
}

// Byte offset in canonical Event bytes of Event.body's union discriminant, found
// through the schema: the root pointer is word 0 and the data section follows it.
size_t BodyDiscriminantByteOffset() {
  capnp::StructSchema event = capnp::Schema::from<schema::Event>();
  capnp::StructSchema::Field body = event.getFieldByName("body");
  EXPECT_TRUE(body.getProto().isGroup());
  capnp::StructSchema group = body.getType().asStruct();
  return 8 + 2 * size_t{group.getProto().getStruct().getDiscriminantOffset()};
}

uint16_t BodyUnionMemberCount() {
  capnp::StructSchema event = capnp::Schema::from<schema::Event>();
  return static_cast<uint16_t>(
      event.getFieldByName("body").getType().asStruct().getUnionFields().size());
}

uint16_t GetLe16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) |
                               (static_cast<uint8_t>(b[at + 1]) << 8));
}

void SetLe16(std::string* b, size_t at, uint16_t v) {
  (*b)[at] = static_cast<char>(v & 0xff);
  (*b)[at + 1] = static_cast<char>(v >> 8);
}

class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()) << "mkdtemp failed"; }

  StatusOr<std::unique_ptr<EventLog>> OpenLog(OpenMode mode) {
    EventLogOptions options;
    options.clock = &clock_;
    options.sync = false;
    return EventLog::Open(options, path(), mode);
  }

  // Appends events first..last (one per append) to `log`.
  void AppendRange(EventLog& log, uint64_t first, uint64_t last) {
    for (uint64_t n = first; n <= last; ++n) {
      clock_.Advance(1000);
      AppendRequest request;
      request.events.push_back(MakeEvent(n));
      request.request_id = "req-" + std::to_string(n);
      StatusOr<AppendResult> r = log.Append(request);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->first_sequence, n);
    }
  }

  // Creates the ledger with events 1..count and closes it; returns its digest.
  Digest Populate(uint64_t count) {
    StatusOr<std::unique_ptr<EventLog>> log = OpenLog(OpenMode::kReadWrite);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return {};
    AppendRange(**log, 1, count);
    return (*log)->digest();
  }

  std::unique_ptr<RawDb> OpenRaw() {
    rocksdb::Status s;
    std::unique_ptr<RawDb> raw = RawDb::Open(path(), &s);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return raw;
  }

  static StoredEvent GetStored(RawDb& raw, uint64_t seq) {
    StoredEvent out;
    rocksdb::Status s = raw.GetEvent(seq, &out);
    EXPECT_TRUE(s.ok()) << "event " << seq << ": " << s.ToString();
    return out;
  }

  // Stores `bytes_k` as event k with a correctly chained hash, re-encodes events
  // k+1..last with the new previousHash and rehashes them, and points the head
  // record at `last`: a self-consistent rewrite of the tail.
  static void RechainFrom(RawDb& raw, uint64_t k, const std::string& bytes_k, uint64_t last) {
    Hash prev{};
    if (k > 1) prev = GetStored(raw, k - 1).hash;
    int64_t last_recorded_at = 0;
    for (uint64_t seq = k; seq <= last; ++seq) {
      std::string bytes = bytes_k;
      if (seq != k) {
        StatusOr<Event> e = internal::DecodeEvent(GetStored(raw, seq).bytes, seq);
        ASSERT_TRUE(e.ok()) << e.status().ToString();
        e->previous_hash = prev;
        last_recorded_at = e->recorded_at_micros;
        bytes = internal::EncodeEvent(*e);
      } else {
        StatusOr<Event> at = internal::DecodeEvent(bytes, seq);
        ASSERT_TRUE(at.ok()) << at.status().ToString();
        last_recorded_at = at->recorded_at_micros;
      }
      const Hash hash = internal::ChainHash(prev, seq, bytes);
      ASSERT_ROCKS_OK(raw.Put(kEvents, internal::EventKey(seq), JoinStoredEvent(hash, bytes)));
      prev = hash;
    }
    ASSERT_ROCKS_OK(raw.Put(kMeta, internal::MetaKey(internal::kHeadMetaName),
                            EncodeHeadRecord(last, prev, last_recorded_at)));
  }

  static VerifyResult MustVerify(const EventLog& log, const VerifyOptions& options = {}) {
    StatusOr<VerifyResult> r = log.Verify(options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyResult{};
  }

  static VerifyOptions WithDigest(const Digest& d) {
    VerifyOptions options;
    options.digest = d;
    return options;
  }

  std::string path() const { return dir_.ledger(); }

  ManualClock clock_{kStartMicros};
  ScratchDir dir_;
};

// Flips one byte of event `seq`'s jobId text (so it still decodes) through RocksDB.
void FlipJobIdByte(RawDb& raw, uint64_t seq) {
  std::string value;
  ASSERT_ROCKS_OK(raw.Get(kEvents, internal::EventKey(seq), &value));
  const std::string job_id = JobIdFor(seq);
  const size_t at = value.find(job_id, kHashBytes);
  ASSERT_NE(at, std::string::npos) << "jobId of event " << seq << " not found in its bytes";
  value[at] = static_cast<char>(value[at] ^ 0x20);  // 'f' -> 'F'
  StatusOr<Event> altered = internal::DecodeEvent(std::string_view(value).substr(kHashBytes), seq);
  ASSERT_TRUE(altered.ok()) << altered.status().ToString();
  ASSERT_EQ(JobIdOf(altered->body), "F" + job_id.substr(1));
  ASSERT_ROCKS_OK(raw.Put(kEvents, internal::EventKey(seq), value));
}

// ---- 1. A flipped byte in a stored event --------------------------------------------

TEST_F(CorruptionTest, FlippedByteInStoredEventIsNamedByVerify) {
  Populate(20);
  ASSERT_FALSE(HasFatalFailure());
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    ASSERT_NO_FATAL_FAILURE(FlipJobIdByte(*raw, 7));
  }
  auto log = OpenLog(OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  VerifyResult r = MustVerify(**log);
  EXPECT_PROBLEM(r, kHashMismatch);
  EXPECT_EQ(r.first_bad_sequence, 7u);
  EXPECT_TRUE(Contains(r.detail, "event 7")) << r.detail;
  // Only the scan up to the altered event is clean.
  VerifyOptions before;
  before.to = 6;
  EXPECT_TRUE(MustVerify(**log, before).ok());
  VerifyOptions after;
  after.from = 8;
  EXPECT_TRUE(MustVerify(**log, after).ok());
  // Reads do not check hashes: the altered event decodes with the altered jobId.
  StatusOr<Event> e = (*log)->Read(7);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(JobIdOf(e->body), "Firmware-rollout-2");
}

TEST_F(CorruptionTest, FlippedByteAtFirstMiddleAndLastEvent) {
  for (uint64_t seq : {uint64_t{1}, uint64_t{10}, uint64_t{20}}) {
    SCOPED_TRACE("flipped event " + std::to_string(seq));
    ScratchDir dir;
    ASSERT_TRUE(dir.ok());
    EventLogOptions options;
    options.clock = &clock_;
    options.sync = false;
    {
      auto log = EventLog::Open(options, dir.ledger(), OpenMode::kReadWrite);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      AppendRange(**log, 1, 20);
      ASSERT_FALSE(HasFatalFailure());
    }
    {
      rocksdb::Status s;
      std::unique_ptr<RawDb> raw = RawDb::Open(dir.ledger(), &s);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_NO_FATAL_FAILURE(FlipJobIdByte(*raw, seq));
    }
    auto log = EventLog::Open(options, dir.ledger(), OpenMode::kReadOnly);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    VerifyResult r = MustVerify(**log);
    EXPECT_PROBLEM(r, kHashMismatch);
    EXPECT_EQ(r.first_bad_sequence, seq);
  }
}

// ---- 2. An altered previousHash -----------------------------------------------------

TEST_F(CorruptionTest, AlteredPreviousHashIsChainBroken) {
  for (uint64_t k : {uint64_t{1}, uint64_t{8}, uint64_t{20}}) {
    SCOPED_TRACE("altered event " + std::to_string(k));
    ScratchDir dir;
    ASSERT_TRUE(dir.ok());
    EventLogOptions options;
    options.clock = &clock_;
    options.sync = false;
    {
      auto log = EventLog::Open(options, dir.ledger(), OpenMode::kReadWrite);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      AppendRange(**log, 1, 20);
      ASSERT_FALSE(HasFatalFailure());
    }
    {
      rocksdb::Status s;
      std::unique_ptr<RawDb> raw = RawDb::Open(dir.ledger(), &s);
      ASSERT_TRUE(s.ok()) << s.ToString();
      StoredEvent stored = GetStored(*raw, k);
      StatusOr<Event> e = internal::DecodeEvent(stored.bytes, k);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      e->previous_hash = Flipped(e->previous_hash);
      // Keep the old stored hash.
      ASSERT_ROCKS_OK(raw->Put(kEvents, internal::EventKey(k),
                               JoinStoredEvent(stored.hash, internal::EncodeEvent(*e))));
    }
    auto log = EventLog::Open(options, dir.ledger(), OpenMode::kReadOnly);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    VerifyResult r = MustVerify(**log);
    EXPECT_PROBLEM(r, kChainBroken);
    EXPECT_EQ(r.first_bad_sequence, k);
  }
}

// The previousHash field lies, but the stored hashes are recomputed over the real
// predecessor (as a buggy writer or a careless repair tool would): every stored hash
// then checks, yet the event's previousHash is not its predecessor's hash.
//
// The stored hashes are all right (computed from the real predecessor), but event 8's
// previousHash field lies: Verify must still say the chain is broken at 8.
TEST_F(CorruptionTest, PreviousHashFieldLyingUnderValidHashIsChainBroken) {
  Populate(20);
  ASSERT_FALSE(HasFatalFailure());
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    StatusOr<Event> e = internal::DecodeEvent(GetStored(*raw, 8).bytes, 8);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    e->previous_hash = Flipped(e->previous_hash);
    ASSERT_NO_FATAL_FAILURE(RechainFrom(*raw, 8, internal::EncodeEvent(*e), 20));
  }
  auto log = OpenLog(OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  // The lie is visible through the public API: event 8's previousHash is not the
  // hash Verify computes for event 7.
  StatusOr<Event> e8 = (*log)->Read(8);
  ASSERT_TRUE(e8.ok()) << e8.status().ToString();
  VerifyOptions up_to_7;
  up_to_7.to = 7;
  VerifyResult prefix = MustVerify(**log, up_to_7);
  ASSERT_TRUE(prefix.ok()) << prefix.detail;
  ASSERT_NE(e8->previous_hash, prefix.last_hash);
  VerifyResult r = MustVerify(**log);
  EXPECT_PROBLEM(r, kChainBroken);
  EXPECT_EQ(r.first_bad_sequence, 8u);
}

// ---- 3. A forged event with the whole tail re-chained -------------------------------

TEST_F(CorruptionTest, RechainedForgeryIsCaughtOnlyByDigest) {
  Digest d;
  {
    auto log = OpenLog(OpenMode::kReadWrite);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    AppendRange(**log, 1, 20);
    ASSERT_FALSE(HasFatalFailure());
    d = (*log)->digest();
    ASSERT_EQ(d.sequence, 20u);
    AppendRange(**log, 21, 25);
    ASSERT_FALSE(HasFatalFailure());
  }
  Hash old_head_hash{};
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    old_head_hash = GetStored(*raw, 25).hash;
    StatusOr<Event> e = internal::DecodeEvent(GetStored(*raw, 10).bytes, 10);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    auto* change = std::get_if<ExecutionStatusChanged>(&e->body);
    ASSERT_NE(change, nullptr);
    ASSERT_EQ(change->to, ExecutionStatus::kSucceeded);
    change->to = ExecutionStatus::kFailed;  // the forgery: a success becomes a failure
    change->status_details = DetailsMap{{"reason", "checksum mismatch"}};
    ASSERT_NO_FATAL_FAILURE(RechainFrom(*raw, 10, internal::EncodeEvent(*e), 25));
  }
  auto log = OpenLog(OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->head().sequence, 25u);
  EXPECT_NE((*log)->head().hash, old_head_hash);
  StatusOr<Event> forged = (*log)->Read(10);
  ASSERT_TRUE(forged.ok()) << forged.status().ToString();
  ASSERT_TRUE(std::holds_alternative<ExecutionStatusChanged>(forged->body));
  EXPECT_EQ(std::get<ExecutionStatusChanged>(forged->body).to, ExecutionStatus::kFailed);

  VerifyResult alone = MustVerify(**log);
  EXPECT_TRUE(alone.ok()) << VerifyProblemName(alone.problem) << ": " << alone.detail;
  EXPECT_EQ(alone.events_checked, 25u);
  EXPECT_EQ(alone.last_hash, (*log)->head().hash);

  VerifyResult with_digest = MustVerify(**log, WithDigest(d));
  EXPECT_PROBLEM(with_digest, kDigestMismatch);
  EXPECT_EQ(with_digest.first_bad_sequence, 20u);
}

// ---- 4. Truncation ------------------------------------------------------------------

TEST_F(CorruptionTest, TruncatedTailIsCaughtOnlyByDigest) {
  const Digest d = Populate(20);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(d.sequence, 20u);
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    StoredEvent e15 = GetStored(*raw, 15);
    StatusOr<Event> e15_event = internal::DecodeEvent(e15.bytes, 15);
    ASSERT_TRUE(e15_event.ok()) << e15_event.status().ToString();
    StatusOr<int64_t> at = e15_event->recorded_at_micros;
    for (uint64_t seq = 16; seq <= 20; ++seq) {
      ASSERT_ROCKS_OK(raw->Delete(kEvents, internal::EventKey(seq)));
    }
    ASSERT_ROCKS_OK(raw->Put(kMeta, internal::MetaKey(internal::kHeadMetaName),
                             EncodeHeadRecord(15, e15.hash, *at)));
  }
  auto log = OpenLog(OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->head().sequence, 15u);

  VerifyResult alone = MustVerify(**log);
  EXPECT_TRUE(alone.ok()) << VerifyProblemName(alone.problem) << ": " << alone.detail;
  EXPECT_EQ(alone.events_checked, 15u);

  VerifyResult with_digest = MustVerify(**log, WithDigest(d));
  EXPECT_PROBLEM(with_digest, kTruncated);
  EXPECT_EQ(with_digest.first_bad_sequence, 16u);
  EXPECT_TRUE(Contains(with_digest.detail, "20")) << with_digest.detail;
}

// ---- 5. Wrong format version --------------------------------------------------------

TEST_F(CorruptionTest, WrongFormatVersionRefusesEveryOpenMode) {
  Populate(3);
  ASSERT_FALSE(HasFatalFailure());
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    std::string version;
    internal::PutBigEndian32(&version, 99);
    ASSERT_ROCKS_OK(raw->Put(kMeta, internal::MetaKey(internal::kFormatMetaName), version));
  }
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly, OpenMode::kSecondary}) {
    SCOPED_TRACE("mode " + std::to_string(static_cast<int>(mode)));
    auto log = OpenLog(mode);
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.status().code(), StatusCode::kFailedPrecondition) << log.status().ToString();
    EXPECT_TRUE(Contains(log.status().message(), "format version 99")) << log.status().ToString();
  }
  // Refusing did not rewrite the version.
  std::unique_ptr<RawDb> raw = OpenRaw();
  ASSERT_NE(raw, nullptr);
  std::string version;
  ASSERT_ROCKS_OK(raw->Get(kMeta, internal::MetaKey(internal::kFormatMetaName), &version));
  ASSERT_EQ(version.size(), 4u);
  EXPECT_EQ(internal::GetBigEndian32(version), 99u);
}

// ---- 6. Unknown union member --------------------------------------------------------

TEST_F(CorruptionTest, UnknownBodyMemberDecodesAsUnknownEvent) {
  Populate(20);
  ASSERT_FALSE(HasFatalFailure());
  const size_t offset = BodyDiscriminantByteOffset();
  const uint16_t members = BodyUnionMemberCount();
  ASSERT_EQ(members, static_cast<uint16_t>(kEventKindCount - 1));
  const uint16_t unknown = static_cast<uint16_t>(members + 7);
  constexpr uint64_t kPatched = 12;  // an ExecutionQueued in the middle
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    std::string bytes = GetStored(*raw, kPatched).bytes;
    // The root struct's data section must reach the discriminant (canonical form
    // trims trailing zero words, so a zero discriminant may not be stored at all).
    ASSERT_GE(bytes.size(), 8u);
    const size_t data_words = GetLe16(bytes, 4);
    ASSERT_GE(8 * data_words, offset - 8 + 2);
    ASSERT_EQ(GetLe16(bytes, offset), static_cast<uint16_t>(schema::Event::Body::EXECUTION_QUEUED));
    SetLe16(&bytes, offset, unknown);

    StatusOr<Event> decoded = internal::DecodeEvent(bytes, kPatched);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(KindOf(decoded->body), EventKind::kUnknown);
    ASSERT_TRUE(std::holds_alternative<UnknownEvent>(decoded->body));
    EXPECT_EQ(std::get<UnknownEvent>(decoded->body).discriminant, unknown);
    EXPECT_EQ(decoded->actor, "system:rollout");  // the envelope is intact

    ASSERT_NO_FATAL_FAILURE(RechainFrom(*raw, kPatched, bytes, 20));
  }
  auto log = OpenLog(OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();

  StatusOr<Event> read = (*log)->Read(kPatched);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->body, EventBody(UnknownEvent{unknown}));

  std::unique_ptr<EventCursor> cursor = (*log)->NewCursor();
  uint64_t seen = 0;
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
    ++seen;
    EXPECT_EQ(cursor->event().sequence, seen);
    const bool is_unknown = KindOf(cursor->event().body) == EventKind::kUnknown;
    EXPECT_EQ(is_unknown, seen == kPatched) << "event " << seen;
  }
  EXPECT_EQ(cursor->state(), EventCursor::State::kCaughtUp) << cursor->status().ToString();
  EXPECT_EQ(seen, 20u);
  cursor.reset();

  VerifyResult r = MustVerify(**log);
  EXPECT_TRUE(r.ok()) << VerifyProblemName(r.problem) << ": " << r.detail;
  EXPECT_EQ(r.events_checked, 20u);
}

TEST_F(CorruptionTest, UnknownBodyMemberAsLastEventWithHeadUpdated) {
  Populate(20);
  ASSERT_FALSE(HasFatalFailure());
  const size_t offset = BodyDiscriminantByteOffset();
  const uint16_t unknown = static_cast<uint16_t>(BodyUnionMemberCount() + 1);
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    std::string bytes = GetStored(*raw, 20).bytes;
    ASSERT_EQ(GetLe16(bytes, offset),
              static_cast<uint16_t>(schema::Event::Body::EXECUTION_STATUS_CHANGED));
    SetLe16(&bytes, offset, unknown);
    ASSERT_NO_FATAL_FAILURE(RechainFrom(*raw, 20, bytes, 20));
  }
  // The head now matches the last event, so even a read-write open accepts it.
  auto log = OpenLog(OpenMode::kReadWrite);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::unique_ptr<EventCursor> cursor = (*log)->NewCursor(19);
  ASSERT_EQ(cursor->state(), EventCursor::State::kPositioned) << cursor->status().ToString();
  EXPECT_NE(KindOf(cursor->event().body), EventKind::kUnknown);
  cursor->Next();
  ASSERT_EQ(cursor->state(), EventCursor::State::kPositioned) << cursor->status().ToString();
  EXPECT_EQ(cursor->event().sequence, 20u);
  EXPECT_EQ(cursor->event().body, EventBody(UnknownEvent{unknown}));
  cursor->Next();
  EXPECT_EQ(cursor->state(), EventCursor::State::kCaughtUp);
  cursor.reset();
  VerifyResult r = MustVerify(**log);
  EXPECT_TRUE(r.ok()) << VerifyProblemName(r.problem) << ": " << r.detail;
  EXPECT_EQ(r.last_hash, (*log)->head().hash);
}

// ---- 7. A truncated value -----------------------------------------------------------

TEST_F(CorruptionTest, TruncatedValueIsDataLossNamingTheSequence) {
  Populate(20);
  ASSERT_FALSE(HasFatalFailure());
  constexpr uint64_t kSeq = 9;
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    std::string value;
    ASSERT_ROCKS_OK(raw->Get(kEvents, internal::EventKey(kSeq), &value));
    size_t cut = value.size() / 2;
    if ((cut - kHashBytes) % 8 == 0) --cut;
    ASSERT_GT(cut, kHashBytes);
    ASSERT_NE((cut - kHashBytes) % 8, 0u);
    ASSERT_ROCKS_OK(raw->Put(kEvents, internal::EventKey(kSeq), value.substr(0, cut)));
  }
  auto log = OpenLog(OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();

  StatusOr<Event> read = (*log)->Read(kSeq);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss) << read.status().ToString();
  EXPECT_TRUE(Contains(read.status().message(), "event 9")) << read.status().ToString();
  EXPECT_TRUE((*log)->Read(kSeq - 1).ok());
  EXPECT_TRUE((*log)->Read(kSeq + 1).ok());

  std::unique_ptr<EventCursor> cursor = (*log)->NewCursor();
  uint64_t seen = 0;
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) ++seen;
  EXPECT_EQ(seen, kSeq - 1);
  ASSERT_EQ(cursor->state(), EventCursor::State::kFailed);
  EXPECT_EQ(cursor->status().code(), StatusCode::kDataLoss) << cursor->status().ToString();
  EXPECT_TRUE(Contains(cursor->status().message(), "event 9")) << cursor->status().ToString();
  cursor->Next();  // a no-op once failed
  EXPECT_EQ(cursor->state(), EventCursor::State::kFailed);
  cursor.reset();

  // The stored hash survives the cut, the bytes do not hash to it, and they do not
  // decode: Verify says kDecodeFailed.
  VerifyResult r = MustVerify(**log);
  EXPECT_PROBLEM(r, kDecodeFailed);
  EXPECT_EQ(r.first_bad_sequence, kSeq);
  EXPECT_TRUE(Contains(r.detail, "event 9")) << r.detail;
}

// ---- 8. A missing event in the middle -----------------------------------------------

TEST_F(CorruptionTest, MissingEventInTheMiddle) {
  Populate(20);
  ASSERT_FALSE(HasFatalFailure());
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    ASSERT_ROCKS_OK(raw->Delete(kEvents, internal::EventKey(5)));
  }
  auto log = OpenLog(OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();

  StatusOr<Event> read = (*log)->Read(5);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss) << read.status().ToString();
  EXPECT_TRUE(Contains(read.status().message(), "event 5")) << read.status().ToString();
  StatusOr<Event> beyond = (*log)->Read(21);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), StatusCode::kNotFound);

  std::unique_ptr<EventCursor> cursor = (*log)->NewCursor();
  uint64_t seen = 0;
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) ++seen;
  EXPECT_EQ(seen, 4u);
  ASSERT_EQ(cursor->state(), EventCursor::State::kFailed);
  EXPECT_EQ(cursor->status().code(), StatusCode::kDataLoss) << cursor->status().ToString();
  EXPECT_TRUE(Contains(cursor->status().message(), "event 5")) << cursor->status().ToString();
  // A cursor that starts on the hole fails at once.
  std::unique_ptr<EventCursor> at_hole = (*log)->NewCursor(5);
  EXPECT_EQ(at_hole->state(), EventCursor::State::kFailed);
  at_hole.reset();
  cursor.reset();

  VerifyResult r = MustVerify(**log);
  EXPECT_PROBLEM(r, kMissingEvent);
  EXPECT_EQ(r.first_bad_sequence, 5u);
  // A range starting right after the hole needs event 5 as its anchor.
  VerifyOptions after;
  after.from = 6;
  VerifyResult anchored = MustVerify(**log, after);
  EXPECT_PROBLEM(anchored, kMissingEvent);
  EXPECT_EQ(anchored.first_bad_sequence, 5u);
}

// Verify checks the chain in ranges, one per thread, each anchored on the stored hash
// of the event before it. With two damages, at and around range boundaries, every
// split names the same first problem and counts the same events as one thread.
TEST_F(CorruptionTest, EverySplitOfTheChainCheckNamesTheSameFirstProblem) {
  Populate(40);
  ASSERT_FALSE(HasFatalFailure());
  auto all_splits_agree = [&](const std::string& what) {
    SCOPED_TRACE(what);
    auto log = OpenLog(OpenMode::kReadOnly);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (uint64_t from : {uint64_t{1}, uint64_t{9}, uint64_t{22}}) {
      VerifyOptions one;
      one.from = from;
      one.threads = 1;
      const VerifyResult expected = MustVerify(**log, one);
      for (int threads = 2; threads <= 7; ++threads) {
        SCOPED_TRACE("from " + std::to_string(from) + ", threads " + std::to_string(threads));
        VerifyOptions split = one;
        split.threads = threads;
        VerifyResult got = MustVerify(**log, split);
        EXPECT_EQ(VerifyProblemName(got.problem), VerifyProblemName(expected.problem)) << got.detail;
        EXPECT_EQ(got.first_bad_sequence, expected.first_bad_sequence) << got.detail;
        EXPECT_EQ(got.detail, expected.detail);
        EXPECT_EQ(got.events_checked, expected.events_checked);
        EXPECT_EQ(got.last_hash, expected.last_hash);
      }
    }
  };
  all_splits_agree("intact");
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    ASSERT_NO_FATAL_FAILURE(FlipJobIdByte(*raw, 30));
  }
  all_splits_agree("event 30 altered");
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    ASSERT_ROCKS_OK(raw->Delete(kEvents, internal::EventKey(15)));
  }
  all_splits_agree("event 15 missing, event 30 altered");
  auto log = OpenLog(OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  VerifyOptions split;
  split.threads = 4;
  VerifyResult r = MustVerify(**log, split);
  EXPECT_PROBLEM(r, kMissingEvent);
  EXPECT_EQ(r.first_bad_sequence, 15u);
}

// ---- 9. A head that disagrees with the last stored event ----------------------------

TEST_F(CorruptionTest, ReadWriteOpenRefusesHeadBeyondLastEvent) {
  Populate(20);
  ASSERT_FALSE(HasFatalFailure());
  {
    std::unique_ptr<RawDb> raw = OpenRaw();
    ASSERT_NE(raw, nullptr);
    ASSERT_ROCKS_OK(raw->Delete(kEvents, internal::EventKey(20)));
  }
  {
    auto rw = OpenLog(OpenMode::kReadWrite);
    ASSERT_FALSE(rw.ok());
    EXPECT_EQ(rw.status().code(), StatusCode::kDataLoss) << rw.status().ToString();
    EXPECT_TRUE(Contains(rw.status().message(), "20")) << rw.status().ToString();
  }
  auto ro = OpenLog(OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ((*ro)->head().sequence, 20u);
  VerifyResult r = MustVerify(**ro);
  EXPECT_FALSE(r.ok());
  EXPECT_PROBLEM(r, kMissingEvent);
  EXPECT_EQ(r.first_bad_sequence, 20u);
}

// ---- 10. A secondary follows a live writer ------------------------------------------

TEST_F(CorruptionTest, SecondarySeesConsistentPrefixWhileWriterAppends) {
  constexpr uint64_t kAppends = 2000;
  auto writer = OpenLog(OpenMode::kReadWrite);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  auto secondary = OpenLog(OpenMode::kSecondary);
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  EXPECT_EQ((*secondary)->head().sequence, 0u);

  // The writer appends in batches and starts batch b+1 only once a reader round that
  // began after batch b ended is over: each such round sees the head at exactly
  // b * kBatch, however the threads are scheduled (no sleeps, no timing).
  constexpr uint64_t kBatch = 100;
  std::atomic<bool> done{false};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> rounds_done{0};
  std::atomic<uint64_t> batches_appended{0};
  std::atomic<uint64_t> batches_seen{0};  // a round that began after this many batches ended
  std::thread writer_thread([&] {
    for (uint64_t n = 1; n <= kAppends && !stop.load(std::memory_order_acquire); ++n) {
      if (n > 1 && (n - 1) % kBatch == 0) {
        while (batches_seen.load(std::memory_order_acquire) < (n - 1) / kBatch &&
               !stop.load(std::memory_order_acquire)) {
          std::this_thread::yield();
        }
      }
      clock_.Advance(10);
      AppendRequest request;
      request.events.push_back(MakeEvent(n));
      request.durability = Durability::kNoSync;
      StatusOr<AppendResult> r = (*writer)->Append(request);
      if (!r.ok() || r->first_sequence != n) {
        ADD_FAILURE() << "append " << n << ": " << r.status().ToString();
        break;
      }
      if (n % kBatch == 0) batches_appended.store(n / kBatch, std::memory_order_release);
    }
    done.store(true, std::memory_order_release);
  });

  uint64_t last_head = 0;
  uint64_t distinct_heads = 0;
  auto check_round = [&] {
    Status s = (*secondary)->CatchUpWithPrimary();
    ASSERT_TRUE(s.ok()) << s.ToString();
    const Head h = (*secondary)->head();
    ASSERT_GE(h.sequence, last_head) << "the secondary's head went backwards";
    ASSERT_LE(h.sequence, kAppends);
    // Every event up to the head reads back, in order, and nothing more.
    std::unique_ptr<EventCursor> cursor = (*secondary)->NewCursor(1, h.sequence);
    uint64_t seen = 0;
    for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
      ++seen;
      ASSERT_EQ(cursor->event().sequence, seen);
    }
    ASSERT_EQ(cursor->state(), EventCursor::State::kCaughtUp) << cursor->status().ToString();
    ASSERT_EQ(seen, h.sequence);
    for (uint64_t seq = last_head + 1; seq <= h.sequence; ++seq) {
      StatusOr<Event> e = (*secondary)->Read(seq);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      ASSERT_EQ(e->body, MakeEvent(seq).body);
    }
    VerifyOptions options;
    options.to = h.sequence;
    VerifyResult r = MustVerify(**secondary, options);
    ASSERT_TRUE(r.ok()) << VerifyProblemName(r.problem) << ": " << r.detail;
    ASSERT_EQ(r.events_checked, h.sequence);
    if (h.sequence > 0) {
      ASSERT_EQ(r.last_hash, h.hash);
    }
    if (h.sequence != last_head) ++distinct_heads;
    last_head = h.sequence;
  };
  while (!done.load(std::memory_order_acquire)) {
    const uint64_t batches_before = batches_appended.load(std::memory_order_acquire);
    check_round();
    rounds_done.fetch_add(1, std::memory_order_acq_rel);
    batches_seen.store(batches_before, std::memory_order_release);
    if (HasFatalFailure()) break;
  }
  stop.store(true, std::memory_order_release);
  writer_thread.join();
  ASSERT_FALSE(HasFatalFailure());
  check_round();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ((*secondary)->head().sequence, kAppends);
  EXPECT_EQ((*secondary)->head().hash, (*writer)->head().hash);
  EXPECT_EQ((*secondary)->digest(), (*writer)->digest());
  // The secondary saw the log grow in every batch's step, not just the final state.
  EXPECT_GE(distinct_heads, kAppends / kBatch);
  RecordProperty("catch_up_rounds", static_cast<int>(rounds_done.load()));
  RecordProperty("distinct_heads", static_cast<int>(distinct_heads));
}

}  // namespace
}  // namespace jobledger
