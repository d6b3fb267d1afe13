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
  // A hint only: it must not change what run() does, and may not be called for every request.
  enum class Prefetch { Far, Near };
  virtual bool prefetches() const { return false; }
  virtual void prefetch(std::span<const uint8_t> /*request*/, Transport /*transport*/, Prefetch /*distance*/) {}
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
  void add(std::unique_ptr<Stage> stage) {
    if (stage->prefetches()) prefetchers_.push_back(stage.get());
    stages_.push_back(std::move(stage));
  }

  // Runs stages from `from` until one returns something other than Continue, and
  // returns that verdict. On Suspend, ctx.nextStage is the index after the suspending
  // stage (where a resume with Continue picks up). When every stage said Continue the
  // result is Continue: the runtime then answers SERVFAIL (no stage produced an answer:
  // a wiring bug, but never silence toward a client whose header was readable).
  Verdict run(QueryContext& ctx, size_t from = 0) const;

  // Whether any stage wants prefetch() calls, and the call itself (Stage::prefetch).
  bool prefetches() const { return !prefetchers_.empty(); }
  void prefetch(std::span<const uint8_t> request, Transport transport, Stage::Prefetch distance) const {
    for (Stage* stage : prefetchers_) stage->prefetch(request, transport, distance);
  }

  size_t size() const { return stages_.size(); }
  Stage& stage(size_t i) const { return *stages_[i]; }

 private:
  std::vector<std::unique_ptr<Stage>> stages_;
  std::vector<Stage*> prefetchers_;  // the stages whose prefetches() is true
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
