// The ledger's region and account: stored with the log when it is created, read at
// every open, every ARN rendered from them, an explicit mismatch refused.

#include <gtest/gtest.h>

#include <filesystem>

#include "jobledger/validation.h"
#include "ledger/internal/state.h"
#include "tests/ledger/ledger_test_util.h"

namespace jobledger::testing {
namespace {

class LedgerIdentityTest : public ::testing::Test {
 protected:
  StatusOr<std::unique_ptr<Ledger>> Open(std::optional<std::string> region,
                                         std::optional<std::string> account,
                                         OpenMode mode = OpenMode::kReadWrite) {
    LedgerOptions options;
    options.clock = &clock_;
    options.sync = false;
    options.region = std::move(region);
    options.account_id = std::move(account);
    options.mode = mode;
    if (mode == OpenMode::kSecondary) options.secondary_path = dir_.path() + "/secondary";
    return Ledger::Open(options, path_);
  }

  ManualClock clock_{kT0};
  TempDir dir_;
  const std::string path_ = dir_.path() + "/ledger";
};

TEST_F(LedgerIdentityTest, ALedgerKeepsTheRegionAndAccountItWasCreatedFor) {
  {
    auto ledger = Open("eu-west-1", "111122223333");
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    EXPECT_EQ((*ledger)->context().region, "eu-west-1");
    EXPECT_EQ((*ledger)->context().account_id, "111122223333");
    // Targets are the ledger's; the default region's are another region's.
    auto wrong = (*ledger)->CreateJob(As("user:ops"), NewJob("j0", {ThingArnOf("t1")}));
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.status().message().find("region must be 'eu-west-1' (not 'us-east-1')"), std::string::npos)
        << wrong.status().ToString();
    auto created = (*ledger)->CreateJob(
        As("user:ops"), NewJob("j1", {ThingArn((*ledger)->context(), "t1")}));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_EQ(created->job_arn, "arn:aws:iot:eu-west-1:111122223333:job/j1");
  }
  // Reopened without options, read-write and as a secondary: the stored ones apply.
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly, OpenMode::kSecondary}) {
    auto ledger = Open(std::nullopt, std::nullopt, mode);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    EXPECT_EQ((*ledger)->context().region, "eu-west-1");
    EXPECT_EQ((*ledger)->context().account_id, "111122223333");
  }
  // The same values given again: fine.
  ASSERT_TRUE(Open("eu-west-1", "111122223333").ok());
  ASSERT_TRUE(Open("eu-west-1", std::nullopt, OpenMode::kSecondary).ok());
  // Another region or account, in any mode: refused, naming both values.
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kSecondary}) {
    auto region = Open("us-east-1", std::nullopt, mode);
    ASSERT_FALSE(region.ok());
    EXPECT_EQ(region.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(region.status().message().find("region: the ledger at '" + path_ +
                                             "' was created for region 'eu-west-1', not 'us-east-1'"),
              std::string::npos)
        << region.status().ToString();
    auto account = Open(std::nullopt, "123456789012", mode);
    ASSERT_FALSE(account.ok());
    EXPECT_NE(account.status().message().find("accountId: the ledger at '" + path_ +
                                              "' was created for accountId '111122223333', not "
                                              "'123456789012'"),
              std::string::npos)
        << account.status().ToString();
  }
  // The refused opens changed nothing.
  auto ledger = Open(std::nullopt, std::nullopt);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EXPECT_EQ((*ledger)->context().region, "eu-west-1");
  EXPECT_EQ((*ledger)->log().head().sequence, 2u);  // JobCreated, ExecutionQueued
}

TEST_F(LedgerIdentityTest, ALedgerMadeBeforeItKeptThemGetsTheDefaultsAtItsFirstReadWriteOpen) {
  {
    // A ledger as an older build left it: the log and the ledger's state, no settings.
    auto log = EventLog::Open(EventLogOptions{}, path_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->OpenFamily(internal::kStateFamily).ok());
  }
  {
    // Read-only: the defaults, nothing written.
    auto ledger = Open(std::nullopt, std::nullopt, OpenMode::kReadOnly);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    EXPECT_EQ((*ledger)->context().region, "us-east-1");
    EXPECT_EQ((*ledger)->context().account_id, "123456789012");
    auto stored = (*ledger)->log().GetSetting("region");
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_FALSE(stored->has_value());
  }
  {
    auto ledger = Open(std::nullopt, std::nullopt);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    auto stored = (*ledger)->log().GetSetting("region");
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_EQ(*stored, std::optional<std::string>("us-east-1"));
  }
  auto other = Open("eu-west-1", std::nullopt);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition) << other.status().ToString();
}

TEST_F(LedgerIdentityTest, AMalformedRegionOrAccountIsRefusedBeforeAnythingIsCreated) {
  struct Case {
    std::optional<std::string> region, account;
    std::string message;
  };
  const Case cases[] = {
      {"", std::nullopt, "region: must match [a-z0-9-]{1,64} (as us-east-1), got ''"},
      {"EU-WEST-1", std::nullopt, "region: must match [a-z0-9-]{1,64} (as us-east-1), got 'EU-WEST-1'"},
      {"eu:west", std::nullopt, "region: must match"},
      {std::nullopt, "", "accountId: must be 12 digits (as 123456789012), got ''"},
      {std::nullopt, "12345678901", "accountId: must be 12 digits"},
      {std::nullopt, "12345678901x", "accountId: must be 12 digits"},
  };
  for (const Case& c : cases) {
    auto ledger = Open(c.region, c.account);
    ASSERT_FALSE(ledger.ok());
    EXPECT_EQ(ledger.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(ledger.status().message().find(c.message), std::string::npos) << ledger.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(path_)) << "a refused open created the folder";
  }
}

TEST_F(LedgerIdentityTest, SettingsLiveBesideTheLogsOwnRecords) {
  {
    auto log = EventLog::Open(EventLogOptions{}, path_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    // Named like the log's own records, a setting does not touch them.
    ASSERT_TRUE((*log)->PutSetting("head", "not a head").ok());
    ASSERT_TRUE((*log)->PutSetting("format", "not a format").ok());
    Status bad = (*log)->PutSetting("Region!", "x");
    EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad.message().find("setting name: must match [a-z0-9_.-]+, got 'Region!'"), std::string::npos)
        << bad.ToString();
    EXPECT_EQ((*log)->GetSetting("").status().code(), StatusCode::kInvalidArgument);
  }
  EventLogOptions options;
  auto reopened = EventLog::Open(options, path_, OpenMode::kReadOnly);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto head = (*reopened)->GetSetting("head");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, std::optional<std::string>("not a head"));
  Status refused = (*reopened)->PutSetting("region", "eu-west-1");
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
}

}  // namespace
}  // namespace jobledger::testing
