#pragma once
// One zone as centrald answers from it: owner names, RRsets encoded to wire form at build
// time (answering is then mostly memcpy), and a hash index. Immutable once built, so
// worker threads read it without locks; snapshots share the zones that did not change.

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dnswire/server/huge_page_array.hpp"
#include "dnswire/message.hpp"
#include "dnswire/name.hpp"
#include "dnswire/rdata.hpp"
#include "dnswire/types.hpp"
#include "dnswire/zonefile.hpp"

namespace centrald {

// Round-robin position of one RRset, shared by every thread answering from the snapshot.
// Copyable (copies the value) so that RRsets can live in vectors while being built.
class RotationCounter {
 public:
  RotationCounter() = default;
  RotationCounter(const RotationCounter& other) : value_(other.load()) {}
  RotationCounter& operator=(const RotationCounter& other) {
    value_.store(other.load(), std::memory_order_relaxed);
    return *this;
  }
  // The value before this call; relaxed is enough, only the count matters.
  uint32_t next() const { return value_.fetch_add(1, std::memory_order_relaxed); }
  uint32_t load() const { return value_.load(std::memory_order_relaxed); }
  void store(uint32_t v) { value_.store(v, std::memory_order_relaxed); }

 private:
  mutable std::atomic<uint32_t> value_{0};
};

// One RRset (RFC 2181 §5): same owner, type and class, one TTL. Its bytes live in its
// zone's arenas (ZoneData), so an RRset is a few pointers, not three vectors of its own.
struct RRset {
  dnswire::RRType type = dnswire::RRType::A;
  // RDATA names may be compressed on output: only the RFC 1035 types (RFC 3597 §4).
  bool compressNames = false;
  uint32_t ttl = 0;  // the lowest TTL of its records (RFC 2181 §5.2)
  RotationCounter rotation;
  uint32_t count = 0;
  // Each record after its owner name: TYPE CLASS TTL RDLENGTH RDATA, RDATA names
  // uncompressed. Record i is wire[offsets[i]..offsets[i+1]); offsets has count+1 entries.
  const uint8_t* wire = nullptr;
  const uint32_t* offsets = nullptr;
  // Typed RDATA for the types whose names matter to answering (NS, CNAME, MX, SOA, PTR,
  // SRV), in record order; empty for others.
  std::span<const dnswire::RData> typed;

  size_t size() const { return count; }
  std::span<const uint8_t> recordWire(size_t i) const {
    return {wire + offsets[i], offsets[i + 1] - offsets[i]};
  }
  // A/AAAA RRsets rotate by one position per response (SPEC "Answers").
  bool rotates() const { return (type == dnswire::RRType::A || type == dnswire::RRType::AAAA) && size() > 1; }
};

// One owner name of a zone. A node without RRsets is an empty non-terminal: the name
// exists (NODATA, not NXDOMAIN; RFC 8020). Its name lives in the zone's name arena
// (ZoneData::nodeName): a Name is 256 bytes, most owner names are 20.
struct Node {
  std::span<const RRset> rrsets;  // in the zone's RRset array, types in order of appearance
  uint32_t nameOffset = 0;
  uint32_t hash = 0;  // low bits of Name::hash(), case-insensitive
  uint8_t nameSize = 0;
  bool delegation = false;  // NS below the apex: a zone cut (RFC 1034 §4.2.1)

  const RRset* find(dnswire::RRType type) const {
    for (const auto& set : rrsets)
      if (set.type == type) return &set;
    return nullptr;
  }
};

class ZoneBuilder;

class ZoneData {
 public:
  ZoneData() = default;
  // Nodes and RRsets point into the arenas: a copy would point into the original.
  ZoneData(const ZoneData&) = delete;
  ZoneData& operator=(const ZoneData&) = delete;

  // Builds one zone (its SOA first, or anywhere at the apex). Null when the zone has no
  // SOA at its origin. Duplicate records are kept once (RFC 2181 §5). Records outside the
  // origin, OPT and TSIG are left out, and so is a record whose RDATA does not encode.
  // The store's zones are streamed through ZoneBuilder instead (zone_loader.hpp).
  static std::shared_ptr<ZoneData> build(const dnswire::Zone& zone);

  // Continues the round-robin positions of `previous` (the same zone before a reload) for
  // every RRset that still exists, so that a reload does not restart every rotation.
  void carryRotationFrom(const ZoneData& previous);

  dnswire::Name origin;
  const Node* apex = nullptr;
  const RRset* soa = nullptr;
  uint32_t negativeTtl = 0;  // min(SOA TTL, SOA MINIMUM) (RFC 2308 §3)
  bool hasDelegations = false;
  bool hasWildcards = false;

  // The node owning exactly `name` (case-insensitive), or null. Ignores zone cuts.
  const Node* findNode(const dnswire::Name& name) const;
  // The node's owner name as written in the zone.
  dnswire::Name nodeName(const Node& node) const;
  std::span<const uint8_t> nodeWire(const Node& node) const {
    return {names_.data() + node.nameOffset, node.nameSize};
  }
  size_t nodeCount() const { return nodes_.size(); }
  size_t recordCount() const { return records_; }
  std::span<const Node> nodes() const { return nodes_; }

 private:
  friend class ZoneBuilder;
  const Node* findNode(std::span<const uint8_t> wire, uint32_t hash) const;

  // (On huge pages once large: a 1M-record zone takes 24,000 fewer page faults to build.)
  // Nodes, their names back to back, and an open-addressing index over them: each slot
  // holds node index + 1 (0 = empty); the table is a power of two at most half full.
  dnswire::server::HugePageVector<Node> nodes_;
  dnswire::server::HugePageVector<uint8_t> names_;
  dnswire::server::HugePageVector<uint32_t> slots_;
  // Every RRset of the zone, grouped by node; all their records' wire bytes back to back;
  // the record boundaries (one array: a set's last boundary is the next set's first);
  // the typed RDATA of the types that keep it.
  dnswire::server::HugePageVector<RRset> rrsets_;
  dnswire::server::HugePageVector<uint8_t> wire_;
  dnswire::server::HugePageVector<uint32_t> offsets_;
  dnswire::server::HugePageVector<dnswire::RData> typed_;
  size_t records_ = 0;
};

}  // namespace centrald
