// A growable run of bytes that costs memory only where it is written: its
// storage comes from malloc and grows by realloc, never zero-filled. Large
// buffers are mappings of their own (see memory.h: tune_allocator), so
// growing one moves pages instead of copying them (mremap), and a buffer
// that is grown but not written holds address space, not memory. This is
// what a read block needs for a giant line: it grows to the line's size
// without holding the line twice on the way.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace batchpipe {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  /// `size` bytes, their contents unspecified.
  explicit ByteBuffer(size_t size) { resize(size); }
  ByteBuffer(const ByteBuffer& other) : ByteBuffer(other.size_) {
    if (size_) std::memcpy(data_, other.data_, size_);
  }
  ByteBuffer(ByteBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  ByteBuffer& operator=(ByteBuffer other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~ByteBuffer() { std::free(data_); }

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  char& operator[](size_t i) { return data_[i]; }
  const char& operator[](size_t i) const { return data_[i]; }

  /// Grows or shrinks to `size` bytes; the first min(old, new) bytes are
  /// kept, any new ones are unspecified. Throws std::bad_alloc.
  void resize(size_t size) {
    if (size == size_) return;
    void* grown = std::realloc(data_, size ? size : 1);
    if (!grown) throw std::bad_alloc();
    data_ = static_cast<char*>(grown);
    size_ = size;
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace batchpipe
