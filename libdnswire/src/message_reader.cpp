#include "dnswire/message_reader.hpp"

#include "dnswire/rr_table.hpp"
#include "dnswire/wire_reader.hpp"

namespace dnswire {

Result<ResourceRecord> readRecord(WireReader& reader) {
  auto owner = Name::fromWire(reader);
  if (!owner) return owner.error();
  ResourceRecord rr;
  rr.owner = std::move(*owner);
  uint16_t type = 0;
  uint16_t cls = 0;
  uint16_t rdlength = 0;
  if (!reader.readU16(type) || !reader.readU16(cls) || !reader.readU32(rr.ttl) || !reader.readU16(rdlength))
    return WireError::Truncated;
  rr.type = static_cast<RRType>(type);
  rr.cls = static_cast<RRClass>(cls);
  WireReader rdata(reader.message());
  if (!reader.sub(rdlength, rdata)) return WireError::Truncated;
  // RFC 2136 §2.4-2.5: a record of class NONE or ANY may have empty RDATA (the ADD
  // opcode's "allocate an address" placeholders use it too); kept as empty Opaque.
  if (rdlength == 0 && (rr.cls == RRClass::NONE || rr.cls == RRClass::ANY)) {
    rr.data = Opaque{};
    return rr;
  }
  auto data = typeInfo(rr.type).decode(rdata);
  if (!data) {
    // Running out inside the RDLENGTH window means RDLENGTH and the fields disagree.
    if (data.error().is(WireError::Truncated)) return WireError::RdataLength;
    return data.error();
  }
  if (!rdata.atEnd()) return WireError::RdataLength;
  rr.data = std::move(*data);
  return rr;
}

Result<Message> parseMessage(std::span<const uint8_t> wire) {
  WireReader reader(wire);
  auto header = Header::read(reader);
  if (!header) return header.error();
  Message m;
  m.header = *header;
  for (uint16_t i = 0; i < m.header.qdcount; ++i) {
    Question q;
    auto name = Name::fromWire(reader);
    if (!name) return name.error();
    q.qname = std::move(*name);
    uint16_t type = 0;
    uint16_t cls = 0;
    if (!reader.readU16(type) || !reader.readU16(cls)) return WireError::Truncated;
    q.qtype = static_cast<RRType>(type);
    q.qclass = static_cast<RRClass>(cls);
    m.questions.push_back(std::move(q));
  }
  const uint16_t counts[3] = {m.header.ancount, m.header.nscount, m.header.arcount};
  const Section sections[3] = {Section::Answer, Section::Authority, Section::Additional};
  bool sawOpt = false;
  for (int s = 0; s < 3; ++s) {
    auto& out = m.section(sections[s]);
    for (uint16_t i = 0; i < counts[s]; ++i) {
      // Each record needs at least 11 bytes, so a lying count fails here, before the
      // vector grows far (allocations never follow the header's counts).
      auto rr = readRecord(reader);
      if (!rr) return rr.error();
      if (rr->type == RRType::OPT) {
        // RFC 6891 §6.1.1: one OPT at most, in the additional section, owned by the root.
        if (sections[s] != Section::Additional || sawOpt || !rr->owner.isRoot()) return WireError::BadOpt;
        sawOpt = true;
      }
      // RFC 8945 §5.1: a TSIG anywhere but last in the additional section is malformed.
      if (rr->type == RRType::TSIG && (sections[s] != Section::Additional || i + 1 != counts[s]))
        return WireError::BadTsig;
      out.push_back(std::move(*rr));
    }
  }
  if (!reader.atEnd()) return WireError::TrailingBytes;
  return m;
}

}  // namespace dnswire
