// AddressPool: which addresses of a CIDR block ADD may hand out.

#include <catch2/catch.hpp>

#include "centrald/store/address_pool.hpp"
#include "centrald/store/store_error.hpp"

using centrald::AddressPool;
using centrald::StoreError;

namespace {

AddressPool pool(const char* cidr) {
  auto p = AddressPool::parse(cidr);
  if (!p) FAIL(p.error().message());
  return *p;
}

std::string first(const AddressPool& p) { return AddressPool::addressText(p.first()); }
std::string last(const AddressPool& p) { return AddressPool::addressText(p.last()); }

}  // namespace

TEST_CASE("pool: IPv4 skips network and broadcast except in /31 and /32", "[unit]") {
  auto p24 = pool("198.51.100.0/24");
  CHECK_FALSE(p24.isV6());
  CHECK(p24.width() == 4);
  CHECK(p24.text() == "198.51.100.0/24");
  CHECK(first(p24) == "198.51.100.1");
  CHECK(last(p24) == "198.51.100.254");

  auto p30 = pool("192.0.2.4/30");
  CHECK(first(p30) == "192.0.2.5");
  CHECK(last(p30) == "192.0.2.6");

  // RFC 3021: a /31 has no network or broadcast address.
  auto p31 = pool("192.0.2.4/31");
  CHECK(first(p31) == "192.0.2.4");
  CHECK(last(p31) == "192.0.2.5");
  auto p32 = pool("192.0.2.9/32");
  CHECK(first(p32) == "192.0.2.9");
  CHECK(last(p32) == "192.0.2.9");

  auto p8 = pool("10.0.0.0/8");
  CHECK(first(p8) == "10.0.0.1");
  CHECK(last(p8) == "10.255.255.254");
  auto all = pool("0.0.0.0/0");
  CHECK(first(all) == "0.0.0.1");
  CHECK(last(all) == "255.255.255.254");
}

TEST_CASE("pool: IPv6 skips the subnet-router anycast address", "[unit]") {
  auto p64 = pool("2001:db8:1:2::/64");
  CHECK(p64.isV6());
  CHECK(p64.width() == 16);
  CHECK(p64.text() == "2001:db8:1:2::/64");
  CHECK(first(p64) == "2001:db8:1:2::1");
  CHECK(last(p64) == "2001:db8:1:2:ffff:ffff:ffff:ffff");

  auto p127 = pool("2001:db8::/127");
  CHECK(first(p127) == "2001:db8::");
  CHECK(last(p127) == "2001:db8::1");
  auto p128 = pool("2001:db8::5/128");
  CHECK(first(p128) == "2001:db8::5");
  CHECK(last(p128) == "2001:db8::5");
  // The canonical text of a pool written in a long form.
  CHECK(pool("2001:0db8:0000::/48").text() == "2001:db8::/48");
}

TEST_CASE("pool: contains and increment", "[unit]") {
  auto p = pool("192.0.2.0/30");
  std::vector<uint8_t> a = {192, 0, 2, 0};
  CHECK_FALSE(p.contains(a));
  CHECK(AddressPool::increment(a));
  CHECK(p.contains(a));
  CHECK(AddressPool::increment(a));
  CHECK(p.contains(a));
  CHECK(AddressPool::increment(a));
  CHECK_FALSE(p.contains(a));  // the broadcast address
  CHECK_FALSE(p.contains(std::vector<uint8_t>(16, 0)));

  std::vector<uint8_t> top = {255, 255, 255, 255};
  CHECK_FALSE(AddressPool::increment(top));
  CHECK(top == std::vector<uint8_t>{0, 0, 0, 0});
  std::vector<uint8_t> carry = {10, 0, 0, 255};
  CHECK(AddressPool::increment(carry));
  CHECK(carry == std::vector<uint8_t>{10, 0, 1, 0});
}

TEST_CASE("pool: malformed CIDRs are BadPool with the reason", "[unit]") {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const auto& c : {
           Case{"192.0.2.0", "bad pool '192.0.2.0': expected ADDRESS/PREFIX"},
           Case{"192.0.2.1/24", "bad pool '192.0.2.1/24': host bits set"},
           Case{"192.0.2.0/33", "bad pool '192.0.2.0/33': prefix longer than the address"},
           Case{"2001:db8::/129", "bad pool '2001:db8::/129': prefix longer than the address"},
           Case{"192.0.2.0/", "bad pool '192.0.2.0/': bad prefix length"},
           Case{"192.0.2.0/2x", "bad pool '192.0.2.0/2x': bad prefix length"},
           Case{"192.0.2.0/0024", "bad pool '192.0.2.0/0024': bad prefix length"},
           Case{"300.0.2.0/24", "bad pool '300.0.2.0/24': bad IPv4 address"},
           Case{"2001:db8:::/48", "bad pool '2001:db8:::/48': bad IPv6 address"},
           Case{"", "bad pool '': expected ADDRESS/PREFIX"},
       }) {
    auto p = AddressPool::parse(c.text);
    INFO(c.text);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().code == StoreError::BadPool);
    CHECK(p.error().message() == c.message);
  }
}
