#include "centrald/zone_view.hpp"

#include <utility>

#include "dnswire/zonefile.hpp"

namespace centrald {

using dnswire::Name;
using dnswire::ResourceRecord;
using dnswire::RRType;

namespace {

// The records of `node` back from their wire form: TYPE CLASS TTL RDLENGTH RDATA.
bool decodeNode(const Name& owner, const Node& node, std::vector<ResourceRecord>& out) {
  for (const auto& set : node.rrsets) {
    for (size_t i = 0; i < set.size(); ++i) {
      auto wire = set.recordWire(i);
      if (wire.size() < 10) return false;
      const auto cls = static_cast<dnswire::RRClass>((wire[2] << 8) | wire[3]);
      auto data = dnswire::rdataFromWire(set.type, wire.subspan(10));
      if (!data) return false;
      out.push_back(ResourceRecord{owner, set.type, cls, set.ttl, std::move(*data)});
    }
  }
  return true;
}

bool inside(const Node& node, const ZoneData& data) {
  const auto& nodes = data.nodes();
  return !nodes.empty() && &node >= nodes.data() && &node < nodes.data() + nodes.size();
}

}  // namespace

ZoneView::ZoneView(std::shared_ptr<const ZoneData> base) : base_(std::move(base)) { setFrom(*base_); }

void ZoneView::setFrom(const ZoneData& front) {
  origin = front.origin;
  apex = front.apex;
  soa = front.soa;
  negativeTtl = front.negativeTtl;
  hasDelegations = base_->hasDelegations || front.hasDelegations;
  hasWildcards = base_->hasWildcards || front.hasWildcards;
}

std::shared_ptr<const ZoneView> ZoneView::overlay(const ZoneView& previous,
                                                  const std::vector<ResourceRecord>& added, uint32_t serial) {
  const ZoneData& base = *previous.base_;
  if (base.apex == nullptr) return nullptr;
  // The apex in full (its SOA with the new serial, RFC 1996 §2), then every added record.
  dnswire::Zone zone;
  zone.origin = base.origin;
  const Node& apexNode = previous.delta_ ? *previous.delta_->apex : *base.apex;
  if (!decodeNode(previous.nodeName(apexNode), apexNode, zone.records)) return nullptr;
  const size_t apexRecords = zone.records.size();
  for (auto& rr : zone.records)
    if (auto* soaData = std::get_if<dnswire::Soa>(&rr.data); soaData != nullptr && rr.type == RRType::SOA)
      soaData->serial = serial;
  auto all = std::make_shared<std::vector<ResourceRecord>>();
  if (previous.added_) *all = *previous.added_;
  all->insert(all->end(), added.begin(), added.end());
  zone.records.insert(zone.records.end(), all->begin(), all->end());

  auto delta = ZoneData::build(zone);
  if (delta == nullptr) return nullptr;
  // Rotation goes on where it was: the base's counters, then the previous delta's (newer
  // for the apex and for the names added before).
  delta->carryRotationFrom(base);
  if (previous.delta_) delta->carryRotationFrom(*previous.delta_);

  std::shared_ptr<ZoneView> view(new ZoneView());
  view->base_ = previous.base_;
  view->delta_ = std::move(delta);
  view->added_ = std::move(all);
  view->apexRecords_ = apexRecords;
  view->addedNames_ = view->delta_->nodeCount() - 1;
  view->setFrom(*view->delta_);
  return view;
}

const Node* ZoneView::findNode(const Name& name) const {
  if (delta_) {
    if (const Node* node = delta_->findNode(name)) {
      if (!node->rrsets.empty()) return node;
      // An empty non-terminal of the delta: the base may hold data there (RFC 8020).
      if (const Node* held = base_->findNode(name)) return held;
      return node;
    }
  }
  return base_->findNode(name);
}

Name ZoneView::nodeName(const Node& node) const {
  if (delta_ && inside(node, *delta_)) return delta_->nodeName(node);
  return base_->nodeName(node);
}

size_t ZoneView::nodeCount() const { return base_->nodeCount() + (delta_ ? delta_->nodeCount() - 1 : 0); }

size_t ZoneView::recordCount() const {
  return base_->recordCount() + (delta_ ? delta_->recordCount() - apexRecords_ : 0);
}

}  // namespace centrald
