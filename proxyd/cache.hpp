#pragma once
// proxyd's answer cache, shared by every worker: entries (cache_entry.hpp) keyed by
// lowercase qname, qtype, qclass and the DO bit, split into shards with one mutex each
// (the shard is chosen by the qname alone, so that every entry of a name lives in one
// shard and eraseName() looks at one shard only). Once a shard holds its share of the
// capacity it evicts the least recently used entry, approximately (second chance, or
// CLOCK): entries queue in the order they were stored; a hit only marks its entry
// referenced, and eviction gives a marked entry at the cold end another round instead of
// evicting it. A hit thus writes nothing outside its own hash node: moving it to the front
// of an exact LRU list touched three more nodes, each a likely cache miss on a quiet
// server. Expired entries stay (for serve-stale, RFC 8767) until kStaleWindow past
// expiry or until evicted.
//
// Memory: an entry costs its wire bytes plus about 490 bytes of bookkeeping on x86-64
// (the key with its fixed 256-byte Name, the hash node, the queue's node, the shared_ptr
// control block and CacheEntry itself; cache_test.cpp measures it), before malloc's own
// overhead on the six blocks an entry takes. Resident memory grows by 850-1,050 bytes
// per entry of an A answer of four records (test/bench --big): --cache-size 100000 is
// about 100 MB.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "dnswire/name.hpp"
#include "dnswire/name_words.hpp"
#include "dnswire/types.hpp"
#include "proxyd/cache_entry.hpp"

namespace proxyd {

struct CacheKey {
  dnswire::Name qname;  // lowercased
  dnswire::RRType qtype = dnswire::RRType::A;
  dnswire::RRClass qclass = dnswire::RRClass::IN;
  bool dnssecOk = false;
  size_t nameHash = 0;  // qname.hash(), computed once: it picks the shard and the bucket

  static CacheKey make(const dnswire::Name& qname, dnswire::RRType qtype, dnswire::RRClass qclass,
                       bool dnssecOk) {
    return {qname.lowercased(), qtype, qclass, dnssecOk, qname.hash()};
  }
  bool operator==(const CacheKey& other) const {
    return qtype == other.qtype && qclass == other.qclass && dnssecOk == other.dnssecOk &&
           qname == other.qname;
  }
};

// A query's question as find() takes it: the name in whatever case the client wrote,
// not copied, never lowercased (a hit is the common case; see CacheKeyEqual).
struct CacheQuestion {
  const dnswire::Name* qname = nullptr;
  dnswire::RRType qtype = dnswire::RRType::A;
  dnswire::RRClass qclass = dnswire::RRClass::IN;
  bool dnssecOk = false;
  size_t nameHash = 0;

  static CacheQuestion of(const dnswire::Name& qname, dnswire::RRType qtype, dnswire::RRClass qclass,
                          bool dnssecOk) {
    return {&qname, qtype, qclass, dnssecOk, qname.hash()};
  }
};

struct CacheKeyHash {
  using is_transparent = void;
  size_t operator()(const CacheKey& key) const { return mix(key.nameHash, key.qtype, key.qclass, key.dnssecOk); }
  size_t operator()(const CacheQuestion& q) const { return mix(q.nameHash, q.qtype, q.qclass, q.dnssecOk); }

 private:
  static size_t mix(size_t h, dnswire::RRType qtype, dnswire::RRClass qclass, bool dnssecOk) {
    h ^= (static_cast<size_t>(qtype) << 1) ^ (static_cast<size_t>(qclass) << 17) ^
         (dnssecOk ? 0x9e3779b97f4a7c15ULL : 0);
    return h * 0x100000001b3ULL;
  }
};

// Keys compare as CacheKey::operator==; a question against a key compares its name,
// in any case, with the key's lowercase one.
struct CacheKeyEqual {
  using is_transparent = void;
  bool operator()(const CacheKey& a, const CacheKey& b) const { return a == b; }
  bool operator()(const CacheQuestion& q, const CacheKey& key) const {
    return q.qtype == key.qtype && q.qclass == key.qclass && q.dnssecOk == key.dnssecOk &&
           q.qname->size() == key.qname.size() &&
           dnswire::words::equalsLowered(q.qname->wire().data(), key.qname.wire().data(), key.qname.size());
  }
  bool operator()(const CacheKey& key, const CacheQuestion& q) const { return (*this)(q, key); }
};

class Cache {
 public:
  // `capacity` >= 1 entries in all. Small caches get one shard so that eviction order is
  // the whole cache's, not a shard's.
  Cache(size_t capacity, const Clock& clock);

  struct Hit {
    std::shared_ptr<const CacheEntry> entry;  // null on a miss
    bool stale = false;                       // past its TTL, inside the stale window
  };
  // The entry for `key`, fresh or stale (an entry past the stale window is removed and
  // reported as a miss). A found entry is marked referenced (a second chance at eviction).
  Hit find(const CacheKey& key);
  // The same for a query's question, at `now` (the worker's clock, read once a batch).
  Hit find(const CacheQuestion& question, Clock::TimePoint now);
  // Stores (or replaces) the entry for `key`, evicting the least recently used entries
  // of the shard beyond its share of the capacity (approximately: second chance).
  void insert(const CacheKey& key, std::shared_ptr<const CacheEntry> entry);
  // Drops every entry whose qname is `name` (any type, class, DO), negative ones
  // included. Returns how many.
  size_t eraseName(const dnswire::Name& name);
  size_t size() const;
  size_t capacity() const { return capacity_; }
  size_t shardCount() const { return shards_.size(); }
  uint64_t evictions() const;

 private:
  struct Shard {
    struct Slot {
      std::shared_ptr<const CacheEntry> entry;
      std::list<Slot*>::iterator queued;
      const CacheKey* key = nullptr;  // the key of this slot's hash node
      bool referenced = false;        // hit since it last reached the cold end
    };
    mutable std::mutex mutex;
    std::unordered_map<CacheKey, Slot, CacheKeyHash, CacheKeyEqual> map;
    std::list<Slot*> queue;  // front: stored (or given another round) last
    size_t capacity = 1;
    uint64_t evictions = 0;
  };
  Shard& shardFor(size_t nameHash) { return *shards_[nameHash % shards_.size()]; }
  template <class Key>
  Hit findIn(Shard& shard, const Key& key, Clock::TimePoint now);

  const Clock& clock_;
  size_t capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace proxyd
