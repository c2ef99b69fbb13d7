// How batchpipe's buffers turn into memory, for the --max-buffer budget
// (batch/backlog.h), which counts the memory actually held, not record bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace batchpipe {

/// Allocations of at least this many bytes are mappings of their own (see
/// tune_allocator()): the kernel backs their pages only once written, and
/// gives them back to the system as soon as they are freed.
inline constexpr size_t kMappedBytes = 256 << 10;
inline constexpr size_t kPageBytes = 4096;

/// Makes every allocation of kMappedBytes or more a mapping of its own and
/// keeps it so (glibc otherwise raises the threshold as large blocks are
/// freed, and freed memory then stays with the process). Called once at
/// start-up, before any thread.
void tune_allocator();

/// What a buffer of `capacity` bytes, of which the first `written` were ever
/// written, holds of memory: all of it when small (a heap block, whose
/// pages the allocator touches and shares), else its written pages.
inline uint64_t memory_held(uint64_t capacity, uint64_t written) {
  if (capacity < kMappedBytes) return capacity;
  uint64_t pages = (written + kPageBytes - 1) / kPageBytes;
  uint64_t held = pages * kPageBytes + kPageBytes;  // and the allocator's header page
  return held < capacity ? held : capacity;
}

/// Hands back to the system the whole pages inside [data, data + size) of a
/// buffer whose bytes there are not read again; they read as zeros if they
/// are. A giant record is copied out of its read block this way, a piece at
/// a time, so that it is not held twice.
void release_pages(const char* data, size_t size);

}  // namespace batchpipe
