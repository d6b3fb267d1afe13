#pragma once
// Builds one ZoneData from records given one at a time, as wire RDATA, in zone order: the
// store's rows stream through it without a dnswire::Zone of 256-byte Names and decoded
// RDATA in between. Owners are grouped as they come (an index over the names seen so
// far), each record's RDATA is kept as bytes, and finish() lays everything out in the
// zone's arenas, sized exactly, once.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dnswire/server/huge_page_array.hpp"
#include "centrald/zone_data.hpp"
#include "dnswire/error.hpp"
#include "dnswire/message.hpp"
#include "dnswire/name.hpp"
#include "dnswire/types.hpp"

namespace centrald {

class ZoneBuilder {
 public:
  explicit ZoneBuilder(const dnswire::Name& origin);

  // Adds one record. `rdata` is uncompressed wire RDATA (RFC 3597 §4), checked here as the
  // codec's decoder would (the error it gives: RdataLength, BadName, ...). Records outside
  // the origin, OPT and TSIG are ignored (ok). Nothing is allocated per record but the
  // builder's own arrays, which grow geometrically.
  dnswire::Result<void> add(const dnswire::Name& owner, dnswire::RRType type, dnswire::RRClass cls,
                            uint32_t ttl, std::span<const uint8_t> rdata);

  // Adds one decoded record, encoded here as wire RDATA; what cannot be encoded (over
  // 64 KiB) or fails add() is left out.
  void add(const dnswire::ResourceRecord& rr);

  // The zone, or null when it has no SOA at its origin (RFC 1035 §5.2). Duplicate records
  // are kept once (RFC 2181 §5). The builder is spent afterwards.
  std::shared_ptr<ZoneData> finish();

  const dnswire::Name& origin() const { return origin_; }

 private:
  // A record waiting for finish(): its RDATA in data_, the next record of its RRset.
  struct PendingRecord {
    uint32_t next = 0;  // index + 1; 0 = last
    uint32_t dataOffset = 0;
    uint32_t ttl = 0;
    uint16_t cls = 0;
    uint16_t rdlength = 0;
  };
  // An RRset being gathered: its records as a list, the next type at the same owner.
  struct PendingSet {
    uint32_t nextSet = 0;  // index + 1; 0 = last
    uint32_t first = 0;
    uint32_t last = 0;
    dnswire::RRType type = dnswire::RRType::A;
  };
  struct NodeSets {
    uint32_t first = 0;  // index + 1 into sets_; 0 = none (an empty non-terminal)
    uint32_t last = 0;
  };

  uint32_t nodeFor(const dnswire::Name& owner);
  uint32_t insertNode(const dnswire::Name& owner, uint32_t hash);
  void growIndex();
  void addEmptyNonTerminals();
  void layOut(ZoneData& data);

  dnswire::Name origin_;
  std::shared_ptr<ZoneData> data_;  // nodes_, names_ and slots_ are built in place
  dnswire::server::HugePageVector<NodeSets> nodeSets_;
  dnswire::server::HugePageVector<PendingSet> sets_;
  dnswire::server::HugePageVector<PendingRecord> records_;
  dnswire::server::HugePageVector<uint8_t> rdata_;
  std::vector<uint8_t> encodeScratch_;  // add(ResourceRecord) encodes here
  uint32_t lastNode_ = UINT32_MAX;  // consecutive records mostly share their owner
};

}  // namespace centrald
