#include "sinks/request_template.h"

#include <fmt/format.h>

namespace batchpipe {
namespace {

constexpr std::string_view kFields[] = {"{batch_id}", "{batch}", "{attempt}"};

}  // namespace

bool has_template_fields(std::string_view text) {
  for (std::string_view f : kFields)
    if (text.find(f) != std::string_view::npos) return true;
  return false;
}

std::string expand_template(std::string_view text, const TemplateValues& values) {
  std::string out;
  out.reserve(text.size() + 32);
  while (!text.empty()) {
    size_t brace = text.find('{');
    out.append(text.substr(0, brace));
    if (brace == std::string_view::npos) break;
    text.remove_prefix(brace);
    if (text.starts_with(kFields[0])) {
      out.append(values.batch_id);
    } else if (text.starts_with(kFields[1])) {
      fmt::format_to(std::back_inserter(out), "{}", values.batch);
    } else if (text.starts_with(kFields[2])) {
      fmt::format_to(std::back_inserter(out), "{}", values.attempt);
    } else {
      out.push_back('{');
      text.remove_prefix(1);
      continue;
    }
    text.remove_prefix(text.find('}') + 1);
  }
  return out;
}

}  // namespace batchpipe
