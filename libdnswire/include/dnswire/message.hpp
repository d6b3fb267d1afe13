#pragma once
// A decoded message (RFC 1035 §4.1) and its EDNS(0) view (RFC 6891).

#include <cstdint>
#include <optional>
#include <vector>

#include "dnswire/header.hpp"
#include "dnswire/name.hpp"
#include "dnswire/rdata.hpp"
#include "dnswire/types.hpp"

namespace dnswire {

enum class Section { Answer, Authority, Additional };

struct Question {
  Name qname;
  RRType qtype = RRType::A;
  RRClass qclass = RRClass::IN;
  bool operator==(const Question&) const = default;
};

struct ResourceRecord {
  Name owner;
  RRType type = RRType::A;
  RRClass cls = RRClass::IN;  // for OPT: the UDP payload size
  uint32_t ttl = 0;           // for OPT: extended rcode, version, flags
  RData data;
  bool operator==(const ResourceRecord&) const = default;
};

// The fields of an OPT record, decoded (RFC 6891 §6.1.3).
struct Edns {
  uint16_t udpSize = kAdvertisedUdpSize;
  uint8_t extendedRcode = 0;  // upper 8 bits of the 12-bit rcode
  uint8_t version = 0;
  bool dnssecOk = false;
  std::vector<EdnsOption> options;

  ResourceRecord toRecord() const;
  static Edns fromRecord(const ResourceRecord& opt);
  bool operator==(const Edns&) const = default;
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<ResourceRecord> answers;
  std::vector<ResourceRecord> authority;
  std::vector<ResourceRecord> additional;

  // The OPT record of the additional section, decoded, if there is one.
  std::optional<Edns> edns() const;
  // The full 12-bit rcode: header bits plus OPT's extended bits.
  uint16_t rcode() const;
  std::vector<ResourceRecord>& section(Section s);
  const std::vector<ResourceRecord>& section(Section s) const;
  bool operator==(const Message&) const = default;
};

}  // namespace dnswire
