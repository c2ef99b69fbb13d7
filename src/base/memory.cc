#include "base/memory.h"

#include <malloc.h>
#include <sys/mman.h>

namespace batchpipe {

void tune_allocator() {
  // A fixed threshold also stops glibc's dynamic one from moving.
  (void)::mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMappedBytes));
}

void release_pages(const char* data, size_t size) {
  auto from = (reinterpret_cast<uintptr_t>(data) + kPageBytes - 1) & ~uintptr_t{kPageBytes - 1};
  auto to = (reinterpret_cast<uintptr_t>(data) + size) & ~uintptr_t{kPageBytes - 1};
  if (to > from) (void)::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
}

}  // namespace batchpipe
