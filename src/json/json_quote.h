// Turning an arbitrary line into a JSON string, for --on-invalid quote.
#pragma once

#include <string>
#include <string_view>

namespace batchpipe {

/// Appends `raw` to `out` as a JSON string literal (with the quotes).
/// Control characters, '"' and '\\' are escaped; valid UTF-8 is kept as is;
/// every invalid UTF-8 sequence becomes U+FFFD. Returns the number of
/// replacements made.
size_t append_json_quoted(std::string_view raw, std::string& out);

}  // namespace batchpipe
