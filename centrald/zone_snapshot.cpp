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
      if (auto old = previous->zones_.find(zone.origin); old != previous->zones_.end()) {
        data->carryRotationFrom(*old->second->base());
        if (old->second->delta()) data->carryRotationFrom(*old->second->delta());
      }
    snapshot->zones_.emplace(zone.origin, std::make_shared<const ZoneView>(std::move(data)));
  }
  snapshot->recount();
  return snapshot;
}

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::with(
    const std::vector<std::shared_ptr<const ZoneView>>& replaced, const std::vector<Name>& removed) const {
  auto next = std::make_shared<ZoneSnapshot>(*this);
  for (const auto& origin : removed) next->zones_.erase(origin);
  for (const auto& view : replaced)
    if (view) next->zones_.insert_or_assign(view->origin, view);
  next->recount();
  return next;
}

void ZoneSnapshot::recount() {
  records_ = 0;
  maxOriginLabels_ = 0;
  for (const auto& [origin, view] : zones_) {
    records_ += view->recordCount();
    maxOriginLabels_ = std::max(maxOriginLabels_, origin.labelCount());
  }
}

std::shared_ptr<const ZoneView> ZoneSnapshot::zone(const Name& origin) const {
  auto it = zones_.find(origin);
  return it != zones_.end() ? it->second : nullptr;
}

const ZoneView* ZoneSnapshot::findZone(const Name& qname) const {
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
