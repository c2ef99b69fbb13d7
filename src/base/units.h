// Parsing the durations and sizes users type: "250ms", "1.5s", "5m", "8M".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace batchpipe {

using Duration = std::chrono::nanoseconds;

/// "250ms", "2s", "1.5s", "5m", "1h", "100us"; a bare number is seconds.
/// Returns nothing for anything else, negative values included.
std::optional<Duration> parse_duration(std::string_view text);

/// "4096", "64K", "8M", "1G" (binary multiples: KiB, MiB, GiB; an optional
/// trailing "B"/"iB" is accepted). Returns nothing for anything else.
std::optional<uint64_t> parse_size(std::string_view text);

/// Human form of a duration for messages: "1.2s", "250ms".
std::string format_duration(Duration d);

/// A count with thousands separators, for people: "1,234,567".
std::string format_count(uint64_t n);

/// A byte size in binary units, for people: "512 B", "1.5 KiB", "8.0 MiB".
std::string format_bytes(uint64_t bytes);

}  // namespace batchpipe
