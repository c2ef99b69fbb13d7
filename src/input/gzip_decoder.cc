#include "input/gzip_decoder.h"

#include <cstring>

#include <fmt/format.h>

namespace batchpipe {

GzipDecoder::~GzipDecoder() {
  if (ready_) inflateEnd(&z_);
}

bool GzipDecoder::init(std::string& error) {
  int rc = inflateInit2(&z_, 16 + MAX_WBITS);  // gzip wrapper only
  if (rc != Z_OK) {
    error = fmt::format("cannot set up gzip decompression: {}", z_.msg ? z_.msg : zError(rc));
    return false;
  }
  ready_ = true;
  return true;
}

char* GzipDecoder::space(size_t min) {
  if (in_pos_ == in_end_) in_pos_ = in_end_ = 0;
  if (in_.size() - in_end_ < min) {
    if (in_pos_ > 0) {  // move what is left to the front first
      std::memmove(in_.data(), in_.data() + in_pos_, in_end_ - in_pos_);
      in_end_ -= in_pos_;
      in_pos_ = 0;
    }
    if (in_.size() - in_end_ < min) in_.resize(in_end_ + min);
  }
  return in_.data() + in_end_;
}

void GzipDecoder::fed(size_t n) { in_end_ += n; }

ssize_t GzipDecoder::inflate_into(char* out, size_t cap, std::string& error) {
  if (!failed_.empty()) {
    error = failed_;
    return -1;
  }
  size_t produced = 0;
  while (produced < cap && in_pos_ < in_end_) {
    if (!in_member_) {
      inflateReset(&z_);  // the next member of a concatenated stream
      in_member_ = true;
    }
    z_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
    z_.avail_in = static_cast<uInt>(std::min<size_t>(in_end_ - in_pos_, UINT32_MAX));
    z_.next_out = reinterpret_cast<Bytef*>(out + produced);
    z_.avail_out = static_cast<uInt>(std::min<size_t>(cap - produced, UINT32_MAX));
    uInt in_before = z_.avail_in, out_before = z_.avail_out;
    int rc = inflate(&z_, Z_NO_FLUSH);
    size_t used = in_before - z_.avail_in, made = out_before - z_.avail_out;
    in_pos_ += used;
    consumed_ += used;
    produced += made;
    produced_ += made;
    if (rc == Z_STREAM_END) {
      in_member_ = false;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && (used > 0 || made > 0)) continue;
    if (rc == Z_BUF_ERROR) break;  // needs more input (or more room)
    failed_ = fmt::format("corrupt gzip data: {}", z_.msg ? z_.msg : zError(rc));
    if (produced > 0) break;  // hand out what came before it first
    error = failed_;
    return -1;
  }
  return static_cast<ssize_t>(produced);
}

bool GzipDecoder::finish(std::string& error) const {
  if (!in_member_ && in_pos_ == in_end_) return true;
  error = "the gzip data ends early: truncated";
  return false;
}

}  // namespace batchpipe
