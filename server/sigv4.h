// AWS Signature Version 4, the server's side: the canonical request and the signature
// of an HTTP request exactly as the AWS SDKs compute them (botocore's SigV4Auth for the
// `iot` and `iot-jobs-data` models: the path as sent, percent-encoded once more except
// '/' and the unreserved characters; the query's pairs as sent, sorted; the signed
// headers lower-cased, trimmed, their inner runs of spaces folded; the body's SHA-256),
// and the verification of a request against a secret key.
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html

#ifndef JOBLEDGER_SERVER_SIGV4_H_
#define JOBLEDGER_SERVER_SIGV4_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobledger/status.h"

namespace jobledger::server {

// What the signature covers of an HTTP request.
struct SignedRequest {
  std::string method;  // "GET"
  std::string target;  // the request-target as sent: "/jobs/fw-1?maxResults=5"
  // Every header as received (names in any case; a repeated name is one header whose
  // values the canonical form joins with ',').
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The credential scope: ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.
struct CredentialScope {
  std::string access_key_id;
  std::string date;     // YYYYMMDD
  std::string region;   // "us-east-1"
  std::string service;  // "execute-api" (the iot model), "iot-jobs-data"

  // "YYYYMMDD/REGION/SERVICE/aws4_request", what the string to sign names.
  std::string ScopeString() const;
};

// The Authorization header's parts.
struct Authorization {
  CredentialScope scope;
  std::vector<std::string> signed_headers;  // lower case, as listed
  std::string signature;                    // 64 lower-case hex digits
};

// Parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...";
// kInvalidArgument naming what is missing or malformed.
StatusOr<Authorization> ParseAuthorization(std::string_view header);

// The canonical request of `request` over `signed_headers` (lower case, sorted).
std::string CanonicalRequest(const SignedRequest& request, const std::vector<std::string>& signed_headers);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical request>".
std::string StringToSign(std::string_view amz_date, const CredentialScope& scope,
                         std::string_view canonical_request);

// The hex HMAC-SHA256 signature of `string_to_sign` with the key derived from
// `secret_access_key` and `scope`.
std::string Sign(std::string_view secret_access_key, const CredentialScope& scope,
                 std::string_view string_to_sign);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Parses an X-Amz-Date value ("20261208T030000Z") into microseconds since the epoch.
std::optional<int64_t> ParseAmzDate(std::string_view amz_date);

// Why a request is refused before it reaches the ledger, as AWS answers it.
struct AuthFailure {
  int http_status = 403;
  std::string error_type;  // "InvalidSignatureException", ...
  std::string message;
};

// The most a request's X-Amz-Date may differ from the server's clock.
inline constexpr int64_t kMaxClockSkewMicros = int64_t{15} * 60 * 1'000'000;

}  // namespace jobledger::server

#endif  // JOBLEDGER_SERVER_SIGV4_H_
