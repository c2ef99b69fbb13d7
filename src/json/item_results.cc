#include "json/item_results.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>
#include <simdjson.h>

#include "json/bulk_reply.h"
#include "json/json_check.h"

namespace batchpipe {
namespace {

namespace dom = simdjson::dom;

// The body is validated by check_json first (strict, and its message names a
// byte), then parsed by simdjson's DOM, whose at_pointer() follows RFC 6901.
// A fresh parser each time: its memory (some 10 bytes per reply byte) is
// freed with it rather than held per worker; the replies that list items
// are small (Firehose takes 500 records a request, Kinesis 500, BigQuery
// recommends 500 rows).

const char* kind_of(dom::element_type type) {
  switch (type) {
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "a number";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::BOOL: return "a boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

/// `pointer` for messages: "" is the reply (or the element) itself.
std::string shown(const std::string& pointer) { return pointer.empty() ? "\"\"" : pointer; }

/// One line of at most kBulkReasonLimit bytes, never cut inside a UTF-8
/// sequence. minify() escapes control characters in strings, so the JSON
/// it makes is one line already.
std::string capped(std::string text) {
  if (text.size() <= kBulkReasonLimit) return text;
  size_t keep = kBulkReasonLimit - 3;
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  text.resize(keep);
  return text + "...";
}

/// The error value of `element` at `pointer`; nothing when it is absent or null.
std::optional<std::string> error_of(dom::element element, const std::string& pointer) {
  dom::element error;
  if (element.at_pointer(pointer).get(error) || error.is_null()) return std::nullopt;
  std::string_view text;
  if (!error.get_string().get(text)) return std::string(text);
  return simdjson::minify(error);
}

FailedItem failed(size_t index, std::string error, dom::element element) {
  return {index, std::move(error), capped("item error: " + simdjson::minify(element))};
}

}  // namespace

std::optional<std::string> check_json_pointer(std::string_view pointer) {
  if (!pointer.empty() && pointer[0] != '/')
    return fmt::format("'{}' is not a JSON Pointer: it starts with '/' (or is \"\" for the whole)", pointer);
  for (size_t i = 0; i < pointer.size(); ++i)
    if (pointer[i] == '~' && (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
      return fmt::format("'{}' is not a JSON Pointer: '~' is written ~0 and '/' in a name ~1", pointer);
  return std::nullopt;
}

std::variant<std::vector<FailedItem>, std::string> read_item_results(std::string_view body,
                                                                     const ItemResultsSpec& spec, size_t records) {
  if (body.find_first_not_of(" \t\n\r") == std::string_view::npos) return std::string("empty");
  if (auto fault = check_json(body)) return fmt::format("not JSON: {} at byte {}", fault->reason, fault->offset + 1);
  dom::parser parser;
  dom::element doc;
  if (auto error = parser.parse(body.data(), body.size()).get(doc))
    return fmt::format("unreadable JSON: {}", simdjson::error_message(error));

  std::vector<FailedItem> out;
  if (spec.results) {
    dom::element at;
    dom::array results;
    if (doc.at_pointer(*spec.results).get(at)) return fmt::format("no array at {}", shown(*spec.results));
    if (at.get_array().get(results))
      return fmt::format("{} at {}, not an array", kind_of(at.type()), shown(*spec.results));
    size_t n = results.size();
    if (n != records)
      return fmt::format("{} result{} for {} record{} sent", n, n == 1 ? "" : "s", records, records == 1 ? "" : "s");
    size_t i = 0;
    for (dom::element element : results) {
      if (auto error = error_of(element, spec.error)) out.push_back(failed(i, std::move(*error), element));
      ++i;
    }
    return out;
  }

  dom::element at;
  if (doc.at_pointer(*spec.failures).get(at) || at.is_null()) return out;  // BigQuery leaves it out: none failed
  dom::array failures;
  if (at.get_array().get(failures))
    return fmt::format("{} at {}, not an array", kind_of(at.type()), shown(*spec.failures));
  size_t number = 0;
  for (dom::element element : failures) {
    ++number;
    dom::element index_value;
    int64_t index = 0;
    if (element.at_pointer(spec.index).get(index_value) || index_value.get_int64().get(index))
      return fmt::format("failure {} has no whole number at {}", number, shown(spec.index));
    if (index < 0 || static_cast<uint64_t>(index) >= records)
      return fmt::format("failure {} names record {} of {} sent (counted from 0)", number, index, records);
    std::optional<std::string> error = error_of(element, spec.error);
    out.push_back(failed(static_cast<size_t>(index), error ? std::move(*error) : simdjson::minify(element), element));
  }
  std::stable_sort(out.begin(), out.end(), [](const FailedItem& a, const FailedItem& b) { return a.index < b.index; });
  out.erase(std::unique(out.begin(), out.end(), [](const FailedItem& a, const FailedItem& b) { return a.index == b.index; }),
            out.end());
  return out;
}

}  // namespace batchpipe
