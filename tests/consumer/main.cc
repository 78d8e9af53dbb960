// Built against the installed package: appends one event and verifies the chain.
// Includes the installed headers (run.sh also compiles each one alone), so one that
// includes a header the package does not install fails this build.
#include <cstdio>

#include "jobledger/async.h"
#include "jobledger/clock.h"
#include "jobledger/commands.h"
#include "jobledger/event.h"
#include "jobledger/event_json.h"
#include "jobledger/event_log.h"
#include "jobledger/jobs_projection.h"
#include "jobledger/json.h"
#include "jobledger/ledger.h"
#include "jobledger/projection.h"
#include "jobledger/projection_manager.h"
#include "jobledger/read_models.h"
#include "jobledger/replay.h"
#include "jobledger/rows.h"
#include "jobledger/scheduler.h"
#include "jobledger/status.h"
#include "jobledger/types.h"
#include "jobledger/validation.h"

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
