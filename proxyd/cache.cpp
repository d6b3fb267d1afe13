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
  Shard::Slot& slot = it->second;
  if (now >= slot.entry->staleUntil) {
    shard.queue.erase(slot.queued);
    shard.map.erase(it);
    return {};
  }
  if (!slot.referenced) slot.referenced = true;
  return {slot.entry, !slot.entry->fresh(now)};
}

void Cache::insert(const CacheKey& key, std::shared_ptr<const CacheEntry> entry) {
  if (!entry) return;
  Shard& shard = shardFor(key.nameHash);
  std::lock_guard lock(shard.mutex);
  auto it = shard.map.find(key);
  if (it != shard.map.end()) {
    it->second.entry = std::move(entry);
    it->second.referenced = true;
    return;
  }
  while (shard.map.size() >= shard.capacity && !shard.queue.empty()) {
    Shard::Slot* oldest = shard.queue.back();
    if (oldest->referenced) {
      // Second chance: back to the front, unmarked. Each entry is passed over at most
      // once per round, so this ends.
      oldest->referenced = false;
      shard.queue.splice(shard.queue.begin(), shard.queue, oldest->queued);
      continue;
    }
    shard.queue.pop_back();
    // Erase by iterator: the key `oldest` points at lives in the node being erased.
    shard.map.erase(shard.map.find(*oldest->key));
    ++shard.evictions;
  }
  auto [node, inserted] = shard.map.emplace(key, Shard::Slot{std::move(entry), {}, nullptr, false});
  Shard::Slot& slot = node->second;
  slot.key = &node->first;
  shard.queue.push_front(&slot);
  slot.queued = shard.queue.begin();
}

size_t Cache::eraseName(const dnswire::Name& name) {
  Shard& shard = shardFor(name.hash());
  std::lock_guard lock(shard.mutex);
  size_t erased = 0;
  for (auto it = shard.map.begin(); it != shard.map.end();) {
    if (it->first.qname == name) {
      shard.queue.erase(it->second.queued);
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
