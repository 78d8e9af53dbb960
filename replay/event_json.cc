#include "jobledger/event_json.h"

#include <nlohmann/json.hpp>

#include <type_traits>

#include "projections/json_mapping.h"

namespace jobledger {
namespace {

using Json = nlohmann::ordered_json;

// ---- writing ----

void PutOpt(Json& j, const char* name, const std::optional<std::string>& v) {
  if (v) j[name] = *v;
}

Json DetailsToJson(const DetailsMap& d) {
  Json out = Json::object();
  for (const auto& [k, v] : d) out[k] = v;
  return out;
}

template <typename T>
void PutConfig(Json& j, const char* name, const std::optional<T>& v) {
  if (v) j[name] = ToJson(*v);
}

// The configurations of JobCreated and JobUpdated, each only when set.
template <typename Body>
void PutJobConfigs(Json& j, const Body& b) {
  PutConfig(j, "presignedUrlConfig", b.presigned_url_config);
  PutConfig(j, "jobExecutionsRolloutConfig", b.job_executions_rollout_config);
  PutConfig(j, "abortConfig", b.abort_config);
  PutConfig(j, "timeoutConfig", b.timeout_config);
}

Json BodyToJson(const EventBody& body) {
  Json j = Json::object();
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (requires { b.job_id; }) j["jobId"] = b.job_id;
        if constexpr (requires { b.thing_name; }) j["thingName"] = b.thing_name;
        if constexpr (requires { b.execution_number; }) j["executionNumber"] = b.execution_number;
        if constexpr (std::is_same_v<T, JobCreated>) {
          j["targets"] = b.targets;
          j["document"] = b.document;
          PutOpt(j, "description", b.description);
          j["targetSelection"] = TargetSelectionName(b.target_selection);
          PutJobConfigs(j, b);
        } else if constexpr (std::is_same_v<T, JobUpdated>) {
          PutOpt(j, "description", b.description);
          PutJobConfigs(j, b);
        } else if constexpr (std::is_same_v<T, TargetsAssociated>) {
          j["targets"] = b.targets;
          PutOpt(j, "comment", b.comment);
        } else if constexpr (std::is_same_v<T, JobCanceled>) {
          PutOpt(j, "reasonCode", b.reason_code);
          PutOpt(j, "comment", b.comment);
          j["force"] = b.force;
        } else if constexpr (std::is_same_v<T, JobDeleted> || std::is_same_v<T, ExecutionDeleted>) {
          j["force"] = b.force;
        } else if constexpr (std::is_same_v<T, ExecutionQueued>) {
          j["target"] = b.target;
        } else if constexpr (std::is_same_v<T, ExecutionStatusChanged>) {
          j["from"] = ExecutionStatusName(b.from);
          j["to"] = ExecutionStatusName(b.to);
          if (b.status_details) j["statusDetails"] = DetailsToJson(*b.status_details);
          j["versionNumber"] = b.version_number;
          if (b.step_timeout_in_minutes) j["stepTimeoutInMinutes"] = *b.step_timeout_in_minutes;
        } else if constexpr (std::is_same_v<T, ExecutionCanceled>) {
          j["from"] = ExecutionStatusName(b.from);
          j["force"] = b.force;
          if (b.status_details) j["statusDetails"] = DetailsToJson(*b.status_details);
          j["versionNumber"] = b.version_number;
        } else if constexpr (std::is_same_v<T, ExecutionTimedOut>) {
          j["deadline"] = b.deadline_micros;
          j["versionNumber"] = b.version_number;
        } else if constexpr (std::is_same_v<T, ExecutionRemoved>) {
          j["from"] = ExecutionStatusName(b.from);
          j["versionNumber"] = b.version_number;
        } else if constexpr (std::is_same_v<T, ThingAddedToGroup> ||
                             std::is_same_v<T, ThingRemovedFromGroup>) {
          j["thingGroupName"] = b.thing_group_name;
        } else if constexpr (std::is_same_v<T, RolloutPlanned>) {
          Json entries = Json::array();
          for (const auto& e : b.entries) entries.push_back(Json{{"thingName", e.thing_name}, {"target", e.target}});
          j["entries"] = entries;
        } else if constexpr (std::is_same_v<T, FanOutStep>) {
          j["target"] = b.target;
          j["after"] = b.after;
          j["done"] = b.done;
          if (b.plan) j["plan"] = true;  // absent for a fan-out of executions, as before
        } else if constexpr (std::is_same_v<T, RolloutStep>) {
          j["window"] = b.window;
          j["ratePerMinute"] = b.rate_per_minute;
          j["quota"] = b.quota;
          if (!b.skipped.empty()) j["skipped"] = b.skipped;
        } else if constexpr (std::is_same_v<T, UnknownEvent>) {
          j["discriminant"] = b.discriminant;
        }
      },
      body);
  return j;
}

// ---- reading ----

// Reads members of one JSON object, remembering the first problem.
class Reader {
 public:
  Reader(const Json& j, std::string path) : j_(j), path_(std::move(path)) {}

  bool Has(const char* name) const { return j_.is_object() && j_.contains(name); }

  std::string Str(const char* name) {
    const Json* v = Member(name, /*required=*/true);
    if (v == nullptr) return {};
    if (!v->is_string()) return Bad(name, "must be a string"), std::string();
    return v->get<std::string>();
  }
  std::optional<std::string> OptStr(const char* name) {
    if (!Has(name)) return std::nullopt;
    return Str(name);
  }
  int64_t Int(const char* name) {
    const Json* v = Member(name, true);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) return Bad(name, "must be an integer"), 0;
    return v->get<int64_t>();
  }
  uint64_t UInt(const char* name) {
    const Json* v = Member(name, true);
    if (v == nullptr) return 0;
    if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0)) {
      return Bad(name, "must be a non-negative integer"), 0;
    }
    return v->get<uint64_t>();
  }
  std::optional<int64_t> OptInt(const char* name) {
    if (!Has(name)) return std::nullopt;
    return Int(name);
  }
  int32_t Int32(const char* name) {
    int64_t v = Int(name);
    if (v < INT32_MIN || v > INT32_MAX) return Bad(name, "is out of range"), 0;
    return static_cast<int32_t>(v);
  }
  std::optional<int32_t> OptInt32(const char* name) {
    if (!Has(name)) return std::nullopt;
    return Int32(name);
  }
  double Double(const char* name) {
    const Json* v = Member(name, true);
    if (v == nullptr) return 0;
    if (!v->is_number()) return Bad(name, "must be a number"), 0.0;
    return v->get<double>();
  }
  bool Bool(const char* name) {
    const Json* v = Member(name, true);
    if (v == nullptr) return false;
    if (!v->is_boolean()) return Bad(name, "must be true or false"), false;
    return v->get<bool>();
  }
  std::vector<std::string> Strings(const char* name) {
    std::vector<std::string> out;
    const Json* v = Member(name, true);
    if (v == nullptr) return out;
    if (!v->is_array()) return Bad(name, "must be an array of strings"), out;
    for (const Json& s : *v) {
      if (!s.is_string()) return Bad(name, "must be an array of strings"), out;
      out.push_back(s.get<std::string>());
    }
    return out;
  }
  ExecutionStatus Status(const char* name) {
    std::string s = Str(name);
    if (s == "NONE") return ExecutionStatus::kNone;
    std::optional<ExecutionStatus> st = ParseExecutionStatus(s);
    if (!st && problem_.empty()) Bad(name, "is not an execution status: '" + s + "'");
    return st.value_or(ExecutionStatus::kNone);
  }
  std::optional<DetailsMap> OptDetails(const char* name) {
    if (!Has(name)) return std::nullopt;
    const Json& v = j_[name];
    if (!v.is_object()) return Bad(name, "must be an object of strings"), std::nullopt;
    DetailsMap out;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it.value().is_string()) return Bad(name, "must be an object of strings"), std::nullopt;
      out.emplace_back(it.key(), it.value().get<std::string>());
    }
    return out;
  }
  Reader Sub(const char* name) {
    const Json* v = Member(name, true);
    static const Json kEmpty = Json::object();
    if (v != nullptr && !v->is_object()) Bad(name, "must be an object");
    return Reader(v != nullptr && v->is_object() ? *v : kEmpty, path_ + "." + name);
  }
  const Json* Member(const char* name, bool required) {
    if (!j_.is_object() || !j_.contains(name)) {
      if (required) Bad(name, "is missing");
      return nullptr;
    }
    return &j_[name];
  }
  void Bad(std::string_view name, std::string rule) {
    if (problem_.empty()) problem_ = path_ + "." + std::string(name) + ": " + rule;
  }
  void Absorb(const Reader& child) {
    if (problem_.empty()) problem_ = child.problem_;
  }
  // A problem stated in full (path and rule).
  void Fail(std::string message) {
    if (problem_.empty()) problem_ = std::move(message);
  }
  const std::string& path() const { return path_; }
  const std::string& problem() const { return problem_; }
  const Json& json() const { return j_; }

 private:
  const Json& j_;
  std::string path_;
  std::string problem_;
};

// A configuration member (projections/json_mapping.h), if present.
template <typename T>
std::optional<T> ReadConfig(Reader& r, const char* name) {
  if (!r.Has(name)) return std::nullopt;
  StatusOr<T> value = FromJson<T>(r.json()[name], r.path() + "." + name);
  if (!value.ok()) {
    r.Fail(value.status().message());
    return std::nullopt;
  }
  return *std::move(value);
}

// The configurations of JobCreated and JobUpdated (PutJobConfigs).
template <typename Body>
void ReadJobConfigs(Reader& r, Body& b) {
  b.presigned_url_config = ReadConfig<PresignedUrlConfig>(r, "presignedUrlConfig");
  b.job_executions_rollout_config = ReadConfig<RolloutConfig>(r, "jobExecutionsRolloutConfig");
  b.abort_config = ReadConfig<AbortConfig>(r, "abortConfig");
  b.timeout_config = ReadConfig<TimeoutConfig>(r, "timeoutConfig");
}

// The execution an execution event is about, read first as BodyToJson writes it first.
template <typename Body>
Body ExecutionBody(Reader& r) {
  Body b;
  b.job_id = r.Str("jobId");
  b.thing_name = r.Str("thingName");
  b.execution_number = r.Int("executionNumber");
  return b;
}

std::optional<EventBody> BodyFromJson(const std::string& type, Reader& r) {
  auto job = [&] { return r.Str("jobId"); };
  auto thing = [&] { return r.Str("thingName"); };
  if (type == "JobCreated") {
    JobCreated b;
    b.job_id = job();
    b.targets = r.Strings("targets");
    b.document = r.Str("document");
    b.description = r.OptStr("description");
    std::optional<TargetSelection> ts = ParseTargetSelection(r.Str("targetSelection"));
    if (!ts) r.Bad("targetSelection", "must be SNAPSHOT or CONTINUOUS");
    b.target_selection = ts.value_or(TargetSelection::kSnapshot);
    ReadJobConfigs(r, b);
    return b;
  }
  if (type == "JobUpdated") {
    JobUpdated b;
    b.job_id = job();
    b.description = r.OptStr("description");
    ReadJobConfigs(r, b);
    return b;
  }
  if (type == "TargetsAssociated") return TargetsAssociated{job(), r.Strings("targets"), r.OptStr("comment")};
  if (type == "JobCanceled") {
    JobCanceled b;
    b.job_id = job();
    b.reason_code = r.OptStr("reasonCode");
    b.comment = r.OptStr("comment");
    b.force = r.Bool("force");
    return b;
  }
  if (type == "JobCompleted") return JobCompleted{job()};
  if (type == "JobDeleted") {
    JobDeleted b;
    b.job_id = job();
    b.force = r.Bool("force");
    return b;
  }
  if (type == "ExecutionQueued") {
    auto b = ExecutionBody<ExecutionQueued>(r);
    b.target = r.Str("target");
    return b;
  }
  if (type == "ExecutionStatusChanged") {
    auto b = ExecutionBody<ExecutionStatusChanged>(r);
    b.from = r.Status("from");
    b.to = r.Status("to");
    b.status_details = r.OptDetails("statusDetails");
    b.version_number = r.Int("versionNumber");
    b.step_timeout_in_minutes = r.OptInt("stepTimeoutInMinutes");
    return b;
  }
  if (type == "ExecutionCanceled") {
    auto b = ExecutionBody<ExecutionCanceled>(r);
    b.from = r.Status("from");
    b.force = r.Bool("force");
    b.status_details = r.OptDetails("statusDetails");
    b.version_number = r.Int("versionNumber");
    return b;
  }
  if (type == "ExecutionTimedOut") {
    auto b = ExecutionBody<ExecutionTimedOut>(r);
    b.deadline_micros = r.Int("deadline");
    b.version_number = r.Int("versionNumber");
    return b;
  }
  if (type == "ExecutionRemoved") {
    auto b = ExecutionBody<ExecutionRemoved>(r);
    b.from = r.Status("from");
    b.version_number = r.Int("versionNumber");
    return b;
  }
  if (type == "ExecutionDeleted") {
    auto b = ExecutionBody<ExecutionDeleted>(r);
    b.force = r.Bool("force");
    return b;
  }
  if (type == "ThingAddedToGroup") return ThingAddedToGroup{thing(), r.Str("thingGroupName")};
  if (type == "ThingRemovedFromGroup") return ThingRemovedFromGroup{thing(), r.Str("thingGroupName")};
  if (type == "ThingDeleted") return ThingDeleted{thing()};
  if (type == "RolloutPlanned") {
    RolloutPlanned b;
    b.job_id = job();
    const Json* entries = r.Member("entries", true);
    if (entries != nullptr && entries->is_array()) {
      for (const Json& e : *entries) {
        Reader er(e, "body.entries[]");
        b.entries.push_back(PlannedExecution{er.Str("thingName"), er.Str("target")});
        r.Absorb(er);
      }
    } else if (entries != nullptr) {
      r.Bad("entries", "must be an array");
    }
    return b;
  }
  if (type == "FanOutStep") {
    FanOutStep b;
    b.job_id = job();
    b.target = r.Str("target");
    b.after = r.Str("after");
    b.done = r.Bool("done");
    if (r.Has("plan")) b.plan = r.Bool("plan");
    return b;
  }
  if (type == "RolloutStep") {
    RolloutStep b;
    b.job_id = job();
    b.window = r.UInt("window");
    b.rate_per_minute = r.Int32("ratePerMinute");
    b.quota = r.Int32("quota");
    if (r.Has("skipped")) b.skipped = r.Strings("skipped");
    return b;
  }
  return std::nullopt;
}

}  // namespace

std::string EventToJsonLine(const Event& e, const Hash& hash) {
  Json j;
  j["sequence"] = e.sequence;
  j["recordedAt"] = e.recorded_at_micros;
  j["clampedFrom"] = e.clamped_from_micros;
  j["actor"] = e.actor;
  j["cause"] = e.cause;
  j["requestId"] = e.request_id;
  j["previousHash"] = HashToHex(e.previous_hash);
  j["hash"] = HashToHex(hash);
  j["type"] = EventKindName(KindOf(e.body));
  j["body"] = BodyToJson(e.body);
  return j.dump();
}

StatusOr<ParsedEvent> EventFromJsonLine(std::string_view line) {
  Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("not a JSON object");
  Reader r(j, "event");
  ParsedEvent out;
  Event& e = out.event;
  e.sequence = r.UInt("sequence");
  e.recorded_at_micros = r.Int("recordedAt");
  e.clamped_from_micros = r.Int("clampedFrom");
  e.actor = r.Str("actor");
  e.cause = r.UInt("cause");
  e.request_id = r.Str("requestId");
  std::optional<Hash> prev = HashFromHex(r.Str("previousHash"));
  std::optional<Hash> hash = HashFromHex(r.Str("hash"));
  if (!r.problem().empty()) return InvalidArgumentError(r.problem());
  if (!prev) return InvalidArgumentError("event.previousHash: must be 64 hex digits");
  if (!hash) return InvalidArgumentError("event.hash: must be 64 hex digits");
  e.previous_hash = *prev;
  out.hash = *hash;
  const std::string type = r.Str("type");
  Reader body = r.Sub("body");
  std::optional<EventBody> parsed = BodyFromJson(type, body);
  r.Absorb(body);
  if (!parsed && r.problem().empty()) {
    return InvalidArgumentError("event.type: '" + type + "' is not an event type this build knows");
  }
  if (!r.problem().empty()) return InvalidArgumentError(r.problem());
  e.body = std::move(*parsed);
  return out;
}

}  // namespace jobledger
