#pragma once
// The 12-byte message header (RFC 1035 §4.1.1).

#include <cstdint>

#include "dnswire/error.hpp"
#include "dnswire/types.hpp"

namespace dnswire {

class WireReader;
class WireWriter;

struct Header {
  uint16_t id = 0;
  bool qr = false;
  Opcode opcode = Opcode::Query;
  bool aa = false;
  bool tc = false;
  bool rd = false;
  bool ra = false;
  bool z = false;   // must be zero; read so that servers can ignore it, never set in replies
  bool ad = false;  // RFC 4035 §3.2.3
  bool cd = false;
  uint8_t rcode = 0;  // low four bits; the upper eight live in OPT (RFC 6891 §6.1.3)
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;

  static Result<Header> read(WireReader& reader);  // ShortHeader when < 12 bytes remain
  bool write(WireWriter& writer) const;
  uint16_t flags() const;
  void setFlags(uint16_t flags);
  bool operator==(const Header&) const = default;
};

}  // namespace dnswire
