// Event codec: Event <-> canonical Cap'n Proto bytes (ledger/schema/events.capnp).
//
// The encoding is Cap'n Proto's canonical form of the `Event` struct: one segment, no
// segment table, so equal events always encode to equal bytes and the hash chain is
// stable. Decoding bounds traversal and nesting, so a hostile byte string costs at
// most kMaxEventBytes of work.

#ifndef JOBLEDGER_LEDGER_INTERNAL_CODEC_H_
#define JOBLEDGER_LEDGER_INTERNAL_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobledger/event.h"
#include "jobledger/status.h"

namespace jobledger::internal {

// The largest encoded event the log accepts or reads. A valid event is far smaller
// (100 targets of 2048 bytes, a 32 KiB document and ten 1 KiB details values fit in
// about 300 KiB).
inline constexpr size_t kMaxEventBytes = 1 << 20;
// What a reader may traverse beyond kMaxEventBytes (Cap'n Proto's accounting).
inline constexpr size_t kTraversalSlackWords = 8;
// Deepest nesting of a valid event is 5 (Event > body > rollout > rate > criteria).
inline constexpr int kMaxNestingDepth = 16;

// Encodes `event` canonically. Requires the body not to be UnknownEvent.
std::string EncodeEvent(const Event& event);

// Decodes bytes stored under `sequence`. Returns kDataLoss naming the sequence if the
// bytes are not a valid canonical event, or if the envelope's sequence differs from
// `sequence`. A body member this build does not know decodes to UnknownEvent.
StatusOr<Event> DecodeEvent(std::string_view bytes, uint64_t sequence);

// Reads only the envelope's previousHash (for verification), with the same checks
// as DecodeEvent for the envelope.
StatusOr<Hash> DecodePreviousHash(std::string_view bytes, uint64_t sequence);

// Reads previousHash straight from where the canonical layout puts it (the root
// struct's third pointer), checking only the pointers it follows and the envelope's
// sequence: no canonical check, no copy. For bytes whose chain hash has already been
// checked (the hash proves they are what the writer encoded); std::nullopt when the
// bytes are not laid out so, and the caller falls back to DecodePreviousHash for the
// reason.
std::optional<Hash> PreviousHashAt(std::string_view bytes, uint64_t sequence);

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_CODEC_H_
