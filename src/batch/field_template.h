// Templates that take values from the record: {.service}, {.a.b},
// {.service:-unknown}, {.ts:%Y.%m.%d}, {now:%Y.%m.%d}, beside the batch's own
// {batch_id}, {batch} and {attempt} (filled in later, per attempt). A
// template is parsed once at start-up; render() fills in one record's values
// for where the text goes (a URL, a header value, JSON, an environment
// variable), encoded for that place, or says why the record cannot go there.
// Pure: the record's fields come from a FieldSource, the time as a value.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sinks/request_template.h"

namespace batchpipe {

/// Where a rendered text goes, which says how a value is encoded.
enum class TextPlace {
  UrlPath,  ///< percent-encoded: everything but A-Z a-z 0-9 - . _ ~
  Header,   ///< as is; CR, LF, NUL and other control bytes make the record fail
  Json,     ///< JSON-escaped, for a place inside a JSON string; braces as \u007b, \u007d
  Env,      ///< as is; NUL and control bytes other than tab and newline make the record fail
};

/// A field's value in one record.
struct FieldValue {
  enum Kind { Missing, Text, Composite } kind = Missing;  ///< Missing: absent or null
  std::string text;   ///< a string unescaped, a number or boolean as written
  bool string = false;  ///< Text came from a JSON string (not a number or boolean)
};

/// Where render() finds a record's fields: `path` is the names of the
/// members, outermost first ({.a.b}: {"a", "b"}).
class FieldSource {
 public:
  virtual ~FieldSource() = default;
  virtual FieldValue get(const std::vector<std::string>& path) = 0;
};

/// In a rendered text, the batch's own fields stand as kBatchMark and a
/// letter ('i' {batch_id}, 'b' {batch}, 'a' {attempt}); no record value can
/// hold the mark (every place encodes or refuses control bytes).
inline constexpr char kBatchMark = '\x01';

class FieldTemplate {
 public:
  /// Parses `text`; nothing, with `error` set (saying what to fix), if it
  /// cannot be parsed. Braces that open no field stay as they are.
  static std::optional<FieldTemplate> parse(std::string_view text, TextPlace place, std::string& error);

  /// True if the text takes anything from the record or the clock.
  bool uses_record() const { return uses_record_; }
  /// The paths of the record fields it reads.
  std::vector<std::vector<std::string>> paths() const;
  /// The text with every record field replaced by `sample` and {now:...} by
  /// its format: for start-up checks of what the text looks like.
  std::string sample(std::string_view sample) const;

  /// Appends the text with one record's values (read at `now`, seconds since
  /// the epoch) to `out`; batch fields as kBatchMark pairs. False, with
  /// `error` saying why (naming the field), if the record cannot go there.
  bool render(FieldSource& fields, std::time_t now, std::string& out, std::string& error) const;

  /// Whether `text` holds any field this parser takes ({.x} or {now...}).
  static bool has_record_fields(std::string_view text);

 private:
  /// One piece of the text: literal text, a batch field, a record field or the clock.
  struct Piece {
    enum Kind { Literal, BatchField, RecordField, Now } kind = Literal;
    std::string text;                        ///< Literal: the text; RecordField: the name as written (".a.b")
    char code = 0;                           ///< BatchField: 'i', 'b' or 'a'
    std::vector<std::string> path;           ///< RecordField
    std::optional<std::string> fallback;     ///< RecordField: after :-
    std::optional<std::string> time_format;  ///< RecordField: after :; Now: the format
  };

  bool place_value(std::string_view value, const std::string& name, std::string& out, std::string& error) const;

  std::vector<Piece> pieces_;
  TextPlace place_ = TextPlace::Header;
  bool uses_record_ = false;
};

/// `text` (rendered by FieldTemplate) with its batch fields filled in.
std::string expand_marks(std::string_view text, const TemplateValues& values);

/// Seconds since the epoch of a timestamp value: RFC 3339 text
/// (2024-05-01T12:00:00Z, fractions and offsets allowed, a space for T) or
/// a number of seconds or, above 1e11, milliseconds. Nothing if it is neither.
std::optional<double> timestamp_seconds(const FieldValue& value);

/// `seconds` since the epoch formatted by strftime's `format`, in UTC.
std::string format_utc(double seconds, const std::string& format);

}  // namespace batchpipe
