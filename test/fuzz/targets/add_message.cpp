// The ADD opcode's layout (add_message.hpp): decoding arbitrary bytes as a request and as
// a response never crashes; what decodes encodes again and decodes to the same fields,
// and that second encoding is stable byte for byte.
#include "dnswire/add_message.hpp"

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "dnswire/message_reader.hpp"

using namespace dnswire;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void requestRoundTrip(std::span<const uint8_t> wire) {
  auto request = decodeAddRequest(wire);
  if (!request.ok()) {
    // Every refusal says why in one line (the server logs it, dnsadd prints it).
    check(request.error().message().find('\n') == std::string::npos);
    return;
  }
  // What the decoder promises about an accepted request.
  check(request->question.qclass == RRClass::IN);
  check(request->question.qtype == RRType::A || request->question.qtype == RRType::AAAA);
  check(!request->records.empty());
  bool hasAddress = false;
  for (const auto& rr : request->records) {
    check(rr.ttl <= kMaxTtl);
    if (rr.type == RRType::A || rr.type == RRType::AAAA) {
      check(rr.owner == request->question.qname);
      check(rr.cls == RRClass::IN || isAddPlaceholder(rr));
      hasAddress = true;
    } else if (rr.type == RRType::CNAME) {
      check(rr.owner != request->question.qname);
      check(std::get<Cname>(rr.data).target == request->question.qname);
    } else {
      check(rr.type == RRType::MX && rr.owner == request->question.qname);
    }
  }
  check(hasAddress);

  auto encoded = encodeAddRequest(*request);
  if (!encoded.ok()) {
    // Only possible when our compression saves less than the input's did.
    check(encoded.error().is(WireError::NoSpace));
    return;
  }
  auto again = decodeAddRequest(*encoded);
  check(again.ok());
  check(again->id == request->id);
  check(again->question == request->question);
  check(again->records == request->records);
  check(again->edns == request->edns);
  auto twice = encodeAddRequest(*again);
  check(twice.ok() && *twice == *encoded);
}

void responseRoundTrip(std::span<const uint8_t> wire) {
  auto response = decodeAddResponse(wire);
  if (!response.ok()) return;
  check(response->header.qr && response->header.opcode == Opcode::Add);
  const uint16_t rcode = response->rcode();
  const bool withEdns = response->edns.has_value();
  check(withEdns || rcode <= 15);

  const Question* question = response->question ? &*response->question : nullptr;
  auto encoded =
      encodeAddResponse(response->header, question, static_cast<Rcode>(rcode), response->records, withEdns);
  if (!encoded.ok()) {
    check(encoded.error().is(WireError::NoSpace));
    return;
  }
  auto again = decodeAddResponse(*encoded);
  check(again.ok());
  check(again->header.id == response->header.id);
  check(again->header.rd == response->header.rd);
  check(again->rcode() == rcode);
  check(again->question == response->question);
  check(again->records == response->records);
  check(again->edns.has_value() == withEdns);
  check(!again->tsig.has_value());
  // The generic parser agrees with the ADD decoder on what was written.
  auto parsed = parseMessage(*encoded);
  check(parsed.ok() && parsed->answers == response->records);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> wire(data, size);
  requestRoundTrip(wire);
  responseRoundTrip(wire);
  // The same bytes with the header flipped the other way (QR and opcode 14), so that one
  // input exercises both decoders past their first check.
  if (size >= kHeaderSize) {
    std::vector<uint8_t> flipped(data, data + size);
    flipped[2] = static_cast<uint8_t>((flipped[2] & 0x87) | (14 << 3));
    flipped[2] ^= 0x80;
    requestRoundTrip(flipped);
    responseRoundTrip(flipped);
  }
  return 0;
}
