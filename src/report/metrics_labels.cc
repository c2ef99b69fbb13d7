#include "report/metrics_labels.h"

#include <fmt/format.h>

#include "json/utf8.h"

namespace batchpipe {
namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    Utf8Step step = decode_utf8(s, i);
    if (!step.valid) return false;
    i += step.length;
  }
  return true;
}

}  // namespace

std::optional<MetricsLabel> parse_metrics_label(std::string_view text, std::string& error) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    error = fmt::format("--metrics-label: \"{}\" is not KEY=VALUE (e.g. instance=web1)", text);
    return std::nullopt;
  }
  std::string_view key = text.substr(0, eq), value = text.substr(eq + 1);
  bool name_ok = !key.empty() && name_start(key[0]);
  for (char c : key) name_ok = name_ok && name_char(c);
  if (!name_ok) {
    error = fmt::format("--metrics-label: \"{}\" is not a Prometheus label name: a letter or _, then letters, "
                        "digits or _",
                        key);
    return std::nullopt;
  }
  if (key.substr(0, 2) == "__") {
    error = fmt::format("--metrics-label: \"{}\": names beginning with __ are Prometheus' own", key);
    return std::nullopt;
  }
  if (key == "le" || key == "upstream") {
    error = fmt::format("--metrics-label: \"{}\" is a label batchpipe's own series use; choose another name", key);
    return std::nullopt;
  }
  if (value.empty()) {
    error = fmt::format("--metrics-label: {}= has no value (an empty label is the same as none)", key);
    return std::nullopt;
  }
  if (!valid_utf8(value)) {
    error = fmt::format("--metrics-label: the value of {} is not valid UTF-8", key);
    return std::nullopt;
  }
  return MetricsLabel{std::string(key), std::string(value)};
}

std::string format_metrics_labels(const std::vector<MetricsLabel>& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ',';
    out += key;
    out += "=\"";
    for (char c : value) {
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace batchpipe
