// The line framer: one input's bytes in, line spans out. Pure (no I/O, no
// clock), so every edge is unit-tested: a line split across reads or blocks,
// CRLF, a BOM at the start of the input, blank lines, a line too long to hold
// (read through in bounded memory and reported), the last line without a
// newline.
//
// It frames in place, in the block's own buffer: the caller reads straight
// into space() and says how much came with fed(), so a byte is copied only
// when it is part of a line carried over to the next block.
//
// One block's protocol:
//   begin(block, size);
//   if (!has_line()) while (want more) { auto room = space(block); if (room.empty()) break;
//                                        read into room; fed(block, n) or end_of_input(block); }
//   frame(block, max) to hand out whole lines and carry the rest, or
//   finish(block, whole) when the input ended (or stopped) after this block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "input/input_block.h"

namespace batchpipe {

/// Whitespace around a record beyond the record limit that is still held, so
/// that a record padded with a few spaces is not mistaken for an oversized one.
inline constexpr uint64_t kFramerSlack = 64;

class LineFramer {
 public:
  /// `max_record`: longer lines (without the blanks around them) are not
  /// held but read through and reported in InputBlock::oversized.
  /// `text` (--input text): lines are kept whole, only the line ending (LF
  /// or CRLF) goes, empty ones included; otherwise blanks (space, tab, CR)
  /// around a line are trimmed and blank lines dropped.
  LineFramer(uint64_t max_record, bool text) : max_record_(max_record), text_(text) {}

  /// Starts the input (again) at byte `offset` after `line` lines: a new
  /// input, a checkpoint's resume point, a truncated file read again. A
  /// carried partial line and a line being read through are forgotten.
  /// A BOM is looked for only at line 0.
  void restart(uint64_t offset = 0, uint64_t line = 0);

  /// Starts filling `block`: sizes its buffer for `block_size` bytes (more
  /// if the carried partial line needs it; a buffer far too big, or larger
  /// than `at_most`, is given back), puts the carry at its start, and sets
  /// offset, skew and framed. Input fills at most `block_size` bytes of it
  /// unless one line is longer. The caller has cleared lines, oversized,
  /// input_bytes and line_count.
  void begin(InputBlock& block, size_t block_size, size_t at_most = SIZE_MAX);

  /// A newline lies in the buffer: there is at least one whole line to frame.
  bool has_line() const { return have_line_; }

  /// Where the next bytes of the input go (at the end of block.buffer). If
  /// the buffer is full with no newline in it (one line fills it), room is
  /// made first: blanks around the line are dropped, the buffer grows while
  /// the line may still fit the record limit, or the line is read through
  /// from here on. Empty only when the buffer is full and holds a newline.
  std::span<char> space(InputBlock& block);

  /// How many bytes space() may add to the buffer now, before it has room
  /// (a line that fills the buffer and may still fit the record limit);
  /// 0 when it will not grow it. Lets the reader ask the budget first.
  size_t growth(const InputBlock& block) const;

  /// The memory the carried partial line holds, by capacity.
  size_t carried() const { return carry_.capacity(); }

  /// `n` (> 0) bytes were put at the start of space().
  void fed(InputBlock& block, size_t n);

  /// The input ended (a read returned 0): a line being read through ends
  /// with it and is reported.
  void end_of_input(InputBlock& block);

  /// Frames the whole lines in the buffer (at most `max_lines`) and carries
  /// the bytes after them to the next block.
  void frame(InputBlock& block, size_t max_lines);

  /// The last block of the input: with `whole` (the input ended) every byte
  /// is framed, the last line counting without its newline; otherwise
  /// (stopped, or a read failed) the whole lines are, and a line cut short is
  /// dropped: returns its size if it holds anything but blanks, else 0.
  size_t finish(InputBlock& block, bool whole);

  /// Lines of the input framed (or read through) so far.
  uint64_t line() const { return line_; }
  /// Bytes of the input framed (or dropped) so far: where the carry starts.
  uint64_t consumed() const { return consumed_; }

 private:
  /// Frames whole lines from buffer[0] up to `end` (just past a newline, or
  /// the end of the input), at most `max_lines`; returns where it stopped.
  size_t frame_upto(InputBlock& block, size_t end, size_t max_lines);
  /// Ends the block's framing at `end`, carrying buffer[end, used) over.
  void close_block(InputBlock& block, size_t end);
  /// Where the partial line at buffer[0] begins: after a BOM that framing
  /// will strip, and after one blank that keeps a later BOM from looking
  /// like the first.
  size_t line_start(const InputBlock& block) const;
  /// Everything consumed so far was dropped: buffer[0] is the next input byte.
  void dropped_all(InputBlock& block) const;
  /// Counts `n` bytes of a line being read through, trailing blanks only
  /// once content follows them.
  void count_discarded(const char* p, size_t n);
  void start_discarding(InputBlock& block, uint64_t size, uint64_t blanks);

  uint64_t max_record_;
  bool text_;
  // The input's position.
  uint64_t line_ = 0;
  uint64_t consumed_ = 0;
  std::string carry_;            ///< a partial line (or unframed whole lines) for the next block
  bool discarding_ = false;      ///< inside a line too long to keep
  uint64_t discard_line_ = 0;
  uint64_t discard_size_ = 0;
  // The block being filled.
  size_t used_ = 0;              ///< bytes of block.buffer holding input
  size_t limit_ = SIZE_MAX;      ///< input fills block.buffer up to here, unless one line is longer
  bool have_line_ = false;
  bool holding_ = false;         ///< the buffer holds a full-size line's content; only blanks came since
  uint64_t held_blanks_ = 0;     ///< those blanks, dropped
  uint64_t discard_blanks_ = 0;  ///< blanks ending what was read through so far, not yet counted
};

}  // namespace batchpipe
