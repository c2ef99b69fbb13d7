// Run counters and the --stats summary.
#pragma once

#include <cstdint>
#include <string>

#include "units.h"

namespace batchpipe {

struct Stats {
  uint64_t lines = 0;         ///< input lines, blank and invalid included
  uint64_t input_bytes = 0;
  uint64_t records = 0;       ///< records accepted for delivery
  uint64_t invalid = 0;       ///< lines rejected
  uint64_t batches = 0;       ///< batches handed to the sink
  uint64_t output_bytes = 0;  ///< encoded bytes handed to the sink
  uint64_t undelivered = 0;   ///< records the sink could not deliver
  // Delivery sinks (--exec, --post) only:
  bool delivery = false;      ///< whether the fields below mean anything
  uint64_t delivered_batches = 0;
  uint64_t delivered_records = 0;
  uint64_t retries = 0;       ///< attempts after the first
  uint64_t failed_batches = 0;
  uint64_t dead_lettered = 0; ///< records written to the dead-letter file
};

/// The --stats summary, one line, without the "batchpipe: " prefix.
std::string format_stats(const Stats& s, Duration elapsed);

}  // namespace batchpipe
