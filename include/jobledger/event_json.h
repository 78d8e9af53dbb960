// Events as JSON: the export format (one JSON object per line) and what `history`
// and `tail` print. The format is documented in doc/export-format.md and does not
// depend on this code to read: every envelope field, the body with its schema field
// names in camelCase, and the event's chain hash.
//
//   {"sequence": 7, "recordedAt": 1764237600000000, "clampedFrom": 0,
//    "actor": "user:alice", "cause": 0, "requestId": "req-1",
//    "previousHash": "<64 hex>", "hash": "<64 hex>",
//    "type": "ExecutionStatusChanged",
//    "body": {"jobId": "j", "thingName": "t", "executionNumber": 1,
//             "from": "QUEUED", "to": "IN_PROGRESS", "versionNumber": 2,
//             "statusDetails": {"progress": "10%"}}}
//
// Absent optional members are omitted. Times are integer microseconds since the epoch.

#ifndef JOBLEDGER_EVENT_JSON_H_
#define JOBLEDGER_EVENT_JSON_H_

#include <string>
#include <string_view>

#include "jobledger/event.h"
#include "jobledger/status.h"

namespace jobledger {

// One line (no trailing newline) for `event`, whose chain hash is `hash`.
std::string EventToJsonLine(const Event& event, const Hash& hash);

struct ParsedEvent {
  Event event;
  Hash hash{};
};

// Parses one line. kInvalidArgument naming the member and the rule on anything that
// is not a well-formed event of a known type.
StatusOr<ParsedEvent> EventFromJsonLine(std::string_view line);

}  // namespace jobledger

#endif  // JOBLEDGER_EVENT_JSON_H_
