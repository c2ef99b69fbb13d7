#include "json/record_fields.h"

#include <cstring>

#include <simdjson.h>

namespace batchpipe {

struct RecordFields::Parser {
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  std::string padded;  ///< the record with simdjson's padding after it
  std::string pointer;
  bool ok = false;
};

RecordFields::RecordFields() : parser_(std::make_unique<Parser>()) {}
RecordFields::~RecordFields() = default;

void RecordFields::reset(std::string_view record) {
  record_ = record;
  parsed_ = false;
}

FieldValue RecordFields::get(const std::vector<std::string>& path) {
  Parser& p = *parser_;
  if (!parsed_) {
    parsed_ = true;
    // Padding is needed past the end; the record's bytes are copied into a
    // buffer that has it (records are small next to the parse).
    p.padded.assign(record_);
    p.padded.resize(record_.size() + simdjson::SIMDJSON_PADDING);
    p.ok = p.parser.iterate(simdjson::padded_string_view(p.padded.data(), record_.size(), p.padded.size()))
               .get(p.doc) == simdjson::SUCCESS;
  }
  FieldValue out;
  if (!p.ok) return out;
  p.pointer.clear();
  for (const std::string& name : path) {
    p.pointer.push_back('/');
    for (char c : name) {
      if (c == '~') p.pointer += "~0";
      else if (c == '/') p.pointer += "~1";
      else p.pointer.push_back(c);
    }
  }
  simdjson::ondemand::value v;
  if (p.doc.at_pointer(p.pointer).get(v) != simdjson::SUCCESS) return out;
  simdjson::ondemand::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return out;
  switch (type) {
    case simdjson::ondemand::json_type::null: return out;
    case simdjson::ondemand::json_type::object:
    case simdjson::ondemand::json_type::array: out.kind = FieldValue::Composite; return out;
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return out;
      out.kind = FieldValue::Text;
      out.text.assign(s);
      out.string = true;
      return out;
    }
    default: {  // a number or a boolean, as written
      std::string_view raw = v.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r'))
        raw.remove_suffix(1);
      out.kind = FieldValue::Text;
      out.text.assign(raw);
      return out;
    }
  }
}

}  // namespace batchpipe
