// The default sink: batches go to a file descriptor (stdout), one per line.
#pragma once

#include <cstdint>
#include <vector>

#include "sinks/sink.h"

namespace batchpipe {

class StdoutSink : public Sink {
 public:
  /// Writes to `fd`; a pipe is enlarged so that each write moves more.
  explicit StdoutSink(int fd);

  void deliver(Batch&& batch) override;
  void flush() override;
  bool broken() const override { return failed_ || downstream_closed_; }
  ExitStatus status() const override {
    return failed_ || downstream_closed_ ? ExitStatus::Undelivered : ExitStatus::Success;
  }
  uint64_t undelivered_records() const override { return undelivered_; }

  bool reader_gone() const override { return downstream_closed_; }

 private:
  int fd_;
  std::vector<Batch> pending_;
  uint64_t pending_bytes_ = 0;
  bool failed_ = false;
  bool downstream_closed_ = false;
  uint64_t undelivered_ = 0;
};

}  // namespace batchpipe
