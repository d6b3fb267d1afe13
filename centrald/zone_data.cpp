#include "centrald/zone_data.hpp"

#include "centrald/zone_builder.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/wire_writer.hpp"

namespace centrald {
namespace {

using dnswire::Name;
using dnswire::RRType;

// Case-insensitive comparison of wire bytes (RFC 4343): label lengths are below 'A'.
bool equalIgnoringCase(const uint8_t* a, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t x = a[i];
    uint8_t y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<uint8_t>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<uint8_t>(y + 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<ZoneData> ZoneData::build(const dnswire::Zone& zone) {
  ZoneBuilder builder(zone.origin);
  std::vector<uint8_t> scratch(dnswire::kMaxMessageSize);
  for (const auto& rr : zone.records) {
    if (rr.type == RRType::OPT || rr.type == RRType::TSIG) continue;  // never zone data
    dnswire::WireWriter writer(scratch);
    if (!dnswire::typeInfo(rr.type).encode(rr.data, writer, nullptr)) continue;  // cannot fit 64 KiB
    if (writer.size() > 0xffff) continue;
    (void)builder.add(rr.owner, rr.type, rr.cls, rr.ttl, writer.written());  // what fails is left out
  }
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
        equalIgnoringCase(names_.data() + node.nameOffset, wire.data(), wire.size()))
      return &node;
  }
}

Name ZoneData::nodeName(const Node& node) const {
  auto name = Name::fromUncompressed(nodeWire(node));
  return name ? *name : Name();
}

}  // namespace centrald
