#include "centrald/zone_data.hpp"

#include "centrald/zone_builder.hpp"
#include "dnswire/name_words.hpp"

namespace centrald {

using dnswire::Name;
using dnswire::RRType;

std::shared_ptr<ZoneData> ZoneData::build(const dnswire::Zone& zone) {
  ZoneBuilder builder(zone.origin);
  for (const auto& rr : zone.records) builder.add(rr);
  return builder.finish();
}

void ZoneData::carryRotationFrom(const ZoneData& previous) {
  for (const auto& node : nodes_) {
    bool rotating = false;
    for (const auto& set : node.rrsets) rotating |= set.rotates();
    if (!rotating) continue;
    const Node* oldNode = previous.findNode(nodeName(node));
    if (oldNode == nullptr) continue;
    for (const auto& set : node.rrsets)
      if (const RRset* oldSet = oldNode->find(set.type); oldSet != nullptr && set.rotates())
        rrsets_[static_cast<size_t>(&set - rrsets_.data())].rotation.store(oldSet->rotation.load());
  }
}

const Node* ZoneData::findNode(const Name& name) const {
  return findNode(name.wire(), static_cast<uint32_t>(name.hash()));
}

const Node* ZoneData::findNode(std::span<const uint8_t> wire, uint32_t hash) const {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint32_t slot = slots_[i];
    if (slot == 0) return nullptr;  // the table is at most half full: this ends
    const Node& node = nodes_[slot - 1];
    if (node.hash == hash && node.nameSize == wire.size() &&
        dnswire::words::equalIgnoringCase(names_.data() + node.nameOffset, wire.data(), wire.size()))
      return &node;
  }
}

Name ZoneData::nodeName(const Node& node) const {
  auto name = Name::fromUncompressed(nodeWire(node));
  return name ? *name : Name();
}

}  // namespace centrald
