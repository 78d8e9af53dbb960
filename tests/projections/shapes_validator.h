// The botocore shape validator, shared by the projections' shapes test and the CLI
// test: a JSON value is walked alongside a botocore shape (structure members must be
// known and required ones present; lists, maps, strings (enum, length, pattern),
// integers and longs (range, min/max), doubles, booleans and timestamps are checked by
// type). The one allowed deviation is Part A item 1: the job status SUCCEEDED is the
// project's name for the model's COMPLETED.
//
// The model paths come from the including target's compile definitions
// JOBLEDGER_BOTOCORE_IOT_MODEL and JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL (located at
// configure time, see tests/projections/CMakeLists.txt).

#ifndef JOBLEDGER_TESTS_PROJECTIONS_SHAPES_VALIDATOR_H_
#define JOBLEDGER_TESTS_PROJECTIONS_SHAPES_VALIDATOR_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#ifndef JOBLEDGER_BOTOCORE_IOT_MODEL
#define JOBLEDGER_BOTOCORE_IOT_MODEL ""
#endif
#ifndef JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL
#define JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL ""
#endif

namespace jobledger::testing {

using json = nlohmann::json;

inline std::string KindOf(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer " + v.dump();
  if (v.is_number_float()) return "float " + v.dump();
  if (v.is_string()) return "string " + v.dump();
  if (v.is_array()) return "array";
  return "object";
}

inline size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

// Whole numbers without a fraction ("0", not "0.0").
inline std::string Number(double x) {
  if (std::floor(x) == x && std::fabs(x) < 9e15) return std::to_string(static_cast<int64_t>(x));
  return json(x).dump();
}

// A model pattern (Java syntax) as an ECMAScript regex, or nullopt when it uses a
// construct this translation does not know (such patterns are not checked).
inline std::optional<std::regex> PatternOf(std::string pattern) {
  const std::vector<std::pair<std::string, std::string>> replacements = {
      {"\\p{C}", "\\x00-\\x1F\\x7F"}, {"\\p{Upper}", "A-Z"}, {"\\p{Digit}", "0-9"},
      {"*+", "*"},                    {"++", "+"}};
  for (const auto& [from, to] : replacements) {
    for (size_t at = pattern.find(from); at != std::string::npos; at = pattern.find(from, at + to.size())) {
      pattern.replace(at, from.size(), to);
    }
  }
  if (pattern.find("\\p") != std::string::npos || pattern.find("\\P") != std::string::npos) return std::nullopt;
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

class ServiceModel {
 public:
  explicit ServiceModel(json document) : document_(std::move(document)) {
    if (!document_.is_object() || !document_.contains("shapes") || !document_["shapes"].is_object()) {
      error_ = "the model has no \"shapes\" object";
    }
  }

  // A model file; on failure error() says why (a missing file names the path and how
  // the path is found).
  static std::unique_ptr<ServiceModel> FromFile(const std::string& path, const std::string& service) {
    if (path.empty()) {
      return Failed("botocore's " + service +
                    " service model was not found when CMake configured the build "
                    "(python3 -c 'import botocore' failed or data/" + service +
                    "/<version>/service-2.json[.gz] is missing); install python3-botocore "
                    "and re-run cmake");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Failed("botocore's " + service + " service model " + path +
                    " (found at configure time) cannot be opened; install python3-botocore "
                    "and re-run cmake");
    }
    json document = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) return Failed(path + " is not valid JSON");
    auto model = std::make_unique<ServiceModel>(std::move(document));
    if (!model->ok()) model->error_ = path + ": " + model->error_;
    return model;
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string api_version() const {
    return document_.value(json::json_pointer("/metadata/apiVersion"), std::string());
  }
  bool HasShape(const std::string& name) const { return ok() && document_["shapes"].contains(name); }

  // Every way `value` departs from shape `shape_name`, each naming its JSON path.
  std::vector<std::string> Validate(const json& value, const std::string& shape_name) const {
    std::vector<std::string> errors;
    if (!ok()) {
      errors.push_back(error_);
      return errors;
    }
    Check(value, shape_name, "$", errors);
    return errors;
  }

 private:
  static std::unique_ptr<ServiceModel> Failed(std::string error) {
    auto model = std::make_unique<ServiceModel>(json::object());
    model->error_ = std::move(error);
    return model;
  }

  void Check(const json& v, const std::string& name, const std::string& path,
             std::vector<std::string>& errors) const {
    const json& shapes = document_["shapes"];
    auto found = shapes.find(name);
    if (found == shapes.end()) {
      errors.push_back(path + ": shape " + name + " is not in the model");
      return;
    }
    const json& shape = *found;
    const std::string type = shape.value("type", std::string());
    auto fail = [&](const std::string& what) { errors.push_back(path + ": " + what + " (shape " + name + ")"); };
    if (v.is_null()) {
      fail("null; an absent member must be omitted");
      return;
    }
    if (type == "structure") {
      if (!v.is_object()) return fail("expected an object, got " + KindOf(v));
      const json& members = shape.at("members");
      for (const auto& required : shape.value("required", json::array())) {
        if (!v.contains(required.get<std::string>())) {
          fail("required member \"" + required.get<std::string>() + "\" is missing");
        }
      }
      for (const auto& [key, child] : v.items()) {
        auto member = members.find(key);
        if (member == members.end()) {
          errors.push_back(path + "." + key + ": unknown member; " + name + " has no \"" + key + "\"");
          continue;
        }
        Check(child, member->at("shape").get<std::string>(), path + "." + key, errors);
      }
    } else if (type == "list") {
      if (!v.is_array()) return fail("expected an array, got " + KindOf(v));
      CheckBounds(static_cast<double>(v.size()), shape, "length", fail);
      for (size_t i = 0; i < v.size(); ++i) {
        Check(v[i], shape.at("member").at("shape").get<std::string>(), path + "[" + std::to_string(i) + "]",
              errors);
      }
    } else if (type == "map") {
      if (!v.is_object()) return fail("expected an object (map), got " + KindOf(v));
      CheckBounds(static_cast<double>(v.size()), shape, "size", fail);
      for (const auto& [key, child] : v.items()) {
        Check(json(key), shape.at("key").at("shape").get<std::string>(), path + "<key \"" + key + "\">", errors);
        Check(child, shape.at("value").at("shape").get<std::string>(), path + "." + key, errors);
      }
    } else if (type == "string") {
      if (!v.is_string()) return fail("expected a string, got " + KindOf(v));
      const std::string s = v.get<std::string>();
      if (shape.contains("enum")) {
        const json& values = shape["enum"];
        bool listed = std::find(values.begin(), values.end(), v) != values.end();
        // Part A item 1: the job status vocabulary is the seed's; SUCCEEDED stands for
        // the model's COMPLETED.
        if (!listed && name == "JobStatus" && s == "SUCCEEDED" &&
            std::find(values.begin(), values.end(), json("COMPLETED")) != values.end()) {
          listed = true;
        }
        if (!listed) fail("\"" + s + "\" is not one of " + values.dump());
      }
      CheckBounds(static_cast<double>(CodePoints(s)), shape, "length", fail);
      if (shape.contains("pattern")) {
        const std::string pattern = shape["pattern"].get<std::string>();
        if (auto re = PatternOf(pattern); re && !std::regex_match(s, *re)) {
          fail("\"" + s + "\" does not match pattern " + pattern);
        }
      }
    } else if (type == "integer" || type == "long") {
      if (!v.is_number_integer()) return fail("expected an integer (" + type + "), got " + KindOf(v));
      if (type == "integer") {
        const bool fits = v.is_number_unsigned()
                              ? v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max())
                              : v.get<int64_t>() >= std::numeric_limits<int32_t>::min() &&
                                    v.get<int64_t>() <= std::numeric_limits<int32_t>::max();
        if (!fits) fail(v.dump() + " does not fit a 32-bit integer");
      } else if (v.is_number_unsigned() &&
                 v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail(v.dump() + " does not fit a 64-bit long");
      }
      CheckBounds(v.get<double>(), shape, "value", fail);
    } else if (type == "double" || type == "float") {
      if (!v.is_number()) return fail("expected a number (" + type + "), got " + KindOf(v));
      CheckBounds(v.get<double>(), shape, "value", fail);
    } else if (type == "boolean") {
      if (!v.is_boolean()) return fail("expected a boolean, got " + KindOf(v));
    } else if (type == "timestamp") {
      if (!v.is_number()) return fail("expected a timestamp (epoch seconds), got " + KindOf(v));
    } else if (type == "blob") {
      if (!v.is_string()) return fail("expected a string (blob), got " + KindOf(v));
    } else {
      fail("shape type \"" + type + "\" is not supported by this validator");
    }
  }

  template <typename Fail>
  static void CheckBounds(double x, const json& shape, const std::string& what, const Fail& fail) {
    if (shape.contains("min") && x < shape["min"].get<double>()) {
      fail(what + " " + Number(x) + " is below min " + shape["min"].dump());
    }
    if (shape.contains("max") && x > shape["max"].get<double>()) {
      fail(what + " " + Number(x) + " is above max " + shape["max"].dump());
    }
  }

  json document_;
  std::string error_;
};

inline const ServiceModel& IotModel() {
  static const std::unique_ptr<ServiceModel> model = ServiceModel::FromFile(JOBLEDGER_BOTOCORE_IOT_MODEL, "iot");
  return *model;
}

inline const ServiceModel& IotJobsDataModel() {
  static const std::unique_ptr<ServiceModel> model =
      ServiceModel::FromFile(JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL, "iot-jobs-data");
  return *model;
}

// Paths of every JSON null in `v`.
inline void CollectNulls(const json& v, const std::string& path, std::vector<std::string>& out) {
  if (v.is_null()) {
    out.push_back(path);
  } else if (v.is_object()) {
    for (const auto& [key, child] : v.items()) CollectNulls(child, path + "." + key, out);
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) CollectNulls(v[i], path + "[" + std::to_string(i) + "]", out);
  }
}

inline std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += "\n  " + line;
  return out;
}

// Parses a rendered answer and checks it against `shape` of `model`, and that it holds
// no null. Returns the parsed value (null if it did not parse).
inline json ExpectConforms(const ServiceModel& model, const std::string& rendered, const std::string& shape) {
  json parsed = json::parse(rendered, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    ADD_FAILURE() << shape << ": the rendered answer is not JSON:\n" << rendered;
    return json();
  }
  const std::vector<std::string> errors = model.Validate(parsed, shape);
  EXPECT_TRUE(errors.empty()) << shape << " (" << model.api_version() << ") rejects the rendered answer:"
                              << Joined(errors) << "\nrendered:\n" << rendered;
  std::vector<std::string> nulls;
  CollectNulls(parsed, "$", nulls);
  EXPECT_TRUE(nulls.empty()) << shape << ": null at" << Joined(nulls) << "\nrendered:\n" << rendered;
  return parsed;
}

}  // namespace jobledger::testing

#endif  // JOBLEDGER_TESTS_PROJECTIONS_SHAPES_VALIDATOR_H_
