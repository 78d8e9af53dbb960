#include <gtest/gtest.h>

#include <sstream>

#include "jobledger/event_json.h"
#include "jobledger/replay.h"
#include "tests/projections/projections_test_util.h"

namespace jobledger::testing {
namespace {

class ReplaySmokeTest : public ProjectionsFixture {};

TEST_F(ReplaySmokeTest, HistoryWhyExportImport) {
  for (int i = 0; i < 4; ++i) MustJoin("fleet", "t" + std::to_string(i));
  CreateJobRequest r = NewJob("risky", {GroupArnOf("fleet")});
  r.abort_config = AbortConfig{{AbortCriteria{FailureType::kFailed, 50, 2}}};
  MustCreate(r);
  UpdateJobExecutionRequest u = Update("risky", "t0", ExecutionStatus::kInProgress);
  u.status_details = DetailsMap{{"progress", "10%"}};
  ASSERT_TRUE(ledger_->UpdateJobExecution(As("thing:t0"), u).ok());
  u.status_details = DetailsMap{{"progress", "50%"}};
  ASSERT_TRUE(ledger_->UpdateJobExecution(As("thing:t0"), u).ok());
  MustUpdate("risky", "t1", ExecutionStatus::kFailed);
  MustUpdate("risky", "t2", ExecutionStatus::kSucceeded);  // trips the abort

  Auditor auditor(ledger_->log(), *reads_);
  HistoryRequest h;
  h.job_id = "risky";
  h.thing_name = "t0";
  auto history = auditor.History(h);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 3u);  // queued, IN_PROGRESS, progress
  bool saw_progress = false;
  for (const FieldChange& c : (*history)[2].changes) {
    if (c.field == "statusDetails.detailsMap.progress") {
      EXPECT_EQ(c.before, "\"10%\"");
      EXPECT_EQ(c.after, "\"50%\"");
      saw_progress = true;
    }
  }
  EXPECT_TRUE(saw_progress);

  // The cause chain of a canceled execution reaches the device's update.
  const uint64_t head = Head();
  auto why = auditor.Why(head);
  ASSERT_TRUE(why.ok()) << why.status().ToString();
  ASSERT_EQ(why->size(), 3u);
  EXPECT_EQ((*why)[0].kind, EventKind::kExecutionCanceled);
  EXPECT_EQ((*why)[1].kind, EventKind::kJobCanceled);
  EXPECT_EQ((*why)[1].actor, "system:abort");
  EXPECT_EQ((*why)[2].kind, EventKind::kExecutionStatusChanged);
  EXPECT_EQ((*why)[2].actor, "thing:t2");

  auto report = VerifyLedger(ledger_->log(), ledger_.get(), projections_.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->first_problem()->detail;

  std::stringstream out;
  ASSERT_EQ(Export(ledger_->log(), 1, kMaxSequence, out).value(), head);
  const Digest source = ledger_->log().digest();

  TempDir other;
  LedgerOptions options;
  auto copy = Ledger::Open(options, other.path() + "/copy");
  ASSERT_TRUE(copy.ok());
  std::stringstream in(out.str());
  auto imported = Import(**copy, in);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->digest, source);
  EXPECT_EQ((*copy)->GetJobState("risky").value()->status, JobStatus::kCanceled);
  auto state = (*copy)->CheckState();
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->ok());

  // An altered line is refused with its number.
  std::string text = out.str();
  size_t pos = text.find("10%");
  text.replace(pos, 3, "11%");
  TempDir third;
  auto empty = Ledger::Open(options, third.path() + "/x");
  std::stringstream tampered(text);
  auto refused = Import(**empty, tampered);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("line "), std::string::npos) << refused.status().message();
  EXPECT_EQ((*empty)->log().head().sequence, 0u);
}

}  // namespace
}  // namespace jobledger::testing

namespace jobledger::testing {
namespace {

TEST(EventJsonTest, EveryKindRoundTripsWithItsHash) {
  uint64_t seq = 1;
  Hash prev{};
  for (const EventBody& body : OneBodyOfEveryKind()) {
    SCOPED_TRACE(EventKindName(KindOf(body)));
    Event e;
    e.sequence = seq++;
    e.recorded_at_micros = kT0 + static_cast<int64_t>(seq);
    e.clamped_from_micros = seq % 2 ? 0 : kT0 - 5;
    e.actor = "user:alice";
    e.cause = seq > 2 ? seq - 2 : 0;
    e.request_id = "req-" + std::to_string(seq);
    e.previous_hash = prev;
    e.body = body;
    const Hash hash = EventHash(e);
    std::string line = EventToJsonLine(e, hash);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto parsed = EventFromJsonLine(line);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << line;
    EXPECT_EQ(parsed->event, e);
    EXPECT_EQ(parsed->hash, hash);
    EXPECT_EQ(EventHash(parsed->event), hash);  // the canonical bytes round-trip too
    prev = hash;
  }
}

TEST(EventJsonTest, MalformedLinesNameTheMember) {
  EXPECT_EQ(EventFromJsonLine("{").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EventFromJsonLine("[]").status().code(), StatusCode::kInvalidArgument);
  auto missing = EventFromJsonLine(R"({"sequence": 1})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("recordedAt"), std::string::npos) << missing.status().message();
  std::string hex(64, '0');
  auto unknown = EventFromJsonLine(R"({"sequence":1,"recordedAt":1,"clampedFrom":0,"actor":"a","cause":0,"requestId":"","previousHash":")" +
                                   hex + R"(","hash":")" + hex + R"(","type":"Teleported","body":{}})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("Teleported"), std::string::npos);
  auto bad_status = EventFromJsonLine(R"({"sequence":1,"recordedAt":1,"clampedFrom":0,"actor":"a","cause":0,"requestId":"","previousHash":")" +
                                      hex + R"(","hash":")" + hex + R"(","type":"ExecutionRemoved","body":{"jobId":"j","thingName":"t","executionNumber":1,"from":"SLEEPING","versionNumber":2}})");
  ASSERT_FALSE(bad_status.ok());
  EXPECT_NE(bad_status.status().message().find("body.from"), std::string::npos) << bad_status.status().message();
}

}  // namespace
}  // namespace jobledger::testing
