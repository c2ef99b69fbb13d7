#include "spool/segment_plan.h"

#include <algorithm>

#include <fmt/format.h>

namespace batchpipe {

std::string segment_name(uint64_t base) { return fmt::format("{:020}{}", base, kSegmentSuffix); }

std::string spool_refused_path(const std::string& dir) { return dir + "/refused.ndjson"; }

std::optional<uint64_t> parse_segment_name(std::string_view name) {
  if (name.size() != 20 + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  uint64_t value = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

size_t deletable_segments(const std::vector<SegmentSpan>& segments, uint64_t committed, bool keep_last) {
  size_t limit = keep_last && !segments.empty() ? segments.size() - 1 : segments.size();
  size_t n = 0;
  while (n < limit && segments[n].end() <= committed) ++n;
  return n;
}

size_t whole_lines_end(std::string_view tail) {
  size_t nl = tail.rfind('\n');
  return nl == std::string_view::npos ? 0 : nl + 1;
}

uint64_t next_write_offset(const std::vector<SegmentSpan>& segments, uint64_t committed) {
  uint64_t at = committed;
  for (const SegmentSpan& s : segments) at = std::max(at, s.end());
  return at;
}

uint64_t first_read_offset(const std::vector<SegmentSpan>& segments, uint64_t committed) {
  for (const SegmentSpan& s : segments)
    if (s.end() > committed) return std::max(s.base, committed);
  return committed;
}

}  // namespace batchpipe
