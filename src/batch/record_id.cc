#include "batch/record_id.h"

#include <sys/random.h>
#include <unistd.h>

#include <chrono>

namespace batchpipe {
namespace {

/// SplitMix64's finalizer: spreads a key over all 64 bits.
uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

RecordSources run_record_sources() {
  uint64_t run = 0;
  if (::getrandom(&run, sizeof run, 0) != sizeof run)
    run = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
          (static_cast<uint64_t>(::getpid()) << 32);
  return [run](uint32_t input) { return mix(run + mix(input)); };
}

}  // namespace batchpipe
