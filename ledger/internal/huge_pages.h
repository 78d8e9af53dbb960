// Memory for large, short-lived arenas (a rebuild's buffers), in blocks that the
// kernel may back with transparent huge pages.

#ifndef JOBLEDGER_LEDGER_INTERNAL_HUGE_PAGES_H_
#define JOBLEDGER_LEDGER_INTERNAL_HUGE_PAGES_H_

#include <cstddef>
#include <memory_resource>

namespace jobledger {
namespace internal {

// An upstream for std::pmr::monotonic_buffer_resource: a block of at least
// kHugePageBytes is mapped on its own, aligned to 2 MiB and advised as huge-page
// memory (madvise(MADV_HUGEPAGE); the kernel's "madvise" mode, Debian's default,
// honours it), so a buffer of hundreds of MiB costs a page fault per 2 MiB instead of
// per 4 KiB (on a virtual machine, about a tenth of a rebuild's time went to those
// faults). Smaller blocks come from operator new; a failed mapping throws
// std::bad_alloc, as operator new would. Stateless and thread-safe; the one instance
// is HugePageResource().
class HugePageMemoryResource final : public std::pmr::memory_resource {
 public:
  static constexpr size_t kHugePageBytes = size_t{2} << 20;

 private:
  void* do_allocate(size_t bytes, size_t alignment) override;
  void do_deallocate(void* p, size_t bytes, size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }
};

std::pmr::memory_resource* HugePageResource();

}  // namespace internal
}  // namespace jobledger

#endif  // JOBLEDGER_LEDGER_INTERNAL_HUGE_PAGES_H_
