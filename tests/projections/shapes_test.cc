// Every rendered answer (projections/json.h) checked against botocore's service models:
// the `iot` control plane (2015-05-28) and the `iot-jobs-data` device plane
// (2017-09-29). The model files are located at configure time (see CMakeLists.txt) and
// read here; nothing under /work/shared is read at run time.
//
// The validator walks a JSON value alongside a botocore shape: structure members must
// be known and required ones present; lists, maps, strings (enum, length, pattern),
// integers and longs (range, min/max), doubles, booleans and timestamps are checked by
// type. The one allowed deviation is Part A item 1: the job status SUCCEEDED is the
// project's name for the model's COMPLETED.

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
#include <vector>

#include "projections/json.h"
#include "tests/projections/projections_test_util.h"

#ifndef JOBLEDGER_BOTOCORE_IOT_MODEL
#define JOBLEDGER_BOTOCORE_IOT_MODEL ""
#endif
#ifndef JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL
#define JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL ""
#endif

namespace jobledger::testing {
namespace {

using nlohmann::json;

// ---- the validator ----

std::string KindOf(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer " + v.dump();
  if (v.is_number_float()) return "float " + v.dump();
  if (v.is_string()) return "string " + v.dump();
  if (v.is_array()) return "array";
  return "object";
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

// Whole numbers without a fraction ("0", not "0.0").
std::string Number(double x) {
  if (std::floor(x) == x && std::fabs(x) < 9e15) return std::to_string(static_cast<int64_t>(x));
  return json(x).dump();
}

// A model pattern (Java syntax) as an ECMAScript regex, or nullopt when it uses a
// construct this translation does not know (such patterns are not checked).
std::optional<std::regex> PatternOf(std::string pattern) {
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

const ServiceModel& IotModel() {
  static const std::unique_ptr<ServiceModel> model = ServiceModel::FromFile(JOBLEDGER_BOTOCORE_IOT_MODEL, "iot");
  return *model;
}

const ServiceModel& IotJobsDataModel() {
  static const std::unique_ptr<ServiceModel> model =
      ServiceModel::FromFile(JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL, "iot-jobs-data");
  return *model;
}

// Paths of every JSON null in `v`.
void CollectNulls(const json& v, const std::string& path, std::vector<std::string>& out) {
  if (v.is_null()) {
    out.push_back(path);
  } else if (v.is_object()) {
    for (const auto& [key, child] : v.items()) CollectNulls(child, path + "." + key, out);
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) CollectNulls(v[i], path + "[" + std::to_string(i) + "]", out);
  }
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += "\n  " + line;
  return out;
}

// Parses a rendered answer and checks it against `shape` of `model`, and that it holds
// no null. Returns the parsed value (null if it did not parse).
json ExpectConforms(const ServiceModel& model, const std::string& rendered, const std::string& shape) {
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

// Control plane: epoch seconds with the microseconds as a fraction.
void ExpectControlTime(const json& v, int64_t micros, const std::string& what) {
  ASSERT_TRUE(v.is_number()) << what << " is " << KindOf(v);
  const double expected =
      static_cast<double>(micros / 1'000'000) + static_cast<double>(micros % 1'000'000) / 1e6;
  EXPECT_NEAR(v.get<double>(), expected, 1e-6) << what;
}

// Device plane: whole epoch seconds, as a JSON integer.
void ExpectDeviceTime(const json& v, int64_t micros, const std::string& what) {
  ASSERT_TRUE(v.is_number_integer()) << what << " must be whole seconds, got " << KindOf(v);
  EXPECT_EQ(v.get<int64_t>(), micros / 1'000'000) << what;
}

// ---- the ledger ----

// Fractions of a second on every step, so control-plane timestamps carry a fraction
// and device-plane ones must drop it.
constexpr int64_t kT1 = kT0 + 1'234'567;                 // beta created
constexpr int64_t kT2 = kT1 + kMinute + 250'000;         // beta's executions move
constexpr int64_t kT3 = kT2 + kMinute + 500'001;         // t3 force-canceled; done, halted created
constexpr int64_t kT4 = kT3 + 2 * kMinute + 750'000;     // done completes, halted canceled
constexpr int64_t kT5 = kT4 + kMinute + 111'111;         // device plane
constexpr int64_t kNow = kT5 + 3 * kMinute + 999'999;    // the reading

class ShapesTest : public ProjectionsFixture {
 protected:
  void SetUp() override {
    ProjectionsFixture::SetUp();
    ASSERT_TRUE(IotModel().ok()) << IotModel().error();
    ASSERT_TRUE(IotJobsDataModel().ok()) << IotJobsDataModel().error();
    ASSERT_TRUE(IotModel().HasShape("DescribeJobResponse")) << "not the iot model: " << JOBLEDGER_BOTOCORE_IOT_MODEL;
    ASSERT_TRUE(IotJobsDataModel().HasShape("StartNextPendingJobExecutionResponse"))
        << "not the iot-jobs-data model: " << JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL;
    BuildLedger();
  }

  void MustDo(const Status& s) { ASSERT_TRUE(s.ok()) << s.ToString(); }

  void MustUpdateWithDetails(const std::string& job, const std::string& thing, ExecutionStatus status,
                             DetailsMap details) {
    UpdateJobExecutionRequest r = Update(job, thing, status);
    r.status_details = std::move(details);
    auto u = ledger_->UpdateJobExecution(As("thing:" + thing), r);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
  }

  // alpha: every config, rolling out; beta: CONTINUOUS on one group with executions in
  // several statuses; omega: CONTINUOUS with associated targets; done: completed;
  // halted: force-canceled with reasonCode and comment; dev-*: the device plane.
  void BuildLedger() {
    clock_.Set(kT0);
    for (int i = 0; i < 4; ++i) MustJoin("fleet", "t" + std::to_string(i));
    MustJoin("lab", "l0");

    CreateJobRequest alpha = NewJob("alpha", {GroupArnOf("fleet"), ThingArnOf("solo")});
    alpha.description = "firmware 2.1";
    alpha.presigned_url_config = PresignedUrlConfig{"arn:aws:iam::123456789012:role/s3-reader", 600};
    RolloutConfig rollout;
    rollout.maximum_per_minute = 10;
    rollout.exponential_rate = ExponentialRate{2, 1.5, RateIncreaseCriteria{2, std::nullopt}};
    alpha.job_executions_rollout_config = rollout;
    alpha.abort_config =
        AbortConfig{{AbortCriteria{FailureType::kFailed, 50.5, 10}, AbortCriteria{FailureType::kAll, 90, 20}}};
    alpha.timeout_config = TimeoutConfig{30};
    auto created = ledger_->CreateJob(As("user:ops"), alpha);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    create_response_ = *created;

    clock_.Set(kT1);
    CreateJobRequest beta = NewJob("beta", {GroupArnOf("fleet")});
    beta.target_selection = TargetSelection::kContinuous;
    beta.timeout_config = TimeoutConfig{20};
    MustCreate(beta);
    CreateJobRequest omega = NewJob("omega", {GroupArnOf("lab")});
    omega.target_selection = TargetSelection::kContinuous;
    omega.description = "lab rollout";
    MustCreate(omega);
    AssociateTargetsWithJobRequest associate;
    associate.job_id = "omega";
    associate.targets = {ThingArnOf("l9")};
    associate.comment = "one more bench";
    auto associated = ledger_->AssociateTargetsWithJob(As("user:ops"), associate);
    ASSERT_TRUE(associated.ok()) << associated.status().ToString();
    associate_response_ = *associated;

    clock_.Set(kT2);
    MustUpdateWithDetails("beta", "t0", ExecutionStatus::kInProgress, {{"progress", "40%"}, {"step", "download"}});
    MustUpdate("beta", "t1", ExecutionStatus::kSucceeded);
    MustUpdate("beta", "t2", ExecutionStatus::kFailed);
    MustUpdate("beta", "t3", ExecutionStatus::kInProgress);

    clock_.Set(kT3);
    CancelJobExecutionRequest cancel_exec;
    cancel_exec.job_id = "beta";
    cancel_exec.thing_name = "t3";
    cancel_exec.force = true;
    cancel_exec.status_details = DetailsMap{{"reason", "operator"}};
    MustDo(ledger_->CancelJobExecution(As("user:ops"), cancel_exec));
    MustCreate(NewJob("done", {ThingArnOf("d1")}));
    CreateJobRequest halted = NewJob("halted", {ThingArnOf("d2"), ThingArnOf("d3")});
    halted.description = "recalled build";
    MustCreate(halted);
    MustUpdate("done", "d1", ExecutionStatus::kInProgress);
    MustUpdate("halted", "d2", ExecutionStatus::kInProgress);

    clock_.Set(kT4);
    MustUpdate("done", "d1", ExecutionStatus::kSucceeded);
    CancelJobRequest cancel;
    cancel.job_id = "halted";
    cancel.reason_code = "FIRMWARE_RECALL";
    cancel.comment = "build 2.1 recalled";
    cancel.force = true;
    auto canceled = ledger_->CancelJob(As("user:ops"), cancel);
    ASSERT_TRUE(canceled.ok()) << canceled.status().ToString();
    cancel_response_ = *canceled;

    clock_.Set(kT5);
    CreateJobRequest dev_a = NewJob("dev-a", {ThingArnOf("dev")});
    dev_a.timeout_config = TimeoutConfig{15};
    MustCreate(dev_a);
    clock_.Advance(1'000'001);
    MustCreate(NewJob("dev-b", {ThingArnOf("dev")}));
    clock_.Advance(1'000'001);
    MustCreate(NewJob("dev-c", {ThingArnOf("dev")}));
    clock_.Advance(kMinute);
    StartNextPendingJobExecutionRequest next;
    next.thing_name = "dev";
    next.status_details = DetailsMap{{"phase", "boot"}};
    next.step_timeout_in_minutes = 5;
    auto started = ledger_->StartNextPendingJobExecution(As("thing:dev"), next);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    start_next_response_ = *started;
    next.thing_name = "idle";
    next.status_details.reset();
    next.step_timeout_in_minutes.reset();
    auto nothing = ledger_->StartNextPendingJobExecution(As("thing:idle"), next);
    ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
    start_next_nothing_ = *nothing;

    clock_.Set(kNow);
  }

  JobReference create_response_;
  JobReference associate_response_;
  JobReference cancel_response_;
  StartNextPendingJobExecutionResponse start_next_response_;
  StartNextPendingJobExecutionResponse start_next_nothing_;
};

// ---- control plane ----

TEST_F(ShapesTest, JobReferenceAnswersCreateCancelAndAssociate) {
  json created = ExpectConforms(IotModel(), RenderJobReference(create_response_), "CreateJobResponse");
  EXPECT_EQ(created.value("description", ""), "firmware 2.1");
  ExpectConforms(IotModel(), RenderJobReference(cancel_response_), "CancelJobResponse");
  json associated =
      ExpectConforms(IotModel(), RenderJobReference(associate_response_), "AssociateTargetsWithJobResponse");
  EXPECT_EQ(associated.value("jobId", ""), "omega");
  JobReference bare{"arn:aws:iot:us-east-1:123456789012:job/beta", "beta", std::nullopt};
  json minimal = ExpectConforms(IotModel(), RenderJobReference(bare), "CreateJobResponse");
  EXPECT_FALSE(minimal.contains("description")) << minimal.dump();
}

TEST_F(ShapesTest, DescribeJobWithEveryConfig) {
  const jobledger::Job alpha = Describe("alpha");
  json j = ExpectConforms(IotModel(), RenderDescribeJob(alpha), "DescribeJobResponse");
  const json& job = j["job"];
  for (const char* member : {"description", "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
                             "timeoutConfig", "jobProcessDetails"}) {
    EXPECT_TRUE(job.contains(member)) << member << " missing:\n" << j.dump(2);
  }
  EXPECT_TRUE(job["jobExecutionsRolloutConfig"].contains("exponentialRate")) << j.dump(2);
  EXPECT_TRUE(job["jobProcessDetails"].contains("processingTargets")) << "alpha is still rolling out:\n" << j.dump(2);
  EXPECT_FALSE(job.contains("completedAt")) << j.dump(2);
  EXPECT_EQ(job.value("status", ""), "IN_PROGRESS");
  ExpectControlTime(job["createdAt"], kT0, "alpha createdAt");
  EXPECT_NEAR(job["createdAt"].get<double>(), static_cast<double>(kT0) / 1e6, 1e-6);
  ExpectControlTime(job["lastUpdatedAt"], alpha.last_updated_at_micros, "alpha lastUpdatedAt");
}

TEST_F(ShapesTest, DescribeJobContinuousCompletedAndCanceled) {
  json beta = ExpectConforms(IotModel(), RenderDescribeJob(Describe("beta")), "DescribeJobResponse");
  EXPECT_EQ(beta["job"].value("targetSelection", ""), "CONTINUOUS");
  ExpectControlTime(beta["job"]["createdAt"], kT1, "beta createdAt");
  for (const char* absent : {"description", "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
                             "completedAt", "reasonCode", "comment"}) {
    EXPECT_FALSE(beta["job"].contains(absent)) << absent << " must be omitted:\n" << beta.dump(2);
  }
  EXPECT_FALSE(beta["job"]["jobProcessDetails"].contains("processingTargets")) << beta.dump(2);

  json done = ExpectConforms(IotModel(), RenderDescribeJob(Describe("done")), "DescribeJobResponse");
  EXPECT_EQ(done["job"].value("status", ""), "SUCCEEDED");  // the documented alias of COMPLETED
  ASSERT_TRUE(done["job"].contains("completedAt")) << done.dump(2);
  ExpectControlTime(done["job"]["completedAt"], kT4, "done completedAt");
  EXPECT_NEAR(done["job"]["completedAt"].get<double>() - std::floor(done["job"]["completedAt"].get<double>()),
              static_cast<double>(kT4 % 1'000'000) / 1e6, 1e-6);

  json halted = ExpectConforms(IotModel(), RenderDescribeJob(Describe("halted")), "DescribeJobResponse");
  EXPECT_EQ(halted["job"].value("status", ""), "CANCELED");
  EXPECT_EQ(halted["job"].value("forceCanceled", false), true);
  EXPECT_EQ(halted["job"].value("reasonCode", ""), "FIRMWARE_RECALL");
  EXPECT_EQ(halted["job"].value("comment", ""), "build 2.1 recalled");
  EXPECT_FALSE(halted["job"].contains("completedAt")) << halted.dump(2);

  json omega = ExpectConforms(IotModel(), RenderDescribeJob(Describe("omega")), "DescribeJobResponse");
  EXPECT_EQ(omega["job"]["targets"].size(), 2u) << omega.dump(2);
}

TEST_F(ShapesTest, GetJobDocument) {
  auto document = reads_->GetJobDocument("alpha");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  json j = ExpectConforms(IotModel(), RenderGetJobDocument(*document), "GetJobDocumentResponse");
  EXPECT_EQ(j.value("document", ""), R"({"operation":"install"})");
}

TEST_F(ShapesTest, ListJobsAllPagedAndFiltered) {
  auto all = reads_->ListJobs(ListJobsRequest{});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  json j = ExpectConforms(IotModel(), RenderListJobs(*all), "ListJobsResponse");
  ASSERT_EQ(j["jobs"].size(), 8u) << j.dump(2);
  EXPECT_FALSE(j.contains("nextToken")) << j.dump(2);
  bool saw_group_id = false;
  bool saw_completed = false;
  for (const json& s : j["jobs"]) {
    saw_group_id = saw_group_id || s.contains("thingGroupId");
    if (s.value("jobId", "") == "done") {
      saw_completed = true;
      ExpectControlTime(s["completedAt"], kT4, "done completedAt");
    } else {
      EXPECT_FALSE(s.contains("completedAt")) << s.dump();
    }
    if (s.value("jobId", "") == "alpha") ExpectControlTime(s["createdAt"], kT0, "alpha createdAt");
  }
  EXPECT_TRUE(saw_group_id) << "beta targets one group:\n" << j.dump(2);
  EXPECT_TRUE(saw_completed);

  ListJobsRequest page;
  page.max_results = 3;
  auto p1 = reads_->ListJobs(page);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  json j1 = ExpectConforms(IotModel(), RenderListJobs(*p1), "ListJobsResponse");
  ASSERT_TRUE(j1.contains("nextToken")) << j1.dump(2);
  page.next_token = p1->next_token;
  auto p2 = reads_->ListJobs(page);
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  ExpectConforms(IotModel(), RenderListJobs(*p2), "ListJobsResponse");

  ListJobsRequest completed;
  completed.status = JobStatus::kSucceeded;
  auto c = reads_->ListJobs(completed);
  ASSERT_TRUE(c.ok());
  json jc = ExpectConforms(IotModel(), RenderListJobs(*c), "ListJobsResponse");
  EXPECT_EQ(jc["jobs"].size(), 1u);

  ListJobsRequest none;
  none.thing_group_name = "nobody";
  auto n = reads_->ListJobs(none);
  ASSERT_TRUE(n.ok());
  json jn = ExpectConforms(IotModel(), RenderListJobs(*n), "ListJobsResponse");
  EXPECT_TRUE(jn["jobs"].is_array() && jn["jobs"].empty()) << jn.dump();
}

TEST_F(ShapesTest, DescribeJobExecutionInEveryStatus) {
  struct Case {
    std::string job, thing, status;
  };
  const std::vector<Case> cases = {{"beta", "t0", "IN_PROGRESS"}, {"beta", "t1", "SUCCEEDED"},
                                   {"beta", "t2", "FAILED"},      {"beta", "t3", "CANCELED"},
                                   {"halted", "d2", "CANCELED"},  {"halted", "d3", "CANCELED"},
                                   {"omega", "l9", "QUEUED"},     {"done", "d1", "SUCCEEDED"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.job + "/" + c.thing);
    auto e = reads_->DescribeJobExecution(c.job, c.thing);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    json j = ExpectConforms(IotModel(), RenderDescribeJobExecution(*e), "DescribeJobExecutionResponse");
    const json& x = j["execution"];
    EXPECT_EQ(x.value("status", ""), c.status);
    ExpectControlTime(x["queuedAt"], e->queued_at_micros, "queuedAt");
    ExpectControlTime(x["lastUpdatedAt"], e->last_updated_at_micros, "lastUpdatedAt");
    EXPECT_EQ(x.contains("startedAt"), e->started_at_micros.has_value()) << j.dump(2);
    if (c.status != "IN_PROGRESS") {
      EXPECT_FALSE(x.contains("approximateSecondsBeforeTimedOut")) << j.dump(2);
    }
  }

  auto t0 = reads_->DescribeJobExecution("beta", "t0");
  ASSERT_TRUE(t0.ok());
  json j = json::parse(RenderDescribeJobExecution(*t0));
  const json& x = j["execution"];
  ExpectControlTime(x["queuedAt"], kT1, "beta/t0 queuedAt");
  ExpectControlTime(x["startedAt"], kT2, "beta/t0 startedAt");
  ASSERT_TRUE(x.contains("approximateSecondsBeforeTimedOut")) << j.dump(2);
  EXPECT_TRUE(x["approximateSecondsBeforeTimedOut"].is_number_integer());
  EXPECT_EQ(x["statusDetails"]["detailsMap"], (json{{"progress", "40%"}, {"step", "download"}}));

  auto t3 = reads_->DescribeJobExecution("beta", "t3");
  ASSERT_TRUE(t3.ok());
  json k = json::parse(RenderDescribeJobExecution(*t3));
  EXPECT_EQ(k["execution"].value("forceCanceled", false), true) << k.dump(2);
  ExpectControlTime(k["execution"]["lastUpdatedAt"], kT3, "beta/t3 lastUpdatedAt");
}

TEST_F(ShapesTest, ListJobExecutionsForJobAndThing) {
  ListJobExecutionsForJobRequest r;
  r.job_id = "beta";
  r.max_results = 3;
  int pages = 0;
  size_t seen = 0;
  bool saw_token = false;
  for (; pages < 5; ++pages) {
    auto page = reads_->ListJobExecutionsForJob(r);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    json j = ExpectConforms(IotModel(), RenderListJobExecutionsForJob(*page), "ListJobExecutionsForJobResponse");
    seen += j["executionSummaries"].size();
    for (const json& s : j["executionSummaries"]) {
      ExpectControlTime(s["jobExecutionSummary"]["queuedAt"], kT1, "beta queuedAt");
    }
    if (!page->next_token) break;
    saw_token = true;
    EXPECT_TRUE(j.contains("nextToken"));
    r.next_token = page->next_token;
  }
  EXPECT_TRUE(saw_token);
  EXPECT_EQ(seen, 4u);

  ListJobExecutionsForThingRequest t;
  t.thing_name = "t0";
  t.max_results = 1;
  auto first = reads_->ListJobExecutionsForThing(t);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  json j1 = ExpectConforms(IotModel(), RenderListJobExecutionsForThing(*first), "ListJobExecutionsForThingResponse");
  ASSERT_TRUE(j1.contains("nextToken")) << "t0 has executions of alpha and beta:\n" << j1.dump(2);
  t.max_results.reset();
  auto all = reads_->ListJobExecutionsForThing(t);
  ASSERT_TRUE(all.ok());
  json j2 = ExpectConforms(IotModel(), RenderListJobExecutionsForThing(*all), "ListJobExecutionsForThingResponse");
  EXPECT_FALSE(j2.contains("nextToken"));
  EXPECT_GE(j2["executionSummaries"].size(), 2u);

  t.thing_name = "dev";
  auto dev = reads_->ListJobExecutionsForThing(t);
  ASSERT_TRUE(dev.ok());
  ExpectConforms(IotModel(), RenderListJobExecutionsForThing(*dev), "ListJobExecutionsForThingResponse");
}

// ---- device plane ----

TEST_F(ShapesTest, GetPendingJobExecutions) {
  auto from_reads = reads_->GetPendingJobExecutions("dev");
  ASSERT_TRUE(from_reads.ok()) << from_reads.status().ToString();
  json j = ExpectConforms(IotJobsDataModel(), RenderGetPendingJobExecutions(*from_reads),
                          "GetPendingJobExecutionsResponse");
  ASSERT_EQ(j["inProgressJobs"].size(), 1u) << j.dump(2);
  ASSERT_EQ(j["queuedJobs"].size(), 2u) << j.dump(2);
  const json& a = j["inProgressJobs"][0];
  EXPECT_EQ(a.value("jobId", ""), "dev-a");
  ExpectDeviceTime(a["queuedAt"], kT5, "dev-a queuedAt");
  ExpectDeviceTime(a["startedAt"], kT5 + 2'000'002 + kMinute, "dev-a startedAt");
  ExpectDeviceTime(a["lastUpdatedAt"], kT5 + 2'000'002 + kMinute, "dev-a lastUpdatedAt");
  ExpectDeviceTime(j["queuedJobs"][0]["queuedAt"], kT5 + 1'000'001, "dev-b queuedAt");
  EXPECT_FALSE(j["queuedJobs"][0].contains("startedAt")) << j.dump(2);

  auto from_ledger = ledger_->GetPendingJobExecutions("dev");
  ASSERT_TRUE(from_ledger.ok()) << from_ledger.status().ToString();
  ExpectConforms(IotJobsDataModel(), RenderGetPendingJobExecutions(*from_ledger), "GetPendingJobExecutionsResponse");

  auto empty = reads_->GetPendingJobExecutions("idle");
  ASSERT_TRUE(empty.ok());
  ExpectConforms(IotJobsDataModel(), RenderGetPendingJobExecutions(*empty), "GetPendingJobExecutionsResponse");
}

TEST_F(ShapesTest, StartNextPendingJobExecution) {
  ASSERT_TRUE(start_next_response_.execution.has_value());
  json j = ExpectConforms(IotJobsDataModel(), RenderStartNextPendingJobExecution(start_next_response_),
                          "StartNextPendingJobExecutionResponse");
  const json& x = j["execution"];
  EXPECT_EQ(x.value("jobId", ""), "dev-a");
  EXPECT_EQ(x.value("status", ""), "IN_PROGRESS");
  EXPECT_EQ(x["statusDetails"], (json{{"phase", "boot"}}));
  ExpectDeviceTime(x["queuedAt"], kT5, "queuedAt");
  ExpectDeviceTime(x["startedAt"], kT5 + 2'000'002 + kMinute, "startedAt");
  ExpectDeviceTime(x["lastUpdatedAt"], kT5 + 2'000'002 + kMinute, "lastUpdatedAt");
  ASSERT_TRUE(x.contains("approximateSecondsBeforeTimedOut")) << j.dump(2);
  EXPECT_TRUE(x["approximateSecondsBeforeTimedOut"].is_number_integer());
  EXPECT_TRUE(x.contains("jobDocument")) << j.dump(2);

  json nothing = ExpectConforms(IotJobsDataModel(), RenderStartNextPendingJobExecution(start_next_nothing_),
                                "StartNextPendingJobExecutionResponse");
  EXPECT_EQ(nothing, json::object());
}

TEST_F(ShapesTest, UpdateJobExecution) {
  UpdateJobExecutionRequest r = Update("dev-a", "dev", ExecutionStatus::kSucceeded);
  r.status_details = DetailsMap{{"phase", "done"}, {"result", "ok"}};
  r.include_job_execution_state = true;
  r.include_job_document = true;
  auto full = ledger_->UpdateJobExecution(As("thing:dev"), r);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  json j = ExpectConforms(IotJobsDataModel(), RenderUpdateJobExecution(*full), "UpdateJobExecutionResponse");
  ASSERT_TRUE(j.contains("executionState")) << j.dump(2);
  EXPECT_EQ(j["executionState"].value("status", ""), "SUCCEEDED");
  EXPECT_TRUE(j["executionState"]["versionNumber"].is_number_integer());
  EXPECT_EQ(j.value("jobDocument", ""), R"({"operation":"install"})");

  auto bare = ledger_->UpdateJobExecution(As("thing:dev"), Update("dev-b", "dev", ExecutionStatus::kInProgress));
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  json k = ExpectConforms(IotJobsDataModel(), RenderUpdateJobExecution(*bare), "UpdateJobExecutionResponse");
  EXPECT_EQ(k, json::object()) << "nothing was asked for";

  UpdateJobExecutionRequest state_only = Update("dev-b", "dev", ExecutionStatus::kFailed);
  state_only.include_job_execution_state = true;
  auto s = ledger_->UpdateJobExecution(As("thing:dev"), state_only);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  json l = ExpectConforms(IotJobsDataModel(), RenderUpdateJobExecution(*s), "UpdateJobExecutionResponse");
  EXPECT_FALSE(l.contains("jobDocument")) << l.dump(2);
  EXPECT_TRUE(l["executionState"]["statusDetails"].is_object()) << l.dump(2);
}

// ---- the validator itself ----

TEST(ShapesValidatorTest, CatchesUnknownMembersWrongTypesAndBadValues) {
  ASSERT_TRUE(IotModel().ok()) << IotModel().error();
  ASSERT_TRUE(IotJobsDataModel().ok()) << IotJobsDataModel().error();
  const json bad = json::parse(R"({
    "job": {
      "jobId": "bad",
      "status": "FINISHED",
      "forceCanceled": "no",
      "createdAt": "2025-11-27T10:00:00Z",
      "targets": [],
      "jobProcessDetails": {"numberOfQueuedThings": 1.5, "numberOfFailedThings": 4294967296},
      "abortConfig": {"criteriaList": [{"failureType": "ALL", "action": "CANCEL"}]},
      "timeoutConfig": null,
      "frobnicate": 1
    }
  })");
  const std::vector<std::string> errors = IotModel().Validate(bad, "DescribeJobResponse");
  auto has = [&](const std::string& part) {
    for (const std::string& e : errors) {
      if (e.find(part) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("$.job.frobnicate: unknown member")) << Joined(errors);
  EXPECT_TRUE(has("$.job.status: \"FINISHED\" is not one of")) << Joined(errors);
  EXPECT_TRUE(has("$.job.forceCanceled: expected a boolean")) << Joined(errors);
  EXPECT_TRUE(has("$.job.createdAt: expected a timestamp")) << Joined(errors);
  EXPECT_TRUE(has("$.job.targets: length 0 is below min 1")) << Joined(errors);
  EXPECT_TRUE(has("$.job.jobProcessDetails.numberOfQueuedThings: expected an integer")) << Joined(errors);
  EXPECT_TRUE(has("$.job.jobProcessDetails.numberOfFailedThings: 4294967296 does not fit")) << Joined(errors);
  EXPECT_TRUE(has("$.job.abortConfig.criteriaList[0]: required member \"thresholdPercentage\" is missing"))
      << Joined(errors);
  EXPECT_TRUE(has("$.job.timeoutConfig: null")) << Joined(errors);
  EXPECT_TRUE(has("\"minNumberOfExecutedThings\" is missing")) << Joined(errors);
  EXPECT_FALSE(has("$.job.jobId")) << "a valid jobId is not an error:" << Joined(errors);
  EXPECT_EQ(errors.size(), 10u) << Joined(errors);

  // SUCCEEDED is accepted only as the job status alias, not elsewhere.
  EXPECT_TRUE(IotModel().Validate(json{{"job", {{"status", "SUCCEEDED"}}}}, "DescribeJobResponse").empty());
  EXPECT_FALSE(IotModel().Validate(json{{"job", {{"targetSelection", "SUCCEEDED"}}}}, "DescribeJobResponse").empty());

  // Device plane: timestamps are longs; a fraction is a wrong type. Map keys are checked.
  const json device = json::parse(R"({"execution": {"jobId": "j", "queuedAt": 1764237600.5,
                                      "statusDetails": {"bad key!": "v"}, "versionNumber": "1"}})");
  const std::vector<std::string> device_errors = IotJobsDataModel().Validate(device, "StartNextPendingJobExecutionResponse");
  EXPECT_EQ(device_errors.size(), 3u) << Joined(device_errors);
  EXPECT_NE(Joined(device_errors).find("$.execution.queuedAt: expected an integer (long), got float"), std::string::npos)
      << Joined(device_errors);
  EXPECT_NE(Joined(device_errors).find("$.execution.statusDetails<key \"bad key!\">"), std::string::npos)
      << Joined(device_errors);

  // A missing model file fails with a message naming it.
  auto missing = ServiceModel::FromFile("/nonexistent/service-2.json", "iot");
  EXPECT_FALSE(missing->ok());
  EXPECT_NE(missing->error().find("/nonexistent/service-2.json"), std::string::npos) << missing->error();
  EXPECT_FALSE(missing->Validate(json::object(), "DescribeJobResponse").empty());
}

}  // namespace
}  // namespace jobledger::testing
