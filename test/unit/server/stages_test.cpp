#include <catch2/catch.hpp>
#include <vector>

#include "dnswire/server/decode_stage.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/server/header_gate_stage.hpp"
#include "dnswire/server/query_context.hpp"

using dnswire::server::DecodeStage;
using dnswire::server::HeaderGateStage;
using dnswire::server::QueryContext;
using dnswire::server::Transport;
using dnswire::server::Verdict;
using Bytes = std::vector<uint8_t>;

namespace {

// Header with id 0xBEEF, the given flag bytes and counts.
Bytes header(uint8_t flags1, uint8_t flags2, uint16_t qd, uint16_t an = 0, uint16_t ns = 0, uint16_t ar = 0) {
  return Bytes{0xbe,
               0xef,
               flags1,
               flags2,
               static_cast<uint8_t>(qd >> 8),
               static_cast<uint8_t>(qd),
               static_cast<uint8_t>(an >> 8),
               static_cast<uint8_t>(an),
               static_cast<uint8_t>(ns >> 8),
               static_cast<uint8_t>(ns),
               static_cast<uint8_t>(ar >> 8),
               static_cast<uint8_t>(ar)};
}

// "Www.Example." type A class IN.
const Bytes kQuestion = {3, 'W', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};

Bytes opt(uint16_t udpSize, uint8_t version, bool dnssecOk) {
  return Bytes{0,
               0,
               41,
               static_cast<uint8_t>(udpSize >> 8),
               static_cast<uint8_t>(udpSize),
               0,
               version,
               static_cast<uint8_t>(dnssecOk ? 0x80 : 0),
               0,
               0,
               0};
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct Ran {
  Verdict verdict;
  Bytes response;
};

Ran runStage(dnswire::server::Stage& stage, QueryContext& ctx, const Bytes& request, Transport transport) {
  ctx.reset();
  ctx.request = request;
  ctx.transport = transport;
  ctx.maxResponseSize = transport == Transport::Udp ? 512 : 65535;
  Verdict v = stage.run(ctx);
  auto r = ctx.response();
  return {v, Bytes(r.begin(), r.end())};
}

uint16_t u16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

}  // namespace

TEST_CASE("HeaderGateStage drops short packets and responses", "[unit]") {
  HeaderGateStage gate;
  QueryContext ctx;
  CHECK(runStage(gate, ctx, Bytes{}, Transport::Udp).verdict == Verdict::Drop);
  CHECK(runStage(gate, ctx, Bytes(11, 0), Transport::Udp).verdict == Verdict::Drop);
  CHECK(runStage(gate, ctx, concat({header(0x81, 0, 1), kQuestion}), Transport::Udp).verdict ==
        Verdict::Drop);
  CHECK(runStage(gate, ctx, concat({header(0x01, 0, 1), kQuestion}), Transport::Udp).verdict ==
        Verdict::Continue);
}

TEST_CASE("HeaderGateStage answers NOTIMP for opcodes it was not given", "[unit]") {
  HeaderGateStage gate;
  QueryContext ctx;
  // NOTIFY (opcode 4), RD set.
  auto ran = runStage(gate, ctx, concat({header(0x21, 0, 1), kQuestion}), Transport::Udp);
  REQUIRE(ran.verdict == Verdict::Respond);
  REQUIRE(ran.response.size() == 12 + kQuestion.size());
  CHECK(u16(ran.response, 0) == 0xbeef);
  CHECK(ran.response[2] == (0x80 | 0x20 | 0x01));  // QR, opcode 4 kept, RD copied
  CHECK(ran.response[3] == 4);                     // NOTIMP
  CHECK(u16(ran.response, 4) == 1);
  CHECK(Bytes(ran.response.begin() + 12, ran.response.end()) == kQuestion);

  HeaderGateStage withAdd{dnswire::Opcode::Query, dnswire::Opcode::Add};
  CHECK(runStage(withAdd, ctx, concat({header(0x70, 0, 1), kQuestion}), Transport::Udp).verdict ==
        Verdict::Continue);
  CHECK(runStage(gate, ctx, concat({header(0x70, 0, 1), kQuestion}), Transport::Udp).verdict ==
        Verdict::Respond);
}

TEST_CASE("HeaderGateStage answers FORMERR for a QUERY without exactly one question", "[unit]") {
  HeaderGateStage gate;
  QueryContext ctx;
  for (uint16_t qd : {0, 2}) {
    Bytes request = header(0x01, 0, qd);
    if (qd == 2) request = concat({request, kQuestion, kQuestion});
    auto ran = runStage(gate, ctx, request, Transport::Tcp);
    REQUIRE(ran.verdict == Verdict::Respond);
    REQUIRE(ran.response.size() == 12);
    CHECK(ran.response[3] == 1);
    CHECK(u16(ran.response, 4) == 0);
  }
}

TEST_CASE("DecodeStage sets the UDP response limit from EDNS", "[unit]") {
  DecodeStage decode;
  QueryContext ctx;
  struct Row {
    Bytes request;
    Transport transport;
    size_t limit;
  };
  std::vector<Row> rows = {
      {concat({header(0x01, 0, 1), kQuestion}), Transport::Udp, 512},
      {concat({header(0x01, 0, 1, 0, 0, 1), kQuestion, opt(4096, 0, false)}), Transport::Udp, 1232},
      {concat({header(0x01, 0, 1, 0, 0, 1), kQuestion, opt(100, 0, false)}), Transport::Udp, 512},
      {concat({header(0x01, 0, 1, 0, 0, 1), kQuestion, opt(800, 0, false)}), Transport::Udp, 800},
      {concat({header(0x01, 0, 1), kQuestion}), Transport::Tcp, 65535},
  };
  for (const auto& row : rows) {
    auto ran = runStage(decode, ctx, row.request, row.transport);
    CHECK(ran.verdict == Verdict::Continue);
    CHECK(ctx.parsed);
    CHECK(ctx.maxResponseSize == row.limit);
    CHECK(ctx.query.qname.toText() == "Www.Example.");
  }
}

TEST_CASE("DecodeStage answers BADVERS for EDNS version 1 with an OPT of version 0", "[unit]") {
  DecodeStage decode;
  QueryContext ctx;
  auto ran = runStage(decode, ctx, concat({header(0x01, 0, 1, 0, 0, 1), kQuestion, opt(1232, 1, true)}),
                      Transport::Udp);
  REQUIRE(ran.verdict == Verdict::Respond);
  // Header rcode 0; the extended rcode 1 in OPT makes 16 = BADVERS (RFC 6891 §6.1.3).
  CHECK((ran.response[3] & 0x0f) == 0);
  CHECK(u16(ran.response, 4) == 1);
  CHECK(u16(ran.response, 10) == 1);
  Bytes optOut(ran.response.end() - 11, ran.response.end());
  CHECK(optOut[0] == 0);          // root owner
  CHECK(u16(optOut, 1) == 41);    // OPT
  CHECK(u16(optOut, 3) == 1232);  // our payload size
  CHECK(optOut[5] == 1);          // extended rcode
  CHECK(optOut[6] == 0);          // version 0
  CHECK(optOut[7] == 0x80);       // DO echoed
  CHECK(u16(optOut, 9) == 0);     // no options
}

TEST_CASE("DecodeStage answers FORMERR, echoing the question when it is readable", "[unit]") {
  DecodeStage decode;
  QueryContext ctx;
  // Trailing bytes after the question: question readable, message invalid.
  auto trailing =
      runStage(decode, ctx, concat({header(0x01, 0, 1), kQuestion, Bytes{0xde, 0xad}}), Transport::Udp);
  REQUIRE(trailing.verdict == Verdict::Respond);
  CHECK((trailing.response[3] & 0x0f) == 1);
  CHECK(trailing.response[2] == 0x81);
  CHECK(u16(trailing.response, 4) == 1);
  CHECK(Bytes(trailing.response.begin() + 12, trailing.response.end()) == kQuestion);
  CHECK_FALSE(ctx.parsed);

  // A compression pointer to itself: the question is unreadable, so none is echoed.
  auto loop =
      runStage(decode, ctx, concat({header(0x01, 0, 1), Bytes{0xc0, 12, 0, 1, 0, 1}}), Transport::Udp);
  REQUIRE(loop.verdict == Verdict::Respond);
  CHECK(loop.response.size() == 12);
  CHECK((loop.response[3] & 0x0f) == 1);
  CHECK(u16(loop.response, 4) == 0);

  // A count that lies: two additional records announced, none present.
  auto lying = runStage(decode, ctx, concat({header(0x01, 0, 1, 0, 0, 2), kQuestion}), Transport::Udp);
  REQUIRE(lying.verdict == Verdict::Respond);
  CHECK((lying.response[3] & 0x0f) == 1);
}

TEST_CASE("buildErrorResponse never sets Z and needs a readable header", "[unit]") {
  Bytes out(512);
  Bytes request = concat({header(0x01, 0x70, 1), kQuestion});  // Z, AD, CD set in the query
  size_t n = dnswire::server::buildErrorResponse(request, nullptr, dnswire::Rcode::Refused, out);
  REQUIRE(n == 12 + kQuestion.size());
  CHECK(out[3] == 5);
  CHECK(dnswire::server::buildErrorResponse(Bytes(11, 0), nullptr, dnswire::Rcode::ServFail, out) == 0);
  // Too little room for the question: header only, QDCOUNT 0.
  Bytes small(14);
  CHECK(dnswire::server::buildErrorResponse(request, nullptr, dnswire::Rcode::ServFail, small) == 12);
  CHECK(u16(small, 4) == 0);
}
