// Builds the sink the configuration names: stdout, or --exec with the delivery engine.
#pragma once

#include <memory>
#include <string>

#include "cli/config.h"
#include "report/metrics.h"
#include "sinks/sink.h"

namespace batchpipe {

/// Returns null and sets `error` when the sink cannot be set up (e.g. the
/// dead-letter file cannot be opened).
std::unique_ptr<Sink> make_sink(const Config& config, Metrics& metrics, std::string& error);

}  // namespace batchpipe
