#include "dnswire/zonefile.hpp"

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "dnswire/rr_table.hpp"
#include "dnswire/text.hpp"
#include "dnswire/wire_reader.hpp"
#include "dnswire/wire_writer.hpp"

namespace dnswire {
namespace {

constexpr uint32_t kMaxTtl = 0x7fffffff;  // RFC 2181 §8: TTLs use 31 bits

// One token of a master file, with its own storage (Token only views text).
struct ZoneToken {
  std::string text;
  bool quoted = false;
};

// One entry: a line, or several lines joined by parentheses (RFC 1035 §5.1).
struct Entry {
  std::vector<ZoneToken> tokens;
  size_t line = 0;          // where the entry starts
  bool blankStart = false;  // the line began with a blank: the owner is the previous one
};

std::string where(const std::string& file, size_t line) { return file + ":" + std::to_string(line) + ": "; }

// Splits a master file into entries. Keeps backslash escapes as written (their meaning
// depends on the field), removes quotes, drops ';' comments and joins lines inside
// parentheses.
class Lexer {
 public:
  Lexer(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  // False at the end of the text.
  Result<bool> next(Entry& entry) {
    entry = Entry{};
    bool lineStart = true;
    bool lineBlank = false;
    size_t parenLine = 0;
    int depth = 0;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (lineStart) {
        lineBlank = c == ' ' || c == '\t';
        lineStart = false;
      }
      if (c == '\n') {
        ++pos_;
        ++line_;
        lineStart = true;
        if (depth == 0 && !entry.tokens.empty()) return true;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
        continue;
      }
      if (c == ';') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        continue;
      }
      if (c == '(') {
        if (depth > 0) return Error(WireError::BadText, where(file_, line_) + "nested '('");
        depth = 1;
        parenLine = line_;
        ++pos_;
        continue;
      }
      if (c == ')') {
        if (depth == 0) return Error(WireError::BadText, where(file_, line_) + "')' without '('");
        depth = 0;
        ++pos_;
        continue;
      }
      if (entry.tokens.empty()) {
        entry.line = line_;
        entry.blankStart = lineBlank;
      }
      ZoneToken token;
      if (c == '"') {
        token.quoted = true;
        ++pos_;
        bool closed = false;
        while (pos_ < text_.size()) {
          char q = text_[pos_];
          if (q == '\n') break;
          if (q == '"') {
            closed = true;
            ++pos_;
            break;
          }
          if (q == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] != '\n') {
            token.text += text_.substr(pos_, 2);
            pos_ += 2;
            continue;
          }
          token.text += q;
          ++pos_;
        }
        if (!closed) return Error(WireError::BadText, where(file_, line_) + "unterminated quoted string");
      } else {
        while (pos_ < text_.size()) {
          char b = text_[pos_];
          if (b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == ';' || b == '(' || b == ')' || b == '"')
            break;
          if (b == '\\') {
            if (pos_ + 1 >= text_.size() || text_[pos_ + 1] == '\n') {
              return Error(WireError::BadText, where(file_, line_) + "'\\' at the end of a line");
            }
            token.text += text_.substr(pos_, 2);
            pos_ += 2;
            continue;
          }
          token.text += b;
          ++pos_;
        }
      }
      entry.tokens.push_back(std::move(token));
    }
    if (depth > 0) return Error(WireError::BadText, where(file_, parenLine) + "'(' never closed");
    return !entry.tokens.empty();
  }

 private:
  std::string_view text_;
  const std::string& file_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// True when the name text ends with an unescaped '.', i.e. is absolute.
bool isAbsoluteText(std::string_view text) {
  if (text.empty() || text.back() != '.') return false;
  size_t slashes = 0;
  for (size_t i = text.size() - 1; i > 0 && text[i - 1] == '\\'; --i) ++slashes;
  return slashes % 2 == 0;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Types that only exist in messages (RFC 6895 §3.1: OPT and the QTYPEs/meta-types 128-255).
bool isMetaType(RRType type) {
  auto code = static_cast<uint16_t>(type);
  return type == RRType::OPT || (code >= 128 && code <= 255);
}

struct OwnerData {
  bool cname = false;
  bool other = false;
};

// State shared by a file and the files it includes.
struct LoadState {
  Zone zone;
  bool haveSoa = false;
  std::optional<uint32_t> defaultTtl;  // $TTL
  std::optional<uint32_t> lastTtl;     // the last explicit TTL (RFC 1035 §5.1)
  std::vector<std::string> includeStack;
  std::unordered_set<std::string> seen;  // lowercased owner + type + RDATA, for duplicates
  std::unordered_map<Name, OwnerData, NameHash> owners;
  std::vector<uint8_t> scratch = std::vector<uint8_t>(kMaxMessageSize);
};

class FileParser {
 public:
  FileParser(LoadState& state, std::string_view text, const std::string& file, Name origin)
      : state_(state), lexer_(text, file), file_(file), origin_(origin) {}

  Result<void> run() {
    Entry entry;
    while (true) {
      auto more = lexer_.next(entry);
      if (!more) return more.error();
      if (!*more) return {};
      Result<void> done =
          !entry.blankStart && entry.tokens[0].text.starts_with('$') && !entry.tokens[0].quoted
              ? directive(entry)
              : record(entry);
      if (!done) return done;
    }
  }

 private:
  Error fail(size_t line, const std::string& what) const {
    return Error(WireError::BadText, where(file_, line) + what);
  }

  Result<Name> parseName(const ZoneToken& token, size_t line) const {
    if (token.text == "@") {
      if (origin_.empty()) return fail(line, "'@' with no origin (add $ORIGIN)");
      return origin_;
    }
    if (token.text.empty()) return fail(line, "empty name");
    if (!isAbsoluteText(token.text) && origin_.empty()) {
      return fail(line, "relative name '" + token.text + "' with no origin (add $ORIGIN)");
    }
    auto name = Name::fromText(token.text, origin_.empty() ? Name::root() : origin_);  // absolute when empty
    if (!name) return fail(line, "bad name '" + token.text + "': " + name.error().code.message());
    return name;
  }

  Result<void> directive(const Entry& entry) {
    const auto& t = entry.tokens;
    const std::string& word = t[0].text;
    if (iequals(word, "$ORIGIN")) {
      if (t.size() != 2) return fail(entry.line, "$ORIGIN takes one name");
      auto name = parseName(t[1], entry.line);
      if (!name) return name.error();
      origin_ = *name;
      return {};
    }
    if (iequals(word, "$TTL")) {
      if (t.size() != 2) return fail(entry.line, "$TTL takes one TTL");
      auto ttl = parseTtlText(t[1].text);
      if (!ttl || *ttl > kMaxTtl) return fail(entry.line, "bad TTL '" + t[1].text + "'");
      state_.defaultTtl = *ttl;
      return {};
    }
    if (iequals(word, "$INCLUDE")) return include(entry);
    return fail(entry.line, "unknown directive " + word);
  }

  // RFC 1035 §5.1: $INCLUDE <file> [<origin>]; the including file's origin and current
  // owner are unchanged afterwards.
  Result<void> include(const Entry& entry) {
    const auto& t = entry.tokens;
    if (t.size() < 2 || t.size() > 3)
      return fail(entry.line, "$INCLUDE takes a file name and an optional origin");
    Name origin = origin_;
    if (t.size() == 3) {
      auto name = parseName(t[2], entry.line);
      if (!name) return name.error();
      origin = *name;
    }
    namespace fs = std::filesystem;
    fs::path path(t[1].text);
    if (path.is_relative()) path = fs::path(file_).parent_path() / path;
    if (state_.includeStack.size() >= static_cast<size_t>(kMaxIncludeDepth)) {
      return fail(entry.line, "$INCLUDE nested more than " + std::to_string(kMaxIncludeDepth) + " deep");
    }
    std::error_code ec;
    std::string key = fs::weakly_canonical(path, ec).string();
    if (ec) key = path.lexically_normal().string();
    for (const auto& open : state_.includeStack) {
      if (open == key) return fail(entry.line, "$INCLUDE loop: " + path.string() + " is already being read");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(entry.line, "cannot read " + path.string());
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    std::string name = path.string();
    state_.includeStack.push_back(key);
    FileParser child(state_, text, name, origin);
    child.lastOwner_ = lastOwner_;
    auto done = child.run();
    state_.includeStack.pop_back();
    return done;
  }

  Result<void> record(const Entry& entry) {
    const auto& t = entry.tokens;
    size_t i = 0;
    Name owner;
    if (entry.blankStart) {
      if (lastOwner_.empty()) return fail(entry.line, "no owner name and no previous owner");
      owner = lastOwner_;
    } else {
      auto name = parseName(t[0], entry.line);
      if (!name) return name.error();
      owner = *name;
      i = 1;
    }

    // TTL and class, each optional, in either order (RFC 1035 §5.1).
    std::optional<uint32_t> ttl;
    std::optional<RRClass> cls;
    for (int k = 0; k < 2 && i < t.size() && !t[i].quoted; ++k) {
      const std::string& field = t[i].text;
      if (!ttl && !field.empty() && isDigit(field[0])) {
        auto value = parseTtlText(field);
        if (!value || *value > kMaxTtl) return fail(entry.line, "bad TTL '" + field + "'");
        ttl = *value;
        ++i;
        continue;
      }
      if (!cls) {
        auto c = classFromText(field);
        if (c) {
          cls = *c;
          ++i;
          continue;
        }
      }
      break;
    }
    if (cls && *cls != RRClass::IN)
      return fail(entry.line, "class " + classToText(*cls) + " is not served (only IN)");
    if (i >= t.size()) return fail(entry.line, "missing type");
    auto type = typeFromText(t[i].text);
    if (!type || t[i].quoted) return fail(entry.line, "unknown type '" + t[i].text + "'");
    if (isMetaType(*type)) return fail(entry.line, "type " + t[i].text + " cannot appear in a zone");
    ++i;

    auto data = parseRdata(*type, std::span<const ZoneToken>(t).subspan(i), entry.line);
    if (!data) return data.error();

    // RFC 2308 §4: $TTL, else (RFC 1035 §5.1) the last explicit TTL.
    uint32_t recordTtl = 0;
    if (ttl) {
      recordTtl = *ttl;
      state_.lastTtl = *ttl;
    } else if (state_.defaultTtl) {
      recordTtl = *state_.defaultTtl;
    } else if (state_.lastTtl) {
      recordTtl = *state_.lastTtl;
    } else {
      return fail(entry.line, "no TTL: give one or set $TTL");
    }
    lastOwner_ = owner;

    ResourceRecord rr{owner, *type, RRClass::IN, recordTtl, std::move(*data)};
    auto added = addRecord(std::move(rr), entry.line);
    if (!added) return added;
    // Without $ORIGIN, names after the SOA are relative to the zone (the SOA's owner).
    if (origin_.empty()) origin_ = state_.zone.origin;
    return {};
  }

  Result<RData> parseRdata(RRType type, std::span<const ZoneToken> fields, size_t line) {
    std::string mnemonic = typeToText(type);
    // RFC 3597 §5: "\# <length> <hex>...", for unknown and known types alike.
    if (!fields.empty() && !fields[0].quoted && fields[0].text == "\\#") {
      if (fields.size() < 2) return fail(line, mnemonic + ": '\\#' needs a length");
      const std::string& lengthText = fields[1].text;
      size_t length = 0;
      if (lengthText.empty() || lengthText.size() > 5)
        return fail(line, mnemonic + ": bad RDATA length '" + lengthText + "'");
      for (char c : lengthText) {
        if (!isDigit(c)) return fail(line, mnemonic + ": bad RDATA length '" + lengthText + "'");
        length = length * 10 + static_cast<size_t>(c - '0');
      }
      if (length > 65535) return fail(line, mnemonic + ": RDATA length " + lengthText + " over 65535");
      std::string hex;
      for (size_t k = 2; k < fields.size(); ++k) hex += fields[k].text;
      if (hex.size() % 2 != 0) return fail(line, mnemonic + ": odd number of hex digits");
      std::vector<uint8_t> bytes;
      bytes.reserve(hex.size() / 2);
      for (size_t k = 0; k < hex.size(); k += 2) {
        int hi = hexValue(hex[k]), lo = hexValue(hex[k + 1]);
        if (hi < 0 || lo < 0) return fail(line, mnemonic + ": bad hex digit in RDATA");
        bytes.push_back(static_cast<uint8_t>(hi << 4 | lo));
      }
      if (bytes.size() != length) {
        return fail(line, mnemonic + ": RDATA length " + std::to_string(length) + " but " +
                              std::to_string(bytes.size()) + " bytes of hex");
      }
      auto data = rdataFromWire(type, bytes);
      if (!data) return fail(line, mnemonic + ": bad RDATA: " + data.error().code.message());
      return data;
    }
    if (!isKnownType(type))
      return fail(line, mnemonic + ": unknown type needs RFC 3597 '\\# length hex' RDATA");
    if (fields.empty()) return fail(line, mnemonic + ": missing RDATA");

    // Strings that must outlive the Token views: "@" expanded, SOA timers without units.
    std::deque<std::string> storage;
    std::vector<Token> tokens;
    tokens.reserve(fields.size());
    for (size_t k = 0; k < fields.size(); ++k) {
      const ZoneToken& f = fields[k];
      if (!f.quoted && f.text == "@" && type != RRType::TXT) {
        if (origin_.empty()) return fail(line, "'@' with no origin (add $ORIGIN)");
        tokens.push_back(Token{storage.emplace_back(origin_.toText()), false});
        continue;
      }
      // SOA refresh, retry, expire and minimum take units as TTLs do (BIND); not the serial.
      if (type == RRType::SOA && k >= 3 && k <= 6 && !f.quoted && !f.text.empty() && !isDigitsOnly(f.text)) {
        auto value = parseTtlText(f.text);
        if (!value) return fail(line, "SOA: bad timer '" + f.text + "'");
        tokens.push_back(Token{storage.emplace_back(std::to_string(*value)), false});
        continue;
      }
      tokens.push_back(Token{f.text, f.quoted});
    }
    // An empty origin makes the row reject relative names in RDATA (Name::fromText).
    auto data = typeInfo(type).fromText(tokens, origin_);
    if (!data) return fail(line, mnemonic + ": " + data.error().message());
    return data;
  }

  static bool isDigitsOnly(std::string_view text) {
    for (char c : text) {
      if (!isDigit(c)) return false;
    }
    return true;
  }

  Result<void> addRecord(ResourceRecord rr, size_t line) {
    if (!state_.haveSoa) {
      if (rr.type != RRType::SOA) return fail(line, "the first record must be the zone's SOA");
      state_.haveSoa = true;
      state_.zone.origin = rr.owner;
    } else if (rr.type == RRType::SOA) {
      return fail(line, "second SOA record (one zone per file)");
    }
    if (!rr.owner.isSubdomainOf(state_.zone.origin)) {
      return fail(line, rr.owner.toText() + " is outside the zone " + state_.zone.origin.toText());
    }

    auto code = static_cast<uint16_t>(rr.type);
    // RFC 2181 §5: an RRset holds no duplicates; a repeated record is dropped, as BIND does.
    WireWriter writer(state_.scratch);
    if (!typeInfo(rr.type).encode(rr.data, writer, nullptr))
      return fail(line, "RDATA longer than 65535 octets");
    std::string key;
    Name lower = rr.owner.lowercased();
    key.append(reinterpret_cast<const char*>(lower.wire().data()), lower.size());
    key.push_back(static_cast<char>(code >> 8));
    key.push_back(static_cast<char>(code & 0xff));
    key.append(reinterpret_cast<const char*>(writer.written().data()), writer.size());
    if (!state_.seen.insert(std::move(key)).second) return {};

    // RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME owner has no other data (RRSIG and NSEC
    // excepted, RFC 4035 §2.5).
    if (code != 46 && code != 47) {
      OwnerData& od = state_.owners[rr.owner];
      if (rr.type == RRType::CNAME) {
        if (od.other) return fail(line, rr.owner.toText() + " has other data and cannot have a CNAME");
        if (od.cname) return fail(line, rr.owner.toText() + " has a second CNAME");
        od.cname = true;
      } else {
        if (od.cname) return fail(line, rr.owner.toText() + " has a CNAME and cannot have other data");
        od.other = true;
      }
    }

    state_.zone.records.push_back(std::move(rr));
    return {};
  }

  LoadState& state_;
  Lexer lexer_;
  const std::string& file_;
  Name origin_;
  Name lastOwner_;
};

}  // namespace

std::optional<uint32_t> parseTtlText(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  uint64_t number = 0;
  bool haveDigits = false;
  bool sawUnit = false;
  for (char c : text) {
    if (isDigit(c)) {
      number = number * 10 + static_cast<uint64_t>(c - '0');
      if (number > 0xffffffffULL) return std::nullopt;
      haveDigits = true;
      continue;
    }
    uint64_t unit = 0;
    switch (c) {
      case 's':
      case 'S':
        unit = 1;
        break;
      case 'm':
      case 'M':
        unit = 60;
        break;
      case 'h':
      case 'H':
        unit = 3600;
        break;
      case 'd':
      case 'D':
        unit = 86400;
        break;
      case 'w':
      case 'W':
        unit = 604800;
        break;
      default:
        return std::nullopt;
    }
    if (!haveDigits) return std::nullopt;
    total += number * unit;
    if (total > 0xffffffffULL) return std::nullopt;
    number = 0;
    haveDigits = false;
    sawUnit = true;
  }
  if (haveDigits) {
    // A bare number after units ("1h30") counts as seconds, as BIND reads it.
    total += number;
  } else if (!sawUnit) {
    return std::nullopt;
  }
  if (total > 0xffffffffULL) return std::nullopt;
  return static_cast<uint32_t>(total);
}

Result<std::vector<uint8_t>> rdataToWire(RRType type, const RData& data) {
  // One scratch buffer per thread: a fresh 64 KiB buffer per record made imports slow.
  thread_local std::vector<uint8_t> scratch(kMaxMessageSize);
  WireWriter writer(scratch);
  if (!typeInfo(type).encode(data, writer, nullptr)) return Error(WireError::NoSpace, "RDATA longer than 65535 octets");
  auto written = writer.written();
  return std::vector<uint8_t>(written.begin(), written.end());
}

Result<RData> rdataFromWire(RRType type, std::span<const uint8_t> wire) {
  WireReader reader(wire);
  auto data = typeInfo(type).decode(reader);
  if (!data) return data.error();
  if (!reader.atEnd()) return WireError::RdataLength;
  return data;
}

Result<Zone> parseZoneText(std::string_view text, const std::string& fileName, const Name& defaultOrigin) {
  LoadState state;
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(fileName, ec).string();
  state.includeStack.push_back(ec ? fileName : key);
  FileParser parser(state, text, fileName, defaultOrigin);
  auto done = parser.run();
  if (!done) return done.error();
  if (!state.haveSoa) return Error(WireError::BadText, fileName + ":1: no SOA record");
  return std::move(state.zone);
}

Result<Zone> loadZoneFile(const std::string& path, const Name& defaultOrigin) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(WireError::BadText, path + ":1: cannot read the file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Error(WireError::BadText, path + ":1: cannot read the file");
  return parseZoneText(buffer.str(), path, defaultOrigin);
}

std::string recordToZoneLine(const ResourceRecord& rr) {
  std::string line = rr.owner.toText();
  line += '\t';
  line += std::to_string(rr.ttl);
  line += '\t';
  line += classToText(rr.cls);
  line += '\t';
  line += typeToText(rr.type);
  line += '\t';
  line += typeInfo(rr.type).toText(rr.data);
  return line;
}

std::string zoneToText(const Zone& zone) {
  std::string out = "$ORIGIN " + zone.origin.toText() + "\n";
  for (const auto& rr : zone.records) {
    out += recordToZoneLine(rr);
    out += '\n';
  }
  return out;
}

}  // namespace dnswire
