// The AWS IoT Jobs REST API over a ledger: authenticates each request (SigV4, the
// principals file), authorizes it by role, routes it (server/routes.h), reads its
// inputs strictly (server/wire_input.h), runs it (writes through the ledger's
// asynchronous entry points, so concurrent requests share group commits; reads on the
// server's threads, as of a past point under /at-seq/ or /as-of/) and answers with the
// JSON the `jobledger` CLI prints, or the model's error: its HTTP status, the
// x-amzn-ErrorType header and {"message": ...}.

#ifndef JOBLEDGER_SERVER_SERVICE_H_
#define JOBLEDGER_SERVER_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "jobledger/clock.h"
#include "jobledger/ledger.h"
#include "jobledger/read_models.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/metrics.h"

namespace jobledger::server {

class Service {
 public:
  // `wall_clock` is the clock SigV4 dates are checked against (the system clock
  // outside tests), whatever the ledger's own clock is.
  Service(Ledger& ledger, ReadModels& reads, const Credentials& credentials, const Clock& wall_clock)
      : ledger_(ledger), reads_(reads), credentials_(credentials), wall_clock_(wall_clock) {}

  // The HttpServer handler. `GET /ping` ({"status": "ok", "headSequence": N}) and
  // `GET /metrics` (server/metrics.h) are answered unsigned, for probes and scrapers.
  void Handle(HttpRequest request, Respond respond);

 private:
  Ledger& ledger_;
  ReadModels& reads_;
  const Credentials& credentials_;
  const Clock& wall_clock_;
  Metrics metrics_;
};

// The error answer for a rejection or failure on `plane`: the model's status and
// exception name (InternalFailureException, 500, for a failure that is no rejection;
// ServiceUnavailableException, 503, on the device plane, which declares no other).
HttpResponse ErrorResponse(Plane plane, const Status& status);

}  // namespace jobledger::server

#endif  // JOBLEDGER_SERVER_SERVICE_H_
