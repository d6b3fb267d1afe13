// The zone loader: zones streamed from SQLite through ZoneBuilder give, byte for byte, the
// nodes and RRsets of a straightforward reference build (owners grouped by a hash map,
// each record re-encoded from its decoded RDATA, as centrald built zones before), and
// corrupt rows are reported as BadData.

#include "centrald/zone_loader.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>
#include <unordered_map>

#include "centrald/store/store.hpp"
#include "temp_store.hpp"
#include "centrald/zone_data.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/wire_writer.hpp"
#include "dnswire/zonefile.hpp"

using namespace centrald;
using dnswire::Name;
using dnswire::ResourceRecord;
using dnswire::RRType;
using dnswire::Zone;

using centrald::testing::openStore;
using centrald::testing::rawExec;
using centrald::testing::TempDb;

namespace {

Zone parse(const std::string& text) {
  auto zone = dnswire::parseZoneText(text, "loader.zone");
  if (!zone) FAIL(zone.error().message());
  return *zone;
}

Name name(std::string_view text) {
  auto n = Name::fromText(text);
  REQUIRE(n.ok());
  return *n;
}

// Owners out of order and in mixed case, a type that comes back later, duplicates, TTLs
// that differ within an RRset, every type the answer logic decodes, opaque RDATA, a
// wildcard, a delegation, empty non-terminals and a long RRset.
std::string mixedZone() {
  std::string text =
      "$ORIGIN Mix.Test.\n$TTL 300\n"
      "@ 3600 IN SOA ns1 hostmaster 42 7200 900 1209600 120\n"
      "@ NS ns1\n@ NS NS2.elsewhere.test.\n"
      "ns1 A 192.0.2.53\n"
      "WWW 60 A 192.0.2.1\nwww TXT \"hello\" \"world\"\nwww 30 A 192.0.2.2\n"
      "mail A 192.0.2.25\nWww A 192.0.2.1\nwww AAAA 2001:db8::1\n"
      "@ MX 10 mail\n@ MX 20 MAIL.Mix.Test.\n@ MX 10 mail\n"
      "alias CNAME www\n*.wild A 192.0.2.99\n"
      "a.b.c.deep PTR www.mix.test.\n_sip._tcp SRV 10 60 5060 www\n"
      "sub NS ns.sub\nns.sub A 192.0.2.77\n"
      "odd TYPE65280 \\# 3 0a0b0c\nodd TXT \"\"\n"
      "ns1 AAAA 2001:db8::53\n";
  for (int i = 0; i < 40; ++i) text += "many A 10.1.0." + std::to_string(i) + "\n";
  // Past the linear duplicate check: 100 records, 37 different, some at another TTL.
  for (int i = 0; i < 100; ++i)
    text += "pool " + std::to_string(i % 3 ? 300 : 60) + " A 10.2.0." + std::to_string(i * 7 % 37) + "\n";
  return text;
}

// The reference: what centrald built before the builder, in the plainest form.
struct RefSet {
  RRType type;
  uint32_t ttl;
  std::vector<std::vector<uint8_t>> records;
  std::vector<dnswire::RData> typed;
};
struct RefNode {
  Name owner;
  std::vector<RefSet> sets;
};

bool keepsTyped(RRType t) {
  return t == RRType::NS || t == RRType::CNAME || t == RRType::SOA || t == RRType::PTR || t == RRType::MX ||
         t == RRType::SRV;
}

std::vector<RefNode> referenceBuild(const Zone& zone) {
  std::unordered_map<Name, size_t, dnswire::NameHash> index;
  std::vector<RefNode> nodes;
  std::vector<std::vector<std::vector<const ResourceRecord*>>> groups;
  auto nodeOf = [&](const Name& owner) {
    auto [it, inserted] = index.try_emplace(owner, nodes.size());
    if (inserted) {
      nodes.push_back({owner, {}});
      groups.emplace_back();
    }
    return it->second;
  };
  nodeOf(zone.origin);
  for (const auto& rr : zone.records) {
    auto& byType = groups[nodeOf(rr.owner)];
    auto it =
        std::find_if(byType.begin(), byType.end(), [&](const auto& g) { return g.front()->type == rr.type; });
    if (it == byType.end())
      byType.push_back({&rr});
    else
      it->push_back(&rr);
  }
  const size_t withData = nodes.size();
  for (size_t i = 0; i < withData; ++i)
    for (Name up = nodes[i].owner; up != zone.origin && !up.isRoot();) {
      up = up.parent();
      if (index.count(up) != 0) break;
      nodeOf(up);
    }
  for (size_t i = 0; i < withData; ++i)
    for (const auto& records : groups[i]) {
      RefSet set{records.front()->type, UINT32_MAX, {}, {}};
      for (const auto* rr : records) set.ttl = std::min(set.ttl, rr->ttl);
      for (const auto* rr : records) {
        std::vector<uint8_t> buffer(70000);
        dnswire::WireWriter w(buffer);
        w.writeU16(static_cast<uint16_t>(rr->type));
        w.writeU16(static_cast<uint16_t>(rr->cls));
        w.writeU32(set.ttl);
        w.writeU16(0);
        REQUIRE(dnswire::typeInfo(rr->type).encode(rr->data, w, nullptr));
        w.patchU16(8, static_cast<uint16_t>(w.size() - 10));
        std::vector<uint8_t> bytes(w.written().begin(), w.written().end());
        if (std::find(set.records.begin(), set.records.end(), bytes) != set.records.end()) continue;
        set.records.push_back(bytes);
        if (keepsTyped(set.type)) set.typed.push_back(rr->data);
      }
      nodes[i].sets.push_back(std::move(set));
    }
  return nodes;
}

void checkSame(const ZoneData& data, const std::vector<RefNode>& expected) {
  REQUIRE(data.nodeCount() == expected.size());
  size_t records = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const Node& node = data.nodes()[i];
    const RefNode& ref = expected[i];
    INFO("node " << ref.owner.toText());
    const auto wire = data.nodeWire(node);
    CHECK(std::vector<uint8_t>(wire.begin(), wire.end()) ==
          std::vector<uint8_t>(ref.owner.wire().begin(), ref.owner.wire().end()));  // case kept
    CHECK(data.findNode(ref.owner.lowercased()) == &node);
    REQUIRE(node.rrsets.size() == ref.sets.size());
    for (size_t s = 0; s < ref.sets.size(); ++s) {
      const RRset& set = node.rrsets[s];
      const RefSet& want = ref.sets[s];
      INFO("type " << dnswire::typeToText(want.type));
      CHECK(set.type == want.type);
      CHECK(set.ttl == want.ttl);
      CHECK(set.compressNames == dnswire::typeInfo(want.type).compressNames);
      REQUIRE(set.size() == want.records.size());
      for (size_t r = 0; r < set.size(); ++r) {
        const auto bytes = set.recordWire(r);
        CHECK(std::vector<uint8_t>(bytes.begin(), bytes.end()) == want.records[r]);
      }
      CHECK(std::vector<dnswire::RData>(set.typed.begin(), set.typed.end()) == want.typed);
      records += set.size();
    }
    CHECK(node.delegation == (i != 0 && node.find(RRType::NS) != nullptr));
  }
  CHECK(data.recordCount() == records);
}

}  // namespace

TEST_CASE("loader: a zone streamed from the store matches the reference build, byte for byte", "[unit]") {
  TempDb db;
  const Zone zone = parse(mixedZone());
  const Zone other = parse("$ORIGIN other.test.\n@ 60 IN SOA ns admin 1 2 3 4 5\nx A 192.0.2.9\n");
  {
    auto store = openStore(db.path());
    REQUIRE(store.importZones(std::vector<Zone>{zone, other}, false).ok());
  }
  const auto expected = referenceBuild(zone);
  auto store = openStore(db.path());

  SECTION("one zone") {
    auto data = loadZoneData(store, name("mix.test."));
    REQUIRE(data.ok());
    REQUIRE(*data != nullptr);
    checkSame(**data, expected);
    CHECK((*data)->origin.toText() == "Mix.Test.");  // the SOA owner as written
    CHECK((*data)->negativeTtl == 120);
    CHECK((*data)->hasWildcards);
    CHECK((*data)->hasDelegations);
    CHECK((*data)->apex == &(*data)->nodes().front());
    CHECK((*data)->findNode(name("b.c.deep.mix.test.")) != nullptr);  // empty non-terminal
    CHECK((*data)->findNode(name("b.c.deep.mix.test."))->rrsets.empty());
    CHECK((*data)->findNode(name("pool.mix.test."))->find(RRType::A)->size() == 37);
  }
  SECTION("every zone, interleaved rows") {
    // An ADD appends rows to zones created earlier: rows of the two zones interleave.
    auto added = store.insertRecords(
        name("other.test."),
        std::vector<ResourceRecord>{parse("$ORIGIN other.test.\n@ 60 IN SOA ns admin 1 2 3 4 5\n"
                                          "y 60 A 192.0.2.10\n")
                                        .records[1]});
    REQUIRE(added.ok());
    auto all = loadAllZoneData(store);
    REQUIRE(all.ok());
    REQUIRE(all->size() == 2);
    checkSame(*(*all)[0], expected);
    CHECK((*all)[1]->origin == name("other.test."));
    CHECK((*all)[1]->recordCount() == 3);
    CHECK((*all)[1]->findNode(name("y.other.test.")) != nullptr);
  }
  SECTION("ZoneData::build from the parsed zone agrees") {
    auto data = ZoneData::build(zone);
    REQUIRE(data != nullptr);
    checkSame(*data, expected);
  }
}

TEST_CASE("loader: a big generated zone matches the reference build", "[unit]") {
  std::string text = "$ORIGIN big.test.\n$TTL 300\n@ IN SOA ns admin 1 2 3 4 5\n@ NS ns\nns A 10.0.0.1\n";
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    const std::string host = "h" + std::to_string(rng() % 1500) + ".g" + std::to_string(rng() % 13);
    text += host + " A 10." + std::to_string(rng() % 4) + ".0.1\n";
    if (i % 10 == 0) text += "c" + std::to_string(i) + " CNAME " + host + "\n";
    if (i % 17 == 0) text += host + " MX " + std::to_string(rng() % 3) + " ns\n";
  }
  const Zone zone = parse(text);
  TempDb db;
  auto store = openStore(db.path());
  REQUIRE(store.importZones(std::vector<Zone>{zone}, false).ok());
  auto data = loadZoneData(store, name("big.test."));
  REQUIRE(data.ok());
  REQUIRE(*data != nullptr);
  checkSame(**data, referenceBuild(zone));
}

TEST_CASE("loader: zones without an SOA and missing zones", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  REQUIRE(
      store.importZones(std::vector<Zone>{parse("$ORIGIN s.test.\n@ 60 IN SOA ns admin 1 2 3 4 5\n")}, false)
          .ok());
  rawExec(db.path(), "DELETE FROM records WHERE type = 6");
  auto data = loadZoneData(store, name("s.test."));
  REQUIRE(data.ok());
  CHECK(*data == nullptr);
  auto all = loadAllZoneData(store);
  REQUIRE(all.ok());
  CHECK(all->empty());
  auto missing = loadZoneData(store, name("nothere.test."));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == StoreError::NoSuchZone);
}

TEST_CASE("loader: corrupt rows are BadData naming the row, not a crash", "[unit]") {
  struct Case {
    const char* what;
    const char* sql;
    const char* mentions;
  };
  const Case cases[] = {
      {"A RDATA of 3 octets", "UPDATE records SET rdata = x'0a0000' WHERE owner = 'www.c.test.'",
       "bad RDATA"},
      {"A RDATA of 5 octets", "UPDATE records SET rdata = x'0a00000101' WHERE owner = 'www.c.test.'",
       "bad RDATA"},
      {"CNAME target running past its RDATA", "UPDATE records SET rdata = x'0361626308' WHERE type = 5",
       "bad RDATA"},
      {"CNAME with a compression pointer loop", "UPDATE records SET rdata = x'c000' WHERE type = 5",
       "bad RDATA"},
      {"MX without an exchange", "UPDATE records SET rdata = x'000a' WHERE type = 15", "bad RDATA"},
      {"SOA cut short", "UPDATE records SET rdata = x'00' WHERE type = 6", "bad RDATA"},
      {"RDATA over 65535 octets", "UPDATE records SET type = 99, rdata = zeroblob(70000) WHERE type = 16",
       "bad RDATA"},
      {"owner with an empty label", "UPDATE records SET owner = 'www..c.test.' WHERE owner = 'www.c.test.'",
       "bad owner"},
      {"owner label over 63 octets",
       "UPDATE records SET owner = replace(hex(zeroblob(32)), '0', 'x') || '.c.test.' WHERE owner = "
       "'www.c.test.'",
       "bad owner"},
      {"type out of range", "UPDATE records SET type = 70000 WHERE type = 16", "out of range"},
      {"negative TTL", "UPDATE records SET ttl = -1 WHERE type = 16", "out of range"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    TempDb db;
    {
      auto store = openStore(db.path());
      REQUIRE(store
                  .importZones(std::vector<Zone>{parse("$ORIGIN c.test.\n@ 60 IN SOA ns admin 1 2 3 4 5\n"
                                                       "www A 192.0.2.1\nalias CNAME www\n@ MX 10 www\n"
                                                       "txt TXT \"x\"\n")},
                               false)
                  .ok());
    }
    rawExec(db.path(), c.sql);
    auto store = openStore(db.path());
    auto one = loadZoneData(store, name("c.test."));
    REQUIRE_FALSE(one.ok());
    CHECK(one.error().code == StoreError::BadData);
    CHECK(one.error().message().find(c.mentions) != std::string::npos);
    CHECK(one.error().message().find("stored record") != std::string::npos);
    auto all = loadAllZoneData(store);
    REQUIRE_FALSE(all.ok());
    CHECK(all.error().code == StoreError::BadData);
  }
}
