// The inputs of one REST request, as the service model places them (URI labels, query
// string, JSON body members), read strictly: a member of the wrong type, or one the
// operation does not take, is an InvalidRequestException naming it.

#ifndef JOBLEDGER_SERVER_WIRE_INPUT_H_
#define JOBLEDGER_SERVER_WIRE_INPUT_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jobledger/event.h"
#include "jobledger/status.h"
#include "server/routes.h"

namespace jobledger::server {

class WireInput {
 public:
  // `body` must be empty or a JSON object.
  static StatusOr<WireInput> From(const RouteMatch& match, std::string_view body);

  // A URI label ({jobId}); the route guarantees it.
  const std::string& Label(const std::string& name) const;

  // Query parameters (absent: nullopt).
  std::optional<std::string> Query(const std::string& name) const;
  StatusOr<std::optional<bool>> QueryBool(const std::string& name) const;
  StatusOr<std::optional<int64_t>> QueryInt(const std::string& name) const;

  // Body members (absent or null: nullopt).
  StatusOr<std::optional<std::string>> String(const std::string& member);
  StatusOr<std::optional<bool>> Bool(const std::string& member);
  StatusOr<std::optional<int64_t>> Int(const std::string& member);
  StatusOr<std::optional<std::vector<std::string>>> Strings(const std::string& member);
  StatusOr<std::optional<DetailsMap>> Details(const std::string& member);
  // A member read by `from_json` (projections/json_mapping.h's FromJson<T>).
  const nlohmann::ordered_json* Member(const std::string& member);

  // InvalidRequest naming the first body member nothing read, or the first query
  // parameter not in `known_query`.
  Status Finish(const std::set<std::string>& known_query = {}) const;

 private:
  const RouteMatch* match_ = nullptr;
  nlohmann::ordered_json body_ = nlohmann::ordered_json::object();
  std::set<std::string> read_;
};

}  // namespace jobledger::server

#endif  // JOBLEDGER_SERVER_WIRE_INPUT_H_
