// centrald's SQLite store against real database files in a temporary directory.

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include "centrald/store/schema.hpp"
#include "centrald/store/store.hpp"
#include "temp_store.hpp"
#include "dnswire/rr_table.hpp"

using namespace centrald;
using dnswire::Name;
using dnswire::Zone;

using centrald::testing::openStore;
using centrald::testing::TempDb;

namespace {

Zone zoneFrom(const std::string& origin, const std::string& body = "") {
  std::string text =
      "$ORIGIN " + origin +
      "\n$TTL 3600\n@ SOA ns1 hostmaster 7 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n" + body;
  auto zone = dnswire::parseZoneText(text, origin + "zone");
  if (!zone) FAIL(zone.error().message());
  return *zone;
}

Name name(std::string_view text) {
  auto n = Name::fromText(text);
  REQUIRE(n.ok());
  return *n;
}

// Runs one statement on a raw connection (for setting up old schemas and checking pragmas).
std::string rawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string result;
  char* error = nullptr;
  int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int n, char** values, char**) {
        auto* s = static_cast<std::string*>(out);
        for (int i = 0; i < n; ++i) {
          if (!s->empty()) s->push_back('|');
          s->append(values[i] != nullptr ? values[i] : "NULL");
        }
        return 0;
      },
      &result, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
  return result;
}

std::set<std::string> addressTexts(const std::vector<dnswire::RData>& data) {
  std::set<std::string> out;
  for (const auto& d : data) {
    auto type = std::holds_alternative<dnswire::A>(d) ? dnswire::RRType::A : dnswire::RRType::AAAA;
    out.insert(dnswire::typeInfo(type).toText(d));
  }
  return out;
}

}  // namespace

TEST_CASE("store: a new database gets the latest schema in WAL mode", "[unit]") {
  TempDb db;
  {
    auto store = openStore(db.path());
    CHECK(store.schemaVersion() == latestSchemaVersion());
    auto zones = store.loadZones();
    REQUIRE(zones.ok());
    CHECK(zones->empty());
  }
  CHECK(rawQuery(db.path(), "PRAGMA user_version") == std::to_string(latestSchemaVersion()));
  CHECK(rawQuery(db.path(), "PRAGMA journal_mode") == "wal");
  CHECK(rawQuery(db.path(),
                 "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER "
                 "BY name)") == "add_requests,address_allocations,records,zone_generation_floor,zones");
}

TEST_CASE("store: migrates forward from version 0 and from version 1, keeping data", "[unit]") {
  TempDb db;
  // Version 0: an empty file SQLite created.
  rawQuery(db.path(), "CREATE TABLE unrelated(x); DROP TABLE unrelated");
  CHECK(rawQuery(db.path(), "PRAGMA user_version") == "0");
  {
    auto store = openStore(db.path());
    CHECK(store.schemaVersion() == latestSchemaVersion());
  }

  // Version 1 with a zone stored by the old program.
  TempDb old;
  rawQuery(old.path(), std::string(migrations()[0].sql) + "PRAGMA user_version = 1;");
  rawQuery(old.path(),
           "INSERT INTO zones(id, name) VALUES (1, 'old.test.');"
           "INSERT INTO records(zone_id, owner, owner_key, type, class, ttl, rdata, rdata_text) VALUES "
           "(1, 'old.test.', 'old.test.', 6, 1, 60, "
           "X'036e733100' || X'016800' || X'00000005' || X'00000e10' || X'0000012c' || X'00093a80' || "
           "X'0000003c', "
           "'ns1. h. 5 3600 300 604800 60'),"
           "(1, 'WWW.old.test.', 'www.old.test.', 1, 1, 60, X'c0000201', '192.0.2.1');");
  auto store = openStore(old.path());
  CHECK(store.schemaVersion() == latestSchemaVersion());
  CHECK(rawQuery(old.path(), "PRAGMA user_version") == std::to_string(latestSchemaVersion()));
  auto zones = store.loadZones();
  REQUIRE(zones.ok());
  REQUIRE(zones->size() == 1);
  CHECK((*zones)[0].origin == name("old.test."));
  REQUIRE((*zones)[0].records.size() == 2);
  CHECK((*zones)[0].records[1].owner.toText() == "WWW.old.test.");
  CHECK(std::get<dnswire::Soa>((*zones)[0].records[0].data).serial == 5);
  // The tables of version 2 work.
  auto addresses = store.allocateAddresses("198.51.100.0/30", 1, name("a.old.test."));
  REQUIRE(addresses.ok());
}

TEST_CASE("store: a newer schema is refused, read-only opens never create or migrate", "[unit]") {
  TempDb db;
  rawQuery(db.path(), "PRAGMA user_version = 99");
  auto newer = Store::open(db.path());
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().code == StoreError::SchemaTooNew);

  TempDb missing;
  auto absent = Store::open(missing.path(), StoreOptions{.readOnly = true});
  REQUIRE_FALSE(absent.ok());
  CHECK_FALSE(std::filesystem::exists(missing.path()));

  TempDb v1;
  rawQuery(v1.path(), std::string(migrations()[0].sql) + "PRAGMA user_version = 1;");
  auto old = Store::open(v1.path(), StoreOptions{.readOnly = true});
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().code == StoreError::SchemaTooOld);
  CHECK(rawQuery(v1.path(), "PRAGMA user_version") == "1");
}

TEST_CASE("store: import, load, export and list", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  std::vector<Zone> zones = {
      zoneFrom("example.test.", "Www 300 A 192.0.2.1\nwww AAAA 2001:db8::1\nu TYPE65280 \\# 2 abcd\n"),
      zoneFrom("corp.example.")};
  REQUIRE(store.importZones(zones, false).ok());

  auto loaded = store.loadZones();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 2);
  CHECK((*loaded)[0].origin == zones[0].origin);
  CHECK((*loaded)[0].records == zones[0].records);
  CHECK((*loaded)[1].records == zones[1].records);
  CHECK((*loaded)[0].records[3].owner.toText() == "Www.example.test.");  // case kept

  auto exported = store.exportZone(name("EXAMPLE.test."));
  REQUIRE(exported.ok());
  CHECK(exported->records == zones[0].records);
  auto none = store.exportZone(name("nothere.test."));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == StoreError::NoSuchZone);

  auto list = store.listZones();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].name == name("corp.example."));
  CHECK((*list)[0].records == 3);
  CHECK((*list)[0].serial == 7);
  CHECK((*list)[1].name == name("example.test."));
  CHECK((*list)[1].records == 6);

  // Operators can read the rows with sqlite3.
  CHECK(
      rawQuery(
          db.path(),
          "SELECT owner, owner_key, ttl, hex(rdata), rdata_text FROM records WHERE type = 1 AND ttl = 300") ==
      "Www.example.test.|www.example.test.|300|C0000201|192.0.2.1");
}

TEST_CASE("store: an import is all or nothing", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  Zone good = zoneFrom("good.test.");
  Zone bad = zoneFrom("bad.test.");
  bad.records.push_back(dnswire::ResourceRecord{name("elsewhere.test."), dnswire::RRType::A,
                                                dnswire::RRClass::IN, 60, dnswire::A{{192, 0, 2, 1}}});
  std::vector<Zone> zones = {good, bad};
  auto result = store.importZones(zones, false);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == StoreError::OutsideZone);
  auto list = store.listZones();
  REQUIRE(list.ok());
  CHECK(list->empty());
  CHECK(rawQuery(db.path(), "SELECT count(*) FROM records") == "0");

  // A zone given twice is refused before anything is written.
  std::vector<Zone> twice = {good, good};
  auto dup = store.importZones(twice, true);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == StoreError::ZoneExists);

  // A zone without its SOA first is refused.
  Zone noSoa = good;
  noSoa.records.erase(noSoa.records.begin());
  std::vector<Zone> one = {noSoa};
  CHECK_FALSE(store.importZones(one, false).ok());
}

TEST_CASE("store: an existing zone needs replace, which swaps its records", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  std::vector<Zone> first = {zoneFrom("example.test.", "a A 192.0.2.1\n")};
  REQUIRE(store.importZones(first, false).ok());

  std::vector<Zone> second = {zoneFrom("example.test.", "b A 192.0.2.2\nc A 192.0.2.3\n"),
                              zoneFrom("new.test.")};
  auto refused = store.importZones(second, false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == StoreError::ZoneExists);
  CHECK(refused.error().message() == "zone example.test. already exists (use --replace)");
  auto hasNew = store.hasZone(name("new.test."));
  REQUIRE(hasNew.ok());
  CHECK_FALSE(*hasNew);  // nothing of the refused import was stored

  REQUIRE(store.importZones(second, true).ok());
  auto exported = store.exportZone(name("example.test."));
  REQUIRE(exported.ok());
  CHECK(exported->records == second[0].records);
  CHECK(rawQuery(db.path(), "SELECT count(*) FROM records WHERE owner_key = 'a.example.test.'") == "0");
}

TEST_CASE("store: data_version shows another connection's commit, and our own", "[unit]") {
  TempDb db;
  auto writer = openStore(db.path());
  auto watcher = openStore(db.path(), StoreOptions{.readOnly = true});
  auto before = watcher.dataVersion();
  REQUIRE(before.ok());
  auto same = watcher.dataVersion();
  REQUIRE(same.ok());
  CHECK(*same == *before);

  auto ownBefore = writer.dataVersion();
  REQUIRE(ownBefore.ok());
  std::vector<Zone> zones = {zoneFrom("example.test.")};
  REQUIRE(writer.importZones(zones, false).ok());

  auto after = watcher.dataVersion();
  REQUIRE(after.ok());
  CHECK(*after != *before);
  auto ownAfter = writer.dataVersion();
  REQUIRE(ownAfter.ok());
  CHECK(*ownAfter != *ownBefore);

  auto seen = watcher.loadZones();
  REQUIRE(seen.ok());
  CHECK(seen->size() == 1);
  // The read-only connection cannot write.
  auto refused = watcher.importZones(zones, true);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == StoreError::ReadOnly);
}

TEST_CASE("store: allocated addresses are unique across reopen, and exhaustion changes nothing", "[unit]") {
  TempDb db;
  std::set<std::string> seen;
  {
    auto store = openStore(db.path());
    // 198.51.100.0/29: .1 to .6 are usable (.0 network, .7 broadcast).
    auto first = store.allocateAddresses("198.51.100.0/29", 3, name("a.test."));
    REQUIRE(first.ok());
    CHECK(addressTexts(*first) == std::set<std::string>{"198.51.100.1", "198.51.100.2", "198.51.100.3"});
    for (const auto& t : addressTexts(*first)) seen.insert(t);
  }
  auto store = openStore(db.path());
  auto tooMany = store.allocateAddresses("198.51.100.0/29", 4, name("b.test."));
  REQUIRE_FALSE(tooMany.ok());
  CHECK(tooMany.error().code == StoreError::PoolExhausted);
  CHECK(rawQuery(db.path(), "SELECT count(*) FROM address_allocations") == "3");

  auto second = store.allocateAddresses("198.51.100.0/29", 3, name("b.test."));
  REQUIRE(second.ok());
  for (const auto& t : addressTexts(*second)) CHECK(seen.insert(t).second);
  CHECK(seen.size() == 6);
  CHECK(seen.count("198.51.100.0") == 0);
  CHECK(seen.count("198.51.100.7") == 0);

  auto empty = store.allocateAddresses("198.51.100.0/29", 1, name("c.test."));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == StoreError::PoolExhausted);
  CHECK(empty.error().message() == "pool 198.51.100.0/29 has fewer than 1 unallocated addresses left");
  CHECK(rawQuery(db.path(), "SELECT name FROM address_allocations WHERE address = '198.51.100.4'") ==
        "b.test.");
}

TEST_CASE("store: allocation skips addresses records use and never reuses a freed one", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  std::vector<Zone> zones = {zoneFrom("example.test.", "static A 198.51.100.1\n")};
  REQUIRE(store.importZones(zones, false).ok());
  auto got = store.allocateAddresses("198.51.100.0/24", 1, name("dyn.example.test."));
  REQUIRE(got.ok());
  CHECK(addressTexts(*got) == std::set<std::string>{"198.51.100.2"});

  // The record that used it goes away (zone replaced); the address stays taken.
  std::vector<dnswire::ResourceRecord> records = {dnswire::ResourceRecord{
      name("dyn.example.test."), dnswire::RRType::A, dnswire::RRClass::IN, 60, (*got)[0]}};
  REQUIRE(store.insertRecords(name("example.test."), records).ok());
  std::vector<Zone> replacement = {zoneFrom("example.test.")};
  REQUIRE(store.importZones(replacement, true).ok());
  auto next = store.allocateAddresses("198.51.100.0/24", 2, name("dyn2.example.test."));
  REQUIRE(next.ok());
  CHECK(addressTexts(*next) == std::set<std::string>{"198.51.100.3", "198.51.100.4"});
}

TEST_CASE("store: IPv6 and small IPv4 pools", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  // ::0 of a subnet is the subnet-router anycast address (RFC 4291 §2.6.1).
  auto v6 = store.allocateAddresses("2001:db8:5::/126", 3, name("six.test."));
  REQUIRE(v6.ok());
  CHECK(addressTexts(*v6) == std::set<std::string>{"2001:db8:5::1", "2001:db8:5::2", "2001:db8:5::3"});
  REQUIRE(std::holds_alternative<dnswire::Aaaa>((*v6)[0]));
  auto full = store.allocateAddresses("2001:db8:5::/126", 1, name("six.test."));
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code == StoreError::PoolExhausted);

  // RFC 3021: both addresses of a /31 are usable.
  auto p2p = store.allocateAddresses("192.0.2.10/31", 2, name("p2p.test."));
  REQUIRE(p2p.ok());
  CHECK(addressTexts(*p2p) == std::set<std::string>{"192.0.2.10", "192.0.2.11"});
  auto host = store.allocateAddresses("192.0.2.20/32", 1, name("host.test."));
  REQUIRE(host.ok());
  CHECK(addressTexts(*host) == std::set<std::string>{"192.0.2.20"});

  // An overlapping pool never hands out what another pool gave.
  // 192.0.2.8/29 offers .9 to .14; .10 and .11 are taken: upwards from the highest
  // allocation first, then the gap below.
  auto overlap = store.allocateAddresses("192.0.2.8/29", 3, name("o.test."));
  REQUIRE(overlap.ok());
  CHECK(addressTexts(*overlap) == std::set<std::string>{"192.0.2.12", "192.0.2.13", "192.0.2.14"});
  auto gap = store.allocateAddresses("192.0.2.8/29", 1, name("o.test."));
  REQUIRE(gap.ok());
  CHECK(addressTexts(*gap) == std::set<std::string>{"192.0.2.9"});
  auto none = store.allocateAddresses("192.0.2.8/29", 1, name("o.test."));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == StoreError::PoolExhausted);

  for (const char* bad : {"192.0.2.0", "192.0.2.1/24", "192.0.2.0/33", "300.0.0.0/8", "2001:db8::/129", "x/8",
                          "/8", "1.2.3.0/"}) {
    auto r = store.allocateAddresses(bad, 1, name("x.test."));
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == StoreError::BadPool);
  }
  auto zero = store.allocateAddresses("192.0.2.64/26", 0, name("x.test."));
  REQUIRE(zero.ok());
  CHECK(zero->empty());
}

TEST_CASE("store: a transaction groups ADD's writes; rollback leaves nothing", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  std::vector<Zone> zones = {zoneFrom("example.test.")};
  REQUIRE(store.importZones(zones, false).ok());

  auto addHost = [&](const char* owner, uint32_t expectedSerial) {
    auto tx = store.begin();
    REQUIRE(tx.ok());
    auto addresses = store.allocateAddresses("198.51.100.0/24", 1, name(owner));
    REQUIRE(addresses.ok());
    std::vector<dnswire::ResourceRecord> records = {
        dnswire::ResourceRecord{name(owner), dnswire::RRType::A, dnswire::RRClass::IN, 60, (*addresses)[0]}};
    REQUIRE(store.insertRecords(name("example.test."), records).ok());
    auto serial = store.bumpSerial(name("example.test."));
    REQUIRE(serial.ok());
    CHECK(*serial == expectedSerial);
    return std::move(*tx);
  };

  {
    auto tx = addHost("gone.example.test.", 8);
    // A second begin while one is open is refused.
    CHECK_FALSE(store.begin().ok());
    tx.rollback();
  }
  auto exists = store.nameExists(name("gone.example.test."));
  REQUIRE(exists.ok());
  CHECK_FALSE(*exists);
  CHECK(rawQuery(db.path(), "SELECT count(*) FROM address_allocations") == "0");

  {
    auto tx = addHost("kept.example.test.", 8);
    REQUIRE(tx.commit().ok());
  }
  auto kept = store.nameExists(name("KEPT.Example.test."));
  REQUIRE(kept.ok());
  CHECK(*kept);
  auto list = store.listZones();
  REQUIRE(list.ok());
  CHECK((*list)[0].serial == 8);

  {
    // Destroyed without commit: rolled back.
    auto tx = addHost("dropped.example.test.", 9);
  }
  auto dropped = store.nameExists(name("dropped.example.test."));
  REQUIRE(dropped.ok());
  CHECK_FALSE(*dropped);
  auto after = store.listZones();
  REQUIRE(after.ok());
  CHECK((*after)[0].serial == 8);
}

TEST_CASE("store: createZone, insertRecords and lookups", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  Zone zone = zoneFrom("new.test.");
  REQUIRE(store.createZone(zone).ok());
  auto again = store.createZone(zone);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == StoreError::ZoneExists);

  auto found = store.findZone(name("a.b.NEW.test."));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK(**found == name("new.test."));
  auto notFound = store.findZone(name("other.test."));
  REQUIRE(notFound.ok());
  CHECK_FALSE(notFound->has_value());

  std::vector<dnswire::ResourceRecord> outside = {dnswire::ResourceRecord{
      name("x.other.test."), dnswire::RRType::A, dnswire::RRClass::IN, 60, dnswire::A{{192, 0, 2, 1}}}};
  auto refused = store.insertRecords(name("new.test."), outside);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == StoreError::OutsideZone);
  auto noZone = store.insertRecords(name("other.test."), outside);
  REQUIRE_FALSE(noZone.ok());
  CHECK(noZone.error().code == StoreError::NoSuchZone);
  auto noSerial = store.bumpSerial(name("other.test."));
  REQUIRE_FALSE(noSerial.ok());
  CHECK(noSerial.error().code == StoreError::NoSuchZone);
}

TEST_CASE("store: ADD responses are remembered for replay and pruned", "[unit]") {
  TempDb db;
  auto store = openStore(db.path());
  std::vector<uint8_t> hash = {1, 2, 3, 4};
  std::vector<uint8_t> response = {0xaa, 0xbb};
  REQUIRE(store.rememberAddResponse("127.0.0.1#4242", hash, response, 1000).ok());
  auto hit = store.findAddResponse("127.0.0.1#4242", hash, 950);
  REQUIRE(hit.ok());
  REQUIRE(hit->has_value());
  CHECK(**hit == response);
  auto stale = store.findAddResponse("127.0.0.1#4242", hash, 1001);
  REQUIRE(stale.ok());
  CHECK_FALSE(stale->has_value());
  auto other = store.findAddResponse("127.0.0.1#4243", hash, 0);
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());
  REQUIRE(store.pruneAddResponses(1001).ok());
  auto pruned = store.findAddResponse("127.0.0.1#4242", hash, 0);
  REQUIRE(pruned.ok());
  CHECK_FALSE(pruned->has_value());
}
