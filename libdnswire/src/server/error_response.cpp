#include "dnswire/server/error_response.hpp"

#include "dnswire/name.hpp"
#include "dnswire/server/query_context.hpp"
#include "dnswire/wire_reader.hpp"
#include "dnswire/wire_writer.hpp"

namespace dnswire::server {
namespace {

constexpr uint8_t kQrBit = 0x80;
constexpr uint8_t kOpcodeMask = 0x78;
constexpr uint8_t kRdBit = 0x01;

struct EchoedQuestion {
  dnswire::Name qname;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
};

// The first question read on its own, for a request that failed to parse as a whole.
bool readFirstQuestion(std::span<const uint8_t> request, EchoedQuestion& out) {
  uint16_t qdcount = static_cast<uint16_t>(request[4] << 8 | request[5]);
  if (qdcount == 0) return false;
  dnswire::WireReader reader(request);
  if (!reader.skip(dnswire::kHeaderSize)) return false;
  auto name = dnswire::Name::fromWire(reader);
  if (!name) return false;
  if (!reader.readU16(out.qtype) || !reader.readU16(out.qclass)) return false;
  out.qname = *name;
  return true;
}

}  // namespace

size_t buildErrorResponse(std::span<const uint8_t> request, const dnswire::QueryView* query,
                          dnswire::Rcode rcode, std::span<uint8_t> out, bool echoQuestion) {
  if (request.size() < dnswire::kHeaderSize || out.size() < dnswire::kHeaderSize) return 0;
  auto code = static_cast<uint16_t>(rcode);
  dnswire::WireWriter w(out);
  // ID; QR=1, opcode copied, RD copied (RFC 1035 §4.1.1); AA/TC/RA/Z/AD/CD clear.
  w.writeU8(request[0]);
  w.writeU8(request[1]);
  w.writeU8(static_cast<uint8_t>(kQrBit | (request[2] & kOpcodeMask) | (request[2] & kRdBit)));
  w.writeU8(static_cast<uint8_t>(code & 0x0f));
  const size_t countsAt = w.size();
  w.writeU16(0);  // QDCOUNT
  w.writeU16(0);  // ANCOUNT
  w.writeU16(0);  // NSCOUNT
  w.writeU16(0);  // ARCOUNT

  if (echoQuestion) {
    EchoedQuestion q;
    bool have = false;
    if (query != nullptr && !query->qname.empty()) {
      q.qname = query->qname;
      q.qtype = static_cast<uint16_t>(query->qtype);
      q.qclass = static_cast<uint16_t>(query->qclass);
      have = true;
    } else if (query == nullptr) {
      have = readFirstQuestion(request, q);
    }
    if (have) {
      auto mark = w.mark();
      if (w.writeBytes(q.qname.wire()) && w.writeU16(q.qtype) && w.writeU16(q.qclass)) {
        w.patchU16(countsAt, 1);
      } else {
        w.rollback(mark);
      }
    }
  }

  if (query != nullptr && query->hasEdns) {
    // RFC 6891 §6.1.2-6.1.3: root owner, our payload size in CLASS, the extended rcode's
    // upper eight bits, version 0, DO echoed (RFC 3225 §3), no options.
    auto mark = w.mark();
    uint32_t ttl = static_cast<uint32_t>((code >> 4) & 0xff) << 24;
    if (query->dnssecOk) ttl |= 0x8000;
    if (w.writeU8(0) && w.writeU16(static_cast<uint16_t>(dnswire::RRType::OPT)) &&
        w.writeU16(dnswire::kAdvertisedUdpSize) && w.writeU32(ttl) && w.writeU16(0)) {
      w.patchU16(countsAt + 6, 1);
    } else {
      w.rollback(mark);
    }
  }
  return w.size();
}

Verdict respondWithError(QueryContext& ctx, dnswire::Rcode rcode, bool echoQuestion) {
  size_t size = buildErrorResponse(ctx.request, ctx.parsed ? &ctx.query : nullptr, rcode,
                                   ctx.responseBuffer(), echoQuestion);
  ctx.responseSize = size;
  return size == 0 ? Verdict::Drop : Verdict::Respond;
}

}  // namespace dnswire::server
