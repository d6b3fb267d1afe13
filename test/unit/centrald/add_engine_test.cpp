#include "centrald/add/add_engine.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "centrald/add/add_service.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/zonefile.hpp"

using namespace centrald;
using dnswire::Name;
using dnswire::Rcode;
using dnswire::RRType;

namespace {

Name nameOf(std::string_view text) {
  auto n = Name::fromText(text);
  REQUIRE(n.ok());
  return *n;
}

const char* kZone = R"($ORIGIN example.test.
$TTL 3600
@     IN SOA ns1 hostmaster 100 7200 900 1209600 300
      IN NS  ns1
ns1   IN A   192.0.2.53
taken IN A   192.0.2.10
)";

// A fresh database file in the temp directory, removed at the end.
struct TempDb {
  std::filesystem::path path;
  TempDb() {
    std::random_device random;
    path = std::filesystem::temp_directory_path() / ("add_engine_test_" + std::to_string(random()) + ".db");
    auto store = Store::open(path.string());
    REQUIRE(store.ok());
    auto zone = dnswire::parseZoneText(kZone, "example.test.zone");
    REQUIRE(zone.ok());
    std::vector<dnswire::Zone> zones{*zone};
    REQUIRE(store->importZones(zones, false).ok());
  }
  ~TempDb() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  }
  Store open(StoreOptions options = {}) {
    auto store = Store::open(path.string(), options);
    REQUIRE(store.ok());
    return std::move(*store);
  }
};

AddOptions poolOptions(const char* pool = "10.0.0.0/29") {
  AddOptions options;
  auto cidr = dnswire::server::Cidr::parse(pool);
  REQUIRE(cidr.ok());
  options.pool = *cidr;
  return options;
}

AddItem item(std::string_view name, uint16_t id, size_t placeholders, std::vector<std::string> aliases = {},
             std::string client = "127.0.0.1") {
  AddItem it;
  it.request.id = id;
  it.request.question = {nameOf(name), RRType::A, dnswire::RRClass::IN};
  for (size_t i = 0; i < placeholders; ++i)
    it.request.records.push_back(dnswire::makeAddPlaceholder(nameOf(name), RRType::A, 300));
  for (const auto& alias : aliases)
    it.request.records.push_back(
        {nameOf(alias), RRType::CNAME, dnswire::RRClass::IN, 300, dnswire::Cname{nameOf(name)}});
  it.requestHeader.id = id;
  it.requestHeader.opcode = dnswire::Opcode::Add;
  it.clientKey = client + "#" + std::to_string(id);
  it.digest = dnswire::hmacSha256({}, std::vector<uint8_t>(name.begin(), name.end()));
  it.client = client;
  return it;
}

std::vector<AddOutcome> apply(AddEngine& engine, std::vector<AddItem> items, bool expectCommit = true) {
  bool committed = false;
  auto outcomes = engine.applyBatch(items, committed);
  CHECK(committed == expectCommit);
  REQUIRE(outcomes.size() == items.size());
  return outcomes;
}

dnswire::AddResponse decoded(const AddOutcome& outcome) {
  auto response = dnswire::decodeAddResponse(outcome.response);
  REQUIRE(response.ok());
  return *response;
}

uint32_t serialOf(Store& store, const char* zone) {
  auto exported = store.exportZone(nameOf(zone));
  REQUIRE(exported.ok());
  return std::get<dnswire::Soa>(exported->records.front().data).serial;
}

// Rows of the replay table, read through a connection of its own.
int64_t addRequestRows(const TempDb& db) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.path.string().c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, "SELECT count(*) FROM add_requests", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const int64_t rows = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return rows;
}

}  // namespace

TEST_CASE("ADD into a held zone stores the records and bumps the serial", "[unit]") {
  TempDb db;
  dnswire::server::ManualClock clock;
  AddEngine engine(db.open(), poolOptions(), clock);
  auto outcomes = apply(engine, {item("web.example.test.", 1, 2, {"www.example.test."})});
  REQUIRE(outcomes[0].rcode == Rcode::NoError);
  CHECK(outcomes[0].applied);
  auto response = decoded(outcomes[0]);
  CHECK(response.header.qr);
  CHECK(response.header.opcode == dnswire::Opcode::Add);
  REQUIRE(response.records.size() == 3);
  CHECK(dnswire::typeInfo(RRType::A).toText(response.records[0].data) == "10.0.0.1");
  CHECK(dnswire::typeInfo(RRType::A).toText(response.records[1].data) == "10.0.0.2");
  CHECK(response.records[0].cls == dnswire::RRClass::IN);
  CHECK(response.records[2].type == RRType::CNAME);

  auto store = db.open();
  CHECK(serialOf(store, "example.test.") == 101);
  CHECK(*store.nameExists(nameOf("web.example.test.")));
  CHECK(*store.nameExists(nameOf("www.example.test.")));
}

TEST_CASE("ADD outside every zone creates one with a synthesized SOA and NS", "[unit]") {
  TempDb db;
  dnswire::server::ManualClock clock;
  AddEngine engine(db.open(), poolOptions(), clock);
  auto outcomes = apply(engine, {item("shop.new.", 1, 1, {"www.shop.new."})});
  REQUIRE(outcomes[0].rcode == Rcode::NoError);
  auto response = decoded(outcomes[0]);
  REQUIRE(response.records.size() == 4);
  CHECK(response.records[0].type == RRType::SOA);
  CHECK(response.records[1].type == RRType::NS);
  auto store = db.open();
  auto zone = store.exportZone(nameOf("shop.new."));
  REQUIRE(zone.ok());
  CHECK(zone->records.size() == 4);
  CHECK(zone->records[0].type == RRType::SOA);

  SECTION("an alias in no held zone is FORMERR and changes nothing") {
    auto bad = apply(engine, {item("other.new.", 2, 1, {"elsewhere.invalid."})});
    CHECK(bad[0].rcode == Rcode::FormErr);
    CHECK_FALSE(*db.open().hasZone(nameOf("other.new.")));
  }
}

TEST_CASE("an existing NAME or alias is YXDOMAIN and nothing changes", "[unit]") {
  TempDb db;
  dnswire::server::ManualClock clock;
  AddEngine engine(db.open(), poolOptions(), clock);
  auto outcomes = apply(
      engine, {item("taken.example.test.", 1, 1), item("fresh.example.test.", 2, 1, {"taken.example.test."}),
               item("dup.example.test.", 3, 1), item("dup.example.test.", 4, 1)});
  CHECK(outcomes[0].rcode == Rcode::YXDomain);
  CHECK(outcomes[1].rcode == Rcode::YXDomain);
  CHECK(outcomes[2].rcode == Rcode::NoError);
  CHECK(outcomes[3].rcode == Rcode::YXDomain);  // the same batch sees its earlier requests
  auto store = db.open();
  CHECK_FALSE(*store.nameExists(nameOf("fresh.example.test.")));
  CHECK(serialOf(store, "example.test.") == 101);  // only dup. changed the zone
  // Only dup. got an address: the next one is 10.0.0.2.
  auto next = apply(engine, {item("next.example.test.", 5, 1)});
  CHECK(dnswire::typeInfo(RRType::A).toText(decoded(next[0]).records[0].data) == "10.0.0.2");
}

TEST_CASE("a retransmission within a minute gets the first answer, even after a restart", "[unit]") {
  TempDb db;
  dnswire::server::ManualClock clock;
  std::vector<uint8_t> first;
  {
    AddEngine engine(db.open(), poolOptions(), clock);
    auto outcomes = apply(engine, {item("r.example.test.", 7, 1)});
    REQUIRE(outcomes[0].rcode == Rcode::NoError);
    first = outcomes[0].response;
    clock.advance(std::chrono::seconds(10));
    auto again = apply(engine, {item("r.example.test.", 7, 1)});
    CHECK(again[0].replayed);
    CHECK_FALSE(again[0].applied);
    CHECK(again[0].response == first);
    // Same content from another source, or with another ID: a new request (YXDOMAIN).
    CHECK(apply(engine, {item("r.example.test.", 7, 1, {}, "127.0.0.9")})[0].rcode == Rcode::YXDomain);
    CHECK(apply(engine, {item("r.example.test.", 8, 1)})[0].rcode == Rcode::YXDomain);
  }
  // A new engine (a restarted centrald) finds the answer in the database.
  AddEngine restarted(db.open(), poolOptions(), clock);
  auto replay = apply(restarted, {item("r.example.test.", 7, 1)});
  CHECK(replay[0].replayed);
  CHECK(replay[0].response == first);
  // After the window it is a new request.
  clock.advance(std::chrono::seconds(61));
  auto late = apply(restarted, {item("r.example.test.", 7, 1)});
  CHECK_FALSE(late[0].replayed);
  CHECK(late[0].rcode == Rcode::YXDomain);
}

TEST_CASE("the replay table keeps about a minute of answers, whatever the ADD rate", "[unit]") {
  // The answers to replay live in add_requests only: a steady stream of ADDs must not
  // grow it (nor centrald's memory) past the window.
  TempDb db;
  dnswire::server::ManualClock clock;
  AddEngine engine(db.open(), poolOptions("10.0.0.0/24"), clock);
  for (uint16_t id = 1; id <= 40; ++id) {
    auto outcomes = apply(engine, {item("s" + std::to_string(id) + ".example.test.", id, 1)});
    REQUIRE(outcomes[0].rcode == Rcode::NoError);
    clock.advance(std::chrono::seconds(5));  // 40 ADDs over 200 s
  }
  // Pruned once a window: between one and two windows of answers (12 to 24 at this rate).
  CHECK(addRequestRows(db) <= 24);
  CHECK(addRequestRows(db) >= 12);
  clock.advance(std::chrono::seconds(kReplayWindowSeconds + 1));
  REQUIRE(apply(engine, {item("last.example.test.", 99, 1)})[0].rcode == Rcode::NoError);
  CHECK(addRequestRows(db) == 1);  // every older answer is past the window
}

TEST_CASE("the write connection's page cache stays under its cap however many ADDs it stores", "[unit]") {
  // At SQLite's default cap (2,000 KiB) every page the writer creates stays cached: a
  // steady stream of ADDs grew centrald by ~470 bytes each until the cap.
  TempDb db;
  dnswire::server::ManualClock clock;
  AddEngine engine(db.open(), poolOptions("10.0.0.0/16"), clock);
  uint16_t id = 0;
  for (int batch = 0; batch < 100; ++batch) {
    std::vector<AddItem> items;
    for (int i = 0; i < 50; ++i, ++id)
      items.push_back(item("n" + std::to_string(id) + ".example.test.", id, 1));
    auto outcomes = apply(engine, items);
    REQUIRE(outcomes.back().rcode == Rcode::NoError);
    clock.advance(std::chrono::seconds(1));
  }
  // A page costs a little more than its 4,096 bytes (SQLite's header for it).
  INFO("page cache: " << engine.store().pageCacheBytes() << " bytes");
  CHECK(engine.store().pageCacheBytes() <= kWriterPageCacheKiB * 1024 * 5 / 4);
}

TEST_CASE("pool exhausted is SERVFAIL, no pool for the family is REFUSED", "[unit]") {
  TempDb db;
  dnswire::server::ManualClock clock;
  AddEngine engine(db.open(), poolOptions("10.0.0.0/30"), clock);  // two usable addresses
  auto outcomes = apply(engine, {item("a.example.test.", 1, 2), item("b.example.test.", 2, 1)});
  CHECK(outcomes[0].rcode == Rcode::NoError);
  CHECK(outcomes[1].rcode == Rcode::ServFail);
  CHECK_FALSE(*db.open().nameExists(nameOf("b.example.test.")));

  AddEngine noPool(db.open(), AddOptions{}, clock);
  CHECK(apply(noPool, {item("c.example.test.", 3, 1)})[0].rcode == Rcode::Refused);
}

TEST_CASE("a database failure fails the whole batch with SERVFAIL and logs why", "[unit]") {
  TempDb db;
  dnswire::server::ManualClock clock;
  std::vector<std::string> lines;
  StoreOptions readOnly;
  readOnly.readOnly = true;
  AddEngine engine(db.open(readOnly), poolOptions(), clock,
                   [&](const std::string& line) { lines.push_back(line); });
  auto outcomes = apply(engine, {item("x.example.test.", 1, 1), item("y.example.test.", 2, 1)}, false);
  for (const auto& outcome : outcomes) {
    CHECK(outcome.rcode == Rcode::ServFail);
    CHECK(decoded(outcome).rcode() == static_cast<uint16_t>(Rcode::ServFail));
  }
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back().find("read-only") != std::string::npos);
  CHECK_FALSE(*db.open().nameExists(nameOf("x.example.test.")));
}

TEST_CASE("answers to signed requests are signed with the request MAC", "[unit]") {
  TempDb db;
  dnswire::server::ManualClock clock;
  auto key = dnswire::parseTsigKey("hmac-sha256:k.:c2VjcmV0c2VjcmV0c2VjcmV0");
  REQUIRE(key.ok());
  AddEngine engine(db.open(), poolOptions(), clock);
  auto it = item("s.example.test.", 1, 1);
  const std::vector<uint8_t> requestMac(32, 0xab);
  it.tsig = TsigReply{*key, requestMac};
  auto outcomes = apply(engine, {it});
  REQUIRE(outcomes[0].rcode == Rcode::NoError);
  auto check = dnswire::tsigVerify(outcomes[0].response, *key, clock.wallSeconds(), requestMac);
  REQUIRE(check.ok());
  CHECK(check->present);
  CHECK(check->error == dnswire::TsigError::NoError);
}

TEST_CASE("an oversized UDP answer is cut to header and question with TC", "[unit]") {
  auto it = item("t.example.test.", 9, 1);
  auto full = dnswire::encodeAddResponse(it.requestHeader, &it.request.question, Rcode::NoError,
                                         it.request.records, false);
  REQUIRE(full.ok());
  auto cut = truncateAddResponse(*full, it);
  auto response = dnswire::decodeAddResponse(cut);
  REQUIRE(response.ok());
  CHECK(response->header.tc);
  CHECK(response->records.empty());
  CHECK(response->question == it.request.question);
}

TEST_CASE("a committed batch reports what it did to each zone, and logs only after COMMIT", "[unit]") {
  TempDb db;
  dnswire::server::ManualClock clock;
  std::vector<std::string> lines;
  AddEngine engine(db.open(), poolOptions(), clock, [&](const std::string& line) { lines.push_back(line); });
  auto reader = db.open();
  const auto before = reader.zoneVersion(nameOf("example.test."));
  REQUIRE(before.ok());
  REQUIRE(before->has_value());

  std::vector<AddItem> items{item("a.example.test.", 1, 1), item("new.test.", 2, 1),
                             item("b.example.test.", 3, 2), item("c.new.test.", 4, 1),
                             item("taken.example.test.", 5, 1)};
  bool committed = false;
  std::vector<ZoneChange> changes;
  auto outcomes = engine.applyBatch(items, committed, &changes);
  REQUIRE(committed);
  CHECK(outcomes[4].rcode == Rcode::YXDomain);
  REQUIRE(changes.size() == 2);

  const auto& held = changes[0];
  CHECK(held.origin == nameOf("example.test."));
  CHECK_FALSE(held.created);
  CHECK(held.zoneId == (*before)->id);
  CHECK(held.generationBefore == (*before)->generation);
  auto after = reader.zoneVersion(nameOf("example.test."));
  REQUIRE(after.ok());
  CHECK(held.generationAfter == (*after)->generation);
  CHECK(held.generationAfter > held.generationBefore);
  REQUIRE(held.added.size() == 3);  // a, and b's two addresses
  CHECK(held.added[0].owner == nameOf("a.example.test."));
  CHECK(held.serial == 102);  // two ADDs, two bumps
  CHECK(held.serial == serialOf(reader, "example.test."));

  const auto& created = changes[1];
  CHECK(created.origin == nameOf("new.test."));
  CHECK(created.created);
  REQUIRE(created.added.size() == 4);  // SOA, NS, its address, then c's address
  CHECK(created.added[0].type == RRType::SOA);
  CHECK(created.added[3].owner == nameOf("c.new.test."));
  CHECK(created.serial == 2);
  auto createdVersion = reader.zoneVersion(nameOf("new.test."));
  REQUIRE(createdVersion.ok());
  CHECK(created.zoneId == (*createdVersion)->id);
  CHECK(created.generationAfter == (*createdVersion)->generation);

  // One success line per applied ADD, written after the commit.
  size_t added = 0;
  for (const auto& line : lines) added += line.find(" records (") != std::string::npos;
  CHECK(added == 4);

  // A failed batch logs no success and reports no change.
  lines.clear();
  StoreOptions readOnly;
  readOnly.readOnly = true;
  AddEngine failing(db.open(readOnly), poolOptions(), clock,
                    [&](const std::string& line) { lines.push_back(line); });
  std::vector<AddItem> more{item("d.example.test.", 6, 1)};
  failing.applyBatch(more, committed, &changes);
  CHECK_FALSE(committed);
  CHECK(changes.empty());
  for (const auto& line : lines) CHECK(line.find(" records (") == std::string::npos);
}

TEST_CASE("consecutive transactions of a round merge into one change per zone", "[unit]") {
  ZoneChange first;
  first.origin = nameOf("example.test.");
  first.zoneId = 1;
  first.generationBefore = 10;
  first.generationAfter = 12;
  first.added.resize(1);
  first.serial = 5;
  ZoneChange second = first;
  second.generationBefore = 12;
  second.generationAfter = 15;
  second.serial = 6;
  ZoneChange foreign = first;  // another writer committed in between: kept apart
  foreign.generationBefore = 17;
  foreign.generationAfter = 18;
  std::vector<ZoneChange> round;
  mergeZoneChanges(round, {first});
  mergeZoneChanges(round, {second});
  REQUIRE(round.size() == 1);
  CHECK(round[0].generationBefore == 10);
  CHECK(round[0].generationAfter == 15);
  CHECK(round[0].added.size() == 2);
  CHECK(round[0].serial == 6);
  mergeZoneChanges(round, {foreign});
  CHECK(round.size() == 2);
}
