// Reading the spool back (--spool DIR): the segments in stream order, each
// as far as it is synced, as blocks of whole lines for the loop, the way the
// InputReader hands out an input's. A record's offset is its stream offset,
// the same in every run. Lines are validated here: one that is not a JSON
// text is damage (a disk error, a hand edit) and is reported with the
// segment's name and byte range and skipped; a line cut short at the end of
// a segment (a torn write) is reported and skipped. Nothing in a segment
// stops the reading.
#pragma once

#include <cstdint>
#include <vector>

#include "base/unique_fd.h"
#include "input/input_block.h"
#include "input/line_framer.h"
#include "json/line_validator.h"

namespace batchpipe {

class Spool;

class SpoolReader {
 public:
  /// Reading stops soon after `stop_fd` becomes readable.
  SpoolReader(Spool& spool, size_t block_size, uint64_t max_record, int stop_fd);

  /// Refills `block` with the next lines, waiting for the writer as needed.
  /// False once the writer is done and every segment was read, or at a stop.
  bool next(InputBlock& block);

  /// Every segment was read to its end (the reading was not stopped).
  bool drained() const { return drained_; }

 private:
  bool open_segment();
  /// Says that the stream's bytes [from, to) are in no segment.
  void missing(uint64_t from, uint64_t to);
  /// Waits for news from the writer; false at a stop.
  bool wait();
  bool stop_raised() const;
  /// Takes the lines that are not JSON texts out of `block`, saying where they lay.
  void drop_damage(InputBlock& block);

  Spool& spool_;
  size_t block_size_;
  int stop_fd_;
  LineFramer framer_;
  LineValidator validator_;
  std::vector<LineProblem> problems_;
  UniqueFd fd_;        ///< the segment being read; closed between segments
  uint64_t base_ = 0;  ///< its stream offset
  uint64_t read_ = 0;  ///< bytes of it read
  uint64_t pos_;       ///< stream offset where the next segment is looked for
  bool done_ = false, drained_ = false;
  std::vector<InputNote> pending_;  ///< what to say with the next block
  ExitStatus status_ = ExitStatus::Success;  ///< and what it means
};

}  // namespace batchpipe
