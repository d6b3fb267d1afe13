#include "centrald/answer.hpp"

#include <variant>

namespace centrald {
namespace {

using dnswire::Name;
using dnswire::Rcode;
using dnswire::RRType;
using dnswire::Section;

// Nodes whose addresses are already in the additional section (RFC 1034 §3.6.2 wants
// them once); a fixed table, since a response holds few of them.
class AdditionalSet {
 public:
  bool insert(const Node* node) {
    for (size_t i = 0; i < count_; ++i)
      if (nodes_[i] == node) return false;
    if (count_ == kCapacity) return false;  // enough additional data for one response
    nodes_[count_++] = node;
    return true;
  }

 private:
  static constexpr size_t kCapacity = 16;
  const Node* nodes_[kCapacity]{};
  size_t count_ = 0;
};

// Where an A/AAAA RRset starts for this response: one position further each time, shared
// by every thread (SPEC "Answers": k queries put each of k addresses first once).
size_t rotationStart(const RRset& set) { return set.rotates() ? set.rotation.next() % set.size() : 0; }

// The name whose addresses belong in the additional section for this record, if any:
// NS hosts and MX exchanges (RFC 1035 §3.3.9, §3.3.11), SRV targets (RFC 2782).
const Name* additionalTarget(const dnswire::RData& data) {
  if (const auto* ns = std::get_if<dnswire::Ns>(&data)) return &ns->nsdname;
  if (const auto* mx = std::get_if<dnswire::Mx>(&data)) return &mx->exchange;
  if (const auto* srv = std::get_if<dnswire::Srv>(&data))
    return srv->target.isRoot() ? nullptr : &srv->target;
  return nullptr;
}

// Adds the A and AAAA RRsets of `target` when one of our zones (or `within`, when given)
// holds them. Returns false when one did not fit.
bool addAddresses(AnswerState& state, const Name& target, const ZoneView* within, AdditionalSet& added) {
  const ZoneView* zone = within != nullptr ? within : state.snapshot.findZone(target);
  if (zone == nullptr || !target.isSubdomainOf(zone->origin)) return true;
  const Node* node = zone->findNode(target);
  if (node == nullptr || !added.insert(node)) return true;
  const Name owner = zone->nodeName(*node);
  for (RRType type : {RRType::A, RRType::AAAA}) {
    const RRset* set = node->find(type);
    if (set != nullptr && !state.writer.addRRset(Section::Additional, owner, false, *set)) return false;
  }
  return true;
}

void addAdditionalFor(AnswerState& state, const RRset& set, AdditionalSet& added) {
  for (const auto& data : set.typed) {
    const Name* target = additionalTarget(data);
    // Additional data is optional: what does not fit is left out without TC
    // (RFC 2181 §9).
    if (target != nullptr && !addAddresses(state, *target, nullptr, added)) return;
  }
}

bool writeAnswerSet(AnswerState& state, const Name& owner, bool ownerIsQname, const RRset& set) {
  if (state.writer.addRRset(Section::Answer, owner, ownerIsQname, set, rotationStart(set))) {
    if (set.rotates() && state.rotation != nullptr) {
      ++state.rotation->rotatedSets;
      state.rotation->rotated = &set;
    }
    return true;
  }
  state.writer.setTruncated();
  return false;
}

void writeNegativeSoa(AnswerState& state, const ZoneView& zone) {
  // RFC 2308 §3: the SOA's TTL in a negative answer is min(SOA TTL, SOA MINIMUM).
  if (!state.writer.addRRset(Section::Authority, zone.origin, false, *zone.soa, 0, zone.negativeTtl))
    state.writer.setTruncated();
}

}  // namespace

std::optional<Rcode> policyRcode(const dnswire::QueryView& query) {
  if (query.qclass != dnswire::RRClass::IN) return Rcode::Refused;  // we hold IN zones only
  if (query.qtype == RRType::AXFR || query.qtype == RRType::IXFR) return Rcode::Refused;  // no transfers
  return std::nullopt;
}

Lookup lookup(const ZoneSnapshot& snapshot, const Name& name) {
  Lookup result;
  const ZoneView* zone = snapshot.findZone(name);
  if (zone == nullptr) return result;
  result.zone = zone;

  // RFC 1034 §4.3.2 step 3b: the highest zone cut between the apex and the name wins.
  if (zone->hasDelegations && name != zone->origin) {
    const Node* cut = nullptr;
    for (Name up = name; up != zone->origin && !up.isRoot(); up = up.parent()) {
      const Node* node = zone->findNode(up);
      if (node != nullptr && node->delegation) cut = node;
    }
    if (cut != nullptr) {
      result.kind = Lookup::Kind::Delegation;
      result.node = cut;
      return result;
    }
  }

  if (const Node* node = zone->findNode(name)) {
    result.kind = Lookup::Kind::Node;
    result.node = node;
    return result;
  }

  // RFC 4592 §3.3.1: the wildcard at the closest encloser answers for names that do not
  // exist. Empty non-terminals count as existing, so they block it (§2.2.2).
  if (zone->hasWildcards) {
    Name encloser = name.parent();
    while (encloser != zone->origin && !encloser.isRoot() && zone->findNode(encloser) == nullptr)
      encloser = encloser.parent();
    auto wildcardName = encloser.prepend("*");
    if (wildcardName) {
      if (const Node* node = zone->findNode(*wildcardName)) {
        result.kind = Lookup::Kind::Node;
        result.node = node;
        result.wildcard = true;
        return result;
      }
    }
  }
  result.kind = Lookup::Kind::Nxdomain;
  return result;
}

void answerExact(AnswerState& state, const Name& owner, bool ownerIsQname, const Node& node) {
  AdditionalSet added;
  if (state.query.qtype == RRType::ANY) {
    // RFC 8482 §4.2: over UDP one RRset is enough; over TCP the client gets them all.
    if (state.transport == Transport::Udp) {
      const RRset& set = node.rrsets.front();
      if (writeAnswerSet(state, owner, ownerIsQname, set)) addAdditionalFor(state, set, added);
      return;
    }
    for (const auto& set : node.rrsets)
      if (!writeAnswerSet(state, owner, ownerIsQname, set)) return;
    for (const auto& set : node.rrsets) addAdditionalFor(state, set, added);
    return;
  }
  const RRset* set = node.find(state.query.qtype);
  if (set == nullptr) return;
  if (writeAnswerSet(state, owner, ownerIsQname, *set)) addAdditionalFor(state, *set, added);
}

const Name* answerCname(AnswerState& state, const Name& owner, bool ownerIsQname, const RRset& cname) {
  if (!writeAnswerSet(state, owner, ownerIsQname, cname) || cname.typed.empty()) return nullptr;
  const auto* data = std::get_if<dnswire::Cname>(&cname.typed.front());
  return data != nullptr ? &data->target : nullptr;
}

void answerDelegation(AnswerState& state, const ZoneView& zone, const Node& cut) {
  const RRset* ns = cut.find(RRType::NS);
  if (ns == nullptr) return;
  const Name cutName = zone.nodeName(cut);
  if (!state.writer.addRRset(Section::Authority, cutName, false, *ns)) {
    state.writer.setTruncated();
    return;
  }
  AdditionalSet added;
  for (const auto& data : ns->typed) {
    const auto* host = std::get_if<dnswire::Ns>(&data);
    if (host == nullptr || !host->nsdname.isSubdomainOf(zone.origin)) continue;
    // Glue below the cut is needed to reach the child at all: when it does not fit,
    // the client must retry over TCP (RFC 9471 §3).
    if (!addAddresses(state, host->nsdname, &zone, added)) {
      if (host->nsdname.isSubdomainOf(cutName)) state.writer.setTruncated();
      return;
    }
  }
}

void answerNodata(AnswerState& state, const ZoneView& zone) { writeNegativeSoa(state, zone); }

void answerNxdomain(AnswerState& state, const ZoneView& zone) {
  state.writer.setRcode(Rcode::NXDomain);
  writeNegativeSoa(state, zone);
}

AnswerResult answerQuery(const ZoneSnapshot& snapshot, const dnswire::QueryView& query, Transport transport,
                         std::span<uint8_t> out, size_t limit) {
  ResponseWriter writer(out, limit, query);
  if (!writer.ok()) return {};
  AnswerResult rotation;
  auto finish = [&writer, &rotation] {
    AnswerResult result = rotation;
    result.rcode = writer.rcode();
    result.truncated = writer.truncated();
    result.size = writer.finish();
    return result;
  };

  if (query.hasEdns && query.ednsVersion > 0) {
    writer.setRcode(Rcode::BadVers);  // RFC 6891 §6.1.3
    return finish();
  }
  if (auto rcode = policyRcode(query)) {
    writer.setRcode(*rcode);
    return finish();
  }

  AnswerState state{snapshot, query, transport, writer, &rotation};
  const Name* current = &query.qname;
  bool currentIsQname = true;
  const RRset* followed[kMaxCnameChain];
  size_t followedCount = 0;

  for (size_t hop = 0;; ++hop) {
    const Lookup found = lookup(snapshot, *current);
    switch (found.kind) {
      case Lookup::Kind::NotOurs:
        // A first name outside our zones is refused; a CNAME leading out of them ends
        // the chain (the client resolves the rest; RFC 1034 §4.3.2 step 3a).
        if (hop == 0) writer.setRcode(Rcode::Refused);
        return finish();
      case Lookup::Kind::Delegation:
        answerDelegation(state, *found.zone, *found.node);
        return finish();
      case Lookup::Kind::Nxdomain:
        if (hop == 0) writer.setAuthoritative(true);
        // RFC 6604 §3: after a CNAME the rcode describes the last name of the chain.
        answerNxdomain(state, *found.zone);
        return finish();
      case Lookup::Kind::Node:
        break;
    }
    if (hop == 0) writer.setAuthoritative(true);
    const Node& node = *found.node;
    const RRType qtype = query.qtype;
    const RRset* cname = node.find(RRType::CNAME);
    if (cname != nullptr && qtype != RRType::CNAME && qtype != RRType::ANY) {
      // RFC 1034 §4.3.2 step 3a: follow the alias, within a limit and never twice.
      if (hop >= kMaxCnameChain) return finish();
      for (size_t i = 0; i < followedCount; ++i)
        if (followed[i] == cname) return finish();
      followed[followedCount++] = cname;
      const Name* target = answerCname(state, *current, currentIsQname, *cname);
      if (target == nullptr) return finish();
      current = target;
      currentIsQname = false;
      continue;
    }
    const bool hasData = qtype == RRType::ANY ? !node.rrsets.empty() : node.find(qtype) != nullptr;
    if (hasData)
      answerExact(state, *current, currentIsQname, node);
    else
      answerNodata(state, *found.zone);
    return finish();
  }
}

}  // namespace centrald
