// The wire form of a batch: "[" rec1 "," rec2 ... "]" "\n", records byte-for-byte.
// Every sink receives exactly these bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace batchpipe {

struct Batch {
  std::string bytes;        ///< the encoded batch, newline included
  uint64_t records = 0;
  uint64_t number = 0;      ///< 1-based, in order of closing
  uint64_t first_line = 0;  ///< input line of the first record (counted across all inputs)
  uint64_t last_line = 0;   ///< input line of the last record
};

/// Size of the encoded batch without its newline, as --max-bytes counts it,
/// for a batch whose open bytes (see BatchEncoder) are `open_size` long.
inline uint64_t closed_size(uint64_t open_size) { return open_size + 1; }

/// Appends records to a Batch's bytes; the batch stays "open" (no closing
/// bracket) until close().
struct BatchEncoder {
  static void open(Batch& b) {
    b.bytes.clear();
    b.bytes.push_back('[');
    b.records = 0;
  }
  /// Bytes the batch grows by when `record_size` more bytes are added.
  static uint64_t growth(const Batch& b, uint64_t record_size) {
    return record_size + (b.records ? 1 : 0);
  }
  static void append(Batch& b, std::string_view record) {
    if (b.records) b.bytes.push_back(',');
    b.bytes.append(record);
    ++b.records;
  }
  static void close(Batch& b) { b.bytes.append("]\n"); }
};

}  // namespace batchpipe
