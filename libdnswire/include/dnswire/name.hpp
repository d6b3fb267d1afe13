#pragma once
// A domain name held as uncompressed wire bytes in fixed storage (no heap), so that the
// query path can parse and compare names without allocating.

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "dnswire/error.hpp"
#include "dnswire/types.hpp"

namespace dnswire {

class WireReader;

class Name {
 public:
  // The empty name: no labels at all, not even the root. Distinct from root().
  Name() = default;
  // Copies only the bytes in use: names are copied often on the query path and most are
  // far shorter than the 255-byte storage.
  Name(const Name& other) noexcept : size_(other.size_) {
    std::memcpy(bytes_.data(), other.bytes_.data(), size_);
  }
  Name& operator=(const Name& other) noexcept {
    size_ = other.size_;
    std::memmove(bytes_.data(), other.bytes_.data(), size_);
    return *this;
  }
  static Name root();

  // Reads a possibly compressed name at the reader's position and advances past it.
  // Pointers must point strictly backwards (RFC 9267 §2), at most kMaxCompressionHops,
  // labels <= 63, whole name <= 255 octets (RFC 1035 §2.3.4), label types 0x40/0x80
  // rejected (a length byte over 63 always has one of those bits set, so it is reported
  // as BadLabelType). A pointer landing inside bytes this name already used is a loop
  // (PointerLoop). The reader's message() is what pointers index into.
  static Result<Name> fromWire(WireReader& reader);
  // The same into `out` (left unspecified on error): no Result to copy on the query path.
  static WireError fromWire(WireReader& reader, Name& out);

  // Parses presentation text ("www.example.com.", "a\.b", "\065"). Text without a
  // trailing dot is relative: `origin` is appended (an empty origin leaves it relative,
  // which is an error: BadText). "@" is not handled here (the zone loader does it).
  static Result<Name> fromText(std::string_view text, const Name& origin = root());

  // Builds from uncompressed wire bytes (validated).
  static Result<Name> fromUncompressed(std::span<const uint8_t> wire);

  // Presentation text with a trailing dot; '.' and special characters escaped, non-printable
  // bytes as \DDD. The root is "."; a relative name prints without the trailing dot.
  std::string toText() const;

  // Uncompressed wire form including the terminating zero (empty for the empty name).
  std::span<const uint8_t> wire() const { return {bytes_.data(), size_}; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool isRoot() const { return size_ == 1; }
  size_t labelCount() const;  // root has 0
  // The i-th label (0 = leftmost), without its length byte.
  std::string_view label(size_t i) const;

  // True when this name equals `parent` or lies below it (case-insensitive).
  bool isSubdomainOf(const Name& parent) const;
  // This name with its leftmost label removed; the root's parent is the root.
  Name parent() const;
  // `label` + this name; fails with LabelTooLong / NameTooLong.
  Result<Name> prepend(std::string_view label) const;
  // This (relative, i.e. without its root byte if it has one) name followed by `suffix`.
  Result<Name> concat(const Name& suffix) const;
  // A copy with ASCII letters lowered (for keys and for 0x20-insensitive comparisons).
  Name lowercased() const;

  // Case-insensitive (RFC 4343).
  bool operator==(const Name& other) const;
  bool operator!=(const Name& other) const { return !(*this == other); }
  // Canonical order of RFC 4034 §6.1 (by labels right to left, case-insensitive).
  int compareCanonical(const Name& other) const;
  // Case-insensitive hash, consistent with operator==.
  size_t hash() const;

 private:
  // Only bytes_[0, size_) is meaningful; the rest is left uninitialized on purpose.
  std::array<uint8_t, kMaxNameLength> bytes_;
  uint8_t size_ = 0;
};

struct NameHash {
  size_t operator()(const Name& name) const { return name.hash(); }
};

}  // namespace dnswire

template <>
struct std::hash<dnswire::Name> {
  size_t operator()(const dnswire::Name& name) const { return name.hash(); }
};
