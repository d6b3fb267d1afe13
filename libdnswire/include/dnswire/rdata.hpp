#pragma once
// Typed RDATA. Each alternative has one row in rr_table.cpp that decodes, encodes and
// prints it; anything without a row is Opaque and round-trips untouched (RFC 3597).

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "dnswire/name.hpp"

namespace dnswire {

struct A {
  std::array<uint8_t, 4> address{};
  bool operator==(const A&) const = default;
};
struct Aaaa {
  std::array<uint8_t, 16> address{};
  bool operator==(const Aaaa&) const = default;
};
struct Ns {
  Name nsdname;
  bool operator==(const Ns&) const = default;
};
struct Cname {
  Name target;
  bool operator==(const Cname&) const = default;
};
struct Ptr {
  Name target;
  bool operator==(const Ptr&) const = default;
};
struct Mx {
  uint16_t preference = 0;
  Name exchange;
  bool operator==(const Mx&) const = default;
};
struct Soa {
  Name mname;
  Name rname;
  uint32_t serial = 0;
  uint32_t refresh = 0;
  uint32_t retry = 0;
  uint32_t expire = 0;
  uint32_t minimum = 0;
  bool operator==(const Soa&) const = default;
};
// One or more <character-string>s, each at most 255 octets (RFC 1035 §3.3.14).
struct Txt {
  std::vector<std::string> strings;
  bool operator==(const Txt&) const = default;
};
// RFC 2782; the target is never compressed on output.
struct Srv {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  Name target;
  bool operator==(const Srv&) const = default;
};
struct EdnsOption {
  uint16_t code = 0;
  std::vector<uint8_t> data;
  bool operator==(const EdnsOption&) const = default;
};
// OPT pseudo-record RDATA (RFC 6891 §6.1.2); the rest of EDNS lives in class and TTL.
struct Opt {
  std::vector<EdnsOption> options;
  bool operator==(const Opt&) const = default;
};
// TSIG RDATA (RFC 8945 §4.2); the algorithm name is never compressed.
struct Tsig {
  Name algorithm;
  uint64_t timeSigned = 0;  // 48 bits on the wire
  uint16_t fudge = 0;
  std::vector<uint8_t> mac;
  uint16_t originalId = 0;
  uint16_t error = 0;
  std::vector<uint8_t> otherData;
  bool operator==(const Tsig&) const = default;
};
// Any other type: the raw RDATA bytes (RFC 3597).
struct Opaque {
  std::vector<uint8_t> bytes;
  bool operator==(const Opaque&) const = default;
};

using RData = std::variant<A, Aaaa, Ns, Cname, Ptr, Mx, Soa, Txt, Srv, Opt, Tsig, Opaque>;

}  // namespace dnswire
