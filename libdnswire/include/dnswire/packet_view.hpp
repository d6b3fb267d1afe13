#pragma once
// Allocation-free validation and indexing of a query for the hot path: the header, the
// one question, the OPT record's fields and the TSIG record's position, without decoding
// any RDATA into typed values.

#include <cstdint>
#include <span>

#include "dnswire/error.hpp"
#include "dnswire/header.hpp"
#include "dnswire/name.hpp"
#include "dnswire/types.hpp"

namespace dnswire {

struct QueryView {
  Header header;
  Name qname;  // as sent (case kept, for echoing)
  RRType qtype = RRType::A;
  RRClass qclass = RRClass::IN;
  size_t questionEnd = 0;  // offset just past the question

  bool hasEdns = false;
  uint16_t udpSize = 0;  // as sent; callers clamp to >= 512
  uint8_t ednsVersion = 0;
  uint8_t extendedRcode = 0;
  bool dnssecOk = false;

  // Offset of the TSIG record when it is the last record of the additional section
  // (RFC 8945 §5.1); 0 when there is none.
  size_t tsigOffset = 0;
};

// Validates the whole message as parseMessage() does (names, RDLENGTHs, OPT rules,
// trailing bytes, counts) and fills a QueryView. Requires exactly one question when the
// opcode is QUERY (BadQuestionCount otherwise); other opcodes may carry 0 or 1.
// Does not look at QR (the caller's header gate does).
Result<QueryView> parseQuery(std::span<const uint8_t> wire);
// The same into `view`, which is overwritten whole (and unspecified on error): the query
// path parses into its context's view instead of copying a 300-byte result twice.
WireError parseQuery(std::span<const uint8_t> wire, QueryView& view);

// Skips a possibly compressed name at the reader's position with the same checks as
// Name::fromWire but without copying it.
Result<void> skipName(class WireReader& reader);

}  // namespace dnswire
