#pragma once
// The DNS server runtime shared by centrald and proxyd: N worker threads, each with its
// own epoll loop, its own SO_REUSEPORT UDP socket and TCP listener per listen address,
// its own Pipeline and its own pool of query contexts. Workers share nothing mutable.
//
// UDP: datagrams are read and answered in batches (recvmmsg/sendmmsg); requests larger
// than kMaxUdpRequest are dropped. A response longer than ctx.maxResponseSize is never
// sent (dropped and logged: the stages must truncate). On a wildcard listen address
// (0.0.0.0, ::) each reply leaves from the address its query was sent to (IP_PKTINFO),
// and ctx.local is that exact address, for UDP and TCP alike.
//
// TCP (RFC 7766): 2-byte length framing (RFC 1035 §4.2.2), any number of queries per
// connection, answers sent as they complete (so possibly out of order, §6.2.1.1), at
// most maxTcpInFlight queries per connection at once (reading pauses beyond that), and
// partial writes buffered until the socket drains. A connection is closed when it has
// had no complete query and no answer written for tcpIdleTimeout while nothing is in
// flight (§6.2.3); this also closes a client that stalls in the middle of a length
// prefix or a frame, however slowly it trickles bytes. A client that reads no answers
// is closed once its unsent output has made no progress for tcpIdleTimeout.
//
// Connection cap: each worker keeps at most min(maxTcpConnectionsPerWorker,
// ceil(maxTcpConnections / threads)) connections (no shared counter between workers).
// At the cap a new connection is still accepted, and the least recently active idle
// connection (nothing in flight, nothing unsent) is closed to make room; when none is
// idle the new one is closed at once. Rationale: RFC 7766 §6.2.2 lets a server close
// idle connections under pressure, and accepting keeps new clients from waiting on a
// full backlog behind slow or silent ones: they get service or an immediate close.
//
// Signals: start() blocks SIGTERM, SIGINT and SIGPIPE in the calling thread, before the
// workers start (they inherit the mask); run() takes SIGTERM/SIGINT through a signalfd.
// A daemon that starts other threads should do so after start(), or call
// blockTerminationSignals() first in main().

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "dnswire/error.hpp"
#include "dnswire/server/address.hpp"
#include "dnswire/server/clock.hpp"
#include "dnswire/server/pipeline.hpp"

namespace dnswire::server {

inline constexpr size_t kMaxUdpRequest = 4096;

struct ServerOptions {
  std::vector<SocketAddress> listen;                 // UDP and TCP on each; port 0 picks a free port
  size_t threads = 1;                                // >= 1
  std::chrono::milliseconds tcpIdleTimeout{10'000};  // RFC 7766 §6.2.3
  size_t maxTcpConnectionsPerWorker = 256;
  size_t maxTcpConnections = 1024;  // over all workers
  size_t maxTcpInFlight = 32;       // per connection
  size_t maxSuspendedPerWorker = 4096;
  // Messages per recvmmsg/sendmmsg. 128 rather than 64: at saturation the socket holds
  // more, and each system call costs the same however many it carries (+2-3 % q/s, 3 of 3
  // interleaved runs on the bench data).
  size_t udpBatch = 128;
  // Sets QueryContext::deadline = received + queryTimeout (the client's patience; SPEC
  // proxyd: "SERVFAIL within about 2 s").
  std::chrono::milliseconds queryTimeout{2'000};
  int socketBufferBytes = 4 << 20;  // SO_RCVBUF / SO_SNDBUF for UDP (kernel may clamp)
  const Clock* clock = nullptr;     // nullptr = SystemClock::instance()
  // When true (the default), run() also returns on SIGTERM/SIGINT. Tests set it false.
  bool handleSignals = true;
};

class Server {
 public:
  // Validates nothing yet; `factory` is called once per worker by start().
  Server(ServerOptions options, PipelineFactory factory);
  ~Server();  // stop() and join
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every socket (UDP and TCP for each listen address, one of each per worker),
  // starts the worker threads and builds their pipelines. On failure nothing keeps
  // running and the error's detail is one line: "cannot bind 127.0.0.1:53: Permission
  // denied", "cannot build pipeline: <what>", "no listen address". Binding checks
  // exclusivity first with a plain TCP bind, so a second daemon on the same address
  // fails here instead of silently sharing the port through SO_REUSEPORT.
  // Call once.
  Result<void> start();

  // The addresses actually bound, in the order of options.listen (with the real port
  // where port 0 was asked). Valid after a successful start().
  const std::vector<SocketAddress>& boundAddresses() const { return bound_; }

  // Blocks until stop() is called or (with handleSignals) SIGTERM/SIGINT arrives, then
  // stops the workers and joins them; returns the signal number that ended it, 0 after
  // stop(), or -1 when a worker died of an exception (logged). Suspended queries still
  // waiting are dropped. Returns at once if start() failed or was not called. Call it on
  // the thread that called start() (its signal mask is the one start() set).
  int run();
  // Asks run() to return (and the workers to stop). Thread-safe, idempotent, returns
  // immediately; the destructor waits for the workers.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<SocketAddress> bound_;
};

// Blocks SIGTERM, SIGINT (taken by Server::run through a signalfd) and SIGPIPE (a
// closed TCP peer must not kill the process) in the calling thread.
void blockTerminationSignals();

}  // namespace dnswire::server
