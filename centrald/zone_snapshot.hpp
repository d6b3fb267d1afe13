#pragma once
// The immutable set of zones centrald serves, found by longest origin. Built from the
// store's zones, then only read: worker threads answer from it without locks. A new
// snapshot can be made from the previous one with some zones replaced or removed: the
// zones that did not change are shared by pointer, not rebuilt.

#include <memory>
#include <unordered_map>
#include <vector>

#include "centrald/zone_data.hpp"
#include "centrald/zone_view.hpp"
#include "dnswire/name.hpp"
#include "dnswire/zonefile.hpp"

namespace centrald {

class ZoneSnapshot {
 public:
  // Builds a snapshot from whole zones (each with its SOA first). A zone without an SOA is
  // skipped; duplicate records are kept once (RFC 2181 §5). When `previous` is given, the
  // round-robin positions of RRsets that still exist carry over, so that a reload does not
  // restart every rotation.
  static std::shared_ptr<const ZoneSnapshot> build(const std::vector<dnswire::Zone>& zones,
                                                   const ZoneSnapshot* previous = nullptr);

  // This snapshot with `replaced` zones put in (added, or taking the place of the zone of
  // the same origin) and the zones of `removed` origins left out. The rest is shared.
  std::shared_ptr<const ZoneSnapshot> with(const std::vector<std::shared_ptr<const ZoneView>>& replaced,
                                           const std::vector<dnswire::Name>& removed) const;

  // The zone whose origin is the longest suffix of `qname`, or null when none is.
  const ZoneView* findZone(const dnswire::Name& qname) const;
  // The zone at exactly `origin`, or null.
  std::shared_ptr<const ZoneView> zone(const dnswire::Name& origin) const;
  size_t zoneCount() const { return zones_.size(); }
  size_t recordCount() const { return records_; }

 private:
  void recount();

  std::unordered_map<dnswire::Name, std::shared_ptr<const ZoneView>, dnswire::NameHash> zones_;
  size_t maxOriginLabels_ = 0;
  size_t records_ = 0;
};

}  // namespace centrald
