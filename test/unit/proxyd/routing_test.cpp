#include "proxyd/routing.hpp"

#include <catch2/catch.hpp>

#include "dnswire/server/clock.hpp"

using namespace dnswire;
using proxyd::Route;
using proxyd::ZoneRouting;

namespace {
Name name(const char* text) { return Name::fromText(text).value(); }
}  // namespace

TEST_CASE("routing: unknown first, then learnt from centrald's replies", "[unit]") {
  server::ManualClock clock;
  ZoneRouting routing(clock, std::chrono::seconds(45));
  CHECK(routing.classify(name("www.example.test.")) == Route::Unknown);

  routing.learnCentralZone(name("Example.Test."));
  CHECK(routing.classify(name("www.example.test.")) == Route::Central);
  CHECK(routing.classify(name("example.test.")) == Route::Central);
  CHECK(routing.classify(name("a.b.EXAMPLE.test.")) == Route::Central);
  CHECK(routing.classify(name("test.")) == Route::Unknown);

  routing.learnNotCentral(name("www.google.test."));
  CHECK(routing.classify(name("www.google.test.")) == Route::NotCentral);
  // A refusal says nothing about names below (a zone could exist there).
  CHECK(routing.classify(name("a.www.google.test.")) == Route::Unknown);
  clock.advance(std::chrono::seconds(46));
  CHECK(routing.classify(name("www.google.test.")) == Route::Unknown);

  routing.learnNotCentral(name("new.test."));
  routing.learnCentralName(name("new.test."));  // after a relayed ADD
  CHECK(routing.classify(name("new.test.")) == Route::Central);

  routing.learnNotCentral(name("other.test."));
  routing.forgetNegative();
  CHECK(routing.classify(name("other.test.")) == Route::Unknown);

  routing.forgetCentral(name("www.example.test."));
  CHECK(routing.classify(name("www.example.test.")) == Route::Unknown);
}
