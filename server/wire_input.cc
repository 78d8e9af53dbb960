#include "server/wire_input.h"

#include <charconv>

namespace jobledger::server {

StatusOr<WireInput> WireInput::From(const RouteMatch& match, std::string_view body) {
  WireInput in;
  in.match_ = &match;
  if (body.empty()) return in;
  in.body_ = nlohmann::ordered_json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (in.body_.is_discarded()) return InvalidRequest("body: not valid JSON");
  if (!in.body_.is_object()) return InvalidRequest("body: must be a JSON object");
  return in;
}

const std::string& WireInput::Label(const std::string& name) const { return match_->labels.at(name); }

std::optional<std::string> WireInput::Query(const std::string& name) const {
  for (const auto& [k, v] : match_->query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

StatusOr<std::optional<bool>> WireInput::QueryBool(const std::string& name) const {
  std::optional<std::string> v = Query(name);
  if (!v) return std::optional<bool>();
  if (*v == "true") return std::optional<bool>(true);
  if (*v == "false") return std::optional<bool>(false);
  return InvalidRequest(name + ": must be true or false, got '" + *v + "'");
}

StatusOr<std::optional<int64_t>> WireInput::QueryInt(const std::string& name) const {
  std::optional<std::string> v = Query(name);
  if (!v) return std::optional<int64_t>();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) {
    return InvalidRequest(name + ": must be a whole number, got '" + *v + "'");
  }
  return std::optional<int64_t>(n);
}

const nlohmann::ordered_json* WireInput::Member(const std::string& member) {
  read_.insert(member);
  auto it = body_.find(member);
  if (it == body_.end() || it->is_null()) return nullptr;
  return &*it;
}

StatusOr<std::optional<std::string>> WireInput::String(const std::string& member) {
  const nlohmann::ordered_json* j = Member(member);
  if (j == nullptr) return std::optional<std::string>();
  if (!j->is_string()) return InvalidRequest(member + ": must be a string");
  return std::optional<std::string>(j->get<std::string>());
}

StatusOr<std::optional<bool>> WireInput::Bool(const std::string& member) {
  const nlohmann::ordered_json* j = Member(member);
  if (j == nullptr) return std::optional<bool>();
  if (!j->is_boolean()) return InvalidRequest(member + ": must be true or false");
  return std::optional<bool>(j->get<bool>());
}

StatusOr<std::optional<int64_t>> WireInput::Int(const std::string& member) {
  const nlohmann::ordered_json* j = Member(member);
  if (j == nullptr) return std::optional<int64_t>();
  if (!j->is_number_integer()) return InvalidRequest(member + ": must be a whole number");
  return std::optional<int64_t>(j->get<int64_t>());
}

StatusOr<std::optional<std::vector<std::string>>> WireInput::Strings(const std::string& member) {
  const nlohmann::ordered_json* j = Member(member);
  if (j == nullptr) return std::optional<std::vector<std::string>>();
  if (!j->is_array()) return InvalidRequest(member + ": must be a list of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < j->size(); ++i) {
    if (!(*j)[i].is_string()) return InvalidRequest(member + "[" + std::to_string(i) + "]: must be a string");
    out.push_back((*j)[i].get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

StatusOr<std::optional<DetailsMap>> WireInput::Details(const std::string& member) {
  const nlohmann::ordered_json* j = Member(member);
  if (j == nullptr) return std::optional<DetailsMap>();
  if (!j->is_object()) return InvalidRequest(member + ": must be a map of strings");
  DetailsMap out;
  for (auto it = j->begin(); it != j->end(); ++it) {
    if (!it.value().is_string()) return InvalidRequest(member + "." + it.key() + ": must be a string");
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return std::optional<DetailsMap>(std::move(out));
}

Status WireInput::Finish(const std::set<std::string>& known_query) const {
  for (auto it = body_.begin(); it != body_.end(); ++it) {
    if (read_.count(it.key()) == 0) {
      return InvalidRequest(it.key() + ": not a member this ledger takes for this operation");
    }
  }
  for (const auto& [k, v] : match_->query) {
    if (known_query.count(k) == 0) return InvalidRequest(k + ": not a query parameter of this operation");
  }
  return Status();
}

}  // namespace jobledger::server
