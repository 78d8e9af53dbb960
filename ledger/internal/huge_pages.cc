#include "ledger/internal/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace jobledger {
namespace internal {
namespace {

// A mapped block starts, on a 2 MiB boundary, with this header (the mapping to
// unmap), and the caller's bytes follow it.
struct MappedBlock {
  void* base;
  size_t length;
};
constexpr size_t kHeader = 64;  // a cache line, more than any alignment asked of a pmr arena

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

void* HugePageMemoryResource::do_allocate(size_t bytes, size_t alignment) {
  if (bytes < kHugePageBytes || alignment > kHeader) {
    return ::operator new(bytes, std::align_val_t(alignment));
  }
  // One huge page more than asked, to align the start of the block.
  const size_t length = RoundUp(bytes + kHeader, kHugePageBytes) + kHugePageBytes;
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = RoundUp(reinterpret_cast<uintptr_t>(base), kHugePageBytes);
  // Advice only: refused, the block is ordinary pages.
  madvise(reinterpret_cast<void*>(start), length - (start - reinterpret_cast<uintptr_t>(base)),
          MADV_HUGEPAGE);
  auto* header = reinterpret_cast<MappedBlock*>(start);
  header->base = base;
  header->length = length;
  return reinterpret_cast<void*>(start + kHeader);
}

void HugePageMemoryResource::do_deallocate(void* p, size_t bytes, size_t alignment) {
  if (bytes < kHugePageBytes || alignment > kHeader) {
    ::operator delete(p, std::align_val_t(alignment));
    return;
  }
  const auto* header = reinterpret_cast<const MappedBlock*>(static_cast<char*>(p) - kHeader);
  munmap(header->base, header->length);
}

std::pmr::memory_resource* HugePageResource() {
  static HugePageMemoryResource resource;
  return &resource;
}

}  // namespace internal
}  // namespace jobledger
