// -H lines as curl sends them, and header files with one a line: the
// parsing both the command line and the re-reading of a header file during
// a run (header_source.h) share. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace batchpipe {

/// `text` as a header: a token, a colon, a value on one line, trailing
/// blanks and CR dropped. Nothing, with `error` set, if it is not one or it
/// is Idempotency-Key (batchpipe's own); `origin` (" on line 3 of FILE", or
/// "") goes in the message.
std::optional<std::string> parse_header(const std::string& text, const std::string& origin, std::string& error);

/// The headers in a header file's `text`: one a line, blank lines and lines
/// starting with '#' skipped. False, with `error` set, at the first line
/// that is not a header.
bool parse_header_file(std::string_view text, const std::string& path, std::vector<std::string>& headers,
                       std::string& error);

/// Adds the pieces of `header`'s value to `secrets` if it is secret: by its
/// name (Authorization, Cookie, Proxy-Authorization), or because it came
/// from a file (`from_file`).
void note_secret(const std::string& header, bool from_file, std::vector<std::string>& secrets);

}  // namespace batchpipe
