// A strict RFC 8259 validator for one JSON text, used where simdjson says no.
//
// simdjson is the fast path; it rejects grammatically valid numbers it cannot
// represent (1e400, 20-digit integers) and its messages name no position.
// This checker decides those cases and explains every rejection.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace batchpipe {

struct JsonError {
  size_t offset = 0;   ///< byte offset in the text where the problem was found
  std::string reason;  ///< e.g. "expected ',' or '}'", no trailing newline
};

/// Returns nothing if `text` is exactly one JSON value (RFC 8259, UTF-8,
/// optional surrounding JSON whitespace) nested at most `max_depth` deep;
/// otherwise the first problem found.
std::optional<JsonError> check_json(std::string_view text, size_t max_depth = 1024);

}  // namespace batchpipe
