#include "ledger/test_hooks.h"

#include <atomic>

namespace jobledger::testing {
namespace {
std::atomic<CrashHook> g_hook{nullptr};
}  // namespace

void SetCrashHook(CrashHook hook) { g_hook.store(hook, std::memory_order_release); }

void CrashPoint(const char* point) {
  CrashHook hook = g_hook.load(std::memory_order_acquire);
  if (hook != nullptr) hook(point);
}

}  // namespace jobledger::testing
