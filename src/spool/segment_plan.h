// The spool's pure rules (--spool DIR): how a segment is named, where the
// whole lines of a segment end, and which segments may go once the commit
// step has passed them. No I/O: unit-tested in tests/segment_plan_test.cc.
//
// The spool is one byte stream cut into segment files. A segment is named
// by the stream offset of its first byte, 20 decimal digits and ".ndjson"
// ("00000000000004194304.ndjson"), so `ls` lists segments in stream order
// and a record's stream offset (its segment's name plus its offset in it)
// is the same in every run that reads it: the offset {record_id} names it by.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace batchpipe {

inline constexpr std::string_view kSegmentSuffix = ".ndjson";

/// "00000000000000001234.ndjson" for `base` 1234.
std::string segment_name(uint64_t base);

/// The base of a segment named `name`, or nothing if `name` is not one
/// (the spool's state file, a temporary file, something a user put there).
std::optional<uint64_t> parse_segment_name(std::string_view name);

/// "DIR/refused.ndjson": with no --dead-letter, where records the receiver
/// refused for good are kept (not a segment's name: the spool never deletes
/// or resends it).
std::string spool_refused_path(const std::string& dir);

/// A segment as the spool knows it.
struct SegmentSpan {
  uint64_t base = 0;  ///< stream offset of its first byte (its name)
  uint64_t size = 0;  ///< bytes in the file
  uint64_t end() const { return base + size; }
};

/// How many segments at the front of `segments` (in stream order) may be
/// deleted when every record before stream offset `committed` is committed:
/// those that end at or before it. `keep_last` keeps the last one whatever
/// (the one being written).
size_t deletable_segments(const std::vector<SegmentSpan>& segments, uint64_t committed, bool keep_last);

/// Where the whole lines of a segment's last `tail` bytes end, counted from
/// the start of `tail`: just past its last newline, 0 if it has none. What
/// follows is a line cut short (a torn write).
size_t whole_lines_end(std::string_view tail);

/// Where the next run writes: after the last segment, and never before
/// `committed` (the segments before it may all be gone).
uint64_t next_write_offset(const std::vector<SegmentSpan>& segments, uint64_t committed);

/// Where reading starts: at `committed`, or at the first segment if that
/// begins later (a segment deleted by hand), or at `committed` if none.
uint64_t first_read_offset(const std::vector<SegmentSpan>& segments, uint64_t committed);

}  // namespace batchpipe
