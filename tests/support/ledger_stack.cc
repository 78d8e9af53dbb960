#include "tests/support/ledger_stack.h"

#include <utility>
#include <vector>

#include "jobledger/jobs_projection.h"

namespace jobledger::testing {

StatusOr<std::unique_ptr<LedgerStack>> LedgerStack::Open(const LedgerOptions& options, const std::string& path) {
  auto stack = std::make_unique<LedgerStack>();
  JOBLEDGER_ASSIGN_OR_RETURN(stack->ledger, Ledger::Open(options, path));
  std::vector<ProjectionManager::Entry> entries;
  entries.push_back({std::make_unique<JobsProjection>(), ProjectionMode::kInline});
  JOBLEDGER_ASSIGN_OR_RETURN(stack->projections, ProjectionManager::Open(stack->ledger->log(), std::move(entries)));
  stack->reads = std::make_unique<ReadModels>(stack->ledger->log(), *stack->projections, stack->ledger->context(),
                                              options.clock);
  return stack;
}

LedgerStack::~LedgerStack() {
  reads.reset();
  projections.reset();
  ledger.reset();
}

}  // namespace jobledger::testing
