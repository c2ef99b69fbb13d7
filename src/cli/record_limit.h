// The one record limit: how large a record may be, from --max-bytes and what
// the body format adds around a record alone. Computed once at start-up and
// handed down: to the reader (the longest line worth keeping whole), to the
// line checker (which rejects, and says why in the user's terms) and to the
// batcher, which never sees a record over it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "batch/body_format.h"

namespace batchpipe {

struct RecordLimit {
  uint64_t max_bytes = 0;   ///< --max-bytes as the user set it
  uint64_t frame = 0;       ///< bytes the format adds around one record alone
  std::string frame_words;  ///< those bytes in words: "the batch's brackets and newline"
  uint64_t record = 0;      ///< the largest record: max_bytes - frame (0 if none fits)
  uint64_t line = 0;        ///< the longest input line that can become a record

  /// `text` (--input text): a line becomes a JSON string, two quotes longer at least.
  static RecordLimit of(uint64_t max_bytes, const BodyFormat& format, bool text) {
    RecordLimit l;
    l.max_bytes = max_bytes;
    l.frame = format.body_size(1, 0);
    l.frame_words = format.frame_words();
    l.record = format.max_record_size(max_bytes);
    l.line = l.record - (text ? std::min<uint64_t>(2, l.record) : 0);
    return l;
  }
};

}  // namespace batchpipe
