// Every message batchpipe prints on stderr goes through here: one line each,
// prefixed "batchpipe: ", written with one write(2) so threads never interleave.
#pragma once

#include <cstdint>
#include <string_view>

namespace batchpipe::diag {

/// After this many per-line reports, further ones are only counted.
inline constexpr uint64_t kLineReportLimit = 100;

/// -q: silences warnings and per-line reports, never errors.
void set_quiet(bool quiet);

void error(std::string_view message);
void warning(std::string_view message);

/// A problem with one input line: printed while under the limit and not quiet.
void line_problem(std::string_view message);

/// Says how many line reports were held back, if any; call once at the end.
void finish();

}  // namespace batchpipe::diag
