// The --stats summary: the run's figures for people, at exit.
#pragma once

#include <string>

#include "metrics.h"
#include "units.h"

namespace batchpipe {

/// The --stats summary, one line, without the "batchpipe: " prefix.
std::string format_stats(const Metrics& m, Duration elapsed);

}  // namespace batchpipe
