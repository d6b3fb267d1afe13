#pragma once
// One worker thread's share of the server (internal to dnswire_server): its event loop,
// its UDP sockets and TCP listeners (one per listen address), its TCP connections, its
// pipeline and its pool of query contexts. Everything here runs on the worker's thread,
// except stop().

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "dnswire/server/event_loop.hpp"
#include "dnswire/server/pipeline.hpp"
#include "dnswire/server/query_context.hpp"
#include "dnswire/server/server.hpp"
#include "sockets.hpp"

namespace dnswire::server::detail {

struct ListenSockets {
  SocketAddress address;
  UniqueFd udp;
  UniqueFd tcp;
};

class Worker final : public ContextOwner {
 public:
  // Takes the sockets (already bound; the TCP ones listening). Creates the loop on the
  // calling thread, which must be the thread that will call run().
  Worker(size_t index, const ServerOptions& options, std::vector<ListenSockets> sockets);
  ~Worker();

  // Calls the factory (may throw) and starts watching the sockets.
  void start(const PipelineFactory& factory);
  void run() { loop_.run(); }
  void stop() { loop_.stop(); }  // thread-safe
  EventLoop& loop() { return loop_; }

  // ContextOwner
  bool admitSuspension(uint32_t slot) override;
  void resumeQuery(uint32_t slot, uint64_t generation, Verdict verdict) override;
  QueryContext* contextFor(uint32_t slot, uint64_t generation) override;
  bool onOwnerThread() const override { return loop_.inLoopThread(); }
  void postToOwner(std::function<void()> fn) override { loop_.post(std::move(fn)); }

  // Counters for tests and logs (worker thread only).
  size_t openConnections() const { return openConnections_; }
  size_t suspendedQueries() const { return suspended_; }

 private:
  using SteadyClock = std::chrono::steady_clock;

  struct Connection {
    int fd = -1;
    bool open = false;
    uint64_t generation = 1;
    size_t listener = 0;
    SocketAddress peer;
    SocketAddress local;      // the connection's own address (exact even on a wildcard listener)
    std::vector<uint8_t> in;  // received bytes not yet framed
    size_t inLen = 0;
    std::vector<uint8_t> out;  // framed answers not yet sent
    size_t outOff = 0;
    size_t inFlight = 0;  // suspended queries of this connection
    bool readPaused = false;
    bool readClosed = false;
    bool processing = false;
    bool watchingWrite = false;
    SteadyClock::time_point lastProgress{};  // accept, complete frame, all output sent
    SteadyClock::time_point lastWrite{};     // output became pending or made progress
    bool hasOutput() const { return outOff < out.size(); }
    bool idle() const { return inFlight == 0 && !hasOutput(); }
  };

  QueryContext& acquireContext();
  void releaseContext(QueryContext& ctx);
  void prepare(QueryContext& ctx, std::span<const uint8_t> request, const SocketAddress& client,
               const SocketAddress& local, Transport transport, Clock::TimePoint received);
  // Runs the pipeline from `from` and settles Continue-at-end, Suspend without token and
  // a resume that arrived while run() was on the stack. Returns Respond, Drop or Suspend.
  Verdict drive(QueryContext& ctx, size_t from);
  // Delivers a finished query that was suspended (sends or drops) and frees the context.
  void completeSuspended(QueryContext& ctx, Verdict verdict);
  bool udpResponseAcceptable(const QueryContext& ctx);

  void onUdpReadable(size_t listener);
  // Up to kUdpBatchesPerEvent batches; true when the socket was drained.
  bool readUdp(size_t listener);
  void armReceive(size_t i, bool wildcard);
  void prefetchUdp(size_t i, Stage::Prefetch distance);  // Pipeline::prefetch() on datagram i
  void sendUdpBatch(size_t listener, size_t count);

  void onAccept(size_t listener);
  void onConnectionEvent(uint32_t slot, Readiness ready);
  void readConnection(uint32_t slot);
  void processFrames(uint32_t slot);
  void handleTcpQuery(uint32_t slot, std::span<const uint8_t> frame);
  void queueTcpResponse(Connection& c, std::span<const uint8_t> response);
  void flushConnection(uint32_t slot);
  void updateInterest(uint32_t slot);
  void closeConnection(uint32_t slot, const char* why);
  bool alive(uint32_t slot, uint64_t generation) const;
  bool evictIdleConnection();
  void sweepConnections();
  void scheduleSweep();
  void pauseListener(size_t listener);

  size_t index_;
  ServerOptions options_;
  const Clock* clock_;
  EventLoop loop_;
  std::vector<ListenSockets> sockets_;
  Pipeline pipeline_;
  size_t connectionCap_;

  // Query contexts: stable addresses, reused; free_ holds indexes of idle ones.
  std::vector<std::unique_ptr<QueryContext>> contexts_;
  std::vector<uint32_t> free_;
  size_t suspended_ = 0;

  // UDP batch buffers (preallocated, reused for every batch).
  size_t batch_;
  std::vector<uint8_t> recvBuffer_;
  std::vector<mmsghdr> recvMsgs_;
  std::vector<iovec> recvIov_;
  std::vector<sockaddr_storage> recvAddrs_;
  std::vector<uint64_t> prefetchNotes_;  // per received datagram (Stage::prefetch)
  std::vector<PktinfoBuffer> recvControl_;  // used on wildcard listeners only
  // recvMsgs_[0, recvWritten_) may hold what the last recvmmsg wrote; the rest are armed
  // for a listener whose wildcard flag is recvArmedWildcard_ (-1: none armed yet).
  size_t recvWritten_ = 0;
  int recvArmedWildcard_ = -1;
  std::vector<PktinfoBuffer> sendControl_;
  std::vector<bool> wildcard_;  // per listener
  std::vector<mmsghdr> sendMsgs_;
  std::vector<iovec> sendIov_;
  std::vector<QueryContext*> sendContexts_;

  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<uint32_t> freeConnections_;
  size_t openConnections_ = 0;
  uint64_t oversizeDrops_ = 0;
  uint64_t acceptFailures_ = 0;
  uint64_t tokenlessSuspends_ = 0;
  bool shuttingDown_ = false;

  // A resume() for another query that arrives while a pipeline is running on this worker
  // (a stage finishing other queries synchronously) waits here until that run is over,
  // so that stages are never re-entered.
  struct DeferredResume {
    uint32_t slot;
    uint64_t generation;
    Verdict verdict;
  };
  std::vector<DeferredResume> deferred_;
  int depth_ = 0;  // pipelines on the stack
  bool draining_ = false;
  void drainDeferred();
};

}  // namespace dnswire::server::detail
