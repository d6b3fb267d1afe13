#include "dnswire/rr_table.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/wire_reader.hpp"
#include "dnswire/wire_writer.hpp"

namespace dnswire {
namespace {

// ---- helpers shared by the rows ------------------------------------------------------

Error badText(std::string what) { return Error(WireError::BadText, std::move(what)); }

template <class T>
bool parseNumber(std::string_view text, T& out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
  out = static_cast<T>(v);
  return true;
}

// A 32-bit time value as BIND accepts it in SOA timers: plain seconds or units such as
// "1h30m" (w, d, h, m, s; case-insensitive).
bool parseTimeValue(std::string_view text, uint32_t& out) {
  if (parseNumber(text, out)) return true;
  if (text.empty()) return false;
  uint64_t total = 0;
  uint64_t current = 0;
  bool haveDigits = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      current = current * 10 + static_cast<uint64_t>(c - '0');
      if (current > 0xFFFFFFFFULL) return false;
      haveDigits = true;
      continue;
    }
    if (!haveDigits) return false;
    uint64_t unit = 0;
    switch (c | 0x20) {
      case 'w':
        unit = 604800;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'm':
        unit = 60;
        break;
      case 's':
        unit = 1;
        break;
      default:
        return false;
    }
    total += current * unit;
    if (total > 0xFFFFFFFFULL) return false;
    current = 0;
    haveDigits = false;
  }
  if (haveDigits) return false;  // "1h30" is ambiguous: BIND rejects it too
  out = static_cast<uint32_t>(total);
  return true;
}

Result<Name> nameFromToken(const Token& token, const Name& origin) {
  if (token.quoted) return badText("a name cannot be quoted");
  if (token.text == "@") {
    if (origin.empty()) return badText("'@' without an origin");
    return origin;
  }
  return Name::fromText(token.text, origin);
}

bool writeRdataName(WireWriter& writer, NameCompressor* compressor, const Name& name) {
  if (compressor != nullptr) return compressor->writeName(name, true);
  return writeNameUncompressed(writer, name);
}

WireError skipRdataName(WireReader& reader) {
  Result<void> r = skipName(reader);
  if (r.ok()) return WireError::Ok;
  return static_cast<WireError>(r.error().code.value());
}

Result<void> checkTokens(std::span<const Token> tokens, size_t n, std::string_view type) {
  if (tokens.size() != n) return badText(fmt::format("{} needs {} field(s), got {}", type, n, tokens.size()));
  return {};
}

// ---- A (RFC 1035 §3.4.1) ------------------------------------------------------------

Result<RData> decodeA(WireReader& r) {
  std::span<const uint8_t> b;
  if (!r.readBytes(4, b)) return WireError::Truncated;
  A a;
  std::memcpy(a.address.data(), b.data(), 4);
  return a;
}
bool encodeA(const RData& d, WireWriter& w, NameCompressor*) { return w.writeBytes(std::get<A>(d).address); }
std::string textA(const RData& d) {
  const auto& a = std::get<A>(d).address;
  return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
}
Result<RData> parseA(std::span<const Token> t, const Name&) {
  if (auto c = checkTokens(t, 1, "A"); !c) return c.error();
  A a;
  const std::string s(t[0].text);
  if (t[0].quoted || inet_pton(AF_INET, s.c_str(), a.address.data()) != 1)
    return badText("bad IPv4 address: " + s);
  return a;
}
WireError validateA(WireReader& r) { return r.skip(4) ? WireError::Ok : WireError::Truncated; }

// ---- AAAA (RFC 3596) ------------------------------------------------------------------

Result<RData> decodeAaaa(WireReader& r) {
  std::span<const uint8_t> b;
  if (!r.readBytes(16, b)) return WireError::Truncated;
  Aaaa a;
  std::memcpy(a.address.data(), b.data(), 16);
  return a;
}
bool encodeAaaa(const RData& d, WireWriter& w, NameCompressor*) {
  return w.writeBytes(std::get<Aaaa>(d).address);
}
std::string textAaaa(const RData& d) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, std::get<Aaaa>(d).address.data(), buf, sizeof buf);
  return buf;
}
Result<RData> parseAaaa(std::span<const Token> t, const Name&) {
  if (auto c = checkTokens(t, 1, "AAAA"); !c) return c.error();
  Aaaa a;
  const std::string s(t[0].text);
  if (t[0].quoted || inet_pton(AF_INET6, s.c_str(), a.address.data()) != 1)
    return badText("bad IPv6 address: " + s);
  return a;
}
WireError validateAaaa(WireReader& r) { return r.skip(16) ? WireError::Ok : WireError::Truncated; }

// ---- NS, CNAME, PTR: one domain name (RFC 1035 §3.3) --------------------------------

template <class T, Name T::*kField>
Result<RData> decodeOneName(WireReader& r) {
  auto n = Name::fromWire(r);
  if (!n) return n.error();
  T v;
  v.*kField = std::move(*n);
  return v;
}
template <class T, Name T::*kField>
bool encodeOneName(const RData& d, WireWriter& w, NameCompressor* c) {
  return writeRdataName(w, c, std::get<T>(d).*kField);
}
template <class T, Name T::*kField>
std::string textOneName(const RData& d) {
  return (std::get<T>(d).*kField).toText();
}
template <class T, Name T::*kField>
Result<RData> parseOneName(std::span<const Token> t, const Name& origin) {
  if (auto c = checkTokens(t, 1, "a name type"); !c) return c.error();
  auto n = nameFromToken(t[0], origin);
  if (!n) return n.error();
  T v;
  v.*kField = std::move(*n);
  return v;
}
WireError validateOneName(WireReader& r) { return skipRdataName(r); }

// ---- MX (RFC 1035 §3.3.9) -------------------------------------------------------------

Result<RData> decodeMx(WireReader& r) {
  Mx mx;
  if (!r.readU16(mx.preference)) return WireError::Truncated;
  auto n = Name::fromWire(r);
  if (!n) return n.error();
  mx.exchange = std::move(*n);
  return mx;
}
bool encodeMx(const RData& d, WireWriter& w, NameCompressor* c) {
  const auto& mx = std::get<Mx>(d);
  return w.writeU16(mx.preference) && writeRdataName(w, c, mx.exchange);
}
std::string textMx(const RData& d) {
  const auto& mx = std::get<Mx>(d);
  return fmt::format("{} {}", mx.preference, mx.exchange.toText());
}
Result<RData> parseMx(std::span<const Token> t, const Name& origin) {
  if (auto c = checkTokens(t, 2, "MX"); !c) return c.error();
  Mx mx;
  if (t[0].quoted || !parseNumber(t[0].text, mx.preference)) return badText("bad MX preference");
  auto n = nameFromToken(t[1], origin);
  if (!n) return n.error();
  mx.exchange = std::move(*n);
  return mx;
}
WireError validateMx(WireReader& r) {
  if (!r.skip(2)) return WireError::Truncated;
  return skipRdataName(r);
}

// ---- SOA (RFC 1035 §3.3.13) -----------------------------------------------------------

Result<RData> decodeSoa(WireReader& r) {
  Soa soa;
  auto m = Name::fromWire(r);
  if (!m) return m.error();
  auto n = Name::fromWire(r);
  if (!n) return n.error();
  soa.mname = std::move(*m);
  soa.rname = std::move(*n);
  if (!r.readU32(soa.serial) || !r.readU32(soa.refresh) || !r.readU32(soa.retry) || !r.readU32(soa.expire) ||
      !r.readU32(soa.minimum))
    return WireError::Truncated;
  return soa;
}
bool encodeSoa(const RData& d, WireWriter& w, NameCompressor* c) {
  const auto& s = std::get<Soa>(d);
  return writeRdataName(w, c, s.mname) && writeRdataName(w, c, s.rname) && w.writeU32(s.serial) &&
         w.writeU32(s.refresh) && w.writeU32(s.retry) && w.writeU32(s.expire) && w.writeU32(s.minimum);
}
std::string textSoa(const RData& d) {
  const auto& s = std::get<Soa>(d);
  return fmt::format("{} {} {} {} {} {} {}", s.mname.toText(), s.rname.toText(), s.serial, s.refresh, s.retry,
                     s.expire, s.minimum);
}
Result<RData> parseSoa(std::span<const Token> t, const Name& origin) {
  if (auto c = checkTokens(t, 7, "SOA"); !c) return c.error();
  Soa soa;
  auto m = nameFromToken(t[0], origin);
  if (!m) return m.error();
  auto n = nameFromToken(t[1], origin);
  if (!n) return n.error();
  soa.mname = std::move(*m);
  soa.rname = std::move(*n);
  if (t[2].quoted || !parseNumber(t[2].text, soa.serial)) return badText("bad SOA serial");
  uint32_t* timers[] = {&soa.refresh, &soa.retry, &soa.expire, &soa.minimum};
  for (size_t i = 0; i < 4; ++i)
    if (t[3 + i].quoted || !parseTimeValue(t[3 + i].text, *timers[i])) return badText("bad SOA timer");
  return soa;
}
WireError validateSoa(WireReader& r) {
  if (WireError e = skipRdataName(r); e != WireError::Ok) return e;
  if (WireError e = skipRdataName(r); e != WireError::Ok) return e;
  return r.skip(20) ? WireError::Ok : WireError::Truncated;
}

// ---- TXT (RFC 1035 §3.3.14): one or more character-strings ----------------------------

Result<RData> decodeTxt(WireReader& r) {
  Txt txt;
  if (r.atEnd()) return WireError::BadRdata;  // at least one string
  while (!r.atEnd()) {
    uint8_t len = 0;
    std::span<const uint8_t> b;
    (void)r.readU8(len);
    if (!r.readBytes(len, b)) return WireError::BadRdata;
    txt.strings.emplace_back(reinterpret_cast<const char*>(b.data()), b.size());
  }
  return txt;
}
bool encodeTxt(const RData& d, WireWriter& w, NameCompressor*) {
  for (const auto& s : std::get<Txt>(d).strings) {
    if (s.size() > 255) return false;
    if (!w.writeU8(static_cast<uint8_t>(s.size()))) return false;
    if (!w.writeBytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()})) return false;
  }
  return true;
}
std::string textTxt(const RData& d) {
  std::string out;
  for (const auto& s : std::get<Txt>(d).strings) {
    if (!out.empty()) out.push_back(' ');
    out += quoteCharacterString(s);
  }
  return out;
}
Result<RData> parseTxt(std::span<const Token> t, const Name&) {
  if (t.empty()) return badText("TXT needs at least one string");
  Txt txt;
  for (const auto& token : t) {
    auto s = unescapeCharacterString(token.text);
    if (!s) return s.error();
    txt.strings.push_back(std::move(*s));
  }
  return txt;
}
WireError validateTxt(WireReader& r) {
  if (r.atEnd()) return WireError::BadRdata;
  while (!r.atEnd()) {
    uint8_t len = 0;
    (void)r.readU8(len);
    if (!r.skip(len)) return WireError::BadRdata;
  }
  return WireError::Ok;
}

// ---- SRV (RFC 2782): the target is never compressed on output ------------------------

Result<RData> decodeSrv(WireReader& r) {
  Srv srv;
  if (!r.readU16(srv.priority) || !r.readU16(srv.weight) || !r.readU16(srv.port)) return WireError::Truncated;
  auto n = Name::fromWire(r);
  if (!n) return n.error();
  srv.target = std::move(*n);
  return srv;
}
bool encodeSrv(const RData& d, WireWriter& w, NameCompressor*) {
  const auto& s = std::get<Srv>(d);
  return w.writeU16(s.priority) && w.writeU16(s.weight) && w.writeU16(s.port) &&
         writeNameUncompressed(w, s.target);
}
std::string textSrv(const RData& d) {
  const auto& s = std::get<Srv>(d);
  return fmt::format("{} {} {} {}", s.priority, s.weight, s.port, s.target.toText());
}
Result<RData> parseSrv(std::span<const Token> t, const Name& origin) {
  if (auto c = checkTokens(t, 4, "SRV"); !c) return c.error();
  Srv s;
  if (t[0].quoted || t[1].quoted || t[2].quoted || !parseNumber(t[0].text, s.priority) ||
      !parseNumber(t[1].text, s.weight) || !parseNumber(t[2].text, s.port))
    return badText("bad SRV number");
  auto n = nameFromToken(t[3], origin);
  if (!n) return n.error();
  s.target = std::move(*n);
  return s;
}
WireError validateSrv(WireReader& r) {
  if (!r.skip(6)) return WireError::Truncated;
  return skipRdataName(r);
}

// ---- OPT (RFC 6891 §6.1.2): {code, length, data}* ------------------------------------

Result<RData> decodeOpt(WireReader& r) {
  Opt opt;
  while (!r.atEnd()) {
    EdnsOption o;
    uint16_t len = 0;
    std::span<const uint8_t> b;
    if (!r.readU16(o.code) || !r.readU16(len) || !r.readBytes(len, b)) return WireError::BadRdata;
    o.data.assign(b.begin(), b.end());
    opt.options.push_back(std::move(o));
  }
  return opt;
}
bool encodeOpt(const RData& d, WireWriter& w, NameCompressor*) {
  for (const auto& o : std::get<Opt>(d).options) {
    if (o.data.size() > 0xFFFF) return false;
    if (!w.writeU16(o.code) || !w.writeU16(static_cast<uint16_t>(o.data.size())) || !w.writeBytes(o.data))
      return false;
  }
  return true;
}
WireError validateOpt(WireReader& r) {
  while (!r.atEnd()) {
    uint16_t code = 0;
    uint16_t len = 0;
    if (!r.readU16(code) || !r.readU16(len) || !r.skip(len)) return WireError::BadRdata;
  }
  return WireError::Ok;
}

// ---- TSIG (RFC 8945 §4.2): the algorithm name is never compressed ---------------------

Result<RData> decodeTsig(WireReader& r) {
  Tsig t;
  auto n = Name::fromWire(r);
  if (!n) return n.error();
  t.algorithm = std::move(*n);
  uint16_t timeHigh = 0;
  uint32_t timeLow = 0;
  uint16_t macSize = 0;
  std::span<const uint8_t> mac;
  if (!r.readU16(timeHigh) || !r.readU32(timeLow) || !r.readU16(t.fudge) || !r.readU16(macSize) ||
      !r.readBytes(macSize, mac))
    return WireError::Truncated;
  t.timeSigned = static_cast<uint64_t>(timeHigh) << 32 | timeLow;
  t.mac.assign(mac.begin(), mac.end());
  uint16_t otherLen = 0;
  std::span<const uint8_t> other;
  if (!r.readU16(t.originalId) || !r.readU16(t.error) || !r.readU16(otherLen) ||
      !r.readBytes(otherLen, other))
    return WireError::Truncated;
  t.otherData.assign(other.begin(), other.end());
  return t;
}
bool encodeTsig(const RData& d, WireWriter& w, NameCompressor*) {
  const auto& t = std::get<Tsig>(d);
  if (t.mac.size() > 0xFFFF || t.otherData.size() > 0xFFFF) return false;
  return writeNameUncompressed(w, t.algorithm) && w.writeU16(static_cast<uint16_t>(t.timeSigned >> 32)) &&
         w.writeU32(static_cast<uint32_t>(t.timeSigned)) && w.writeU16(t.fudge) &&
         w.writeU16(static_cast<uint16_t>(t.mac.size())) && w.writeBytes(t.mac) && w.writeU16(t.originalId) &&
         w.writeU16(t.error) && w.writeU16(static_cast<uint16_t>(t.otherData.size())) &&
         w.writeBytes(t.otherData);
}

constexpr std::pair<uint16_t, std::string_view> kTsigErrors[] = {
    {0, "NOERROR"}, {16, "BADSIG"}, {17, "BADKEY"}, {18, "BADTIME"}, {22, "BADTRUNC"}};

// As dig and dnspython print it: algorithm, time, fudge, MAC size, MAC (base64, left
// out when empty), original ID, error, other length, other data (left out when empty).
std::string textTsig(const RData& d) {
  const auto& t = std::get<Tsig>(d);
  std::string error = std::to_string(t.error);
  for (const auto& [code, text] : kTsigErrors)
    if (code == t.error) error = text;
  std::string s = fmt::format("{} {} {} {}", t.algorithm.toText(), t.timeSigned, t.fudge, t.mac.size());
  if (!t.mac.empty()) s += " " + toBase64(t.mac);
  s += fmt::format(" {} {} {}", t.originalId, error, t.otherData.size());
  if (!t.otherData.empty()) s += " " + toBase64(t.otherData);
  return s;
}
Result<RData> parseTsig(std::span<const Token> t, const Name& origin) {
  Tsig ts;
  size_t i = 0;
  auto next = [&]() -> const Token* { return i < t.size() ? &t[i++] : nullptr; };
  const Token* tok = next();
  if (tok == nullptr) return badText("TSIG needs an algorithm");
  auto n = nameFromToken(*tok, origin);
  if (!n) return n.error();
  ts.algorithm = std::move(*n);
  uint16_t macSize = 0;
  tok = next();
  if (tok == nullptr || !parseNumber(tok->text, ts.timeSigned) || ts.timeSigned > 0xFFFFFFFFFFFFULL)
    return badText("bad TSIG time");
  tok = next();
  if (tok == nullptr || !parseNumber(tok->text, ts.fudge)) return badText("bad TSIG fudge");
  tok = next();
  if (tok == nullptr || !parseNumber(tok->text, macSize)) return badText("bad TSIG MAC size");
  if (macSize > 0) {
    tok = next();
    if (tok == nullptr) return badText("missing TSIG MAC");
    auto mac = fromBase64(tok->text);
    if (!mac) return mac.error();
    if (mac->size() != macSize) return badText("TSIG MAC size mismatch");
    ts.mac = std::move(*mac);
  }
  tok = next();
  if (tok == nullptr || !parseNumber(tok->text, ts.originalId)) return badText("bad TSIG original ID");
  tok = next();
  if (tok == nullptr) return badText("missing TSIG error");
  bool known = parseNumber(tok->text, ts.error);
  for (const auto& [code, text] : kTsigErrors)
    if (tok->text == text) {
      ts.error = code;
      known = true;
    }
  if (!known) return badText("bad TSIG error");
  uint16_t otherLen = 0;
  tok = next();
  if (tok == nullptr || !parseNumber(tok->text, otherLen)) return badText("bad TSIG other length");
  if (otherLen > 0) {
    tok = next();
    if (tok == nullptr) return badText("missing TSIG other data");
    auto other = fromBase64(tok->text);
    if (!other) return other.error();
    if (other->size() != otherLen) return badText("TSIG other data size mismatch");
    ts.otherData = std::move(*other);
  }
  if (i != t.size()) return badText("extra TSIG fields");
  return ts;
}
WireError validateTsig(WireReader& r) {
  if (WireError e = skipRdataName(r); e != WireError::Ok) return e;
  uint16_t macSize = 0;
  uint16_t otherLen = 0;
  if (!r.skip(8) || !r.readU16(macSize) || !r.skip(macSize) || !r.skip(4) || !r.readU16(otherLen) ||
      !r.skip(otherLen))
    return WireError::Truncated;
  return WireError::Ok;
}

// ---- generic (RFC 3597): raw bytes ---------------------------------------------------

Result<RData> decodeOpaque(WireReader& r) {
  std::span<const uint8_t> b;
  (void)r.readBytes(r.remaining(), b);
  return Opaque{std::vector<uint8_t>(b.begin(), b.end())};
}
bool encodeOpaque(const RData& d, WireWriter& w, NameCompressor*) {
  return w.writeBytes(std::get<Opaque>(d).bytes);
}
std::string textOpaque(const RData& d) { return genericRdataText(std::get<Opaque>(d).bytes); }
Result<RData> parseOpaque(std::span<const Token> t, const Name&) {
  if (t.empty() || t[0].quoted || t[0].text != "\\#")
    return badText("unknown type needs \\# RDATA (RFC 3597)");
  return rdataFromGenericText(RRType{0}, t);
}
WireError validateOpaque(WireReader& r) {
  (void)r.skip(r.remaining());
  return WireError::Ok;
}

// Types without a presentation form of their own here (OPT) print their wire bytes.
template <bool (*kEncode)(const RData&, WireWriter&, NameCompressor*)>
std::string textViaGeneric(const RData& d) {
  std::vector<uint8_t> buf(kMaxMessageSize);
  WireWriter w(buf);
  if (!kEncode(d, w, nullptr)) return "\\# ?";
  return genericRdataText(w.written());
}

// Every type also accepts the generic form (RFC 3597 §5).
template <RRType kType, Result<RData> (*kParse)(std::span<const Token>, const Name&)>
Result<RData> parseOrGeneric(std::span<const Token> t, const Name& origin) {
  if (!t.empty() && !t[0].quoted && t[0].text == "\\#") return rdataFromGenericText(kType, t);
  return kParse(t, origin);
}

Result<RData> parseOptText(std::span<const Token>, const Name&) {
  return badText("OPT RDATA needs the \\# form");
}

// ---- the table -------------------------------------------------------------------------

// RDATA held as raw bytes (Opaque) under a known type is written and printed as is, so
// that a caller mixing the two never meets bad_variant_access.
template <bool (*kEncode)(const RData&, WireWriter&, NameCompressor*)>
bool encodeOrRaw(const RData& d, WireWriter& w, NameCompressor* c) {
  if (const auto* raw = std::get_if<Opaque>(&d)) return w.writeBytes(raw->bytes);
  return kEncode(d, w, c);
}
template <std::string (*kText)(const RData&)>
std::string textOrRaw(const RData& d) {
  if (const auto* raw = std::get_if<Opaque>(&d)) return genericRdataText(raw->bytes);
  return kText(d);
}

#define DNS_ROW(TYPE, MNEMONIC, COMPRESS, DEC, ENC, TXT, PARSE, VAL)         \
  RRTypeInfo {                                                               \
    RRType::TYPE, MNEMONIC, COMPRESS, DEC, encodeOrRaw<ENC>, textOrRaw<TXT>, \
        parseOrGeneric<RRType::TYPE, PARSE>, VAL                             \
  }

constexpr RRTypeInfo kRows[] = {
    DNS_ROW(A, "A", false, decodeA, encodeA, textA, parseA, validateA),
    DNS_ROW(NS, "NS", true, (decodeOneName<Ns, &Ns::nsdname>), (encodeOneName<Ns, &Ns::nsdname>),
            (textOneName<Ns, &Ns::nsdname>), (parseOneName<Ns, &Ns::nsdname>), validateOneName),
    DNS_ROW(CNAME, "CNAME", true, (decodeOneName<Cname, &Cname::target>),
            (encodeOneName<Cname, &Cname::target>), (textOneName<Cname, &Cname::target>),
            (parseOneName<Cname, &Cname::target>), validateOneName),
    DNS_ROW(SOA, "SOA", true, decodeSoa, encodeSoa, textSoa, parseSoa, validateSoa),
    DNS_ROW(PTR, "PTR", true, (decodeOneName<Ptr, &Ptr::target>), (encodeOneName<Ptr, &Ptr::target>),
            (textOneName<Ptr, &Ptr::target>), (parseOneName<Ptr, &Ptr::target>), validateOneName),
    DNS_ROW(MX, "MX", true, decodeMx, encodeMx, textMx, parseMx, validateMx),
    DNS_ROW(TXT, "TXT", false, decodeTxt, encodeTxt, textTxt, parseTxt, validateTxt),
    DNS_ROW(AAAA, "AAAA", false, decodeAaaa, encodeAaaa, textAaaa, parseAaaa, validateAaaa),
    DNS_ROW(SRV, "SRV", false, decodeSrv, encodeSrv, textSrv, parseSrv, validateSrv),
    DNS_ROW(OPT, "OPT", false, decodeOpt, encodeOpt, textViaGeneric<encodeOpt>, parseOptText, validateOpt),
    DNS_ROW(TSIG, "TSIG", false, decodeTsig, encodeTsig, textTsig, parseTsig, validateTsig),
};
#undef DNS_ROW

constexpr RRTypeInfo kGenericRow{RRType{0},    "",         false,       decodeOpaque,
                                 encodeOpaque, textOpaque, parseOpaque, validateOpaque};

// Direct index for the codes below 256 (every row's code is); built at compile time so
// that lookups from other static initializers are safe.
constexpr std::array<const RRTypeInfo*, 256> kIndex = [] {
  std::array<const RRTypeInfo*, 256> index{};
  for (const auto& row : kRows) index[static_cast<uint16_t>(row.type)] = &row;
  return index;
}();

// Mnemonics of meta types that have no row (they never carry RDATA of their own).
constexpr std::pair<RRType, std::string_view> kMetaTypes[] = {
    {RRType::IXFR, "IXFR"}, {RRType::AXFR, "AXFR"}, {RRType::ANY, "ANY"}};

constexpr std::pair<RRClass, std::string_view> kClasses[] = {{RRClass::IN, "IN"},
                                                             {RRClass::CH, "CH"},
                                                             {RRClass::HS, "HS"},
                                                             {RRClass::NONE, "NONE"},
                                                             {RRClass::ANY, "ANY"}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

// "TYPE123" / "CLASS3" (RFC 3597 §5).
bool parsePrefixedNumber(std::string_view text, std::string_view prefix, uint16_t& out) {
  if (text.size() <= prefix.size() || !iequals(text.substr(0, prefix.size()), prefix)) return false;
  const std::string_view digits = text.substr(prefix.size());
  if (digits.size() > 1 && digits[0] == '0') return false;
  return parseNumber(digits, out);
}

}  // namespace

const RRTypeInfo& typeInfo(RRType type) {
  const auto code = static_cast<uint16_t>(type);
  if (code < kIndex.size() && kIndex[code] != nullptr) return *kIndex[code];
  return kGenericRow;
}

bool isKnownType(RRType type) {
  const auto code = static_cast<uint16_t>(type);
  return code < kIndex.size() && kIndex[code] != nullptr;
}

std::string typeToText(RRType type) {
  if (isKnownType(type)) return std::string(typeInfo(type).mnemonic);
  for (const auto& [t, text] : kMetaTypes)
    if (t == type) return std::string(text);
  return fmt::format("TYPE{}", static_cast<uint16_t>(type));
}

Result<RRType> typeFromText(std::string_view text) {
  for (const auto& row : kRows)
    if (iequals(text, row.mnemonic)) return row.type;
  for (const auto& [t, name] : kMetaTypes)
    if (iequals(text, name)) return t;
  uint16_t code = 0;
  if (parsePrefixedNumber(text, "TYPE", code)) return static_cast<RRType>(code);
  return Error(WireError::UnknownType, "unknown type: " + std::string(text));
}

std::string classToText(RRClass cls) {
  for (const auto& [c, text] : kClasses)
    if (c == cls) return std::string(text);
  return fmt::format("CLASS{}", static_cast<uint16_t>(cls));
}

Result<RRClass> classFromText(std::string_view text) {
  for (const auto& [c, name] : kClasses)
    if (iequals(text, name)) return c;
  uint16_t code = 0;
  if (parsePrefixedNumber(text, "CLASS", code)) return static_cast<RRClass>(code);
  return Error(WireError::BadText, "unknown class: " + std::string(text));
}

std::string genericRdataText(std::span<const uint8_t> rdata) {
  if (rdata.empty()) return "\\# 0";
  return fmt::format("\\# {} {}", rdata.size(), toHex(rdata));
}

Result<RData> rdataFromGenericText(RRType type, std::span<const Token> tokens) {
  if (tokens.size() < 2 || tokens[0].text != "\\#")
    return badText("generic RDATA must start with \\# <length>");
  uint16_t length = 0;
  if (tokens[1].quoted || !parseNumber(tokens[1].text, length)) return badText("bad generic RDATA length");
  std::string hex;
  for (size_t i = 2; i < tokens.size(); ++i) {
    if (tokens[i].quoted) return badText("generic RDATA hex cannot be quoted");
    hex += tokens[i].text;
  }
  auto bytes = fromHex(hex);
  if (!bytes) return bytes.error();
  if (bytes->size() != length) return badText("generic RDATA length does not match its hex");
  const RRTypeInfo& info = typeInfo(type);
  if (&info == &kGenericRow) return Opaque{std::move(*bytes)};
  WireReader reader(*bytes);
  auto data = info.decode(reader);
  if (!data) return Error(WireError::BadText, "generic RDATA does not decode: " + data.error().message());
  if (!reader.atEnd()) return badText("generic RDATA longer than the type's fields");
  return data;
}

}  // namespace dnswire
