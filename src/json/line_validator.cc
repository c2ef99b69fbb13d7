#include "json/line_validator.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "json/json_check.h"

namespace batchpipe {
namespace {

/// parse_many's largest window: documents larger than this are checked line by line.
constexpr size_t kWindow = 1 << 20;
/// The structural path's window: small enough that its first pass and the
/// walk after it find the bytes still in the core's cache.
constexpr size_t kStructuralWindow = 64 << 10;
/// Its smallest window, used where errors come close together.
constexpr size_t kMinWindow = 16 << 10;

/// When the fast path stops at its very first line (scalars, or errors in a
/// row), this many lines go one by one before it is tried again; doubled at
/// each such stop so that a block full of them costs few restarts.
constexpr size_t kFirstStretch = 16;

/// simdjson refusals that check_json judges again: numbers beyond double
/// range, and depth (simdjson counts a scalar inside 1024 arrays as 1025 deep).
bool check_json_decides(simdjson::error_code e) {
  return e == simdjson::NUMBER_ERROR || e == simdjson::NUMBER_OUT_OF_RANGE || e == simdjson::DEPTH_ERROR;
}

}  // namespace

LineValidator::LineValidator(bool threaded) : structural_(kStructuralWindow), threaded_(threaded) {}

void LineValidator::validate(const char* data, size_t size, std::span<const LineSpan> lines,
                             std::vector<LineProblem>& problems) {
  assert(lines.empty() || lines.back().offset + lines.back().size <= size);
  (void)size;
  size_t i = 0;
  while (i < lines.size()) {
    // A window: the lines that fit in kStructuralWindow bytes from line i (at least line i).
    size_t j = i + 1;
    while (j < lines.size() && lines[j].offset + lines[j].size - lines[i].offset <= kStructuralWindow) ++j;
    std::span<const LineSpan> window = lines.subspan(i, j - i);
    if (structural_.confirm(data, window, confirmed_)) {
      for (size_t k = 0; k < window.size(); ++k) {
        if (confirmed_[k]) continue;
        if (auto reason = check_padded(data + window[k].offset, window[k].size))
          problems.push_back({i + k, std::move(*reason)});
      }
    } else {
      validate_parsing(data, window, i, problems);
    }
    i = j;
  }
}

void LineValidator::validate_parsing(const char* data, std::span<const LineSpan> lines, size_t first_index,
                                     std::vector<LineProblem>& problems) {
  // A stop wastes the first pass over the rest of the window, so the window
  // follows the distance between stops: about twice the bytes last confirmed.
  size_t window = kWindow;
  size_t stretch = kFirstStretch;
  size_t i = 0;
  while (i < lines.size()) {
    size_t start = i;
    i += confirm_many(data, lines, i, window);
    if (i == lines.size()) break;
    size_t slow = 1;  // the line the fast path stopped at
    if (i == start) {
      slow = stretch;
      stretch *= 2;
    } else {
      stretch = kFirstStretch;
      window = std::clamp<size_t>(2 * (lines[i].offset - lines[start].offset), kMinWindow, kWindow);
    }
    for (size_t end = std::min(lines.size(), i + slow); i < end; ++i) {
      if (auto reason = check_padded(data + lines[i].offset, lines[i].size))
        problems.push_back({first_index + i, std::move(*reason)});
    }
  }
}

size_t LineValidator::confirm_many(const char* data, std::span<const LineSpan> lines, size_t first, size_t window) {
  const char* begin = data + lines[first].offset;
  size_t len = lines.back().offset + lines.back().size - lines[first].offset;
  simdjson::dom::document_stream stream;
  // A call spanning several windows runs the next window's first pass on a
  // thread of simdjson's own, which pays off for full windows; the small
  // windows used between errors would only start threads and parsers.
  stream_parser_.threaded = threaded_ && window == kWindow;
  if (stream_parser_.parse_many(begin, len, window).get(stream)) return 0;
  size_t k = first;
  for (auto it = stream.begin(); it != stream.end() && k < lines.size(); ++it) {
    if ((*it).error()) break;
    const char* start = begin + it.current_index();
    // Only objects and arrays have an exact source(); scalars go line by line.
    if (start != data + lines[k].offset || (*start != '{' && *start != '[')) break;
    if (it.source().size() != lines[k].size) break;
    ++k;
  }
  return k - first;
}

std::optional<std::string> LineValidator::check_line(std::string_view line) {
  std::string padded;
  padded.reserve(line.size() + kValidatorPadding);
  padded.append(line);
  padded.append(kValidatorPadding, ' ');
  return check_padded(padded.data(), line.size());
}

std::optional<std::string> LineValidator::check_padded(const char* data, size_t size) {
  // A giant line is checked where it lies: simdjson's DOM would copy its
  // strings (the whole line, for one long string) beside it, holding it twice
  // outside the --max-buffer budget.
  if (size > kWindow) {
    auto detail = check_json(std::string_view(data, size));
    if (!detail) return std::nullopt;
    return fmt::format("{} at column {}", detail->reason, detail->offset + 1);
  }
  simdjson::error_code error = parser_.parse(data, size, false).error();
  if (!error) return std::nullopt;
  auto detail = check_json(std::string_view(data, size));
  if (check_json_decides(error) && !detail) return std::nullopt;  // valid, beyond simdjson's limits
  if (detail) return fmt::format("{} at column {}", detail->reason, detail->offset + 1);
  return std::string(simdjson::error_message(error));
}

}  // namespace batchpipe
