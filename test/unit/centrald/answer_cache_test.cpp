// The cache of finished responses: every hit must be byte for byte what answerQuery()
// writes for the same query at the same moment. Two snapshots are built from the same
// zone text, one behind the cache and one answered directly: their rotation counters
// advance in step only if a hit takes exactly the step answerQuery() takes.

#include "centrald/answer_cache.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "centrald/answer.hpp"
#include "centrald/snapshot_holder.hpp"
#include "centrald/stages/centrald_pipeline.hpp"
#include "centrald/zone_snapshot.hpp"
#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/server/decode_stage.hpp"
#include "dnswire/zonefile.hpp"

using namespace dnswire;
using centrald::AnswerCache;
using centrald::answerQuery;
using centrald::Transport;
using centrald::ZoneSnapshot;

namespace {

const char* kZone = R"($ORIGIN example.test.
$TTL 3600
@        IN SOA ns1 hostmaster 2026113001 7200 3600 1209600 300
@        NS    ns1
@        MX    10 mail
@        MX    20 rr
ns1      A     192.0.2.53
www      A     192.0.2.1
rr       A     10.0.0.1
rr       A     10.0.0.2
rr       A     10.0.0.3
rr       A     10.0.0.4
rr       AAAA  2001:db8::1
rr       AAAA  2001:db8::2
rr       MX    5 mail
alias    CNAME rr
chain1   CNAME chain2
chain2   CNAME rr
ext      CNAME www.elsewhere.invalid.
mail     A     192.0.2.25
mail     AAAA  2001:db8::25
txt      TXT   "hello world"
*.wild   A     192.0.2.200
*.wild   A     192.0.2.201
*.wild   A     192.0.2.202
sub      NS    ns.sub
ns.sub   A     192.0.2.99
ns.sub   A     192.0.2.98
)";

std::string bigZone() {
  std::string zone = "$ORIGIN big.test.\n$TTL 60\n@ IN SOA ns admin 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
  for (int i = 0; i < 40; ++i) zone += "many A 10.1.0." + std::to_string(i + 1) + "\n";
  for (int i = 0; i < 3; ++i) zone += "long TXT \"" + std::string(200, static_cast<char>('a' + i)) + "\"\n";
  return zone;
}

std::shared_ptr<const ZoneSnapshot> build(const std::string& extra = "") {
  auto zone = parseZoneText(std::string(kZone) + extra, "example.zone");
  REQUIRE(zone.ok());
  auto big = parseZoneText(bigZone(), "big.zone");
  REQUIRE(big.ok());
  return ZoneSnapshot::build({*zone, *big});
}

struct Spec {
  std::string name;
  RRType type = RRType::A;
  bool edns = false;
  bool dnssecOk = false;
  bool rd = true;
  bool cd = false;
  uint8_t version = 0;
  Transport transport = Transport::Udp;
};

// The name with letters upper-cased where `pattern`'s bits say (0x20 style).
std::string recase(const std::string& name, unsigned pattern) {
  std::string out = name;
  for (size_t i = 0; i < out.size(); ++i)
    if (pattern >> (i % 16) & 1) out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
  return out;
}

std::vector<uint8_t> makeQuery(const Spec& spec, const std::string& name, uint16_t id) {
  Message m;
  m.header.id = id;
  m.header.rd = spec.rd;
  m.header.cd = spec.cd;
  auto qname = Name::fromText(name);
  REQUIRE(qname.ok());
  m.questions.push_back({*qname, spec.type, RRClass::IN});
  if (spec.edns) {
    Edns e;
    e.udpSize = 1232;
    e.version = spec.version;
    e.dnssecOk = spec.dnssecOk;
    m.additional.push_back(e.toRecord());
  }
  return writeMessage(m);
}

size_t limitFor(const Spec& spec) {
  if (spec.transport == Transport::Tcp) return kMaxMessageSize;
  return spec.edns ? 1232 : 512;
}

// What the answer stage does: the cache first, answerQuery() and a store on a miss.
struct Cached {
  std::vector<uint8_t> wire;
  bool hit = false;
  bool stored = false;
};

Cached throughCache(AnswerCache& cache, const ZoneSnapshot& snapshot, const QueryView& view,
                    const Spec& spec) {
  Cached c;
  c.wire.resize(kMaxMessageSize);
  const size_t limit = limitFor(spec);
  // As the worker does before each UDP query: hints that must change nothing.
  AnswerCache::Question question;
  if (AnswerCache::question(view, spec.transport, limit, question)) {
    cache.prefetchTags(AnswerCache::hashOf(question));
    cache.prefetch(AnswerCache::hashOf(question));
  }
  size_t size = cache.lookup(view, spec.transport, limit, c.wire);
  c.hit = size != 0;
  if (!c.hit) {
    const auto result = answerQuery(snapshot, view, spec.transport, c.wire, limit);
    REQUIRE(result.size > 0);
    size = result.size;
    c.stored = cache.store(view, spec.transport, limit, std::span(c.wire).first(size), result);
  }
  c.wire.resize(size);
  return c;
}

std::vector<uint8_t> direct(const ZoneSnapshot& snapshot, const QueryView& view, const Spec& spec) {
  std::vector<uint8_t> wire(kMaxMessageSize);
  const auto result = answerQuery(snapshot, view, spec.transport, wire, limitFor(spec));
  REQUIRE(result.size > 0);
  wire.resize(result.size);
  return wire;
}

// Asks `spec` `rounds` times through the cache (snapshot `cachedSide`) and directly
// (`directSide`), each time with another case and ID; every answer must be identical.
// Returns how many were hits.
int compare(AnswerCache& cache, const ZoneSnapshot& cachedSide, const ZoneSnapshot& directSide,
            const Spec& spec, int rounds) {
  int hits = 0;
  for (int round = 0; round < rounds; ++round) {
    const auto query = makeQuery(spec, recase(spec.name, 0x9e37u * static_cast<unsigned>(round)),
                                 static_cast<uint16_t>(0x1000 + round * 77));
    auto view = parseQuery(query);
    REQUIRE(view.ok());
    const auto cached = throughCache(cache, cachedSide, *view, spec);
    const auto expected = direct(directSide, *view, spec);
    INFO(spec.name << " " << static_cast<int>(spec.type) << " edns " << spec.edns << " do " << spec.dnssecOk
                   << " rd " << spec.rd << " cd " << spec.cd << " tcp " << (spec.transport == Transport::Tcp)
                   << " round " << round << " hit " << cached.hit);
    REQUIRE(cached.wire == expected);
    if (cached.hit) ++hits;
  }
  return hits;
}

std::vector<Spec> specs() {
  std::vector<Spec> base{
      {"rr.example.test.", RRType::A},        {"rr.example.test.", RRType::AAAA},
      {"alias.example.test.", RRType::A},     {"chain1.example.test.", RRType::A},
      {"chain1.example.test.", RRType::AAAA}, {"example.test.", RRType::MX},
      {"rr.example.test.", RRType::MX},       {"www.example.test.", RRType::A},
      {"nope.example.test.", RRType::A},      {"nope.alias.example.test.", RRType::AAAA},
      {"txt.example.test.", RRType::A},       {"x.wild.example.test.", RRType::A},
      {"y.z.wild.example.test.", RRType::A},  {"deep.sub.example.test.", RRType::A},
      {"sub.example.test.", RRType::NS},      {"ext.example.test.", RRType::A},
      {"rr.example.test.", RRType::ANY},      {"example.test.", RRType::SOA},
      {"host.nowhere.invalid.", RRType::A},   {"alias.example.test.", RRType::CNAME},
      {"ns.sub.example.test.", RRType::A},
  };
  std::vector<Spec> all;
  for (const auto& b : base) {
    all.push_back(b);
    Spec s = b;
    s.edns = true;
    all.push_back(s);
    s.dnssecOk = true;
    all.push_back(s);
    s = b;
    s.rd = false;
    s.cd = true;
    all.push_back(s);
    s = b;
    s.transport = Transport::Tcp;
    all.push_back(s);
  }
  return all;
}

}  // namespace

TEST_CASE("answer cache: every hit is answerQuery's response, rotation included", "[unit]") {
  const auto cachedSide = build();
  const auto directSide = build();
  AnswerCache cache(AnswerCache::kDefaultEntries);
  int hits = 0;
  int misses = 0;
  // Interleaved, so that several keys share one rotating RRset (rr A with and without
  // EDNS, alias -> rr): the shared counter must still step once per response.
  const auto all = specs();
  for (int pass = 0; pass < 4; ++pass) {
    for (const auto& spec : all) {
      const int h = compare(cache, *cachedSide, *directSide, spec, 2);
      hits += h;
      misses += 2 - h;
    }
  }
  // Each key misses once; the ANY over TCP at rr (two rotating RRsets) never is kept.
  CHECK(misses == static_cast<int>(all.size()) + 7);
  CHECK(hits == static_cast<int>(all.size()) * 8 - misses);
}

TEST_CASE("answer cache: rotation advances the shared counter once per hit", "[unit]") {
  const auto snapshot = build();
  AnswerCache cache(64);
  Spec spec{"rr.example.test.", RRType::A};
  std::vector<std::string> firsts;
  for (int i = 0; i < 8; ++i) {
    auto view = parseQuery(makeQuery(spec, "rr.example.test.", 1));
    REQUIRE(view.ok());
    const auto c = throughCache(cache, *snapshot, *view, spec);
    CHECK(c.hit == (i > 0));
    auto parsed = parseMessage(c.wire);
    REQUIRE(parsed.ok());
    REQUIRE(parsed->answers.size() == 4);
    firsts.push_back(typeInfo(RRType::A).toText(parsed->answers.front().data));
  }
  // k consecutive answers put each of k addresses first once (SPEC "Answers").
  for (int i = 0; i < 4; ++i) CHECK(firsts[i] == firsts[i + 4]);
  std::sort(firsts.begin(), firsts.begin() + 4);
  CHECK(std::unique(firsts.begin(), firsts.begin() + 4) == firsts.begin() + 4);
}

TEST_CASE("answer cache: the client's ID and case come back", "[unit]") {
  const auto snapshot = build();
  AnswerCache cache(64);
  Spec spec{"alias.example.test.", RRType::A};
  auto first = parseQuery(makeQuery(spec, "alias.example.test.", 1));
  REQUIRE(first.ok());
  REQUIRE_FALSE(throughCache(cache, *snapshot, *first, spec).hit);
  auto second = parseQuery(makeQuery(spec, "AlIaS.ExAmPlE.tEsT.", 4242));
  REQUIRE(second.ok());
  const auto c = throughCache(cache, *snapshot, *second, spec);
  REQUIRE(c.hit);
  auto parsed = parseMessage(c.wire);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.id == 4242);
  CHECK(parsed->questions.front().qname.toText() == "AlIaS.ExAmPlE.tEsT.");
  CHECK(parsed->answers.front().owner.toText() == "AlIaS.ExAmPlE.tEsT.");
}

TEST_CASE("answer cache: what is not kept, and keys that differ miss", "[unit]") {
  const auto snapshot = build();
  AnswerCache cache(64);
  auto storeOf = [&](const Spec& spec) {
    return throughCache(cache, *snapshot, *parseQuery(makeQuery(spec, spec.name, 9)), spec);
  };

  CHECK_FALSE(storeOf({"many.big.test.", RRType::A}).stored);          // truncated (TC)
  CHECK_FALSE(storeOf({"long.big.test.", RRType::TXT, true}).stored);  // larger than a slot
  Spec any{"rr.example.test.", RRType::ANY};
  any.transport = Transport::Tcp;
  CHECK_FALSE(storeOf(any).stored);  // A and AAAA both rotate
  Spec badvers{"www.example.test.", RRType::A, true};
  badvers.version = 1;
  CHECK_FALSE(storeOf(badvers).stored);

  Spec plain{"www.example.test.", RRType::A};
  CHECK(storeOf(plain).stored);
  CHECK(storeOf(plain).hit);
  Spec other = plain;
  other.edns = true;
  CHECK_FALSE(storeOf(other).hit);
  other.dnssecOk = true;
  CHECK_FALSE(storeOf(other).hit);
  other = plain;
  other.rd = false;
  CHECK_FALSE(storeOf(other).hit);
  other = plain;
  other.cd = true;
  CHECK_FALSE(storeOf(other).hit);
  other = plain;
  other.type = RRType::AAAA;
  CHECK_FALSE(storeOf(other).hit);
  other = plain;
  other.transport = Transport::Tcp;
  CHECK_FALSE(storeOf(other).hit);
  CHECK(storeOf(badvers).hit == false);  // same question as `plain` with EDNS 1: never from the cache

  AnswerCache off(0);
  CHECK_FALSE(off.enabled());
  cache.clear();
  CHECK_FALSE(storeOf(plain).hit);
}

TEST_CASE("answer cache: a tiny cache evicts and stays exact", "[unit]") {
  const auto cachedSide = build();
  const auto directSide = build();
  AnswerCache cache(2);
  CHECK(cache.indexPlaces() == 4);
  for (int pass = 0; pass < 3; ++pass)
    for (const auto& spec : specs()) compare(cache, *cachedSide, *directSide, spec, 2);
}

TEST_CASE("answer cache: the log wraps many times and every hit stays exact", "[unit]") {
  const auto cachedSide = build();
  const auto directSide = build();
  AnswerCache cache(16);  // a 4 KiB log: about 20 entries
  const std::vector<Spec> hot{{"rr.example.test.", RRType::A}, {"example.test.", RRType::MX},
                              {"alias.example.test.", RRType::A}};
  int hotHits = 0;
  for (int i = 0; i < 400; ++i) {
    // Each new name is a miss that is kept: the log's head moves on and reclaims the oldest.
    compare(cache, *cachedSide, *directSide, {"nope" + std::to_string(i) + ".example.test.", RRType::A}, 1);
    hotHits += compare(cache, *cachedSide, *directSide, hot[static_cast<size_t>(i) % hot.size()], 1);
  }
  // A hot key asked every third query survives about 20 stores: mostly hits.
  CHECK(hotHits > 300);
  CHECK(hotHits < 400);  // and the log did reclaim them now and then
}

namespace {

struct StageRun {
  Message response;
  std::vector<uint8_t> wire;
};

// With `prefetch`, first the worker's prefetch calls (Far, Near) on a UDP request, and
// their note handed to the run, as the worker does.
StageRun runStage(const dnswire::server::Pipeline& pipeline, const std::vector<uint8_t>& request,
                  Transport transport = Transport::Udp, bool prefetch = false) {
  dnswire::server::QueryContext ctx;
  ctx.request = request;
  ctx.transport = transport;
  if (prefetch && transport == Transport::Udp && pipeline.prefetches()) {
    using Prefetch = dnswire::server::Stage::Prefetch;
    pipeline.prefetch(request, transport, Prefetch::Far, ctx.prefetchNote);
    pipeline.prefetch(request, transport, Prefetch::Near, ctx.prefetchNote);
  }
  // As the runtime sets it before the first stage.
  ctx.maxResponseSize = transport == Transport::Udp ? 512 : dnswire::server::QueryContext::kResponseCapacity;
  REQUIRE(pipeline.run(ctx) == dnswire::server::Verdict::Respond);
  StageRun r;
  r.wire.assign(ctx.response().begin(), ctx.response().end());
  auto parsed = parseMessage(r.wire);
  REQUIRE(parsed.ok());
  r.response = *parsed;
  return r;
}

}  // namespace

TEST_CASE("answer stage: a published snapshot replaces what was cached", "[unit]") {
  centrald::SnapshotHolder holder(build());
  centrald::PipelineDeps deps;
  deps.snapshots = &holder;
  auto pipeline = centrald::buildPipeline(deps, {});
  Spec spec{"laptop.example.test.", RRType::A};
  const auto query = makeQuery(spec, spec.name, 5);

  const auto before = runStage(pipeline, query);
  CHECK(before.response.rcode() == static_cast<uint16_t>(Rcode::NXDomain));
  CHECK(runStage(pipeline, query).wire == before.wire);  // now from the cache

  holder.publish(build("laptop A 192.0.2.77\n"));
  const auto after = runStage(pipeline, query);
  CHECK(after.response.rcode() == static_cast<uint16_t>(Rcode::NoError));
  REQUIRE(after.response.answers.size() == 1);
  CHECK(typeInfo(RRType::A).toText(after.response.answers.front().data) == "192.0.2.77");

  // And with the cache off, the same.
  centrald::SnapshotHolder holder2(build());
  deps.snapshots = &holder2;
  deps.answerCacheEntries = 0;
  auto uncached = centrald::buildPipeline(deps, {});
  CHECK(runStage(uncached, query).wire == before.wire);
}

namespace {

bool sameQuestion(const AnswerCache::Question& a, const AnswerCache::Question& b) {
  return std::equal(a.qname.begin(), a.qname.end(), b.qname.begin(), b.qname.end()) && a.id == b.id &&
         a.qtype == b.qtype && a.qclass == b.qclass && a.flags == b.flags && a.limit == b.limit;
}

// What AnswerCache::question(request) reads must be what DecodeStage + question(view) read.
bool readsAsDecoded(const std::vector<uint8_t>& request, Transport transport) {
  AnswerCache::Question raw;
  if (!AnswerCache::question(request, transport, raw)) return false;
  auto view = parseQuery(request);
  REQUIRE(view.ok());
  const size_t limit =
      transport == Transport::Tcp ? kMaxMessageSize : dnswire::server::udpResponseLimit(*view);
  AnswerCache::Question decoded;
  REQUIRE(AnswerCache::question(*view, transport, limit, decoded));
  CHECK(sameQuestion(raw, decoded));
  return true;
}

std::vector<uint8_t> withCookie(std::vector<uint8_t> wire, uint16_t optionLength, size_t dataLength) {
  // Appends an option (code 10) to the OPT record at the end and fixes its RDLENGTH.
  const size_t rdlengthAt = wire.size() - 2;
  wire.insert(wire.end(),
              {0, 10, static_cast<uint8_t>(optionLength >> 8), static_cast<uint8_t>(optionLength)});
  wire.insert(wire.end(), dataLength, 0xab);
  const size_t rdlength = wire.size() - rdlengthAt - 2;
  wire[rdlengthAt] = static_cast<uint8_t>(rdlength >> 8);
  wire[rdlengthAt + 1] = static_cast<uint8_t>(rdlength);
  return wire;
}

}  // namespace

TEST_CASE("answer cache: a request is read before decoding exactly as after", "[unit]") {
  int round = 0;
  for (const auto& spec : specs()) {
    const auto wire = makeQuery(spec, recase(spec.name, 0x5a5u * static_cast<unsigned>(++round)), 0x7001);
    CHECK(readsAsDecoded(wire, spec.transport));
    if (spec.edns) CHECK(readsAsDecoded(withCookie(wire, 8, 8), spec.transport));
  }
  Spec edns{"www.example.test.", RRType::A, true, true};
  const auto good = makeQuery(edns, edns.name, 1);
  auto tiny = good;  // payload 100: counts as 512 (RFC 6891 §6.2.5)
  tiny[tiny.size() - 8] = 0;
  tiny[tiny.size() - 7] = 100;
  CHECK(readsAsDecoded(tiny, Transport::Udp));

  // Not the plainest form: left to DecodeStage (which answers or rejects them).
  auto trailing = good;
  trailing.push_back(0);
  CHECK_FALSE(readsAsDecoded(trailing, Transport::Udp));
  auto version1 = good;
  version1[version1.size() - 5] = 1;
  CHECK_FALSE(readsAsDecoded(version1, Transport::Udp));
  CHECK_FALSE(readsAsDecoded(withCookie(good, 9, 8), Transport::Udp));  // option overruns RDATA
  CHECK_FALSE(readsAsDecoded(withCookie(good, 2, 8), Transport::Udp));  // bytes after the option
  auto response = good;
  response[2] |= 0x80;
  CHECK_FALSE(readsAsDecoded(response, Transport::Udp));
  auto notify = good;
  notify[2] = static_cast<uint8_t>(notify[2] | 4 << 3);
  CHECK_FALSE(readsAsDecoded(notify, Transport::Udp));
  auto noOpt = makeQuery({"www.example.test.", RRType::A}, "www.example.test.", 1);
  auto arcount = noOpt;
  arcount[11] = 1;  // an additional record that is not there
  CHECK_FALSE(readsAsDecoded(arcount, Transport::Udp));
  auto ancount = noOpt;
  ancount[7] = 1;
  CHECK_FALSE(readsAsDecoded(ancount, Transport::Udp));
  auto shortQuestion = noOpt;
  shortQuestion.pop_back();
  CHECK_FALSE(readsAsDecoded(shortQuestion, Transport::Udp));
  auto pointer = noOpt;  // the name's first label turned into a pointer
  pointer[12] = 0xC0;
  CHECK_FALSE(readsAsDecoded(pointer, Transport::Udp));
  auto optOwner = good;  // OPT not owned by the root
  optOwner.insert(optOwner.end() - 11, {1, 'x'});
  CHECK_FALSE(readsAsDecoded(optOwner, Transport::Udp));
}

TEST_CASE("answer cache stage: the pipeline's answers are those of a pipeline without cache", "[unit]") {
  centrald::SnapshotHolder cachedHolder(build());
  centrald::SnapshotHolder directHolder(build());
  centrald::PipelineDeps deps;
  deps.snapshots = &cachedHolder;
  auto cached = centrald::buildPipeline(deps, {});
  deps.snapshots = &directHolder;
  deps.answerCacheEntries = 0;
  auto direct = centrald::buildPipeline(deps, {});
  const auto all = specs();
  for (int pass = 0; pass < 3; ++pass) {
    int round = 0;
    for (const auto& spec : all) {
      ++round;
      const auto wire = makeQuery(spec, recase(spec.name, 0x3c3u * static_cast<unsigned>(round + pass)),
                                  static_cast<uint16_t>(round * 31 + pass));
      INFO(spec.name << " " << static_cast<int>(spec.type) << " pass " << pass);
      // Every other query comes prefetched, with the note the cache stage left.
      const bool prefetch = (round + pass) % 2 == 0;
      CHECK(runStage(cached, wire, spec.transport, prefetch).wire == runStage(direct, wire, spec.transport).wire);
    }
  }
}
