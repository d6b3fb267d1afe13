#include "dnswire/message.hpp"

namespace dnswire {

// RFC 6891 §6.1.3: CLASS is the UDP payload size; TTL is extended RCODE (8 bits),
// VERSION (8 bits), DO (1 bit) and Z (15 bits, sent as zero).
ResourceRecord Edns::toRecord() const {
  ResourceRecord rr;
  rr.owner = Name::root();
  rr.type = RRType::OPT;
  rr.cls = static_cast<RRClass>(udpSize);
  rr.ttl = static_cast<uint32_t>(extendedRcode) << 24 | static_cast<uint32_t>(version) << 16 |
           (dnssecOk ? 0x8000u : 0u);
  rr.data = Opt{options};
  return rr;
}

Edns Edns::fromRecord(const ResourceRecord& opt) {
  Edns e;
  e.udpSize = static_cast<uint16_t>(opt.cls);
  e.extendedRcode = static_cast<uint8_t>(opt.ttl >> 24);
  e.version = static_cast<uint8_t>(opt.ttl >> 16);
  e.dnssecOk = (opt.ttl & 0x8000) != 0;
  if (const auto* o = std::get_if<Opt>(&opt.data)) e.options = o->options;
  return e;
}

std::optional<Edns> Message::edns() const {
  for (const auto& rr : additional)
    if (rr.type == RRType::OPT) return Edns::fromRecord(rr);
  return std::nullopt;
}

uint16_t Message::rcode() const {
  uint16_t code = header.rcode & 0xF;
  for (const auto& rr : additional)
    if (rr.type == RRType::OPT) code = static_cast<uint16_t>(code | (rr.ttl >> 24) << 4);
  return code;
}

std::vector<ResourceRecord>& Message::section(Section s) {
  switch (s) {
    case Section::Answer:
      return answers;
    case Section::Authority:
      return authority;
    case Section::Additional:
      break;
  }
  return additional;
}

const std::vector<ResourceRecord>& Message::section(Section s) const {
  switch (s) {
    case Section::Answer:
      return answers;
    case Section::Authority:
      return authority;
    case Section::Additional:
      break;
  }
  return additional;
}

}  // namespace dnswire
