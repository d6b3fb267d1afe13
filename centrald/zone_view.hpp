#pragma once
// One zone as the answer logic sees it: a base ZoneData (loaded from the store) and,
// optionally, a small delta ZoneData in front of it holding what ADD has published since
// the base was loaded: the new names with their empty non-terminals, and the whole apex
// with the bumped SOA serial. Publishing an ADD then costs the delta's size, not the
// zone's; the watcher replaces the pair by a fresh base when the delta grows (compaction).
//
// Lookups consult the delta first. The names ADD creates own no records in the base
// (YXDOMAIN otherwise), so a delta node with data is always right; a delta empty
// non-terminal may be a name the base has data for, and then the base's node wins.

#include <cstddef>
#include <memory>
#include <vector>

#include "centrald/zone_data.hpp"
#include "dnswire/message.hpp"
#include "dnswire/name.hpp"

namespace centrald {

class ZoneView {
 public:
  // The zone as loaded, no delta.
  explicit ZoneView(std::shared_ptr<const ZoneData> base);

  // `previous`'s base with `added` (records of owners the base does not hold) on top, on
  // top of what `previous` had added already, and the SOA serial set to `serial`.
  // Rotation positions continue from `previous`. Null when the delta does not build.
  static std::shared_ptr<const ZoneView> overlay(const ZoneView& previous,
                                                 const std::vector<dnswire::ResourceRecord>& added,
                                                 uint32_t serial);

  // What answer.cpp reads (ZoneData's names, so that both read alike).
  dnswire::Name origin;
  const Node* apex = nullptr;
  const RRset* soa = nullptr;
  uint32_t negativeTtl = 0;  // min(SOA TTL, SOA MINIMUM) (RFC 2308 §3)
  bool hasDelegations = false;
  bool hasWildcards = false;

  // The node owning exactly `name` (case-insensitive), or null. Ignores zone cuts.
  const Node* findNode(const dnswire::Name& name) const;
  // The node's owner name as written (the node belongs to the base or to the delta).
  dnswire::Name nodeName(const Node& node) const;

  size_t nodeCount() const;
  size_t recordCount() const;
  // Owner names the delta added (0 without delta): the watcher compacts past a limit.
  size_t addedNames() const { return addedNames_; }
  const std::shared_ptr<const ZoneData>& base() const { return base_; }
  const std::shared_ptr<const ZoneData>& delta() const { return delta_; }

 private:
  ZoneView() = default;
  void setFrom(const ZoneData& front);

  std::shared_ptr<const ZoneData> base_;
  std::shared_ptr<const ZoneData> delta_;
  // What ADD added since the base lives only in the delta, as wire records: the next
  // overlay rebuilds the delta from them (the base is never copied). A copy as
  // ResourceRecords would cost ~800 bytes a record (two 256-byte Names in each RDATA).
  size_t addedNames_ = 0;
  size_t apexRecords_ = 0;  // the apex's records, counted in both base and delta
};

}  // namespace centrald
