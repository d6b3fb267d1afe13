// centrald's whole query path, bytes in -> bytes out, over a fixed zone set built in
// memory once: the pipeline exactly as main.cpp wires it (header gate, decode, policy,
// answer), run over UDP and TCP. Whatever comes in:
//   - dropped only when SPEC says so (shorter than 12 bytes, or QR=1);
//   - otherwise a response that parses, fits the transport's limit (UDP: at most the
//     client's EDNS size clamped to [512, 1232]), echoes the ID, opcode and RD, has QR
//     set and Z clear, and echoes the question byte for byte (case kept) when it has one;
//   - over TCP the answer is never truncated for these small zones.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "centrald/snapshot_holder.hpp"
#include "centrald/stages/centrald_pipeline.hpp"
#include "dnswire/message_reader.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/server/query_context.hpp"
#include "dnswire/zonefile.hpp"

using namespace dnswire;
using dnswire::server::QueryContext;
using dnswire::server::Transport;
using dnswire::server::Verdict;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// Every kind of answer centrald has a function for: exact, CNAME chains (in and out of
// the zone, a loop), delegation with glue, NODATA, NXDOMAIN, ENTs, wildcards, MX and SRV
// additionals, opaque types, a large RRset that truncates over UDP, and a child zone.
std::string zoneText() {
  std::string text =
      "$ORIGIN fz.test.\n$TTL 300\n"
      "@ IN SOA ns1 hostmaster 2024010101 3600 600 86400 120\n"
      "@ NS ns1\n@ NS ns2.elsewhere.example.\n"
      "@ MX 10 mail\n@ MX 20 mail.other.example.\n@ TXT \"v=spf1 -all\" \"second string\"\n"
      "ns1 A 192.0.2.53\nns1 AAAA 2001:db8::53\n"
      "mail A 192.0.2.25\n"
      "www A 192.0.2.1\nwww A 192.0.2.2\nwww A 192.0.2.3\nwww AAAA 2001:db8::1\n"
      "alias CNAME www\nalias2 CNAME alias\nout CNAME www.other.example.\n"
      "loop1 CNAME loop2\nloop2 CNAME loop1\n"
      "a.b.c.deep A 192.0.2.99\n"
      "*.wild A 192.0.2.77\n*.wild TXT \"wildcard\"\n"
      "sub NS ns.sub\nns.sub A 192.0.2.100\n"
      "_sip._udp SRV 10 60 5060 www\n"
      "4.3.2.1 PTR www\n"
      "opaque TYPE65280 \\# 4 0a000001\n"
      "empty TYPE999 \\# 0\n";
  for (int i = 1; i <= 60; ++i) text += "big A 10.9.0." + std::to_string(i) + "\n";
  for (int i = 1; i <= 20; ++i)
    text += "bigtxt TXT \"" + std::string(200, static_cast<char>('a' + i % 26)) + "\"\n";
  return text;
}

std::string childZoneText() {
  return "$ORIGIN child.fz.test.\n$TTL 60\n"
         "@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 192.0.2.200\nhost AAAA 2001:db8::200\n";
}

struct Fixture {
  centrald::SnapshotHolder holder{nullptr};
  dnswire::server::Pipeline pipeline;
  QueryContext ctx;

  Fixture() {
    auto zone = parseZoneText(zoneText(), "fz.zone");
    auto child = parseZoneText(childZoneText(), "child.zone");
    auto reverse = parseZoneText(
        "$ORIGIN 2.0.192.in-addr.arpa.\n@ 60 SOA ns.fz.test. h 1 2 3 4 5\n"
        "@ 60 NS ns1.fz.test.\n1 60 PTR www.fz.test.\n",
        "rev.zone");
    check(zone.ok() && child.ok() && reverse.ok());
    holder.publish(centrald::ZoneSnapshot::build({*zone, *child, *reverse}));
    centrald::PipelineDeps deps;
    deps.snapshots = &holder;
    pipeline = centrald::buildPipeline(deps, {});
  }
};

uint16_t get16(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

// Runs `wire` through the pipeline over `transport`; returns whether it answered TC.
bool runOnce(Fixture& f, std::span<const uint8_t> wire, Transport transport) {
  QueryContext& ctx = f.ctx;
  ctx.reset();
  ctx.request = wire;
  ctx.transport = transport;
  ctx.maxResponseSize = transport == Transport::Udp ? 512 : QueryContext::kResponseCapacity;
  const Verdict verdict = f.pipeline.run(ctx);
  check(verdict == Verdict::Respond || verdict == Verdict::Drop);

  const bool shortOrResponse = wire.size() < kHeaderSize || (wire[2] & 0x80) != 0;
  if (verdict == Verdict::Drop) {
    check(shortOrResponse);  // SPEC: every other readable header gets an answer
    return false;
  }
  check(!shortOrResponse);

  const auto out = ctx.response();
  check(out.size() >= kHeaderSize);
  check(out.size() <= ctx.maxResponseSize);
  if (transport == Transport::Udp) check(ctx.maxResponseSize <= 1232);
  auto response = parseMessage(out);
  check(response.ok());
  const Header& h = response->header;
  check(h.id == get16(wire, 0));
  check(h.qr);
  check(!h.z);
  check(h.rd == ((wire[2] & 0x01) != 0));
  check(static_cast<uint8_t>(h.opcode) == ((wire[2] >> 3) & 0x0F));
  check(response->questions.size() <= 1);

  auto query = parseQuery(wire);
  if (query.ok() && response->questions.size() == 1) {
    const Question& q = response->questions[0];
    const auto a = q.qname.wire();
    const auto b = query->qname.wire();
    check(std::equal(a.begin(), a.end(), b.begin(), b.end()));  // case echoed (SPEC)
    check(q.qtype == query->qtype && q.qclass == query->qclass);
  }
  if (!query.ok()) {
    // Unparseable with a readable header: FORMERR, or NOTIMP from the header alone.
    const auto rcode = response->rcode();
    check(rcode == static_cast<uint16_t>(Rcode::FormErr) || rcode == static_cast<uint16_t>(Rcode::NotImp));
  }
  // The answer never carries more than one OPT, and one only when the query had one.
  size_t opts = 0;
  for (const auto& rr : response->additional) opts += rr.type == RRType::OPT;
  check(opts <= 1);
  if (opts == 1 && query.ok()) check(query->hasEdns);
  return h.tc;
}

}  // namespace

// The same question asked again may be answered from the answer cache, which reads the
// request bytes itself: the answer must be the same apart from the order of a rotating
// RRset's records, so the size, the header and the question are the same bytes.
void checkSameAnswer(std::span<const uint8_t> first, std::span<const uint8_t> again) {
  check(first.size() == again.size());
  if (first.size() < kHeaderSize) return;
  check(std::equal(first.begin(), first.begin() + kHeaderSize, again.begin()));
  auto query = parseQuery(first);  // a response parses as a query view too: use its question end
  if (query.ok())
    check(std::equal(first.begin(), first.begin() + static_cast<ptrdiff_t>(query->questionEnd), again.begin()));
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();  // built once, never freed (libFuzzer idiom)
  const std::span<const uint8_t> wire(data, size);
  for (const Transport transport : {Transport::Udp, Transport::Tcp}) {
    const bool truncated = runOnce(*fixture, wire, transport);
    if (transport == Transport::Tcp) check(!truncated);
    const std::vector<uint8_t> first(fixture->ctx.response().begin(), fixture->ctx.response().end());
    runOnce(*fixture, wire, transport);
    checkSameAnswer(first, fixture->ctx.response());
  }
  return 0;
}
