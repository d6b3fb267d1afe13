#include "centrald/zone_data.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>

#include "dnswire/rr_table.hpp"
#include "dnswire/wire_writer.hpp"

namespace centrald {
namespace {

using dnswire::Name;
using dnswire::ResourceRecord;
using dnswire::RRType;

// Types whose RDATA names the answer logic follows (CNAME chains, additional-section
// processing of RFC 1034 §3.6.2 / RFC 2782, the SOA for negative answers).
bool keepsTyped(RRType type) {
  switch (type) {
    case RRType::NS:
    case RRType::CNAME:
    case RRType::SOA:
    case RRType::PTR:
    case RRType::MX:
    case RRType::SRV:
      return true;
    default:
      return false;
  }
}

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

bool isWildcard(const Name& name) { return name.labelCount() > 0 && name.label(0) == "*"; }

// Encodes `records` (all of one owner and type) into `set`; duplicates are dropped.
// `buffer` is scratch space of kMaxMessageSize bytes, reused for every record.
void encodeRRset(const std::vector<const ResourceRecord*>& records, RRset& set,
                 std::vector<uint8_t>& buffer) {
  set.type = records.front()->type;
  set.ttl = records.front()->ttl;
  for (const auto* rr : records) set.ttl = std::min(set.ttl, rr->ttl);
  set.compressNames = dnswire::typeInfo(set.type).compressNames;
  const auto& info = dnswire::typeInfo(set.type);

  set.offsets.push_back(0);
  for (const auto* rr : records) {
    dnswire::WireWriter writer(buffer);
    writer.writeU16(static_cast<uint16_t>(rr->type));
    writer.writeU16(static_cast<uint16_t>(rr->cls));
    writer.writeU32(set.ttl);
    const size_t rdlengthAt = writer.size();
    writer.writeU16(0);
    if (!info.encode(rr->data, writer, nullptr)) continue;  // cannot fit 64 KiB: skip it
    const size_t rdlength = writer.size() - rdlengthAt - 2;
    if (rdlength > 0xffff) continue;
    writer.patchU16(rdlengthAt, static_cast<uint16_t>(rdlength));
    auto bytes = writer.written();

    bool duplicate = false;
    for (size_t i = 0; i + 1 < set.offsets.size() && !duplicate; ++i) {
      auto existing = set.recordWire(i);
      duplicate =
          existing.size() == bytes.size() && std::equal(existing.begin(), existing.end(), bytes.begin());
    }
    if (duplicate) continue;
    set.wire.insert(set.wire.end(), bytes.begin(), bytes.end());
    set.offsets.push_back(static_cast<uint32_t>(set.wire.size()));
    if (keepsTyped(set.type)) set.typed.push_back(rr->data);
  }
}

}  // namespace

std::shared_ptr<ZoneData> ZoneData::build(const dnswire::Zone& zone) {
  const ResourceRecord* soa = nullptr;
  for (const auto& rr : zone.records)
    if (rr.type == RRType::SOA && rr.owner == zone.origin) {
      soa = &rr;
      break;
    }
  if (soa == nullptr) return nullptr;

  // Group by owner, then by type in order of first appearance (build-time only).
  std::unordered_map<Name, size_t, dnswire::NameHash> indexOf;
  std::vector<Name> owners;
  std::vector<std::vector<std::vector<const ResourceRecord*>>> groups;
  auto nodeIndex = [&](const Name& owner) {
    auto [it, inserted] = indexOf.try_emplace(owner, owners.size());
    if (inserted) {
      owners.push_back(owner);
      groups.emplace_back();
    }
    return it->second;
  };
  nodeIndex(zone.origin);
  for (const auto& rr : zone.records) {
    if (!rr.owner.isSubdomainOf(zone.origin)) continue;               // the loader rejects these already
    if (rr.type == RRType::OPT || rr.type == RRType::TSIG) continue;  // never zone data
    auto& byType = groups[nodeIndex(rr.owner)];
    auto it = std::find_if(byType.begin(), byType.end(),
                           [&](const auto& g) { return g.front()->type == rr.type; });
    if (it == byType.end())
      byType.push_back({&rr});
    else
      it->push_back(&rr);
  }
  // Every ancestor up to the apex exists, if only as an empty non-terminal (RFC 8020).
  const size_t withData = owners.size();
  for (size_t i = 0; i < withData; ++i)
    for (Name up = owners[i]; up != zone.origin && !up.isRoot();) {
      up = up.parent();
      if (indexOf.count(up) != 0) break;  // its ancestors are there already
      nodeIndex(up);
    }

  auto built = std::make_shared<ZoneData>();
  ZoneData& data = *built;
  std::vector<uint8_t> scratch(dnswire::kMaxMessageSize);
  data.origin = zone.origin;
  data.nodes_.resize(owners.size());
  for (size_t i = 0; i < owners.size(); ++i) {
    Node& node = data.nodes_[i];
    const Name& owner = owners[i];
    node.nameOffset = static_cast<uint32_t>(data.names_.size());
    node.nameSize = static_cast<uint8_t>(owner.size());
    node.hash = static_cast<uint32_t>(owner.hash());
    data.names_.insert(data.names_.end(), owner.wire().begin(), owner.wire().end());
    for (const auto& records : groups[i]) {
      RRset set;
      encodeRRset(records, set, scratch);
      if (set.size() == 0) continue;
      data.records_ += set.size();
      node.rrsets.push_back(std::move(set));
    }
    node.delegation = owner != zone.origin && node.find(RRType::NS) != nullptr;
    data.hasDelegations |= node.delegation;
    data.hasWildcards |= isWildcard(owner);
  }
  size_t capacity = 8;
  while (capacity < 2 * data.nodes_.size()) capacity *= 2;
  data.slots_.assign(capacity, 0);
  for (size_t i = 0; i < data.nodes_.size(); ++i) {
    size_t slot = data.nodes_[i].hash & (capacity - 1);
    while (data.slots_[slot] != 0) slot = (slot + 1) & (capacity - 1);
    data.slots_[slot] = static_cast<uint32_t>(i + 1);
  }

  data.apex = data.findNode(zone.origin);
  data.soa = data.apex ? data.apex->find(RRType::SOA) : nullptr;
  if (data.soa == nullptr || data.soa->typed.empty()) return nullptr;
  const auto& soaData = std::get<dnswire::Soa>(data.soa->typed.front());
  data.negativeTtl = std::min(data.soa->ttl, soaData.minimum);
  return built;
}

void ZoneData::carryRotationFrom(const ZoneData& previous) {
  for (auto& node : nodes_) {
    bool rotating = false;
    for (const auto& set : node.rrsets) rotating |= set.rotates();
    if (!rotating) continue;
    const Node* oldNode = previous.findNode(nodeName(node));
    if (oldNode == nullptr) continue;
    for (auto& set : node.rrsets)
      if (const RRset* oldSet = oldNode->find(set.type); oldSet != nullptr && set.rotates())
        set.rotation.store(oldSet->rotation.load());
  }
}

const Node* ZoneData::findNode(const Name& name) const {
  if (slots_.empty()) return nullptr;
  const auto hash = static_cast<uint32_t>(name.hash());
  const size_t mask = slots_.size() - 1;
  const auto wire = name.wire();
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
