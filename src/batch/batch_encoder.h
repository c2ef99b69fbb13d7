// The wire form of a batch: "[" rec1 "," rec2 ... "]" "\n", records byte-for-byte.
// Every sink receives exactly these bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace batchpipe {

/// Where a record came from: which input (index into the inputs given), its
/// line, and where that line lies in the input as read (the decompressed
/// stream for gzip input): `offset` is where the line starts (before any
/// blanks or BOM trimmed off the record), `end` just past its newline (or
/// the input's last byte). With the input's FileIdentity (see
/// InputBlock::identity) an offset names a record across runs; `end` is
/// where a run that committed this record resumes.
struct Position {
  uint32_t input = 0;
  uint64_t line = 0;
  uint64_t offset = 0;
  uint64_t end = 0;
};

struct Batch {
  std::string bytes;           ///< the encoded batch, newline included
  uint64_t records = 0;
  uint64_t number = 0;         ///< 1-based, in order of closing
  Position first;              ///< of the first record
  Position last;               ///< of the last record
  std::vector<uint32_t> ends;  ///< where each record ends in `bytes`, for dead-lettering

  /// The bytes every sink writes or sends: the batch and its newline, never
  /// more than --max-bytes.
  std::string_view body() const { return bytes; }

  /// The i-th record, byte-for-byte as it came in.
  std::string_view record(size_t i) const {
    size_t begin = i == 0 ? 1 : ends[i - 1] + 1;
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
};

/// Size of the encoded batch with its closing bracket and newline, as
/// --max-bytes counts it, for a batch whose open bytes (see BatchEncoder) are
/// `open_size` long.
inline uint64_t closed_size(uint64_t open_size) { return open_size + 2; }

/// Appends records to a Batch's bytes; the batch stays "open" (no closing
/// bracket) until close().
struct BatchEncoder {
  static void open(Batch& b) {
    b.bytes.clear();
    b.bytes.push_back('[');
    b.records = 0;
    b.ends.clear();
  }
  /// Bytes the batch grows by when `record_size` more bytes are added.
  static uint64_t growth(const Batch& b, uint64_t record_size) {
    return record_size + (b.records ? 1 : 0);
  }
  static void append(Batch& b, std::string_view record) {
    if (b.records) b.bytes.push_back(',');
    b.bytes.append(record);
    b.ends.push_back(static_cast<uint32_t>(b.bytes.size()));
    ++b.records;
  }
  static void close(Batch& b) { b.bytes.append("]\n"); }
};

}  // namespace batchpipe
