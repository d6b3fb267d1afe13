// Publication of snapshots and the reload watcher, driven by fake version/load functions.

#include "centrald/zone_watcher.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "centrald/config.hpp"
#include "centrald/snapshot_holder.hpp"
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

}  // namespace

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

TEST_CASE("the watcher reloads when the version changes, and only then", "[unit]") {
  std::atomic<uint64_t> version{1};
  std::atomic<int> loads{0};
  std::mutex mutex;
  std::vector<dnswire::Zone> zones{zoneNamed("a.test.")};
  SnapshotHolder holder(nullptr);
  ZoneWatcher watcher(
      holder, [&]() -> dnswire::Result<uint64_t> { return version.load(); },
      [&]() -> dnswire::Result<std::vector<dnswire::Zone>> {
        ++loads;
        std::lock_guard lock(mutex);
        return zones;
      },
      nullptr, 10ms);
  REQUIRE(watcher.reload().ok());
  CHECK(holder.current()->zoneCount() == 1);
  watcher.start();
  std::this_thread::sleep_for(60ms);
  CHECK(loads == 1);  // unchanged version: no reload
  {
    std::lock_guard lock(mutex);
    zones.push_back(zoneNamed("b.test."));
  }
  version = 2;
  CHECK(waitFor([&] { return holder.current()->zoneCount() == 2; }, 2000ms));
  watcher.stop();
  watcher.stop();  // idempotent
}

TEST_CASE("a failed reload keeps the current snapshot", "[unit]") {
  std::atomic<uint64_t> version{1};
  std::atomic<bool> failing{false};
  std::vector<std::string> logged;
  std::mutex logMutex;
  SnapshotHolder holder(nullptr);
  ZoneWatcher watcher(
      holder, [&]() -> dnswire::Result<uint64_t> { return version.load(); },
      [&]() -> dnswire::Result<std::vector<dnswire::Zone>> {
        if (failing) return dnswire::Error(dnswire::WireError::BadText, "database is broken");
        return std::vector<dnswire::Zone>{zoneNamed("a.test.")};
      },
      [&](const std::string& line) {
        std::lock_guard lock(logMutex);
        logged.push_back(line);
      },
      10ms);
  REQUIRE(watcher.reload().ok());
  failing = true;
  CHECK_FALSE(watcher.reload().ok());
  CHECK(holder.current()->zoneCount() == 1);
  watcher.start();
  version = 5;
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
