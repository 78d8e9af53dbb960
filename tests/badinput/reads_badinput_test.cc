// Bad input to the read models (jobledger/read_models.h): malformed identifiers in
// every query, maxResults out of range, and malformed nextTokens in every list query:
// not hex, truncated, extended, bit-flipped, of another operation, of another job,
// absurdly long. (tests/projections/read_models_test.cc covers ListJobs with a
// non-token and a flipped checksum.) Reads never append.

#include <climits>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tests/badinput/badinput_test_util.h"

namespace jobledger::badinput {
namespace {

constexpr AwsError kInvalid = AwsError::kInvalidRequest;

class ReadsBadInputTest : public BadInputTest {
 protected:
  void SetUp() override {
    BadInputTest::SetUp();
    // Enough rows for two pages in every list: jobs a0..a2 on t1..t3 and on group fleet.
    for (const std::string job : {"a0", "a1", "a2"}) {
      ASSERT_TRUE(ledger_
                      ->CreateJob(Ops(), Job(job, {ThingArnOf("t1"), ThingArnOf("t2"),
                                                   ThingArnOf("t3"), GroupArnOf("fleet")}))
                      .ok());
    }
  }

  // Every malformed variant of `token` (a token the operation returned).
  static std::vector<std::string> Malformed(const std::string& token) {
    std::string upper = token;
    for (char& c : upper) {
      if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    }
    std::vector<std::string> out = {
        "",
        "0",
        "zz",
        "not-a-token",
        std::string("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16),
        "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0",
        "../../etc/passwd",
        token.substr(0, token.size() - 1),  // odd length
        token.substr(0, token.size() - 2),  // a byte short
        token + "00",                       // a byte long
        token.substr(2),                    // magic cut
        Repeat("0", 4098),                  // longer than any token
        Repeat(token, 200),                 // many tokens glued
    };
    if (upper != token) out.push_back(upper);
    for (size_t i = 0; i < token.size(); i += 5) {  // flipped nibbles everywhere
      std::string flipped = token;
      flipped[i] = flipped[i] == '0' ? '1' : '0';
      out.push_back(flipped);
    }
    return out;
  }

  void ExpectBadToken(const std::function<Status(const std::string&)>& list,
                      const std::string& token) {
    for (const std::string& bad : Malformed(token)) {
      SCOPED_TRACE("nextToken '" + bad.substr(0, 80) + "'");
      ExpectRejected([&] { return list(bad); }, kInvalid, "nextToken");
    }
  }

  std::string JobsToken() {
    ListJobsRequest r;
    r.max_results = 1;
    auto page = reads_->ListJobs(r);
    EXPECT_TRUE(page.ok() && page->next_token) << page.status().ToString();
    return page.ok() && page->next_token ? *page->next_token : std::string();
  }
  std::string ForJobToken(const std::string& job) {
    auto page = reads_->ListJobExecutionsForJob({job, std::nullopt, 1, std::nullopt});
    EXPECT_TRUE(page.ok() && page->next_token) << page.status().ToString();
    return page.ok() && page->next_token ? *page->next_token : std::string();
  }
  std::string ForThingToken(const std::string& thing) {
    auto page = reads_->ListJobExecutionsForThing({thing, std::nullopt, 1, std::nullopt});
    EXPECT_TRUE(page.ok() && page->next_token) << page.status().ToString();
    return page.ok() && page->next_token ? *page->next_token : std::string();
  }
};

TEST_F(ReadsBadInputTest, MalformedNextTokensInEveryListQuery) {
  ExpectBadToken(
      [&](const std::string& t) {
        ListJobsRequest r;
        r.next_token = t;
        return reads_->ListJobs(r).status();
      },
      JobsToken());
  ExpectBadToken(
      [&](const std::string& t) {
        return reads_->ListJobExecutionsForJob({"a1", std::nullopt, std::nullopt, t}).status();
      },
      ForJobToken("a1"));
  ExpectBadToken(
      [&](const std::string& t) {
        return reads_->ListJobExecutionsForThing({"t1", std::nullopt, std::nullopt, t}).status();
      },
      ForThingToken("t1"));
}

TEST_F(ReadsBadInputTest, ATokenOfAnotherOperationIsRefused) {
  const std::string jobs = JobsToken();
  const std::string for_job = ForJobToken("a1");
  const std::string for_thing = ForThingToken("t1");
  for (const std::string& t : {for_job, for_thing}) {
    ListJobsRequest r;
    r.next_token = t;
    ExpectRejected([&] { return reads_->ListJobs(r).status(); }, kInvalid, "nextToken");
  }
  for (const std::string& t : {jobs, for_thing}) {
    ExpectRejected(
        [&] {
          return reads_->ListJobExecutionsForJob({"a1", std::nullopt, 1, t}).status();
        },
        kInvalid, "nextToken");
  }
  for (const std::string& t : {jobs, for_job}) {
    ExpectRejected(
        [&] {
          return reads_->ListJobExecutionsForThing({"t1", std::nullopt, 1, t}).status();
        },
        kInvalid, "nextToken");
  }
}

TEST_F(ReadsBadInputTest, ATokenOfAnotherJobOrThingIsRefused) {
  // The same operation, but the token continues another listing: not a token this
  // operation returned for this request.
  const std::string for_a1 = ForJobToken("a1");
  ExpectRejected(
      [&] {
        return reads_->ListJobExecutionsForJob({"a2", std::nullopt, 1, for_a1}).status();
      },
      kInvalid, "nextToken");
  const std::string for_t1 = ForThingToken("t1");
  ExpectRejected(
      [&] {
        return reads_->ListJobExecutionsForThing({"t2", std::nullopt, 1, for_t1}).status();
      },
      kInvalid, "nextToken");
}

TEST_F(ReadsBadInputTest, MaxResultsOutOfRangeInEveryListQuery) {
  for (int bad : {INT_MIN, -1, 0, 251, INT_MAX}) {
    SCOPED_TRACE(bad);
    ListJobsRequest r;
    r.max_results = bad;
    ExpectRejected([&] { return reads_->ListJobs(r).status(); }, kInvalid, "maxResults");
    ExpectRejected(
        [&] {
          return reads_->ListJobExecutionsForJob({"a1", std::nullopt, bad, std::nullopt}).status();
        },
        kInvalid, "maxResults");
    ExpectRejected(
        [&] {
          return reads_->ListJobExecutionsForThing({"t1", std::nullopt, bad, std::nullopt})
              .status();
        },
        kInvalid, "maxResults");
  }
  for (int good : {1, 250}) {
    EXPECT_TRUE(reads_->ListJobExecutionsForJob({"a1", std::nullopt, good, std::nullopt}).ok());
  }
}

TEST_F(ReadsBadInputTest, BadIdentifiersInEveryQuery) {
  const std::vector<std::string> bad = {
      "a/b",   "..",          "../../x", std::string("a\0b", 3), "a|b",
      "a\xff", "caf\xc3\xa9", "",        Repeat("x", 129)};
  for (const std::string& id : bad) {
    SCOPED_TRACE(id);
    ExpectRejected([&] { return reads_->DescribeJob(id).status(); }, kInvalid, "jobId");
    ExpectRejected([&] { return reads_->GetJobDocument(id).status(); }, kInvalid, "jobId");
    ExpectRejected([&] { return reads_->DescribeJobExecution(id, "t1").status(); }, kInvalid,
                   "jobId");
    ExpectRejected([&] { return reads_->DescribeJobExecution("a1", id).status(); }, kInvalid,
                   "thingName");
    ExpectRejected(
        [&] {
          return reads_->ListJobExecutionsForJob({id, std::nullopt, {}, {}}).status();
        },
        kInvalid, "jobId");
    ExpectRejected(
        [&] {
          return reads_->ListJobExecutionsForThing({id, std::nullopt, {}, {}}).status();
        },
        kInvalid, "thingName");
    ExpectRejected([&] { return reads_->GetPendingJobExecutions(id).status(); }, kInvalid,
                   "thingName");
    ExpectRejected([&] { return ledger_->GetPendingJobExecutions(id).status(); }, kInvalid,
                   "thingName");
    ListJobsRequest r;
    r.thing_group_name = id;
    ExpectRejected([&] { return reads_->ListJobs(r).status(); }, kInvalid, "thingGroupName");
    r.thing_group_name.reset();
    r.thing_group_id = id;  // thingGroupId: [a-zA-Z0-9-]+, 1..128
    ExpectRejected([&] { return reads_->ListJobs(r).status(); }, kInvalid, "thingGroupId");
  }
  for (int64_t number : {INT64_MIN, int64_t{-1}, int64_t{0}}) {
    ExpectRejected([&] { return reads_->DescribeJobExecution("a1", "t1", number).status(); },
                   kInvalid, "executionNumber");
  }
  ExpectRejected([&] { return reads_->DescribeJobExecution("a1", "t1", INT64_MAX).status(); },
                 AwsError::kResourceNotFound, "", /*anywhere=*/true);
}

TEST_F(ReadsBadInputTest, ReadPointsBeyondTheLogAreRefusedOrClamped) {
  const uint64_t head = ledger_->log().head().sequence;
  // A sequence beyond the head reads the head (Resolve clamps); it never appends.
  auto job = reads_->DescribeJob("a1", ReadPoint::AtSequence(head + 1000));
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(*job, *reads_->DescribeJob("a1"));
  // Before the job existed: not found, and the message says as of when.
  ExpectRejected([&] { return reads_->DescribeJob("a1", ReadPoint::AtSequence(1)).status(); },
                 AwsError::kResourceNotFound, "", /*anywhere=*/true);
  EXPECT_EQ(ledger_->log().head().sequence, head);
}

TEST_F(ReadsBadInputTest, ExtremeReadingTimesDoNotOverflowTheTimeout) {
  // An IN_PROGRESS execution with a running timer: approximateSecondsBeforeTimedOut is
  // (deadline - now), which must neither overflow nor go negative at any "now".
  CreateJobRequest r = Job("timed", {ThingArnOf("t3")});
  r.timeout_config = TimeoutConfig{10};
  ASSERT_TRUE(ledger_->CreateJob(Ops(), r).ok());
  UpdateJobExecutionRequest u;
  u.job_id = "timed";
  u.thing_name = "t3";
  u.status = ExecutionStatus::kInProgress;
  ASSERT_TRUE(ledger_->UpdateJobExecution({"thing:t3", ""}, u).ok());
  for (int64_t now : {INT64_MIN, INT64_MIN + 1, int64_t{0}, kT0, INT64_MAX}) {
    SCOPED_TRACE(now);
    ReadPoint at;
    at.now_micros = now;
    auto e = reads_->DescribeJobExecution("timed", "t3", std::nullopt, at);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE(e->approximate_seconds_before_timed_out.has_value());
    EXPECT_GE(*e->approximate_seconds_before_timed_out, 0);
    if (now < kT0) {
      EXPECT_GE(*e->approximate_seconds_before_timed_out, 600);
    }
  }
}

}  // namespace
}  // namespace jobledger::badinput
