// Times as people and the AWS tools write them: RFC 3339 ("2026-11-27T10:00:00Z",
// fractional seconds, any offset) or epoch seconds ("1764237600.5"), read into and
// written from the microseconds since the epoch every clock and event uses.

#ifndef JOBLEDGER_TIME_TEXT_H_
#define JOBLEDGER_TIME_TEXT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jobledger {

// Microseconds since the epoch; nullopt for anything else (a date that does not
// exist, such as 2026-02-31, included).
std::optional<int64_t> ParseTime(std::string_view text);

// RFC 3339 in UTC with milliseconds: "2026-11-27T10:00:00.000Z".
std::string FormatTime(int64_t micros);

}  // namespace jobledger

#endif  // JOBLEDGER_TIME_TEXT_H_
