// The job configurations (presigned URL, rollout, abort, timeout) in the wire
// encoding of ledger/wire.h: one definition shared by the ledger's write-side state
// and the projections' rows, so the two cannot drift apart.

#ifndef JOBLEDGER_LEDGER_CONFIG_WIRE_H_
#define JOBLEDGER_LEDGER_CONFIG_WIRE_H_

#include <optional>

#include "jobledger/event.h"
#include "ledger/wire.h"

namespace jobledger {

struct JobConfigs {
  std::optional<PresignedUrlConfig> presigned_url_config;
  std::optional<RolloutConfig> rollout_config;
  std::optional<AbortConfig> abort_config;
  std::optional<TimeoutConfig> timeout_config;
};

void WriteJobConfigs(WireWriter& w, const JobConfigs& configs);
// Check r.ok() afterwards.
JobConfigs ReadJobConfigs(WireReader& r);

// Optional scalars, shared by every row format.
void WriteOptI64(WireWriter& w, const std::optional<int64_t>& v);
std::optional<int64_t> ReadOptI64(WireReader& r);
void WriteOptStr(WireWriter& w, const std::optional<std::string>& v);
std::optional<std::string> ReadOptStr(WireReader& r);
// A statusDetails map, in its order.
void WriteDetails(WireWriter& w, const DetailsMap& details);
DetailsMap ReadDetails(WireReader& r);

}  // namespace jobledger

#endif  // JOBLEDGER_LEDGER_CONFIG_WIRE_H_
