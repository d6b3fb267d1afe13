// The snapshot's node index and pre-encoded RRsets.

#include "centrald/zone_snapshot.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "dnswire/zonefile.hpp"

using centrald::ZoneSnapshot;
using dnswire::Name;
using dnswire::RRType;

namespace {

Name name(const std::string& text) {
  auto n = Name::fromText(text);
  REQUIRE(n.ok());
  return *n;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return s;
}

}  // namespace

TEST_CASE("every owner and empty non-terminal is found, in any case", "[unit]") {
  std::string text = "$ORIGIN idx.test.\n$TTL 60\n@ IN SOA ns admin 1 2 3 4 5\n@ NS ns\n";
  const int kHosts = 3000;
  for (int i = 0; i < kHosts; ++i)
    text += "h" + std::to_string(i) + ".g" + std::to_string(i % 7) + " A 10.0.0.1\n";
  auto zone = dnswire::parseZoneText(text, "idx.zone");
  REQUIRE(zone.ok());
  auto snapshot = ZoneSnapshot::build({*zone});
  const auto* data = snapshot->findZone(name("x.idx.test."));
  REQUIRE(data != nullptr);
  // The apex, the hosts and the seven g* empty non-terminals ("ns" owns nothing).
  CHECK(data->nodeCount() == 1 + kHosts + 7);
  CHECK(snapshot->recordCount() == 2 + kHosts);
  for (int i = 0; i < kHosts; ++i) {
    const std::string owner = "h" + std::to_string(i) + ".g" + std::to_string(i % 7) + ".idx.test.";
    const auto* node = data->findNode(name(i % 2 ? upper(owner) : owner));
    REQUIRE(node != nullptr);
    CHECK(data->nodeName(*node) == name(owner));
    CHECK(data->nodeName(*node).toText() == owner);  // the zone's case is kept
    REQUIRE(node->find(RRType::A) != nullptr);
    CHECK(node->find(RRType::AAAA) == nullptr);
  }
  for (int g = 0; g < 7; ++g) {
    const auto* ent = data->findNode(name("G" + std::to_string(g) + ".idx.test."));
    REQUIRE(ent != nullptr);
    CHECK(ent->rrsets.empty());
  }
  CHECK(data->findNode(name("h1.g0.idx.test.")) == nullptr);  // h1 is under g1
  CHECK(data->findNode(name("idx.test.")) == data->apex);
  CHECK(data->findNode(name("test.")) == nullptr);
}

TEST_CASE("RRsets: duplicates dropped, lowest TTL, wire form", "[unit]") {
  auto zone = dnswire::parseZoneText(
      "$ORIGIN d.test.\n@ 60 IN SOA ns admin 1 2 3 4 5\n@ 60 NS ns\n"
      "x 300 A 192.0.2.1\nx 100 A 192.0.2.2\nX 300 A 192.0.2.1\n",
      "d.zone");
  REQUIRE(zone.ok());
  auto snapshot = ZoneSnapshot::build({*zone});
  const auto* data = snapshot->findZone(name("d.test."));
  REQUIRE(data != nullptr);
  const auto* node = data->findNode(name("x.d.test."));
  REQUIRE(node != nullptr);
  const auto* set = node->find(RRType::A);
  REQUIRE(set != nullptr);
  CHECK(set->size() == 2);
  CHECK(set->ttl == 100);  // RFC 2181 §5.2
  CHECK(set->rotates());
  const std::vector<uint8_t> first{0, 1, 0, 1, 0, 0, 0, 100, 0, 4, 192, 0, 2, 1};
  auto wire = set->recordWire(0);
  CHECK(std::vector<uint8_t>(wire.begin(), wire.end()) == first);
  CHECK(data->negativeTtl == 5);
}

TEST_CASE("zones without an SOA are left out; the longest origin wins", "[unit]") {
  auto parent = dnswire::parseZoneText("$ORIGIN p.test.\n@ 60 IN SOA ns admin 1 2 3 4 5\n", "p.zone");
  auto child = dnswire::parseZoneText("$ORIGIN c.p.test.\n@ 60 IN SOA ns admin 1 2 3 4 5\n", "c.zone");
  REQUIRE(parent.ok());
  REQUIRE(child.ok());
  dnswire::Zone broken;
  broken.origin = name("broken.test.");
  auto snapshot = ZoneSnapshot::build({*parent, *child, broken});
  CHECK(snapshot->zoneCount() == 2);
  CHECK(snapshot->findZone(name("www.c.p.test."))->origin == name("c.p.test."));
  CHECK(snapshot->findZone(name("www.p.test."))->origin == name("p.test."));
  CHECK(snapshot->findZone(name("www.broken.test.")) == nullptr);
  CHECK(ZoneSnapshot::build({})->findZone(name("p.test.")) == nullptr);
}
