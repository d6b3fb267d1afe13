#pragma once
// Bounds-checked reading of a DNS message. Every read checks the remaining length first
// and fails with WireError::Truncated instead of reading past the end.

#include <cstdint>
#include <span>

#include "dnswire/error.hpp"

namespace dnswire {

class WireReader {
 public:
  // Reads `message` from its start.
  explicit WireReader(std::span<const uint8_t> message) : message_(message), pos_(0), end_(message.size()) {}

  size_t position() const { return pos_; }
  size_t end() const { return end_; }
  size_t remaining() const { return end_ - pos_; }
  bool atEnd() const { return pos_ == end_; }
  // The whole message, which compression pointers index into.
  std::span<const uint8_t> message() const { return message_; }

  bool readU8(uint8_t& out) {
    if (remaining() < 1) return false;
    out = message_[pos_++];
    return true;
  }
  bool readU16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<uint16_t>(message_[pos_] << 8 | message_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool readU32(uint32_t& out) {
    if (remaining() < 4) return false;
    out = static_cast<uint32_t>(message_[pos_]) << 24 | static_cast<uint32_t>(message_[pos_ + 1]) << 16 |
          static_cast<uint32_t>(message_[pos_ + 2]) << 8 | message_[pos_ + 3];
    pos_ += 4;
    return true;
  }
  bool readBytes(size_t n, std::span<const uint8_t>& out) {
    if (remaining() < n) return false;
    out = message_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  // A reader over the next n bytes (for RDATA), sharing the message for pointers;
  // this reader advances past them. False when fewer than n bytes remain.
  bool sub(size_t n, WireReader& out) {
    if (remaining() < n) return false;
    out = WireReader(message_, pos_, pos_ + n);
    pos_ += n;
    return true;
  }
  // Repositions within [0, end()] (used by the name decoder to follow pointers).
  void seek(size_t pos) { pos_ = pos <= end_ ? pos : end_; }

 private:
  WireReader(std::span<const uint8_t> message, size_t pos, size_t end) : message_(message), pos_(pos), end_(end) {}

  std::span<const uint8_t> message_;
  size_t pos_;
  size_t end_;
};

}  // namespace dnswire
