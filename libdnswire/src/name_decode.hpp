#pragma once
// The one name decoder (RFC 1035 §4.1.4 with the RFC 9267 rules), shared by Name::fromWire
// (which copies the labels) and skipName (which only validates), so that both accept and
// reject exactly the same bytes.

#include <cstdint>
#include <cstring>

#include "dnswire/types.hpp"
#include "dnswire/wire_reader.hpp"

namespace dnswire::detail {

// Reads a possibly compressed name at the reader's position and advances past it. With
// kCopy the uncompressed wire form goes to out[0..outSize) (out holds kMaxNameLength).
template <bool kCopy>
inline WireError decodeName(WireReader& reader, uint8_t* out, size_t& outSize) {
  const std::span<const uint8_t> msg = reader.message();
  // The first run of labels is bounded by the reader (RDATA stays inside RDLENGTH); after
  // a pointer the name continues somewhere earlier in the whole message.
  size_t pos = reader.position();
  size_t limit = reader.end();
  // Start of the run being read: a pointer must land strictly before it, so every jump
  // goes to bytes not yet visited and decoding always ends (RFC 9267 §2).
  size_t runStart = pos;
  size_t resumeAt = 0;
  bool jumped = false;
  int hops = 0;
  size_t size = 0;
  // With kCopy, labels are copied a run at a time (up to a pointer or the end), not one
  // by one: a question name is one run, and a copy per label cost more than checking it.
  size_t copyFrom = pos;
  size_t copied = 0;
  for (;;) {
    if (pos >= limit) return WireError::Truncated;
    const uint8_t len = msg[pos];
    const uint8_t kind = len & 0xC0;
    if (kind == 0xC0) {
      if (pos + 1 >= limit) return WireError::Truncated;
      const size_t target = static_cast<size_t>(len & 0x3F) << 8 | msg[pos + 1];
      if (target >= pos) return WireError::PointerForward;
      // A name never starts inside the 12-byte header; a pointer there would make the name
      // change with the counts and ID (e.g. when a TSIG is appended), so it is malformed.
      if (target < kHeaderSize) return WireError::PointerIntoHeader;
      // Landing inside bytes this name already used closes a loop.
      if (target >= runStart) return WireError::PointerLoop;
      if (++hops > kMaxCompressionHops) return WireError::PointerLoop;
      if (!jumped) {
        resumeAt = pos + 2;
        jumped = true;
      }
      if constexpr (kCopy) {
        std::memcpy(out + copied, msg.data() + copyFrom, size - copied);
        copied = size;
        copyFrom = target;
      }
      pos = target;
      runStart = target;
      limit = msg.size();
      continue;
    }
    // 0x40 (extended labels, RFC 6891 §5) and 0x80 are not valid label types; a length
    // byte over 63 always has one of these bits set.
    if (kind != 0) return WireError::BadLabelType;
    if (size + 1 + len > kMaxNameLength) return WireError::NameTooLong;
    if (len == 0) {
      ++size;
      ++pos;
      if constexpr (kCopy) std::memcpy(out + copied, msg.data() + copyFrom, size - copied);
      break;
    }
    if (pos + 1 + len > limit) return WireError::Truncated;
    size += 1 + static_cast<size_t>(len);
    pos += 1 + static_cast<size_t>(len);
  }
  outSize = size;
  reader.seek(jumped ? resumeAt : pos);
  return WireError::Ok;
}

}  // namespace dnswire::detail
