// The wire form of a batch, laid out by its BodyFormat ("[" rec1 "," rec2 "]"
// "\n" by default), records byte-for-byte. Every sink receives exactly these
// bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/memory.h"
#include "batch/body_format.h"

namespace batchpipe {

struct Route;

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
  uint64_t source = 0;  ///< names the input for {record_id} (see record_id.h)
};

/// Where one record came from: its input and line.
struct RecordAt {
  uint32_t input = 0;
  uint64_t line = 0;
};

struct Batch {
  std::string bytes;           ///< the encoded batch, newline included
  uint64_t records = 0;
  uint64_t number = 0;         ///< 1-based, in order of closing
  Position first;              ///< of the first record
  Position last;               ///< of the last record
  std::vector<uint32_t> ends;  ///< where each record ends in `bytes`, for dead-lettering
  /// Each record's input and line, when the batcher keeps them (for
  /// --dead-letter-reasons); else empty.
  std::vector<RecordAt> at;
  /// Where each record starts in `bytes`, kept only when each record brings
  /// its own action line (BodyFormat::per_record_action()): the bytes
  /// before a record then vary.
  std::vector<uint32_t> starts;
  const BodyFormat* format = &BodyFormat::plain_array();  ///< outlives the batch
  /// The most bytes `bytes` ever held since its buffer was allocated: a
  /// reused buffer keeps the pages its largest batch wrote.
  uint64_t high_water = 0;
  /// What the Backlog counts for this batch while a sink holds it (set when
  /// the batcher hands it out).
  uint64_t charged = 0;
  /// Routing by field (see batch/route.h): the route all its records share;
  /// null when the run has one destination.
  std::shared_ptr<const Route> route;
  /// route->memory(), or 0 without a route: charged with each of its batches
  /// (a million keys of a record each are mostly their routes).
  uint64_t route_memory = 0;
  /// The input-order number of its first record (from 0, over the run): the
  /// checkpoint never passes a record of a batch not yet committed.
  uint64_t first_seq = 0;

  /// What a batch costs besides its buffers: itself, the allocator's
  /// headers of its buffers, and its entries where the sink and the commit
  /// step keep it (measured: about 380 bytes; a run of one-record batches is
  /// mostly this).
  static constexpr uint64_t kBookkeeping = 512;

  /// The memory this batch holds: its buffers' pages, as memory_held() counts
  /// them, and its bookkeeping.
  uint64_t memory() const {
    uint64_t written = bytes.size() > high_water ? bytes.size() : high_water;
    return kBookkeeping + route_memory + memory_held(bytes.capacity(), written) +
           memory_held(ends.capacity() * sizeof(uint32_t), ends.size() * sizeof(uint32_t)) +
           memory_held(at.capacity() * sizeof(RecordAt), at.size() * sizeof(RecordAt)) +
           memory_held(starts.capacity() * sizeof(uint32_t), starts.size() * sizeof(uint32_t));
  }

  /// Where the i-th record came from: as kept, or else when the batch's
  /// records are every line from its first to its last of one input (so the
  /// i-th is the first's line + i); not known otherwise.
  std::optional<RecordAt> where(size_t i) const {
    if (at.size() == records) return at[i];
    if (at.empty() && first.input == last.input && last.line >= first.line && last.line - first.line + 1 == records)
      return RecordAt{first.input, first.line + i};
    return std::nullopt;
  }

  /// The bytes every sink writes or sends, never more than --max-bytes.
  std::string_view body() const { return bytes; }

  /// The i-th record, byte-for-byte as it came in.
  std::string_view record(size_t i) const {
    size_t begin = format->per_record_action() ? starts[i] : i == 0 ? format->lead() : ends[i - 1] + format->gap();
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
  /// The i-th record with the bytes the format puts before and after it (a
  /// _bulk action line), as a part of the batch re-encodes it.
  std::string_view framed_record(size_t i) const {
    const BodyFormat& f = *format;
    size_t begin = i == 0 ? f.open().size() : ends[i - 1] + f.after().size() + f.separator().size();
    return std::string_view(bytes).substr(begin, ends[i] + f.after().size() - begin);
  }
};

/// Appends records to a Batch's bytes; the batch stays "open" (no closing
/// bytes) until close().
struct BatchEncoder {
  static void open(Batch& b, const BodyFormat& format = BodyFormat::plain_array()) {
    b.format = &format;
    b.bytes.assign(format.open());
    b.records = 0;
    b.ends.clear();
    b.at.clear();
    b.starts.clear();
  }
  /// Size of the batch once closed if a record of `record_size` bytes were
  /// added (with a per-record action line: its line's bytes included).
  static uint64_t size_with(const Batch& b, uint64_t record_size) {
    const BodyFormat& f = *b.format;
    return b.bytes.size() + (b.records ? f.separator().size() : 0) + f.before_size() + record_size +
           f.after().size() + f.close().size();
  }
  /// `record_id` fills the format's {record_id}s, if it has any. `copied`,
  /// if given, is called with each piece of `record` once it is copied (a
  /// giant record's read block gives its pages back as it goes). `action`:
  /// the record's own action line, newline included, when the format takes
  /// one per record (empty for a record that is never sent: a failed route's).
  static void append(Batch& b, std::string_view record, std::string_view record_id = {},
                     void (*copied)(const char*, size_t) = nullptr, std::string_view action = {}) {
    const BodyFormat& f = *b.format;
    if (b.records) b.bytes.append(f.separator());
    if (f.before_size()) f.append_before(b.bytes, record_id);
    if (f.per_record_action()) {
      b.bytes.append(action);
      b.starts.push_back(static_cast<uint32_t>(b.bytes.size()));
    }
    if (copied) {
      constexpr size_t kPiece = 1 << 20;
      for (size_t at = 0; at < record.size(); at += kPiece) {
        std::string_view piece = record.substr(at, kPiece);
        b.bytes.append(piece);
        copied(piece.data(), piece.size());
      }
    } else {
      b.bytes.append(record);
    }
    b.ends.push_back(static_cast<uint32_t>(b.bytes.size()));
    b.bytes.append(f.after());
    ++b.records;
  }
  static void close(Batch& b) { b.bytes.append(b.format->close()); }
};

/// The records `indices` of `batch` (ascending) as a batch of their own, with
/// the same number, format and action lines; for sending part of a batch again.
Batch part_of(const Batch& batch, const std::vector<uint32_t>& indices);

}  // namespace batchpipe
