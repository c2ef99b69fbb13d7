#include "batch/body_format.h"

namespace batchpipe {
namespace {

constexpr std::string_view kRecordIdField = "{record_id}";

/// `text` cut at each {record_id}: n pieces around n-1 of them.
std::vector<std::string> split_at_record_ids(std::string_view text) {
  std::vector<std::string> pieces;
  for (size_t at; (at = text.find(kRecordIdField)) != std::string_view::npos;) {
    pieces.emplace_back(text.substr(0, at));
    text.remove_prefix(at + kRecordIdField.size());
  }
  pieces.emplace_back(text);
  return pieces;
}

/// The verb of an action line such as {"create":{...}}: its first key.
std::string_view action_verb(std::string_view action) {
  size_t open = action.find('"');
  size_t close = open == std::string_view::npos ? open : action.find('"', open + 1);
  if (close == std::string_view::npos) return {};
  return action.substr(open + 1, close - open - 1);
}

}  // namespace

BodyFormat BodyFormat::array(std::string prefix, std::string suffix) {
  BodyFormat f;
  // Built with push_back and append: GCC 12 at -O3 warns (-Wrestrict, a
  // known false positive, PR 105329) when a string is assigned a literal here.
  f.open_ = std::move(prefix);
  f.open_.push_back('[');
  f.close_.clear();
  f.close_.push_back(']');
  f.close_.append(suffix);
  f.close_.push_back('\n');
  return f;
}

BodyFormat BodyFormat::ndjson() {
  BodyFormat f;
  f.kind_ = FormatKind::Ndjson;
  f.open_.clear();
  f.separator_.clear();
  f.close_.clear();
  f.after_.assign(1, '\n');
  return f;
}

BodyFormat BodyFormat::bulk(std::string action) {
  BodyFormat f = ndjson();
  f.kind_ = FormatKind::Bulk;
  f.bulk_create_ = action_verb(action) == "create";
  f.action_pieces_ = split_at_record_ids(action + "\n");
  for (const std::string& p : f.action_pieces_) f.before_size_ += p.size();
  f.before_size_ += (f.action_pieces_.size() - 1) * kRecordIdSize;
  return f;
}

BodyFormat BodyFormat::bulk_per_record(std::string_view action) {
  BodyFormat f = ndjson();
  f.kind_ = FormatKind::Bulk;
  f.bulk_create_ = action_verb(action) == "create";
  f.per_record_action_ = true;
  return f;
}

const BodyFormat& BodyFormat::plain_array() {
  static const BodyFormat f = array();
  return f;
}

std::string BodyFormat::frame_words() const {
  switch (kind_) {
    case FormatKind::Ndjson: return "its newline";
    case FormatKind::Bulk: return "its action line and newlines";
    case FormatKind::Array: break;
  }
  return open_.size() > 1 ? "the --wrap text, the brackets and the newline" : "the batch's brackets and newline";
}

void BodyFormat::append_before(std::string& out, std::string_view record_id) const {
  for (size_t i = 0; i < action_pieces_.size(); ++i) {
    if (i) out.append(record_id);
    out.append(action_pieces_[i]);
  }
}

}  // namespace batchpipe
