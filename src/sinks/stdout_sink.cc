#include "sinks/stdout_sink.h"

#include <limits.h>

namespace batchpipe {
namespace {

/// Batches are held until this many bytes are waiting, then written at once;
/// few large writes are what keeps up with cat.
constexpr uint64_t kWriteBytes = 1 << 20;
constexpr size_t kMaxIov = IOV_MAX;

}  // namespace

void StdoutSink::deliver(Batch&& batch) {
  if (broken()) {
    undelivered_ += batch.records;
    spend(std::move(batch), false);
    return;
  }
  pending_bytes_ += batch.bytes.size();
  pending_.push_back(std::move(batch));
  if (pending_bytes_ >= kWriteBytes || pending_.size() >= kMaxIov) flush();
}

void StdoutSink::flush() {
  pieces_.clear();
  for (const Batch& b : pending_) pieces_.push_back(b.bytes);
  size_t written = out_.write(pieces_);
  // A batch cut short by an error counts as undelivered, like those after it.
  for (size_t i = written; i < pending_.size(); ++i) undelivered_ += pending_[i].records;
  for (size_t i = 0; i < pending_.size(); ++i) spend(std::move(pending_[i]), i < written);
  pending_.clear();
  pending_bytes_ = 0;
}

}  // namespace batchpipe
