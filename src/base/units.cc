#include "base/units.h"

#include <cmath>
#include <cstdlib>
#include <iterator>
#include <string>

#include <fmt/format.h>

namespace batchpipe {
namespace {

/// Splits "1.5ms" into 1.5 and "ms". Only plain decimal numbers are accepted:
/// no sign, no exponent, no hex, no "inf".
std::optional<std::pair<double, std::string_view>> split_number(std::string_view text) {
  size_t i = 0;
  bool digits = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') { ++i; digits = true; }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') { ++i; digits = true; }
  }
  if (!digits) return std::nullopt;
  std::string number(text.substr(0, i));
  return std::pair{std::strtod(number.c_str(), nullptr), text.substr(i)};
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  auto [value, unit] = *parts;
  double ns_per_unit;
  if (unit.empty() || unit == "s") ns_per_unit = 1e9;
  else if (unit == "ms") ns_per_unit = 1e6;
  else if (unit == "us") ns_per_unit = 1e3;
  else if (unit == "m") ns_per_unit = 60e9;
  else if (unit == "h") ns_per_unit = 3600e9;
  else return std::nullopt;
  double ns = value * ns_per_unit;
  if (!(ns < 1e18)) return std::nullopt;  // ~31 years: more is a typo
  return Duration(static_cast<int64_t>(std::llround(ns)));
}

std::optional<uint64_t> parse_size(std::string_view text) {
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  auto [value, unit] = *parts;
  if (unit.ends_with("iB")) unit.remove_suffix(2);
  else if (unit.size() > 1 && unit.ends_with("B")) unit.remove_suffix(1);
  double multiple;
  if (unit.empty() || unit == "B") multiple = 1;
  else if (unit == "K" || unit == "k") multiple = 1024.0;
  else if (unit == "M" || unit == "m") multiple = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") multiple = 1024.0 * 1024 * 1024;
  else return std::nullopt;
  double bytes = value * multiple;
  if (!(bytes < 1e18) || bytes != std::floor(bytes)) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::string format_duration(Duration d) {
  double ms = std::chrono::duration<double, std::milli>(d).count();
  if (ms < 1000) return fmt::format("{:.0f}ms", ms);
  return fmt::format("{:.1f}s", ms / 1000);
}

std::string format_count(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1023.95 && unit + 1 < std::size(kUnits)) {  // never "1024.0 KiB"
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

}  // namespace batchpipe
