// A gzip stream read through another source (a file or a pipe whose first
// bytes are the gzip magic), decompressed on the fly. Several members
// (`cat a.gz b.gz`) are one stream; a stream cut short inside a member is an
// error. Offsets of gzip input count decompressed bytes, so a resume drops
// the first `skip` of them.
#pragma once

#include <memory>
#include <string>

#include "input/gzip_decoder.h"
#include "input/source.h"

namespace batchpipe {

class GzipSource final : public Source {
 public:
  /// Reads the compressed bytes from `raw`, dropping the first `skip`
  /// decompressed ones.
  GzipSource(std::unique_ptr<Source> raw, uint64_t skip) : raw_(std::move(raw)), skip_(skip) {}

  /// Sets zlib up and takes in the first `n` compressed bytes, already read
  /// from `raw` (where the magic was seen); false with `error` set if zlib
  /// cannot be set up.
  bool start(const char* first, size_t n, std::string& error);

  /// Errors say how far the stream got: "(after N compressed bytes, M bytes decompressed)".
  ssize_t read(char* dst, size_t cap, std::string& error) override;
  bool ready() const override { return decoder_.pending(); }
  int fd() const override { return raw_->fd(); }

 private:
  ssize_t fail(std::string& error) const;

  std::unique_ptr<Source> raw_;
  GzipDecoder decoder_;
  uint64_t skip_;
};

}  // namespace batchpipe
