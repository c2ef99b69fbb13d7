// {record_id}: a name for a record that a receiver can deduplicate on. It is
// the record's source (a key for the input it came from) and the byte offset
// of its line there (for now: its line number), both as 16 hex digits: "<source>-<offset>", always
// kRecordIdSize bytes. A regular file's key comes from the file's identity,
// so a re-run over the same file names every record the same; a pipe's
// comes from the run's id, so it is stable within a run only (retries).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "batch/body_format.h"

namespace batchpipe {

/// The source key of each input, by its index.
using RecordSources = std::function<uint64_t(uint32_t input)>;

/// Keys for a run whose inputs are named by the run alone: a random run key
/// mixed with each input's index.
RecordSources run_record_sources();

/// Writes the id into `out` (kRecordIdSize bytes) and returns a view of it.
inline std::string_view format_record_id(uint64_t source, uint64_t offset, char (&out)[kRecordIdSize]) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, source >>= 4) out[i] = kHex[source & 15];
  out[16] = '-';
  for (int i = 32; i >= 17; --i, offset >>= 4) out[i] = kHex[offset & 15];
  return {out, kRecordIdSize};
}

}  // namespace batchpipe
