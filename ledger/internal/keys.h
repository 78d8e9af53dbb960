// The on-disk key grammar of a ledger. Every key jobledger writes starts with one
// KeyPrefix byte naming its kind, so a key read back out of context (ldb, sst_dump,
// a corruption report) says what it is. Integers are fixed-width big-endian, so
// RocksDB's bytewise order is numeric order. Strings inside keys are length-prefixed
// (one byte, every identifier is at most 255 bytes), so the keys of "a" never
// interleave with those of "ab".
//
// Column family  Key                                              Value
// ------------   -----------------------------------------------  ---------------------------
// events         'e' seq:be64                                     hash:32 | canonical event
// job_stream     'j' len:u8 jobId seq:be64                        kind:u8
// thing_stream   't' len:u8 thingName seq:be64                    kind:u8
// time_index     'r' recordedAt:be64 (sign-flipped) seq:be64      (empty)
// requests       'q' len:u8 requestId                             first:be64 last:be64 [answer]
// meta           'm' "format"                                     version:be32
// meta           'm' "head"                                       seq:be64 hash:32 recordedAt:be64
// meta           'm' "setting." name                              value (EventLog::PutSetting)
//
//
// The ledger's write-side state lives in the family "ledger.state" (see state.h):
//
// ledger.state   'J' len:u8 jobId                                 JobState
// ledger.state   'X' len jobId len thingName execNumber:be64      ExecState
// ledger.state   'P' len thingName queuedSeq:be64 len jobId       execNumber:be64 (pending)
// ledger.state   'D' deadline:be64(flipped) len jobId len thing num:be64   (empty) timer
// ledger.state   'R' due:be64(flipped) len jobId                  (empty) rollout window due
// ledger.state   'Q' len jobId order:be64                         PlannedExecution
// ledger.state   'W' len thingName len jobId order:be64           (empty) planned, by thing
// ledger.state   'A' len groupName len jobId                      (empty) job targets group
// ledger.state   'G' len groupName len thingName                  (empty) membership
// ledger.state   'H' len thingName len groupName                  (empty) membership, by thing
// ledger.state   'K' len thingName                                (empty) known thing
// ledger.state   'F' len jobId                                    (empty) fan-out or cancel unfinished
//
// `hash` in the events family is the event's own chain hash (see hash_chain.h). An
// event is indexed in job_stream when it names a job, and in thing_stream when it
// names a thing; both when it names both (an execution event).

#ifndef JOBLEDGER_LEDGER_INTERNAL_KEYS_H_
#define JOBLEDGER_LEDGER_INTERNAL_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jobledger::internal {

enum class KeyPrefix : char {
  kEvent = 'e',
  kJobStream = 'j',
  kThingStream = 't',
  kTimeIndex = 'r',
  kRequest = 'q',
  kMeta = 'm',
  // ledger.state
  kJob = 'J',
  kExecution = 'X',
  kPending = 'P',
  kDeadline = 'D',
  kRolloutDue = 'R',
  kPlanned = 'Q',
  kPlannedByThing = 'W',
  kGroupTarget = 'A',
  kGroupMember = 'G',
  kThingGroup = 'H',
  kThing = 'K',
  kFanOut = 'F',
};

constexpr KeyPrefix kAllPrefixes[] = {
    KeyPrefix::kEvent,      KeyPrefix::kJobStream,      KeyPrefix::kThingStream,
    KeyPrefix::kTimeIndex,  KeyPrefix::kRequest,        KeyPrefix::kMeta,
    KeyPrefix::kJob,        KeyPrefix::kExecution,      KeyPrefix::kPending,
    KeyPrefix::kDeadline,   KeyPrefix::kRolloutDue,     KeyPrefix::kPlanned,
    KeyPrefix::kPlannedByThing, KeyPrefix::kGroupTarget, KeyPrefix::kGroupMember,
    KeyPrefix::kThingGroup, KeyPrefix::kThing,          KeyPrefix::kFanOut};

constexpr bool PrefixesDistinct() {
  constexpr size_t n = sizeof(kAllPrefixes) / sizeof(kAllPrefixes[0]);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j)
      if (kAllPrefixes[i] == kAllPrefixes[j]) return false;
  return true;
}
static_assert(PrefixesDistinct(), "key prefixes must differ");

// Column family names.
inline constexpr std::string_view kEventsFamily = "events";
inline constexpr std::string_view kJobStreamFamily = "job_stream";
inline constexpr std::string_view kThingStreamFamily = "thing_stream";
inline constexpr std::string_view kTimeIndexFamily = "time_index";
inline constexpr std::string_view kRequestsFamily = "requests";
inline constexpr std::string_view kMetaFamily = "meta";

// The on-disk format this build reads and writes. Bumped on any incompatible change
// to the grammar above or to events.capnp's evolution rules.
inline constexpr uint32_t kFormatVersion = 1;

void PutBigEndian64(std::string* out, uint64_t v);
void PutBigEndian32(std::string* out, uint32_t v);
uint64_t GetBigEndian64(std::string_view in);  // requires in.size() >= 8
uint32_t GetBigEndian32(std::string_view in);  // requires in.size() >= 4

std::string EventKey(uint64_t sequence);
// nullopt if `key` is not a well-formed event key.
std::optional<uint64_t> ParseEventKey(std::string_view key);

// Stream keys. `id` must be 1..255 bytes.
std::string StreamPrefix(KeyPrefix prefix, std::string_view id);
std::string StreamKey(KeyPrefix prefix, std::string_view id, uint64_t sequence);
// The sequence at the end of a stream key; nullopt if malformed.
std::optional<uint64_t> ParseStreamKeySequence(std::string_view key);

// Appends a length-prefixed id (1..255 bytes) to a key.
void PutId(std::string* key, std::string_view id);
// Reads a length-prefixed id at `*pos`, advancing it; nullopt if malformed.
std::optional<std::string_view> GetId(std::string_view key, size_t* pos);
// Appends a signed time so that bytewise order is numeric order.
void PutTime(std::string* key, int64_t micros);
int64_t GetTime(std::string_view in);  // requires in.size() >= 8

// Times are signed; flipping the sign bit makes bytewise order numeric order.
std::string TimeKey(int64_t recorded_at_micros, uint64_t sequence);
struct TimeKeyParts {
  int64_t recorded_at_micros;
  uint64_t sequence;
};
std::optional<TimeKeyParts> ParseTimeKey(std::string_view key);

std::string RequestKey(std::string_view request_id);

// A request record's fixed part (first, last); the answer, if any, follows.
inline constexpr size_t kRequestRecordBytes = 16;

// The longest id a key holds (its length is one byte).
inline constexpr size_t kMaxKeyIdBytes = 255;

std::string MetaKey(std::string_view name);
inline constexpr std::string_view kFormatMetaName = "format";
inline constexpr std::string_view kHeadMetaName = "head";
// EventLog::GetSetting/PutSetting: MetaKey(kSettingMetaPrefix + name).
inline constexpr std::string_view kSettingMetaPrefix = "setting.";

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_KEYS_H_
