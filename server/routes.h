// The REST routes of the two service models the server speaks, as botocore describes
// them (tests/server/routes_test.cc compares this table with botocore's models): the
// control plane `iot` and the device plane `iot-jobs-data`, which share paths and are
// told apart by the SigV4 signing name (server/auth.h).
//
// Every read may also be asked as of a past point, under a path prefix the SDKs keep
// from an endpoint URL: /at-seq/{N}/... or /as-of/{time}/... (RFC 3339 or epoch
// seconds). A write under a prefix is refused.

#ifndef JOBLEDGER_SERVER_ROUTES_H_
#define JOBLEDGER_SERVER_ROUTES_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobledger/status.h"
#include "server/auth.h"

namespace jobledger::server {

struct Route {
  Plane plane;
  std::string_view method;     // "GET"
  std::string_view uri;        // botocore's requestUri: "/jobs/{jobId}"
  std::string_view operation;  // "DescribeJob"
  bool write;                  // appends (refused under a time-travel prefix)
};

// Every route, control plane first.
const std::vector<Route>& Routes();

// Where a read is asked for.
struct TimeTravel {
  std::optional<uint64_t> at_sequence;  // /at-seq/{N}
  std::optional<std::string> as_of;     // /as-of/{time}, as written
};

struct RouteMatch {
  const Route* route = nullptr;
  std::map<std::string, std::string> labels;                // {jobId} -> its value, percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded, in order
  TimeTravel when;
};

// Matches `target` (path and query, as sent) against the routes of `plane`.
// kNotFound when no route matches (the message names the method and path);
// kInvalidArgument for malformed percent-encoding or a malformed prefix.
StatusOr<RouteMatch> MatchRoute(Plane plane, std::string_view method, std::string_view target);

// Decodes %XX escapes; nullopt for a malformed one or an encoded NUL.
std::optional<std::string> PercentDecode(std::string_view text);

}  // namespace jobledger::server

#endif  // JOBLEDGER_SERVER_ROUTES_H_
