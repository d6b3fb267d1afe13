#include "dnswire/server/address.hpp"

#include <catch2/catch.hpp>

using dnswire::server::Acl;
using dnswire::server::Cidr;
using dnswire::server::SocketAddress;

namespace {

SocketAddress addr(const char* text) {
  auto a = SocketAddress::parse(text);
  REQUIRE(a.ok());
  return *a;
}

}  // namespace

TEST_CASE("SocketAddress parses IPv4 and bracketed IPv6 with ports", "[unit]") {
  auto v4 = addr("127.0.0.1:5300");
  CHECK(v4.isV4());
  CHECK(v4.port() == 5300);
  CHECK(v4.toString() == "127.0.0.1:5300");
  CHECK(v4.addressString() == "127.0.0.1");

  auto v6 = addr("[::1]:53");
  CHECK(v6.isV6());
  CHECK(v6.port() == 53);
  CHECK(v6.toString() == "[::1]:53");

  CHECK(addr("0.0.0.0:0").port() == 0);
  CHECK(addr("[2001:db8::5]:65535").toString() == "[2001:db8::5]:65535");
  CHECK(SocketAddress::parse(v6.toString()).value() == v6);
  CHECK(SocketAddress::loopbackV4(7) == addr("127.0.0.1:7"));
  CHECK(SocketAddress::loopbackV6(7) == addr("[::1]:7"));
  CHECK(addr("127.0.0.1:7") != addr("127.0.0.1:8"));
  CHECK(SocketAddress().toString() == "unset");
}

TEST_CASE("SocketAddress rejects malformed text with a clear reason", "[unit]") {
  const char* bad[] = {"",         "127.0.0.1",    "127.0.0.1:",    "127.0.0.1:65536", "127.0.0.1:-1",
                       "1.2.3:53", "localhost:53", "::1:53",        "[::1]",           "[::1]53",
                       "[::1:53",  "[1.2.3.4]:53", "127.0.0.1:53x", "127.0.0.1:5 3",   "[::1]:99999"};
  for (const char* text : bad) {
    INFO(text);
    auto r = SocketAddress::parse(text);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().message().find("bad address") != std::string::npos);
  }
  auto v6bare = SocketAddress::parse("::1:53");
  REQUIRE_FALSE(v6bare.ok());
  CHECK(v6bare.error().message().find("brackets") != std::string::npos);
}

TEST_CASE("SocketAddress with a default port", "[unit]") {
  CHECK(SocketAddress::parse("127.0.0.1", 53).value().toString() == "127.0.0.1:53");
  CHECK(SocketAddress::parse("::1", 53).value().toString() == "[::1]:53");
  CHECK(SocketAddress::parse("[::1]", 53).value().toString() == "[::1]:53");
  CHECK(SocketAddress::parse("10.1.1.1:99", 53).value().port() == 99);
  CHECK_FALSE(SocketAddress::parse("example.com", 53).ok());
}

TEST_CASE("Cidr parses prefixes and matches v4, v6 and v4-mapped addresses", "[unit]") {
  auto lo = Cidr::parse("127.0.0.0/8").value();
  CHECK(lo.toString() == "127.0.0.0/8");
  CHECK(lo.contains(addr("127.0.0.1:1")));
  CHECK(lo.contains(addr("127.255.255.255:1")));
  CHECK_FALSE(lo.contains(addr("128.0.0.1:1")));
  CHECK_FALSE(lo.contains(addr("[::1]:1")));
  CHECK(lo.contains(addr("[::ffff:127.0.0.9]:1")));

  auto host = Cidr::parse("10.0.0.1").value();
  CHECK(host.prefixLength() == 32);
  CHECK(host.contains(addr("10.0.0.1:53")));
  CHECK_FALSE(host.contains(addr("10.0.0.2:53")));

  auto odd = Cidr::parse("192.168.1.128/25").value();
  CHECK(odd.contains(addr("192.168.1.200:1")));
  CHECK_FALSE(odd.contains(addr("192.168.1.127:1")));

  auto v6 = Cidr::parse("2001:db8::/32").value();
  CHECK(v6.contains(addr("[2001:db8:1::1]:1")));
  CHECK_FALSE(v6.contains(addr("[2001:db9::1]:1")));
  CHECK_FALSE(v6.contains(addr("32.1.13.184:1")));
  CHECK(Cidr::parse("::1").value().prefixLength() == 128);
  CHECK(Cidr::parse("::1/128").value().contains(addr("[::1]:5")));

  auto all = Cidr::parse("0.0.0.0/0").value();
  CHECK(all.contains(addr("8.8.8.8:53")));
  CHECK(Cidr::parse("::/0").value().contains(addr("[2001:db8::1]:1")));
}

TEST_CASE("Cidr rejects bad input", "[unit]") {
  const char* bad[] = {"",         "10.0.0.0/33", "::/129",       "10.0.0.1/8", "10.0.0.0/",   "10.0.0.0/x",
                       "10.0.0/8", "host/8",      "10.0.0.0/8/8", "::1/-1",     "10.0.0.0/ 8", "[::1]/128"};
  for (const char* text : bad) {
    INFO(text);
    auto r = Cidr::parse(text);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().message().find("bad CIDR") != std::string::npos);
  }
}

TEST_CASE("Acl defaults to loopback and checks in order", "[unit]") {
  auto lo = Acl::loopbackOnly();
  CHECK(lo.allows(addr("127.0.0.1:1")));
  CHECK(lo.allows(addr("[::1]:1")));
  CHECK_FALSE(lo.allows(addr("10.0.0.1:1")));
  CHECK_FALSE(lo.allows(addr("[::2]:1")));

  auto defaulted = Acl::parse({});
  REQUIRE(defaulted.ok());
  CHECK(defaulted->entries().size() == 2);
  CHECK(Acl::parse({}, false).value().empty());
  CHECK_FALSE(Acl().allows(addr("127.0.0.1:1")));

  auto custom = Acl::parse({"10.0.0.0/8", "2001:db8::/32"});
  REQUIRE(custom.ok());
  CHECK(custom->allows(addr("10.9.9.9:1")));
  CHECK(custom->allows(addr("[2001:db8::7]:1")));
  CHECK_FALSE(custom->allows(addr("127.0.0.1:1")));

  auto bad = Acl::parse({"10.0.0.0/8", "nonsense"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("nonsense") != std::string::npos);
}
