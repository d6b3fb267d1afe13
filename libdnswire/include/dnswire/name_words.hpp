#pragma once
// Wire-format names eight bytes at a time: ASCII case folding (RFC 4343 §3) and the word
// walk behind Name's hash and comparisons and centrald's answer cache. Hashing and
// comparing names is on every query's path; byte loops, or a variable-length memcpy for
// the last word, cost several times more than fixed 8-byte loads.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dnswire::words {

inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// Every byte 'A'..'Z' of `x` lowered; others (length octets are < 64) unchanged.
inline uint64_t lowerWord(uint64_t x) {
  const uint64_t low7 = x & ~kHighBits;
  const uint64_t atLeastA = low7 + (0x80 - 'A') * kOnes;    // high bit: byte >= 'A'
  const uint64_t aboveZ = low7 + (0x80 - 'Z' - 1) * kOnes;  // high bit: byte > 'Z'
  const uint64_t upper = atLeastA & ~aboveZ & ~x & kHighBits;  // and below 0x80
  return x | (upper >> 2);                                     // 0x80 >> 2 == 0x20
}

inline uint64_t load(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

inline void store(uint8_t* p, uint64_t w) { std::memcpy(p, &w, 8); }

// Bytes p[0..n) with n < 8, zero-padded to a word (the same word on any byte order as
// long as it is built the same way everywhere).
inline uint64_t shortWord(const uint8_t* p, size_t n) {
  uint64_t w = 0;
  for (size_t k = 0; k < n; ++k) w |= static_cast<uint64_t>(p[k]) << (8 * k);
  return w;
}

// Calls f(offset) for the offset of each 8-byte word covering p[0..n), n >= 8: the whole
// words from the start, then, when n is not a multiple of 8, the last eight bytes, which
// overlap the word before. Every byte is covered, none past the end is read, and two names
// of equal length are cut at the same offsets.
template <class F>
inline void forEachWord(size_t n, F&& f) {
  size_t at = 0;
  for (; at + 8 <= n; at += 8) f(at);
  if (at < n) f(n - 8);
}

// a[0..n) and b[0..n) are equal ignoring ASCII case.
inline bool equalIgnoringCase(const uint8_t* a, const uint8_t* b, size_t n) {
  if (n < 8) return lowerWord(shortWord(a, n)) == lowerWord(shortWord(b, n));
  size_t at = 0;
  for (; at + 8 <= n; at += 8)
    if (lowerWord(load(a + at)) != lowerWord(load(b + at))) return false;
  return at == n || lowerWord(load(a + n - 8)) == lowerWord(load(b + n - 8));
}

// `name` (any case) equals `lowered` (already lowercase) over n bytes.
inline bool equalsLowered(const uint8_t* name, const uint8_t* lowered, size_t n) {
  if (n < 8) return lowerWord(shortWord(name, n)) == shortWord(lowered, n);
  size_t at = 0;
  for (; at + 8 <= n; at += 8)
    if (lowerWord(load(name + at)) != load(lowered + at)) return false;
  return at == n || lowerWord(load(name + n - 8)) == load(lowered + n - 8);
}

// A hash of p[0..n) lowercased, mixed into `h`: equal for names equal ignoring case.
inline uint64_t mixLowered(uint64_t h, const uint8_t* p, size_t n) {
  auto mix = [&h](uint64_t w) {
    h ^= w;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 32;
  };
  if (n < 8) {
    mix(lowerWord(shortWord(p, n)));
  } else {
    forEachWord(n, [&](size_t at) { mix(lowerWord(load(p + at))); });
  }
  return h;
}

// Lowers p[0..n) in place.
inline void lowerInPlace(uint8_t* p, size_t n) {
  if (n < 8) {
    for (size_t k = 0; k < n; ++k)
      if (p[k] >= 'A' && p[k] <= 'Z') p[k] = static_cast<uint8_t>(p[k] | 0x20);
    return;
  }
  // Lowering is idempotent, so the overlapping last word may be lowered twice.
  forEachWord(n, [p](size_t at) { store(p + at, lowerWord(load(p + at))); });
}

}  // namespace dnswire::words
