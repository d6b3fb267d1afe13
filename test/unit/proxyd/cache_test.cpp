#include "proxyd/cache.hpp"

#include <catch2/catch.hpp>

#include "dnswire/server/clock.hpp"

using namespace dnswire;
using proxyd::Cache;
using proxyd::CacheKey;

namespace {

Name name(const std::string& text) { return Name::fromText(text).value(); }

std::shared_ptr<proxyd::CacheEntry> entry(const server::Clock& clock, uint32_t ttl) {
  Message m;
  m.header.qr = true;
  m.questions.push_back({name("x.test."), RRType::A, RRClass::IN});
  m.answers.push_back({name("x.test."), RRType::A, RRClass::IN, ttl, A{{192, 0, 2, 1}}});
  return proxyd::buildEntry(m, m.questions[0], Name(), clock.now()).entry;
}

CacheKey key(const std::string& qname, RRType type = RRType::A) {
  return CacheKey::make(name(qname), type, RRClass::IN, false);
}

}  // namespace

TEST_CASE("cache: keys ignore case and separate type, class and DO", "[unit]") {
  server::ManualClock clock;
  Cache cache(100, clock);
  cache.insert(key("www.Example.test."), entry(clock, 60));
  CHECK(cache.find(key("WWW.example.TEST.")).entry);
  CHECK_FALSE(cache.find(key("www.example.test.", RRType::AAAA)).entry);
  CHECK_FALSE(cache.find(CacheKey::make(name("www.example.test."), RRType::A, RRClass::IN, true)).entry);
  CHECK_FALSE(cache.find(CacheKey::make(name("www.example.test."), RRType::A, RRClass::CH, false)).entry);
}

TEST_CASE("cache: a query's question finds the key in any case, at the time it is given", "[unit]") {
  server::ManualClock clock;
  Cache cache(100, clock);
  cache.insert(key("www.Example.test."), entry(clock, 60));
  const Name asked = name("wWw.EXAMPLE.test.");
  const auto now = clock.now();
  auto hit = cache.find(proxyd::CacheQuestion::of(asked, RRType::A, RRClass::IN, false), now);
  REQUIRE(hit.entry);
  CHECK_FALSE(hit.stale);
  CHECK_FALSE(cache.find(proxyd::CacheQuestion::of(asked, RRType::AAAA, RRClass::IN, false), now).entry);
  CHECK_FALSE(cache.find(proxyd::CacheQuestion::of(asked, RRType::A, RRClass::IN, true), now).entry);
  CHECK_FALSE(cache.find(proxyd::CacheQuestion::of(asked, RRType::A, RRClass::CH, false), now).entry);
  CHECK_FALSE(cache.find(proxyd::CacheQuestion::of(name("www.example.test.x."), RRType::A, RRClass::IN, false), now).entry);
  // A name of the same length that differs in one letter; and one that differs only in a
  // byte that is no letter ('-' against 'm', 0x2D and 0x6D, which differ by 0x40, not 0x20).
  CHECK_FALSE(cache.find(proxyd::CacheQuestion::of(name("www.exbmple.test."), RRType::A, RRClass::IN, false), now).entry);
  CHECK_FALSE(cache.find(proxyd::CacheQuestion::of(name("www.exa-ple.test."), RRType::A, RRClass::IN, false), now).entry);
  // The time comes from the caller (the worker's batch clock), not from the cache's clock.
  hit = cache.find(proxyd::CacheQuestion::of(asked, RRType::A, RRClass::IN, false), now + std::chrono::seconds(61));
  REQUIRE(hit.entry);
  CHECK(hit.stale);
}

TEST_CASE("cache: bounded, least recently used evicted first (second chance)", "[unit]") {
  server::ManualClock clock;
  Cache cache(10, clock);
  for (int i = 0; i < 10; ++i) cache.insert(key("n" + std::to_string(i) + ".test."), entry(clock, 60));
  CHECK(cache.size() == 10);
  // Touch n0 so that n1 is now the coldest.
  CHECK(cache.find(key("n0.test.")).entry);
  cache.insert(key("n10.test."), entry(clock, 60));
  CHECK(cache.size() == 10);
  CHECK(cache.evictions() == 1);
  CHECK(cache.find(key("n0.test.")).entry);
  CHECK_FALSE(cache.find(key("n1.test.")).entry);
  CHECK(cache.find(key("n10.test.")).entry);

  // Second chance: n0 and n10 (hit just above) and n5 (hit now) are passed over when they
  // reach the cold end, so n11 and n12, stored after them but never hit, go first.
  CHECK(cache.find(key("n5.test.")).entry);
  for (int i = 11; i < 20; ++i) cache.insert(key("n" + std::to_string(i) + ".test."), entry(clock, 60));
  CHECK(cache.size() == 10);
  CHECK(cache.evictions() == 10);
  CHECK_FALSE(cache.find(key("n11.test.")).entry);
  CHECK_FALSE(cache.find(key("n12.test.")).entry);
  CHECK(cache.find(key("n0.test.")).entry);
  CHECK(cache.find(key("n5.test.")).entry);
  CHECK(cache.find(key("n10.test.")).entry);
  CHECK(cache.find(key("n19.test.")).entry);

  Cache big(100'000, clock);
  CHECK(big.shardCount() == 16);
  for (int i = 0; i < 200; ++i) big.insert(key("m" + std::to_string(i) + ".test."), entry(clock, 60));
  CHECK(big.size() == 200);
}

TEST_CASE("cache: fresh, stale for a day past expiry, then gone", "[unit]") {
  server::ManualClock clock;
  Cache cache(10, clock);
  cache.insert(key("a.test."), entry(clock, 60));
  CHECK_FALSE(cache.find(key("a.test.")).stale);
  clock.advance(std::chrono::seconds(61));
  auto hit = cache.find(key("a.test."));
  REQUIRE(hit.entry);
  CHECK(hit.stale);
  clock.advance(proxyd::kStaleWindow);
  CHECK_FALSE(cache.find(key("a.test.")).entry);
  CHECK(cache.size() == 0);
}

TEST_CASE("cache: eraseName drops every entry of a name", "[unit]") {
  server::ManualClock clock;
  Cache cache(100, clock);
  cache.insert(key("a.test."), entry(clock, 60));
  cache.insert(key("a.test.", RRType::AAAA), entry(clock, 60));
  cache.insert(CacheKey::make(name("a.test."), RRType::MX, RRClass::IN, true), entry(clock, 60));
  cache.insert(key("b.test."), entry(clock, 60));
  CHECK(cache.eraseName(name("A.test.")) == 3);
  CHECK(cache.size() == 1);
  CHECK(cache.find(key("b.test.")).entry);
}

TEST_CASE("cache: memory per entry", "[unit]") {
  // The figure quoted in cache.hpp: the entry object and its vectors, the key, and the
  // hash and queue nodes (two pointers plus payload each) and shared_ptr control block.
  server::ManualClock clock;
  const auto e = entry(clock, 60);
  const size_t bookkeeping = sizeof(CacheKey) + 2 * sizeof(void*) + sizeof(std::shared_ptr<void>) +
                             sizeof(void*) + 3 * sizeof(void*) + 16;
  const size_t total = e->footprint() + bookkeeping;
  WARN("one A answer: wire " << e->wire.size() << " bytes, about " << total << " bytes in the cache");
  CHECK(total < 700);
}
