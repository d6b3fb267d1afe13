#include "centrald/zone_snapshot.hpp"

#include <algorithm>

namespace centrald {

using dnswire::Name;

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::build(const std::vector<dnswire::Zone>& zones,
                                                        const ZoneSnapshot* previous) {
  auto snapshot = std::make_shared<ZoneSnapshot>();
  for (const auto& zone : zones) {
    if (snapshot->zones_.count(zone.origin) != 0) continue;
    auto data = ZoneData::build(zone);
    if (data == nullptr) continue;
    if (previous != nullptr)
      if (auto old = previous->zones_.find(zone.origin); old != previous->zones_.end())
        data->carryRotationFrom(*old->second);
    snapshot->records_ += data->recordCount();
    snapshot->maxOriginLabels_ = std::max(snapshot->maxOriginLabels_, zone.origin.labelCount());
    snapshot->zones_.emplace(zone.origin, std::move(data));
  }
  return snapshot;
}

const ZoneData* ZoneSnapshot::findZone(const Name& qname) const {
  if (zones_.empty() || qname.empty()) return nullptr;
  Name candidate = qname;
  size_t labels = candidate.labelCount();
  // Zones cannot start above the deepest origin's depth: skip those lookups.
  while (labels > maxOriginLabels_) {
    candidate = candidate.parent();
    --labels;
  }
  for (;;) {
    auto it = zones_.find(candidate);
    if (it != zones_.end()) return it->second.get();
    if (candidate.isRoot()) return nullptr;
    candidate = candidate.parent();
  }
}

}  // namespace centrald
