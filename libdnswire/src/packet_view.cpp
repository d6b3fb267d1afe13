#include "dnswire/packet_view.hpp"

#include "dnswire/rr_table.hpp"
#include "dnswire/wire_reader.hpp"
#include "name_decode.hpp"

namespace dnswire {

Result<void> skipName(WireReader& reader) {
  size_t size = 0;
  if (WireError e = detail::decodeName<false>(reader, nullptr, size); e != WireError::Ok) return e;
  return {};
}

namespace {

bool emptyMetaRdata(uint16_t cls, uint16_t rdlength) {
  return rdlength == 0 &&
         (cls == static_cast<uint16_t>(RRClass::NONE) || cls == static_cast<uint16_t>(RRClass::ANY));
}

inline WireError skipNameCode(WireReader& reader) {
  size_t size = 0;
  return detail::decodeName<false>(reader, nullptr, size);
}

}  // namespace

Result<QueryView> parseQuery(std::span<const uint8_t> wire) {
  QueryView view;
  if (WireError e = parseQuery(wire, view); e != WireError::Ok) return e;
  return view;
}

WireError parseQuery(std::span<const uint8_t> wire, QueryView& view) {
  WireReader reader(wire);
  view = QueryView{};
  {
    auto header = Header::read(reader);
    if (!header) return WireError::ShortHeader;  // its only failure
    view.header = *header;
  }
  const Header& h = view.header;
  // RFC 1035 §4.1.2 allows several questions, but no server answers more than one.
  if (h.opcode == Opcode::Query ? h.qdcount != 1 : h.qdcount > 1) return WireError::BadQuestionCount;
  if (h.qdcount == 1) {
    if (WireError e = Name::fromWire(reader, view.qname); e != WireError::Ok) return e;
    uint16_t type = 0;
    uint16_t cls = 0;
    if (!reader.readU16(type) || !reader.readU16(cls)) return WireError::Truncated;
    view.qtype = static_cast<RRType>(type);
    view.qclass = static_cast<RRClass>(cls);
  }
  view.questionEnd = reader.position();

  // Every record is checked as parseMessage() would, without building values.
  const uint16_t counts[3] = {h.ancount, h.nscount, h.arcount};
  bool sawOpt = false;
  for (int s = 0; s < 3; ++s) {
    for (uint32_t i = 0; i < counts[s]; ++i) {
      const size_t start = reader.position();
      if (WireError e = skipNameCode(reader); e != WireError::Ok) return e;
      uint16_t type = 0;
      uint16_t cls = 0;
      uint32_t ttl = 0;
      uint16_t rdlength = 0;
      if (!reader.readU16(type) || !reader.readU16(cls) || !reader.readU32(ttl) || !reader.readU16(rdlength))
        return WireError::Truncated;
      WireReader rdata(wire);
      if (!reader.sub(rdlength, rdata)) return WireError::Truncated;
      const auto rrtype = static_cast<RRType>(type);
      // RFC 2136 §2.4-2.5: a record of class NONE or ANY may have empty RDATA (the ADD
      // opcode's "allocate an address" placeholders use it too).
      if (!emptyMetaRdata(cls, rdlength)) {
        WireError e = typeInfo(rrtype).validate(rdata);
        if (e == WireError::Truncated) return WireError::RdataLength;
        if (e != WireError::Ok) return e;
        if (!rdata.atEnd()) return WireError::RdataLength;
      }
      if (rrtype == RRType::OPT) {
        // RFC 6891 §6.1.1: one OPT at most, in the additional section, owned by the root
        // (the owner may be a pointer to a root label, so decode it to be sure).
        if (s != 2 || sawOpt) return WireError::BadOpt;
        WireReader ownerReader(wire);
        ownerReader.seek(start);
        size_t ownerSize = 0;
        if (detail::decodeName<false>(ownerReader, nullptr, ownerSize) != WireError::Ok || ownerSize != 1)
          return WireError::BadOpt;
        sawOpt = true;
        view.hasEdns = true;
        view.udpSize = cls;
        view.extendedRcode = static_cast<uint8_t>(ttl >> 24);
        view.ednsVersion = static_cast<uint8_t>(ttl >> 16);
        view.dnssecOk = (ttl & 0x8000) != 0;
      }
      // RFC 8945 §5.1: TSIG may only be the last record of the additional section; a
      // message with one anywhere else is answered FORMERR.
      if (rrtype == RRType::TSIG) {
        if (s != 2 || i + 1 != counts[s]) return WireError::BadTsig;
        view.tsigOffset = start;
      }
    }
  }
  if (!reader.atEnd()) return WireError::TrailingBytes;
  return WireError::Ok;
}

}  // namespace dnswire
