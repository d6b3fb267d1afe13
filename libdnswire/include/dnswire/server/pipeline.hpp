#pragma once
// Query handling as a chain of small stages over a QueryContext (STYLE.md "Servers").
// Stages never touch sockets: they read the request, fill the response and return a
// Verdict; the runtime does all I/O. Each worker thread has its own Pipeline (built by
// the PipelineFactory), so a stage may keep per-worker state without locks.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "dnswire/server/clock.hpp"
#include "dnswire/server/query_context.hpp"

namespace dnswire::server {

class EventLoop;

class Stage {
 public:
  virtual ~Stage() = default;
  // Handles one query. May throw only on programmer errors: the runtime catches,
  // logs and answers SERVFAIL. See Verdict for the meaning of the result; a stage that
  // returns Suspend must have taken a token with ctx.suspend().
  virtual Verdict run(QueryContext& ctx) = 0;
  // For log lines ("decode", "cache").
  virtual std::string_view name() const { return "stage"; }

  // A stage that keeps a large table it reads per query (centrald's answer cache) can ask
  // to see each UDP request before it runs: over each received batch the worker calls
  // prefetch(Far) some queries ahead of run() and prefetch(Near) fewer ahead, so that the
  // lines run() will read are on their way from memory while earlier queries are answered
  // (Far: start loading an index; Near: read it, now cached, and load what it points to).
  // `note` is the datagram's own: 0 before Far, kept by the worker through Near, and handed
  // to run() as ctx.prefetchNote, so that what Far worked out (a hash) is not worked out
  // again. A hint only: run() must answer the same without it (a request may come with no
  // prefetch calls and a note of 0). A pipeline has at most one stage that prefetches.
  enum class Prefetch { Far, Near };
  virtual bool prefetches() const { return false; }
  virtual void prefetch(std::span<const uint8_t> /*request*/, Transport /*transport*/, Prefetch /*distance*/,
                        uint64_t& /*note*/) {}
};

class Pipeline {
 public:
  Pipeline() = default;
  Pipeline(Pipeline&&) = default;
  Pipeline& operator=(Pipeline&&) = default;

  // Appends a stage; returns a reference to it for wiring.
  template <class S, class... Args>
  S& emplace(Args&&... args) {
    auto stage = std::make_unique<S>(std::forward<Args>(args)...);
    S& ref = *stage;
    add(std::move(stage));
    return ref;
  }
  // Throws std::logic_error for a second stage that prefetches (they would share a note).
  void add(std::unique_ptr<Stage> stage);

  // Runs stages from `from` until one returns something other than Continue, and
  // returns that verdict. On Suspend, ctx.nextStage is the index after the suspending
  // stage (where a resume with Continue picks up). When every stage said Continue the
  // result is Continue: the runtime then answers SERVFAIL (no stage produced an answer:
  // a wiring bug, but never silence toward a client whose header was readable).
  Verdict run(QueryContext& ctx, size_t from = 0) const;

  // Whether a stage wants prefetch() calls, and the call itself (Stage::prefetch).
  bool prefetches() const { return prefetcher_ != nullptr; }
  void prefetch(std::span<const uint8_t> request, Transport transport, Stage::Prefetch distance,
                uint64_t& note) const {
    prefetcher_->prefetch(request, transport, distance, note);
  }

  size_t size() const { return stages_.size(); }
  Stage& stage(size_t i) const { return *stages_[i]; }

 private:
  std::vector<std::unique_ptr<Stage>> stages_;
  Stage* prefetcher_ = nullptr;  // the stage whose prefetches() is true, if any
};

// What a worker offers the stages built for it.
struct WorkerEnv {
  size_t index = 0;           // 0..threads-1
  size_t threads = 1;         // total workers
  EventLoop* loop = nullptr;  // the worker's loop: for fds (c-ares) and timers; its thread only
  const Clock* clock = nullptr;
};

// Builds one worker's pipeline. Called once per worker, on the worker's own thread,
// before it serves; may throw to abort start-up (Server::start() then fails with the
// exception's message).
using PipelineFactory = std::function<Pipeline(const WorkerEnv&)>;

}  // namespace dnswire::server
