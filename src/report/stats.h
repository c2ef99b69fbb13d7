// The --stats summary, at exit (and on SIGUSR2): a few lines for people, or
// one JSON object for scripts, with the counters of the metrics file.
#pragma once

#include <string>
#include <vector>

#include "report/metrics.h"
#include "base/units.h"

namespace batchpipe {

enum class StatsFormat { None, Human, Json };

/// The summary for people: a few lines, without the "batchpipe: " prefix.
std::vector<std::string> format_stats(const Metrics& m, Duration elapsed);

/// The summary for scripts: one JSON object on one line, its keys the
/// metrics file's counter names without "batchpipe_", plus the buffer's
/// gauges ("buffered_bytes", "buffered_records": 0 at the end, the level
/// now on SIGUSR2) and "seconds".
std::string stats_json(const Metrics& m, Duration elapsed);

/// Prints the summary on stderr in `format` (nothing for None).
void print_stats(const Metrics& m, Duration elapsed, StatsFormat format);

}  // namespace batchpipe
