// The run's figures in the Prometheus text exposition format (version 0.0.4),
// as node_exporter's textfile collector reads them.
#pragma once

#include <string>
#include <string_view>

#include "report/metrics.h"

namespace batchpipe {

/// Every metric of `m`, with # HELP and # TYPE lines, in a fixed order.
/// `up` is batchpipe_up's value: true while the run goes on, false in the
/// last write at exit. The delivery families (attempts, retries, delivered,
/// failed, dead-lettered, in flight, the attempt histogram) only appear when
/// m.delivery is set: with the stdout sink they would read 0 while
/// everything is in fact written out. `labels` (--metrics-label, as
/// format_metrics_labels() writes them) go on every series, first.
std::string prometheus_text(const Metrics& m, bool up, std::string_view labels = {});

}  // namespace batchpipe
