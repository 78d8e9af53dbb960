// Built against the installed package: appends one event and verifies the chain.
// Includes every installed header, so one that includes a header the package does not
// install fails this build.
#include <cstdio>

#include "ledger/async.h"
#include "ledger/clock.h"
#include "ledger/commands.h"
#include "ledger/event.h"
#include "ledger/event_log.h"
#include "ledger/ledger.h"
#include "ledger/rows.h"
#include "ledger/scheduler.h"
#include "ledger/status.h"
#include "ledger/validation.h"
#include "projections/jobs_projection.h"
#include "projections/json.h"
#include "projections/projection.h"
#include "projections/projection_manager.h"
#include "projections/read_models.h"
#include "projections/types.h"
#include "replay/event_json.h"
#include "replay/replay.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto log = jobledger::EventLog::Open(jobledger::EventLogOptions{}, argv[1]);
  if (!log.ok()) return std::fprintf(stderr, "%s\n", log.status().ToString().c_str()), 1;
  jobledger::AppendRequest request;
  request.events.push_back({"consumer", jobledger::CauseRef::None(),
                            jobledger::ThingAddedToGroup{"thing-1", "group-1"}});
  auto appended = (*log)->Append(request);
  auto verified = (*log)->Verify();
  bool ok = appended.ok() && verified.ok() && verified->ok() && (*log)->head().sequence == 1;
  std::printf("consumer: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
