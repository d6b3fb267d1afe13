#include "centrald/answer_cache.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "dnswire/message.hpp"
#include "dnswire/name_words.hpp"
#include "dnswire/wire_reader.hpp"

namespace centrald {
namespace {

constexpr size_t kQuestionOffset = dnswire::kHeaderSize;
constexpr size_t kFixedRecordPart = 10;  // TYPE CLASS TTL RDLENGTH
constexpr size_t kCacheLine = 64;
// Answers with more records are not searched for the rotating RRset (nor kept).
constexpr size_t kMaxAnswerRecords = 64;

// What besides the question changes answerQuery()'s bytes (key bits).
enum KeyFlag : uint8_t { kEdns = 1, kDnssecOk = 2, kRd = 4, kCd = 8, kTcp = 16 };

uint16_t readU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

}  // namespace

// Over the lowercased name a word at a time (as Name::hash), then the rest of the key.
uint32_t AnswerCache::hashOf(const Question& q) {
  const auto name = q.qname;
  uint64_t h = dnswire::words::mixLowered(name.size() * 0x9E3779B97F4A7C15ULL, name.data(), name.size());
  h ^= static_cast<uint64_t>(q.qtype) | static_cast<uint64_t>(q.qclass) << 16 |
       static_cast<uint64_t>(q.flags) << 32 | static_cast<uint64_t>(q.limit) << 40;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 32;
  h *= 0xC4CEB9FE1A85EC53ULL;
  return static_cast<uint32_t>(h ^ h >> 32);
}

namespace {

bool sameBytes(std::span<const uint8_t> response, size_t at, std::span<const uint8_t> record) {
  return at + record.size() <= response.size() &&
         std::memcmp(response.data() + at, record.data(), record.size()) == 0;
}

// Finds the records of `set` in the answer section of `response`: n consecutive records
// holding the set's records in round-robin order, each the same owner bytes (a pointer to
// the question, as answerQuery() writes them) and RDATA of one size. Then rotating the
// records is rotating one block of n equal units, owner and record: sets `at` to where the
// block starts, `stride` to a unit's size and `firstIndex` to the set's index of the record
// in the first unit. False when they are not found so (then nothing is cached).
bool locateRotated(std::span<const uint8_t> response, size_t qnameSize, const RRset& set, uint16_t& at,
                   uint16_t& stride, uint8_t& firstIndex) {
  const size_t n = set.size();
  if (n == 0 || n > AnswerCache::kMaxRotated) return false;
  const size_t recordSize = set.recordWire(0).size();
  for (size_t i = 1; i < n; ++i)
    if (set.recordWire(i).size() != recordSize) return false;

  const size_t ancount = readU16(response.data() + 6);
  if (ancount < n || ancount > kMaxAnswerRecords) return false;
  size_t owners[kMaxAnswerRecords];
  size_t records[kMaxAnswerRecords];
  dnswire::WireReader reader(response);
  if (!reader.skip(kQuestionOffset + qnameSize + 4)) return false;
  for (size_t i = 0; i < ancount; ++i) {
    owners[i] = reader.position();
    if (!dnswire::skipName(reader)) return false;
    records[i] = reader.position();
    if (!reader.skip(kFixedRecordPart)) return false;
    if (!reader.skip(readU16(response.data() + records[i] + 8))) return false;
  }

  for (size_t start = 0; start + n <= ancount; ++start) {
    size_t first = n;
    for (size_t k = 0; k < n && first == n; ++k)
      if (sameBytes(response, records[start], set.recordWire(k))) first = k;
    if (first == n) continue;
    size_t j = 1;
    while (j < n && sameBytes(response, records[start + j], set.recordWire((first + j) % n))) ++j;
    if (j != n) return false;
    const size_t ownerSize = records[start] - owners[start];
    for (j = 1; j < n; ++j)
      if (records[start + j] - owners[start + j] != ownerSize ||
          std::memcmp(response.data() + owners[start + j], response.data() + owners[start], ownerSize) != 0)
        return false;
    at = static_cast<uint16_t>(owners[start]);
    stride = static_cast<uint16_t>(ownerSize + recordSize);
    firstIndex = static_cast<uint8_t>(first);
    return true;
  }
  return false;
}

}  // namespace

// A key's tag: all find() reads before it knows where the entry is, kept apart from the
// log so that the tags of a busy cache stay in the CPU's caches and prefetch() can tell
// which lines of the log to load. Two tags share a cache line; a set is two lines.
struct alignas(32) AnswerCache::Tag {
  uint32_t epoch = 0;  // 0: never used
  uint32_t hash = 0;
  uint64_t position = 0;           // the entry's place in the log (log_ offset: & logMask_)
  const RRset* rotated = nullptr;  // the answer's rotating RRset, if any
};

// An entry in the log: this header, then the response, the whole a multiple of 64 bytes.
// A filler (tag kNoTag) pads the log's end when the next entry does not fit there.
struct alignas(64) AnswerCache::Entry {
  uint32_t length = 0;  // of the whole entry
  uint32_t tag = 0;     // the index of the tag written with it, or kNoTag
  uint16_t limit = 0;
  uint16_t size = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint8_t flags = 0;
  uint8_t qnameSize = 0;
  uint8_t rotatedFirst = 0;  // the rotating RRset's index of the record in the block's first unit
  uint16_t rotatedAt = 0;      // where the block of the rotating RRset's records starts
  uint16_t rotatedStride = 0;  // the size of one unit in it: owner name and record
  const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(this) + sizeof(Entry); }
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this) + sizeof(Entry); }
};

namespace {
constexpr uint32_t kNoTag = UINT32_MAX;
constexpr size_t kMinLog = 4096;  // room for the largest entry
}  // namespace

AnswerCache::AnswerCache(size_t entries) {
  static_assert(sizeof(Tag) == 32, "two tags to a cache line");
  static_assert(kWays * sizeof(Tag) == 2 * kCacheLine, "a set is two lines (prefetchTags)");
  static_assert(sizeof(Entry) == kCacheLine, "an entry's header is a cache line");
  static_assert(sizeof(Entry) + kMaxResponse <= kMinLog);
  if (entries == 0) return;
  size_t tags = kWays;
  while (tags < 2 * entries) tags <<= 1;
  size_t logSize = kMinLog;
  while (logSize < entries * kLogBytesPerEntry) logSize <<= 1;
  tags_ = dnswire::server::HugePageArray<Tag>(tags);
  log_ = dnswire::server::HugePageArray<Entry>(logSize / sizeof(Entry));
  mask_ = tags - 1;
  logMask_ = logSize - 1;
}

AnswerCache::~AnswerCache() = default;

void AnswerCache::clear() {
  // The log starts over: nothing in it belongs to the new epoch.
  head_ = tail_ = 0;
  if (++epoch_ != 0) return;
  // After 2^32 clears, old epochs would come back: forget them for real.
  for (size_t i = 0; i <= mask_ && tags_; ++i) tags_[i].epoch = 0;
  epoch_ = 1;
}

const AnswerCache::Entry& AnswerCache::entryAt(uint64_t position) const {
  return log_[(position & logMask_) / sizeof(Entry)];
}
AnswerCache::Entry& AnswerCache::entryAt(uint64_t position) { return log_[(position & logMask_) / sizeof(Entry)]; }

uint64_t AnswerCache::reserve(size_t length) {
  const size_t offset = head_ & logMask_;
  if (offset + length > logMask_ + 1) {
    // Entries do not wrap: the end of the log becomes a filler.
    const size_t rest = logMask_ + 1 - offset;
    reclaim(head_ + rest);
    Entry& filler = entryAt(head_);
    filler.length = static_cast<uint32_t>(rest);
    filler.tag = kNoTag;
    head_ += rest;
  }
  reclaim(head_ + length);
  const uint64_t position = head_;
  head_ += length;
  return position;
}

void AnswerCache::reclaim(uint64_t until) {
  // The oldest entries go, first in first out, until the log has room up to `until`; a tag
  // that still points to one is emptied.
  while (until - tail_ > logMask_ + 1) {
    const Entry& old = entryAt(tail_);
    if (old.tag != kNoTag) {
      Tag& tag = tags_[old.tag];
      if (tag.epoch == epoch_ && tag.position == tail_) tag.epoch = 0;
    }
    tail_ += old.length;
  }
}

bool AnswerCache::question(const dnswire::QueryView& query, Transport transport, size_t limit,
                           Question& out) {
  // Only plain QUERYs with EDNS version 0 (or none): other versions get BADVERS, which the
  // key does not tell apart.
  if (query.header.opcode != dnswire::Opcode::Query || (query.hasEdns && query.ednsVersion != 0) ||
      query.qname.empty() || limit > UINT16_MAX)
    return false;
  out.qname = query.qname.wire();
  out.id = query.header.id;
  out.qtype = static_cast<uint16_t>(query.qtype);
  out.qclass = static_cast<uint16_t>(query.qclass);
  out.flags = 0;
  if (query.hasEdns) out.flags |= kEdns;
  if (query.hasEdns && query.dnssecOk) out.flags |= kDnssecOk;
  if (query.header.rd) out.flags |= kRd;
  if (query.header.cd) out.flags |= kCd;
  if (transport == Transport::Tcp) out.flags |= kTcp;
  out.limit = limit;
  return true;
}

bool AnswerCache::question(std::span<const uint8_t> request, Transport transport, Question& out) {
  const uint8_t* p = request.data();
  const size_t size = request.size();
  // Header (RFC 1035 §4.1.1): QR=0, opcode QUERY; QDCOUNT 1, ANCOUNT and NSCOUNT 0.
  if (size < kQuestionOffset + 1 + 4 || (p[2] & 0xF8) != 0 || readU16(p + 4) != 1 || readU16(p + 6) != 0 ||
      readU16(p + 8) != 0)
    return false;
  const uint16_t arcount = readU16(p + 10);
  if (arcount > 1) return false;
  // The name: labels of 1..63 octets up to the root, no pointer, at most 255 octets.
  size_t at = kQuestionOffset;
  while (at < size && p[at] != 0) {
    if (p[at] > 63) return false;
    at += 1 + p[at];
  }
  const size_t qnameSize = at + 1 - kQuestionOffset;
  if (at >= size || qnameSize > dnswire::kMaxNameLength || at + 1 + 4 > size) return false;
  out.qname = request.subspan(kQuestionOffset, qnameSize);
  out.id = readU16(p);
  out.qtype = readU16(p + at + 1);
  out.qclass = readU16(p + at + 3);
  out.flags = 0;
  if (p[2] & 0x01) out.flags |= kRd;
  if (p[3] & 0x10) out.flags |= kCd;
  if (transport == Transport::Tcp) out.flags |= kTcp;
  at += 1 + 4;
  size_t udpLimit = dnswire::kMaxUdpPlain;
  if (arcount == 1) {
    // OPT (RFC 6891 §6.1.2): root owner, TYPE 41, CLASS = payload size, TTL = extended
    // rcode, version (0 only), DO and flags; RDLENGTH; options, each code, length, data.
    if (at + 11 > size || p[at] != 0 || readU16(p + at + 1) != static_cast<uint16_t>(dnswire::RRType::OPT) ||
        p[at + 6] != 0)
      return false;
    const uint16_t payload = readU16(p + at + 3);
    const bool dnssecOk = (p[at + 7] & 0x80) != 0;
    const size_t rdataEnd = at + 11 + readU16(p + at + 9);
    if (rdataEnd != size) return false;
    for (at += 11; at < rdataEnd; at += 4 + readU16(p + at + 2))
      if (at + 4 > rdataEnd) return false;
    if (at != rdataEnd) return false;
    out.flags |= kEdns;
    if (dnssecOk) out.flags |= kDnssecOk;
    // As DecodeStage's udpResponseLimit() (RFC 6891 §6.2.5).
    udpLimit = std::clamp<size_t>(payload, dnswire::kMaxUdpPlain, dnswire::kAdvertisedUdpSize);
  } else if (at != size) {
    return false;
  }
  out.limit = transport == Transport::Tcp ? dnswire::kMaxMessageSize : udpLimit;
  return true;
}

size_t AnswerCache::setOf(uint32_t hash) const { return hash & mask_ & ~(kWays - 1); }

size_t AnswerCache::find(const Question& q, uint32_t hash) const {
  const size_t set = setOf(hash);
  for (size_t i = set; i != set + kWays; ++i) {
    const Tag& tag = tags_[i];
    if (tag.epoch != epoch_ || tag.hash != hash) continue;
    const Entry& entry = entryAt(tag.position);
    if (entry.flags == q.flags && entry.limit == q.limit && entry.qtype == q.qtype && entry.qclass == q.qclass &&
        entry.qnameSize == q.qname.size() &&
        dnswire::words::equalsLowered(q.qname.data(), entry.bytes() + kQuestionOffset, q.qname.size()))
      return i;
  }
  return kNone;
}

void AnswerCache::prefetchTags(uint32_t hash) const {
  if (!enabled()) return;
  const Tag* set = &tags_[setOf(hash)];
  __builtin_prefetch(set);
  __builtin_prefetch(set + kWays / 2);
}

void AnswerCache::prefetch(uint32_t hash) const {
  if (!enabled()) return;
  const size_t set = setOf(hash);
  for (size_t i = set; i != set + kWays; ++i) {
    const Tag& tag = tags_[i];
    if (tag.epoch != epoch_ || tag.hash != hash) continue;
    // The entry's first three lines (the key, and a plain answer of a few records; the
    // CPU's own prefetcher brings the lines after), and the rotating RRset's counter.
    const auto* entry = reinterpret_cast<const char*>(&entryAt(tag.position));
    __builtin_prefetch(entry);
    __builtin_prefetch(entry + kCacheLine);
    __builtin_prefetch(entry + 2 * kCacheLine);
    if (tag.rotated != nullptr) __builtin_prefetch(&tag.rotated->rotation);
    return;
  }
}

size_t AnswerCache::lookup(const Question& q, uint32_t hash, std::span<uint8_t> out) {
  if (!enabled()) return 0;
  const size_t found = find(q, hash);
  if (found == kNone) return 0;
  const Entry& entry = entryAt(tags_[found].position);
  if (entry.size > out.size()) return 0;

  uint8_t* wire = out.data();
  const uint8_t* bytes = entry.bytes();
  std::memcpy(wire, bytes, entry.size);
  wire[0] = static_cast<uint8_t>(q.id >> 8);
  wire[1] = static_cast<uint8_t>(q.id);
  // The question as this client wrote it (RFC 4343 §4.1): owners that point to it follow.
  std::memcpy(wire + kQuestionOffset, q.qname.data(), entry.qnameSize);
  if (const RRset* set = tags_[found].rotated) {
    // The same step of the same shared counter as answerQuery()'s rotationStart(). The
    // records come from the entry's own copy, not from the zone, whose lines are likely
    // cold: position p must hold the set's record (first + p) % n, and the entry's unit p
    // holds record (rotatedFirst + p) % n, so the block turns left by the difference.
    const size_t n = set->size();
    const size_t first = set->rotation.next() % n;
    const size_t shift = (first + n - entry.rotatedFirst) % n;
    if (shift != 0) {
      const size_t block = n * entry.rotatedStride;
      const size_t head = shift * entry.rotatedStride;
      std::memcpy(wire + entry.rotatedAt, bytes + entry.rotatedAt + head, block - head);
      std::memcpy(wire + entry.rotatedAt + block - head, bytes + entry.rotatedAt, head);
    }
  }
  return entry.size;
}

bool AnswerCache::store(const dnswire::QueryView& query, Transport transport, size_t limit,
                        std::span<const uint8_t> response, const AnswerResult& result) {
  Question q;
  if (!enabled() || !question(query, transport, limit, q)) return false;
  if (result.size == 0 || result.truncated || result.size != response.size() ||
      response.size() > kMaxResponse || response.size() > limit || result.rotatedSets > 1 ||
      (result.rotatedSets == 1) != (result.rotated != nullptr))
    return false;
  const auto qname = query.qname.wire();
  // The question must be the client's, as written: a hit overwrites it with the next one's.
  if (response.size() < kQuestionOffset + qname.size() + 4 || readU16(response.data() + 4) != 1 ||
      std::memcmp(response.data() + kQuestionOffset, qname.data(), qname.size()) != 0)
    return false;
  uint16_t rotatedAt = 0;
  uint16_t rotatedStride = 0;
  uint8_t rotatedFirst = 0;
  if (result.rotated != nullptr &&
      !locateRotated(response, qname.size(), *result.rotated, rotatedAt, rotatedStride, rotatedFirst))
    return false;

  const uint32_t hash = hashOf(q);
  size_t index = find(q, hash);
  if (index == kNone) {
    // A free way of the set, else the one stored first.
    const size_t set = setOf(hash);
    index = set;
    for (size_t i = set; i != set + kWays; ++i) {
      if (tags_[i].epoch != epoch_) {
        index = i;
        break;
      }
      if (tags_[i].position < tags_[index].position) index = i;
    }
  }
  // The way's old entry, if any, stays in the log until reclaimed: its tag no longer
  // points to it. The tag is emptied first, in case reclaiming reaches it.
  tags_[index].epoch = 0;
  const size_t length = (sizeof(Entry) + response.size() + sizeof(Entry) - 1) / sizeof(Entry) * sizeof(Entry);
  const uint64_t position = reserve(length);
  tags_[index] = Tag{epoch_, hash, position, result.rotated};
  Entry& entry = entryAt(position);
  entry.length = static_cast<uint32_t>(length);
  entry.tag = static_cast<uint32_t>(index);
  entry.limit = static_cast<uint16_t>(limit);
  entry.size = static_cast<uint16_t>(response.size());
  entry.qtype = q.qtype;
  entry.qclass = q.qclass;
  entry.flags = q.flags;
  entry.qnameSize = static_cast<uint8_t>(qname.size());
  entry.rotatedFirst = rotatedFirst;
  entry.rotatedAt = rotatedAt;
  entry.rotatedStride = rotatedStride;
  std::memcpy(entry.bytes(), response.data(), response.size());
  // Lowercased for find(); every hit writes its own client's question over it.
  dnswire::words::lowerInPlace(entry.bytes() + kQuestionOffset, qname.size());
  return true;
}

}  // namespace centrald
