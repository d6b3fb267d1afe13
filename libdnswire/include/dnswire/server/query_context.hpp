#pragma once
// The state of one query as it moves through a Pipeline, and the token that lets an
// asynchronous stage finish it later.
//
// Lifetime: the runtime owns every QueryContext (a per-worker pool, reused; nothing is
// allocated per query). A context is valid from the moment the pipeline starts on it
// until the query is finished (Respond or Drop). For a suspended query that is until
// SuspendToken::resume() has run it to the end: the QueryContext& a stage saw stays the
// same object (same address) across suspension, so a stage may keep a pointer to it
// while it holds the token. After the query is finished the context is reused for
// another query: token.context() then returns nullptr.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "dnswire/packet_view.hpp"
#include "dnswire/server/address.hpp"
#include "dnswire/server/clock.hpp"

namespace dnswire::server {

enum class Transport { Udp, Tcp };

// What a stage tells the pipeline.
enum class Verdict {
  Continue,  // go on with the next stage
  Respond,   // send response() now (the stage filled responseBuffer()/responseSize)
  Drop,      // send nothing
  Suspend,   // the stage took a SuspendToken and will resume the query later
};

const char* toString(Verdict verdict);
const char* toString(Transport transport);

class QueryContext;

namespace detail {
// Implemented by the worker that owns a context (the runtime; not for stages).
class ContextOwner {
 public:
  // Called by QueryContext::suspend() on a context that is not yet suspended; false
  // when the owner's bound on suspended queries is reached.
  virtual bool admitSuspension(uint32_t slot) = 0;
  virtual void resumeQuery(uint32_t slot, uint64_t generation, Verdict verdict) = 0;
  virtual QueryContext* contextFor(uint32_t slot, uint64_t generation) = 0;
  virtual bool onOwnerThread() const = 0;
  // Runs `fn` on the owner's thread (used when resume() is called from elsewhere).
  virtual void postToOwner(std::function<void()> fn) = 0;

 protected:
  ~ContextOwner() = default;
};
}  // namespace detail

// A handle on a suspended query. Cheap to copy; holds no pointer that can dangle into a
// finished query: each suspension has its own generation number, and a token whose
// generation no longer matches does nothing.
class SuspendToken {
 public:
  // An invalid token (what QueryContext::suspend() returns when the pool of suspended
  // queries is exhausted).
  SuspendToken() = default;

  // False for a default token or one whose suspend() failed. Says nothing about
  // whether the query is still waiting (see context()).
  bool valid() const { return owner_ != nullptr; }

  // Finishes or continues the suspended query:
  //   Respond  - send the response the stage put in the context (the runtime checks the
  //              size against maxResponseSize for UDP and drops + logs an oversized one)
  //   Drop     - send nothing
  //   Continue - run the pipeline from the stage after the one that suspended
  //   Suspend  - not allowed here; treated as Drop and logged
  // If the TCP connection the query came on has closed meanwhile, the answer is dropped.
  // Call at most once per suspension: later calls, calls on a token of a finished query,
  // and calls on an invalid token do nothing. Normally called on the worker's loop
  // thread (from a timer, an fd callback or c-ares); called from any other thread it is
  // posted to the loop thread, so the context must then not be touched after the call.
  // May be called before the stage's run() has returned Suspend (e.g. from a callback
  // that fired synchronously): the runtime then applies it once run() returns. A resume
  // of some other query made while a stage runs (a stage finishing the queries that
  // waited on the same work) is applied after that run, so stages are never re-entered.
  void resume(Verdict verdict) const;

  // The suspended query's context, or nullptr once it is finished (or the token is
  // invalid). Loop thread only.
  QueryContext* context() const;

 private:
  friend class QueryContext;
  SuspendToken(detail::ContextOwner* owner, uint32_t slot, uint64_t generation)
      : owner_(owner), slot_(slot), generation_(generation) {}

  detail::ContextOwner* owner_ = nullptr;
  uint32_t slot_ = 0;
  uint64_t generation_ = 0;
};

class QueryContext {
 public:
  static constexpr size_t kResponseCapacity = 65535;  // RFC 1035 §4.2.2: TCP's 2-byte length

  QueryContext();
  QueryContext(const QueryContext&) = delete;
  QueryContext& operator=(const QueryContext&) = delete;

  // --- filled by the runtime before the first stage ---------------------------------
  // The raw request. Valid for as long as the context is; for a suspended query the
  // runtime copies the bytes into the context (at suspend()), so it stays valid.
  std::span<const uint8_t> request;
  SocketAddress client;  // where the query came from
  SocketAddress local;   // the listen address it arrived on
  Transport transport = Transport::Udp;
  // When the query was received (options.clock) and when the client will have given up
  // (received + ServerOptions::queryTimeout). Stages that wait (upstreams) respect it.
  Clock::TimePoint received{};
  Clock::TimePoint deadline{};
  // Hard ceiling for the response. The runtime sets it to 512 for UDP and 65535 for
  // TCP; DecodeStage then raises it for UDP to the client's EDNS size clamped to
  // [512, 1232] (RFC 6891 §6.2.3, §6.2.5). The runtime never sends a UDP response larger
  // than this: stages must truncate (TC) themselves.
  size_t maxResponseSize = 512;
  // Index of the worker thread running the query (0..threads-1).
  size_t worker = 0;
  // What the pipeline's prefetching stage noted for this request (Stage::prefetch); 0 when
  // it was not prefetched.
  uint64_t prefetchNote = 0;

  // --- filled by stages ---------------------------------------------------------------
  // The parsed query: meaningful only when `parsed` is true (set by DecodeStage, which
  // writes it only together with `parsed`; reset() clears it only after a parse).
  dnswire::QueryView query{};
  bool parsed = false;
  // For the daemon's own per-query state. Reset to nullptr before each new query; the
  // stage that sets it owns whatever it points to (and must release it before it lets
  // the query finish).
  void* user = nullptr;

  // The response is written into responseBuffer() (kResponseCapacity bytes, owned by the
  // context, reused) and its length set in responseSize; it is what a Respond sends.
  std::span<uint8_t> responseBuffer() { return {response_.get(), kResponseCapacity}; }
  size_t responseSize = 0;
  std::span<const uint8_t> response() const { return {response_.get(), responseSize}; }
  // Copies `bytes` into the response buffer (truncating at kResponseCapacity).
  void setResponse(std::span<const uint8_t> bytes);

  // Suspends the query: call from within Stage::run() and then return Verdict::Suspend.
  // Copies the request into the context so that it outlives the receive buffer. Returns
  // an invalid token when the worker's pool of suspended queries is full (then answer
  // synchronously instead, e.g. SERVFAIL or a stale answer). Returning Suspend without
  // a valid token makes the runtime answer SERVFAIL. Calling it again while already
  // suspended (a later stage after Continue) gives a fresh token; the older one dies.
  SuspendToken suspend();
  bool suspended() const { return suspended_; }

  // --- runtime bookkeeping (not for stages) ------------------------------------------
  // Prepares the context for a new query: clears the stage fields, response and token.
  void reset();
  // Installs the owner that suspend() registers with; `slot` is this context's index in
  // the owner's pool.
  void attach(detail::ContextOwner* owner, uint32_t slot) {
    owner_ = owner;
    slot_ = slot;
  }
  uint32_t slot() const { return slot_; }
  uint64_t generation() const { return generation_; }
  // Ends the current suspension (token generations no longer match).
  void endSuspension() {
    suspended_ = false;
    ++generation_;
  }
  // Where the pipeline resumes after Continue; set by Pipeline::run.
  size_t nextStage = 0;
  // The runtime's handle on the connection or socket the answer goes to.
  uint64_t route = 0;
  uint64_t routeGeneration = 0;
  // A resume() that arrived while run() was still on the stack (applied after it).
  bool running = false;
  bool hasPendingVerdict = false;
  Verdict pendingVerdict = Verdict::Drop;

 private:
  std::unique_ptr<uint8_t[]> response_;
  std::vector<uint8_t> requestCopy_;
  detail::ContextOwner* owner_ = nullptr;
  uint32_t slot_ = 0;
  uint64_t generation_ = 1;
  bool suspended_ = false;
};

}  // namespace dnswire::server
