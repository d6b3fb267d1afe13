#include "dnswire/name.hpp"

#include <algorithm>
#include <cstring>

#include "dnswire/name_words.hpp"
#include "dnswire/wire_reader.hpp"
#include "name_decode.hpp"

namespace dnswire {
namespace {

inline uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c; }

// Characters that must be escaped in a label so that the text parses back to the same
// label (RFC 1035 §5.1 plus the master-file specials '@', '$', '(' and ')').
inline bool needsBackslash(uint8_t c) {
  return c == '.' || c == ';' || c == '(' || c == ')' || c == '"' || c == '\\' || c == '@' || c == '$';
}

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Name Name::root() {
  Name n;
  n.bytes_[0] = 0;
  n.size_ = 1;
  return n;
}

Result<Name> Name::fromWire(WireReader& reader) {
  Name name;
  if (WireError e = fromWire(reader, name); e != WireError::Ok) return e;
  return name;
}

WireError Name::fromWire(WireReader& reader, Name& out) {
  size_t size = 0;
  if (WireError e = detail::decodeName<true>(reader, out.bytes_.data(), size); e != WireError::Ok) return e;
  out.size_ = static_cast<uint8_t>(size);
  return WireError::Ok;
}

Result<Name> Name::fromUncompressed(std::span<const uint8_t> wire) {
  if (wire.empty()) return Name();
  if (wire.size() > kMaxNameLength) return WireError::NameTooLong;
  size_t pos = 0;
  while (pos < wire.size()) {
    const uint8_t len = wire[pos];
    if (len & 0xC0) return WireError::BadLabelType;
    if (len == 0) {
      if (pos + 1 != wire.size()) return WireError::TrailingBytes;
      break;
    }
    if (pos + 1 + len > wire.size()) return WireError::Truncated;
    pos += 1 + static_cast<size_t>(len);
  }
  Name n;
  std::memcpy(n.bytes_.data(), wire.data(), wire.size());
  n.size_ = static_cast<uint8_t>(wire.size());
  return n;
}

Result<Name> Name::fromText(std::string_view text, const Name& origin) {
  if (text.empty()) return Error(WireError::BadText, "empty name");
  if (text == ".") return root();
  Name n;
  size_t out = 0;
  uint8_t label[kMaxLabelLength + 1];
  size_t labelLen = 0;
  bool absolute = false;
  auto flush = [&]() -> WireError {
    if (labelLen == 0) return WireError::BadText;  // "a..b" or a leading dot
    if (out + 1 + labelLen > kMaxNameLength) return WireError::NameTooLong;
    n.bytes_[out++] = static_cast<uint8_t>(labelLen);
    std::memcpy(n.bytes_.data() + out, label, labelLen);
    out += labelLen;
    labelLen = 0;
    return WireError::Ok;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    uint8_t byte;
    if (c == '.') {
      if (WireError e = flush(); e != WireError::Ok) return Error(e, "bad name: " + std::string(text));
      if (i + 1 == text.size()) absolute = true;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return Error(WireError::BadText, "dangling backslash in name");
      if (isDigit(text[i + 1])) {
        // \DDD: exactly three decimal digits, value <= 255 (RFC 1035 §5.1).
        if (i + 3 >= text.size() || !isDigit(text[i + 2]) || !isDigit(text[i + 3]))
          return Error(WireError::BadText, "bad \\DDD escape");
        const int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (v > 255) return Error(WireError::BadText, "\\DDD escape over 255");
        byte = static_cast<uint8_t>(v);
        i += 3;
      } else {
        byte = static_cast<uint8_t>(text[i + 1]);
        i += 1;
      }
    } else {
      byte = static_cast<uint8_t>(c);
    }
    if (labelLen >= kMaxLabelLength) return Error(WireError::LabelTooLong, "label over 63 octets");
    label[labelLen++] = byte;
  }
  if (labelLen > 0) {
    if (WireError e = flush(); e != WireError::Ok) return Error(e, "bad name: " + std::string(text));
  }
  if (absolute) {
    if (out + 1 > kMaxNameLength) return WireError::NameTooLong;
    n.bytes_[out++] = 0;
    n.size_ = static_cast<uint8_t>(out);
    return n;
  }
  n.size_ = static_cast<uint8_t>(out);
  if (origin.empty()) return Error(WireError::BadText, "relative name without origin: " + std::string(text));
  return n.concat(origin);
}

std::string Name::toText() const {
  if (size_ == 0) return "";
  if (isRoot()) return ".";
  std::string s;
  s.reserve(size_ + 8);
  size_t pos = 0;
  while (pos < size_) {
    const uint8_t len = bytes_[pos];
    if (len == 0) break;
    for (size_t i = pos + 1; i <= pos + len && i < size_; ++i) {
      const uint8_t c = bytes_[i];
      if (needsBackslash(c)) {
        s.push_back('\\');
        s.push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7F) {
        // Non-printable octets and space as \DDD so the text stays one token.
        s.push_back('\\');
        s.push_back(static_cast<char>('0' + c / 100));
        s.push_back(static_cast<char>('0' + c / 10 % 10));
        s.push_back(static_cast<char>('0' + c % 10));
      } else {
        s.push_back(static_cast<char>(c));
      }
    }
    pos += 1 + static_cast<size_t>(len);
    // A relative name (no root label at its end) prints without the final dot.
    if (pos < size_) s.push_back('.');
  }
  return s;
}

size_t Name::labelCount() const {
  size_t count = 0;
  size_t pos = 0;
  while (pos < size_ && bytes_[pos] != 0) {
    ++count;
    pos += 1 + static_cast<size_t>(bytes_[pos]);
  }
  return count;
}

std::string_view Name::label(size_t i) const {
  size_t pos = 0;
  while (pos < size_ && bytes_[pos] != 0) {
    if (i == 0) {
      const size_t len = std::min<size_t>(bytes_[pos], size_ - pos - 1);
      return {reinterpret_cast<const char*>(bytes_.data() + pos + 1), len};
    }
    --i;
    pos += 1 + static_cast<size_t>(bytes_[pos]);
  }
  return {};
}

bool Name::isSubdomainOf(const Name& parent) const {
  if (parent.size_ > size_) return false;
  if (parent.size_ == 0) return size_ == 0;
  // Walk our labels until the remaining suffix has parent's length; the suffix must start
  // on a label boundary to count.
  size_t pos = 0;
  while (size_ - pos > parent.size_) {
    if (bytes_[pos] == 0) return false;
    pos += 1 + static_cast<size_t>(bytes_[pos]);
  }
  if (size_ - pos != parent.size_) return false;
  return words::equalIgnoringCase(bytes_.data() + pos, parent.bytes_.data(), parent.size_);
}

Name Name::parent() const {
  if (size_ <= 1) return *this;
  Name p;
  const size_t skip = 1 + static_cast<size_t>(bytes_[0]);
  if (skip >= size_) return p;  // a relative one-label name has the empty name as parent
  p.size_ = static_cast<uint8_t>(size_ - skip);
  std::memcpy(p.bytes_.data(), bytes_.data() + skip, p.size_);
  return p;
}

Result<Name> Name::prepend(std::string_view label) const {
  if (label.empty()) return Error(WireError::BadText, "empty label");
  if (label.size() > kMaxLabelLength) return WireError::LabelTooLong;
  if (size_ + 1 + label.size() > kMaxNameLength) return WireError::NameTooLong;
  Name n;
  n.bytes_[0] = static_cast<uint8_t>(label.size());
  std::memcpy(n.bytes_.data() + 1, label.data(), label.size());
  std::memcpy(n.bytes_.data() + 1 + label.size(), bytes_.data(), size_);
  n.size_ = static_cast<uint8_t>(1 + label.size() + size_);
  return n;
}

Result<Name> Name::concat(const Name& suffix) const {
  // Our labels without the root byte (when we end in one).
  size_t pos = 0;
  while (pos < size_ && bytes_[pos] != 0) pos += 1 + static_cast<size_t>(bytes_[pos]);
  const size_t ours = std::min<size_t>(pos, size_);
  if (ours + suffix.size_ > kMaxNameLength) return WireError::NameTooLong;
  Name n;
  std::memcpy(n.bytes_.data(), bytes_.data(), ours);
  std::memcpy(n.bytes_.data() + ours, suffix.bytes_.data(), suffix.size_);
  n.size_ = static_cast<uint8_t>(ours + suffix.size_);
  return n;
}

Name Name::lowercased() const {
  Name n = *this;
  // Length bytes are <= 63, below 'A', so lowering every byte only touches label data.
  words::lowerInPlace(n.bytes_.data(), size_);
  return n;
}

bool Name::operator==(const Name& other) const {
  return size_ == other.size_ && words::equalIgnoringCase(bytes_.data(), other.bytes_.data(), size_);
}

int Name::compareCanonical(const Name& other) const {
  // Offsets of each label, so that labels can be compared right to left (RFC 4034 §6.1).
  uint8_t a[128];
  uint8_t b[128];
  size_t na = 0;
  size_t nb = 0;
  for (size_t pos = 0; pos < size_ && bytes_[pos] != 0 && na < 128;
       pos += 1 + static_cast<size_t>(bytes_[pos]))
    a[na++] = static_cast<uint8_t>(pos);
  for (size_t pos = 0; pos < other.size_ && other.bytes_[pos] != 0 && nb < 128;
       pos += 1 + static_cast<size_t>(other.bytes_[pos]))
    b[nb++] = static_cast<uint8_t>(pos);
  while (na > 0 && nb > 0) {
    --na;
    --nb;
    const uint8_t* la = bytes_.data() + a[na];
    const uint8_t* lb = other.bytes_.data() + b[nb];
    const size_t lenA = la[0];
    const size_t lenB = lb[0];
    const size_t common = std::min(lenA, lenB);
    for (size_t i = 1; i <= common; ++i) {
      const uint8_t ca = lower(la[i]);
      const uint8_t cb = lower(lb[i]);
      if (ca != cb) return ca < cb ? -1 : 1;
    }
    if (lenA != lenB) return lenA < lenB ? -1 : 1;
  }
  if (na == nb) return 0;
  return na < nb ? -1 : 1;
}

size_t Name::hash() const {
  // Over the lowercased bytes, a word at a time: consistent with operator==. The final
  // mix spreads every input bit into the low bits that hash tables mask with.
  uint64_t h = words::mixLowered(size_ * 0x9E3779B97F4A7C15ULL, bytes_.data(), size_);
  h ^= h >> 29;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 32;
  return static_cast<size_t>(h);
}

}  // namespace dnswire
