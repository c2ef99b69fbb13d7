#include "batch/record_id.h"

#include <sys/random.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

namespace batchpipe {
namespace {

/// SplitMix64's finalizer: spreads a key over all 64 bits.
uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t file_source(uint64_t device, uint64_t inode, uint64_t fingerprint, uint64_t fingerprint_bytes) {
  return mix(mix(mix(mix(device) + inode) + fingerprint) + fingerprint_bytes);
}

uint64_t random_run_key() {
  uint64_t run = 0;
  if (::getrandom(&run, sizeof run, 0) != sizeof run)
    run = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
          (static_cast<uint64_t>(::getpid()) << 32);
  return run;
}

uint64_t pipe_source(uint64_t run, uint32_t input) { return mix(run + mix(input)); }

std::string positional_batch_id(uint64_t source, uint64_t first_offset, uint64_t last_end) {
  return fmt::format("{:016x}-{:x}-{:x}", source, first_offset, last_end);
}

}  // namespace batchpipe
