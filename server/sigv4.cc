#include "server/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace jobledger::server {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string Hex(const unsigned char* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Python's urllib.parse.quote(s, safe='/~'), as botocore encodes the path.
std::string QuotePath(std::string_view s) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || c == '/') {
      out += ch;
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

// botocore's remove_dot_segments: empty and "." segments dropped, ".." pops one.
std::string RemoveDotSegments(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (!segment.empty() && segment != ".") {
      if (segment == "..") {
        if (!out.empty()) out.pop_back();
      } else {
        out.push_back(segment);
      }
    }
    start = end + 1;
  }
  std::string result = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result += '/';
    result += out[i];
  }
  if (path.back() == '/' && !out.empty()) result += '/';
  return result;
}

std::string CanonicalQuery(std::string_view query) {
  if (query.empty()) return "";
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      pairs.emplace_back(std::string(pair), "");
    } else {
      pairs.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    }
    start = end + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out += '&';
    out += pairs[i].first + "=" + pairs[i].second;
  }
  return out;
}

// botocore's _header_value: whitespace runs folded to one space, ends trimmed.
std::string FoldSpaces(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out += c;
    }
  }
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string CredentialScope::ScopeString() const { return date + "/" + region + "/" + service + "/aws4_request"; }

StatusOr<Authorization> ParseAuthorization(std::string_view header) {
  header = Trim(header);
  if (header.substr(0, kAlgorithm.size()) != kAlgorithm || header.size() == kAlgorithm.size() ||
      header[kAlgorithm.size()] != ' ') {
    return InvalidArgumentError("Authorization: must start with 'AWS4-HMAC-SHA256 '");
  }
  std::map<std::string, std::string> parts;
  for (const std::string& item : Split(header.substr(kAlgorithm.size() + 1), ',')) {
    std::string_view part = Trim(item);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) return InvalidArgumentError("Authorization: '" + std::string(part) + "' is not NAME=VALUE");
    parts[std::string(part.substr(0, eq))] = std::string(part.substr(eq + 1));
  }
  for (const char* name : {"Credential", "SignedHeaders", "Signature"}) {
    if (parts.count(name) == 0) return InvalidArgumentError(std::string("Authorization: ") + name + " is missing");
  }
  Authorization auth;
  std::vector<std::string> scope = Split(parts["Credential"], '/');
  if (scope.size() != 5 || scope[4] != "aws4_request" || scope[0].empty() || scope[1].size() != 8 ||
      scope[2].empty() || scope[3].empty()) {
    return InvalidArgumentError("Authorization: Credential must be KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
  }
  auth.scope = {scope[0], scope[1], scope[2], scope[3]};
  auth.signed_headers = Split(parts["SignedHeaders"], ';');
  for (const std::string& h : auth.signed_headers) {
    if (h.empty() || h != Lower(h)) {
      return InvalidArgumentError("Authorization: SignedHeaders must be lower-case names separated by ';'");
    }
  }
  auth.signature = parts["Signature"];
  if (auth.signature.size() != 64 || !IsLowerHex(auth.signature)) {
    return InvalidArgumentError("Authorization: Signature must be 64 lower-case hex digits");
  }
  return auth;
}

std::string CanonicalRequest(const SignedRequest& request, const std::vector<std::string>& signed_headers) {
  const size_t q = request.target.find('?');
  const std::string_view path = std::string_view(request.target).substr(0, q);
  const std::string_view query =
      q == std::string::npos ? std::string_view() : std::string_view(request.target).substr(q + 1);
  std::vector<std::string> names = signed_headers;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string headers;
  for (const std::string& name : names) {
    std::string value;
    bool first = true;
    for (const auto& [k, v] : request.headers) {
      if (Lower(k) != name) continue;
      if (!first) value += ',';
      value += FoldSpaces(v);
      first = false;
    }
    headers += name + ":" + value + "\n";
  }
  std::string joined;
  for (size_t i = 0; i < names.size(); ++i) joined += (i > 0 ? ";" : "") + names[i];
  return request.method + "\n" + QuotePath(RemoveDotSegments(path)) + "\n" + CanonicalQuery(query) + "\n" +
         headers + "\n" + joined + "\n" + Sha256Hex(request.body);
}

std::string StringToSign(std::string_view amz_date, const CredentialScope& scope, std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" + scope.ScopeString() + "\n" +
         Sha256Hex(canonical_request);
}

std::string Sign(std::string_view secret_access_key, const CredentialScope& scope, std::string_view string_to_sign) {
  std::string key = Hmac("AWS4" + std::string(secret_access_key), scope.date);
  key = Hmac(key, scope.region);
  key = Hmac(key, scope.service);
  key = Hmac(key, "aws4_request");
  const std::string mac = Hmac(key, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof digest);
}

std::optional<int64_t> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
  }
  auto number = [&](size_t at, size_t n) { return std::stoi(std::string(s.substr(at, n))); };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(4, 2) - 1;
  tm.tm_mday = number(6, 2);
  tm.tm_hour = number(9, 2);
  tm.tm_min = number(11, 2);
  tm.tm_sec = number(13, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000;
}

}  // namespace jobledger::server
