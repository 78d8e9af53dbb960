// A Ledger, its "jobs" projection (inline) and the read models over them, opened
// together and destroyed in the right order: what most tests and fuzzers drive.
// No GoogleTest here, so fuzz targets link it too.

#ifndef JOBLEDGER_TESTS_SUPPORT_LEDGER_STACK_H_
#define JOBLEDGER_TESTS_SUPPORT_LEDGER_STACK_H_

#include <memory>
#include <string>

#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"
#include "jobledger/read_models.h"

namespace jobledger::testing {

struct LedgerStack {
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<ProjectionManager> projections;
  std::unique_ptr<ReadModels> reads;

  // Opens (creating) the ledger at `path` to write; the read models answer "now" from
  // `options.clock`.
  static StatusOr<std::unique_ptr<LedgerStack>> Open(const LedgerOptions& options, const std::string& path);
  ~LedgerStack();
};

}  // namespace jobledger::testing

#endif  // JOBLEDGER_TESTS_SUPPORT_LEDGER_STACK_H_
