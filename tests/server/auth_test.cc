// SigV4 as the AWS SDKs sign: each request below was signed by botocore's SigV4Auth
// (python3-botocore 1.29, the signer of awscli and boto3) with the documentation's
// example key at 2026-12-08T03:00:00Z; the server must compute the same signature and
// accept it, and refuse every change to what was signed.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "server/auth.h"
#include "server/sigv4.h"

namespace jobledger::server {
namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr int64_t kSignedAt = int64_t{1796698800} * 1'000'000;  // 2026-12-08T03:00:00Z

struct Vector {
  std::string name;
  SignedRequest request;
  std::string authorization;
};

std::vector<std::pair<std::string, std::string>> Headers(std::vector<std::pair<std::string, std::string>> extra) {
  extra.emplace_back("Host", "127.0.0.1:8080");
  extra.emplace_back("X-Amz-Date", "20261208T030000Z");
  return extra;
}

const std::vector<Vector>& Vectors() {
  static const std::vector<Vector> kVectors = {
      {"get",
       {"GET", "/jobs/fw-1", Headers({}), ""},
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261208/us-east-1/execute-api/aws4_request, "
       "SignedHeaders=host;x-amz-date, Signature=4e595bd1e7a21d54cd6464d4c2c99a1cc529acf3cf8630d63155bfbb888f250f"},
      {"query, sorted by name, an encoded value kept as sent",
       {"GET", "/jobs?maxResults=5&status=IN_PROGRESS&nextToken=a%2Fb", Headers({}), ""},
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261208/us-east-1/execute-api/aws4_request, "
       "SignedHeaders=host;x-amz-date, Signature=df034950bf8f2bbb5692a39e93be23b752bdbc7f21feb24447f446815905ba7f"},
      {"a body, more signed headers, a value whose spaces fold",
       {"PUT", "/jobs/fw-2",
        Headers({{"Content-Type", "application/json"}, {"amz-sdk-invocation-id", "9b1c  x"}}),
        R"({"targets":["arn:aws:iot:us-east-1:123456789012:thing/t1"]})"},
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261208/us-east-1/execute-api/aws4_request, "
       "SignedHeaders=amz-sdk-invocation-id;content-type;host;x-amz-date, "
       "Signature=9f10f295c2b51cae77d4de3212242bbc18097d3604b3bf0cd28289799e5e046d"},
      {"the device plane, an encoded path ($next)",
       {"POST", "/things/sensor-7/jobs/%24next", Headers({{"Content-Type", "application/json"}}),
        R"({"status":"IN_PROGRESS"})"},
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261208/us-east-1/iot-jobs-data/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-date, "
       "Signature=5e22082493b282fbc206266e4279db0c9067c2ad45fa49ed8157fe2a95fbf62c"},
      {"a time in the path (':' encoded by the signer)",
       {"GET", "/as-of/2026-11-18T11:22:40Z/jobs/fw-1", Headers({}), ""},
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261208/us-east-1/execute-api/aws4_request, "
       "SignedHeaders=host;x-amz-date, Signature=2cb3caecaca71b8b7801d6a51ca0310a28f05dc0e7b3951760bf2368b5431d15"},
      {"dot segments and empty segments",
       {"GET", "/a/./b/../c//d/", Headers({}), ""},
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261208/us-east-1/execute-api/aws4_request, "
       "SignedHeaders=host;x-amz-date, Signature=f74837e8385019164d1dc809853e987b1fd9a1c096fbee46e0b7ff6a3fd3ba85"},
  };
  return kVectors;
}

Credentials TestCredentials() {
  auto c = Credentials::Parse(std::string(R"({"principals": [
      {"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": ")") + kSecret + R"(", "principal": "user:alice", "role": "admin"},
      {"accessKeyId": "DEVICEKEY", "secretAccessKey": "s", "principal": "thing:t1", "role": "device", "thingName": "t1"}]})",
                              "test");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

SignedRequest Signed(const Vector& v) {
  SignedRequest r = v.request;
  r.headers.emplace_back("Authorization", v.authorization);
  return r;
}

TEST(SigV4Test, ComputesTheSignaturesBotocoreComputes) {
  for (const Vector& v : Vectors()) {
    StatusOr<Authorization> auth = ParseAuthorization(v.authorization);
    ASSERT_TRUE(auth.ok()) << v.name << ": " << auth.status().ToString();
    const std::string canonical = CanonicalRequest(v.request, auth->signed_headers);
    EXPECT_EQ(Sign(kSecret, auth->scope, StringToSign("20261208T030000Z", auth->scope, canonical)), auth->signature)
        << v.name << "\n" << canonical;
  }
}

TEST(SigV4Test, TheCanonicalRequestOfTheDocumentedForm) {
  SignedRequest r{"GET", "/a/./b/../c%20d?b=2&a=1", {{"Host", " h  x "}, {"X-Amz-Date", "20261208T030000Z"}}, ""};
  EXPECT_EQ(CanonicalRequest(r, {"x-amz-date", "host"}),
            "GET\n/a/c%2520d\na=1&b=2\nhost:h x\nx-amz-date:20261208T030000Z\n\nhost;x-amz-date\n" + Sha256Hex(""));
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(AuthTest, AcceptsWhatBotocoreSignedAndTellsThePlanes) {
  const Credentials credentials = TestCredentials();
  for (const Vector& v : Vectors()) {
    auto result = Authenticate(Signed(v), credentials, "us-east-1", kSignedAt);
    ASSERT_TRUE(std::holds_alternative<Caller>(result)) << v.name << ": " << std::get<AuthFailure>(result).message;
    const Caller& caller = std::get<Caller>(result);
    EXPECT_EQ(caller.principal->principal, "user:alice");
    EXPECT_EQ(caller.plane, v.request.target.find("%24next") != std::string::npos ? Plane::kDevice : Plane::kControl)
        << v.name;
  }
}

// Each change to a signed request, and what AWS answers.
TEST(AuthTest, RefusesEveryChangeWithTheErrorAwsAnswers) {
  const Credentials credentials = TestCredentials();
  const Vector& put = Vectors()[2];
  struct Case {
    std::string name;
    std::function<void(SignedRequest&, int64_t&, std::string&)> change;
    std::string error_type;
  };
  auto set_header = [](SignedRequest& r, const std::string& name, const std::string& value) {
    for (auto& [k, v] : r.headers) {
      if (k == name) v = value;
    }
  };
  const std::vector<Case> cases = {
      {"no Authorization", [](SignedRequest& r, int64_t&, std::string&) { r.headers.pop_back(); },
       "MissingAuthenticationTokenException"},
      {"a body changed after signing", [](SignedRequest& r, int64_t&, std::string&) { r.body[3] = 'X'; },
       "InvalidSignatureException"},
      {"a signed header changed",
       [&](SignedRequest& r, int64_t&, std::string&) { set_header(r, "amz-sdk-invocation-id", "other"); },
       "InvalidSignatureException"},
      {"the path changed", [](SignedRequest& r, int64_t&, std::string&) { r.target = "/jobs/fw-3"; },
       "InvalidSignatureException"},
      {"the method changed", [](SignedRequest& r, int64_t&, std::string&) { r.method = "POST"; },
       "InvalidSignatureException"},
      {"16 minutes late", [](SignedRequest&, int64_t& now, std::string&) { now += 16 * 60 * 1'000'000LL; },
       "InvalidSignatureException"},
      {"16 minutes early", [](SignedRequest&, int64_t& now, std::string&) { now -= 16 * 60 * 1'000'000LL; },
       "InvalidSignatureException"},
      {"another region", [](SignedRequest&, int64_t&, std::string& region) { region = "eu-west-1"; },
       "InvalidSignatureException"},
      {"an unknown key",
       [&](SignedRequest& r, int64_t&, std::string&) {
         std::string a = put.authorization;
         a.replace(a.find("AKIDEXAMPLE"), 11, "AKIDUNKNOWN");
         set_header(r, "Authorization", a);
       },
       "UnrecognizedClientException"},
      {"another service",
       [&](SignedRequest& r, int64_t&, std::string&) {
         std::string a = put.authorization;
         a.replace(a.find("execute-api"), 11, "s3");
         set_header(r, "Authorization", a);
       },
       "InvalidSignatureException"},
      {"a malformed header",
       [&](SignedRequest& r, int64_t&, std::string&) { set_header(r, "Authorization", "AWS4-HMAC-SHA256 Credential=x"); },
       "IncompleteSignatureException"},
      {"host not signed",
       [&](SignedRequest& r, int64_t&, std::string&) {
         std::string a = put.authorization;
         a.replace(a.find(";host"), 5, "");
         set_header(r, "Authorization", a);
       },
       "IncompleteSignatureException"},
      {"a malformed date",
       [&](SignedRequest& r, int64_t&, std::string&) { set_header(r, "X-Amz-Date", "2026-12-08T03:00:00Z"); },
       "IncompleteSignatureException"},
  };
  for (const Case& c : cases) {
    SignedRequest r = Signed(put);
    int64_t now = kSignedAt;
    std::string region = "us-east-1";
    c.change(r, now, region);
    auto result = Authenticate(r, credentials, region, now);
    ASSERT_TRUE(std::holds_alternative<AuthFailure>(result)) << c.name << " was accepted";
    const AuthFailure& failure = std::get<AuthFailure>(result);
    EXPECT_EQ(failure.http_status, 403) << c.name;
    EXPECT_EQ(failure.error_type, c.error_type) << c.name << ": " << failure.message;
    EXPECT_FALSE(failure.message.empty()) << c.name;
  }
  // 14 minutes either way is within the allowed skew.
  for (int64_t skew : {-14 * 60 * 1'000'000LL, 14 * 60 * 1'000'000LL}) {
    EXPECT_TRUE(std::holds_alternative<Caller>(Authenticate(Signed(put), credentials, "us-east-1", kSignedAt + skew)));
  }
}

TEST(CredentialsTest, RefusesMalformedFilesNamingTheMember) {
  struct Case {
    std::string json, expected;
  };
  const std::vector<Case> cases = {
      {"{", "test: not valid JSON"},
      {"[]", "test: must be an object with a 'principals' array"},
      {R"({"principals": [{"accessKeyId": "k", "secretAccessKey": "s", "principal": "p"}]})",
       "test: principals[0].role: is required"},
      {R"({"principals": [{"accessKeyId": "k", "secretAccessKey": "s", "principal": "p", "role": "root"}]})",
       "test: principals[0].role: must be admin, reader or device, got 'root'"},
      {R"({"principals": [{"accessKeyId": "k", "secretAccessKey": "s", "principal": "p", "role": "device"}]})",
       "test: principals[0].thingName: is required for a device"},
      {R"({"principals": [{"accessKeyId": "k", "secretAccessKey": "s", "principal": "p", "role": "admin", "thingName": "t"}]})",
       "test: principals[0].thingName: only a device has one"},
      {R"({"principals": [{"accessKeyId": "k", "secretAccessKey": "", "principal": "p", "role": "admin"}]})",
       "test: principals[0].secretAccessKey: must be a non-empty string"},
      {R"({"principals": [{"accessKeyId": "k", "secretAccessKey": "s", "principal": "p", "role": "admin", "extra": "x"}]})",
       "test: principals[0].extra: not a member of a principal"},
      {R"({"principals": [{"accessKeyId": "k", "secretAccessKey": "s", "principal": "p", "role": "admin"},
                          {"accessKeyId": "k", "secretAccessKey": "t", "principal": "q", "role": "reader"}]})",
       "test: principals[1].accessKeyId: 'k' is given twice"},
  };
  for (const Case& c : cases) {
    auto parsed = Credentials::Parse(c.json, "test");
    ASSERT_FALSE(parsed.ok()) << c.json;
    EXPECT_EQ(parsed.status().message(), c.expected);
  }
}

TEST(CredentialsTest, RefusesAFileOthersMayRead) {
  char dir[] = "/tmp/jobledger-auth-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/credentials.json";
  std::ofstream(path) << R"({"principals": [{"accessKeyId": "k", "secretAccessKey": "s", "principal": "p", "role": "admin"}]})";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loaded = Credentials::Load(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos) << loaded.status().message();
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  loaded = Credentials::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->size(), 1u);
  ASSERT_NE(loaded->Find("k"), nullptr);
  EXPECT_EQ(loaded->Find("k")->principal, "p");
  EXPECT_EQ(loaded->Find("nope"), nullptr);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace jobledger::server
