#include "proxyd/cache_entry.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/server/clock.hpp"

using namespace dnswire;
using proxyd::buildEntry;
using proxyd::writeAnswer;

namespace {

Name name(const char* text) { return Name::fromText(text).value(); }

ResourceRecord a(const char* owner, uint32_t ttl, uint8_t last) {
  return {name(owner), RRType::A, RRClass::IN, ttl, A{{192, 0, 2, last}}};
}
ResourceRecord cname(const char* owner, uint32_t ttl, const char* target) {
  return {name(owner), RRType::CNAME, RRClass::IN, ttl, Cname{name(target)}};
}
ResourceRecord soa(const char* owner, uint32_t ttl, uint32_t minimum) {
  return {name(owner), RRType::SOA, RRClass::IN, ttl,
          Soa{name("ns1.example.test."), name("hostmaster.example.test."), 1, 3600, 900, 604800, minimum}};
}

Message reply(const char* qname, RRType qtype = RRType::A) {
  Message m;
  m.header.qr = true;
  m.header.aa = true;
  m.questions.push_back({name(qname), qtype, RRClass::IN});
  return m;
}

// A parsed client query (with its raw bytes kept alive).
struct ClientQuery {
  std::vector<uint8_t> wire;
  QueryView view;
};
ClientQuery clientQuery(const char* qname, RRType qtype = RRType::A, uint16_t id = 0x1234, bool edns = false,
                        bool dnssecOk = false) {
  Message m;
  m.header.id = id;
  m.header.rd = true;
  m.questions.push_back({name(qname), qtype, RRClass::IN});
  if (edns) {
    Edns e;
    e.udpSize = 1232;
    e.dnssecOk = dnssecOk;
    m.additional.push_back(e.toRecord());
  }
  ClientQuery q;
  q.wire = writeMessage(m);
  q.view = parseQuery(q.wire).value();
  return q;
}

Message answerOf(const proxyd::CacheEntry& entry, const ClientQuery& q, server::Clock::TimePoint now,
                 size_t limit = 65535, std::optional<uint32_t> forced = std::nullopt) {
  std::vector<uint8_t> out(65535);
  const size_t size = writeAnswer(entry, q.view, out, limit, now, forced);
  REQUIRE(size > 0);
  REQUIRE(size <= limit);
  out.resize(size);
  auto parsed = parseMessage(out);
  REQUIRE(parsed.ok());
  return parsed.value();
}

}  // namespace

TEST_CASE("cache entry: ID, question case, TTL ageing, AA=0 RA=1", "[unit]") {
  server::ManualClock clock;
  Message m = reply("www.example.test.");
  m.answers = {a("www.example.test.", 300, 1)};
  const auto built = buildEntry(m, {name("www.example.test."), RRType::A, RRClass::IN}, Name(), clock.now());
  REQUIRE(built.entry);
  REQUIRE(built.cacheable);
  CHECK_FALSE(built.entry->negative);

  clock.advance(std::chrono::seconds(2));
  const auto q = clientQuery("WwW.ExAmple.TEST.", RRType::A, 0xbeef);
  const Message answer = answerOf(*built.entry, q, clock.now());
  CHECK(answer.header.id == 0xbeef);
  CHECK_FALSE(answer.header.aa);
  CHECK(answer.header.ra);
  CHECK(answer.header.rd);
  CHECK(answer.questions.at(0).qname.toText() == "WwW.ExAmple.TEST.");
  REQUIRE(answer.answers.size() == 1);
  CHECK(answer.answers[0].ttl == 298);
  CHECK(answer.additional.empty());  // no OPT without EDNS

  // Serve-stale forces every TTL (RFC 8767 §4).
  const Message stale = answerOf(*built.entry, q, clock.now(), 65535, proxyd::kStaleTtl);
  CHECK(stale.answers[0].ttl == 30);
}

TEST_CASE("cache entry: k answers for k addresses put each first once, chain intact", "[unit]") {
  server::ManualClock clock;
  Message m = reply("alias.example.test.");
  m.answers = {cname("alias.example.test.", 300, "www.example.test."), a("www.example.test.", 300, 1),
               a("www.example.test.", 200, 2), a("www.example.test.", 300, 3)};
  const auto built =
      buildEntry(m, {name("alias.example.test."), RRType::A, RRClass::IN}, Name(), clock.now());
  REQUIRE(built.cacheable);
  REQUIRE(built.entry->rotating.size() == 1);
  const auto q = clientQuery("alias.example.test.");
  std::multiset<uint8_t> firsts;
  for (int i = 0; i < 3; ++i) {
    const Message answer = answerOf(*built.entry, q, clock.now());
    REQUIRE(answer.answers.size() == 4);
    CHECK(answer.answers[0].type == RRType::CNAME);
    std::set<uint8_t> all;
    for (size_t j = 1; j < 4; ++j) {
      CHECK(answer.answers[j].owner == name("www.example.test."));
      CHECK(answer.answers[j].ttl == 200);  // the RRset's lowest TTL (RFC 2181 §5.2)
      all.insert(std::get<A>(answer.answers[j].data).address[3]);
    }
    CHECK(all == std::set<uint8_t>{1, 2, 3});
    firsts.insert(std::get<A>(answer.answers[1].data).address[3]);
  }
  CHECK(firsts == std::multiset<uint8_t>{1, 2, 3});
}

TEST_CASE("cache entry: negative answers per RFC 2308", "[unit]") {
  server::ManualClock clock;
  Message nx = reply("nope.example.test.");
  nx.header.rcode = static_cast<uint8_t>(Rcode::NXDomain);
  nx.authority = {soa("example.test.", 3600, 120)};
  const auto built =
      buildEntry(nx, {name("nope.example.test."), RRType::A, RRClass::IN}, Name(), clock.now());
  REQUIRE(built.cacheable);
  CHECK(built.entry->negative);
  CHECK(built.entry->expires - clock.now() == std::chrono::seconds(120));
  const Message answer = answerOf(*built.entry, clientQuery("nope.example.test."), clock.now());
  CHECK(answer.header.rcode == static_cast<uint8_t>(Rcode::NXDomain));
  REQUIRE(answer.authority.size() == 1);
  CHECK(answer.authority[0].ttl == 120);

  Message noSoa = reply("nope.example.test.");
  noSoa.header.rcode = static_cast<uint8_t>(Rcode::NXDomain);
  CHECK_FALSE(
      buildEntry(noSoa, {name("nope.example.test."), RRType::A, RRClass::IN}, Name(), clock.now()).cacheable);

  Message nodata = reply("www.example.test.", RRType::AAAA);
  nodata.authority = {soa("example.test.", 60, 300)};
  const auto nd =
      buildEntry(nodata, {name("www.example.test."), RRType::AAAA, RRClass::IN}, Name(), clock.now());
  CHECK(nd.cacheable);
  CHECK(nd.entry->negative);
  CHECK(nd.entry->rcode == 0);

  Message truncated = reply("www.example.test.");
  truncated.header.tc = true;
  truncated.answers = {a("www.example.test.", 300, 1)};
  CHECK_FALSE(buildEntry(truncated, {name("www.example.test."), RRType::A, RRClass::IN}, Name(), clock.now())
                  .cacheable);

  Message servfail = reply("www.example.test.");
  servfail.header.rcode = static_cast<uint8_t>(Rcode::ServFail);
  CHECK_FALSE(buildEntry(servfail, {name("www.example.test."), RRType::A, RRClass::IN}, Name(), clock.now())
                  .cacheable);
}

TEST_CASE("cache entry: records outside the bailiwick are scrubbed", "[unit]") {
  server::ManualClock clock;
  Message m = reply("www.upstream.example.");
  m.answers = {a("www.upstream.example.", 300, 1), a("victim.other.test.", 300, 66)};
  m.authority = {{name("upstream.example."), RRType::NS, RRClass::IN, 300, Ns{name("ns.upstream.example.")}},
                 {name("other.test."), RRType::NS, RRClass::IN, 300, Ns{name("ns.evil.test.")}}};
  m.additional = {a("ns.upstream.example.", 300, 53), a("ns.evil.test.", 300, 66)};
  const auto built =
      buildEntry(m, {name("www.upstream.example."), RRType::A, RRClass::IN}, Name(), clock.now());
  REQUIRE(built.cacheable);
  const Message answer = answerOf(*built.entry, clientQuery("www.upstream.example."), clock.now());
  REQUIRE(answer.answers.size() == 1);
  CHECK(answer.answers[0].owner == name("www.upstream.example."));
  REQUIRE(answer.authority.size() == 1);
  CHECK(answer.authority[0].owner == name("upstream.example."));
  REQUIRE(answer.additional.size() == 1);
  CHECK(answer.additional[0].owner == name("ns.upstream.example."));
}

TEST_CASE("cache entry: EDNS echoed, oversized UDP answers truncated", "[unit]") {
  server::ManualClock clock;
  Message m = reply("big.example.test.");
  for (uint8_t i = 1; i <= 60; ++i) m.answers.push_back(a("big.example.test.", 300, i));
  const auto built = buildEntry(m, {name("big.example.test."), RRType::A, RRClass::IN}, Name(), clock.now());
  REQUIRE(built.cacheable);

  const auto plain = clientQuery("big.example.test.");
  const Message truncated = answerOf(*built.entry, plain, clock.now(), 512);
  CHECK(truncated.header.tc);
  CHECK(truncated.answers.empty());
  CHECK(truncated.questions.size() == 1);

  const auto withDo = clientQuery("big.example.test.", RRType::A, 7, true, true);
  const Message full = answerOf(*built.entry, withDo, clock.now(), 1232);
  CHECK_FALSE(full.header.tc);
  CHECK(full.answers.size() == 60);
  auto edns = full.edns();
  REQUIRE(edns.has_value());
  CHECK(edns->udpSize == 1232);
  CHECK(edns->dnssecOk);
}

TEST_CASE("cache entry: a CNAME chain left incomplete is reported and not cached", "[unit]") {
  server::ManualClock clock;
  Message m = reply("alias.example.test.");
  m.answers = {cname("alias.example.test.", 300, "www.upstream.example.")};
  const auto built =
      buildEntry(m, {name("alias.example.test."), RRType::A, RRClass::IN}, Name(), clock.now());
  CHECK(built.chainIncomplete);
  CHECK_FALSE(built.cacheable);
  CHECK(built.finalName == name("www.upstream.example."));
}
