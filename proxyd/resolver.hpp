#pragma once
// One worker's way to answer a cache miss: centrald for centrald's zones, the upstream
// resolvers for the rest (routing.hpp says which), CNAME chains leading out of
// centrald's zones completed through the upstreams, the result stored in the shared
// cache and handed to every query waiting for it (flight_table.hpp).
//
// Patience (SPEC "Serve-stale", RFC 8767 §5): a waiting query is answered at the latest
// kClientPatience before its deadline (ServerOptions::queryTimeout after it arrived):
// from a stale cache entry with TTL 30 when there is one, else SERVFAIL; never silence.
// The fetch goes on and fills the cache for the next client. A fetch that fails sooner
// (every server refused or timed out, or SERVFAIL) is answered at once the same way.
//
// centrald is asked through a second c-ares channel rather than a plain UDP socket: the
// same retries, TCP fallback on TC and reply checks (ID, question) as for the upstreams,
// for free.
//
// Owned by the worker's ResolveStage; everything here runs on the worker's loop thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

#include "dnswire/message.hpp"
#include "dnswire/server/event_loop.hpp"
#include "dnswire/server/pipeline.hpp"
#include "proxyd/cache.hpp"
#include "proxyd/flight_table.hpp"
#include "proxyd/routing.hpp"
#include "proxyd/upstream.hpp"

namespace proxyd {

inline constexpr std::chrono::milliseconds kClientPatience{200};

// The state every worker shares.
struct SharedState {
  Cache* cache = nullptr;
  ZoneRouting* routing = nullptr;
  FlightTable* flights = nullptr;
  UpstreamOptions central;    // one server: --central
  UpstreamOptions upstreams;  // --upstream, possibly none
};

// Encodes our query for (name, qtype, qclass): RD set, an OPT advertising 1232 with DO
// as asked. The ID is left 0 (c-ares writes a random one).
std::vector<uint8_t> encodeQuery(const dnswire::Name& name, dnswire::RRType qtype, dnswire::RRClass qclass,
                                 bool dnssecOk);

class Resolver {
 public:
  Resolver(const SharedState& shared, const dnswire::server::WorkerEnv& env);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Suspends ctx until its answer is known (or answers at once when it cannot suspend).
  dnswire::server::Verdict resolve(dnswire::server::QueryContext& ctx);

  // Called on this resolver's loop thread with the outcome of the fetch it waited for.
  void deliver(uint64_t waitId, const Outcome& outcome);
  dnswire::server::EventLoop& loop() { return loop_; }

 private:
  struct Wait {
    dnswire::server::SuspendToken token;
    CacheKey key;
    dnswire::server::EventLoop::TimerId timer = dnswire::server::EventLoop::kNoTimer;
  };
  struct Fetch {
    CacheKey key;
    Route route = Route::Unknown;
    std::optional<dnswire::Message> prefix;  // centrald's CNAME chain being completed
  };

  // Answers ctx from a stale entry (TTL 30) when the cache has one, else SERVFAIL.
  dnswire::server::Verdict answerStaleOrFail(dnswire::server::QueryContext& ctx, const CacheKey& key);
  void finishWait(uint64_t waitId, const Outcome* outcome);

  void startFetch(const CacheKey& key);
  void askCentral(uint64_t fetchId);
  void askUpstream(uint64_t fetchId, const dnswire::Name& name);
  void onCentralReply(uint64_t fetchId, std::error_code error, std::span<const uint8_t> reply);
  void onUpstreamReply(uint64_t fetchId, std::error_code error, std::span<const uint8_t> reply);
  void complete(uint64_t fetchId, std::shared_ptr<const CacheEntry> entry, bool cacheable);

  SharedState shared_;
  dnswire::server::EventLoop& loop_;
  const dnswire::server::Clock& clock_;
  uint64_t nextWait_ = 1;
  uint64_t nextFetch_ = 1;
  std::unordered_map<uint64_t, Wait> waits_;
  std::unordered_map<uint64_t, Fetch> fetches_;
  bool shuttingDown_ = false;
  // Last members: destroyed first, while the rest is still valid for their callbacks.
  std::unique_ptr<Upstream> central_;
  std::unique_ptr<Upstream> upstreams_;
};

}  // namespace proxyd
