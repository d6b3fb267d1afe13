// Zone versions (schema 3): the per-zone generation kept by triggers, whoever writes.

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include "centrald/store/store.hpp"
#include "temp_store.hpp"

using namespace centrald;
using dnswire::Name;
using dnswire::Zone;

using centrald::testing::openStore;
using centrald::testing::rawExec;
using centrald::testing::TempDb;

namespace {

Name name(std::string_view text) {
  auto n = Name::fromText(text);
  REQUIRE(n.ok());
  return *n;
}

Zone zoneFrom(const std::string& origin, const std::string& body = "") {
  std::string text =
      "$ORIGIN " + origin + "\n$TTL 3600\n@ SOA ns1 hostmaster 7 7200 900 1209600 300\n@ NS ns1\n" + body;
  auto zone = dnswire::parseZoneText(text, origin + "zone");
  if (!zone) FAIL(zone.error().message());
  return *zone;
}

ZoneVersion versionOf(Store& store, const std::string& origin) {
  auto version = store.zoneVersion(name(origin));
  REQUIRE(version.ok());
  REQUIRE(version->has_value());
  return **version;
}

}  // namespace

TEST_CASE("zone versions: every write to a zone's records moves its generation, and only its", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  std::vector<Zone> zones{zoneFrom("a.test.", "www A 192.0.2.1\n"), zoneFrom("b.test.")};
  REQUIRE(store.importZones(zones, false).ok());
  auto all = store.zoneVersions();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  const auto a0 = versionOf(store, "a.test.");
  const auto b0 = versionOf(store, "b.test.");
  CHECK(a0.id != b0.id);
  auto missing = store.zoneVersion(name("c.test."));
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());

  // ADD's writes.
  std::vector<dnswire::ResourceRecord> records{
      {name("new.a.test."), dnswire::RRType::A, dnswire::RRClass::IN, 60, dnswire::A{{192, 0, 2, 9}}}};
  REQUIRE(store.insertRecords(name("a.test."), records).ok());
  const auto a1 = versionOf(store, "a.test.");
  CHECK(a1.id == a0.id);
  CHECK(a1.generation > a0.generation);
  REQUIRE(store.bumpSerial(name("a.test.")).ok());
  const auto a2 = versionOf(store, "a.test.");
  CHECK(a2.generation > a1.generation);
  CHECK(versionOf(store, "b.test.").generation == b0.generation);

  // Hand edits: update, delete, insert.
  rawExec(db.path(), "UPDATE records SET ttl = 99 WHERE owner_key = 'www.a.test.'");
  const auto a3 = versionOf(store, "a.test.");
  CHECK(a3.generation > a2.generation);
  rawExec(db.path(), "DELETE FROM records WHERE owner_key = 'www.a.test.'");
  const auto a4 = versionOf(store, "a.test.");
  CHECK(a4.generation > a3.generation);
  CHECK(versionOf(store, "b.test.").generation == b0.generation);
}

TEST_CASE("zone versions: a replaced or re-created zone never repeats an (id, generation)", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  std::vector<Zone> zones{zoneFrom("a.test."), zoneFrom("b.test.", "x A 192.0.2.1\n")};
  REQUIRE(store.importZones(zones, false).ok());
  std::set<std::pair<int64_t, uint64_t>> seen;
  seen.insert({versionOf(store, "b.test.").id, versionOf(store, "b.test.").generation});
  // The same content again, three ways: replace, delete and re-import by hand (SQLite
  // reuses the highest rowid once it is deleted), and an import of a different zone of
  // the same size.
  for (int round = 0; round < 3; ++round) {
    if (round == 1) {
      rawExec(db.path(), "PRAGMA foreign_keys=ON; DELETE FROM zones WHERE name = 'b.test.'");
      std::vector<Zone> again{zoneFrom("b.test.", "x A 192.0.2.1\n")};
      REQUIRE(store.importZones(again, false).ok());
    } else {
      std::vector<Zone> again{zoneFrom("b.test.", round == 0 ? "x A 192.0.2.1\n" : "y A 192.0.2.2\n")};
      REQUIRE(store.importZones(again, true).ok());
    }
    const auto v = versionOf(store, "b.test.");
    INFO("round " << round << ": id " << v.id << " generation " << v.generation);
    CHECK(seen.insert({v.id, v.generation}).second);
  }
}

TEST_CASE("zone versions: read inside a write transaction, and the external data version", "[unit]") {
  TempDb db;
  auto writer = openStore(db.path());
  auto other = openStore(db.path());
  std::vector<Zone> zones{zoneFrom("a.test.")};
  REQUIRE(writer.importZones(zones, false).ok());
  auto external = writer.externalDataVersion();
  REQUIRE(external.ok());

  const auto before = versionOf(writer, "a.test.");
  {
    auto transaction = writer.begin();
    REQUIRE(transaction.ok());
    REQUIRE(writer.bumpSerial(name("a.test.")).ok());
    const auto inside = versionOf(writer, "a.test.");
    CHECK(inside.generation > before.generation);
    CHECK(versionOf(other, "a.test.").generation == before.generation);  // not committed yet
    REQUIRE(transaction->commit().ok());
  }
  // Our own commits do not move the external version; another connection's do.
  auto afterOwn = writer.externalDataVersion();
  REQUIRE(afterOwn.ok());
  CHECK(*afterOwn == *external);
  REQUIRE(other.bumpSerial(name("a.test.")).ok());
  auto afterOther = writer.externalDataVersion();
  REQUIRE(afterOther.ok());
  CHECK(*afterOther != *external);

  // A read-only connection (proxyd --db) reads versions too.
  auto reader = openStore(db.path(), StoreOptions{.readOnly = true});
  auto versions = reader.zoneVersions();
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 1);
  CHECK((*versions)[0].name == name("a.test."));
}
