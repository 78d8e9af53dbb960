#include "server/auth.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace jobledger::server {
namespace {

using Json = nlohmann::json;

AuthFailure Refuse(int status, std::string type, std::string message) {
  return AuthFailure{status, std::move(type), std::move(message)};
}

std::string HeaderValue(const SignedRequest& request, std::string_view name) {
  for (const auto& [k, v] : request.headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return "";
}

}  // namespace

StatusOr<Credentials> Credentials::Load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return InvalidArgumentError("--credentials: cannot read '" + path + "'");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Status(StatusCode::kPermissionDenied,
                  "--credentials: '" + path + "' holds secret keys and must be private to its owner (chmod 600)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("--credentials: cannot read '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), "--credentials '" + path + "'");
}

StatusOr<Credentials> Credentials::Parse(std::string_view text, const std::string& origin) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(origin + ": not valid JSON");
  if (!j.is_object() || !j.contains("principals") || !j["principals"].is_array()) {
    return InvalidArgumentError(origin + ": must be an object with a 'principals' array");
  }
  Credentials out;
  size_t i = 0;
  for (const Json& p : j["principals"]) {
    const std::string where = origin + ": principals[" + std::to_string(i++) + "]";
    if (!p.is_object()) return InvalidArgumentError(where + ": must be an object");
    for (auto it = p.begin(); it != p.end(); ++it) {
      static const char* kMembers[] = {"accessKeyId", "secretAccessKey", "principal", "role", "thingName"};
      if (std::find_if(std::begin(kMembers), std::end(kMembers), [&](const char* m) { return it.key() == m; }) ==
          std::end(kMembers)) {
        return InvalidArgumentError(where + "." + it.key() + ": not a member of a principal");
      }
      if (!it.value().is_string() || it.value().get<std::string>().empty()) {
        return InvalidArgumentError(where + "." + it.key() + ": must be a non-empty string");
      }
    }
    for (const char* required : {"accessKeyId", "secretAccessKey", "principal", "role"}) {
      if (!p.contains(required)) return InvalidArgumentError(where + "." + required + ": is required");
    }
    Principal principal;
    principal.access_key_id = p["accessKeyId"];
    principal.secret_access_key = p["secretAccessKey"];
    principal.principal = p["principal"];
    const std::string role = p["role"];
    if (role == "admin") {
      principal.role = Role::kAdmin;
    } else if (role == "reader") {
      principal.role = Role::kReader;
    } else if (role == "device") {
      principal.role = Role::kDevice;
    } else {
      return InvalidArgumentError(where + ".role: must be admin, reader or device, got '" + role + "'");
    }
    if (principal.role == Role::kDevice) {
      if (!p.contains("thingName")) return InvalidArgumentError(where + ".thingName: is required for a device");
      principal.thing_name = p["thingName"];
    } else if (p.contains("thingName")) {
      return InvalidArgumentError(where + ".thingName: only a device has one");
    }
    if (out.by_key_.count(principal.access_key_id) > 0) {
      return InvalidArgumentError(where + ".accessKeyId: '" + principal.access_key_id + "' is given twice");
    }
    out.by_key_.emplace(principal.access_key_id, std::move(principal));
  }
  return out;
}

const Principal* Credentials::Find(std::string_view access_key_id) const {
  auto it = by_key_.find(access_key_id);
  return it == by_key_.end() ? nullptr : &it->second;
}

std::variant<Caller, AuthFailure> Authenticate(const SignedRequest& request, const Credentials& credentials,
                                               std::string_view region, int64_t now_micros) {
  const std::string header = HeaderValue(request, "authorization");
  if (header.empty()) return Refuse(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
  StatusOr<Authorization> auth = ParseAuthorization(header);
  if (!auth.ok()) return Refuse(403, "IncompleteSignatureException", auth.status().message());
  const std::string amz_date = HeaderValue(request, "x-amz-date");
  std::optional<int64_t> signed_at = ParseAmzDate(amz_date);
  if (!signed_at) {
    return Refuse(403, "IncompleteSignatureException", "X-Amz-Date: must be YYYYMMDD'T'HHMMSS'Z', got '" + amz_date + "'");
  }
  for (const char* required : {"host", "x-amz-date"}) {
    if (std::find(auth->signed_headers.begin(), auth->signed_headers.end(), required) == auth->signed_headers.end()) {
      return Refuse(403, "IncompleteSignatureException", std::string("SignedHeaders: must include ") + required);
    }
  }
  if (auth->scope.date != amz_date.substr(0, 8)) {
    return Refuse(403, "InvalidSignatureException",
                  "Date in Credential scope does not match YYYYMMDD from X-Amz-Date: " + auth->scope.date);
  }
  const int64_t skew = *signed_at - now_micros;
  if (skew > kMaxClockSkewMicros || -skew > kMaxClockSkewMicros) {
    return Refuse(403, "InvalidSignatureException",
                  "Signature expired or not yet valid: X-Amz-Date " + amz_date +
                      " is more than 15 minutes from the server's time");
  }
  if (auth->scope.region != region) {
    return Refuse(403, "InvalidSignatureException",
                  "Credential should be scoped to a valid region: this ledger is '" + std::string(region) + "', not '" +
                      auth->scope.region + "'");
  }
  Caller caller;
  if (auth->scope.service == "execute-api") {
    caller.plane = Plane::kControl;
  } else if (auth->scope.service == "iot-jobs-data") {
    caller.plane = Plane::kDevice;
  } else {
    return Refuse(403, "InvalidSignatureException",
                  "Credential should be scoped to correct service: 'execute-api' (iot) or 'iot-jobs-data', not '" +
                      auth->scope.service + "'");
  }
  caller.principal = credentials.Find(auth->scope.access_key_id);
  if (caller.principal == nullptr) {
    return Refuse(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
  }
  const std::string expected =
      Sign(caller.principal->secret_access_key, auth->scope,
           StringToSign(amz_date, auth->scope, CanonicalRequest(request, auth->signed_headers)));
  if (CRYPTO_memcmp(expected.data(), auth->signature.data(), expected.size()) != 0) {
    return Refuse(403, "InvalidSignatureException",
                  "The request signature we calculated does not match the signature you provided. Check your AWS "
                  "Secret Access Key and signing method.");
  }
  return caller;
}

}  // namespace jobledger::server
