#pragma once
// Identical misses in flight share one upstream query (SPEC "proxyd"): the first worker
// to miss on a key starts the fetch; later queries for the same key, from any worker,
// only register as waiters. When the fetch ends, its owner hands the outcome to every
// waiter on the waiter's own loop thread (EventLoop::post), so a query's context is
// only ever touched by its own worker.
//
// Keyed like the cache: lowercase qname, qtype, qclass, DO.

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "proxyd/cache.hpp"

namespace proxyd {

class Resolver;

// What a fetch produced: an entry to answer from (possibly not cacheable, possibly a
// SERVFAIL or REFUSED relayed), or nothing when no server gave a usable reply.
struct Outcome {
  std::shared_ptr<const CacheEntry> entry;
};

class FlightTable {
 public:
  struct Waiter {
    Resolver* resolver;
    uint64_t waitId;
  };
  using Deliver = std::function<void(Resolver*, uint64_t waitId, const Outcome&)>;

  // Registers `waiter` for `key`; true when it is the first (the caller starts the fetch).
  bool join(const CacheKey& key, Waiter waiter);
  // Ends the flight for `key` and calls `deliver` for each of its waiters whose resolver
  // is still registered, under the table's lock (so that a resolver cannot unregister
  // meanwhile). `deliver` must only post work to the waiter's loop.
  void complete(const CacheKey& key, const Outcome& outcome, const Deliver& deliver);
  // Forgets a flight whose owner is going away without an outcome.
  void abandon(const CacheKey& key);

  void registerResolver(Resolver* resolver);
  void unregisterResolver(Resolver* resolver);
  size_t inFlight() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<CacheKey, std::vector<Waiter>, CacheKeyHash> flights_;
  std::unordered_set<Resolver*> resolvers_;
};

}  // namespace proxyd
