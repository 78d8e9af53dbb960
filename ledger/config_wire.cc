#include "ledger/config_wire.h"

namespace jobledger {
namespace {

void WriteOptI32(WireWriter& w, const std::optional<int32_t>& v) {
  w.Opt(v, [&](int32_t x) { w.I64(x); });
}
std::optional<int32_t> ReadOptI32(WireReader& r) {
  return r.Opt<int32_t>([&] { return static_cast<int32_t>(r.I64()); });
}

}  // namespace

void WriteOptI64(WireWriter& w, const std::optional<int64_t>& v) {
  w.Opt(v, [&](int64_t x) { w.I64(x); });
}
std::optional<int64_t> ReadOptI64(WireReader& r) {
  return r.Opt<int64_t>([&] { return r.I64(); });
}
void WriteOptStr(WireWriter& w, const std::optional<std::string>& v) {
  w.Opt(v, [&](const std::string& s) { w.Str(s); });
}
std::optional<std::string> ReadOptStr(WireReader& r) {
  return r.Opt<std::string>([&] { return r.Str(); });
}

void WriteJobConfigs(WireWriter& w, const JobConfigs& j) {
  w.Opt(j.presigned_url_config, [&](const PresignedUrlConfig& c) {
    w.Str(c.role_arn);
    WriteOptI64(w, c.expires_in_sec);
  });
  w.Opt(j.rollout_config, [&](const RolloutConfig& c) {
    WriteOptI32(w, c.maximum_per_minute);
    w.Opt(c.exponential_rate, [&](const ExponentialRate& e) {
      w.I64(e.base_rate_per_minute);
      w.F64(e.increment_factor);
      WriteOptI32(w, e.rate_increase_criteria.number_of_notified_things);
      WriteOptI32(w, e.rate_increase_criteria.number_of_succeeded_things);
    });
  });
  w.Opt(j.abort_config, [&](const AbortConfig& c) {
    w.Vec(c.criteria_list, [&](const AbortCriteria& a) {
      w.U64(static_cast<uint64_t>(a.failure_type));
      w.F64(a.threshold_percentage);
      w.I64(a.min_number_of_executed_things);
    });
  });
  w.Opt(j.timeout_config, [&](const TimeoutConfig& c) { WriteOptI64(w, c.in_progress_timeout_in_minutes); });
}

JobConfigs ReadJobConfigs(WireReader& r) {
  JobConfigs j;
  j.presigned_url_config = r.Opt<PresignedUrlConfig>([&] {
    PresignedUrlConfig c;
    c.role_arn = r.Str();
    c.expires_in_sec = ReadOptI64(r);
    return c;
  });
  j.rollout_config = r.Opt<RolloutConfig>([&] {
    RolloutConfig c;
    c.maximum_per_minute = ReadOptI32(r);
    c.exponential_rate = r.Opt<ExponentialRate>([&] {
      ExponentialRate e;
      e.base_rate_per_minute = static_cast<int32_t>(r.I64());
      e.increment_factor = r.F64();
      e.rate_increase_criteria.number_of_notified_things = ReadOptI32(r);
      e.rate_increase_criteria.number_of_succeeded_things = ReadOptI32(r);
      return e;
    });
    return c;
  });
  j.abort_config = r.Opt<AbortConfig>([&] {
    AbortConfig c;
    c.criteria_list = r.Vec<AbortCriteria>([&] {
      AbortCriteria a;
      uint64_t type = r.U64();
      a.failure_type = static_cast<FailureType>(type > 3 ? 0 : type);
      a.threshold_percentage = r.F64();
      a.min_number_of_executed_things = static_cast<int32_t>(r.I64());
      return a;
    });
    return c;
  });
  j.timeout_config = r.Opt<TimeoutConfig>([&] {
    TimeoutConfig c;
    c.in_progress_timeout_in_minutes = ReadOptI64(r);
    return c;
  });
  return j;
}

void WriteDetails(WireWriter& w, const DetailsMap& details) {
  w.Vec(details, [&](const auto& kv) {
    w.Str(kv.first);
    w.Str(kv.second);
  });
}

DetailsMap ReadDetails(WireReader& r) {
  return r.Vec<std::pair<std::string, std::string>>([&] {
    std::string key = r.Str();
    std::string value = r.Str();
    return std::make_pair(std::move(key), std::move(value));
  });
}

}  // namespace jobledger
