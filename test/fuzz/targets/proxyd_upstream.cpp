// proxyd's handling of an upstream (or centrald) reply, on arbitrary bytes as the reply:
// parse as the resolver does, scrub and encode a cache entry (buildEntry), store it in the
// shared cache, then answer clients from it (writeAnswer) as a cache hit does. Checks:
//   - the entry is a valid message: QR, RA, not AA/TC, the question lowercased, no OPT or
//     TSIG, answer records owned by the qname or a CNAME target reached from it, every
//     additional record inside the bailiwick, TTLs capped;
//   - a hit echoes the client's ID, RD and question case, fits its limit (or is a TC
//     stub), carries OPT (DO echoed) exactly when asked, ages TTLs and forces 30 when
//     stale; it carries the same records as the entry, only rotated: n consecutive hits
//     for an RRset of n distinct addresses put each address first exactly once.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <span>
#include <vector>

#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/server/clock.hpp"
#include "proxyd/cache.hpp"
#include "proxyd/cache_entry.hpp"

using namespace dnswire;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool sameBytes(const Name& a, const Name& b) {
  return std::equal(a.wire().begin(), a.wire().end(), b.wire().begin(), b.wire().end());
}

// The client's spelling of the qname: alternate letters upper-cased.
Name mangleCase(const Name& name) {
  std::vector<uint8_t> bytes(name.wire().begin(), name.wire().end());
  for (size_t i = 0; i < bytes.size(); i += 2)
    if (bytes[i] >= 'a' && bytes[i] <= 'z') bytes[i] = static_cast<uint8_t>(bytes[i] - 'a' + 'A');
  auto mangled = Name::fromUncompressed(bytes);
  return mangled.ok() ? *mangled : name;
}

// Records compared without their TTL (hits age them).
std::vector<ResourceRecord> withoutTtl(std::vector<ResourceRecord> records) {
  for (auto& rr : records) rr.ttl = 0;
  return records;
}

// Each record as bytes, ASCII case folded: names compressed into the question take the
// client's spelling of the qname on a hit (the same transform on both sides).
std::multiset<std::vector<uint8_t>> recordKeys(const std::vector<ResourceRecord>& records) {
  std::multiset<std::vector<uint8_t>> keys;
  for (const auto& rr : withoutTtl(records)) {
    Message m;
    m.answers.push_back(rr);
    auto key = writeMessage(m);
    for (auto& b : key)
      if (b >= 'A' && b <= 'Z') b = static_cast<uint8_t>(b - 'A' + 'a');
    keys.insert(std::move(key));
  }
  return keys;
}

void checkEntry(const proxyd::CacheEntry& entry, const Question& question, const Name& hint) {
  auto parsed = parseMessage(entry.wire);
  check(parsed.ok());
  const Message& m = *parsed;
  check(m.header.qr && m.header.ra && !m.header.aa && !m.header.tc);
  check(m.header.id == 0);
  check(m.questions.size() == 1);
  check(sameBytes(m.questions[0].qname, question.qname.lowercased()));
  check(m.questions[0].qtype == question.qtype && m.questions[0].qclass == question.qclass);
  check(entry.questionEnd > kHeaderSize && entry.questionEnd <= entry.wire.size());
  check(entry.ttls.size() == m.answers.size() + m.authority.size() + m.additional.size());

  // Owners in the answer: the qname or a CNAME target of the answer itself.
  std::vector<Name> reached{question.qname};
  for (const auto& rr : m.answers)
    if (const auto* c = std::get_if<Cname>(&rr.data)) reached.push_back(c->target);
  for (const auto& rr : m.answers) {
    check(std::find(reached.begin(), reached.end(), rr.owner) != reached.end());
    check(rr.cls == question.qclass);
  }
  Name bailiwick = hint;
  const ResourceRecord* soa = nullptr;
  const ResourceRecord* ns = nullptr;
  for (const auto& rr : m.authority) {
    check(rr.type != RRType::OPT && rr.type != RRType::TSIG);
    if (rr.type == RRType::SOA && !soa) soa = &rr;
    if (rr.type == RRType::NS && !ns) ns = &rr;
  }
  if (soa)
    bailiwick = soa->owner;
  else if (ns)
    bailiwick = ns->owner;
  for (const auto& rr : m.additional) {
    check(rr.type != RRType::OPT && rr.type != RRType::TSIG);
    if (!bailiwick.empty()) check(rr.owner.isSubdomainOf(bailiwick));
  }
  for (const auto& section : {&m.answers, &m.authority, &m.additional})
    for (const auto& rr : *section) check(rr.ttl <= proxyd::kTtlCap);
  for (const auto& slot : entry.ttls)
    check(slot.offset + 4 <= entry.wire.size() && slot.ttl <= proxyd::kTtlCap);
  for (const auto& set : entry.rotating)
    check(set.count > 1 && set.offset + size_t{set.count} * set.recordSize <= entry.wire.size());
}

// One hit for `client`, checked; returns the parsed answer (nothing for a TC stub).
std::optional<Message> hit(const proxyd::CacheEntry& entry, const Message& entryMessage,
                           const std::vector<uint8_t>& clientWire, size_t limit,
                           dnswire::server::Clock::TimePoint now, std::optional<uint32_t> forced) {
  auto view = parseQuery(clientWire);
  check(view.ok());
  static std::vector<uint8_t> out(kMaxMessageSize);
  const size_t size = proxyd::writeAnswer(entry, *view, out, limit, now, forced);
  check(size > 0 && size <= limit);
  auto answer = parseMessage(std::span<const uint8_t>(out.data(), size));
  check(answer.ok());
  const Header& h = answer->header;
  check(h.id == view->header.id && h.qr && h.rd == view->header.rd && !h.z);
  check(answer->questions.size() == 1 && sameBytes(answer->questions[0].qname, view->qname));
  const auto edns = answer->edns();
  check(edns.has_value() == view->hasEdns);
  if (edns) check(edns->dnssecOk == view->dnssecOk);
  if (h.tc) {
    check(answer->answers.empty() && answer->authority.empty());
    return std::nullopt;
  }
  check(h.rcode == entryMessage.header.rcode);
  // The same records as the entry (rotation only reorders), TTLs aged or forced.
  check(recordKeys(answer->answers) == recordKeys(entryMessage.answers));
  check(recordKeys(answer->authority) == recordKeys(entryMessage.authority));
  std::vector<ResourceRecord> additional;
  for (const auto& rr : answer->additional)
    if (rr.type != RRType::OPT) additional.push_back(rr);
  check(recordKeys(additional) == recordKeys(entryMessage.additional));
  for (const auto* section : {&answer->answers, &answer->authority})
    for (const auto& rr : *section) check(forced ? rr.ttl == *forced : rr.ttl <= proxyd::kTtlCap);
  return std::move(*answer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dnswire::server::ManualClock clock;
  static proxyd::Cache cache(64, clock);
  static const Question kDefault{*Name::fromText("www.example.com."), RRType::A, RRClass::IN};

  // Like Resolver::onUpstreamReply: bytes that do not parse are an error, nothing cached.
  auto reply = parseMessage(std::span<const uint8_t>(data, size));
  if (!reply.ok()) return 0;
  // c-ares has already matched the reply's question to ours: take it as our question.
  Question question = reply->questions.empty() ? kDefault : reply->questions[0];
  // centrald's replies come with the SOA's zone as bailiwick, the upstreams' with none.
  Name hint;
  if (reply->header.id & 1) {
    for (const auto& rr : reply->authority)
      if (rr.type == RRType::SOA && question.qname.isSubdomainOf(rr.owner)) {
        hint = rr.owner;
        break;
      }
  }

  const auto now = clock.now();
  auto built = proxyd::buildEntry(*reply, question, hint, now);
  if (!built.entry) return 0;
  const proxyd::CacheEntry& entry = *built.entry;
  const Name effectiveHint = hint.empty() ? built.finalName.parent() : hint;
  checkEntry(entry, question, effectiveHint);
  if (built.cacheable) {
    check(entry.rcode == 0 || entry.rcode == static_cast<uint16_t>(Rcode::NXDomain));
    check(!reply->header.tc);
  }
  auto entryMessage = parseMessage(entry.wire);
  check(entryMessage.ok());

  // Stored and found again, as the cache stage does.
  const auto key = proxyd::CacheKey::make(question.qname, question.qtype, question.qclass, false);
  cache.insert(key, built.entry);
  auto found = cache.find(key);
  check(found.entry == built.entry && !found.stale);

  // Clients: another ID and case, with and without EDNS (DO from the reply's ID bits).
  Message client;
  client.header.id = static_cast<uint16_t>(reply->header.id ^ 0x5a5a);
  client.header.rd = (reply->header.id & 2) != 0;
  client.questions.push_back({mangleCase(question.qname), question.qtype, question.qclass});
  const auto plainWire = writeMessage(client);
  Edns edns;
  edns.udpSize = 1232;
  edns.dnssecOk = (reply->header.id & 4) != 0;
  client.additional.push_back(edns.toRecord());
  const auto ednsWire = writeMessage(client);

  hit(entry, *entryMessage, plainWire, 512, now, std::nullopt);
  hit(entry, *entryMessage, ednsWire, 1232, now + std::chrono::seconds(7), std::nullopt);
  hit(entry, *entryMessage, ednsWire, kMaxMessageSize, now + std::chrono::hours(48), proxyd::kStaleTtl);

  // Round robin over TCP-sized answers: for each rotating A/AAAA RRset of n distinct
  // records, n consecutive hits put each record first exactly once.
  struct Members {
    std::set<std::vector<uint8_t>> distinct;
    size_t records = 0;
  };
  std::map<std::pair<std::vector<uint8_t>, uint16_t>, Members> sets;
  for (const auto& rr : entryMessage->answers) {
    if (rr.type != RRType::A && rr.type != RRType::AAAA) continue;
    const auto lower = rr.owner.lowercased();
    auto& set = sets[{std::vector<uint8_t>(lower.wire().begin(), lower.wire().end()),
                      static_cast<uint16_t>(rr.type)}];
    set.distinct.insert(*recordKeys({rr}).begin());
    ++set.records;
  }
  for (const auto& [id, members] : sets) {
    const size_t n = members.distinct.size();
    if (n < 2 || n > 64 || members.records != n) continue;
    std::map<std::vector<uint8_t>, int> firsts;
    for (size_t i = 0; i < n; ++i) {
      auto answer = hit(entry, *entryMessage, plainWire, kMaxMessageSize, now, std::nullopt);
      check(answer.has_value());
      for (const auto& rr : answer->answers) {
        const auto lower = rr.owner.lowercased();
        if (static_cast<uint16_t>(rr.type) == id.second &&
            std::equal(lower.wire().begin(), lower.wire().end(), id.first.begin(), id.first.end())) {
          ++firsts[*recordKeys({rr}).begin()];
          break;
        }
      }
    }
    check(firsts.size() == n);
  }
  cache.eraseName(question.qname);
  check(!cache.find(key).entry);
  return 0;
}
