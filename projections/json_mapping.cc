#include "projections/json_mapping.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <type_traits>

namespace jobledger {
namespace {

using Json = nlohmann::ordered_json;

// Reads the members of one JSON object, keeping the first problem.
class Members {
 public:
  Members(const Json& json, std::string path) : json_(json), path_(std::move(path)) {
    if (!json_.is_object()) problem_ = path_ + ": must be an object";
  }

  // The object's members must be among `known`.
  void Only(std::initializer_list<const char*> known) {
    if (!json_.is_object()) return;
    for (auto it = json_.begin(); it != json_.end(); ++it) {
      bool ok = false;
      for (const char* k : known) ok = ok || it.key() == k;
      if (!ok) Bad(it.key(), "is not a member of this structure");
    }
  }

  bool Has(const char* name) const { return json_.is_object() && json_.contains(name); }

  // A member of type T (std::string, double, or an integer type): nullopt when it is
  // absent (a problem too when `required`) or of another type.
  template <typename T>
  std::optional<T> Get(const char* name, bool required = false) {
    if (!Has(name)) {
      if (required) Bad(name, "is missing");
      return std::nullopt;
    }
    const Json& v = json_[name];
    if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) return Bad(name, "must be a string"), std::nullopt;
      return v.get<std::string>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) return Bad(name, "must be a number"), std::nullopt;
      return v.get<T>();
    } else {
      if (!v.is_number_integer()) return Bad(name, "must be an integer"), std::nullopt;
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return Bad(name, "is out of range"), std::nullopt;
      }
      const int64_t x = v.get<int64_t>();
      if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) {
        return Bad(name, "is out of range"), std::nullopt;
      }
      return static_cast<T>(x);
    }
  }

  // A member that is itself an object or an array (nullptr when absent or a problem).
  const Json* Sub(const char* name, bool required, bool array) {
    if (!Has(name)) {
      if (required) Bad(name, "is missing");
      return nullptr;
    }
    const Json& v = json_[name];
    if (array ? !v.is_array() : !v.is_object()) {
      Bad(name, array ? "must be an array" : "must be an object");
      return nullptr;
    }
    return &v;
  }

  void Bad(const std::string& name, const std::string& rule) {
    if (problem_.empty()) problem_ = path_ + "." + name + ": " + rule;
  }
  void Absorb(const Status& child) {
    if (problem_.empty() && !child.ok()) problem_ = child.message();
  }
  const std::string& path() const { return path_; }
  Status status() const { return problem_.empty() ? Status() : InvalidArgumentError(problem_); }

 private:
  const Json& json_;
  std::string path_;
  std::string problem_;
};

template <typename T>
StatusOr<T> Done(const Members& m, T value) {
  JOBLEDGER_RETURN_IF_ERROR(m.status());
  return value;
}

StatusOr<ExponentialRate> ExponentialRateFromJson(const Json& j, const std::string& path) {
  Members m(j, path);
  m.Only({"baseRatePerMinute", "incrementFactor", "rateIncreaseCriteria"});
  ExponentialRate rate;
  rate.base_rate_per_minute = m.Get<int32_t>("baseRatePerMinute", true).value_or(0);
  rate.increment_factor = m.Get<double>("incrementFactor", true).value_or(0);
  if (const Json* c = m.Sub("rateIncreaseCriteria", true, false)) {
    Members cm(*c, path + ".rateIncreaseCriteria");
    cm.Only({"numberOfNotifiedThings", "numberOfSucceededThings"});
    rate.rate_increase_criteria.number_of_notified_things = cm.Get<int32_t>("numberOfNotifiedThings");
    rate.rate_increase_criteria.number_of_succeeded_things = cm.Get<int32_t>("numberOfSucceededThings");
    m.Absorb(cm.status());
  }
  return Done(m, rate);
}

StatusOr<AbortCriteria> AbortCriteriaFromJson(const Json& j, const std::string& path) {
  Members m(j, path);
  m.Only({"failureType", "action", "thresholdPercentage", "minNumberOfExecutedThings"});
  AbortCriteria a;
  if (std::optional<std::string> type = m.Get<std::string>("failureType", true)) {
    std::optional<FailureType> parsed = ParseFailureType(*type);
    if (!parsed) m.Bad("failureType", "must be FAILED, REJECTED, TIMED_OUT or ALL, got '" + *type + "'");
    a.failure_type = parsed.value_or(FailureType::kFailed);
  }
  if (std::optional<std::string> action = m.Get<std::string>("action", true); action && *action != "CANCEL") {
    m.Bad("action", "must be CANCEL, got '" + *action + "'");
  }
  a.threshold_percentage = m.Get<double>("thresholdPercentage", true).value_or(0);
  a.min_number_of_executed_things = m.Get<int32_t>("minNumberOfExecutedThings", true).value_or(0);
  return Done(m, a);
}

}  // namespace

Json ToJson(const PresignedUrlConfig& c) {
  Json j = Json::object();
  if (!c.role_arn.empty()) j["roleArn"] = c.role_arn;
  if (c.expires_in_sec) j["expiresInSec"] = *c.expires_in_sec;
  return j;
}

Json ToJson(const RolloutConfig& c) {
  Json j = Json::object();
  if (c.maximum_per_minute) j["maximumPerMinute"] = *c.maximum_per_minute;
  if (c.exponential_rate) {
    const ExponentialRate& e = *c.exponential_rate;
    Json criteria = Json::object();
    if (e.rate_increase_criteria.number_of_notified_things) {
      criteria["numberOfNotifiedThings"] = *e.rate_increase_criteria.number_of_notified_things;
    }
    if (e.rate_increase_criteria.number_of_succeeded_things) {
      criteria["numberOfSucceededThings"] = *e.rate_increase_criteria.number_of_succeeded_things;
    }
    j["exponentialRate"] = Json{{"baseRatePerMinute", e.base_rate_per_minute},
                                {"incrementFactor", e.increment_factor},
                                {"rateIncreaseCriteria", criteria}};
  }
  return j;
}

Json ToJson(const AbortConfig& c) {
  Json list = Json::array();
  for (const AbortCriteria& a : c.criteria_list) {
    list.push_back(Json{{"failureType", FailureTypeName(a.failure_type)},
                        {"action", "CANCEL"},
                        {"thresholdPercentage", a.threshold_percentage},
                        {"minNumberOfExecutedThings", a.min_number_of_executed_things}});
  }
  return Json{{"criteriaList", list}};
}

Json ToJson(const TimeoutConfig& c) {
  Json j = Json::object();
  if (c.in_progress_timeout_in_minutes) j["inProgressTimeoutInMinutes"] = *c.in_progress_timeout_in_minutes;
  return j;
}

template <>
StatusOr<PresignedUrlConfig> FromJson(const Json& j, const std::string& path) {
  Members m(j, path);
  m.Only({"roleArn", "expiresInSec"});
  PresignedUrlConfig c;
  c.role_arn = m.Get<std::string>("roleArn").value_or("");
  c.expires_in_sec = m.Get<int64_t>("expiresInSec");
  return Done(m, c);
}

template <>
StatusOr<RolloutConfig> FromJson(const Json& j, const std::string& path) {
  Members m(j, path);
  m.Only({"maximumPerMinute", "exponentialRate"});
  RolloutConfig c;
  c.maximum_per_minute = m.Get<int32_t>("maximumPerMinute");
  if (const Json* e = m.Sub("exponentialRate", false, false)) {
    StatusOr<ExponentialRate> rate = ExponentialRateFromJson(*e, path + ".exponentialRate");
    if (rate.ok()) c.exponential_rate = *rate;
    m.Absorb(rate.status());
  }
  return Done(m, c);
}

template <>
StatusOr<AbortConfig> FromJson(const Json& j, const std::string& path) {
  Members m(j, path);
  m.Only({"criteriaList"});
  AbortConfig c;
  if (const Json* list = m.Sub("criteriaList", true, true)) {
    size_t i = 0;
    for (const Json& item : *list) {
      StatusOr<AbortCriteria> a = AbortCriteriaFromJson(item, path + ".criteriaList[" + std::to_string(i++) + "]");
      if (!a.ok()) {
        m.Absorb(a.status());
        break;
      }
      c.criteria_list.push_back(*a);
    }
  }
  return Done(m, c);
}

template <>
StatusOr<TimeoutConfig> FromJson(const Json& j, const std::string& path) {
  Members m(j, path);
  m.Only({"inProgressTimeoutInMinutes"});
  TimeoutConfig c;
  c.in_progress_timeout_in_minutes = m.Get<int64_t>("inProgressTimeoutInMinutes");
  return Done(m, c);
}

}  // namespace jobledger
