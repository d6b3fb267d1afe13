#include "dnswire/server/log.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace server = dnswire::server;

namespace {

std::vector<std::string>& captured() {
  static std::vector<std::string> lines;
  return lines;
}

void capture(std::string_view line) { captured().emplace_back(line); }

// Captures log lines for one test and restores stderr and quiet mode afterwards.
struct CapturedLog {
  CapturedLog() {
    captured().clear();
    server::setLogSink(&capture);
  }
  ~CapturedLog() {
    server::setLogSink(nullptr);
    server::setLogVerbose(false);
  }
};

}  // namespace

TEST_CASE("query lines format names, addresses and types only when verbose", "[unit]") {
  CapturedLog log;
  const auto client = server::SocketAddress::parse("127.0.0.1:5300");
  REQUIRE(client.ok());
  const auto name = dnswire::Name::fromText("www.Example.test.");
  REQUIRE(name.ok());

  server::setLogVerbose(false);
  server::logQuery("{} {} {}", *client, *name, dnswire::RRType::AAAA);
  CHECK(captured().empty());

  server::setLogVerbose(true);
  server::logQuery("{} {} {}", *client, *name, dnswire::RRType::AAAA);
  REQUIRE(captured().size() == 1);
  CHECK(captured()[0].find("127.0.0.1:5300 www.Example.test. AAAA\n") != std::string::npos);
}

TEST_CASE("an unknown type number is logged in RFC 3597 form", "[unit]") {
  CapturedLog log;
  server::setLogVerbose(true);
  server::logQuery("type {}", static_cast<dnswire::RRType>(65280));
  REQUIRE(captured().size() == 1);
  CHECK(captured()[0].find("type TYPE65280\n") != std::string::npos);
}
