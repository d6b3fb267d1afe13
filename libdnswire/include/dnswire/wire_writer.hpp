#pragma once
// Appends to a caller-owned buffer up to a hard limit. A write that does not fit writes
// nothing and returns false; mark()/rollback() undo a partly written record.

#include <cstdint>
#include <cstring>
#include <span>

namespace dnswire {

class WireWriter {
 public:
  // Writes into `buffer`, never past min(limit, buffer.size()).
  WireWriter(std::span<uint8_t> buffer, size_t limit)
      : buf_(buffer), limit_(limit < buffer.size() ? limit : buffer.size()) {}
  explicit WireWriter(std::span<uint8_t> buffer) : WireWriter(buffer, buffer.size()) {}

  size_t size() const { return pos_; }
  size_t limit() const { return limit_; }
  size_t room() const { return limit_ - pos_; }
  void setLimit(size_t limit) { limit_ = limit < buf_.size() ? limit : buf_.size(); }
  std::span<const uint8_t> written() const { return {buf_.data(), pos_}; }
  uint8_t* data() { return buf_.data(); }

  bool writeU8(uint8_t v) {
    if (room() < 1) return false;
    buf_[pos_++] = v;
    return true;
  }
  bool writeU16(uint16_t v) {
    if (room() < 2) return false;
    buf_[pos_++] = static_cast<uint8_t>(v >> 8);
    buf_[pos_++] = static_cast<uint8_t>(v);
    return true;
  }
  bool writeU32(uint32_t v) {
    if (room() < 4) return false;
    buf_[pos_++] = static_cast<uint8_t>(v >> 24);
    buf_[pos_++] = static_cast<uint8_t>(v >> 16);
    buf_[pos_++] = static_cast<uint8_t>(v >> 8);
    buf_[pos_++] = static_cast<uint8_t>(v);
    return true;
  }
  bool writeBytes(std::span<const uint8_t> bytes) {
    if (room() < bytes.size()) return false;
    if (!bytes.empty()) std::memcpy(buf_.data() + pos_, bytes.data(), bytes.size());
    pos_ += bytes.size();
    return true;
  }
  // Overwrites two bytes already written (counts, RDLENGTH).
  void patchU16(size_t offset, uint16_t v) {
    buf_[offset] = static_cast<uint8_t>(v >> 8);
    buf_[offset + 1] = static_cast<uint8_t>(v);
  }

  using Mark = size_t;
  Mark mark() const { return pos_; }
  void rollback(Mark m) { pos_ = m; }

 private:
  std::span<uint8_t> buf_;
  size_t limit_;
  size_t pos_ = 0;
};

}  // namespace dnswire
