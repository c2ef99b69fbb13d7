// The default sink: batches go to stdout, one per line. There is no worker:
// a batch is delivered when the commit step writes it, through the one
// StdoutWriter, in runs of about 1 MiB (few large writes keep up with cat).
#pragma once

#include <cstdint>
#include <vector>

#include "commit/stdout_writer.h"
#include "sinks/sink.h"

namespace batchpipe {

class StdoutSink : public Sink {
 public:
  /// Writes to `fd` (-1: stdout was closed when we started).
  explicit StdoutSink(int fd) : out_(fd) {}

  void deliver(Batch&& batch) override;
  void flush() override;
  bool broken() const override { return out_.broken(); }
  ExitStatus status() const override { return out_.broken() ? ExitStatus::Undelivered : ExitStatus::Success; }
  uint64_t undelivered_records() const override { return undelivered_; }

  bool reader_gone() const override { return out_.reader_gone(); }

 private:
  StdoutWriter out_;
  std::vector<Batch> pending_;
  std::vector<std::string_view> pieces_;  ///< reused by flush()
  uint64_t pending_bytes_ = 0;
  uint64_t undelivered_ = 0;
};

}  // namespace batchpipe
