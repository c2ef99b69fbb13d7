// --compress METHOD[:LEVEL]: which codec, at which level. Pure: parsing and
// the valid ranges, shared by the command line and its messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace batchpipe {

enum class CodecKind { None, Gzip, Zstd };

struct CodecChoice {
  CodecKind kind = CodecKind::None;
  int level = 0;  ///< within the codec's range (see kGzipLevels, kZstdLevels); 0 with None

  bool operator==(const CodecChoice&) const = default;
};

struct LevelRange {
  int min, max, fallback;  ///< fallback: the level when none is given
};

/// libdeflate's levels. 6, the default, compresses as well as zlib's 6 did
/// (a little better, in README's measurements) at less CPU.
inline constexpr LevelRange kGzipLevels{1, 12, 6};
/// zstd's positive levels, 3 its own default. Negative ("fast") levels are
/// left out: they trade ratio for speed past what level 1 gives here.
inline constexpr LevelRange kZstdLevels{1, 22, 3};

/// "gzip", "gzip:9", "zstd", "zstd:19"; nothing, with `error` set to a
/// message naming the valid forms, for anything else.
std::optional<CodecChoice> parse_codec(std::string_view text, std::string& error);

/// What --compress takes, for messages and --help: "gzip[:1-12] or zstd[:1-22]"
/// with the defaults.
std::string codec_forms();

/// "gzip:6", "zstd:3", "none".
std::string codec_name(CodecChoice choice);

}  // namespace batchpipe
