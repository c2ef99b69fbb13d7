// --dead-letter-reasons: one JSON line per record given up, saying why, that
// jq can read. Pure: the line is made from values handed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace batchpipe {

/// What is known of one record given up.
struct DeadLetterReason {
  std::chrono::system_clock::time_point time;  ///< when it was given up
  uint64_t batch = 0;         ///< the batch's number
  uint64_t record = 0;        ///< 1-based, in the batch
  uint64_t records = 0;       ///< the batch's records
  std::string_view input;     ///< the input file's name, "-" for stdin; "" if not known
  uint64_t first_line = 0;    ///< the batch's first record's line in that input
  uint64_t last_line = 0;     ///< ... and its last's (the record lies between them)
  uint64_t line = 0;          ///< the record's own line in `input`; 0: not known
  int status = 0;             ///< HTTP or exit status; 0: none
  std::string_view reason;    ///< as messages say it, the receiver's reply quoted and redacted
};

/// {"time":"2026-12-07T18:30:00.123Z","batch":7,"record":790,"records":1000,
///  "input":"events.ndjson","line":6790,"lines":[6001,7000],"status":400,"reason":"..."}
/// and a newline. "input" and "line" are the record's own; "lines" the
/// batch's first and last. "line" is null when not known, as is "status"
/// without one; strings are JSON-escaped
/// (bytes that are not UTF-8 become U+FFFD).
std::string format_reason(const DeadLetterReason& r);

}  // namespace batchpipe
