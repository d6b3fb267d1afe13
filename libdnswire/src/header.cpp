#include "dnswire/header.hpp"

#include "dnswire/wire_reader.hpp"
#include "dnswire/wire_writer.hpp"

namespace dnswire {

Result<Header> Header::read(WireReader& reader) {
  if (reader.remaining() < kHeaderSize) return WireError::ShortHeader;
  Header h;
  uint16_t flags = 0;
  // The length check above makes every read succeed.
  (void)reader.readU16(h.id);
  (void)reader.readU16(flags);
  (void)reader.readU16(h.qdcount);
  (void)reader.readU16(h.ancount);
  (void)reader.readU16(h.nscount);
  (void)reader.readU16(h.arcount);
  h.setFlags(flags);
  return h;
}

bool Header::write(WireWriter& writer) const {
  if (writer.room() < kHeaderSize) return false;
  writer.writeU16(id);
  writer.writeU16(flags());
  writer.writeU16(qdcount);
  writer.writeU16(ancount);
  writer.writeU16(nscount);
  writer.writeU16(arcount);
  return true;
}

// RFC 1035 §4.1.1 layout: QR | Opcode(4) | AA | TC | RD | RA | Z | AD | CD | RCODE(4).
uint16_t Header::flags() const {
  uint16_t f = 0;
  if (qr) f |= 0x8000;
  f |= static_cast<uint16_t>((static_cast<uint16_t>(opcode) & 0xF) << 11);
  if (aa) f |= 0x0400;
  if (tc) f |= 0x0200;
  if (rd) f |= 0x0100;
  if (ra) f |= 0x0080;
  if (z) f |= 0x0040;
  if (ad) f |= 0x0020;
  if (cd) f |= 0x0010;
  f |= rcode & 0xF;
  return f;
}

void Header::setFlags(uint16_t f) {
  qr = f & 0x8000;
  opcode = static_cast<Opcode>((f >> 11) & 0xF);
  aa = f & 0x0400;
  tc = f & 0x0200;
  rd = f & 0x0100;
  ra = f & 0x0080;
  z = f & 0x0040;
  ad = f & 0x0020;
  cd = f & 0x0010;
  rcode = static_cast<uint8_t>(f & 0xF);
}

}  // namespace dnswire
