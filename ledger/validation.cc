#include "jobledger/validation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace jobledger {
namespace {

// ---- message helpers ----

// Values are quoted at most this many bytes long, so a 32 KiB document or a 2 KiB
// description does not end up whole in a log line.
constexpr size_t kQuoteBytes = 64;

// Quotes a value for a message: printable ASCII as is, everything else (controls,
// non-ASCII bytes) as \xNN so a message is always one line of ASCII; long values are cut
// and marked with "...".
std::string Quote(std::string_view value) {
  std::string out = "'";
  const size_t shown = std::min(value.size(), kQuoteBytes);
  for (size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (shown < value.size()) out += "...";
  out += "'";
  return out;
}

// Shortest text that reads back as the same double ("5.5", "0.001", "1e+300").
std::string FormatDouble(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return std::to_string(value);
  return std::string(buf, end);
}

std::string Str(std::string_view s) { return std::string(s); }

std::string Join(std::string_view a, std::string_view b) {
  std::string out(a);
  out += '.';
  out += b;
  return out;
}

std::string Index(std::string_view field, size_t i) {
  std::string out(field);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

Status Invalid(std::string_view field, std::string_view rule) {
  std::string msg(field);
  msg += ": ";
  msg += rule;
  return InvalidRequest(std::move(msg));
}

Status InvalidGot(std::string_view field, std::string_view rule, std::string_view got) {
  std::string msg(field);
  msg += ": ";
  msg += rule;
  msg += ", got ";
  msg += got;
  return InvalidRequest(std::move(msg));
}

// ---- UTF-8 and character classes ----

// Decodes well-formed UTF-8 (no overlong forms, no encoded surrogates, nothing above
// U+10FFFF). Returns the code point and advances `pos`, or nullopt at an ill-formed
// sequence.
std::optional<char32_t> DecodeUtf8(std::string_view s, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
    cp = b0 & 0x1fu;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    cp = b0 & 0x0fu;
    min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    cp = b0 & 0x07u;
    min = 0x10000;
  } else {
    return std::nullopt;  // continuation byte, 0xc0/0xc1 or 0xf5..0xff as lead byte
  }
  if (s.size() - pos < len) return std::nullopt;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
  pos += len;
  return cp;
}

// Byte offset of the first ill-formed sequence, or nullopt if `s` is valid UTF-8.
std::optional<size_t> FindInvalidUtf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    if (!DecodeUtf8(s, pos)) return start;
  }
  return std::nullopt;
}

// Requires valid UTF-8.
size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  }
  return n;
}

bool IsControl(char32_t cp) { return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f); }

// Format characters (Cf) as of Unicode 15. U+2065 is unassigned (Cn, also in \p{C}),
// so U+2060..U+206F is rejected as one range.
bool IsFormat(char32_t cp) {
  struct Range {
    char32_t lo, hi;
  };
  static constexpr Range kFormat[] = {
      {0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},   {0x06dd, 0x06dd},
      {0x070f, 0x070f},   {0x0890, 0x0891},   {0x08e2, 0x08e2},   {0x180e, 0x180e},
      {0x200b, 0x200f},   {0x202a, 0x202e},   {0x2060, 0x206f},   {0xfeff, 0xfeff},
      {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f},
      {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
  };
  for (const Range& r : kFormat) {
    if (cp >= r.lo && cp <= r.hi) return true;
  }
  return false;
}

bool IsPrivateUse(char32_t cp) {
  return (cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xf0000 && cp <= 0xffffd) ||
         (cp >= 0x100000 && cp <= 0x10fffd);
}

bool IsNoncharacter(char32_t cp) {
  return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

// What makes `cp` a member of \p{C} (as far as tracked), or nullptr if it is not.
const char* OtherCategory(char32_t cp) {
  if (IsControl(cp)) return "control character";
  if (IsFormat(cp)) return "format character";
  // Unreachable after DecodeUtf8, kept so the function stands on its own.
  if (cp >= 0xd800 && cp <= 0xdfff) return "surrogate";
  if (IsPrivateUse(cp)) return "private-use character";
  if (IsNoncharacter(cp)) return "noncharacter";
  return nullptr;
}

std::string CodePointName(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// Free text: [^\p{C}]+ of min..max code points.
Status CheckText(std::string_view value, std::string_view field, size_t min, size_t max) {
  if (auto bad = FindInvalidUtf8(value)) {
    return InvalidGot(field,
                      "must be valid UTF-8 (ill-formed at byte " + std::to_string(*bad) + ")",
                      Quote(value));
  }
  const size_t chars = CountCodePoints(value);
  if (chars < min || chars > max) {
    return InvalidGot(
        field, "must be " + std::to_string(min) + ".." + std::to_string(max) + " characters long",
        std::to_string(chars) + " characters " + Quote(value));
  }
  size_t pos = 0;
  while (pos < value.size()) {
    const char32_t cp = *DecodeUtf8(value, pos);
    if (const char* what = OtherCategory(cp)) {
      return InvalidGot(field,
                        "must match [^\\p{C}]+ (found " + CodePointName(cp) + ", a " + what + ")",
                        Quote(value));
    }
  }
  return Status::Ok();
}

// ---- identifiers ----

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsJobIdChar(char c) { return IsAlnum(c) || c == '_' || c == '-'; }
bool IsThingNameChar(char c) { return IsAlnum(c) || c == ':' || c == '_' || c == '-'; }
bool IsReasonCodeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// An ASCII identifier: 1..max characters, all in the pattern's class. The pattern is
// checked before the maximum length so that a value with a bad character is reported
// as such even when it is also too long (its byte count would not be its length).
// `what` prefixes the rule, for names embedded in a larger value ("thing name ").
Status CheckIdentifier(std::string_view value, std::string_view field, size_t max,
                       bool (*allowed)(char), std::string_view pattern,
                       std::string_view what = "") {
  if (value.empty()) {
    return InvalidGot(field, Str(what) + "must be 1.." + std::to_string(max) + " characters long",
                      "''");
  }
  for (char c : value) {
    if (!allowed(c))
      return InvalidGot(field, Str(what) + "must match " + Str(pattern), Quote(value));
  }
  if (value.size() > max) {
    return InvalidGot(field, Str(what) + "must be 1.." + std::to_string(max) + " characters long",
                      std::to_string(value.size()) + " characters " + Quote(value));
  }
  return Status::Ok();
}

constexpr size_t kMaxJobIdChars = 64;
constexpr size_t kMaxThingNameChars = 128;
constexpr size_t kMaxReasonCodeChars = 128;
constexpr size_t kMaxTargetArnChars = 2048;
constexpr size_t kMinRoleArnChars = 20;
constexpr size_t kMaxRoleArnChars = 2048;
constexpr size_t kMaxDetailsKeyChars = 128;
constexpr size_t kMaxDetailsValueChars = 1024;
constexpr size_t kMaxActorBytes = 256;
constexpr size_t kMaxRequestIdBytes = 255;
constexpr int64_t kMinExpiresInSec = 60;
constexpr int64_t kMaxExpiresInSec = 3600;
constexpr int64_t kMaxTimeoutMinutes = 10080;  // 7 days
constexpr int32_t kMaxRatePerMinute = 1000;
// The model puts no cap on abort criteria; 16 keeps evaluation and messages bounded.
constexpr size_t kMaxAbortCriteria = 16;

constexpr std::string_view kJobIdPattern = "[a-zA-Z0-9_-]+";
constexpr std::string_view kThingNamePattern = "[a-zA-Z0-9:_-]+";

Status CheckThingName(std::string_view value, std::string_view field, std::string_view what) {
  return CheckIdentifier(value, field, kMaxThingNameChars, IsThingNameChar, kThingNamePattern,
                         what);
}

// ---- numbers ----

Status CheckRange(int64_t value, std::string_view field, int64_t min, int64_t max) {
  if (value < min || value > max) {
    return InvalidGot(field, "must be " + std::to_string(min) + ".." + std::to_string(max),
                      std::to_string(value));
  }
  return Status::Ok();
}

Status CheckAtLeastOne(int64_t value, std::string_view field) {
  if (value < 1) return InvalidGot(field, "must be >= 1", std::to_string(value));
  return Status::Ok();
}

// `value` as a whole number of 1/scale units, if it has no more decimal places than
// that. Doubles cannot hold most decimal fractions exactly (1.1 is 1.10000000000000009),
// so "at most one decimal place" means value*scale is within a rounding error of an
// integer.
std::optional<int64_t> ScaledInteger(double value, double scale) {
  if (!std::isfinite(value)) return std::nullopt;
  const double scaled = value * scale;
  if (std::fabs(scaled) > 1e15) return std::nullopt;  // beyond any range checked here
  const double rounded = std::round(scaled);
  if (std::fabs(rounded - scaled) > 1e-9 * std::max(1.0, std::fabs(scaled))) return std::nullopt;
  return static_cast<int64_t>(rounded);
}

// ---- configs ----

Status CheckPresignedUrlConfig(const PresignedUrlConfig& config, std::string_view field) {
  if (!config.role_arn.empty()) {
    const std::string path = Join(field, "roleArn");
    if (auto bad = FindInvalidUtf8(config.role_arn)) {
      return InvalidGot(path,
                        "must be valid UTF-8 (ill-formed at byte " + std::to_string(*bad) + ")",
                        Quote(config.role_arn));
    }
    const size_t chars = CountCodePoints(config.role_arn);
    if (chars < kMinRoleArnChars || chars > kMaxRoleArnChars) {
      return InvalidGot(path,
                        "must be " + std::to_string(kMinRoleArnChars) + ".." +
                            std::to_string(kMaxRoleArnChars) + " characters long",
                        std::to_string(chars) + " characters " + Quote(config.role_arn));
    }
  }
  if (config.expires_in_sec) {
    JOBLEDGER_RETURN_IF_ERROR(CheckRange(*config.expires_in_sec, Join(field, "expiresInSec"),
                                         kMinExpiresInSec, kMaxExpiresInSec));
  }
  return Status::Ok();
}

Status CheckRolloutConfig(const RolloutConfig& config, std::string_view field) {
  if (!config.maximum_per_minute && !config.exponential_rate) {
    return Invalid(field, "must set maximumPerMinute or exponentialRate");
  }
  if (config.maximum_per_minute) {
    JOBLEDGER_RETURN_IF_ERROR(CheckRange(*config.maximum_per_minute,
                                         Join(field, "maximumPerMinute"), 1, kMaxRatePerMinute));
  }
  if (config.exponential_rate) {
    const ExponentialRate& rate = *config.exponential_rate;
    const std::string rate_path = Join(field, "exponentialRate");
    const std::string base_path = Join(rate_path, "baseRatePerMinute");
    JOBLEDGER_RETURN_IF_ERROR(
        CheckRange(rate.base_rate_per_minute, base_path, 1, kMaxRatePerMinute));
    const std::optional<int64_t> tenths = ScaledInteger(rate.increment_factor, 10);
    if (!tenths || *tenths < 11 || *tenths > 50) {
      return InvalidGot(Join(rate_path, "incrementFactor"),
                        "must be 1.1..5 with at most one decimal place",
                        FormatDouble(rate.increment_factor));
    }
    const RateIncreaseCriteria& criteria = rate.rate_increase_criteria;
    const std::string criteria_path = Join(rate_path, "rateIncreaseCriteria");
    if (criteria.number_of_notified_things.has_value() ==
        criteria.number_of_succeeded_things.has_value()) {
      return Invalid(criteria_path,
                     "must set exactly one of numberOfNotifiedThings and numberOfSucceededThings");
    }
    if (criteria.number_of_notified_things) {
      JOBLEDGER_RETURN_IF_ERROR(CheckAtLeastOne(*criteria.number_of_notified_things,
                                                Join(criteria_path, "numberOfNotifiedThings")));
    }
    if (criteria.number_of_succeeded_things) {
      JOBLEDGER_RETURN_IF_ERROR(CheckAtLeastOne(*criteria.number_of_succeeded_things,
                                                Join(criteria_path, "numberOfSucceededThings")));
    }
    // maximumPerMinute caps the exponential rate; a base above the cap could never apply.
    if (config.maximum_per_minute && rate.base_rate_per_minute > *config.maximum_per_minute) {
      return InvalidGot(
          base_path,
          "must not exceed maximumPerMinute (" + std::to_string(*config.maximum_per_minute) + ")",
          std::to_string(rate.base_rate_per_minute));
    }
  }
  return Status::Ok();
}

Status CheckAbortConfig(const AbortConfig& config, std::string_view field) {
  const std::string list_path = Join(field, "criteriaList");
  const auto& list = config.criteria_list;
  if (list.empty() || list.size() > kMaxAbortCriteria) {
    return InvalidGot(list_path, "must have 1.." + std::to_string(kMaxAbortCriteria) + " entries",
                      std::to_string(list.size()));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const AbortCriteria& c = list[i];
    const std::string path = Index(list_path, i);
    if (static_cast<int>(c.failure_type) > static_cast<int>(FailureType::kAll)) {
      return InvalidGot(Join(path, "failureType"), "must be FAILED, REJECTED, TIMED_OUT or ALL",
                        std::to_string(static_cast<int>(c.failure_type)));
    }
    const std::optional<int64_t> hundredths = ScaledInteger(c.threshold_percentage, 100);
    if (!hundredths || *hundredths < 1 || *hundredths > 10000) {
      return InvalidGot(Join(path, "thresholdPercentage"),
                        "must be > 0 and <= 100 with at most two decimal places",
                        FormatDouble(c.threshold_percentage));
    }
    JOBLEDGER_RETURN_IF_ERROR(
        CheckAtLeastOne(c.min_number_of_executed_things, Join(path, "minNumberOfExecutedThings")));
  }
  return Status::Ok();
}

Status CheckTimeoutConfig(const TimeoutConfig& config, std::string_view field) {
  if (config.in_progress_timeout_in_minutes) {
    return CheckRange(*config.in_progress_timeout_in_minutes,
                      Join(field, "inProgressTimeoutInMinutes"), 1, kMaxTimeoutMinutes);
  }
  return Status::Ok();
}

Status CheckReasonCode(std::string_view value) {
  return CheckIdentifier(value, "reasonCode", kMaxReasonCodeChars, IsReasonCodeChar, "[A-Z0-9_]+");
}

Status CheckTargets(const std::vector<std::string>& targets, const ValidationContext& context) {
  if (targets.empty()) return Invalid("targets", "must list at least 1 target");
  if (targets.size() > context.limits.max_targets) {
    return LimitExceeded("targets: at most " + std::to_string(context.limits.max_targets) +
                         " targets per job, got " + std::to_string(targets.size()));
  }
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string field = Index("targets", i);
    StatusOr<TargetRef> ref = ParseTargetArn(targets[i], context, field);
    if (!ref.ok()) return ref.status();
    auto [it, inserted] = seen.emplace(targets[i], i);
    if (!inserted) {
      return InvalidGot(field, "duplicate of " + Index("targets", it->second), Quote(targets[i]));
    }
  }
  return Status::Ok();
}

// Collects nothing: only asks whether the text parses, and where it first fails.
class JsonSyntaxCheck : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    error_position_ = position;
    return false;
  }

  size_t error_position() const { return error_position_; }

 private:
  size_t error_position_ = 0;
};

Status CheckDocument(const std::optional<std::string>& document, const LedgerLimits& limits) {
  if (!document) return Invalid("document", "is required");
  const std::string& doc = *document;
  if (doc.size() > limits.max_document_bytes) {
    return InvalidGot("document",
                      "must be at most " + std::to_string(limits.max_document_bytes) + " bytes",
                      std::to_string(doc.size()) + " bytes " + Quote(doc));
  }
  if (auto bad = FindInvalidUtf8(doc)) {
    return InvalidGot("document",
                      "must be valid UTF-8 (ill-formed at byte " + std::to_string(*bad) + ")",
                      Quote(doc));
  }
  JsonSyntaxCheck check;
  if (!nlohmann::json::sax_parse(doc, &check)) {
    // nlohmann counts positions from 1 and points just past the offending character.
    return InvalidGot(
        "document",
        "must be valid JSON (syntax error near byte " +
            std::to_string(check.error_position() > 0 ? check.error_position() - 1 : 0) + ")",
        Quote(doc));
  }
  return Status::Ok();
}

Status CheckExpectedVersion(const std::optional<int64_t>& expected_version) {
  if (expected_version) return CheckAtLeastOne(*expected_version, "expectedVersion");
  return Status::Ok();
}

}  // namespace

// ---- ARNs ----

StatusOr<TargetRef> ParseTargetArn(std::string_view arn, const ValidationContext& context,
                                   std::string_view field) {
  static constexpr std::string_view kForm =
      "must be an ARN arn:aws:iot:<region>:<account>:thing/<thingName> or "
      "arn:aws:iot:<region>:<account>:thinggroup/<thingGroupName>";
  if (arn.size() > kMaxTargetArnChars) {
    return InvalidGot(field,
                      "must be at most " + std::to_string(kMaxTargetArnChars) + " characters long",
                      std::to_string(arn.size()) + " characters " + Quote(arn));
  }
  // arn:partition:service:region:account:resource; the resource may hold ':' (thing
  // names do), so only the first five separators split.
  std::string_view parts[6];
  std::string_view rest = arn;
  for (size_t i = 0; i < 5; ++i) {
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return InvalidGot(field, kForm, Quote(arn));
    parts[i] = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  parts[5] = rest;
  if (parts[0] != "arn" || parts[2] != "iot") return InvalidGot(field, kForm, Quote(arn));
  // Which part differs, since an ARN copied from another account or region looks right
  // at a glance.
  if (parts[1] != "aws") {
    return InvalidGot(field, "partition must be 'aws' (not " + Quote(parts[1]) + ")", Quote(arn));
  }
  if (parts[3] != context.region) {
    return InvalidGot(field,
                      "region must be " + Quote(context.region) + " (not " + Quote(parts[3]) + ")",
                      Quote(arn));
  }
  if (parts[4] != context.account_id) {
    return InvalidGot(
        field, "account must be " + Quote(context.account_id) + " (not " + Quote(parts[4]) + ")",
        Quote(arn));
  }
  TargetRef ref;
  const std::string_view resource = parts[5];
  const size_t slash = resource.find('/');
  const std::string_view type = resource.substr(0, slash);
  if (slash == std::string_view::npos || (type != "thing" && type != "thinggroup")) {
    return InvalidGot(field, Str(kForm) + " (resource type thing or thinggroup)", Quote(arn));
  }
  const std::string_view name = resource.substr(slash + 1);
  if (type == "thing") {
    ref.kind = TargetRef::Kind::kThing;
    JOBLEDGER_RETURN_IF_ERROR(CheckThingName(name, field, "thing name "));
  } else {
    ref.kind = TargetRef::Kind::kThingGroup;
    JOBLEDGER_RETURN_IF_ERROR(CheckThingName(name, field, "thing group name "));
  }
  ref.name = std::string(name);
  return ref;
}

std::string JobArn(const ValidationContext& context, std::string_view job_id) {
  return "arn:aws:iot:" + context.region + ":" + context.account_id + ":job/" + Str(job_id);
}

std::string ThingArn(const ValidationContext& context, std::string_view thing_name) {
  return "arn:aws:iot:" + context.region + ":" + context.account_id + ":thing/" + Str(thing_name);
}

std::string ThingGroupArn(const ValidationContext& context, std::string_view group_name) {
  return "arn:aws:iot:" + context.region + ":" + context.account_id + ":thinggroup/" +
         Str(group_name);
}

// ---- single fields ----

std::optional<TargetRef> SplitTargetArn(std::string_view arn) {
  size_t pos = 0;
  for (int colons = 0; colons < 5; ++colons) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return std::nullopt;
    ++pos;
  }
  std::string_view resource = arn.substr(pos);
  constexpr std::string_view kGroup = "thinggroup/";
  constexpr std::string_view kThing = "thing/";
  if (resource.substr(0, kGroup.size()) == kGroup && resource.size() > kGroup.size()) {
    return TargetRef{TargetRef::Kind::kThingGroup, std::string(resource.substr(kGroup.size()))};
  }
  if (resource.substr(0, kThing.size()) == kThing && resource.size() > kThing.size()) {
    return TargetRef{TargetRef::Kind::kThing, std::string(resource.substr(kThing.size()))};
  }
  return std::nullopt;
}

std::optional<std::string> TargetGroupName(std::string_view arn) {
  std::optional<TargetRef> t = SplitTargetArn(arn);
  if (!t || t->kind != TargetRef::Kind::kThingGroup) return std::nullopt;
  return t->name;
}

Status ValidateJobId(std::string_view job_id, std::string_view field) {
  return CheckIdentifier(job_id, field, kMaxJobIdChars, IsJobIdChar, kJobIdPattern);
}

Status ValidateThingName(std::string_view thing_name, std::string_view field) {
  return CheckThingName(thing_name, field, "");
}

Status ValidateThingGroupName(std::string_view name, std::string_view field) {
  return CheckThingName(name, field, "");
}

Status ValidateStatusDetails(const DetailsMap& details, const LedgerLimits& limits,
                             std::string_view field) {
  if (details.size() > limits.max_status_details_pairs) {
    return InvalidGot(
        field, "must have at most " + std::to_string(limits.max_status_details_pairs) + " pairs",
        std::to_string(details.size()));
  }
  std::set<std::string_view> keys;
  for (size_t i = 0; i < details.size(); ++i) {
    const auto& [key, value] = details[i];
    const std::string key_path = Join(Index(field, i), "key");
    JOBLEDGER_RETURN_IF_ERROR(
        CheckIdentifier(key, key_path, kMaxDetailsKeyChars, IsThingNameChar, kThingNamePattern));
    if (!keys.insert(key).second) return InvalidGot(key_path, "must be unique", Quote(key));
    // The key is a valid identifier here, so it can name the value's path.
    JOBLEDGER_RETURN_IF_ERROR(CheckText(value, Join(field, key), 1, kMaxDetailsValueChars));
  }
  return Status::Ok();
}

// ---- whole requests ----

namespace {

// The configurations CreateJob and UpdateJob both take, in the order they are checked.
template <typename Request>
Status CheckJobConfigs(const Request& request) {
  if (request.presigned_url_config) {
    JOBLEDGER_RETURN_IF_ERROR(
        CheckPresignedUrlConfig(*request.presigned_url_config, "presignedUrlConfig"));
  }
  if (request.job_executions_rollout_config) {
    JOBLEDGER_RETURN_IF_ERROR(
        CheckRolloutConfig(*request.job_executions_rollout_config, "jobExecutionsRolloutConfig"));
  }
  if (request.abort_config) {
    JOBLEDGER_RETURN_IF_ERROR(CheckAbortConfig(*request.abort_config, "abortConfig"));
  }
  if (request.timeout_config) {
    JOBLEDGER_RETURN_IF_ERROR(CheckTimeoutConfig(*request.timeout_config, "timeoutConfig"));
  }
  return Status::Ok();
}

}  // namespace

Status Validate(const CreateJobRequest& request, const ValidationContext& context) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(request.job_id));
  JOBLEDGER_RETURN_IF_ERROR(CheckTargets(request.targets, context));
  JOBLEDGER_RETURN_IF_ERROR(CheckDocument(request.document, context.limits));
  if (request.description) {
    JOBLEDGER_RETURN_IF_ERROR(
        CheckText(*request.description, "description", 1, context.limits.max_description_chars));
  }
  if (request.target_selection && static_cast<int>(*request.target_selection) >
                                      static_cast<int>(TargetSelection::kContinuous)) {
    return InvalidGot("targetSelection", "must be SNAPSHOT or CONTINUOUS",
                      std::to_string(static_cast<int>(*request.target_selection)));
  }
  return CheckJobConfigs(request);
}

Status Validate(const UpdateJobRequest& request, const ValidationContext& context) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(request.job_id));
  if (request.description) {
    JOBLEDGER_RETURN_IF_ERROR(
        CheckText(*request.description, "description", 1, context.limits.max_description_chars));
  }
  return CheckJobConfigs(request);
}

Status Validate(const CancelJobRequest& request, const ValidationContext& context) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(request.job_id));
  if (request.reason_code) JOBLEDGER_RETURN_IF_ERROR(CheckReasonCode(*request.reason_code));
  if (request.comment) {
    JOBLEDGER_RETURN_IF_ERROR(
        CheckText(*request.comment, "comment", 1, context.limits.max_comment_chars));
  }
  return Status::Ok();
}

Status Validate(const DeleteJobRequest& request, const ValidationContext& /*context*/) {
  return ValidateJobId(request.job_id);
}

Status Validate(const AssociateTargetsWithJobRequest& request, const ValidationContext& context) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(request.job_id));
  // Only the request's own list; the total against the job's targets is the decide step's.
  JOBLEDGER_RETURN_IF_ERROR(CheckTargets(request.targets, context));
  if (request.comment) {
    JOBLEDGER_RETURN_IF_ERROR(
        CheckText(*request.comment, "comment", 1, context.limits.max_comment_chars));
  }
  return Status::Ok();
}

Status Validate(const CancelJobExecutionRequest& request, const ValidationContext& context) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(request.job_id));
  JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(request.thing_name));
  JOBLEDGER_RETURN_IF_ERROR(CheckExpectedVersion(request.expected_version));
  if (request.status_details) {
    JOBLEDGER_RETURN_IF_ERROR(ValidateStatusDetails(*request.status_details, context.limits));
  }
  return Status::Ok();
}

Status Validate(const DeleteJobExecutionRequest& request, const ValidationContext& /*context*/) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(request.job_id));
  JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(request.thing_name));
  return CheckAtLeastOne(request.execution_number, "executionNumber");
}

Status Validate(const UpdateJobExecutionRequest& request, const ValidationContext& context) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(request.job_id));
  JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(request.thing_name));
  switch (request.status) {
    case ExecutionStatus::kInProgress:
    case ExecutionStatus::kSucceeded:
    case ExecutionStatus::kFailed:
    case ExecutionStatus::kRejected:
    // Not device-settable either, but as a move back it is the decide step's
    // InvalidStateTransition (Part A item 12), not a malformed request.
    case ExecutionStatus::kQueued:
      break;
    case ExecutionStatus::kNone:
    case ExecutionStatus::kTimedOut:
    case ExecutionStatus::kRemoved:
    case ExecutionStatus::kCanceled:
    default:
      return InvalidGot("status", "a device may set IN_PROGRESS, SUCCEEDED, FAILED or REJECTED",
                        Str(ExecutionStatusName(request.status)));
  }
  if (request.status_details) {
    JOBLEDGER_RETURN_IF_ERROR(ValidateStatusDetails(*request.status_details, context.limits));
  }
  JOBLEDGER_RETURN_IF_ERROR(CheckExpectedVersion(request.expected_version));
  if (request.step_timeout_in_minutes && *request.step_timeout_in_minutes != -1) {
    const int64_t step = *request.step_timeout_in_minutes;
    if (step < 1 || step > kMaxTimeoutMinutes) {
      return InvalidGot("stepTimeoutInMinutes",
                        "must be 1.." + std::to_string(kMaxTimeoutMinutes) + " or -1",
                        std::to_string(step));
    }
  }
  if (request.execution_number) {
    JOBLEDGER_RETURN_IF_ERROR(CheckAtLeastOne(*request.execution_number, "executionNumber"));
  }
  return Status::Ok();
}

Status Validate(const StartNextPendingJobExecutionRequest& request,
                const ValidationContext& context) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(request.thing_name));
  if (request.status_details) {
    JOBLEDGER_RETURN_IF_ERROR(ValidateStatusDetails(*request.status_details, context.limits));
  }
  if (request.step_timeout_in_minutes) {
    JOBLEDGER_RETURN_IF_ERROR(CheckRange(*request.step_timeout_in_minutes, "stepTimeoutInMinutes",
                                         1, kMaxTimeoutMinutes));
  }
  return Status::Ok();
}

Status Validate(const ThingGroupMembershipRequest& request, const ValidationContext& /*context*/) {
  JOBLEDGER_RETURN_IF_ERROR(ValidateThingGroupName(request.thing_group_name));
  return ValidateThingName(request.thing_name);
}

Status Validate(const DeleteThingRequest& request, const ValidationContext& /*context*/) {
  return ValidateThingName(request.thing_name);
}

Status Validate(const RequestContext& request, const ValidationContext& /*context*/) {
  const std::string& actor = request.actor;
  if (actor.empty() || actor.size() > kMaxActorBytes) {
    return InvalidGot("actor", "must be 1.." + std::to_string(kMaxActorBytes) + " bytes long",
                      std::to_string(actor.size()) + " bytes " + Quote(actor));
  }
  // The actor is stored as Cap'n Proto Text and printed in JSON, both UTF-8.
  if (auto bad = FindInvalidUtf8(actor)) {
    return InvalidGot("actor",
                      "must be valid UTF-8 (ill-formed at byte " + std::to_string(*bad) + ")",
                      Quote(actor));
  }
  size_t pos = 0;
  while (pos < actor.size()) {
    const char32_t cp = *DecodeUtf8(actor, pos);
    if (IsControl(cp)) {
      return InvalidGot("actor",
                        "must not contain control characters (found " + CodePointName(cp) + ")",
                        Quote(actor));
    }
  }
  const std::string& id = request.request_id;
  if (id.size() > kMaxRequestIdBytes) {
    return InvalidGot("requestId",
                      "must be at most " + std::to_string(kMaxRequestIdBytes) + " bytes long",
                      std::to_string(id.size()) + " bytes " + Quote(id));
  }
  for (char c : id) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) {
      return InvalidGot("requestId", "must be printable ASCII", Quote(id));
    }
  }
  return Status::Ok();
}

Status ValidateEventBody(const EventBody& body, const ValidationContext& context) {
  auto ids = [&](std::string_view job_id, std::string_view thing_name) -> Status {
    JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(job_id));
    return ValidateThingName(thing_name);
  };
  return std::visit(
      [&](const auto& b) -> Status {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, JobCreated>) {
          CreateJobRequest r;
          r.job_id = b.job_id;
          r.targets = b.targets;
          r.document = b.document;
          r.description = b.description;
          r.target_selection = b.target_selection;
          r.presigned_url_config = b.presigned_url_config;
          r.job_executions_rollout_config = b.job_executions_rollout_config;
          r.abort_config = b.abort_config;
          r.timeout_config = b.timeout_config;
          return Validate(r, context);
        } else if constexpr (std::is_same_v<T, JobUpdated>) {
          UpdateJobRequest r{b.job_id, b.description, b.presigned_url_config,
                             b.job_executions_rollout_config, b.abort_config, b.timeout_config};
          return Validate(r, context);
        } else if constexpr (std::is_same_v<T, TargetsAssociated>) {
          return Validate(AssociateTargetsWithJobRequest{b.job_id, b.targets, b.comment}, context);
        } else if constexpr (std::is_same_v<T, JobCanceled>) {
          return Validate(CancelJobRequest{b.job_id, b.reason_code, b.comment, false}, context);
        } else if constexpr (std::is_same_v<T, ExecutionStatusChanged>) {
          JOBLEDGER_RETURN_IF_ERROR(ids(b.job_id, b.thing_name));
          if (b.to == ExecutionStatus::kNone) return InvalidRequest("status: NONE is not a status");
          if (b.status_details) {
            JOBLEDGER_RETURN_IF_ERROR(ValidateStatusDetails(*b.status_details, context.limits));
          }
          return Status();
        } else if constexpr (std::is_same_v<T, ExecutionQueued>) {
          JOBLEDGER_RETURN_IF_ERROR(ids(b.job_id, b.thing_name));
          return ParseTargetArn(b.target, context, "target").status();
        } else if constexpr (std::is_same_v<T, FanOutStep>) {
          JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(b.job_id));
          if (b.done) {
            if (!b.target.empty() || !b.after.empty()) {
              return InvalidRequest("target, after: a finished fan-out names no place to resume");
            }
            return Status();
          }
          JOBLEDGER_RETURN_IF_ERROR(ParseTargetArn(b.target, context, "target").status());
          if (!b.after.empty()) JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(b.after, "after"));
          return Status();
        } else if constexpr (std::is_same_v<T, ThingAddedToGroup> ||
                             std::is_same_v<T, ThingRemovedFromGroup>) {
          JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(b.thing_name));
          return ValidateThingGroupName(b.thing_group_name);
        } else if constexpr (requires { b.job_id; b.thing_name; }) {
          return ids(b.job_id, b.thing_name);
        } else if constexpr (requires { b.job_id; }) {
          return ValidateJobId(b.job_id);
        } else if constexpr (requires { b.thing_name; }) {
          return ValidateThingName(b.thing_name);
        } else {
          return Status();
        }
      },
      body);
}

}  // namespace jobledger
