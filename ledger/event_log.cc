#include "jobledger/event_log.h"

#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/rocks_event_log.h"

namespace jobledger {

std::string_view WriterStageName(WriterStage stage) {
  switch (stage) {
    case WriterStage::kDecide: return "decide";
    case WriterStage::kFold: return "fold";
    case WriterStage::kEncode: return "encode";
    case WriterStage::kHash: return "hash";
    case WriterStage::kObservers: return "observers";
    case WriterStage::kWrite: return "write";
    case WriterStage::kAnswer: return "answer";
  }
  return "unknown";
}

Hash EventHash(const Event& event) {
  return internal::ChainHash(event.previous_hash, event.sequence, internal::EncodeEvent(event));
}

StatusOr<std::unique_ptr<EventLog>> EventLog::Open(const EventLogOptions& options,
                                                   std::string_view path, OpenMode mode) {
  return internal::RocksEventLog::Open(options, path, mode);
}

}  // namespace jobledger
