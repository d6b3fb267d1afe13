#include "proxyd/resolver.hpp"

#include <algorithm>

#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"

namespace proxyd {

using dnswire::Message;
using dnswire::Name;
using dnswire::Rcode;
using dnswire::RRType;
using dnswire::server::QueryContext;
using dnswire::server::Verdict;

namespace {

constexpr uint16_t kServFail = static_cast<uint16_t>(Rcode::ServFail);

const dnswire::ResourceRecord* findSoa(const Message& message) {
  for (const auto& rr : message.authority)
    if (rr.type == RRType::SOA) return &rr;
  return nullptr;
}

// A reply we can answer from: a response (QR=1, RFC 1035 §4.1.1) to a QUERY with NOERROR,
// NXDOMAIN or (centrald only, handled by the caller) REFUSED. Anything else (FORMERR,
// NOTAUTH, SERVFAIL, NOTIMP...) says the server could not answer us, which is not the
// client's fault: the client gets a stale answer or SERVFAIL, as from Unbound or BIND.
bool usable(const Message& message, bool allowRefused) {
  if (!message.header.qr || message.header.opcode != dnswire::Opcode::Query) return false;
  const uint16_t rcode = message.rcode();
  return rcode == static_cast<uint16_t>(Rcode::NoError) || rcode == static_cast<uint16_t>(Rcode::NXDomain) ||
         (allowRefused && rcode == static_cast<uint16_t>(Rcode::Refused));
}

Verdict respondServFail(QueryContext& ctx) {
  const Verdict verdict = dnswire::server::respondWithError(ctx, Rcode::ServFail);
  setRecursionAvailable(ctx.responseBuffer());
  return verdict;
}

}  // namespace

std::vector<uint8_t> encodeQuery(const Name& name, RRType qtype, dnswire::RRClass qclass, bool dnssecOk) {
  std::vector<uint8_t> buffer(dnswire::kMaxUdpPlain);
  dnswire::MessageWriter writer(buffer, buffer.size());
  dnswire::Header header;
  header.rd = true;
  writer.setHeader(header);
  writer.addQuestion({name, qtype, qclass});
  dnswire::Edns edns;
  edns.udpSize = dnswire::kAdvertisedUdpSize;
  edns.dnssecOk = dnssecOk;
  writer.addEdns(edns);
  const auto wire = writer.finish();
  return {wire.begin(), wire.end()};
}

Resolver::Resolver(const SharedState& shared, const dnswire::server::WorkerEnv& env)
    : shared_(shared), loop_(*env.loop), clock_(*env.clock) {
  central_ = std::make_unique<Upstream>(loop_, shared_.central);
  upstreams_ = std::make_unique<Upstream>(loop_, shared_.upstreams);
  shared_.flights->registerResolver(this);
}

Resolver::~Resolver() {
  shuttingDown_ = true;
  shared_.flights->unregisterResolver(this);
  for (const auto& [id, fetch] : fetches_) shared_.flights->abandon(fetch.key);
  for (const auto& [id, wait] : waits_)
    if (wait.timer != dnswire::server::EventLoop::kNoTimer) loop_.cancelTimer(wait.timer);
  upstreams_.reset();
  central_.reset();
}

Verdict Resolver::resolve(QueryContext& ctx) {
  const CacheKey key = CacheKey::make(ctx.query.qname, ctx.query.qtype, ctx.query.qclass, ctx.query.dnssecOk);
  auto token = ctx.suspend();
  if (!token.valid()) return answerStaleOrFail(ctx, key);  // too many queries waiting already
  const uint64_t waitId = nextWait_++;
  Wait wait{token, key, dnswire::server::EventLoop::kNoTimer};
  const auto left = ctx.deadline - clock_.now() - kClientPatience;
  const auto delay = std::max<std::chrono::nanoseconds>(left, std::chrono::milliseconds(50));
  wait.timer = loop_.addTimer(delay, [this, waitId] {
    auto it = waits_.find(waitId);
    if (it != waits_.end()) it->second.timer = dnswire::server::EventLoop::kNoTimer;
    finishWait(waitId, nullptr);
  });
  waits_.emplace(waitId, std::move(wait));
  if (shared_.flights->join(key, {this, waitId})) startFetch(key);
  return Verdict::Suspend;
}

Verdict Resolver::answerStaleOrFail(QueryContext& ctx, const CacheKey& key) {
  const auto hit = shared_.cache->find(key);
  if (hit.entry && hit.entry->rcode != kServFail) {
    const size_t size =
        writeAnswer(*hit.entry, ctx.query, ctx.responseBuffer(), ctx.maxResponseSize, clock_.now(),
                    hit.stale ? std::optional<uint32_t>(kStaleTtl) : std::nullopt);
    if (size > 0) {
      ctx.responseSize = size;
      dnswire::server::logQuery("{} {} {} -> {} from cache", ctx.client, ctx.query.qname,
                                ctx.query.qtype, hit.stale ? "stale answer" : "answer");
      return Verdict::Respond;
    }
  }
  dnswire::server::logQuery("{} {} {} -> SERVFAIL (no server answered)", ctx.client,
                            ctx.query.qname, ctx.query.qtype);
  return respondServFail(ctx);
}

void Resolver::deliver(uint64_t waitId, const Outcome& outcome) { finishWait(waitId, &outcome); }

void Resolver::finishWait(uint64_t waitId, const Outcome* outcome) {
  auto it = waits_.find(waitId);
  if (it == waits_.end()) return;  // already answered (patience timer or outcome)
  Wait wait = std::move(it->second);
  waits_.erase(it);
  if (wait.timer != dnswire::server::EventLoop::kNoTimer) loop_.cancelTimer(wait.timer);
  QueryContext* ctx = wait.token.context();
  if (ctx == nullptr) return;  // the query is gone (its TCP connection closed)
  Verdict verdict = Verdict::Drop;
  const CacheEntry* entry = outcome != nullptr ? outcome->entry.get() : nullptr;
  if (entry != nullptr && entry->rcode != kServFail) {
    const size_t size =
        writeAnswer(*entry, ctx->query, ctx->responseBuffer(), ctx->maxResponseSize, clock_.now());
    if (size > 0) {
      ctx->responseSize = size;
      verdict = Verdict::Respond;
      dnswire::server::logQuery("{} {} {} -> rcode {}", ctx->client, ctx->query.qname,
                                ctx->query.qtype, entry->rcode);
    }
  }
  if (verdict != Verdict::Respond) verdict = answerStaleOrFail(*ctx, wait.key);
  wait.token.resume(verdict);
}

void Resolver::startFetch(const CacheKey& key) {
  const uint64_t fetchId = nextFetch_++;
  Fetch fetch;
  fetch.key = key;
  fetch.route = shared_.routing->classify(key.qname);
  fetches_.emplace(fetchId, std::move(fetch));
  if (fetches_[fetchId].route == Route::NotCentral)
    askUpstream(fetchId, key.qname);
  else
    askCentral(fetchId);
}

void Resolver::askCentral(uint64_t fetchId) {
  const Fetch& fetch = fetches_.at(fetchId);
  const auto query = encodeQuery(fetch.key.qname, fetch.key.qtype, fetch.key.qclass, fetch.key.dnssecOk);
  central_->send(query, [this, fetchId](std::error_code error, std::span<const uint8_t> reply) {
    if (!shuttingDown_) onCentralReply(fetchId, error, reply);
  });
}

void Resolver::askUpstream(uint64_t fetchId, const Name& name) {
  const Fetch& fetch = fetches_.at(fetchId);
  if (!upstreams_->hasServers()) {
    // SPEC: without --upstream, names outside centrald's zones get REFUSED.
    Message refused;
    refused.header.qr = true;
    refused.header.rcode = static_cast<uint8_t>(Rcode::Refused);
    auto built =
        buildEntry(refused, {fetch.key.qname, fetch.key.qtype, fetch.key.qclass}, Name(), clock_.now());
    complete(fetchId, built.entry, false);
    return;
  }
  const auto query = encodeQuery(name, fetch.key.qtype, fetch.key.qclass, fetch.key.dnssecOk);
  upstreams_->send(query, [this, fetchId](std::error_code error, std::span<const uint8_t> reply) {
    if (!shuttingDown_) onUpstreamReply(fetchId, error, reply);
  });
}

void Resolver::onCentralReply(uint64_t fetchId, std::error_code error, std::span<const uint8_t> reply) {
  auto it = fetches_.find(fetchId);
  if (it == fetches_.end()) return;
  Fetch& fetch = it->second;
  auto message =
      error ? dnswire::Result<Message>(dnswire::WireError::Truncated) : dnswire::parseMessage(reply);
  if (!message || !usable(*message, true)) {
    // centrald unreachable or failing: a name known to be centrald's has nowhere else to go; one
    // never seen may still be the upstreams' (availability over a wasted query).
    if (error) dnswire::server::logQuery("centrald: {} for {}", error.message(), fetch.key.qname);
    if (fetch.route == Route::Unknown && upstreams_->hasServers())
      askUpstream(fetchId, fetch.key.qname);
    else
      complete(fetchId, nullptr, false);
    return;
  }
  const dnswire::Question question{fetch.key.qname, fetch.key.qtype, fetch.key.qclass};
  if (message->rcode() == static_cast<uint16_t>(Rcode::Refused)) {
    if (fetch.route == Route::Central) shared_.routing->forgetCentral(fetch.key.qname);
    shared_.routing->learnNotCentral(fetch.key.qname);
    if (upstreams_->hasServers()) {
      fetch.route = Route::NotCentral;
      askUpstream(fetchId, fetch.key.qname);
    } else {
      auto built = buildEntry(*message, question, Name(), clock_.now());
      complete(fetchId, built.entry, false);
    }
    return;
  }
  const auto* soa = findSoa(*message);
  Name apex;
  if (soa != nullptr && fetch.key.qname.isSubdomainOf(soa->owner)) {
    apex = soa->owner;
    shared_.routing->learnCentralZone(apex);
  } else if (message->header.aa) {
    shared_.routing->learnCentralName(fetch.key.qname);
  }
  auto built = buildEntry(*message, question, apex, clock_.now());
  // A CNAME leading out of centrald's zones: the rest comes from the upstreams, so that
  // the client gets the whole chain (centrald stops at its zone's edge, RFC 1034 §4.3.2).
  if (built.chainIncomplete && !shared_.routing->isCentral(built.finalName) && upstreams_->hasServers()) {
    fetch.prefix = std::move(*message);
    askUpstream(fetchId, built.finalName);
    return;
  }
  complete(fetchId, built.entry, built.cacheable);
}

void Resolver::onUpstreamReply(uint64_t fetchId, std::error_code error, std::span<const uint8_t> reply) {
  auto it = fetches_.find(fetchId);
  if (it == fetches_.end()) return;
  Fetch& fetch = it->second;
  auto message =
      error ? dnswire::Result<Message>(dnswire::WireError::Truncated) : dnswire::parseMessage(reply);
  if (!message || !usable(*message, false)) {
    if (error) dnswire::server::logQuery("upstream: {} for {}", error.message(), fetch.key.qname);
    complete(fetchId, nullptr, false);
    return;
  }
  const dnswire::Question question{fetch.key.qname, fetch.key.qtype, fetch.key.qclass};
  if (fetch.prefix) {
    Message merged = std::move(*fetch.prefix);
    fetch.prefix.reset();
    for (auto& rr : message->answers) merged.answers.push_back(std::move(rr));
    merged.authority = std::move(message->authority);
    merged.additional = std::move(message->additional);
    merged.header.rcode = message->header.rcode;
    merged.header.tc = message->header.tc;
    auto built = buildEntry(merged, question, Name(), clock_.now());
    complete(fetchId, built.entry, built.cacheable);
    return;
  }
  auto built = buildEntry(*message, question, Name(), clock_.now());
  complete(fetchId, built.entry, built.cacheable);
}

void Resolver::complete(uint64_t fetchId, std::shared_ptr<const CacheEntry> entry, bool cacheable) {
  auto it = fetches_.find(fetchId);
  if (it == fetches_.end()) return;
  const CacheKey key = it->second.key;
  fetches_.erase(it);
  if (entry && cacheable && entry->rcode != kServFail) shared_.cache->insert(key, entry);
  shared_.flights->complete(key, Outcome{std::move(entry)},
                            [](Resolver* resolver, uint64_t waitId, const Outcome& o) {
                              resolver->loop().post([resolver, waitId, o] { resolver->deliver(waitId, o); });
                            });
}

}  // namespace proxyd
