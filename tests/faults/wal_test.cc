// Suite 4, the write-ahead log. The ledger flushes its memtables when it closes, so
// to keep appends in the WAL these tests either copy the ledger folder while the
// ledger is still open (RocksDB's files are readable while open) or stop the process
// with FaultFs (every write after the "crash" fails, so the closing flush never lands).
//
//   - a torn tail (the newest *.log cut by a few bytes, up to the whole last record,
//     or into the one before): the ledger opens with the intact prefix, the chain
//     verifies, appends go on, and `jobledger verify` passes;
//   - a process crash in the middle of a WAL write: the torn append is dropped and
//     every acknowledged one is there;
//   - a corrupted middle (a byte flipped in a record that others follow): every open
//     mode refuses with kDataLoss naming the corruption, and `jobledger verify` exits
//     non-zero. Payload, checksum and type bytes are each tried; a flipped length
//     byte is the disabled test at the end (a bug: secondaries take it for a tail).

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/event_log.h"
#include "tests/faults/fault_fs.h"
#include "tests/faults/fault_test_util.h"

namespace jobledger::faults {
namespace {

namespace fs = std::filesystem;

constexpr size_t kWalBlock = 32768;
constexpr size_t kWalHeader = 7;  // crc32c:4, length:2, type:1

// A physical record of a WAL file.
struct WalRecord {
  size_t offset = 0;  // of the header
  size_t length = 0;  // payload bytes
  int type = 0;
};

// The physical records of a WAL (RocksDB's log format, non-recyclable records).
std::vector<WalRecord> ParseWal(const std::string& bytes) {
  std::vector<WalRecord> out;
  size_t pos = 0;
  while (pos + kWalHeader <= bytes.size()) {
    const size_t left_in_block = kWalBlock - pos % kWalBlock;
    if (left_in_block < kWalHeader) {
      pos += left_in_block;  // trailer padding
      continue;
    }
    WalRecord r;
    r.offset = pos;
    r.length =
        static_cast<uint8_t>(bytes[pos + 4]) | (size_t{static_cast<uint8_t>(bytes[pos + 5])} << 8);
    r.type = static_cast<uint8_t>(bytes[pos + 6]);
    if (r.type == 0 && r.length == 0) break;  // zero fill (preallocated space)
    out.push_back(r);
    pos += kWalHeader + r.length;
  }
  return out;
}

std::string NewestWal(const std::string& dir) {
  std::vector<std::string> logs = FilesEndingIn(dir, ".log");
  return logs.empty() ? "" : logs.back();
}

// Every event of `log` is the event with that sequence in `reference`, stored hash
// included.
void ExpectSameEvents(const EventLog& log, const EventLog& reference) {
  std::unique_ptr<EventCursor> a = log.NewCursor();
  std::unique_ptr<EventCursor> b = reference.NewCursor();
  uint64_t seen = 0;
  for (; a->state() == EventCursor::State::kPositioned; a->Next(), b->Next()) {
    ++seen;
    ASSERT_EQ(b->state(), EventCursor::State::kPositioned)
        << "event " << seen << " was never written";
    ASSERT_EQ(a->event().sequence, seen);
    ASSERT_EQ(a->hash(), b->hash()) << "event " << seen << " differs from the one acknowledged";
  }
  EXPECT_EQ(a->state(), EventCursor::State::kCaughtUp) << a->status().ToString();
  EXPECT_EQ(seen, log.head().sequence);
}

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    path_ = dir_.Sub("ledger");
  }

  StatusOr<std::unique_ptr<EventLog>> Open(const std::string& path,
                                           OpenMode mode = OpenMode::kReadWrite,
                                           rocksdb::Env* env = nullptr) {
    EventLogOptions options;
    options.clock = &clock_;
    options.env = env;
    return EventLog::Open(options, path, mode);
  }

  StatusOr<std::unique_ptr<LedgerStack>> OpenLedger(const std::string& path) {
    LedgerOptions options;
    options.clock = &clock_;
    return LedgerStack::Open(options, path);
  }

  void AppendPlan(EventLog& log, const Plan& plan, size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      clock_.Advance(1000);
      StatusOr<AppendResult> r = log.Append(plan.appends[i]);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->last_sequence, plan.last_sequence[i]);
    }
  }

  // Runs workload steps [from, to) on a ledger; returns the head after each.
  std::vector<uint64_t> RunSteps(LedgerStack& stack, uint64_t from, uint64_t to) {
    std::vector<uint64_t> heads;
    for (uint64_t i = from; i < to; ++i) {
      clock_.Advance(kSecond);
      Status s = RunWorkloadStep(*stack.ledger, i);
      EXPECT_TRUE(s.ok()) << "step " << i << ": " << s.ToString();
      heads.push_back(stack.ledger->log().head().sequence);
    }
    return heads;
  }

  ScratchDir dir_;
  std::string path_;
  ManualClock clock_{kT0};
};

TEST_F(WalTest, TornTailIsDroppedAndThePrefixIsIntact) {
  constexpr uint64_t kSteps = 30;
  const std::string live_copy = dir_.Sub("live-copy");
  uint64_t before_last = 0, after_last = 0, head_before_last = 0, head_before_that = 0;
  {
    auto stack = OpenLedger(path_);
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    std::vector<uint64_t> heads = RunSteps(**stack, 0, kSteps - 1);
    ASSERT_FALSE(HasFailure());
    head_before_last = heads.back();
    head_before_that = heads[heads.size() - 2];
    const std::string wal = NewestWal(path_);
    ASSERT_FALSE(wal.empty()) << "no WAL in " << path_;
    before_last = fs::file_size(wal);
    RunSteps(**stack, kSteps - 1, kSteps);
    ASSERT_EQ(NewestWal(path_), wal) << "the WAL switched during the test";
    after_last = fs::file_size(wal);
    CopyFolder(path_, live_copy);  // while open: the last events are only in the WAL
  }
  ASSERT_FALSE(HasFailure());
  auto intact = Open(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(intact.ok()) << intact.status().ToString();
  const uint64_t last_record = after_last - before_last;
  ASSERT_GT(last_record, 8u);
  struct Cut {
    uint64_t bytes;
    uint64_t head;
  };
  const std::vector<Cut> cuts = {{1, head_before_last},
                                 {2, head_before_last},
                                 {7, head_before_last},
                                 {last_record / 2, head_before_last},
                                 {last_record - 1, head_before_last},
                                 {last_record, head_before_last},
                                 {last_record + 1, head_before_that}};
  int n = 0;
  for (const Cut& cut : cuts) {
    SCOPED_TRACE("the WAL cut by " + std::to_string(cut.bytes) + " bytes (the last record is " +
                 std::to_string(last_record) + ")");
    const std::string copy = dir_.Sub("cut-" + std::to_string(n++));
    CopyFolder(live_copy, copy);
    const std::string wal = NewestWal(copy);
    ASSERT_FALSE(wal.empty());
    ASSERT_EQ(fs::file_size(wal), after_last);
    fs::resize_file(wal, after_last - cut.bytes);
    // The command line reads it first, as a secondary instance replaying the WAL.
    CliRun verify = RunCliBinary({"--db", copy, "verify"}, dir_.path());
    EXPECT_EQ(verify.exit, 0) << verify.What();
    EXPECT_TRUE(Contains(verify.out, "\"headSequence\": " + std::to_string(cut.head)))
        << verify.What();

    auto stack = OpenLedger(copy);
    ASSERT_TRUE(stack.ok()) << "a torn tail must not stop the ledger: "
                            << stack.status().ToString();
    EXPECT_EQ((*stack)->ledger->log().head().sequence, cut.head);
    ExpectSameEvents((*stack)->ledger->log(), **intact);
    ExpectLedgerSound(**stack);
    // The ledger goes on from the prefix.
    clock_.Advance(kSecond);
    ASSERT_TRUE((*stack)->ledger->AddThingToThingGroup({"user:after", ""}, {"fleet", "late"}).ok());
    EXPECT_EQ((*stack)->ledger->log().head().sequence, cut.head + 1);
    if (HasFailure()) return;
  }
}

// A process dies in the middle of writing an append to the WAL (FaultFs stops every
// write from then on, so the closing flush never lands and nothing is dropped).
TEST_F(WalTest, CrashInTheMiddleOfAWalWriteDropsOnlyTheTornAppend) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  constexpr size_t kAppends = 25;
  const Plan plan = Plan::Make(kAppends);
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ScratchDir dir;
    ASSERT_TRUE(dir.ok());
    const std::string path = dir.Sub("ledger");
    auto faulty = std::make_shared<FaultFs>();
    std::unique_ptr<rocksdb::Env> env = NewFaultEnv(faulty);
    const size_t torn = 1 + rng() % (kAppends - 1);  // the append the crash tears
    {
      auto log = Open(path, OpenMode::kReadWrite, env.get());
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      AppendPlan(**log, plan, 0, torn);
      ASSERT_FALSE(HasFatalFailure());
      faulty->CutPowerAfterBytes(1 + rng() % 64);  // well inside the next record
      clock_.Advance(1000);
      StatusOr<AppendResult> r = (*log)->Append(plan.appends[torn]);
      ASSERT_FALSE(r.ok()) << "the write was cut, yet the append was acknowledged";
      EXPECT_FALSE((*log)->failure().ok());
    }
    // No DropUnsyncedData: a process crash keeps what reached the OS.
    auto log = Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ(ExpectPlanPrefix(**log, plan), plan.last_sequence[torn - 1]);
    if (HasFailure()) return;
  }
}

// A ledger of 200 commands whose WAL is copied while it is open; `damage` flips one
// byte of a full record in the middle of it. Every open mode and `jobledger verify`
// must refuse it rather than present the records before the damage as the whole log.
class CorruptedWalTest : public WalTest {
 protected:
  void SetUp() override {
    WalTest::SetUp();
    live_copy_ = dir_.Sub("live-copy");
    auto stack = OpenLedger(path_);
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    RunSteps(**stack, 0, 200);
    ASSERT_FALSE(HasFailure());
    acknowledged_ = (*stack)->ledger->log().head().sequence;
    CopyFolder(path_, live_copy_);
    wal_name_ = fs::path(NewestWal(live_copy_)).filename().string();
    const std::vector<WalRecord> records = ParseWal(ReadFile(live_copy_ + "/" + wal_name_));
    ASSERT_GE(records.size(), 200u) << "expected a record per command in " << wal_name_;
    middle_ = records.size() / 2;
    while (middle_ < records.size() && records[middle_].type != 1) ++middle_;
    ASSERT_LT(middle_, records.size() - 10);
    record_ = records[middle_];
    records_ = records.size();
  }

  void ExpectRefused(const std::string& what, size_t offset) {
    SCOPED_TRACE("flipped " + what + " of WAL record " + std::to_string(middle_) + " of " +
                 std::to_string(records_) + " (offset " + std::to_string(offset) + ")");
    const std::string copy = dir_.Sub("damaged-" + std::to_string(offset));
    CopyFolder(live_copy_, copy);
    FlipByte(copy + "/" + wal_name_, offset);
    const std::string damaged = ReadFile(copy + "/" + wal_name_);

    CliRun verify = RunCliBinary({"--db", copy, "verify"}, dir_.path());
    EXPECT_NE(verify.exit, 0) << "verify passed a ledger whose WAL middle is corrupted: "
                              << verify.What();
    EXPECT_FALSE(Contains(verify.out, "\"verified\": true")) << verify.What();
    CliRun list = RunCliBinary({"--db", copy, "list-jobs"}, dir_.path());
    EXPECT_EQ(list.exit, 255) << "a read presented part of the log as all of it: " << list.What();
    for (OpenMode mode : {OpenMode::kReadOnly, OpenMode::kSecondary, OpenMode::kReadWrite}) {
      SCOPED_TRACE(mode == OpenMode::kReadOnly    ? "kReadOnly"
                   : mode == OpenMode::kSecondary ? "kSecondary"
                                                  : "kReadWrite");
      auto log = Open(copy, mode);
      if (log.ok()) {
        ADD_FAILURE() << "opened with head " << (*log)->head().sequence << " of " << acknowledged_
                      << " acknowledged events";
        continue;
      }
      EXPECT_TRUE(log.status().code() == StatusCode::kDataLoss ||
                  Contains(log.status().message(), "orrupt"))
          << log.status().ToString();
      EXPECT_TRUE(Contains(log.status().message(), copy))
          << "name the ledger: " << log.status().ToString();
    }
    // Refusing did not "repair" the WAL by dropping the damaged records.
    EXPECT_TRUE(ReadFile(copy + "/" + wal_name_) == damaged) << wal_name_ << " was changed";
  }

  std::string live_copy_, wal_name_;
  uint64_t acknowledged_ = 0;
  size_t middle_ = 0, records_ = 0;
  WalRecord record_;
};

TEST_F(CorruptedWalTest, IntactCopyOpensWithEveryEvent) {
  auto stack = OpenLedger(live_copy_);
  ASSERT_TRUE(stack.ok()) << stack.status().ToString();
  EXPECT_EQ((*stack)->ledger->log().head().sequence, acknowledged_);
  ExpectLedgerSound(**stack);
}

TEST_F(CorruptedWalTest, FlippedPayloadByteRefusesEveryOpenAndVerifyFails) {
  ExpectRefused("a payload byte", record_.offset + kWalHeader + record_.length / 2);
}

TEST_F(CorruptedWalTest, FlippedChecksumByteRefusesEveryOpenAndVerifyFails) {
  ExpectRefused("a checksum byte", record_.offset + 1);
}

TEST_F(CorruptedWalTest, FlippedTypeByteRefusesEveryOpenAndVerifyFails) {
  ExpectRefused("the type byte", record_.offset + 6);
}

// A record length made too large in the middle of the WAL is refused by every open
// mode. RocksDB's secondary alone takes it for a write in progress and stops there,
// answering from half the log; so when no writer holds the ledger, a secondary open
// first probes the WAL read-only (found by this suite; see ProbeWalWhenIdle).
TEST_F(CorruptedWalTest, FlippedLengthByteRefusesEveryOpenAndVerifyFails) {
  ExpectRefused("the length's high byte", record_.offset + 5);
}

}  // namespace
}  // namespace jobledger::faults
