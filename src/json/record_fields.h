// The values of a record's fields, for templates ({.service}): read from the
// record's own bytes with simdjson's On Demand parser, only when asked, and
// never re-serialized. One object per thread; reset() for each record.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/field_template.h"

namespace batchpipe {

class RecordFields : public FieldSource {
 public:
  RecordFields();
  ~RecordFields() override;

  /// The record whose fields get() reads next; `record` must outlive those calls.
  void reset(std::string_view record);

  /// The value at `path` (object members, outermost first). A record that is
  /// not a JSON object has no fields.
  FieldValue get(const std::vector<std::string>& path) override;

 private:
  struct Parser;
  std::unique_ptr<Parser> parser_;
  std::string_view record_;
  bool parsed_ = false;
};

}  // namespace batchpipe
