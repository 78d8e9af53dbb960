#include "server/routes.h"

#include <algorithm>
#include <cctype>

namespace jobledger::server {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (!out.empty() && out.back().empty()) out.pop_back();  // a trailing '/'
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Matches decoded path segments against a route's template.
bool Matches(const Route& route, const std::vector<std::string>& segments, std::map<std::string, std::string>* labels) {
  std::vector<std::string_view> pattern = Segments(route.uri);
  if (pattern.size() != segments.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i].size() > 2 && pattern[i].front() == '{' && pattern[i].back() == '}') {
      if (segments[i].empty()) return false;
      found[std::string(pattern[i].substr(1, pattern[i].size() - 2))] = segments[i];
    } else if (pattern[i] != segments[i]) {
      return false;
    }
  }
  *labels = std::move(found);
  return true;
}

}  // namespace

const std::vector<Route>& Routes() {
  static const std::vector<Route> kRoutes = {
      {Plane::kControl, "PUT", "/jobs/{jobId}", "CreateJob", true},
      {Plane::kControl, "PATCH", "/jobs/{jobId}", "UpdateJob", true},
      {Plane::kControl, "PUT", "/jobs/{jobId}/cancel", "CancelJob", true},
      {Plane::kControl, "DELETE", "/jobs/{jobId}", "DeleteJob", true},
      {Plane::kControl, "POST", "/jobs/{jobId}/targets", "AssociateTargetsWithJob", true},
      {Plane::kControl, "GET", "/jobs/{jobId}", "DescribeJob", false},
      {Plane::kControl, "GET", "/jobs/{jobId}/job-document", "GetJobDocument", false},
      {Plane::kControl, "GET", "/jobs", "ListJobs", false},
      {Plane::kControl, "GET", "/things/{thingName}/jobs/{jobId}", "DescribeJobExecution", false},
      {Plane::kControl, "GET", "/jobs/{jobId}/things", "ListJobExecutionsForJob", false},
      {Plane::kControl, "GET", "/things/{thingName}/jobs", "ListJobExecutionsForThing", false},
      {Plane::kControl, "PUT", "/things/{thingName}/jobs/{jobId}/cancel", "CancelJobExecution", true},
      {Plane::kControl, "DELETE", "/things/{thingName}/jobs/{jobId}/executionNumber/{executionNumber}",
       "DeleteJobExecution", true},
      {Plane::kControl, "PUT", "/thing-groups/addThingToThingGroup", "AddThingToThingGroup", true},
      {Plane::kControl, "PUT", "/thing-groups/removeThingFromThingGroup", "RemoveThingFromThingGroup", true},
      {Plane::kControl, "DELETE", "/things/{thingName}", "DeleteThing", true},
      {Plane::kDevice, "GET", "/things/{thingName}/jobs", "GetPendingJobExecutions", false},
      {Plane::kDevice, "PUT", "/things/{thingName}/jobs/$next", "StartNextPendingJobExecution", true},
      {Plane::kDevice, "GET", "/things/{thingName}/jobs/{jobId}", "DescribeJobExecution", false},
      {Plane::kDevice, "POST", "/things/{thingName}/jobs/{jobId}", "UpdateJobExecution", true},
  };
  return kRoutes;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = HexValue(text[i + 1]);
    const int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return std::nullopt;
    out += c;
    i += 2;
  }
  return out;
}

StatusOr<RouteMatch> MatchRoute(Plane plane, std::string_view method, std::string_view target) {
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (path.empty() || path.front() != '/') return InvalidArgumentError("path: must start with '/'");
  std::vector<std::string> segments;
  for (std::string_view raw : Segments(path)) {
    std::optional<std::string> decoded = PercentDecode(raw);
    if (!decoded) return InvalidArgumentError("path: malformed percent-encoding in '" + std::string(raw) + "'");
    segments.push_back(std::move(*decoded));
  }
  RouteMatch match;
  if (segments.size() >= 2 && (segments[0] == "at-seq" || segments[0] == "as-of")) {
    if (segments[0] == "at-seq") {
      const std::string& n = segments[1];
      if (n.empty() || n.size() > 19 ||
          !std::all_of(n.begin(), n.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        return InvalidArgumentError("at-seq: must be a sequence number, got '" + n + "'");
      }
      match.when.at_sequence = std::stoull(n);
    } else {
      match.when.as_of = segments[1];
    }
    segments.erase(segments.begin(), segments.begin() + 2);
  }
  for (const Route& route : Routes()) {
    if (route.plane != plane || route.method != method) continue;
    if (Matches(route, segments, &match.labels)) {
      match.route = &route;
      break;
    }
  }
  if (match.route == nullptr) {
    return Status(StatusCode::kNotFound, "no operation of the " +
                                             std::string(plane == Plane::kControl ? "iot" : "iot-jobs-data") +
                                             " API is " + std::string(method) + " " + std::string(path));
  }
  if (!query.empty()) {
    size_t start = 0;
    while (start <= query.size()) {
      size_t end = query.find('&', start);
      if (end == std::string_view::npos) end = query.size();
      std::string_view pair = query.substr(start, end - start);
      start = end + 1;
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      std::optional<std::string> key = PercentDecode(pair.substr(0, eq));
      std::optional<std::string> value =
          PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!key || !value) return InvalidArgumentError("query: malformed percent-encoding in '" + std::string(pair) + "'");
      match.query.emplace_back(std::move(*key), std::move(*value));
    }
  }
  return match;
}

}  // namespace jobledger::server
