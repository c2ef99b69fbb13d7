#include "sinks/header_lines.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <fmt/format.h>

#include "sinks/reply_quote.h"

namespace batchpipe {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

}  // namespace

std::optional<std::string> parse_header(const std::string& text, const std::string& origin, std::string& error) {
  std::string h = text;
  while (!h.empty() && (h.back() == '\r' || h.back() == ' ' || h.back() == '\t')) h.pop_back();
  size_t colon = h.find(':');
  bool token = colon != std::string::npos && colon > 0 &&
               std::all_of(h.begin(), h.begin() + static_cast<long>(colon), [](unsigned char c) {
                 return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c);
               });
  if (!token || h.find_first_of("\r\n") != std::string::npos) {
    error = fmt::format("--header: expected 'Name: value'{}", origin);
    return std::nullopt;
  }
  if (equals_ignoring_case(std::string_view(h).substr(0, colon), "Idempotency-Key")) {
    error = fmt::format("--header: Idempotency-Key{} cannot be set: batchpipe sends its own, one per batch "
                        "and the same on every retry, which a receiver that drops duplicates relies on",
                        origin);
    return std::nullopt;
  }
  return h;
}

bool parse_header_file(std::string_view text, const std::string& path, std::vector<std::string>& headers,
                       std::string& error) {
  size_t start = 0;
  for (int n = 1; start < text.size(); ++n) {
    size_t end = std::min(text.find('\n', start), text.size());
    std::string line(text.substr(start, end - start));
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    std::optional<std::string> h = parse_header(line, fmt::format(" on line {} of {}", n, path), error);
    if (!h) return false;
    headers.push_back(std::move(*h));
  }
  return true;
}

void note_secret(const std::string& header, bool from_file, std::vector<std::string>& secrets) {
  size_t colon = header.find(':');
  if (!from_file && !is_secret_header(std::string_view(header).substr(0, colon))) return;
  for (std::string& piece : secret_pieces(std::string_view(header).substr(colon + 1))) secrets.push_back(std::move(piece));
}

}  // namespace batchpipe
