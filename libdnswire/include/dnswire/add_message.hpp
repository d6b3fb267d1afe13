#pragma once
// The private ADD opcode (14): the message layout that registers a domain (README, "The
// ADD opcode"). Shaped like an RFC 2136 UPDATE whose update section holds the records to
// create:
//
//   Request   header  QR=0, OPCODE=14, QDCOUNT=1, ANCOUNT=0, NSCOUNT=n,
//                     ARCOUNT = [OPT] [TSIG, last (RFC 8945 §5.1)]
//             question  NAME, type A (or AAAA), class IN
//             authority the records to create, each with its TTL:
//               NAME  A/AAAA  IN    address      an address given by the client
//               NAME  A/AAAA  NONE  (RDLENGTH 0) a placeholder: "allocate one address
//                                                from the pool"
//               ALIAS CNAME   IN    NAME         one per alias
//               NAME  MX      IN    PREF HOST    one per mail exchange
//   Response  header  QR=1, OPCODE=14, the request's ID, RD copied, rcode
//             question  echoed
//             answer    NOERROR: the records as stored (placeholders filled in, plus the
//                       synthesized SOA and NS when a zone was created); empty otherwise
//             additional [OPT when the request had one] [TSIG when signed]
//
// Codec only: the decoder checks the layout and the owners/types/classes above; whether
// names exist or which zone they land in is the server's business.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dnswire/error.hpp"
#include "dnswire/message.hpp"
#include "dnswire/rdata.hpp"

namespace dnswire {

inline constexpr uint32_t kAddDefaultTtl = 3600;
inline constexpr uint32_t kMaxTtl = 0x7FFFFFFF;  // RFC 2181 §8

struct AddRequest {
  uint16_t id = 0;
  Question question;                    // NAME, A or AAAA, IN
  std::vector<ResourceRecord> records;  // the authority section, in order
  std::optional<Edns> edns;
};

// A placeholder record: `owner` `type` (A or AAAA) class NONE with empty RDATA.
ResourceRecord makeAddPlaceholder(const Name& owner, RRType type, uint32_t ttl);
bool isAddPlaceholder(const ResourceRecord& rr);

// The request's wire form, without TSIG (sign it afterwards with tsigSign). Fails
// (NoSpace) when it does not fit 65535 octets. Does not validate: tests build bad ones.
Result<std::vector<uint8_t>> encodeAddRequest(const AddRequest& request);

// Decodes and checks a request. Errors (the server answers FORMERR) carry a one-line
// reason in their detail: not QR=0/opcode 14, QDCOUNT != 1, ANCOUNT != 0, no record to
// create, the question not A/AAAA IN, a record of another type or class, an address
// record or MX not owned by NAME, a CNAME owned by NAME or not pointing at NAME, an
// alias given twice, a TTL over 2^31-1 (RFC 2181 §8), no address or placeholder at all,
// anything in the additional section but one OPT and a last TSIG. A TSIG record is
// skipped here (tsig.hpp checks it); any other parse error is the codec's WireError.
Result<AddRequest> decodeAddRequest(std::span<const uint8_t> wire);

struct AddResponse {
  Header header;  // id, rcode (low 4 bits), flags
  std::optional<Question> question;
  std::vector<ResourceRecord> records;  // the answer section
  std::optional<Edns> edns;
  std::optional<ResourceRecord> tsig;  // the last additional record when it is a TSIG
  uint16_t rcode() const;              // with OPT's extended bits
};

// A response to `request`: QR=1, opcode 14, its ID and RD, the question echoed when
// given, `rcode` (0..15) and `records` in the answer section, an OPT (payload 1232,
// version 0) when `withEdns`. Fails (NoSpace) over `maxSize`.
Result<std::vector<uint8_t>> encodeAddResponse(const Header& requestHeader, const Question* question,
                                               Rcode rcode, std::span<const ResourceRecord> records,
                                               bool withEdns, size_t maxSize = kMaxMessageSize);

// Decodes a response: QR=1 and opcode 14 required (BadRdata with a reason otherwise).
Result<AddResponse> decodeAddResponse(std::span<const uint8_t> wire);

}  // namespace dnswire
