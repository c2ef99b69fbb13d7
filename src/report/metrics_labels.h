// --metrics-label KEY=VALUE: labels put on every series of --metrics-file, so
// that several batchpipes can share one node_exporter textfile-collector
// folder (a collector refuses the same series from two files). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace batchpipe {

using MetricsLabel = std::pair<std::string, std::string>;

/// Parses "KEY=VALUE". KEY must be a Prometheus label name
/// ([a-zA-Z_][a-zA-Z0-9_]*, not beginning with "__", which Prometheus keeps
/// for itself, and not "le" or "upstream", which batchpipe's own series use);
/// VALUE must not be empty and must be valid UTF-8. Nothing, with `error`
/// saying what to fix, otherwise.
std::optional<MetricsLabel> parse_metrics_label(std::string_view text, std::string& error);

/// The labels as they go between a series' braces, in the order given:
/// `job="web",host="a"`, with \, " and newline escaped as the exposition
/// format asks. "" for none.
std::string format_metrics_labels(const std::vector<MetricsLabel>& labels);

}  // namespace batchpipe
