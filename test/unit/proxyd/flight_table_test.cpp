#include "proxyd/flight_table.hpp"

#include <catch2/catch.hpp>

using namespace dnswire;
using proxyd::CacheKey;
using proxyd::FlightTable;

TEST_CASE("flight table: the first miss fetches, the others wait for its outcome", "[unit]") {
  FlightTable table;
  auto* a = reinterpret_cast<proxyd::Resolver*>(0x1000);
  auto* b = reinterpret_cast<proxyd::Resolver*>(0x2000);
  table.registerResolver(a);
  table.registerResolver(b);
  const auto key = CacheKey::make(Name::fromText("Same.Test.").value(), RRType::A, RRClass::IN, false);
  const auto sameKey = CacheKey::make(Name::fromText("same.test.").value(), RRType::A, RRClass::IN, false);
  const auto withDo = CacheKey::make(Name::fromText("same.test.").value(), RRType::A, RRClass::IN, true);
  CHECK(table.join(key, {a, 1}));
  CHECK_FALSE(table.join(sameKey, {b, 2}));
  CHECK_FALSE(table.join(key, {a, 3}));
  CHECK(table.join(withDo, {a, 4}));  // DO is part of the key
  CHECK(table.inFlight() == 2);

  table.unregisterResolver(b);  // a worker going away is not posted to
  std::vector<uint64_t> delivered;
  table.complete(key, {}, [&](proxyd::Resolver* resolver, uint64_t id, const proxyd::Outcome&) {
    CHECK(resolver == a);
    delivered.push_back(id);
  });
  CHECK(delivered == std::vector<uint64_t>{1, 3});
  CHECK(table.inFlight() == 1);
  CHECK(table.join(key, {a, 5}));  // a new flight after completion
}
