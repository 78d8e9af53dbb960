// The route table against botocore's models (python3-botocore's iot and iot-jobs-data
// service-2.json, located at configure time), and the matching of paths.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <string>

#include "server/routes.h"

namespace jobledger::server {
namespace {

nlohmann::json Model(const char* path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read botocore's model " << path << " (scripts/setup.sh installs python3-botocore)";
  return nlohmann::json::parse(in);
}

TEST(RoutesTest, EveryRouteIsTheModelsMethodAndUri) {
  const nlohmann::json iot = Model(JOBLEDGER_BOTOCORE_IOT_MODEL);
  const nlohmann::json data = Model(JOBLEDGER_BOTOCORE_IOT_JOBS_DATA_MODEL);
  EXPECT_EQ(iot["metadata"]["signingName"], "execute-api");
  EXPECT_EQ(data["metadata"]["signingName"], "iot-jobs-data");
  std::set<std::string> seen;
  for (const Route& route : Routes()) {
    const nlohmann::json& model = route.plane == Plane::kControl ? iot : data;
    const std::string op(route.operation);
    ASSERT_TRUE(model["operations"].contains(op)) << op;
    const nlohmann::json& http = model["operations"][op]["http"];
    EXPECT_EQ(http["method"], std::string(route.method)) << op;
    EXPECT_EQ(http["requestUri"], std::string(route.uri)) << op;
    EXPECT_TRUE(seen.insert(std::string(route.plane == Plane::kControl ? "iot:" : "data:") + op).second) << op;
  }
  // Every operation of the device plane, and the control plane's job operations.
  for (const auto& [name, op] : data["operations"].items()) {
    EXPECT_TRUE(seen.count("data:" + name)) << "iot-jobs-data " << name << " has no route";
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(RoutesTest, MatchesPathsOfBothPlanesWithLabelsQueryAndPrefixes) {
  auto m = MatchRoute(Plane::kControl, "GET", "/things/sensor%2D7/jobs/fw-1?executionNumber=2&x=a%20b");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->route->operation, "DescribeJobExecution");
  EXPECT_EQ(m->labels.at("thingName"), "sensor-7");
  EXPECT_EQ(m->labels.at("jobId"), "fw-1");
  ASSERT_EQ(m->query.size(), 2u);
  EXPECT_EQ(m->query[1].second, "a b");

  m = MatchRoute(Plane::kDevice, "GET", "/things/t1/jobs");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->route->operation, "GetPendingJobExecutions");
  m = MatchRoute(Plane::kControl, "GET", "/things/t1/jobs");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->route->operation, "ListJobExecutionsForThing");
  m = MatchRoute(Plane::kDevice, "PUT", "/things/t1/jobs/%24next");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->route->operation, "StartNextPendingJobExecution");
  m = MatchRoute(Plane::kDevice, "GET", "/things/t1/jobs/$next");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->labels.at("jobId"), "$next");

  m = MatchRoute(Plane::kControl, "GET", "/at-seq/643/jobs/fw-1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->route->operation, "DescribeJob");
  EXPECT_EQ(m->when.at_sequence, 643u);
  m = MatchRoute(Plane::kControl, "GET", "/as-of/2026-11-18T11%3A22%3A40Z/jobs");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->route->operation, "ListJobs");
  EXPECT_EQ(m->when.as_of, "2026-11-18T11:22:40Z");

  m = MatchRoute(Plane::kControl, "GET", "/nothing/here");
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(), "no operation of the iot API is GET /nothing/here");
  EXPECT_EQ(MatchRoute(Plane::kControl, "POST", "/jobs/fw-1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MatchRoute(Plane::kControl, "GET", "/jobs/a%zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MatchRoute(Plane::kControl, "GET", "/jobs/a%00b").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MatchRoute(Plane::kControl, "GET", "/jobs/a%2").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MatchRoute(Plane::kControl, "GET", "/at-seq/x/jobs").status().code(), StatusCode::kInvalidArgument);
  // A label may decode to anything; the request's validation refuses what it must.
  m = MatchRoute(Plane::kControl, "GET", "/jobs/a%2Fb");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->labels.at("jobId"), "a/b");
}

}  // namespace
}  // namespace jobledger::server
