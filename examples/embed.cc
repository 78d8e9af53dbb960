// Embedding the jobledger event log: append a few events of one job's life, read
// them back, and verify the chain. Run: jobledger-example [FOLDER]
// (default ./jobledger-example; the folder is replaced on every run).

#include <cstdio>
#include <filesystem>
#include <string>

#include "jobledger/event_log.h"

using namespace jobledger;

namespace {

// One command's event, with no idempotency key and no stream expectation.
StatusOr<AppendResult> AppendOne(EventLog& log, std::string actor, EventBody body) {
  AppendRequest request;
  request.events.push_back({std::move(actor), CauseRef::None(), std::move(body)});
  return log.Append(request);
}

int Fail(const Status& status) {
  std::fprintf(stderr, "jobledger-example: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "jobledger-example";
  std::filesystem::remove_all(path);

  ManualClock clock(1764237600000000);  // 2025-11-27T10:00:00Z, simulated time
  EventLogOptions options;
  options.clock = &clock;  // Default: the system clock
  auto opened = EventLog::Open(options, path);
  if (!opened.ok()) return Fail(opened.status());
  std::unique_ptr<EventLog> log = std::move(opened).value();

  // A job is created; the service queues an execution as a consequence (cause = the
  // create, in the same atomic append).
  JobCreated created;
  created.job_id = "firmware-2-1";
  created.targets = {"arn:aws:iot:us-east-1:123456789012:thing/sensor-1"};
  created.document = R"({"operation":"install","version":"2.1.0"})";
  created.description = "Install firmware 2.1.0";
  AppendRequest create;
  create.request_id = "create-firmware-2-1";
  create.expected = {{"firmware-2-1", 0}};  // the job must not exist yet
  create.events.push_back({"user:alice", CauseRef::None(), created});
  create.events.push_back({"system:rollout", CauseRef::InBatch(0),
                           ExecutionQueued{"firmware-2-1", "sensor-1", 1, created.targets[0]}});
  auto r = log->Append(create);
  if (!r.ok()) return Fail(r.status());

  // The device reports progress, then success.
  clock.Advance(60'000'000);
  ExecutionStatusChanged start{"firmware-2-1", "sensor-1", 1, ExecutionStatus::kQueued,
                               ExecutionStatus::kInProgress, DetailsMap{{"progress", "10%"}},
                               2, std::nullopt};
  if (auto a = AppendOne(*log, "thing:sensor-1", start); !a.ok()) {
    return Fail(a.status());
  }
  clock.Advance(120'000'000);
  ExecutionStatusChanged done{"firmware-2-1", "sensor-1", 1, ExecutionStatus::kInProgress,
                              ExecutionStatus::kSucceeded, DetailsMap{{"progress", "100%"}},
                              3, std::nullopt};
  if (auto a = AppendOne(*log, "thing:sensor-1", done); !a.ok()) {
    return Fail(a.status());
  }

  // A retried request is answered from the log, not appended twice.
  auto retry = log->Append(create);
  if (!retry.ok()) return Fail(retry.status());
  std::printf("retry of %s: duplicate=%s, sequences %llu..%llu\n", create.request_id.c_str(),
              retry->duplicate ? "true" : "false",
              static_cast<unsigned long long>(retry->first_sequence),
              static_cast<unsigned long long>(retry->last_sequence));

  std::printf("\nthe log of %s:\n", path.c_str());
  for (auto cursor = log->NewCursor(); cursor->state() == EventCursor::State::kPositioned;
       cursor->Next()) {
    const Event& e = cursor->event();
    std::printf("  #%llu  t=%lld  %-22s actor=%-15s cause=%llu job=%s thing=%s\n",
                static_cast<unsigned long long>(e.sequence),
                static_cast<long long>(e.recorded_at_micros),
                std::string(EventKindName(KindOf(e.body))).c_str(), e.actor.c_str(),
                static_cast<unsigned long long>(e.cause), std::string(JobIdOf(e.body)).c_str(),
                std::string(ThingNameOf(e.body)).c_str());
  }

  auto stream = log->StreamSequences(StreamKind::kThing, "sensor-1");
  if (!stream.ok()) return Fail(stream.status());
  std::printf("\nsensor-1's stream: %zu events\n", stream->size());

  auto verified = log->Verify();
  if (!verified.ok()) return Fail(verified.status());
  Digest digest = log->digest();
  std::printf("verify: %s, %llu events checked; digest %llu:%s\n",
              verified->ok() ? "ok" : verified->detail.c_str(),
              static_cast<unsigned long long>(verified->events_checked),
              static_cast<unsigned long long>(digest.sequence), HashToHex(digest.hash).c_str());
  return verified->ok() ? 0 : 1;
}
