#include "proxyd/config.hpp"

#include <catch2/catch.hpp>

using proxyd::RawConfig;
using proxyd::validateConfig;

TEST_CASE("config: defaults", "[unit]") {
  auto config = validateConfig(RawConfig{}, 4);
  REQUIRE(config.ok());
  REQUIRE(config->listen.size() == 1);
  CHECK(config->listen[0].toString() == "127.0.0.1:5353");
  CHECK(config->central.toString() == "127.0.0.1:5300");
  CHECK(config->upstreams.empty());
  CHECK(config->threads == 4);
  CHECK(config->cacheSize == proxyd::kDefaultCacheSize);
  auto loopback = dnswire::server::SocketAddress::parse("127.0.0.9:1").value();
  auto other = dnswire::server::SocketAddress::parse("192.0.2.1:1").value();
  CHECK(config->allow.allows(loopback));
  CHECK_FALSE(config->allow.allows(other));
  CHECK(config->allowAdd.allows(loopback));
}

TEST_CASE("config: bad values name the option", "[unit]") {
  RawConfig raw;
  raw.upstreams = {"192.0.2.1"};
  auto bad = validateConfig(raw, 1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("--upstream") != std::string::npos);

  raw = {};
  raw.central = "localhost:53";
  CHECK_FALSE(validateConfig(raw, 1).ok());
  raw = {};
  raw.allow = {"10.0.0.1/8"};
  auto allow = validateConfig(raw, 1);
  REQUIRE_FALSE(allow.ok());
  CHECK(allow.error().message().find("--allow") != std::string::npos);
  raw = {};
  raw.cacheSize = 0;
  CHECK_FALSE(validateConfig(raw, 1).ok());
  raw = {};
  raw.listen = {"127.0.0.1:53", "127.0.0.1:53"};
  CHECK_FALSE(validateConfig(raw, 1).ok());
  raw = {};
  raw.upstreams = {"[::1]:53", "127.0.0.1:5301"};
  auto two = validateConfig(raw, 1);
  REQUIRE(two.ok());
  CHECK(two->upstreams.size() == 2);
}
