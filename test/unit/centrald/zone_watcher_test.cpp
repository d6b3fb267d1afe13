// Publication of snapshots and the reload watcher, driven by fake version/load functions.

#include "centrald/zone_watcher.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "centrald/config.hpp"
#include "centrald/snapshot_holder.hpp"
#include "centrald/store/store_error.hpp"
#include "centrald/zone_change.hpp"
#include "dnswire/zonefile.hpp"

using namespace std::chrono_literals;
using centrald::SnapshotHolder;
using centrald::SnapshotReader;
using centrald::ZoneSnapshot;
using centrald::ZoneWatcher;

namespace {

dnswire::Zone zoneNamed(const std::string& origin) {
  auto zone = dnswire::parseZoneText("@ 60 IN SOA ns admin 1 2 3 4 5\n@ 60 NS ns\nns 60 A 192.0.2.1\n",
                                     "t.zone", *dnswire::Name::fromText(origin));
  REQUIRE(zone.ok());
  return *zone;
}

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

TEST_CASE("a reader sees a published snapshot at its next get", "[unit]") {
  SnapshotHolder holder(ZoneSnapshot::build({zoneNamed("a.test.")}));
  SnapshotReader reader(holder);
  CHECK(reader.get().zoneCount() == 1);
  const auto generation = holder.generation();
  holder.publish(ZoneSnapshot::build({zoneNamed("a.test."), zoneNamed("b.test.")}));
  CHECK(holder.generation() == generation + 1);
  CHECK(reader.get().zoneCount() == 2);
  holder.publish(nullptr);  // ignored
  CHECK(reader.get().zoneCount() == 2);
  SnapshotHolder empty(nullptr);
  CHECK(empty.current()->zoneCount() == 0);
}

// A store stand-in: zones by origin, each with a version; counts the loads per zone.
struct FakeStore {
  struct Entry {
    int64_t id = 0;
    uint64_t generation = 0;
    std::string origin;
    std::string body;
  };
  std::mutex mutex;
  uint64_t dataVersion = 1;
  std::map<std::string, Entry> zones;
  std::map<std::string, int> loads;
  bool failing = false;

  void put(const std::string& origin, int64_t id, uint64_t generation, const std::string& body = "") {
    std::lock_guard lock(mutex);
    zones[origin] = Entry{id, generation, origin, body};
    ++dataVersion;
  }
  void erase(const std::string& origin) {
    std::lock_guard lock(mutex);
    zones.erase(origin);
    ++dataVersion;
  }
  int loadsOf(const std::string& origin) {
    std::lock_guard lock(mutex);
    return loads[origin];
  }

  ZoneWatcher::Source source() {
    ZoneWatcher::Source s;
    s.dataVersion = [this]() -> dnswire::Result<uint64_t> {
      std::lock_guard lock(mutex);
      return dataVersion;
    };
    s.zoneVersions = [this]() -> dnswire::Result<std::vector<centrald::ZoneVersion>> {
      std::lock_guard lock(mutex);
      std::vector<centrald::ZoneVersion> out;
      for (const auto& [origin, e] : zones)
        out.push_back({*dnswire::Name::fromText(origin), e.id, e.generation});
      return out;
    };
    s.loadZone = [this](const dnswire::Name& origin) -> dnswire::Result<std::shared_ptr<centrald::ZoneData>> {
      std::lock_guard lock(mutex);
      const std::string key = origin.toText();
      ++loads[key];
      if (failing) return dnswire::Error(dnswire::WireError::BadText, "database is broken");
      auto it = zones.find(key);
      if (it == zones.end()) return dnswire::Error(centrald::StoreError::NoSuchZone, "no zone " + key);
      auto zone = dnswire::parseZoneText(
          "@ 60 IN SOA ns admin 1 2 3 4 5\n@ 60 NS ns\nns 60 A 192.0.2.1\n" + it->second.body, "t.zone",
          origin);
      if (!zone) return zone.error();
      return centrald::ZoneData::build(*zone);
    };
    return s;
  }
};

const centrald::ZoneData* baseOf(const SnapshotHolder& holder, const std::string& origin) {
  auto view = holder.current()->zone(*dnswire::Name::fromText(origin));
  return view ? view->base().get() : nullptr;
}

dnswire::Name nameOf(const std::string& text) { return *dnswire::Name::fromText(text); }

dnswire::ResourceRecord aRecord(const std::string& owner, uint8_t last) {
  return {nameOf(owner), dnswire::RRType::A, dnswire::RRClass::IN, 60, dnswire::A{{10, 0, 0, last}}};
}

}  // namespace

TEST_CASE("the watcher reloads only the zones whose version changed", "[unit]") {
  FakeStore store;
  store.put("a.test.", 1, 10);
  store.put("b.test.", 2, 20);
  SnapshotHolder holder(nullptr);
  ZoneWatcher watcher(holder, store.source(), nullptr, 10ms);
  REQUIRE(watcher.reload().ok());
  CHECK(holder.current()->zoneCount() == 2);
  const auto* a = baseOf(holder, "a.test.");
  const auto* b = baseOf(holder, "b.test.");
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);

  watcher.start();
  std::this_thread::sleep_for(60ms);
  CHECK(store.loadsOf("a.test.") == 1);  // unchanged data version: nothing read
  CHECK(store.loadsOf("b.test.") == 1);

  // b changes: only b is rebuilt; a keeps the very same ZoneData.
  store.put("b.test.", 2, 21, "new 60 A 192.0.2.9\n");
  CHECK(waitFor([&] { return baseOf(holder, "b.test.") != b; }, 2000ms));
  CHECK(baseOf(holder, "a.test.") == a);
  CHECK(store.loadsOf("a.test.") == 1);
  CHECK(store.loadsOf("b.test.") == 2);
  CHECK(holder.current()->findZone(nameOf("new.b.test."))->findNode(nameOf("new.b.test.")) != nullptr);

  // A new zone comes, a removed one goes; a zone re-created under the same name (new id,
  // same generation) is reloaded.
  store.put("c.test.", 3, 30);
  store.erase("b.test.");
  CHECK(waitFor([&] { return holder.current()->zone(nameOf("c.test.")) != nullptr; }, 2000ms));
  CHECK(waitFor([&] { return holder.current()->zone(nameOf("b.test.")) == nullptr; }, 2000ms));
  CHECK(baseOf(holder, "a.test.") == a);
  store.put("a.test.", 4, 10);
  CHECK(waitFor([&] { return baseOf(holder, "a.test.") != a; }, 2000ms));
  CHECK(store.loadsOf("a.test.") == 2);
  CHECK(store.loadsOf("c.test.") == 1);
  watcher.stop();
  watcher.stop();  // idempotent
}

TEST_CASE("ADD changes are published on top of the served zone, without loading it", "[unit]") {
  FakeStore store;
  store.put("a.test.", 1, 10);
  store.put("b.test.", 2, 20);
  SnapshotHolder holder(nullptr);
  ZoneWatcher watcher(holder, store.source(), nullptr, 10ms);
  REQUIRE(watcher.reload().ok());
  const auto* a = baseOf(holder, "a.test.");
  const auto* b = baseOf(holder, "b.test.");

  // The writer's round: a.test. from generation 10 to 12, a new zone n.test..
  watcher.beginWrites();
  store.put("a.test.", 1, 12, "h1 60 A 10.0.0.1\n");
  store.put("n.test.", 3, 40, "h 60 A 10.0.0.3\n");
  centrald::ZoneChange change;
  change.origin = nameOf("a.test.");
  change.zoneId = 1;
  change.generationBefore = 10;
  change.generationAfter = 12;
  change.added = {aRecord("h1.a.test.", 1)};
  change.serial = 2;
  centrald::ZoneChange created;
  created.origin = nameOf("n.test.");
  created.zoneId = 3;
  created.created = true;
  created.generationAfter = 40;
  auto soa = dnswire::parseZoneText("@ 60 IN SOA ns admin 1 2 3 4 5\n", "n.zone", nameOf("n.test."));
  REQUIRE(soa.ok());
  created.added = {soa->records[0], aRecord("h.n.test.", 3)};
  created.serial = 1;
  REQUIRE(watcher.publishChanges({change, created}).ok());

  auto view = holder.current()->zone(nameOf("a.test."));
  REQUIRE(view != nullptr);
  CHECK(view->base().get() == a);  // the base is shared, not rebuilt
  CHECK(view->delta() != nullptr);
  CHECK(view->findNode(nameOf("h1.a.test.")) != nullptr);
  CHECK(std::get<dnswire::Soa>(view->soa->typed.front()).serial == 2);
  CHECK(baseOf(holder, "b.test.") == b);
  CHECK(holder.current()->zone(nameOf("n.test."))->findNode(nameOf("h.n.test.")) != nullptr);
  CHECK(store.loadsOf("a.test.") == 1);
  CHECK(store.loadsOf("n.test.") == 0);
  CHECK(watcher.zonesLoaded() == 2);

  // The poll finds every version as published: nothing is loaded.
  watcher.start();
  std::this_thread::sleep_for(80ms);
  CHECK(store.loadsOf("a.test.") == 1);
  CHECK(store.loadsOf("n.test.") == 0);
  watcher.stop();

  // Another process wrote a.test. (13) before our write (13 -> 14): the base is stale,
  // so the zone is loaded from the store, never overlaid.
  store.put("a.test.", 1, 14, "h1 60 A 10.0.0.1\nother 60 A 10.0.0.7\nh2 60 A 10.0.0.2\n");
  change.generationBefore = 13;
  change.generationAfter = 14;
  change.added = {aRecord("h2.a.test.", 2)};
  change.serial = 3;
  watcher.beginWrites();
  REQUIRE(watcher.publishChanges({change}).ok());
  CHECK(store.loadsOf("a.test.") == 2);
  view = holder.current()->zone(nameOf("a.test."));
  CHECK(view->delta() == nullptr);
  CHECK(view->findNode(nameOf("other.a.test.")) != nullptr);
  CHECK(view->findNode(nameOf("h2.a.test.")) != nullptr);
}

TEST_CASE("a delta past the limit is compacted by loading the zone", "[unit]") {
  FakeStore store;
  std::string body;
  for (int i = 0; i < 600; ++i) body += "base" + std::to_string(i) + " 60 A 10.1.0.1\n";
  store.put("a.test.", 1, 10, body);
  SnapshotHolder holder(nullptr);
  ZoneWatcher watcher(holder, store.source(), nullptr, 10ms);
  REQUIRE(watcher.reload().ok());
  // 602 names: the delta may hold 75 (one eighth).
  uint64_t generation = 10;
  for (int i = 0; i < 80; ++i) {
    const std::string owner = "add" + std::to_string(i) + ".a.test.";
    body += "add" + std::to_string(i) + " 60 A 10.2.0.1\n";
    store.put("a.test.", 1, generation + 1, body);
    centrald::ZoneChange change;
    change.origin = nameOf("a.test.");
    change.zoneId = 1;
    change.generationBefore = generation;
    change.generationAfter = ++generation;
    change.added = {aRecord(owner, 1)};
    change.serial = static_cast<uint32_t>(2 + i);
    watcher.beginWrites();
    REQUIRE(watcher.publishChanges({change}).ok());
    auto view = holder.current()->zone(nameOf("a.test."));
    INFO("after add " << i);
    CHECK(view->findNode(nameOf(owner)) != nullptr);
    CHECK(view->addedNames() <= 75);
  }
  CHECK(store.loadsOf("a.test.") == 2);  // the first load and one compaction
}

TEST_CASE("a failed reload keeps the current snapshot", "[unit]") {
  FakeStore store;
  store.put("a.test.", 1, 10);
  std::vector<std::string> logged;
  std::mutex logMutex;
  SnapshotHolder holder(nullptr);
  ZoneWatcher watcher(
      holder, store.source(),
      [&](const std::string& line) {
        std::lock_guard lock(logMutex);
        logged.push_back(line);
      },
      10ms);
  REQUIRE(watcher.reload().ok());
  {
    std::lock_guard lock(store.mutex);
    store.failing = true;
  }
  store.put("a.test.", 1, 11);
  CHECK_FALSE(watcher.reload().ok());
  CHECK(holder.current()->zoneCount() == 1);
  store.put("a.test.", 1, 12);
  watcher.start();
  CHECK(waitFor(
      [&] {
        std::lock_guard lock(logMutex);
        return !logged.empty();
      },
      2000ms));
  watcher.stop();
  CHECK(holder.current()->zoneCount() == 1);
  std::lock_guard lock(logMutex);
  CHECK(logged.front().find("database is broken") != std::string::npos);
}

TEST_CASE("config validation", "[unit]") {
  centrald::RawConfig raw;
  auto defaults = centrald::validateConfig(raw, 4);
  REQUIRE(defaults.ok());
  CHECK(defaults->db == "central.db");
  CHECK(defaults->threads == 4);
  REQUIRE(defaults->listen.size() == 1);
  CHECK(defaults->listen[0].toString() == "127.0.0.1:5300");
  CHECK_FALSE(defaults->tsigKey.has_value());

  raw.listen = {"127.0.0.1:5300", "[::1]:5300"};
  raw.pool = "10.77.0.0/16";
  raw.allowAdd = {"127.0.0.0/8"};
  raw.tsigKey = "hmac-sha256:key.test.:c2VjcmV0c2VjcmV0c2VjcmV0";
  auto full = centrald::validateConfig(raw, 1);
  REQUIRE(full.ok());
  CHECK(full->listen.size() == 2);
  REQUIRE(full->tsigKey.has_value());
  CHECK(full->tsigKey->secret.size() == 18);

  for (auto bad : std::vector<std::pair<std::string, std::function<void(centrald::RawConfig&)>>>{
           {"listen", [](auto& r) { r.listen = {"localhost:53"}; }},
           {"listen twice",
            [](auto& r) {
              r.listen = {"127.0.0.1:1", "127.0.0.1:1"};
            }},
           {"pool", [](auto& r) { r.pool = "10.0.0.1/8"; }},
           {"allow-add", [](auto& r) { r.allowAdd = {"nonsense"}; }},
           {"tsig algorithm", [](auto& r) { r.tsigKey = "hmac-md5:k:c2VjcmV0"; }},
           {"tsig shape", [](auto& r) { r.tsigKey = "hmac-sha256"; }},
           {"tsig secret", [](auto& r) { r.tsigKey = "hmac-sha256:k:!!!"; }},
           {"db", [](auto& r) { r.db = ""; }},
       }) {
    centrald::RawConfig r;
    bad.second(r);
    auto result = centrald::validateConfig(r, 1);
    INFO(bad.first);
    CHECK_FALSE(result.ok());
    if (!result.ok()) CHECK(result.error().message().find('\n') == std::string::npos);
  }
}
