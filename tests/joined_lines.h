// Test helper: lines joined with newlines into one padded block, as the
// framer hands them to the validators.
#pragma once

#include <string>
#include <vector>

#include "json/line_span.h"
#include "json/line_validator.h"

namespace batchpipe::test {

struct JoinedLines {
  std::string data;  ///< the lines, each followed by '\n', then kValidatorPadding NULs
  size_t size = 0;   ///< bytes before the padding
  std::vector<LineSpan> spans;
};

inline JoinedLines join_lines(const std::vector<std::string>& lines) {
  JoinedLines j;
  for (const auto& l : lines) {
    j.spans.push_back({static_cast<uint32_t>(j.data.size()), static_cast<uint32_t>(l.size())});
    j.data += l;
    j.data += '\n';
  }
  j.size = j.data.size();
  j.data.append(kValidatorPadding, '\0');
  return j;
}

}  // namespace batchpipe::test
