// The answer logic over a fixed test zone: field-level checks through the codec's parser
// and byte-level checks of the wire it writes.

#include "centrald/answer.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "centrald/zone_snapshot.hpp"
#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/zonefile.hpp"

using namespace dnswire;
using centrald::answerQuery;
using centrald::Transport;
using centrald::ZoneSnapshot;

namespace {

const char* kExampleZone = R"($ORIGIN example.test.
$TTL 3600
@        IN SOA ns1 hostmaster 2026113001 7200 3600 1209600 300
@        NS    ns1
@        MX    10 mail
ns1      A     192.0.2.53
www      A     192.0.2.1
rr       A     10.0.0.1
rr       A     10.0.0.2
rr       A     10.0.0.3
rr       A     10.0.0.4
rr       AAAA  2001:db8::1
rr       AAAA  2001:db8::2
alias    CNAME www
chain1   CNAME chain2
chain2   CNAME www
loop1    CNAME loop2
loop2    CNAME loop1
ext      CNAME www.elsewhere.invalid.
dangling CNAME nothere
cross    CNAME host.other.test.
mail     A     192.0.2.25
mail     AAAA  2001:db8::25
txt      TXT   "hello world"
_sip._tcp SRV  10 5 5060 sip
sip      A     192.0.2.60
a.b.c    A     192.0.2.7
sub      NS    ns.sub
ns.sub   A     192.0.2.99
*.wild   A     192.0.2.200
opaque   TYPE65280 \# 4 0a000001
)";

const char* kOtherZone = R"($ORIGIN other.test.
$TTL 600
@      IN SOA ns.other.test. admin.other.test. 1 7200 3600 1209600 900
@      NS   ns.example.test.
host   A    198.51.100.1
)";

std::string bigTxtZone() {
  std::string zone = "$ORIGIN big.test.\n$TTL 60\n@ IN SOA ns admin 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
  for (int i = 0; i < 40; ++i) zone += "many A 10.1.0." + std::to_string(i + 1) + "\n";
  return zone;
}

Zone parse(const std::string& text) {
  auto zone = parseZoneText(text, "test.zone");
  INFO((zone ? std::string() : zone.error().message()));
  REQUIRE(zone.ok());
  return *zone;
}

std::shared_ptr<const ZoneSnapshot> testSnapshot() {
  static auto snapshot = ZoneSnapshot::build({parse(kExampleZone), parse(kOtherZone), parse(bigTxtZone())});
  return snapshot;
}

struct QuerySpec {
  std::string name;
  RRType type = RRType::A;
  RRClass cls = RRClass::IN;
  bool edns = false;
  uint16_t udpSize = 1232;
  uint8_t version = 0;
  bool dnssecOk = false;
  bool rd = true;
  uint16_t id = 0x1234;
};

std::vector<uint8_t> makeQuery(const QuerySpec& spec) {
  Message m;
  m.header.id = spec.id;
  m.header.rd = spec.rd;
  auto name = Name::fromText(spec.name);
  REQUIRE(name.ok());
  m.questions.push_back({*name, spec.type, spec.cls});
  if (spec.edns) {
    Edns e;
    e.udpSize = spec.udpSize;
    e.version = spec.version;
    e.dnssecOk = spec.dnssecOk;
    e.options.push_back({10, {1, 2, 3, 4, 5, 6, 7, 8}});  // a cookie: must not be echoed
    m.additional.push_back(e.toRecord());
  }
  return writeMessage(m);
}

struct Answered {
  std::vector<uint8_t> wire;
  Message message;
  centrald::AnswerResult result;
};

Answered ask(const QuerySpec& spec, Transport transport = Transport::Udp, size_t limit = 0,
             const ZoneSnapshot* snapshot = nullptr) {
  auto query = makeQuery(spec);
  auto view = parseQuery(query);
  REQUIRE(view.ok());
  if (limit == 0) {
    limit = transport == Transport::Tcp ? kMaxMessageSize
            : view->hasEdns             ? std::min<size_t>(std::max<size_t>(view->udpSize, 512), 1232)
                                        : 512;
  }
  Answered a;
  a.wire.resize(kMaxMessageSize);
  a.result = answerQuery(snapshot ? *snapshot : *testSnapshot(), *view, transport, a.wire, limit);
  REQUIRE(a.result.size > 0);
  REQUIRE(a.result.size <= limit);
  a.wire.resize(a.result.size);
  auto parsed = parseMessage(a.wire);
  INFO((parsed ? std::string() : parsed.error().message()));
  REQUIRE(parsed.ok());
  a.message = *parsed;
  return a;
}

std::string addressText(const ResourceRecord& rr) { return typeInfo(rr.type).toText(rr.data); }

Name name(const char* text) { return *Name::fromText(text); }

}  // namespace

TEST_CASE("exact A answer: header, question echo, owner pointer", "[unit]") {
  auto a = ask({.name = "WwW.Example.TEST.", .type = RRType::A, .id = 0xBEEF});
  const auto& h = a.message.header;
  CHECK(h.id == 0xBEEF);
  CHECK(h.qr);
  CHECK(h.aa);
  CHECK(h.rd);
  CHECK_FALSE(h.ra);
  CHECK_FALSE(h.z);
  CHECK_FALSE(h.tc);
  CHECK(a.message.rcode() == 0);
  REQUIRE(a.message.questions.size() == 1);
  // The question keeps the client's case, byte for byte (RFC 4343 §4.1).
  CHECK(a.message.questions[0].qname.toText() == "WwW.Example.TEST.");
  REQUIRE(a.message.answers.size() == 1);
  CHECK(addressText(a.message.answers[0]) == "192.0.2.1");
  CHECK(a.message.answers[0].ttl == 3600);
  CHECK(a.message.authority.empty());
  CHECK(a.message.additional.empty());
  // Byte level: the answer's owner is a pointer to the question name at offset 12,
  // followed by TYPE A, CLASS IN, TTL 3600, RDLENGTH 4, 192.0.2.1.
  const size_t answerAt = 12 + a.message.questions[0].qname.size() + 4;
  const std::vector<uint8_t> expected{0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 192, 0, 2, 1};
  REQUIRE(a.wire.size() == answerAt + expected.size());
  CHECK(std::vector<uint8_t>(a.wire.begin() + answerAt, a.wire.end()) == expected);
  // Flags word: QR AA RD, nothing else.
  CHECK(a.wire[2] == 0x85);
  CHECK(a.wire[3] == 0x00);
}

TEST_CASE("RD is copied, not set", "[unit]") {
  auto a = ask({.name = "www.example.test.", .rd = false});
  CHECK_FALSE(a.message.header.rd);
}

TEST_CASE("A RRsets rotate by one per response", "[unit]") {
  std::set<std::string> firsts;
  std::vector<std::string> previous;
  for (int i = 0; i < 4; ++i) {
    auto a = ask({.name = "rr.example.test."});
    REQUIRE(a.message.answers.size() == 4);
    std::vector<std::string> now;
    for (const auto& rr : a.message.answers) now.push_back(addressText(rr));
    firsts.insert(now.front());
    // The same set every time, only rotated.
    std::vector<std::string> sorted = now;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"});
    if (!previous.empty()) CHECK(now.front() == previous[1]);
    previous = now;
  }
  CHECK(firsts.size() == 4);
  std::set<std::string> v6;
  for (int i = 0; i < 2; ++i)
    v6.insert(addressText(ask({.name = "rr.example.test.", .type = RRType::AAAA}).message.answers[0]));
  CHECK(v6.size() == 2);
}

TEST_CASE("CNAME chain is followed to the target's records", "[unit]") {
  auto a = ask({.name = "chain1.example.test."});
  CHECK(a.message.header.aa);
  CHECK(a.message.rcode() == 0);
  REQUIRE(a.message.answers.size() == 3);
  CHECK(a.message.answers[0].type == RRType::CNAME);
  CHECK(a.message.answers[0].owner == name("chain1.example.test."));
  CHECK(a.message.answers[1].owner == name("chain2.example.test."));
  CHECK(a.message.answers[2].type == RRType::A);
  CHECK(a.message.answers[2].owner == name("www.example.test."));
  CHECK(addressText(a.message.answers[2]) == "192.0.2.1");
}

TEST_CASE("CNAME into another zone we hold is followed", "[unit]") {
  auto a = ask({.name = "cross.example.test."});
  REQUIRE(a.message.answers.size() == 2);
  CHECK(addressText(a.message.answers[1]) == "198.51.100.1");
}

TEST_CASE("CNAME loops stop; CNAME out of our zones ends the chain", "[unit]") {
  auto loop = ask({.name = "loop1.example.test."});
  CHECK(loop.message.rcode() == 0);
  CHECK(loop.message.answers.size() == 2);  // loop1 -> loop2 -> (loop1 again: stop)
  auto ext = ask({.name = "ext.example.test."});
  CHECK(ext.message.rcode() == 0);
  REQUIRE(ext.message.answers.size() == 1);
  CHECK(ext.message.answers[0].type == RRType::CNAME);
  // Asking for the CNAME itself does not follow it.
  auto own = ask({.name = "alias.example.test.", .type = RRType::CNAME});
  REQUIRE(own.message.answers.size() == 1);
  CHECK(own.message.answers[0].type == RRType::CNAME);
}

TEST_CASE("CNAME to a missing name: NXDOMAIN with the chain (RFC 6604)", "[unit]") {
  auto a = ask({.name = "dangling.example.test."});
  CHECK(a.message.rcode() == static_cast<uint16_t>(Rcode::NXDomain));
  CHECK(a.message.answers.size() == 1);
  REQUIRE(a.message.authority.size() == 1);
  CHECK(a.message.authority[0].type == RRType::SOA);
}

TEST_CASE("MX answer carries the exchange's addresses", "[unit]") {
  auto a = ask({.name = "example.test.", .type = RRType::MX});
  REQUIRE(a.message.answers.size() == 1);
  std::set<std::string> additional;
  for (const auto& rr : a.message.additional) {
    CHECK(rr.owner == name("mail.example.test."));
    additional.insert(addressText(rr));
  }
  CHECK(additional == std::set<std::string>{"192.0.2.25", "2001:db8::25"});
}

TEST_CASE("SRV answer carries the target's address", "[unit]") {
  auto a = ask({.name = "_sip._tcp.example.test.", .type = RRType::SRV});
  REQUIRE(a.message.answers.size() == 1);
  CHECK(typeInfo(RRType::SRV).toText(a.message.answers[0].data) == "10 5 5060 sip.example.test.");
  REQUIRE(a.message.additional.size() == 1);
  CHECK(addressText(a.message.additional[0]) == "192.0.2.60");
}

TEST_CASE("NS at the apex carries glue", "[unit]") {
  auto a = ask({.name = "example.test.", .type = RRType::NS});
  CHECK(a.message.header.aa);
  REQUIRE(a.message.answers.size() == 1);
  REQUIRE(a.message.additional.size() == 1);
  CHECK(addressText(a.message.additional[0]) == "192.0.2.53");
}

TEST_CASE("TXT and opaque types", "[unit]") {
  auto txt = ask({.name = "txt.example.test.", .type = RRType::TXT});
  REQUIRE(txt.message.answers.size() == 1);
  CHECK(std::get<Txt>(txt.message.answers[0].data).strings == std::vector<std::string>{"hello world"});
  auto opaque = ask({.name = "opaque.example.test.", .type = static_cast<RRType>(65280)});
  REQUIRE(opaque.message.answers.size() == 1);
  CHECK(std::get<Opaque>(opaque.message.answers[0].data).bytes == std::vector<uint8_t>{10, 0, 0, 1});
}

TEST_CASE("NXDOMAIN and NODATA carry the SOA with the negative TTL", "[unit]") {
  auto nx = ask({.name = "nothing.example.test."});
  CHECK(nx.message.header.aa);
  CHECK(nx.message.rcode() == static_cast<uint16_t>(Rcode::NXDomain));
  CHECK(nx.message.answers.empty());
  REQUIRE(nx.message.authority.size() == 1);
  CHECK(nx.message.authority[0].type == RRType::SOA);
  CHECK(nx.message.authority[0].owner == name("example.test."));
  CHECK(nx.message.authority[0].ttl == 300);  // min(3600, minimum 300), RFC 2308 §3

  auto nodata = ask({.name = "www.example.test.", .type = RRType::AAAA});
  CHECK(nodata.message.header.aa);
  CHECK(nodata.message.rcode() == 0);
  CHECK(nodata.message.answers.empty());
  REQUIRE(nodata.message.authority.size() == 1);
  CHECK(nodata.message.authority[0].ttl == 300);

  // The other zone: SOA TTL 600 < minimum 900.
  auto other = ask({.name = "none.other.test."});
  REQUIRE(other.message.authority.size() == 1);
  CHECK(other.message.authority[0].ttl == 600);
}

TEST_CASE("empty non-terminals are NODATA, not NXDOMAIN (RFC 8020)", "[unit]") {
  for (const char* ent : {"b.c.example.test.", "c.example.test."}) {
    auto a = ask({.name = ent});
    CHECK(a.message.rcode() == 0);
    CHECK(a.message.answers.empty());
    CHECK(a.message.authority.size() == 1);
  }
  CHECK(ask({.name = "x.b.c.example.test."}).message.rcode() == static_cast<uint16_t>(Rcode::NXDomain));
}

TEST_CASE("unknown QTYPE is NODATA with SOA (RFC 8906)", "[unit]") {
  auto a = ask({.name = "www.example.test.", .type = static_cast<RRType>(999)});
  CHECK(a.message.rcode() == 0);
  CHECK(a.message.answers.empty());
  CHECK(a.message.authority.size() == 1);
}

TEST_CASE("names outside our zones, other classes and transfers are REFUSED", "[unit]") {
  auto out = ask({.name = "www.example.com."});
  CHECK(out.message.rcode() == static_cast<uint16_t>(Rcode::Refused));
  CHECK_FALSE(out.message.header.aa);
  CHECK(out.message.answers.empty());
  CHECK(ask({.name = "www.example.test.", .cls = RRClass::CH}).message.rcode() ==
        static_cast<uint16_t>(Rcode::Refused));
  CHECK(ask({.name = "example.test.", .type = RRType::AXFR}, Transport::Tcp).message.rcode() ==
        static_cast<uint16_t>(Rcode::Refused));
  CHECK(ask({.name = "example.test.", .type = RRType::IXFR}).message.rcode() ==
        static_cast<uint16_t>(Rcode::Refused));
}

TEST_CASE("below a zone cut: referral with glue, not authoritative", "[unit]") {
  for (const char* qname : {"sub.example.test.", "host.sub.example.test.", "ns.sub.example.test."}) {
    auto a = ask({.name = qname});
    CHECK_FALSE(a.message.header.aa);
    CHECK(a.message.rcode() == 0);
    CHECK(a.message.answers.empty());
    REQUIRE(a.message.authority.size() == 1);
    CHECK(a.message.authority[0].type == RRType::NS);
    CHECK(a.message.authority[0].owner == name("sub.example.test."));
    REQUIRE(a.message.additional.size() == 1);
    CHECK(addressText(a.message.additional[0]) == "192.0.2.99");
  }
}

TEST_CASE("wildcards synthesize for missing names only (RFC 4592)", "[unit]") {
  auto a = ask({.name = "anything.wild.example.test."});
  CHECK(a.message.rcode() == 0);
  REQUIRE(a.message.answers.size() == 1);
  CHECK(a.message.answers[0].owner == name("anything.wild.example.test."));
  CHECK(addressText(a.message.answers[0]) == "192.0.2.200");
  // The parent of the wildcard is an empty non-terminal: NODATA.
  CHECK(ask({.name = "wild.example.test."}).message.answers.empty());
  // A missing name elsewhere is still NXDOMAIN.
  CHECK(ask({.name = "anything.example.test."}).message.rcode() == static_cast<uint16_t>(Rcode::NXDomain));
}

TEST_CASE("ANY: one RRset over UDP (RFC 8482), all over TCP", "[unit]") {
  auto udp = ask({.name = "rr.example.test.", .type = RRType::ANY});
  REQUIRE_FALSE(udp.message.answers.empty());
  std::set<RRType> udpTypes;
  for (const auto& rr : udp.message.answers) udpTypes.insert(rr.type);
  CHECK(udpTypes.size() == 1);
  auto tcp = ask({.name = "rr.example.test.", .type = RRType::ANY}, Transport::Tcp);
  CHECK(tcp.message.answers.size() == 6);
  auto apex = ask({.name = "example.test.", .type = RRType::ANY}, Transport::Tcp);
  std::set<RRType> apexTypes;
  for (const auto& rr : apex.message.answers) apexTypes.insert(rr.type);
  CHECK(apexTypes == std::set<RRType>{RRType::SOA, RRType::NS, RRType::MX});
}

TEST_CASE("UDP over the limit: TC with the question; TCP gets it all", "[unit]") {
  auto udp = ask({.name = "many.big.test."});
  CHECK(udp.message.header.tc);
  CHECK(udp.message.answers.empty());  // one RRset: all or nothing
  REQUIRE(udp.message.questions.size() == 1);
  CHECK(udp.wire.size() <= 512);
  auto tcp = ask({.name = "many.big.test."}, Transport::Tcp);
  CHECK_FALSE(tcp.message.header.tc);
  CHECK(tcp.message.answers.size() == 40);
  // With EDNS and a large enough buffer it fits in UDP.
  auto edns = ask({.name = "many.big.test.", .edns = true, .udpSize = 1232});
  CHECK_FALSE(edns.message.header.tc);
  CHECK(edns.message.answers.size() == 40);
}

TEST_CASE("EDNS: OPT answered with 1232, DO echoed, options not echoed", "[unit]") {
  auto a = ask({.name = "www.example.test.", .edns = true, .udpSize = 4096, .dnssecOk = true});
  auto edns = a.message.edns();
  REQUIRE(edns.has_value());
  CHECK(edns->udpSize == 1232);
  CHECK(edns->version == 0);
  CHECK(edns->dnssecOk);
  CHECK(edns->options.empty());
  CHECK(a.message.answers.size() == 1);
  auto plain = ask({.name = "www.example.test.", .edns = true});
  REQUIRE(plain.message.edns().has_value());
  CHECK_FALSE(plain.message.edns()->dnssecOk);
  CHECK_FALSE(ask({.name = "www.example.test."}).message.edns().has_value());
}

TEST_CASE("EDNS version above 0: BADVERS with OPT", "[unit]") {
  auto a = ask({.name = "www.example.test.", .edns = true, .version = 1});
  CHECK(a.message.rcode() == static_cast<uint16_t>(Rcode::BadVers));
  CHECK(a.message.header.rcode == 0);
  REQUIRE(a.message.edns().has_value());
  CHECK(a.message.edns()->version == 0);
  CHECK(a.message.answers.empty());
}

TEST_CASE("a client size under 512 counts as 512", "[unit]") {
  // The stage computes the limit; answerQuery honours whatever limit it gets.
  auto a = ask({.name = "many.big.test.", .edns = true, .udpSize = 100}, Transport::Udp, 512);
  CHECK(a.message.header.tc);
  CHECK(a.message.edns().has_value());
  CHECK(a.wire.size() <= 512);
}

TEST_CASE("a reload keeps rotation positions; a changed zone is served", "[unit]") {
  auto first = ZoneSnapshot::build({parse(kExampleZone)});
  auto before = ask({.name = "rr.example.test."}, Transport::Udp, 0, first.get());
  std::string changed = kExampleZone;
  changed += "new A 192.0.2.222\n";
  auto second = ZoneSnapshot::build({parse(changed)}, first.get());
  auto after = ask({.name = "rr.example.test."}, Transport::Udp, 0, second.get());
  CHECK(addressText(after.message.answers[0]) == addressText(before.message.answers[1]));
  CHECK(ask({.name = "new.example.test."}, Transport::Udp, 0, second.get()).message.answers.size() == 1);
  CHECK(ask({.name = "new.example.test."}, Transport::Udp, 0, first.get()).message.rcode() ==
        static_cast<uint16_t>(Rcode::NXDomain));
}

TEST_CASE("lookup classifies names", "[unit]") {
  auto snapshot = testSnapshot();
  using Kind = centrald::Lookup::Kind;
  CHECK(centrald::lookup(*snapshot, name("www.example.test.")).kind == Kind::Node);
  CHECK(centrald::lookup(*snapshot, name("EXAMPLE.test.")).kind == Kind::Node);
  CHECK(centrald::lookup(*snapshot, name("x.sub.example.test.")).kind == Kind::Delegation);
  CHECK(centrald::lookup(*snapshot, name("nope.example.test.")).kind == Kind::Nxdomain);
  CHECK(centrald::lookup(*snapshot, name("test.")).kind == Kind::NotOurs);
  CHECK(centrald::lookup(*snapshot, Name::root()).kind == Kind::NotOurs);
  auto wild = centrald::lookup(*snapshot, name("a.b.wild.example.test."));
  CHECK(wild.kind == Kind::Node);
  CHECK(wild.wildcard);
  CHECK(snapshot->zoneCount() == 3);
}

TEST_CASE("an answer never exceeds a tight limit", "[unit]") {
  auto query = makeQuery({.name = "example.test.", .type = RRType::MX});
  auto view = parseQuery(query);
  REQUIRE(view.ok());
  std::array<uint8_t, 512> out{};
  for (size_t limit = 0; limit <= 200; ++limit) {
    auto result = answerQuery(*testSnapshot(), *view, Transport::Udp, out, limit);
    CHECK(result.size <= limit);
    if (result.size > 0) CHECK(parseMessage(std::span<const uint8_t>(out.data(), result.size)).ok());
  }
}
