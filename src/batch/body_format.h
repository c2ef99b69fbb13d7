// How a batch's records are laid out in the body every sink writes or sends:
// the JSON array (default, or wrapped in a prefix and suffix), NDJSON, or
// Elasticsearch's _bulk (an action line before each record). A format is a
// value with exact sizes, so --max-bytes bounds the body as sent and the
// batcher stays pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace batchpipe {

enum class FormatKind { Array, Ndjson, Bulk };

/// The bytes {record_id} becomes: 16 hex digits naming the record's source,
/// a dash and 16 hex digits of its byte offset there (see record_id.h).
inline constexpr size_t kRecordIdSize = 33;

class BodyFormat {
 public:
  /// `[r1,r2]` and a newline, or PREFIX[r1,r2]SUFFIX and a newline (--wrap).
  static BodyFormat array(std::string prefix = {}, std::string suffix = {});
  /// Each record followed by a newline.
  static BodyFormat ndjson();
  /// Each record preceded by `action` (its {record_id}s filled in per
  /// record) and a newline, and followed by a newline.
  static BodyFormat bulk(std::string action);
  /// _bulk with an action line of each record's own (--bulk-action with
  /// record fields, rendered per record by batch/route.h): the batcher is
  /// handed each record's line, so the bytes before a record vary and
  /// before_size() is 0. `action` (the template) gives the verb.
  static BodyFormat bulk_per_record(std::string_view action);
  /// The array format without a wrap, for batches made without a batcher.
  static const BodyFormat& plain_array();

  FormatKind kind() const { return kind_; }
  /// For the HTTP Content-Type header.
  const char* content_type() const { return kind_ == FormatKind::Array ? "application/json" : "application/x-ndjson"; }
  bool bulk_create() const { return bulk_create_; }
  /// Each record brings its own action line (see bulk_per_record()); a
  /// Batch then keeps where each record starts.
  bool per_record_action() const { return per_record_action_; }

  const std::string& open() const { return open_; }
  const std::string& close() const { return close_; }
  const std::string& separator() const { return separator_; }
  const std::string& after() const { return after_; }
  /// Bytes before each record (the action line with its newline), the same for every record; 0 when
  /// each record brings its own (per_record_action()).
  uint64_t before_size() const { return before_size_; }
  /// Appends the bytes before a record whose {record_id} is `record_id` (kRecordIdSize bytes).
  void append_before(std::string& out, std::string_view record_id) const;
  bool uses_record_id() const { return action_pieces_.size() > 1; }

  /// Bytes a body of `records` records holding `record_bytes` in all takes.
  uint64_t body_size(uint64_t records, uint64_t record_bytes) const {
    if (records == 0) return open_.size() + close_.size();
    return open_.size() + close_.size() + record_bytes + records * (before_size_ + after_.size()) +
           (records - 1) * separator_.size();
  }
  /// The largest record that fits in a body of its own under `max_bytes`; 0 if none does.
  uint64_t max_record_size(uint64_t max_bytes) const {
    uint64_t frame = body_size(1, 0);
    return max_bytes > frame ? max_bytes - frame : 0;
  }
  /// What a body adds around a record of its own, in words for messages.
  std::string frame_words() const;

  /// From the start of the body to the first record's first byte.
  uint64_t lead() const { return open_.size() + before_size_; }
  /// From the end of one record to the first byte of the next.
  uint64_t gap() const { return after_.size() + separator_.size() + before_size_; }

 private:
  FormatKind kind_ = FormatKind::Array;
  std::string open_ = "[", separator_ = ",", close_ = "]\n", after_;
  std::vector<std::string> action_pieces_;  ///< the action line split at each {record_id}, newline included
  uint64_t before_size_ = 0;
  bool bulk_create_ = false;
  bool per_record_action_ = false;
};

}  // namespace batchpipe
