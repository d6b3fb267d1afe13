#pragma once
// Transaction signatures (RFC 8945) with HMAC-SHA256, the only algorithm we accept:
// signing a message (request or response), checking one, and the key specification
// "hmac-sha256:NAME:BASE64SECRET" that the command lines take (as dig -y does).
// The HMAC itself is OpenSSL libcrypto's; the comparison is constant-time.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dnswire/error.hpp"
#include "dnswire/name.hpp"
#include "dnswire/rdata.hpp"

namespace dnswire {

inline constexpr uint16_t kTsigFudge = 300;  // RFC 8945 §10: 300 s recommended
inline constexpr size_t kHmacSha256Size = 32;

// The TSIG error field (RFC 8945 §3, IANA "DNS RCODEs").
enum class TsigError : uint16_t {
  NoError = 0,
  BadSig = 16,
  BadKey = 17,
  BadTime = 18,
  BadTrunc = 22,
};
const char* tsigErrorText(uint16_t error);  // "BADSIG", ... or "NOERROR"; "16" style for others

struct TsigKey {
  Name name;       // the key's name, as both sides must spell it (case-insensitive)
  Name algorithm;  // hmac-sha256.
  std::vector<uint8_t> secret;
};

// "hmac-sha256." as a name.
const Name& hmacSha256Name();

// Parses "hmac-sha256:NAME:BASE64SECRET" (the algorithm case-insensitive; NAME relative
// names are taken as absolute). BadText with a one-line reason otherwise: another
// algorithm, an empty or bad name, a secret that is not base64 or is empty.
Result<TsigKey> parseTsigKey(std::string_view spec);

struct TsigSigned {
  std::vector<uint8_t> wire;  // the message with the TSIG record appended
  std::vector<uint8_t> mac;   // its MAC: a request's is needed to check the response
};

// What goes into a TSIG record besides the key (RFC 8945 §4.2).
struct TsigFields {
  uint64_t timeSigned = 0;  // seconds since the epoch, 48 bits
  uint16_t fudge = kTsigFudge;
  uint16_t error = 0;
  std::vector<uint8_t> otherData;  // BADTIME: the server's time, 6 octets (§5.2.3)
};

// Appends a TSIG record signed with `key` to `message` (a whole message without TSIG)
// and increments ARCOUNT. For a response, `requestMac` is the request's MAC, which the
// digest covers first (§4.3.1); empty for a request (§4.3.3). Fails when the message is
// shorter than a header, ARCOUNT is at its maximum or the result exceeds 65535 octets.
Result<TsigSigned> tsigSign(std::span<const uint8_t> message, const TsigKey& key, const TsigFields& fields,
                            std::span<const uint8_t> requestMac = {});

// Appends an unsigned TSIG record (MAC size 0) naming `keyName`/`algorithm` with `error`
// and `originalId`: the answer to a request whose key or signature failed (§5.3.2).
Result<std::vector<uint8_t>> tsigAppendUnsigned(std::span<const uint8_t> message, const Name& keyName,
                                                const Name& algorithm, const TsigFields& fields,
                                                uint16_t originalId);

// The result of checking a message's TSIG.
struct TsigCheck {
  bool present = false;                  // a TSIG record is the last record of the additional section
  TsigError error = TsigError::NoError;  // meaningful when present
  size_t offset = 0;                     // where the TSIG record starts (the message before it is signed)
  Name keyName;                          // as the message spells it
  Tsig record;                           // the decoded RDATA
};

// Checks the TSIG of `message` against `key` at wall-clock time `now` (RFC 8945 §5.2):
//   - no TSIG as the last additional record: present = false;
//   - key name or algorithm differ from `key`: BadKey;
//   - MAC longer than 32 or shorter than 16 octets: the Result is an error (FORMERR,
//     §5.2.2.1); 16..31 octets (a truncated MAC, which we do not accept): BadTrunc;
//   - MAC wrong: BadSig;  time signed further than fudge from `now`: BadTime (§5.2.3,
//     checked only once the MAC is good).
// `requestMac` is given when `message` is a response to a signed request.
// The Result is an error only when the message or its TSIG record does not parse.
Result<TsigCheck> tsigVerify(std::span<const uint8_t> message, const TsigKey& key, int64_t now,
                             std::span<const uint8_t> requestMac = {});

// The octets a MAC is computed over (§4.3): for tests and for tsigSign/tsigVerify.
// `unsignedMessage` is the message without the TSIG record and with an ARCOUNT that does
// not count it; its ID is replaced by `originalId` (§4.3.2).
std::vector<uint8_t> tsigDigestInput(std::span<const uint8_t> unsignedMessage, uint16_t originalId,
                                     const Name& keyName, const Tsig& fields,
                                     std::span<const uint8_t> requestMac);

// HMAC-SHA256 of `data` under `secret`.
std::vector<uint8_t> hmacSha256(std::span<const uint8_t> secret, std::span<const uint8_t> data);

}  // namespace dnswire
