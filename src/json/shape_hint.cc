#include "json/shape_hint.h"

#include <fmt/format.h>

namespace batchpipe {

std::optional<std::string> ShapeHint::see(uint32_t input, const std::string& name, std::string_view line,
                                          bool invalid) {
  if (input != input_) {
    input_ = input;
    first_ = invalid && !line.empty() ? line[0] : 0;
    run_ = 0;
    done_ = first_ != '[' && first_ != '{';
  }
  if (done_) return std::nullopt;
  if (!invalid) {
    done_ = true;
    return std::nullopt;
  }
  // A lone "[" or "{" is a document's opening line whatever follows.
  bool opening = line == "[" || line == "{";
  if (++run_ < kRun && !(run_ == 1 && opening)) return std::nullopt;
  done_ = true;
  std::string arg = name == "stdin" ? "" : " " + name;
  if (first_ == '[')
    return fmt::format("hint: {} looks like one JSON array spread over lines, not NDJSON; "
                       "try: jq -c '.[]'{} | batchpipe ...",
                       name, arg);
  return fmt::format("hint: {} looks like pretty-printed JSON, not NDJSON (one value per line); "
                     "try: jq -c .{} | batchpipe ...",
                     name, arg);
}

}  // namespace batchpipe
