// --format, --wrap and --bulk-action: from the command line's words to a
// checked BodyFormat, with messages that say what to fix.
#pragma once

#include <string>
#include <variant>

#include "batch/body_format.h"

namespace batchpipe {

/// The action line --format bulk puts before each record unless told otherwise.
inline constexpr const char* kDefaultBulkAction = R"({"index":{}})";

/// `format` is array, ndjson or bulk; `wrap` (empty: none) is 'PREFIX@SUFFIX'
/// with one @ outside JSON strings, and is valid JSON with [] in place of @;
/// `bulk_action` (empty: the default) is one JSON object whose key is index
/// or create, {record_id} allowed inside its strings. Returns the format or
/// the usage error.
std::variant<BodyFormat, std::string> make_body_format(const std::string& format, const std::string& wrap,
                                                       const std::string& bulk_action);

}  // namespace batchpipe
