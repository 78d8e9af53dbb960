// FaultFs itself: the durability model the power-loss suite relies on, and the write
// budgets. If these did not hold, the suites above could pass for the wrong reason.

#include "tests/faults/fault_fs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "tests/faults/fault_test_util.h"

namespace jobledger::faults {
namespace {

namespace fs = std::filesystem;
using rocksdb::FileOptions;
using rocksdb::IOOptions;

class FaultFsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    EXPECT_TRUE(fs_->NewWritableFile(dir_.Sub(name), FileOptions(), &f, nullptr).ok());
    return f;
  }
  void Append(rocksdb::FSWritableFile& f, const std::string& bytes, bool expect_ok = true) {
    EXPECT_EQ(f.Append(bytes, IOOptions(), nullptr).ok(), expect_ok);
  }
  void SyncDir() {
    std::unique_ptr<rocksdb::FSDirectory> d;
    ASSERT_TRUE(fs_->NewDirectory(dir_.path(), IOOptions(), &d, nullptr).ok());
    ASSERT_TRUE(d->Fsync(IOOptions(), nullptr).ok());
  }
  uint64_t SizeOf(const std::string& name) {
    std::error_code ec;
    return fs::exists(dir_.Sub(name), ec) ? fs::file_size(dir_.Sub(name)) : kUnlimited;
  }

  ScratchDir dir_;
  std::shared_ptr<FaultFs> fs_ = std::make_shared<FaultFs>();
};

TEST_F(FaultFsTest, PowerLossKeepsOnlySyncedBytesOfDirSyncedFiles) {
  auto synced_named = Create("a");    // data synced, entry synced
  auto unsynced_named = Create("b");  // entry synced, data never
  Append(*synced_named, "0123456789");
  ASSERT_TRUE(synced_named->Sync(IOOptions(), nullptr).ok());
  Append(*synced_named, "tail");  // not synced
  SyncDir();
  Append(*unsynced_named, "lost");
  auto never_named = Create("c");  // data synced, entry never
  Append(*never_named, "xyz");
  ASSERT_TRUE(never_named->Fsync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(synced_named->RangeSync(0, 14, IOOptions(), nullptr).ok());  // makes nothing durable

  fs_->CutPower();
  EXPECT_FALSE(synced_named->Append("more", IOOptions(), nullptr).ok());
  EXPECT_FALSE(synced_named->Sync(IOOptions(), nullptr).ok());
  std::unique_ptr<rocksdb::FSWritableFile> refused;
  EXPECT_FALSE(fs_->NewWritableFile(dir_.Sub("d"), FileOptions(), &refused, nullptr).ok());
  EXPECT_FALSE(fs_->DeleteFile(dir_.Sub("a"), IOOptions(), nullptr).ok());
  EXPECT_GE(fs_->refused_mutations(), 4u);
  synced_named.reset();
  unsynced_named.reset();
  never_named.reset();

  fs_->DropUnsyncedData();
  EXPECT_EQ(ReadFile(dir_.Sub("a")), "0123456789");
  EXPECT_EQ(SizeOf("b"), 0u);
  EXPECT_EQ(SizeOf("c"), kUnlimited) << "a file whose directory entry was never synced survived";
  EXPECT_TRUE(fs_->powered());
}

TEST_F(FaultFsTest, RandomTailKeepsAPrefixOfTheUnsyncedBytes) {
  std::mt19937_64 rng(TestSeed());
  for (int i = 0; i < 20; ++i) {
    const std::string name = "f" + std::to_string(i);
    auto f = Create(name);
    Append(*f, "synced");
    ASSERT_TRUE(f->Sync(IOOptions(), nullptr).ok());
    SyncDir();
    Append(*f, "-unsynced-tail");
    f.reset();
    fs_->CutPower();
    fs_->DropUnsyncedData(&rng);
    const std::string left = ReadFile(dir_.Sub(name));
    EXPECT_EQ(std::string("synced-unsynced-tail").substr(0, left.size()), left);
    EXPECT_GE(left.size(), 6u);
  }
}

TEST_F(FaultFsTest, RenameOverADurableFileRestoresItUntilTheDirectoryIsSynced) {
  auto current = Create("CURRENT");
  Append(*current, "MANIFEST-1\n");
  ASSERT_TRUE(current->Sync(IOOptions(), nullptr).ok());
  current.reset();
  SyncDir();
  for (const bool sync_dir : {false, true}) {
    auto tmp = Create("tmp");
    Append(*tmp, "MANIFEST-2\n");
    ASSERT_TRUE(tmp->Sync(IOOptions(), nullptr).ok());
    tmp.reset();
    ASSERT_TRUE(fs_->RenameFile(dir_.Sub("tmp"), dir_.Sub("CURRENT"), IOOptions(), nullptr).ok());
    if (sync_dir) SyncDir();
    fs_->CutPower();
    fs_->DropUnsyncedData();
    EXPECT_EQ(ReadFile(dir_.Sub("CURRENT")), sync_dir ? "MANIFEST-2\n" : "MANIFEST-1\n");
    EXPECT_EQ(SizeOf("tmp"), kUnlimited);
  }
}

TEST_F(FaultFsTest, BudgetsCutTheCrossingWriteAndFailTheRest) {
  auto f = Create("wal");
  fs_->SetSpaceBudget(5);
  rocksdb::IOStatus s = f->Append("0123456789", IOOptions(), nullptr);
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_TRUE(f->Append("x", IOOptions(), nullptr).IsNoSpace());
  EXPECT_EQ(fs_->bytes_written(), 5u);
  EXPECT_TRUE(fs_->powered()) << "a full disk is not a power cut";
  fs_->SetSpaceBudget(kUnlimited);
  Append(*f, "abc");
  fs_->CutPowerAfterBytes(2);
  s = f->Append("defg", IOOptions(), nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.IsNoSpace());
  EXPECT_FALSE(fs_->powered());
  f.reset();
  EXPECT_EQ(ReadFile(dir_.Sub("wal")), "01234abcde") << "what a crash (no drop) leaves";
}

}  // namespace
}  // namespace jobledger::faults
