#include "deliver/status_rules.h"

#include <charconv>

#include <fmt/format.h>

namespace batchpipe {
namespace {

std::optional<int> to_status(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || text[0] == '-' || text[0] == '+')
    return std::nullopt;
  return value;
}

}  // namespace

std::optional<StatusList> StatusList::parse(std::string_view text, int lo, int hi, std::string& error) {
  StatusList list;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    size_t dash = item.find('-');
    std::optional<int> first = to_status(item.substr(0, dash));
    std::optional<int> last = dash == std::string_view::npos ? first : to_status(item.substr(dash + 1));
    if (!first || !last) {
      error = fmt::format("expected statuses such as 3 or 409,500-502, got '{}'", text);
      return std::nullopt;
    }
    if (*first > *last) {
      error = fmt::format("'{}' is not a range: {} comes after {}", item, *first, *last);
      return std::nullopt;
    }
    if (*first < lo || *last > hi) {
      error = fmt::format("{} is not a status from {} to {}", *first < lo ? *first : *last, lo, hi);
      return std::nullopt;
    }
    list.ranges_.emplace_back(*first, *last);
    if (comma == std::string_view::npos) return list;
    start = comma + 1;
  }
}

bool StatusList::contains(int status) const {
  for (auto [lo, hi] : ranges_)
    if (status >= lo && status <= hi) return true;
  return false;
}

bool StatusList::touches(int lo, int hi) const {
  for (auto [a, b] : ranges_)
    if (a <= hi && b >= lo) return true;
  return false;
}

std::optional<int> StatusList::overlap(const StatusList& other) const {
  std::optional<int> first;
  for (auto [a, b] : ranges_)
    for (auto [c, d] : other.ranges_)
      if (a <= d && c <= b) {
        int at = std::max(a, c);
        if (!first || at < *first) first = at;
      }
  return first;
}

std::optional<Outcome> StatusRules::lookup(int status) const {
  if (permanent.contains(status)) return Outcome::Permanent;
  if (retryable.contains(status)) return Outcome::Retryable;
  return std::nullopt;
}

}  // namespace batchpipe
