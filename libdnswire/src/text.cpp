#include "dnswire/text.hpp"

#include <fmt/format.h>

#include "dnswire/message.hpp"
#include "dnswire/rr_table.hpp"

namespace dnswire {
namespace {

inline bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string toText(const ResourceRecord& rr) {
  // RDATA kept as raw bytes prints in the generic form whatever its type (RFC 3597 §5).
  const auto* raw = std::get_if<Opaque>(&rr.data);
  const std::string rdata = raw != nullptr ? genericRdataText(raw->bytes) : typeInfo(rr.type).toText(rr.data);
  return fmt::format("{}\t{}\t{}\t{}\t{}", rr.owner.toText(), rr.ttl, classToText(rr.cls),
                     typeToText(rr.type), rdata);
}

std::string quoteCharacterString(std::string_view bytes) {
  std::string s;
  s.reserve(bytes.size() + 2);
  s.push_back('"');
  for (char ch : bytes) {
    const auto c = static_cast<uint8_t>(ch);
    if (c == '"' || c == '\\') {
      s.push_back('\\');
      s.push_back(ch);
    } else if (c < 0x20 || c >= 0x7F) {
      s.push_back('\\');
      s.push_back(static_cast<char>('0' + c / 100));
      s.push_back(static_cast<char>('0' + c / 10 % 10));
      s.push_back(static_cast<char>('0' + c % 10));
    } else {
      s.push_back(ch);
    }
  }
  s.push_back('"');
  return s;
}

Result<std::string> unescapeCharacterString(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size()) return Error(WireError::BadText, "dangling backslash");
      if (isDigit(text[i + 1])) {
        // \DDD (RFC 1035 §5.1): exactly three digits, at most 255.
        if (i + 3 >= text.size() || !isDigit(text[i + 2]) || !isDigit(text[i + 3]))
          return Error(WireError::BadText, "bad \\DDD escape");
        const int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (v > 255) return Error(WireError::BadText, "\\DDD escape over 255");
        out.push_back(static_cast<char>(v));
        i += 3;
      } else {
        out.push_back(text[i + 1]);
        ++i;
      }
    } else {
      out.push_back(c);
    }
  }
  if (out.size() > 255) return Error(WireError::BadText, "character-string over 255 octets");
  return out;
}

Result<std::vector<Token>> tokenize(std::string_view line) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (isSpace(c)) {
      ++i;
      continue;
    }
    if (c == ';') break;  // comment to the end of the line
    if (c == '(' || c == ')') {
      tokens.push_back(Token{line.substr(i, 1), false});
      ++i;
      continue;
    }
    if (c == '"') {
      const size_t start = ++i;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\') ++i;  // an escaped quote does not end the string
        ++i;
      }
      if (i >= line.size()) return Error(WireError::BadText, "unterminated quoted string");
      tokens.push_back(Token{line.substr(start, i - start), true});
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < line.size()) {
      const char d = line[i];
      if (d == '\\') {
        i += 2;  // keep the escape; it may protect a space, ';' or a parenthesis
        continue;
      }
      if (isSpace(d) || d == ';' || d == '(' || d == ')' || d == '"') break;
      ++i;
    }
    if (i > line.size()) return Error(WireError::BadText, "dangling backslash");
    tokens.push_back(Token{line.substr(start, i - start), false});
  }
  return tokens;
}

std::string toHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s;
  s.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    s[2 * i] = kDigits[bytes[i] >> 4];
    s[2 * i + 1] = kDigits[bytes[i] & 0xF];
  }
  return s;
}

Result<std::vector<uint8_t>> fromHex(std::string_view text) {
  if (text.size() % 2 != 0) return Error(WireError::BadText, "odd number of hex digits");
  std::vector<uint8_t> out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hexValue(text[2 * i]);
    const int lo = hexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return Error(WireError::BadText, "bad hex digit");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string toBase64(std::span<const uint8_t> bytes) {
  std::string s;
  s.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v =
        static_cast<uint32_t>(bytes[i]) << 16 | static_cast<uint32_t>(bytes[i + 1]) << 8 | bytes[i + 2];
    s.push_back(kBase64Alphabet[v >> 18]);
    s.push_back(kBase64Alphabet[(v >> 12) & 63]);
    s.push_back(kBase64Alphabet[(v >> 6) & 63]);
    s.push_back(kBase64Alphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = static_cast<uint32_t>(bytes[i]) << 16;
    s.push_back(kBase64Alphabet[v >> 18]);
    s.push_back(kBase64Alphabet[(v >> 12) & 63]);
    s += "==";
  } else if (rest == 2) {
    const uint32_t v = static_cast<uint32_t>(bytes[i]) << 16 | static_cast<uint32_t>(bytes[i + 1]) << 8;
    s.push_back(kBase64Alphabet[v >> 18]);
    s.push_back(kBase64Alphabet[(v >> 12) & 63]);
    s.push_back(kBase64Alphabet[(v >> 6) & 63]);
    s.push_back('=');
  }
  return s;
}

Result<std::vector<uint8_t>> fromBase64(std::string_view text) {
  // RFC 4648 §4 with padding; whitespace is ignored so multi-token values can be joined.
  std::string compact;
  compact.reserve(text.size());
  for (char c : text)
    if (!isSpace(c)) compact.push_back(c);
  if (compact.size() % 4 != 0) return Error(WireError::BadText, "base64 length not a multiple of 4");
  std::vector<uint8_t> out;
  out.reserve(compact.size() / 4 * 3);
  for (size_t i = 0; i < compact.size(); i += 4) {
    const bool last = i + 4 == compact.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = compact[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return Error(WireError::BadText, "bad base64 padding");
      v[k] = base64Value(c);
      if (v[k] < 0) return Error(WireError::BadText, "bad base64 character");
    }
    const uint32_t word = static_cast<uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out.push_back(static_cast<uint8_t>(word >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(word >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(word));
  }
  return out;
}

}  // namespace dnswire
