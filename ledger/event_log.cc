#include "ledger/event_log.h"

#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/rocks_event_log.h"

namespace jobledger {

Hash EventHash(const Event& event) {
  return internal::ChainHash(event.previous_hash, event.sequence, internal::EncodeEvent(event));
}

StatusOr<std::unique_ptr<EventLog>> EventLog::Open(const EventLogOptions& options,
                                                   std::string_view path, OpenMode mode) {
  return internal::RocksEventLog::Open(options, path, mode);
}

}  // namespace jobledger
