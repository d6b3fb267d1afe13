#include "centrald/zone_view.hpp"

#include <optional>
#include <utility>

#include "centrald/zone_builder.hpp"

namespace centrald {

using dnswire::Name;
using dnswire::ResourceRecord;
using dnswire::RRType;

namespace {

// Feeds the records of `node` to `builder` in their stored wire form (TYPE CLASS TTL
// RDLENGTH RDATA): nothing is decoded. With `serial`, the SOA's SERIAL is replaced; it is
// the third field from the end's end, before REFRESH RETRY EXPIRE MINIMUM (RFC 1035
// §3.3.13). False when a stored record does not go back in (it went in once: a bug).
bool addNode(ZoneBuilder& builder, const Name& owner, const Node& node, std::optional<uint32_t> serial,
             std::vector<uint8_t>& scratch) {
  for (const auto& set : node.rrsets) {
    for (size_t i = 0; i < set.size(); ++i) {
      auto wire = set.recordWire(i);
      if (wire.size() < 10) return false;
      const auto cls = static_cast<dnswire::RRClass>((wire[2] << 8) | wire[3]);
      std::span<const uint8_t> rdata = wire.subspan(10);
      if (serial && set.type == RRType::SOA) {
        if (rdata.size() < 22) return false;  // two names of at least one byte, five fields
        scratch.assign(rdata.begin(), rdata.end());
        const size_t at = scratch.size() - 20;
        for (size_t b = 0; b < 4; ++b) scratch[at + b] = static_cast<uint8_t>(*serial >> (24 - 8 * b));
        rdata = scratch;
      }
      if (!builder.add(owner, set.type, cls, set.ttl, rdata)) return false;
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
  ZoneBuilder builder(base.origin);
  std::vector<uint8_t> scratch;
  // The apex in full with the new serial (RFC 1996 §2), then the names added before, from
  // the previous delta's wire records (its empty non-terminals come back by themselves).
  const ZoneData* front = previous.delta_ ? previous.delta_.get() : &base;
  if (!addNode(builder, front->nodeName(*front->apex), *front->apex, serial, scratch)) return nullptr;
  const size_t apexRecords = [&] {
    size_t n = 0;
    for (const auto& set : front->apex->rrsets) n += set.size();
    return n;
  }();
  if (previous.delta_) {
    for (const auto& node : previous.delta_->nodes()) {
      if (&node == previous.delta_->apex || node.rrsets.empty()) continue;
      if (!addNode(builder, previous.delta_->nodeName(node), node, std::nullopt, scratch)) return nullptr;
    }
  }
  // This round's records.
  for (const auto& rr : added) builder.add(rr);

  auto delta = builder.finish();
  if (delta == nullptr) return nullptr;
  // Rotation goes on where it was: the base's counters, then the previous delta's (newer
  // for the apex and for the names added before).
  delta->carryRotationFrom(base);
  if (previous.delta_) delta->carryRotationFrom(*previous.delta_);

  std::shared_ptr<ZoneView> view(new ZoneView());
  view->base_ = previous.base_;
  view->delta_ = std::move(delta);
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
