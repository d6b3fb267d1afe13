// parse -> write -> parse must give the same message, writing it again the same bytes;
// parseQuery (the allocation-free hot path) must accept and reject exactly what
// parseMessage does, apart from its own question-count rule.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"

using namespace dnswire;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> wire(data, size);
  auto message = parseMessage(wire);
  auto query = parseQuery(wire);

  if (size >= kHeaderSize) {
    const uint16_t qdcount = static_cast<uint16_t>(data[4] << 8 | data[5]);
    const auto opcode = static_cast<Opcode>((data[2] >> 3) & 0xF);
    const bool badCount = opcode == Opcode::Query ? qdcount != 1 : qdcount > 1;
    if (badCount) {
      check(!query.ok() && query.error().is(WireError::BadQuestionCount));
    } else if (message.ok()) {
      check(query.ok());
      if (qdcount == 1) {
        check(query->qname == message->questions[0].qname);
        check(query->qtype == message->questions[0].qtype);
        check(query->qclass == message->questions[0].qclass);
      }
      const auto edns = message->edns();
      check(query->hasEdns == edns.has_value());
      if (edns) {
        check(query->udpSize == edns->udpSize);
        check(query->dnssecOk == edns->dnssecOk);
        check(query->ednsVersion == edns->version);
      }
    } else {
      check(!query.ok());
      check(query.error().code == message.error().code);
    }
  } else {
    check(!message.ok() && !query.ok());
  }

  if (!message.ok()) return 0;
  const std::vector<uint8_t> out = writeMessage(*message);
  auto again = parseMessage(out);
  check(again.ok());
  // Expanding names that the input compressed harder than we do may overflow 64 KiB.
  if (again->header.tc && !message->header.tc) return 0;
  check(*again == *message);
  check(writeMessage(*again) == out);
  return 0;
}
