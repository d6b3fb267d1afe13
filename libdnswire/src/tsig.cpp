#include "dnswire/tsig.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "dnswire/message_reader.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/text.hpp"
#include "dnswire/wire_reader.hpp"

namespace dnswire {
namespace {

constexpr size_t kMinMacSize = 16;  // RFC 8945 §5.2.2.1: max(10, half the HMAC output)

void putU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void putU32(std::vector<uint8_t>& out, uint32_t v) {
  putU16(out, static_cast<uint16_t>(v >> 16));
  putU16(out, static_cast<uint16_t>(v));
}
void putU48(std::vector<uint8_t>& out, uint64_t v) {
  putU16(out, static_cast<uint16_t>(v >> 32));
  putU32(out, static_cast<uint32_t>(v));
}
void putName(std::vector<uint8_t>& out, const Name& name) {
  // Canonical form: uncompressed, lowercase (RFC 8945 §4.3.3, RFC 4034 §6.2).
  const Name lower = name.lowercased();  // keep it alive: wire() is a view into it
  const auto wire = lower.wire();
  out.insert(out.end(), wire.begin(), wire.end());
}

// The TSIG record itself (owner, type, class ANY, TTL 0, RDATA), appended to `out`.
void appendTsigRecord(std::vector<uint8_t>& out, const Name& keyName, const Tsig& t) {
  const auto owner = keyName.wire();
  out.insert(out.end(), owner.begin(), owner.end());
  putU16(out, static_cast<uint16_t>(RRType::TSIG));
  putU16(out, static_cast<uint16_t>(RRClass::ANY));
  putU32(out, 0);
  const size_t rdlengthAt = out.size();
  putU16(out, 0);
  const auto algorithm = t.algorithm.wire();  // never compressed (§4.2)
  out.insert(out.end(), algorithm.begin(), algorithm.end());
  putU48(out, t.timeSigned);
  putU16(out, t.fudge);
  putU16(out, static_cast<uint16_t>(t.mac.size()));
  out.insert(out.end(), t.mac.begin(), t.mac.end());
  putU16(out, t.originalId);
  putU16(out, t.error);
  putU16(out, static_cast<uint16_t>(t.otherData.size()));
  out.insert(out.end(), t.otherData.begin(), t.otherData.end());
  const size_t rdlength = out.size() - rdlengthAt - 2;
  out[rdlengthAt] = static_cast<uint8_t>(rdlength >> 8);
  out[rdlengthAt + 1] = static_cast<uint8_t>(rdlength);
}

uint16_t readU16At(std::span<const uint8_t> wire, size_t at) {
  return static_cast<uint16_t>(wire[at] << 8 | wire[at + 1]);
}

Result<std::vector<uint8_t>> appendRecord(std::span<const uint8_t> message, const Name& keyName,
                                          const Tsig& t) {
  if (message.size() < kHeaderSize) return Error(WireError::ShortHeader, "message shorter than a header");
  const uint16_t arcount = readU16At(message, 10);
  if (arcount == 0xFFFF) return Error(WireError::NoSpace, "ARCOUNT is full");
  if (t.otherData.size() > 0xFFFF || t.mac.size() > 0xFFFF)
    return Error(WireError::NoSpace, "TSIG field too long");
  std::vector<uint8_t> out(message.begin(), message.end());
  appendTsigRecord(out, keyName, t);
  if (out.size() > kMaxMessageSize) return Error(WireError::NoSpace, "signed message over 65535 octets");
  out[10] = static_cast<uint8_t>((arcount + 1) >> 8);
  out[11] = static_cast<uint8_t>(arcount + 1);
  return out;
}

}  // namespace

const char* tsigErrorText(uint16_t error) {
  switch (error) {
    case 0:
      return "NOERROR";
    case 16:
      return "BADSIG";
    case 17:
      return "BADKEY";
    case 18:
      return "BADTIME";
    case 22:
      return "BADTRUNC";
    default:
      return "unknown TSIG error";
  }
}

const Name& hmacSha256Name() {
  static const Name name = *Name::fromText("hmac-sha256.");
  return name;
}

Result<TsigKey> parseTsigKey(std::string_view spec) {
  const auto first = spec.find(':');
  const auto last = spec.rfind(':');
  if (first == std::string_view::npos || first == last)
    return Error(WireError::BadText, "expected hmac-sha256:NAME:BASE64SECRET");
  std::string algorithm(spec.substr(0, first));
  for (auto& c : algorithm) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (algorithm != "hmac-sha256")
    return Error(WireError::BadText, "unsupported TSIG algorithm '" + algorithm + "' (only hmac-sha256)");
  const std::string_view nameText = spec.substr(first + 1, last - first - 1);
  if (nameText.empty()) return Error(WireError::BadText, "empty TSIG key name");
  auto name = Name::fromText(nameText);
  if (!name || name->isRoot())
    return Error(WireError::BadText, "bad TSIG key name '" + std::string(nameText) + "'");
  auto secret = fromBase64(spec.substr(last + 1));
  if (!secret || secret->empty()) return Error(WireError::BadText, "TSIG secret is not base64");
  return TsigKey{*name, hmacSha256Name(), std::move(*secret)};
}

std::vector<uint8_t> hmacSha256(std::span<const uint8_t> secret, std::span<const uint8_t> data) {
  std::vector<uint8_t> mac(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  static const uint8_t kEmpty = 0;
  if (HMAC(EVP_sha256(), secret.empty() ? &kEmpty : secret.data(), static_cast<int>(secret.size()),
           data.empty() ? &kEmpty : data.data(), data.size(), mac.data(), &size) == nullptr)
    size = 0;  // cannot happen with a built-in digest; an empty MAC then never verifies
  mac.resize(size);
  return mac;
}

std::vector<uint8_t> tsigDigestInput(std::span<const uint8_t> unsignedMessage, uint16_t originalId,
                                     const Name& keyName, const Tsig& fields,
                                     std::span<const uint8_t> requestMac) {
  std::vector<uint8_t> in;
  in.reserve(requestMac.size() + unsignedMessage.size() + 128);
  if (!requestMac.empty()) {
    // RFC 8945 §4.3.1: a response's digest starts with the request's MAC.
    putU16(in, static_cast<uint16_t>(requestMac.size()));
    in.insert(in.end(), requestMac.begin(), requestMac.end());
  }
  const size_t messageAt = in.size();
  in.insert(in.end(), unsignedMessage.begin(), unsignedMessage.end());
  if (unsignedMessage.size() >= 2) {
    // §4.3.2: the digest covers the original ID (a forwarder may have changed the ID).
    in[messageAt] = static_cast<uint8_t>(originalId >> 8);
    in[messageAt + 1] = static_cast<uint8_t>(originalId);
  }
  // §4.3.3: the TSIG variables.
  putName(in, keyName);
  putU16(in, static_cast<uint16_t>(RRClass::ANY));
  putU32(in, 0);
  putName(in, fields.algorithm);
  putU48(in, fields.timeSigned);
  putU16(in, fields.fudge);
  putU16(in, fields.error);
  putU16(in, static_cast<uint16_t>(fields.otherData.size()));
  in.insert(in.end(), fields.otherData.begin(), fields.otherData.end());
  return in;
}

Result<TsigSigned> tsigSign(std::span<const uint8_t> message, const TsigKey& key, const TsigFields& fields,
                            std::span<const uint8_t> requestMac) {
  if (message.size() < kHeaderSize) return Error(WireError::ShortHeader, "message shorter than a header");
  Tsig t;
  t.algorithm = key.algorithm.empty() ? hmacSha256Name() : key.algorithm;
  t.timeSigned = fields.timeSigned & 0xFFFFFFFFFFFFULL;
  t.fudge = fields.fudge;
  t.originalId = readU16At(message, 0);
  t.error = fields.error;
  t.otherData = fields.otherData;
  t.mac = hmacSha256(key.secret, tsigDigestInput(message, t.originalId, key.name, t, requestMac));
  auto wire = appendRecord(message, key.name, t);
  if (!wire) return wire.error();
  return TsigSigned{std::move(*wire), std::move(t.mac)};
}

Result<std::vector<uint8_t>> tsigAppendUnsigned(std::span<const uint8_t> message, const Name& keyName,
                                                const Name& algorithm, const TsigFields& fields,
                                                uint16_t originalId) {
  Tsig t;
  t.algorithm = algorithm;
  t.timeSigned = fields.timeSigned & 0xFFFFFFFFFFFFULL;
  t.fudge = fields.fudge;
  t.originalId = originalId;
  t.error = fields.error;
  t.otherData = fields.otherData;
  return appendRecord(message, keyName, t);
}

Result<TsigCheck> tsigVerify(std::span<const uint8_t> message, const TsigKey& key, int64_t now,
                             std::span<const uint8_t> requestMac) {
  auto view = parseQuery(message);
  if (!view) return view.error();
  TsigCheck check;
  if (view->tsigOffset == 0) return check;
  check.present = true;
  check.offset = view->tsigOffset;

  WireReader reader(message);
  reader.seek(view->tsigOffset);
  auto rr = readRecord(reader);
  if (!rr) return rr.error();
  const auto* t = std::get_if<Tsig>(&rr->data);
  if (t == nullptr || rr->cls != RRClass::ANY || rr->ttl != 0)
    return Error(WireError::BadRdata,
                 "TSIG record without its fields, or not class ANY TTL 0 (RFC 8945 §4.2)");
  check.keyName = rr->owner;
  check.record = *t;

  // §5.2.1: an unknown key or algorithm is BADKEY.
  if (rr->owner != key.name || t->algorithm != (key.algorithm.empty() ? hmacSha256Name() : key.algorithm)) {
    check.error = TsigError::BadKey;
    return check;
  }
  // §5.2.2.1: a MAC longer than the hash or shorter than the least we could accept is
  // malformed; a truncated one that is otherwise acceptable gets BADTRUNC (we accept only
  // full-length MACs).
  if (t->mac.size() > kHmacSha256Size || t->mac.size() < kMinMacSize)
    return Error(WireError::BadRdata,
                 "TSIG MAC size " + std::to_string(t->mac.size()) + " (RFC 8945 §5.2.2.1)");
  if (t->mac.size() != kHmacSha256Size) {
    check.error = TsigError::BadTrunc;
    return check;
  }

  // The digest covers the message as it was before signing: without the TSIG record and
  // with ARCOUNT one lower (§4.3.2).
  std::vector<uint8_t> unsignedMessage(message.begin(),
                                       message.begin() + static_cast<ptrdiff_t>(check.offset));
  const uint16_t arcount = readU16At(message, 10);
  unsignedMessage[10] = static_cast<uint8_t>((arcount - 1) >> 8);
  unsignedMessage[11] = static_cast<uint8_t>(arcount - 1);
  const auto expected =
      hmacSha256(key.secret, tsigDigestInput(unsignedMessage, t->originalId, rr->owner, *t, requestMac));
  if (expected.size() != t->mac.size() ||
      CRYPTO_memcmp(expected.data(), t->mac.data(), expected.size()) != 0) {
    check.error = TsigError::BadSig;
    return check;
  }
  // §5.2.3: the time check comes after the MAC check.
  const int64_t signedAt = static_cast<int64_t>(t->timeSigned);
  const int64_t skew = now > signedAt ? now - signedAt : signedAt - now;
  if (skew > static_cast<int64_t>(t->fudge)) check.error = TsigError::BadTime;
  return check;
}

}  // namespace dnswire
