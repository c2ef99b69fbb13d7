// {record_id}: a name for a record that a receiver can deduplicate on: the
// record's source (a key for the input it came from) and the byte offset of
// its line there, both as 16 hex digits: "<source>-<offset>", always
// kRecordIdSize bytes.
//
// A regular file's key comes from its identity (device, inode and the
// fingerprint of its first bytes, see file_identity.h), so a re-run over the
// same file, or a resume from a checkpoint, names every record the same. A
// file still shorter than the fingerprint (1 KiB) when read has a key that
// changes as it grows: its records may get other ids next time (duplicates,
// never a record taken for another). Stdin and pipes get a random key per
// run, mixed with the input's index: stable across the retries of a run only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "batch/body_format.h"

namespace batchpipe {

/// The key of a regular file with this identity.
uint64_t file_source(uint64_t device, uint64_t inode, uint64_t fingerprint, uint64_t fingerprint_bytes);

/// A random key for this run.
uint64_t random_run_key();

/// The key of input `input` read from a pipe in the run whose key is `run`.
uint64_t pipe_source(uint64_t run, uint32_t input);

/// A batch's id from where its records lie: the key of their source, where
/// the first starts and where the last ends, "<source>-<offset>-<end>" in
/// hex. Used for spooled records (--spool), whose positions are the same in
/// every run: a batch sent again after a restart with the same records has
/// the same Idempotency-Key; one cut differently has another.
std::string positional_batch_id(uint64_t source, uint64_t first_offset, uint64_t last_end);

/// Writes the id into `out` (kRecordIdSize bytes) and returns a view of it.
inline std::string_view format_record_id(uint64_t source, uint64_t offset, char (&out)[kRecordIdSize]) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, source >>= 4) out[i] = kHex[source & 15];
  out[16] = '-';
  for (int i = 32; i >= 17; --i, offset >>= 4) out[i] = kHex[offset & 15];
  return {out, kRecordIdSize};
}

}  // namespace batchpipe
