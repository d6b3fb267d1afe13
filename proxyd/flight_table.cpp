#include "proxyd/flight_table.hpp"

namespace proxyd {

bool FlightTable::join(const CacheKey& key, Waiter waiter) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = flights_.try_emplace(key);
  it->second.push_back(waiter);
  return inserted;
}

void FlightTable::complete(const CacheKey& key, const Outcome& outcome, const Deliver& deliver) {
  std::lock_guard lock(mutex_);
  auto it = flights_.find(key);
  if (it == flights_.end()) return;
  const std::vector<Waiter> waiters = std::move(it->second);
  flights_.erase(it);
  for (const auto& waiter : waiters)
    if (resolvers_.count(waiter.resolver) != 0) deliver(waiter.resolver, waiter.waitId, outcome);
}

void FlightTable::abandon(const CacheKey& key) {
  std::lock_guard lock(mutex_);
  flights_.erase(key);
}

void FlightTable::registerResolver(Resolver* resolver) {
  std::lock_guard lock(mutex_);
  resolvers_.insert(resolver);
}

void FlightTable::unregisterResolver(Resolver* resolver) {
  std::lock_guard lock(mutex_);
  resolvers_.erase(resolver);
}

size_t FlightTable::inFlight() const {
  std::lock_guard lock(mutex_);
  return flights_.size();
}

}  // namespace proxyd
