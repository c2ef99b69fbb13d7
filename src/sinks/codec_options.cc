#include "sinks/codec_options.h"

#include <charconv>

#include <fmt/format.h>

namespace batchpipe {

std::string codec_forms() {
  return fmt::format("gzip[:LEVEL] (LEVEL {}-{}, default {}) or zstd[:LEVEL] (LEVEL {}-{}, default {})",
                     kGzipLevels.min, kGzipLevels.max, kGzipLevels.fallback, kZstdLevels.min, kZstdLevels.max,
                     kZstdLevels.fallback);
}

std::optional<CodecChoice> parse_codec(std::string_view text, std::string& error) {
  size_t colon = text.find(':');
  std::string_view name = text.substr(0, colon);
  CodecChoice choice;
  LevelRange range{};
  if (name == "gzip") {
    choice.kind = CodecKind::Gzip;
    range = kGzipLevels;
  } else if (name == "zstd") {
    choice.kind = CodecKind::Zstd;
    range = kZstdLevels;
  } else {
    error = fmt::format("--compress: unknown method '{}'; expected {}", text, codec_forms());
    return std::nullopt;
  }
  choice.level = range.fallback;
  if (colon == std::string_view::npos) return choice;
  std::string_view level = text.substr(colon + 1);
  int value = 0;
  auto [end, ec] = std::from_chars(level.data(), level.data() + level.size(), value);
  if (level.empty() || ec != std::errc() || end != level.data() + level.size() || value < range.min ||
      value > range.max) {
    error = fmt::format("--compress: {} level must be a whole number from {} to {}, got '{}'; expected {}", name,
                        range.min, range.max, level, codec_forms());
    return std::nullopt;
  }
  choice.level = value;
  return choice;
}

std::string codec_name(CodecChoice choice) {
  switch (choice.kind) {
    case CodecKind::Gzip: return fmt::format("gzip:{}", choice.level);
    case CodecKind::Zstd: return fmt::format("zstd:{}", choice.level);
    case CodecKind::None: break;
  }
  return "none";
}

}  // namespace batchpipe
