#include "proxyd/cache.hpp"

#include <algorithm>

namespace proxyd {

namespace {
// Enough shards that workers rarely meet on one lock, few enough that each still holds
// a useful LRU list: one per 1024 entries, at most 16.
size_t shardCountFor(size_t capacity) { return std::clamp<size_t>(capacity / 1024, 1, 16); }
}  // namespace

Cache::Cache(size_t capacity, const Clock& clock) : clock_(clock), capacity_(std::max<size_t>(capacity, 1)) {
  const size_t count = shardCountFor(capacity_);
  for (size_t i = 0; i < count; ++i) {
    auto shard = std::make_unique<Shard>();
    // The first capacity % count shards take one more, so the shares add up exactly.
    shard->capacity = capacity_ / count + (i < capacity_ % count ? 1 : 0);
    shards_.push_back(std::move(shard));
  }
}

Cache::Hit Cache::find(const CacheKey& key) { return findIn(shardFor(key.nameHash), key, clock_.now()); }

Cache::Hit Cache::find(const CacheQuestion& question, Clock::TimePoint now) {
  return findIn(shardFor(question.nameHash), question, now);
}

template <class Key>
Cache::Hit Cache::findIn(Shard& shard, const Key& key, Clock::TimePoint now) {
  std::lock_guard lock(shard.mutex);
  auto it = shard.map.find(key);
  if (it == shard.map.end()) return {};
  if (now >= it->second.entry->staleUntil) {
    shard.lru.erase(it->second.lru);
    shard.map.erase(it);
    return {};
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
  return {it->second.entry, !it->second.entry->fresh(now)};
}

void Cache::insert(const CacheKey& key, std::shared_ptr<const CacheEntry> entry) {
  if (!entry) return;
  Shard& shard = shardFor(key.nameHash);
  std::lock_guard lock(shard.mutex);
  auto it = shard.map.find(key);
  if (it != shard.map.end()) {
    it->second.entry = std::move(entry);
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
    return;
  }
  while (shard.map.size() >= shard.capacity && !shard.lru.empty()) {
    const CacheKey* victim = shard.lru.back();
    shard.lru.pop_back();
    // Erase by iterator: the key `victim` points at lives in the node being erased.
    shard.map.erase(shard.map.find(*victim));
    ++shard.evictions;
  }
  auto [slot, inserted] = shard.map.emplace(key, Shard::Slot{std::move(entry), {}});
  shard.lru.push_front(&slot->first);
  slot->second.lru = shard.lru.begin();
}

size_t Cache::eraseName(const dnswire::Name& name) {
  Shard& shard = shardFor(name.hash());
  std::lock_guard lock(shard.mutex);
  size_t erased = 0;
  for (auto it = shard.map.begin(); it != shard.map.end();) {
    if (it->first.qname == name) {
      shard.lru.erase(it->second.lru);
      it = shard.map.erase(it);
      ++erased;
    } else {
      ++it;
    }
  }
  return erased;
}

size_t Cache::size() const {
  size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->map.size();
  }
  return total;
}

uint64_t Cache::evictions() const {
  uint64_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->evictions;
  }
  return total;
}

}  // namespace proxyd
