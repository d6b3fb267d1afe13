#include "centrald/zone_builder.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_set>

#include "dnswire/rr_table.hpp"
#include "dnswire/wire_reader.hpp"
#include "dnswire/wire_writer.hpp"

namespace centrald {
namespace {

using dnswire::Name;
using dnswire::RRType;
using dnswire::WireError;

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

constexpr size_t kFixedPart = 10;
// RRsets up to this many records look for duplicates by comparing with each record.
constexpr size_t kLinearDuplicateCheck = 32;  // TYPE CLASS TTL RDLENGTH (RFC 1035 §4.1.3)

template <class Bytes>
void appendU16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

template <class Bytes>
void appendU32(Bytes& out, uint32_t v) {
  appendU16(out, static_cast<uint16_t>(v >> 16));
  appendU16(out, static_cast<uint16_t>(v));
}

}  // namespace

ZoneBuilder::ZoneBuilder(const Name& origin) : origin_(origin), data_(std::make_shared<ZoneData>()) {
  data_->origin = origin;
  data_->slots_.assign(8, 0);
  insertNode(origin, static_cast<uint32_t>(origin.hash()));  // node 0: the apex
}

uint32_t ZoneBuilder::insertNode(const Name& owner, uint32_t hash) {
  auto& nodes = data_->nodes_;
  if (2 * (nodes.size() + 1) > data_->slots_.size()) growIndex();
  const auto index = static_cast<uint32_t>(nodes.size());
  Node node;
  node.nameOffset = static_cast<uint32_t>(data_->names_.size());
  node.nameSize = static_cast<uint8_t>(owner.size());
  node.hash = hash;
  nodes.push_back(node);
  data_->names_.insert(data_->names_.end(), owner.wire().begin(), owner.wire().end());
  nodeSets_.emplace_back();
  const size_t mask = data_->slots_.size() - 1;
  size_t slot = hash & mask;
  while (data_->slots_[slot] != 0) slot = (slot + 1) & mask;
  data_->slots_[slot] = index + 1;
  return index;
}

void ZoneBuilder::growIndex() {
  auto& slots = data_->slots_;
  slots.assign(slots.size() * 2, 0);
  const size_t mask = slots.size() - 1;
  for (size_t i = 0; i < data_->nodes_.size(); ++i) {
    size_t slot = data_->nodes_[i].hash & mask;
    while (slots[slot] != 0) slot = (slot + 1) & mask;
    slots[slot] = static_cast<uint32_t>(i + 1);
  }
}

void ZoneBuilder::add(const dnswire::ResourceRecord& rr) {
  if (rr.type == RRType::OPT || rr.type == RRType::TSIG) return;  // never zone data
  if (encodeScratch_.empty()) encodeScratch_.resize(dnswire::kMaxMessageSize);
  dnswire::WireWriter writer(encodeScratch_);
  if (!dnswire::typeInfo(rr.type).encode(rr.data, writer, nullptr)) return;  // cannot fit 64 KiB
  if (writer.size() > 0xffff) return;
  (void)add(rr.owner, rr.type, rr.cls, rr.ttl, writer.written());  // what fails is left out
}

uint32_t ZoneBuilder::nodeFor(const Name& owner) {
  const auto hash = static_cast<uint32_t>(owner.hash());
  if (const Node* node = data_->findNode(owner.wire(), hash))
    return static_cast<uint32_t>(node - data_->nodes_.data());
  return insertNode(owner, hash);
}

dnswire::Result<void> ZoneBuilder::add(const Name& owner, RRType type, dnswire::RRClass cls, uint32_t ttl,
                                       std::span<const uint8_t> rdata) {
  if (type == RRType::OPT || type == RRType::TSIG) return {};  // never zone data
  if (rdata.size() > 0xffff) return dnswire::Error(WireError::RdataLength, "RDATA over 65535 octets");
  dnswire::WireReader reader(rdata);
  if (WireError e = dnswire::typeInfo(type).validate(reader); e != WireError::Ok) return e;
  if (!reader.atEnd()) return WireError::RdataLength;  // RDATA must be consumed exactly

  // Rows of one owner mostly come together: compare with the last owner before hashing.
  uint32_t node = lastNode_;
  const auto wire = owner.wire();
  if (node == UINT32_MAX || data_->nodes_[node].nameSize != wire.size() ||
      std::memcmp(data_->names_.data() + data_->nodes_[node].nameOffset, wire.data(), wire.size()) != 0) {
    if (!owner.isSubdomainOf(origin_)) return {};  // the store rejects these already
    node = lastNode_ = nodeFor(owner);
  }

  uint32_t set = nodeSets_[node].first;
  while (set != 0 && sets_[set - 1].type != type) set = sets_[set - 1].nextSet;
  if (set == 0) {
    sets_.push_back(PendingSet{0, 0, 0, type});
    set = static_cast<uint32_t>(sets_.size());
    NodeSets& list = nodeSets_[node];
    if (list.last != 0)
      sets_[list.last - 1].nextSet = set;
    else
      list.first = set;
    list.last = set;
  }

  PendingRecord record;
  record.dataOffset = static_cast<uint32_t>(rdata_.size());
  record.ttl = ttl;
  record.cls = static_cast<uint16_t>(cls);
  record.rdlength = static_cast<uint16_t>(rdata.size());
  rdata_.insert(rdata_.end(), rdata.begin(), rdata.end());
  records_.push_back(record);
  const auto index = static_cast<uint32_t>(records_.size());
  PendingSet& pending = sets_[set - 1];
  if (pending.last != 0)
    records_[pending.last - 1].next = index;
  else
    pending.first = index;
  pending.last = index;
  return {};
}

void ZoneBuilder::addEmptyNonTerminals() {
  // Every ancestor up to the apex exists, if only as an empty non-terminal (RFC 8020).
  const size_t withData = data_->nodes_.size();
  for (size_t i = 0; i < withData; ++i) {
    Name up = data_->nodeName(data_->nodes_[i]);
    while (up != origin_ && !up.isRoot()) {
      up = up.parent();
      const auto hash = static_cast<uint32_t>(up.hash());
      if (data_->findNode(up.wire(), hash) != nullptr) break;  // its ancestors are there already
      insertNode(up, hash);
    }
  }
}

void ZoneBuilder::layOut(ZoneData& data) {
  size_t wireBytes = 0;
  size_t typedCount = 0;
  for (const auto& set : sets_) {
    const bool typed = keepsTyped(set.type);
    for (uint32_t r = set.first; r != 0; r = records_[r - 1].next) {
      wireBytes += kFixedPart + records_[r - 1].rdlength;
      typedCount += typed ? 1 : 0;
    }
  }
  data.rrsets_.reserve(sets_.size());
  data.wire_.reserve(wireBytes);
  data.offsets_.reserve(records_.size() + 1);
  data.typed_.reserve(typedCount);
  data.offsets_.push_back(0);

  // Where each RRset's boundaries and typed RDATA start; pointers are set once the arrays
  // stop growing (a typed record re-encoded from a compressed blob may grow the wire).
  std::vector<std::pair<uint32_t, uint32_t>> starts;
  starts.reserve(sets_.size());
  std::vector<uint8_t> scratch(0xffff);
  auto& wire = data.wire_;

  // Record i of the zone is wire[offsets_[i], offsets_[i + 1]).
  auto recordBytes = [&data](uint32_t i) {
    return std::string_view(reinterpret_cast<const char*>(data.wire_.data()) + data.offsets_[i],
                            data.offsets_[i + 1] - data.offsets_[i]);
  };
  auto sameRecord = [&](uint32_t a, uint32_t b) { return recordBytes(a) == recordBytes(b); };
  auto hashRecord = [&](uint32_t i) { return std::hash<std::string_view>()(recordBytes(i)); };
  std::unordered_set<uint32_t, decltype(hashRecord), decltype(sameRecord)> seen(0, hashRecord, sameRecord);

  for (size_t n = 0; n < data.nodes_.size(); ++n) {
    const auto firstSet = static_cast<uint32_t>(data.rrsets_.size());
    for (uint32_t s = nodeSets_[n].first; s != 0; s = sets_[s - 1].nextSet) {
      const PendingSet& pending = sets_[s - 1];
      const auto& info = dnswire::typeInfo(pending.type);
      const bool typed = keepsTyped(pending.type);
      RRset set;
      set.type = pending.type;
      set.compressNames = info.compressNames;
      set.ttl = UINT32_MAX;
      size_t pendingCount = 0;
      for (uint32_t r = pending.first; r != 0; r = records_[r - 1].next) {
        set.ttl = std::min(set.ttl, records_[r - 1].ttl);
        ++pendingCount;
      }
      const bool large = pendingCount > kLinearDuplicateCheck;
      if (large) seen.clear();  // clear() costs the bucket count: only when used
      const auto offsetStart = static_cast<uint32_t>(data.offsets_.size() - 1);
      const auto typedStart = static_cast<uint32_t>(data.typed_.size());

      for (uint32_t r = pending.first; r != 0; r = records_[r - 1].next) {
        const PendingRecord& record = records_[r - 1];
        std::span<const uint8_t> rdata(rdata_.data() + record.dataOffset, record.rdlength);
        if (typed) {
          // Decoded once here for answering; the RDATA is written from the value so that
          // its names are stored uncompressed whatever the row held.
          dnswire::WireReader reader(rdata);
          auto value = info.decode(reader);
          if (!value) continue;  // add() validated it: cannot happen
          dnswire::WireWriter writer(scratch);
          if (!info.encode(*value, writer, nullptr)) continue;
          data.typed_.push_back(std::move(*value));
          rdata = writer.written();
        }
        appendU16(wire, static_cast<uint16_t>(set.type));
        appendU16(wire, record.cls);
        appendU32(wire, set.ttl);
        appendU16(wire, static_cast<uint16_t>(rdata.size()));
        wire.insert(wire.end(), rdata.begin(), rdata.end());
        // Duplicates are kept once (RFC 2181 §5). A small set compares with its records so
        // far; a large one (an address pool) looks them up by hash, not quadratically.
        const uint32_t added = data.offsets_.back();
        data.offsets_.push_back(static_cast<uint32_t>(wire.size()));
        const auto candidate = static_cast<uint32_t>(data.offsets_.size() - 2);
        bool duplicate = false;
        if (large) {
          duplicate = !seen.insert(candidate).second;
        } else {
          for (uint32_t i = offsetStart; i < candidate && !duplicate; ++i)
            duplicate = sameRecord(i, candidate);
        }
        if (duplicate) {
          data.offsets_.pop_back();
          wire.resize(added);
          if (typed) data.typed_.pop_back();
        }
      }
      set.count = static_cast<uint32_t>(data.offsets_.size() - 1 - offsetStart);
      if (set.count == 0) continue;
      data.records_ += set.count;
      data.rrsets_.push_back(set);
      starts.emplace_back(offsetStart, typed ? typedStart : UINT32_MAX);
    }
    // The node's RRsets as first index and count for now (pointers below).
    nodeSets_[n] = NodeSets{firstSet, static_cast<uint32_t>(data.rrsets_.size()) - firstSet};
  }

  for (size_t i = 0; i < data.rrsets_.size(); ++i) {
    RRset& set = data.rrsets_[i];
    set.wire = wire.data();
    set.offsets = data.offsets_.data() + starts[i].first;
    if (starts[i].second != UINT32_MAX) set.typed = {data.typed_.data() + starts[i].second, set.count};
  }
  for (size_t n = 0; n < data.nodes_.size(); ++n) {
    Node& node = data.nodes_[n];
    node.rrsets = {data.rrsets_.data() + nodeSets_[n].first, nodeSets_[n].last};
    const auto name = data.nodeWire(node);
    node.delegation = n != 0 && node.find(RRType::NS) != nullptr;
    data.hasDelegations |= node.delegation;
    data.hasWildcards |= name.size() >= 2 && name[0] == 1 && name[1] == '*';
  }
}

std::shared_ptr<ZoneData> ZoneBuilder::finish() {
  if (!data_) return nullptr;
  addEmptyNonTerminals();
  auto built = std::move(data_);
  built->nodes_.shrink_to_fit();
  built->names_.shrink_to_fit();
  layOut(*built);
  // The pending arrays are done with: give their memory back now, not with the builder.
  decltype(records_)().swap(records_);
  decltype(sets_)().swap(sets_);
  decltype(nodeSets_)().swap(nodeSets_);
  decltype(rdata_)().swap(rdata_);

  built->apex = &built->nodes_.front();
  built->soa = built->apex->find(RRType::SOA);
  if (built->soa == nullptr || built->soa->typed.empty()) return nullptr;
  const auto* soa = std::get_if<dnswire::Soa>(&built->soa->typed.front());
  if (soa == nullptr) return nullptr;
  built->negativeTtl = std::min(built->soa->ttl, soa->minimum);  // RFC 2308 §3
  return built;
}

}  // namespace centrald
