// The hash chain. Each event's hash commits to its predecessor's hash, its own
// sequence number and its canonical bytes:
//
//   hash(n) = SHA-256( "jobledger.event.v1" 0x00 | hash(n-1) | n:be64 | len:be64 | bytes )
//   hash(0) = 32 zero bytes
//
// The domain tag keeps these hashes from colliding with any other SHA-256 use; the
// explicit length makes the encoding unambiguous. The head (sequence, hash) is the
// digest of the whole log: keep it elsewhere, and a later Verify against it detects a
// rewritten-and-rechained tail or a truncation.

#ifndef JOBLEDGER_LEDGER_INTERNAL_HASH_CHAIN_H_
#define JOBLEDGER_LEDGER_INTERNAL_HASH_CHAIN_H_

#include <cstdint>
#include <string_view>

#include "jobledger/event.h"

namespace jobledger::internal {

inline constexpr std::string_view kChainDomainTag{"jobledger.event.v1\0", 19};

Hash ChainHash(const Hash& previous, uint64_t sequence, std::string_view canonical_bytes);

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_HASH_CHAIN_H_
