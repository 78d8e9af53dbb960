// Suite 12, read-only tools never write. A ledger with history both in SST files (a
// first session closed) and only in the WAL (a second session, still open) is held
// read-write by this process, idle, while every reading command of the `jobledger`
// binary runs against it, in every variant (as of a time, at a sequence, paging,
// filters, output formats, files written elsewhere). Each must exit 0 (the live
// writer is no reason to refuse) and leave every file of the ledger folder
// byte-identical. The list of commands comes from `jobledger --help`: a command this
// test does not know (reading or writing) fails it, so a new reading command must be
// added here.
//
// tests/tools/cli_test.cc checks a smaller set of reads in the same way; this one is
// the exhaustive matrix (labelled slow: it starts the binary some sixty times).

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "jobledger/clock.h"
#include "jobledger/ledger.h"
#include "tests/faults/fault_test_util.h"

namespace jobledger::faults {
namespace {

using Args = std::vector<std::string>;

constexpr int64_t kMinute = 60 * kSecond;
const std::string kThingArn = "arn:aws:iot:us-east-1:123456789012:thing/";
const std::string kGroupArn = "arn:aws:iot:us-east-1:123456789012:thinggroup/";

const std::set<std::string> kWritingCommands = {"create-job",
                                                "update-job",
                                                "cancel-job",
                                                "delete-job",
                                                "associate-targets-with-job",
                                                "cancel-job-execution",
                                                "delete-job-execution",
                                                "start-next-pending-job-execution",
                                                "update-job-execution",
                                                "add-thing-to-thing-group",
                                                "remove-thing-from-thing-group",
                                                "delete-thing",
                                                "advance",
                                                "rebuild-projections",
                                                "import",
                                                "compact",  // a writer that appends nothing
                                                "serve",    // the ledger's writer while it runs
                                                "demo"};

std::string Epoch(int64_t micros) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(micros / kSecond),
                static_cast<long long>(micros % kSecond));
  return buf;
}

// The subcommands `jobledger --help` lists.
std::set<std::string> ListedCommands(const std::string& help) {
  std::set<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool in_list = false;
  const std::regex command("^  ([a-z][a-z-]+)(\\s|$)");
  for (std::smatch m; std::getline(in, line);) {
    if (line.rfind("Subcommands:", 0) == 0) in_list = true;
    if (in_list && std::regex_search(line, m, command)) out.insert(m[1]);
  }
  return out;
}

// The ledger folder as it must stay. The writer's own info LOG is the one file the
// idle writer itself may still append to (RocksDB flushes its buffered lines on a
// timer), so it is compared as "the old bytes are a prefix of the new"; a reader that
// wrote its own LOG there would replace or rotate it, which this still catches.
struct Folder {
  Snapshot files;   // every file but LOG
  std::string log;  // LOG's bytes
};

Folder FolderOf(const std::string& dir) {
  Folder f;
  f.files = SnapshotOf(dir);
  f.files.erase("LOG");
  f.log = ReadFile(dir + "/LOG");
  return f;
}

std::string Changes(const Folder& before, const Folder& after) {
  std::string out = Differences(before.files, after.files);
  if (after.log.size() < before.log.size() ||
      after.log.compare(0, before.log.size(), before.log) != 0) {
    out += "\n  LOG was rewritten (" + std::to_string(before.log.size()) + " -> " +
           std::to_string(after.log.size()) + " bytes)";
  }
  return out;
}

class ReadOnlyCliSlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    db_ = dir_.Sub("ledger");
    out_ = dir_.Sub("out");
    std::filesystem::create_directories(out_);
    LedgerOptions options;
    options.clock = &clock_;
    options.maintenance.max_live_wal_bytes = 0;  // a close flushes: rows in SST files and the WAL
    {
      auto stack = LedgerStack::Open(options, db_);
      ASSERT_TRUE(stack.ok()) << stack.status().ToString();
      Ledger& l = *(*stack)->ledger;
      for (int i = 1; i <= 4; ++i) {
        ASSERT_TRUE(
            l.AddThingToThingGroup({"user:ops", ""}, {"fleet", "dev-" + std::to_string(i)}).ok());
      }
      clock_.Advance(kMinute);
      CreateJobRequest snap;
      snap.job_id = "snap";
      snap.targets = {kGroupArn + "fleet"};
      snap.document = R"({"operation":"install"})";
      snap.timeout_config = TimeoutConfig{10};
      ASSERT_TRUE(l.CreateJob({"user:ops", "create-snap"}, snap).ok());
      CreateJobRequest cont = snap;
      cont.job_id = "cont";
      cont.target_selection = TargetSelection::kContinuous;
      cont.timeout_config.reset();
      ASSERT_TRUE(l.CreateJob({"user:ops", ""}, cont).ok());
      clock_.Advance(kMinute);
      mid_ = clock_.NowMicros();
      mid_seq_ = l.log().head().sequence;
      for (const auto& [thing, status] : {std::pair{"dev-1", ExecutionStatus::kInProgress},
                                          std::pair{"dev-2", ExecutionStatus::kSucceeded},
                                          std::pair{"dev-3", ExecutionStatus::kFailed}}) {
        clock_.Advance(kSecond);
        UpdateJobExecutionRequest u;
        u.job_id = "snap";
        u.thing_name = thing;
        u.status = status;
        u.status_details = DetailsMap{{"step", "flash"}};
        ASSERT_TRUE(l.UpdateJobExecution({std::string("thing:") + thing, ""}, u).ok());
      }
    }  // closed: flushed into SST files (max_live_wal_bytes 0)
    auto stack = LedgerStack::Open(options, db_);
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    Ledger& l = *(*stack)->ledger;
    clock_.Advance(kMinute);
    ASSERT_TRUE(
        l.AddThingToThingGroup({"user:ops", ""}, {"fleet", "dev-5"}).ok());  // CONTINUOUS: queued
    clock_.Advance(20 * kMinute);
    StatusOr<AdvanceResult> advanced = l.AdvanceTo(clock_.NowMicros());  // dev-1 times out
    ASSERT_TRUE(advanced.ok() && advanced->appended > 0) << advanced.status().ToString();
    timed_out_seq_ = l.log().head().sequence;
    digest_ = l.log().digest();
    WriteFile(out_ + "/digest.json", "{\"sequence\": " + std::to_string(digest_.sequence) +
                                         ", \"hash\": \"" + HexOf(digest_.hash) + "\"}");
    writer_ = std::move(stack).value();  // held open, idle: the rest is only in its WAL
    ASSERT_FALSE(FilesEndingIn(db_, ".sst").empty());
    ASSERT_FALSE(FilesEndingIn(db_, ".log").empty());
  }

  static std::string HexOf(const Hash& h) {
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (uint8_t b : h) {
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
    return out;
  }

  CliRun Cli(Args args) {
    args.insert(args.begin(), {"--db", db_});
    return RunCliBinary(args, out_);
  }

  // Every reading command, in every variant this test knows.
  std::map<std::string, std::vector<Args>> ReadingCommands() {
    const std::string mid = Epoch(mid_), mid_seq = std::to_string(mid_seq_);
    const std::string head = std::to_string(digest_.sequence);
    const std::string start = "2026-11-27T10:00:00Z";
    const std::string later = Epoch(clock_.NowMicros() + 60 * kMinute);
    return {
        {"describe-job",
         {{"--job-id", "snap"},
          {"--job-id", "snap", "--at-seq", mid_seq},
          {"--job-id", "snap", "--as-of", mid},
          {"--job-id", "snap", "--output", "table"},
          {"--job-id", "cont", "--output", "text"},
          {"--job-id", "snap", "--now", later}}},
        {"get-job-document", {{"--job-id", "snap"}, {"--job-id", "snap", "--as-of", mid}}},
        {"list-jobs",
         {{},
          {"--status", "IN_PROGRESS"},
          {"--status", "COMPLETED"},
          {"--target-selection", "CONTINUOUS"},
          {"--thing-group-name", "fleet"},
          {"--max-results", "1"},
          {"--at-seq", mid_seq},
          {"--as-of", mid},
          {"--output", "table"},
          {"--output", "text"}}},
        {"describe-job-execution",
         {{"--job-id", "snap", "--thing-name", "dev-1"},
          {"--job-id", "snap", "--thing-name", "dev-1", "--execution-number", "1"},
          {"--job-id", "snap", "--thing-name", "dev-1", "--at-seq", mid_seq},
          {"--job-id", "snap", "--thing-name", "dev-2", "--as-of", mid},
          {"--job-id", "cont", "--thing-name", "dev-5", "--output", "text"}}},
        {"list-job-executions-for-job",
         {{"--job-id", "snap"},
          {"--job-id", "snap", "--status", "SUCCEEDED"},
          {"--job-id", "snap", "--max-results", "1"},
          {"--job-id", "cont", "--as-of", mid},
          {"--job-id", "snap", "--output", "table"}}},
        {"list-job-executions-for-thing",
         {{"--thing-name", "dev-1"},
          {"--thing-name", "dev-1", "--status", "TIMED_OUT"},
          {"--thing-name", "dev-5", "--at-seq", head},
          {"--thing-name", "dev-2", "--as-of", mid}}},
        {"get-pending-job-executions",
         {{"--thing-name", "dev-4"},
          {"--thing-name", "dev-5"},
          {"--thing-name", "dev-1", "--as-of", mid},
          {"--thing-name", "dev-1", "--now", later}}},
        {"history",
         {{"--job-id", "snap"},
          {"--thing-name", "dev-1"},
          {"--job-id", "snap", "--thing-name", "dev-1"},
          {"--why", "--at-seq", std::to_string(timed_out_seq_)},
          {"--job-id", "snap", "--from", start, "--to", mid},
          {"--job-id", "snap", "--from-seq", "2", "--to-seq", mid_seq},
          {"--thing-name", "dev-5", "--output", "text"}}},
        {"diff",
         {{"--job-id", "snap", "--from-seq", mid_seq, "--to-seq", head},
          {"--job-id", "snap", "--from", mid, "--to", later}}},
        {"verify", {{}, {"--digest", out_ + "/digest.json"}}},
        {"digest", {{}, {"--out", out_ + "/digest-again.json"}}},
        {"export",
         {{}, {"--from-seq", "2", "--to-seq", mid_seq}, {"--out", out_ + "/export.jsonl"}}},
        {"stats", {{}}},
        {"tail", {{}, {"--from-seq", "3"}}},
    };
  }

  ScratchDir dir_;
  std::string db_, out_;
  ManualClock clock_{kT0};
  int64_t mid_ = 0;
  uint64_t mid_seq_ = 0, timed_out_seq_ = 0;
  Digest digest_;
  std::unique_ptr<LedgerStack> writer_;
};

TEST_F(ReadOnlyCliSlowTest, EveryReadingCommandLeavesALiveLedgerByteIdentical) {
  CliRun help = RunCliBinary({"--help"}, out_);
  ASSERT_EQ(help.exit, 0) << help.What();
  const std::set<std::string> listed = ListedCommands(help.out);
  ASSERT_GE(listed.size(), 25u) << help.What();
  const std::map<std::string, std::vector<Args>> reads = ReadingCommands();
  for (const std::string& command : listed) {
    EXPECT_TRUE(reads.count(command) == 1 || kWritingCommands.count(command) == 1)
        << "`jobledger " << command << "` is new: add it to this test as reading or writing";
  }
  for (const auto& [command, _] : reads) {
    EXPECT_EQ(listed.count(command), 1u) << command << " is no longer listed by --help";
  }

  int runs = 0;
  for (const auto& [command, variants] : reads) {
    for (Args args : variants) {
      args.insert(args.begin(), command);
      const Folder before = FolderOf(db_);
      CliRun r = Cli(args);
      ++runs;
      EXPECT_EQ(r.exit, 0) << "a read refused next to a live writer: " << r.What();
      if (args.size() < 2 || args[args.size() - 2] != "--out") {
        EXPECT_FALSE(r.out.empty()) << r.What();
      }
      EXPECT_EQ(Changes(before, FolderOf(db_)), "") << r.What() << "\n  changed the ledger folder";
    }
  }
  RecordProperty("cli_runs", runs);

  // The readers saw the writer's latest events, which are only in its WAL.
  CliRun digest = Cli({"digest"});
  EXPECT_TRUE(Contains(digest.out, "\"sequence\": " + std::to_string(digest_.sequence)))
      << digest.What();
  CliRun pending = Cli({"get-pending-job-executions", "--thing-name", "dev-5"});
  EXPECT_TRUE(Contains(pending.out, "cont")) << pending.What();
  CliRun verify = Cli({"verify", "--digest", out_ + "/digest.json"});
  EXPECT_TRUE(Contains(verify.out, "\"verified\": true")) << verify.What();
  // And the writer, untouched, goes on.
  clock_.Advance(kSecond);
  EXPECT_TRUE(writer_->ledger->AddThingToThingGroup({"user:ops", ""}, {"fleet", "dev-6"}).ok());
}

// The paging token of one run is accepted by the next, also next to the live writer.
TEST_F(ReadOnlyCliSlowTest, PagingAcrossRunsNextToALiveWriter) {
  const Folder before = FolderOf(db_);
  CliRun first = Cli({"list-jobs", "--max-results", "1"});
  ASSERT_EQ(first.exit, 0) << first.What();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(first.out, m, std::regex("\"nextToken\": \"([^\"]+)\"")))
      << first.What();
  CliRun second = Cli({"list-jobs", "--max-results", "1", "--next-token", m[1]});
  EXPECT_EQ(second.exit, 0) << second.What();
  EXPECT_TRUE(Contains(first.out + second.out, "\"snap\"") &&
              Contains(first.out + second.out, "\"cont\""))
      << first.What() << second.What();
  EXPECT_EQ(Changes(before, FolderOf(db_)), "");
}

}  // namespace
}  // namespace jobledger::faults
