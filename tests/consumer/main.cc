// Built against the installed package: appends one event and verifies the chain.
#include <cstdio>

#include "ledger/event_log.h"

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
