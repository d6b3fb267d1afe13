#pragma once
// Numeric protocol constants (RFC 1035 §3.2, §4.1.1 and the IANA registries).
// Enums keep uint16_t storage so that any value read off the wire is representable.

#include <cstddef>
#include <cstdint>

namespace dnswire {

enum class RRType : uint16_t {
  A = 1,
  NS = 2,
  CNAME = 5,
  SOA = 6,
  PTR = 12,
  MX = 15,
  TXT = 16,
  AAAA = 28,
  SRV = 33,
  OPT = 41,
  TSIG = 250,
  IXFR = 251,
  AXFR = 252,
  ANY = 255,
};

enum class RRClass : uint16_t {
  IN = 1,
  CH = 3,
  HS = 4,
  NONE = 254,
  ANY = 255,
};

enum class Opcode : uint8_t {
  Query = 0,
  IQuery = 1,
  Status = 2,
  Notify = 4,
  Update = 5,
  Add = 14,  // private: register a domain (README, "The ADD opcode")
};

// Four-bit header codes plus the extended ones carried in OPT or TSIG.
enum class Rcode : uint16_t {
  NoError = 0,
  FormErr = 1,
  ServFail = 2,
  NXDomain = 3,
  NotImp = 4,
  Refused = 5,
  YXDomain = 6,
  YXRRSet = 7,
  NXRRSet = 8,
  NotAuth = 9,
  NotZone = 10,
  BadVers = 16,  // in OPT (RFC 6891 §6.1.3); BADSIG shares 16 in TSIG (RFC 8945)
  BadSig = 16,
  BadKey = 17,
  BadTime = 18,
};

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxLabelLength = 63;
inline constexpr size_t kMaxNameLength = 255;
inline constexpr size_t kMaxUdpPlain = 512;          // RFC 1035 §4.2.1
inline constexpr uint16_t kAdvertisedUdpSize = 1232;  // DNS flag day 2020
inline constexpr size_t kMaxMessageSize = 65535;      // TCP's 2-byte length (RFC 1035 §4.2.2)
inline constexpr int kMaxCompressionHops = 126;       // RFC 9267 §2: 255/2 pointers at most

}  // namespace dnswire
