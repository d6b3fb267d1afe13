// A zone with an ADD delta on top answers exactly, byte for byte, as the same zone built
// whole from every record: NXDOMAIN vs NODATA around new empty non-terminals, wildcards,
// zone cuts, CNAME chains into new names, the new SOA serial, A rotation.

#include "centrald/zone_view.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "centrald/answer.hpp"
#include "centrald/zone_snapshot.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/zonefile.hpp"

using namespace dnswire;
using centrald::ZoneData;
using centrald::ZoneSnapshot;
using centrald::ZoneView;

namespace {

const char* kBase = R"($ORIGIN example.test.
$TTL 3600
@        IN SOA ns1 hostmaster 41 7200 3600 1209600 300
@        NS    ns1
ns1      A     192.0.2.53
www      A     192.0.2.1
dangling CNAME nothere
a.b.c    A     192.0.2.7
sub      NS    ns.sub
ns.sub   A     192.0.2.99
*.wild   A     192.0.2.200
)";

// What two ADD rounds add (owners the base does not hold, as ADD guarantees).
const char* kFirst = R"($ORIGIN example.test.
new1     60 A     10.0.0.1
new1     60 A     10.0.0.2
new1     60 A     10.0.0.3
x.y.ent  60 A     10.0.0.4
q.b.c    60 A     10.0.0.5
deep.www 60 A     10.0.0.6
nothere  60 A     10.0.0.7
)";
const char* kSecond = R"($ORIGIN example.test.
al       60 CNAME new1
n.wild   60 A     10.0.0.8
h.sub    60 A     10.0.0.9
mx       60 MX    10 new1
new2     60 AAAA  2001:db8::2
new2     60 AAAA  2001:db8::3
)";

std::vector<ResourceRecord> records(const char* text) {
  auto zone = parseZoneText(std::string("$ORIGIN example.test.\n@ 60 SOA ns h 1 2 3 4 5\n") + text, "t.zone");
  REQUIRE(zone.ok());
  return {zone->records.begin() + 1, zone->records.end()};
}

Zone baseZone() {
  auto zone = parseZoneText(kBase, "base.zone");
  REQUIRE(zone.ok());
  return *zone;
}

// The reference: base + added built whole, with the SOA serial of the overlay.
std::shared_ptr<const ZoneSnapshot> whole(const std::vector<std::vector<ResourceRecord>>& added,
                                          uint32_t serial) {
  Zone zone = baseZone();
  std::get<Soa>(zone.records[0].data).serial = serial;
  for (const auto& round : added) zone.records.insert(zone.records.end(), round.begin(), round.end());
  return ZoneSnapshot::build({zone});
}

std::vector<uint8_t> answer(const ZoneSnapshot& snapshot, const std::string& qname, RRType qtype,
                            centrald::Transport transport = centrald::Transport::Udp) {
  Message m;
  m.header.id = 7;
  m.questions.push_back({*Name::fromText(qname), qtype, RRClass::IN});
  auto query = writeMessage(m);
  auto view = parseQuery(query);
  REQUIRE(view.ok());
  std::vector<uint8_t> out(kMaxMessageSize);
  auto result = centrald::answerQuery(snapshot, *view, transport, out, kMaxMessageSize);
  out.resize(result.size);
  return out;
}

struct Ask {
  std::string name;
  RRType type;
};

const std::vector<Ask> kQuestions{
    {"new1.example.test.", RRType::A},     {"new1.example.test.", RRType::A},
    {"new1.example.test.", RRType::A},     {"new1.example.test.", RRType::AAAA},
    {"NEW1.example.test.", RRType::ANY},   {"y.ent.example.test.", RRType::A},
    {"ent.example.test.", RRType::A},      {"z.ent.example.test.", RRType::A},
    {"x.y.ent.example.test.", RRType::A},  {"b.c.example.test.", RRType::A},
    {"q.b.c.example.test.", RRType::A},    {"a.b.c.example.test.", RRType::A},
    {"www.example.test.", RRType::A},      {"deep.www.example.test.", RRType::A},
    {"no.www.example.test.", RRType::A},   {"dangling.example.test.", RRType::A},
    {"al.example.test.", RRType::A},       {"al.example.test.", RRType::CNAME},
    {"n.wild.example.test.", RRType::A},   {"m.wild.example.test.", RRType::A},
    {"x.n.wild.example.test.", RRType::A}, {"n.wild.example.test.", RRType::TXT},
    {"h.sub.example.test.", RRType::A},    {"sub.example.test.", RRType::NS},
    {"mx.example.test.", RRType::MX},      {"new2.example.test.", RRType::AAAA},
    {"new2.example.test.", RRType::AAAA},  {"new2.example.test.", RRType::A},
    {"example.test.", RRType::SOA},        {"example.test.", RRType::NS},
    {"nope.example.test.", RRType::A},     {"example.test.", RRType::A},
    {"new3.example.test.", RRType::A},
};

}  // namespace

TEST_CASE("an overlaid zone answers exactly as the zone built whole", "[unit]") {
  auto base = ZoneData::build(baseZone());
  REQUIRE(base != nullptr);
  const ZoneView plain(base);
  auto first = ZoneView::overlay(plain, records(kFirst), 42);
  REQUIRE(first != nullptr);
  auto second = ZoneView::overlay(*first, records(kSecond), 43);
  REQUIRE(second != nullptr);
  CHECK(second->base() == first->base());  // the base is never copied
  CHECK(second->addedNames() >= 13);

  auto overlaid = ZoneSnapshot::build({})->with({second}, {});
  auto reference = whole({records(kFirst), records(kSecond)}, 43);
  CHECK(overlaid->recordCount() == reference->recordCount());
  for (auto transport : {centrald::Transport::Udp, centrald::Transport::Tcp}) {
    for (const auto& ask : kQuestions) {
      INFO(ask.name << " " << typeToText(ask.type));
      CHECK(answer(*overlaid, ask.name, ask.type, transport) ==
            answer(*reference, ask.name, ask.type, transport));
    }
  }

  // After the first round only: the second round's names do not exist yet.
  auto firstOnly = ZoneSnapshot::build({})->with({first}, {});
  auto firstReference = whole({records(kFirst)}, 42);
  for (const auto& ask : kQuestions) {
    INFO(ask.name << " " << typeToText(ask.type));
    CHECK(answer(*firstOnly, ask.name, ask.type) == answer(*firstReference, ask.name, ask.type));
  }
}

TEST_CASE("an overlay continues the rotation of the names it carries over", "[unit]") {
  auto base = ZoneData::build(baseZone());
  const ZoneView plain(base);
  auto first = ZoneView::overlay(plain, records(kFirst), 42);
  auto snapshot = ZoneSnapshot::build({})->with({first}, {});
  // One query moves new1's rotation by one; the next overlay goes on from there.
  (void)answer(*snapshot, "new1.example.test.", RRType::A);
  auto second = ZoneView::overlay(*first, records(kSecond), 43);
  auto next = ZoneSnapshot::build({})->with({second}, {});
  auto reference = whole({records(kFirst), records(kSecond)}, 43);
  (void)answer(*reference, "new1.example.test.", RRType::A);
  for (int i = 0; i < 4; ++i)
    CHECK(answer(*next, "new1.example.test.", RRType::A) ==
          answer(*reference, "new1.example.test.", RRType::A));
}
