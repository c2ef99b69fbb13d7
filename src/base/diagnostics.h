// Every message batchpipe prints on stderr goes through here: one line each,
// prefixed "batchpipe: ", written with one write(2) so threads never interleave.
// With --progress on a terminal, a status line stays drawn below the messages:
// each message clears it, prints itself and draws it again, in that one write.
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

/// Output the user asked for (--stats, --progress without a terminal):
/// printed even with -q.
void report(std::string_view message);

/// Text for scripts (--stats=json), written as it is: no prefix, no newline
/// added; the status line stays intact.
void raw(std::string_view text);

/// Draws `line` (without "batchpipe: "; the caller fits it to the terminal's
/// width) as the status line at the bottom of stderr, in place of the last
/// one; "" clears it and ends it. For a terminal only: it uses CR and the
/// erase-line control sequence. A redraw is skipped while another thread
/// writes a message (which draws the line again itself); clearing never is.
void set_status_line(std::string_view line);

/// A problem with one input line: printed while under the limit and not quiet.
void line_problem(std::string_view message);

/// Says how many line reports were held back, if any; call once at the end.
void finish();

}  // namespace batchpipe::diag
