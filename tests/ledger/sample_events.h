// Sample events for tests: one realistic body of every kind.

#ifndef JOBLEDGER_TESTS_LEDGER_SAMPLE_EVENTS_H_
#define JOBLEDGER_TESTS_LEDGER_SAMPLE_EVENTS_H_

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "jobledger/event.h"
#include "jobledger/event_log.h"

namespace jobledger::testing {

// One body of every known kind, in EventKind order, with every optional member set
// on some of them.
inline std::vector<EventBody> OneBodyOfEveryKind() {
  JobCreated created;
  created.job_id = "firmware-update_42";
  created.targets = {"arn:aws:iot:us-east-1:123456789012:thinggroup/fleet-a",
                     "arn:aws:iot:us-east-1:123456789012:thing/sensor-1"};
  created.document = R"({"operation":"install","version":"2.1.0"})";
  created.description = "Roll out firmware 2.1.0";
  created.target_selection = TargetSelection::kContinuous;
  created.presigned_url_config =
      PresignedUrlConfig{"arn:aws:iam::123456789012:role/s3-reader", 900};
  created.job_executions_rollout_config =
      RolloutConfig{200, ExponentialRate{10, 2.5, RateIncreaseCriteria{std::nullopt, 50}}};
  created.abort_config = AbortConfig{{AbortCriteria{FailureType::kFailed, 25.5, 10},
                                      AbortCriteria{FailureType::kAll, 50, 100}}};
  created.timeout_config = TimeoutConfig{20};

  JobUpdated updated;
  updated.job_id = "firmware-update_42";
  updated.description = "";  // present but empty
  updated.timeout_config = TimeoutConfig{std::nullopt};

  ExecutionStatusChanged changed;
  changed.job_id = "firmware-update_42";
  changed.thing_name = "sensor-1";
  changed.execution_number = 1;
  changed.from = ExecutionStatus::kQueued;
  changed.to = ExecutionStatus::kInProgress;
  changed.status_details = DetailsMap{{"progress", "10%"}, {"step", "download"}};
  changed.version_number = 2;
  changed.step_timeout_in_minutes = -1;

  ExecutionCanceled canceled;
  canceled.job_id = "firmware-update_42";
  canceled.thing_name = "sensor-2";
  canceled.execution_number = 3;
  canceled.from = ExecutionStatus::kInProgress;
  canceled.force = true;
  canceled.status_details = DetailsMap{};  // supplied and empty
  canceled.version_number = 4;

  return {
      created,
      updated,
      TargetsAssociated{"firmware-update_42",
                        {"arn:aws:iot:us-east-1:123456789012:thinggroup/fleet-b"},
                        "add fleet b"},
      JobCanceled{"firmware-update_42", "ABORT_CRITERIA_MET", "criterion 1 met", false},
      JobCompleted{"firmware-update_42"},
      JobDeleted{"firmware-update_42", true},
      ExecutionQueued{"firmware-update_42", "sensor-1", 1,
                      "arn:aws:iot:us-east-1:123456789012:thing/sensor-1"},
      changed,
      canceled,
      ExecutionTimedOut{"firmware-update_42", "sensor-3", 1, 1764237600000000, 3},
      ExecutionRemoved{"firmware-update_42", "sensor-4", 2, ExecutionStatus::kQueued, 2},
      ExecutionDeleted{"firmware-update_42", "sensor-4", 2, false},
      ThingAddedToGroup{"sensor-5", "fleet-a"},
      ThingRemovedFromGroup{"sensor-5", "fleet-a"},
      ThingDeleted{"sensor-5"},
      RolloutPlanned{"firmware-update_42",
                     {PlannedExecution{"sensor-6", "arn:aws:iot:us-east-1:123456789012:thinggroup/a"},
                      PlannedExecution{"sensor-7", "arn:aws:iot:us-east-1:123456789012:thing/sensor-7"}}},
      RolloutStep{"firmware-update_42", 3, 40, 40, {"sensor-8"}},
      FanOutStep{"firmware-update_42", "arn:aws:iot:us-east-1:123456789012:thinggroup/a", "sensor-9",
                 false, /*plan=*/true},
  };
}

inline NewEvent Command(EventBody body, std::string actor = "user:alice") {
  return NewEvent{std::move(actor), CauseRef::None(), std::move(body)};
}

inline AppendRequest Single(EventBody body, std::string request_id = "") {
  AppendRequest r;
  r.events.push_back(Command(std::move(body)));
  r.request_id = std::move(request_id);
  return r;
}

inline ExecutionQueued Queued(std::string job, std::string thing, int64_t number = 1) {
  return ExecutionQueued{std::move(job), std::move(thing), number,
                         "arn:aws:iot:us-east-1:123456789012:thing/x"};
}

inline JobCreated Created(std::string job) {
  JobCreated c;
  c.job_id = std::move(job);
  c.targets = {"arn:aws:iot:us-east-1:123456789012:thing/x"};
  c.document = "{}";
  return c;
}

// A fresh folder, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "jobledger-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace jobledger::testing

#endif  // JOBLEDGER_TESTS_LEDGER_SAMPLE_EVENTS_H_
