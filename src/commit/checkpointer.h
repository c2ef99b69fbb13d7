// --checkpoint as the loop sees it: the positions to resume from at start-up,
// the ledger of what is committed, and when to write it down. Writes come
// at most every kCheckpointEvery while positions move, when the loop asks
// (kCheckpointBytes committed since the last write, or the byte budget held
// by records committed but not yet written down) and at the end of the run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "commit/checkpoint_file.h"
#include "commit/checkpoint_ledger.h"
#include "base/units.h"

namespace batchpipe {

inline constexpr Duration kCheckpointEvery = std::chrono::milliseconds(200);
/// A write also comes once this many bytes of records were committed since
/// the last one, so that what a crash sends again stays small at full speed
/// too (bench/kill9_repeat: 1M log lines to stdout, kill -9 after 400,000:
/// 127,000-137,000 lines repeated with the 200 ms rule and --max-buffer
/// alone, 20,000 with this). The writes block the loop (two fsyncs each): at
/// 1 MiB they doubled that run's time, at 4 MiB they add about 7%.
inline constexpr uint64_t kCheckpointBytes = 4 << 20;

class Checkpointer {
 public:
  /// Locks and reads the checkpoint for `inputs` (names as given; "-" is
  /// stdin, never resumed). Nothing, with `error` set, if it cannot be used.
  static std::unique_ptr<Checkpointer> open(const std::string& path, const std::vector<std::string>& inputs,
                                            std::string& error);

  /// Where each input may start again, by input index (see ReaderOptions::resume); one entry per input.
  std::vector<std::optional<ResumePoint>> resume_points() const;

  CheckpointLedger& ledger() { return ledger_; }

  /// When positions moved and are not yet written: the time to write them.
  std::optional<TimePoint> deadline() const { return dirty_ ? std::optional(next_write_) : std::nullopt; }
  /// True if something moved since the last write.
  bool dirty() { return dirty_ = dirty_ || ledger_.take_changed(); }
  /// Writes the positions if they moved; true if the file now holds them.
  /// A failure is said once (until a write works again) and retried next time.
  bool save(TimePoint now);
  /// True if the last save() failed.
  bool failing() const { return failing_; }
  /// True if a position names a file the checkpoint file does not (an
  /// input's first, or the next after a rotation): it is to be written
  /// before the next batch goes. A crash after a delivery would otherwise
  /// leave a checkpoint that does not know the file, and the next run would
  /// read whatever the name leads to then, from its start, missing the rest
  /// of a file rotated meanwhile.
  bool names_new_file();

 private:
  Checkpointer(CheckpointFile file, std::vector<std::string> paths)
      : file_(std::move(file)), paths_(std::move(paths)), ledger_(paths_.size()), written_(paths_.size()) {
    std::vector<std::optional<ResumePoint>> loaded = resume_points();
    for (size_t i = 0; i < loaded.size(); ++i)
      if (loaded[i]) written_[i] = loaded[i]->identity;
  }

  CheckpointFile file_;
  std::vector<std::string> paths_;  ///< absolute, by input index; empty for stdin
  CheckpointLedger ledger_;
  std::vector<std::optional<FileIdentity>> written_;  ///< by input: the file the checkpoint file names
  bool new_file_ = false;
  bool dirty_ = false;
  bool failing_ = false;
  TimePoint next_write_{};
};

}  // namespace batchpipe
