#include "proxyd/cache_entry.hpp"

#include <algorithm>
#include <cstring>
#include <variant>

#include "dnswire/message_writer.hpp"
#include "dnswire/wire_reader.hpp"

namespace proxyd {

using dnswire::Message;
using dnswire::Name;
using dnswire::ResourceRecord;
using dnswire::RRType;
using dnswire::Section;

namespace {

constexpr size_t kMaxChain = 16;
constexpr size_t kOptSize = 11;  // root, TYPE, CLASS, TTL, RDLENGTH 0

// DNSSEC records that may ride along in authority (RFC 4035 §3.1.3).
bool isDnssecType(RRType type) {
  const auto code = static_cast<uint16_t>(type);
  return code == 43 || code == 46 || code == 47 || code == 50;  // DS, RRSIG, NSEC, NSEC3
}

bool contains(const std::vector<Name>& names, const Name& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// `records` grouped into RRsets (owner, type, class), in order of first appearance, with
// duplicates dropped and each set's TTL lowered to its minimum (RFC 2181 §5.2).
std::vector<std::vector<ResourceRecord>> groupRRsets(const std::vector<const ResourceRecord*>& records) {
  std::vector<std::vector<ResourceRecord>> sets;
  for (const ResourceRecord* rr : records) {
    auto it = std::find_if(sets.begin(), sets.end(), [&](const auto& set) {
      return set.front().owner == rr->owner && set.front().type == rr->type && set.front().cls == rr->cls;
    });
    if (it == sets.end()) {
      sets.push_back({*rr});
      continue;
    }
    const bool duplicate = std::any_of(it->begin(), it->end(),
                                       [&](const ResourceRecord& have) { return have.data == rr->data; });
    if (!duplicate) it->push_back(*rr);
  }
  for (auto& set : sets) {
    uint32_t ttl = kTtlCap;
    for (const auto& rr : set) ttl = std::min(ttl, rr.ttl);
    for (auto& rr : set) rr.ttl = ttl;
  }
  return sets;
}

void putU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

void patchHeader(uint8_t* out, const dnswire::QueryView& query) {
  out[0] = static_cast<uint8_t>(query.header.id >> 8);
  out[1] = static_cast<uint8_t>(query.header.id);
  out[2] = static_cast<uint8_t>((out[2] & ~0x01) | (query.header.rd ? 0x01 : 0));
  out[3] = static_cast<uint8_t>((out[3] & ~0x10) | (query.header.cd ? 0x10 : 0));
}

void writeOpt(uint8_t* p, bool dnssecOk) {
  const uint8_t opt[kOptSize] = {0,
                                 0,
                                 41,
                                 static_cast<uint8_t>(dnswire::kAdvertisedUdpSize >> 8),
                                 static_cast<uint8_t>(dnswire::kAdvertisedUdpSize & 0xff),
                                 0,
                                 0,
                                 static_cast<uint8_t>(dnssecOk ? 0x80 : 0),
                                 0,
                                 0,
                                 0};
  std::memcpy(p, opt, kOptSize);
}

void setCount(uint8_t* header, int index, uint16_t value) {
  header[4 + 2 * index] = static_cast<uint8_t>(value >> 8);
  header[5 + 2 * index] = static_cast<uint8_t>(value);
}

uint16_t getCount(const uint8_t* header, int index) {
  return static_cast<uint16_t>(header[4 + 2 * index] << 8 | header[5 + 2 * index]);
}

}  // namespace

size_t CacheEntry::footprint() const {
  return sizeof(CacheEntry) + wire.capacity() + ttls.capacity() * sizeof(TtlSlot) +
         rotating.capacity() * sizeof(RotatingSet);
}

BuiltEntry buildEntry(const Message& response, const dnswire::Question& question, const Name& bailiwickHint,
                      Clock::TimePoint now) {
  BuiltEntry built;
  const Name qname = question.qname.lowercased();
  const bool followChain = question.qtype != RRType::CNAME && question.qtype != RRType::ANY;

  // The CNAME chain from the qname (RFC 1034 §4.3.2 step 3a), loops stopped.
  std::vector<Name> chain{qname};
  while (followChain && chain.size() <= kMaxChain) {
    const Name* target = nullptr;
    for (const auto& rr : response.answers) {
      if (rr.type != RRType::CNAME || rr.cls != question.qclass || rr.owner != chain.back()) continue;
      if (const auto* cname = std::get_if<dnswire::Cname>(&rr.data)) target = &cname->target;
      break;
    }
    if (target == nullptr || contains(chain, *target)) break;
    chain.push_back(target->lowercased());
  }
  built.finalName = chain.back();

  std::vector<const ResourceRecord*> answers;
  for (const Name& name : chain)
    for (const auto& rr : response.answers)
      if (rr.owner == name && rr.cls == question.qclass) answers.push_back(&rr);
  const bool hasFinalData = std::any_of(answers.begin(), answers.end(), [&](const ResourceRecord* rr) {
    return rr->owner == built.finalName && (rr->type == question.qtype || question.qtype == RRType::ANY ||
                                            (question.qtype == RRType::CNAME && rr->type == RRType::CNAME));
  });

  std::vector<const ResourceRecord*> authority;
  const ResourceRecord* soa = nullptr;
  const ResourceRecord* ns = nullptr;
  for (const auto& rr : response.authority) {
    const bool zoneOwner = built.finalName.isSubdomainOf(rr.owner) || qname.isSubdomainOf(rr.owner);
    if (!zoneOwner) continue;
    if (rr.type == RRType::SOA) {
      if (soa == nullptr)
        soa = &rr;
      else
        continue;  // one SOA is all RFC 2308 asks for
    } else if (rr.type == RRType::NS) {
      if (ns == nullptr) ns = &rr;
    } else if (!isDnssecType(rr.type)) {
      continue;
    }
    authority.push_back(&rr);
  }
  Name bailiwick = soa != nullptr ? soa->owner : ns != nullptr ? ns->owner : bailiwickHint;
  if (bailiwick.empty()) bailiwick = built.finalName.parent();

  std::vector<const ResourceRecord*> additional;
  for (const auto& rr : response.additional)
    if (rr.type != RRType::OPT && rr.type != RRType::TSIG && rr.owner.isSubdomainOf(bailiwick))
      additional.push_back(&rr);

  const uint16_t rcode = response.rcode();
  const bool nxdomain = rcode == static_cast<uint16_t>(dnswire::Rcode::NXDomain);
  const bool noerror = rcode == 0;
  built.chainIncomplete = noerror && chain.size() > 1 && !hasFinalData && soa == nullptr;
  const bool negative = nxdomain || (noerror && !hasFinalData);

  auto answerSets = groupRRsets(answers);
  auto authoritySets = groupRRsets(authority);
  auto additionalSets = groupRRsets(additional);
  if (negative)
    for (auto& set : authoritySets)
      for (auto& rr : set)
        if (const auto* data = std::get_if<dnswire::Soa>(&rr.data)) rr.ttl = std::min(rr.ttl, data->minimum);

  built.cacheable =
      (noerror || nxdomain) && !response.header.tc && (!negative || soa != nullptr) && !built.chainIncomplete;

  // Encode, into a buffer kept per thread: a fresh zeroed 64 KB vector per answer from
  // upstream cost a fifth of proxyd's time on the miss path (memset and page faults).
  thread_local std::vector<uint8_t> buffer(dnswire::kMaxMessageSize);
  dnswire::MessageWriter writer(buffer, buffer.size());
  dnswire::Header header;
  header.qr = true;
  header.rd = true;
  header.ra = true;
  header.rcode = static_cast<uint8_t>(rcode & 0x0f);
  if (!writer.setHeader(header) || !writer.addQuestion({qname, question.qtype, question.qclass}))
    return built;
  auto entry = std::make_shared<CacheEntry>();
  entry->questionEnd = writer.size();

  struct Written {
    size_t start;
    size_t set;  // index into `sets` below
  };
  std::vector<Written> records;
  struct SetInfo {
    size_t firstRecord;
    size_t count;
    bool rotates;
  };
  std::vector<SetInfo> sets;
  uint32_t minTtl = UINT32_MAX;
  auto writeSets = [&](Section section, const std::vector<std::vector<ResourceRecord>>& rrsets) {
    for (const auto& set : rrsets) {
      const bool rotates =
          (set.front().type == RRType::A || set.front().type == RRType::AAAA) && set.size() > 1;
      const size_t setStart = writer.size();
      sets.push_back({records.size(), set.size(), rotates});
      for (auto rr : set) {
        rr.ttl = std::min(rr.ttl, kTtlCap);
        minTtl = std::min(minTtl, rr.ttl);
        records.push_back({writer.size(), sets.size() - 1});
        if (!writer.add(section, rr)) return false;
        // Later names must not point into a set whose records move, and each record of
        // the set must be written like the first (same owner bytes).
        if (rotates) writer.compressor().forgetFrom(setStart);
      }
    }
    return true;
  };
  if (!writeSets(Section::Answer, answerSets) || !writeSets(Section::Authority, authoritySets) ||
      !writeSets(Section::Additional, additionalSets))
    return built;
  const auto wire = writer.finish();
  entry->wire.assign(wire.begin(), wire.end());

  // TTL offsets and record sizes, read back from what was written.
  std::vector<size_t> ends(records.size());
  entry->ttls.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    dnswire::WireReader reader(entry->wire);
    reader.seek(records[i].start);
    uint16_t rdlength = 0;
    if (!dnswire::skipName(reader) || !reader.skip(4)) return built;
    const size_t ttlOffset = reader.position();
    uint32_t ttl = 0;
    if (!reader.readU32(ttl) || !reader.readU16(rdlength) || !reader.skip(rdlength)) return built;
    entry->ttls.push_back({static_cast<uint32_t>(ttlOffset), ttl});
    ends[i] = reader.position();
  }
  for (const auto& set : sets) {
    if (!set.rotates) continue;
    const size_t first = set.firstRecord;
    const size_t size = ends[first] - records[first].start;
    bool uniform = true;
    for (size_t i = first; i < first + set.count; ++i)
      uniform = uniform && ends[i] - records[i].start == size;
    if (uniform)
      entry->rotating.push_back({static_cast<uint32_t>(records[first].start), static_cast<uint32_t>(size),
                                 static_cast<uint32_t>(set.count)});
  }

  if (minTtl == UINT32_MAX) minTtl = 0;
  entry->stored = now;
  entry->expires = now + std::chrono::seconds(std::max(minTtl, kTtlFloor));
  entry->staleUntil = entry->expires + kStaleWindow;
  entry->rcode = rcode;
  entry->negative = negative;
  built.entry = std::move(entry);
  if (rcode > 0x0f) built.cacheable = false;
  return built;
}

size_t writeAnswer(const CacheEntry& entry, const dnswire::QueryView& query, std::span<uint8_t> out,
                   size_t limit, Clock::TimePoint now, std::optional<uint32_t> forcedTtl) {
  limit = std::min(limit, out.size());
  const size_t optSize = query.hasEdns ? kOptSize : 0;
  const size_t qnameSize = entry.questionEnd - dnswire::kHeaderSize - 4;
  if (entry.wire.size() < entry.questionEnd || query.qname.size() != qnameSize) return 0;
  uint8_t* p = out.data();

  if (entry.wire.size() + optSize > limit) {
    // RFC 2181 §9: what does not fit is left out and TC set; the client retries over TCP.
    const size_t size = entry.questionEnd + optSize;
    if (size > limit) return 0;
    std::memcpy(p, entry.wire.data(), entry.questionEnd);
    patchHeader(p, query);
    std::memcpy(p + dnswire::kHeaderSize, query.qname.wire().data(), qnameSize);
    p[2] |= 0x02;
    setCount(p, 1, 0);
    setCount(p, 2, 0);
    setCount(p, 3, optSize ? 1 : 0);
    if (optSize) writeOpt(p + entry.questionEnd, query.dnssecOk);
    return size;
  }

  std::memcpy(p, entry.wire.data(), entry.wire.size());
  patchHeader(p, query);
  std::memcpy(p + dnswire::kHeaderSize, query.qname.wire().data(), qnameSize);
  if (!entry.rotating.empty()) {
    const uint32_t k = entry.rotation.fetch_add(1, std::memory_order_relaxed);
    for (const auto& set : entry.rotating) {
      const uint32_t r = k % set.count;
      if (r == 0) continue;
      const uint8_t* src = entry.wire.data() + set.offset;
      uint8_t* dst = p + set.offset;
      std::memcpy(dst, src + size_t{r} * set.recordSize, size_t{set.count - r} * set.recordSize);
      std::memcpy(dst + size_t{set.count - r} * set.recordSize, src, size_t{r} * set.recordSize);
    }
  }
  const auto ageSeconds = std::chrono::duration_cast<std::chrono::seconds>(now - entry.stored).count();
  const uint32_t age = ageSeconds <= 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(ageSeconds, UINT32_MAX));
  for (const auto& slot : entry.ttls) {
    const uint32_t ttl = forcedTtl ? *forcedTtl : (slot.ttl > age ? slot.ttl - age : 0);
    putU32(p + slot.offset, ttl);
  }
  size_t size = entry.wire.size();
  if (optSize) {
    writeOpt(p + size, query.dnssecOk);
    setCount(p, 3, static_cast<uint16_t>(getCount(p, 3) + 1));
    size += optSize;
  }
  return size;
}

void setRecursionAvailable(std::span<uint8_t> response) {
  if (response.size() >= dnswire::kHeaderSize) response[3] |= 0x80;
}

}  // namespace proxyd
