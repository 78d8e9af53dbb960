// Who may call the server: the principals of a credentials file, and the check of a
// request's SigV4 signature against them.
//
// The credentials file is JSON:
//   {"principals": [
//     {"accessKeyId": "...", "secretAccessKey": "...", "principal": "user:alice", "role": "admin"},
//     {"accessKeyId": "...", "secretAccessKey": "...", "principal": "thing:sensor-1",
//      "role": "device", "thingName": "sensor-1"}]}
// Roles: admin (everything), reader (reads only), device (the device plane, for its own
// thingName only). The server refuses a file that is malformed, readable or writable by
// others than its owner, or that holds an access key id twice.

#ifndef JOBLEDGER_SERVER_AUTH_H_
#define JOBLEDGER_SERVER_AUTH_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "jobledger/status.h"
#include "server/sigv4.h"

namespace jobledger::server {

enum class Role { kAdmin, kReader, kDevice };

struct Principal {
  std::string access_key_id;
  std::string secret_access_key;
  std::string principal;  // the actor of the events its requests append
  Role role = Role::kReader;
  std::string thing_name;  // kDevice: the thing it is
};

class Credentials {
 public:
  // Reads and checks the file at `path` (see above). kInvalidArgument naming the file,
  // the principal's index and the member; kPermissionDenied for a file others may read.
  static StatusOr<Credentials> Load(const std::string& path);
  // Parses the file's text; `origin` names it in messages.
  static StatusOr<Credentials> Parse(std::string_view json, const std::string& origin);

  // The principal with `access_key_id`, or nullptr.
  const Principal* Find(std::string_view access_key_id) const;
  size_t size() const { return by_key_.size(); }

 private:
  std::map<std::string, Principal, std::less<>> by_key_;
};

// Which service model a request speaks, from the SigV4 signing name.
enum class Plane {
  kControl,  // `iot`: signs as "execute-api"
  kDevice,   // `iot-jobs-data`: signs as "iot-jobs-data"
};

// A request whose signature verified.
struct Caller {
  const Principal* principal = nullptr;
  Plane plane = Plane::kControl;
};

// Verifies `request`'s SigV4 signature: the Authorization header, the X-Amz-Date
// within kMaxClockSkewMicros of `now_micros` and equal in date to the scope, the
// scope's region equal to `region`, a known signing name, a known access key, and the
// signature over the canonical request (host and x-amz-date must be signed). A refusal
// is the status and error name AWS answers with.
std::variant<Caller, AuthFailure> Authenticate(const SignedRequest& request, const Credentials& credentials,
                                               std::string_view region, int64_t now_micros);

}  // namespace jobledger::server

#endif  // JOBLEDGER_SERVER_AUTH_H_
