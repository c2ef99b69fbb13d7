#include "cli/format_options.h"

#include <fmt/format.h>

#include "batch/field_template.h"
#include "json/json_check.h"

namespace batchpipe {
namespace {

/// Calls `visit(i, c)` for each byte of `text` outside its JSON strings.
template <class Visit>
void for_each_bare(std::string_view text, Visit&& visit) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else {
      visit(i, c);
    }
  }
}

/// Offsets of the @s of `text` that stand outside JSON strings.
std::vector<size_t> bare_ats(std::string_view text) {
  std::vector<size_t> at;
  for_each_bare(text, [&](size_t i, char c) {
    if (c == '@') at.push_back(i);
  });
  return at;
}

/// Commas directly inside the outermost value of the valid JSON `text`: an
/// object with one key has none.
size_t top_level_commas(std::string_view text) {
  size_t commas = 0, depth = 0;
  for_each_bare(text, [&](size_t, char c) {
    if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') --depth;
    else if (c == ',' && depth == 1) ++commas;
  });
  return commas;
}

std::string check_one_line(std::string_view flag, std::string_view text) {
  if (text.find_first_of("\r\n") != std::string_view::npos)
    return fmt::format("{}: must be on one line (a batch, or an action, is one line)", flag);
  return {};
}

std::variant<BodyFormat, std::string> wrapped_array(const std::string& wrap) {
  if (std::string e = check_one_line("--wrap", wrap); !e.empty()) return e;
  std::vector<size_t> at = bare_ats(wrap);
  if (at.size() != 1)
    return fmt::format("--wrap: expected PREFIX@SUFFIX with one @ where the array goes, e.g. '{{\"events\":@}}'; "
                       "found {} @ outside strings in '{}'",
                       at.size(), wrap);
  std::string prefix = wrap.substr(0, at[0]), suffix = wrap.substr(at[0] + 1);
  std::string sample = prefix + "[]" + suffix;
  if (auto e = check_json(sample))
    return fmt::format("--wrap: '{}' is not valid JSON with an array in place of @: {} at byte {} of '{}'", wrap,
                       e->reason, e->offset, sample);
  return BodyFormat::array(std::move(prefix), std::move(suffix));
}

std::variant<BodyFormat, std::string> bulk(const std::string& given) {
  std::string action = given.empty() ? kDefaultBulkAction : given;
  if (std::string e = check_one_line("--bulk-action", action); !e.empty()) return e;
  std::string sample = action;
  for (size_t at; (at = sample.find("{record_id}")) != std::string::npos;)
    sample.replace(at, 11, std::string(kRecordIdSize, '0'));
  if (auto e = check_json(sample))
    return fmt::format("--bulk-action: '{}' is not valid JSON: {} at byte {}", action, e->reason, e->offset);
  size_t first = sample.find_first_not_of(" \t");
  size_t quote = sample.find('"', first);
  size_t end = quote == std::string::npos ? quote : sample.find('"', quote + 1);
  std::string verb = end == std::string::npos ? "" : sample.substr(quote + 1, end - quote - 1);
  if (sample[first] != '{' || (verb != "index" && verb != "create") || top_level_commas(sample) != 0)
    return fmt::format("--bulk-action: expected an object whose one key is index or create, e.g. "
                       "'{{\"create\":{{\"_index\":\"logs\",\"_id\":\"{{record_id}}\"}}}}', got '{}'",
                       action);
  // Record fields ({.service}) fill each record's own action line (batch/route.h).
  if (FieldTemplate::has_record_fields(action)) return BodyFormat::bulk_per_record(action);
  return BodyFormat::bulk(std::move(action));
}

}  // namespace

std::variant<BodyFormat, std::string> make_body_format(const std::string& format, const std::string& wrap,
                                                       const std::string& bulk_action) {
  if (!wrap.empty() && format != "array")
    return fmt::format("--wrap: only applies with --format array, not --format {}", format);
  if (!bulk_action.empty() && format != "bulk") return std::string("--bulk-action: only applies with --format bulk");
  if (format == "ndjson") return BodyFormat::ndjson();
  if (format == "bulk") return bulk(bulk_action);
  if (!wrap.empty()) return wrapped_array(wrap);
  return BodyFormat::array();
}

}  // namespace batchpipe
