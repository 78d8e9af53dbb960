#include "ledger/internal/codec.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <utility>
#include <vector>
#include <string>

#include "ledger/internal/hash_chain.h"
#include "ledger/internal/keys.h"
#include "tests/ledger/sample_events.h"

namespace jobledger {
namespace {

Event Envelope(EventBody body, uint64_t seq = 7) {
  Event e;
  e.sequence = seq;
  e.recorded_at_micros = 1764237600123456;
  e.clamped_from_micros = 1764237599000000;
  e.actor = "user:alice";
  e.cause = 3;
  e.request_id = "req-1";
  e.previous_hash.fill(0xab);
  e.body = std::move(body);
  return e;
}

TEST(CodecTest, EveryEventKindRoundTrips) {
  std::vector<EventBody> bodies = testing::OneBodyOfEveryKind();
  ASSERT_EQ(bodies.size(), static_cast<size_t>(kEventKindCount - 1));
  for (size_t i = 0; i < bodies.size(); ++i) {
    SCOPED_TRACE(EventKindName(KindOf(bodies[i])));
    EXPECT_EQ(KindOf(bodies[i]), static_cast<EventKind>(i));
    Event in = Envelope(bodies[i]);
    std::string bytes = internal::EncodeEvent(in);
    StatusOr<Event> out = internal::DecodeEvent(bytes, in.sequence);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, in);
  }
}

TEST(CodecTest, AbsentOptionalsStayAbsent) {
  JobCreated minimal;
  minimal.job_id = "j";
  minimal.targets = {"arn:aws:iot:us-east-1:123456789012:thing/t"};
  Event in = Envelope(minimal);
  StatusOr<Event> out = internal::DecodeEvent(internal::EncodeEvent(in), in.sequence);
  ASSERT_TRUE(out.ok());
  const auto& b = std::get<JobCreated>(out->body);
  EXPECT_FALSE(b.description.has_value());
  EXPECT_FALSE(b.presigned_url_config.has_value());
  EXPECT_FALSE(b.job_executions_rollout_config.has_value());
  EXPECT_FALSE(b.abort_config.has_value());
  EXPECT_FALSE(b.timeout_config.has_value());

  ExecutionStatusChanged change{"j", "t", 1, ExecutionStatus::kQueued,
                                ExecutionStatus::kInProgress, std::nullopt, 2, std::nullopt};
  StatusOr<Event> out2 = internal::DecodeEvent(internal::EncodeEvent(Envelope(change)), 7);
  ASSERT_TRUE(out2.ok());
  EXPECT_FALSE(std::get<ExecutionStatusChanged>(out2->body).status_details.has_value());
  EXPECT_FALSE(std::get<ExecutionStatusChanged>(out2->body).step_timeout_in_minutes.has_value());
}

TEST(CodecTest, EncodingIsCanonicalAndStable) {
  for (const EventBody& body : testing::OneBodyOfEveryKind()) {
    Event e = Envelope(body);
    std::string a = internal::EncodeEvent(e);
    std::string b = internal::EncodeEvent(e);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.size() % 8, 0u);
    // Decoding and re-encoding gives the same bytes.
    StatusOr<Event> decoded = internal::DecodeEvent(a, e.sequence);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(internal::EncodeEvent(*decoded), a);
  }
}

TEST(CodecTest, WrongSequenceIsDataLossNamingTheSequence) {
  std::string bytes = internal::EncodeEvent(Envelope(JobCompleted{"j"}, 7));
  StatusOr<Event> out = internal::DecodeEvent(bytes, 8);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(out.status().message().find("event 8"), std::string::npos);
}

// Verify reads previousHash where the canonical layout puts it. Whatever the envelope
// holds (empty or long actor and request id, zero or large cause and times, every body
// kind, the zero hash of event 1), the fixed-position read and the full decode agree;
// bytes laid out otherwise give no answer rather than a wrong one.
TEST(CodecTest, PreviousHashAtAgreesWithTheDecoderForEveryEnvelope) {
  std::vector<EventBody> bodies = testing::OneBodyOfEveryKind();
  int read = 0;
  for (const EventBody& body : bodies) {
    for (int variant = 0; variant < 6; ++variant) {
      Event in = Envelope(body, variant == 5 ? 1 : 7 + static_cast<uint64_t>(variant));
      if (variant == 1) in.actor.clear();
      if (variant == 2) in.request_id.clear();
      if (variant == 3) {
        in.actor = std::string(300, 'a');
        in.request_id = std::string(64, 'r');
        in.cause = 0;
        in.clamped_from_micros = 0;
      }
      if (variant == 4) in.previous_hash.fill(0);
      if (variant == 5) {
        in.previous_hash.fill(0);
        in.actor.clear();
        in.request_id.clear();
        in.cause = 0;
        in.recorded_at_micros = 0;
        in.clamped_from_micros = 0;
      }
      for (size_t i = 0; i < in.previous_hash.size(); ++i) {
        if (variant != 4 && variant != 5) in.previous_hash[i] = static_cast<uint8_t>(i * 7 + static_cast<size_t>(variant));
      }
      SCOPED_TRACE(std::string(EventKindName(KindOf(body))) + " variant " + std::to_string(variant));
      const std::string bytes = internal::EncodeEvent(in);
      std::optional<Hash> fast = internal::PreviousHashAt(bytes, in.sequence);
      ASSERT_TRUE(fast.has_value());
      EXPECT_EQ(*fast, in.previous_hash);
      EXPECT_FALSE(internal::PreviousHashAt(bytes, in.sequence + 1).has_value())
          << "the envelope's sequence is checked";
      ++read;
    }
  }
  EXPECT_EQ(read, static_cast<int>(bodies.size()) * 6);
  // Truncated bytes: no answer until the hash is whole, then the right one (what
  // follows the hash is the chain hash's business); never a read past the end.
  const Event good_event = Envelope(bodies[0]);
  std::string good = internal::EncodeEvent(good_event);
  bool answered = false;
  for (size_t n = 0; n < good.size(); n += 8) {
    std::optional<Hash> got = internal::PreviousHashAt(std::string_view(good).substr(0, n), 7);
    if (answered) {
      ASSERT_TRUE(got.has_value()) << n;
    }
    if (got.has_value()) {
      EXPECT_EQ(*got, good_event.previous_hash) << n;
      answered = true;
    }
  }
  EXPECT_FALSE(internal::PreviousHashAt(std::string_view(good).substr(0, 8), 7).has_value());
  EXPECT_FALSE(internal::PreviousHashAt(std::string(64, '\xff'), 7).has_value());
}

TEST(CodecTest, GarbageNeverCrashesAndIsDataLoss) {
  std::mt19937_64 rng(20261127);
  std::string good = internal::EncodeEvent(Envelope(testing::OneBodyOfEveryKind()[0]));
  int failures = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = good;
    // Flip a few random bytes, sometimes truncate.
    for (int k = 0; k < 3; ++k) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    if (round % 5 == 0) bytes.resize(rng() % bytes.size());
    StatusOr<Event> out = internal::DecodeEvent(bytes, 7);
    if (!out.ok()) {
      ++failures;
      EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
      EXPECT_NE(out.status().message().find("event 7"), std::string::npos);
    }
  }
  EXPECT_GT(failures, 0);  // some of these inputs must be rejected
  for (std::string bad : {std::string(), std::string(5, 'x'), std::string(8, '\xff')}) {
    EXPECT_EQ(internal::DecodeEvent(bad, 1).status().code(), StatusCode::kDataLoss);
  }
}

// The log stores any event whose encoding is at most kMaxEventBytes, so each of them
// must decode: the reader's traversal limit has to cover what decoding charges, which
// is every object once (the decode_event fuzzer found a list read twice, so an event
// just under the size limit was stored but could not be read back). The largest
// encodings within the limit, for each kind of list, decode; one element more is over
// the limit and refused.
TEST(CodecTest, EveryEncodingWithinTheSizeLimitDecodes) {
  std::vector<std::pair<std::string, std::function<Event(size_t)>>> shapes;
  shapes.emplace_back("empty details entries", [](size_t n) {
    ExecutionCanceled b{"j", "t", 1, ExecutionStatus::kQueued, false, DetailsMap(n), 2};
    return Envelope(b);
  });
  shapes.emplace_back("details entries", [](size_t n) {
    ExecutionCanceled b{"j", "t", 1, ExecutionStatus::kQueued, false,
                        DetailsMap(n, {"key", "value"}), 2};
    return Envelope(b);
  });
  shapes.emplace_back("rollout plan entries", [](size_t n) {
    return Envelope(RolloutPlanned{"j", std::vector<PlannedExecution>(n, PlannedExecution{"", ""})});
  });
  shapes.emplace_back("targets", [](size_t n) {
    JobCreated c;
    c.job_id = "j";
    c.targets.assign(n, "");
    c.document = "{}";
    return Envelope(c);
  });
  for (const auto& [name, make] : shapes) {
    SCOPED_TRACE(name);
    size_t fits = 0, over = internal::kMaxEventBytes;  // elements: fits encodes within
    while (over - fits > 1) {
      const size_t mid = (fits + over) / 2;
      if (internal::EncodeEvent(make(mid)).size() <= internal::kMaxEventBytes) {
        fits = mid;
      } else {
        over = mid;
      }
    }
    const Event largest = make(fits);
    const std::string bytes = internal::EncodeEvent(largest);
    EXPECT_GT(bytes.size(), internal::kMaxEventBytes - 64);
    StatusOr<Event> decoded = internal::DecodeEvent(bytes, largest.sequence);
    ASSERT_TRUE(decoded.ok()) << bytes.size() << " bytes: " << decoded.status().ToString();
    EXPECT_TRUE(*decoded == largest);
    const std::string too_big = internal::EncodeEvent(make(over));
    EXPECT_GT(too_big.size(), internal::kMaxEventBytes);
    EXPECT_EQ(internal::DecodeEvent(too_big, largest.sequence).status().code(),
              StatusCode::kDataLoss);
  }
}

TEST(KeysTest, EventKeyOrderIsNumericOrder) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    uint64_t a = rng() >> (rng() % 64);
    uint64_t b = rng() >> (rng() % 64);
    EXPECT_EQ(a < b, internal::EventKey(a) < internal::EventKey(b)) << a << " " << b;
    EXPECT_EQ(internal::ParseEventKey(internal::EventKey(a)), a);
  }
  EXPECT_LT(internal::EventKey(255), internal::EventKey(256));
  EXPECT_LT(internal::EventKey(0xffffffffULL), internal::EventKey(0x100000000ULL));
}

TEST(KeysTest, TimeKeyOrderIsNumericOrderIncludingNegativeTimes) {
  std::vector<int64_t> times = {INT64_MIN, -1000000, -1, 0, 1, 1764237600000000, INT64_MAX};
  for (size_t i = 0; i + 1 < times.size(); ++i) {
    EXPECT_LT(internal::TimeKey(times[i], 99), internal::TimeKey(times[i + 1], 1));
    auto parts = internal::ParseTimeKey(internal::TimeKey(times[i], 5));
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->recorded_at_micros, times[i]);
    EXPECT_EQ(parts->sequence, 5u);
  }
}

TEST(KeysTest, StreamsOfPrefixRelatedIdsDoNotInterleave) {
  using internal::KeyPrefix;
  // Every key of "a" sorts before every key of "ab", whatever the sequences.
  EXPECT_LT(internal::StreamKey(KeyPrefix::kJobStream, "a", ~0ULL),
            internal::StreamKey(KeyPrefix::kJobStream, "ab", 1));
  std::string k = internal::StreamKey(KeyPrefix::kThingStream, "thing-1", 42);
  EXPECT_EQ(internal::ParseStreamKeySequence(k), 42u);
  EXPECT_EQ(k.rfind(internal::StreamPrefix(KeyPrefix::kThingStream, "thing-1"), 0), 0u);
}

TEST(HashChainTest, HashCommitsToPreviousSequenceAndBytes) {
  Hash zero{};
  Hash h = internal::ChainHash(zero, 1, "abc");
  EXPECT_NE(h, zero);
  EXPECT_EQ(h, internal::ChainHash(zero, 1, "abc"));
  EXPECT_NE(h, internal::ChainHash(zero, 2, "abc"));
  EXPECT_NE(h, internal::ChainHash(zero, 1, "abd"));
  Hash other = zero;
  other[31] = 1;
  EXPECT_NE(h, internal::ChainHash(other, 1, "abc"));
  EXPECT_EQ(HashFromHex(HashToHex(h)), h);
  EXPECT_FALSE(HashFromHex("xyz").has_value());
}

}  // namespace
}  // namespace jobledger
