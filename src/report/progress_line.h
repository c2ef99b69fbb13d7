// What the --progress line says: pure formatting of the run's figures.
#pragma once

#include <cstdint>
#include <string>

#include "report/metrics.h"

namespace batchpipe {

/// The --progress line, without "batchpipe: " and without a newline:
/// records in, then with --exec/--post records delivered, batches in flight
/// and retrying, records dead-lettered (with the stdout sink, batches out),
/// then records dropped, the input rate and the buffer's fill. `rate` is
/// records per second; `buffer_budget` is the buffer's limit in bytes, 0 if
/// none, in which case the fill is shown in bytes and records only.
std::string progress_line(const Metrics& m, double rate, uint64_t buffer_budget = 0);

}  // namespace batchpipe
