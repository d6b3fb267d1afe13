#include "worker.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"

namespace dnswire::server::detail {
namespace {

// Largest UDP payload over IPv4/IPv6 (65535 minus IP and UDP headers).
constexpr size_t kMaxUdpPayload = 65507;
// Batches per readiness event: bounded so that one busy socket cannot starve TCP.
constexpr int kUdpBatchesPerEvent = 4;
// Unsent TCP output beyond which we stop reading new queries from that connection.
constexpr size_t kMaxPendingOutput = 256 * 1024;
constexpr size_t kInitialInBuffer = 4096;
constexpr size_t kMaxFrameBuffer = 2 + dnswire::kMaxMessageSize;
constexpr int kAcceptsPerEvent = 64;
// How many datagrams of a batch ahead of the one being answered Stage::prefetch() sees
// (Far, then Near): each step far enough for a line to arrive from memory, near enough
// that it is still in L1 when used.
constexpr size_t kPrefetchNear = 8;
constexpr size_t kPrefetchFar = 2 * kPrefetchNear;

// Logs rare events at 1, 2, 4, 8... occurrences so that a flood cannot fill the log.
bool shouldLog(uint64_t& counter) {
  ++counter;
  return (counter & (counter - 1)) == 0;
}

}  // namespace

Worker::Worker(size_t index, const ServerOptions& options, std::vector<ListenSockets> sockets)
    : index_(index),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : &SystemClock::instance()),
      sockets_(std::move(sockets)),
      batch_(std::clamp<size_t>(options.udpBatch, 1, 1024)) {
  size_t threads = std::max<size_t>(options.threads, 1);
  size_t share = (options.maxTcpConnections + threads - 1) / threads;
  connectionCap_ = std::max<size_t>(1, std::min(options.maxTcpConnectionsPerWorker, share));

  recvBuffer_.resize(batch_ * kMaxUdpRequest);
  recvMsgs_.resize(batch_);
  recvIov_.resize(batch_);
  recvAddrs_.resize(batch_);
  prefetchNotes_.resize(batch_);
  sendMsgs_.resize(batch_);
  sendIov_.resize(batch_);
  sendContexts_.resize(batch_);
  recvControl_.resize(batch_);
  sendControl_.resize(batch_);
  for (const auto& s : sockets_) wildcard_.push_back(isWildcard(s.address));
  // Enough contexts for a full batch plus one TCP query, so that the steady state never
  // allocates; more are made only while suspended queries pile up.
  contexts_.reserve(batch_ + 1 + std::min<size_t>(options.maxSuspendedPerWorker, 4096));
  for (size_t i = 0; i < batch_ + 1; ++i) {
    contexts_.push_back(std::make_unique<QueryContext>());
    contexts_.back()->attach(this, static_cast<uint32_t>(i));
    free_.push_back(static_cast<uint32_t>(i));
  }
}

Worker::~Worker() {
  // Stages go first, while contexts, connections and the loop still exist: a stage that
  // cancels its work on destruction (c-ares calls back with ARES_EDESTRUCTION) may resume
  // its queries, which are then just released.
  shuttingDown_ = true;
  pipeline_ = Pipeline();
  for (uint32_t slot = 0; slot < connections_.size(); ++slot) {
    if (connections_[slot]->open) closeConnection(slot, nullptr);
  }
  for (auto& s : sockets_) {
    if (s.udp) loop_.unwatch(s.udp.get());
    if (s.tcp) loop_.unwatch(s.tcp.get());
  }
}

void Worker::start(const PipelineFactory& factory) {
  WorkerEnv env;
  env.index = index_;
  env.threads = std::max<size_t>(options_.threads, 1);
  env.loop = &loop_;
  env.clock = clock_;
  pipeline_ = factory(env);
  for (size_t i = 0; i < sockets_.size(); ++i) {
    auto udp =
        loop_.watch(sockets_[i].udp.get(), Interest::readable(), [this, i](Readiness) { onUdpReadable(i); });
    if (!udp) throw std::runtime_error("cannot watch UDP socket: " + udp.error().message());
    auto tcp =
        loop_.watch(sockets_[i].tcp.get(), Interest::readable(), [this, i](Readiness) { onAccept(i); });
    if (!tcp) throw std::runtime_error("cannot watch TCP listener: " + tcp.error().message());
  }
  scheduleSweep();
}

// ---- contexts ------------------------------------------------------------------------

QueryContext& Worker::acquireContext() {
  if (free_.empty()) {
    auto slot = static_cast<uint32_t>(contexts_.size());
    contexts_.push_back(std::make_unique<QueryContext>());
    contexts_.back()->attach(this, slot);
    free_.push_back(slot);
  }
  uint32_t slot = free_.back();
  free_.pop_back();
  QueryContext& ctx = *contexts_[slot];
  ctx.reset();
  return ctx;
}

void Worker::releaseContext(QueryContext& ctx) {
  if (ctx.suspended()) --suspended_;
  // Bumps the generation: stale tokens see nothing. The fields are cleared by reset()
  // when the context is next acquired.
  ctx.endSuspension();
  free_.push_back(ctx.slot());
}

void Worker::prepare(QueryContext& ctx, std::span<const uint8_t> request, const SocketAddress& client,
                     const SocketAddress& local, Transport transport, Clock::TimePoint received) {
  ctx.request = request;
  ctx.client = client;
  ctx.local = local;
  ctx.transport = transport;
  ctx.received = received;
  ctx.deadline = ctx.received + std::chrono::duration_cast<Clock::Duration>(options_.queryTimeout);
  ctx.maxResponseSize = transport == Transport::Udp ? dnswire::kMaxUdpPlain : dnswire::kMaxMessageSize;
  ctx.worker = index_;
}

bool Worker::admitSuspension(uint32_t) {
  if (suspended_ >= options_.maxSuspendedPerWorker) return false;
  ++suspended_;
  return true;
}

QueryContext* Worker::contextFor(uint32_t slot, uint64_t generation) {
  if (slot >= contexts_.size()) return nullptr;
  QueryContext* ctx = contexts_[slot].get();
  if (!ctx->suspended() || ctx->generation() != generation) return nullptr;
  return ctx;
}

Verdict Worker::drive(QueryContext& ctx, size_t from) {
  for (;;) {
    Verdict verdict;
    ctx.running = true;
    ++depth_;
    try {
      verdict = pipeline_.run(ctx, from);
    } catch (const std::exception& e) {
      logError("worker {}: stage failed on a query from {}: {}", index_, ctx.client.toString(), e.what());
      verdict = respondWithError(ctx, dnswire::Rcode::ServFail);
    } catch (...) {
      logError("worker {}: stage failed on a query from {}", index_, ctx.client.toString());
      verdict = respondWithError(ctx, dnswire::Rcode::ServFail);
    }
    ctx.running = false;
    --depth_;
    if (verdict == Verdict::Continue) {
      // No stage answered: a wiring bug, but the client still gets an answer.
      verdict = respondWithError(ctx, dnswire::Rcode::ServFail);
    }
    if (verdict == Verdict::Suspend && !ctx.suspended()) {
      // Suspend without a token (the pool was full and the stage did not check).
      if (shouldLog(tokenlessSuspends_)) {
        logWarning("worker {}: a stage suspended without a token ({} times); answered SERVFAIL", index_,
                   tokenlessSuspends_);
      }
      verdict = respondWithError(ctx, dnswire::Rcode::ServFail);
    }
    if (verdict != Verdict::Suspend) {
      if (ctx.suspended()) {
        ctx.endSuspension();
        --suspended_;
      }
      ctx.hasPendingVerdict = false;
      return verdict;
    }
    if (!ctx.hasPendingVerdict) return Verdict::Suspend;
    // resume() was called while run() was still on the stack: apply it now.
    Verdict pending = ctx.pendingVerdict;
    ctx.hasPendingVerdict = false;
    if (pending == Verdict::Continue) {
      from = ctx.nextStage;
      continue;
    }
    ctx.endSuspension();
    --suspended_;
    if (pending == Verdict::Suspend) {
      logError("worker {}: resume(Suspend) is not allowed; query dropped", index_);
      pending = Verdict::Drop;
    }
    return pending;
  }
}

void Worker::resumeQuery(uint32_t slot, uint64_t generation, Verdict verdict) {
  QueryContext* ctx = contextFor(slot, generation);
  if (ctx == nullptr) return;  // finished already, or a stale token
  if (shuttingDown_) {
    releaseContext(*ctx);
    return;
  }
  if (ctx->running) {
    if (!ctx->hasPendingVerdict) {
      ctx->hasPendingVerdict = true;
      ctx->pendingVerdict = verdict;
    }
    return;
  }
  if (depth_ > 0) {
    deferred_.push_back({slot, generation, verdict});
    return;
  }
  Verdict outcome;
  if (verdict == Verdict::Continue) {
    outcome = drive(*ctx, ctx->nextStage);
    if (outcome == Verdict::Suspend) {  // suspended again by a later stage
      if (!deferred_.empty()) drainDeferred();
      return;
    }
  } else {
    ctx->endSuspension();
    --suspended_;
    outcome = verdict;
    if (outcome == Verdict::Suspend) {
      logError("worker {}: resume(Suspend) is not allowed; query dropped", index_);
      outcome = Verdict::Drop;
    }
  }
  completeSuspended(*ctx, outcome);
  if (!deferred_.empty()) drainDeferred();
}

void Worker::drainDeferred() {
  if (draining_) return;
  draining_ = true;
  // Index loop: resuming may defer more (appended) while we go.
  for (size_t i = 0; i < deferred_.size(); ++i) {
    DeferredResume d = deferred_[i];
    resumeQuery(d.slot, d.generation, d.verdict);
  }
  deferred_.clear();
  draining_ = false;
}

bool Worker::udpResponseAcceptable(const QueryContext& ctx) {
  if (ctx.responseSize >= dnswire::kHeaderSize && ctx.responseSize <= ctx.maxResponseSize &&
      ctx.responseSize <= kMaxUdpPayload) {
    return true;
  }
  // A stage bug: the stages truncate (TC) to maxResponseSize; the runtime never sends more.
  if (shouldLog(oversizeDrops_)) {
    logError("worker {}: dropped a UDP response of {} bytes to {} (limit {}; {} such drops)", index_,
             ctx.responseSize, ctx.client.toString(), ctx.maxResponseSize, oversizeDrops_);
  }
  return false;
}

void Worker::completeSuspended(QueryContext& ctx, Verdict verdict) {
  if (ctx.transport == Transport::Udp) {
    if (verdict == Verdict::Respond && udpResponseAcceptable(ctx)) {
      const auto& s = sockets_[ctx.route];
      iovec iov{ctx.responseBuffer().data(), ctx.responseSize};
      msghdr msg{};
      msg.msg_name = ctx.client.sockaddrPtr();
      msg.msg_namelen = ctx.client.length();
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      PktinfoBuffer control;
      if (wildcard_[ctx.route]) {
        msg.msg_controllen = buildPktinfo(ctx.local, control);
        if (msg.msg_controllen > 0) msg.msg_control = control.data;
      }
      ssize_t n = ::sendmsg(s.udp.get(), &msg, MSG_DONTWAIT);
      if (n < 0)
        logQuery("worker {}: send to {} failed: {}", index_, ctx.client.toString(), std::strerror(errno));
    }
    releaseContext(ctx);
    return;
  }
  auto slot = static_cast<uint32_t>(ctx.route);
  if (!alive(slot, ctx.routeGeneration)) {
    // The connection closed while the query waited: nothing to send it on.
    releaseContext(ctx);
    return;
  }
  Connection& c = *connections_[slot];
  if (c.inFlight > 0) --c.inFlight;
  if (verdict == Verdict::Respond) queueTcpResponse(c, ctx.response());
  releaseContext(ctx);
  flushConnection(slot);  // sends, closes a half-closed idle connection, unpauses reading
}

// ---- UDP -----------------------------------------------------------------------------

void Worker::onUdpReadable(size_t listener) {
  const int fd = sockets_[listener].udp.get();
  const bool drained = readUdp(listener);
  if (drained && !loop_.paused(fd)) return;  // the usual case below saturation
  if (drained) {
    // Back in the epoll set, which reports the socket at once if more has come.
    auto resumed = loop_.resume(fd);
    if (resumed) return;
    logError("worker {}: cannot watch a UDP socket again: {}; reading it on a timer", index_,
             resumed.error().message());
  } else if (!loop_.paused(fd) && !loop_.pause(fd)) {
    return;  // still in the set: level-triggered, it reports the socket again
  }
  // Busy after a full share of batches: out of the epoll set until drained, as
  // bench_udp_echo is. epoll's callback on every datagram in and out costs more than
  // coming back on the next loop iteration (other sockets and timers go first).
  loop_.addTimer(std::chrono::nanoseconds(0), [this, listener] { onUdpReadable(listener); });
}

bool Worker::readUdp(size_t listener) {
  int fd = sockets_[listener].udp.get();
  const bool wildcard = wildcard_[listener];
  const SocketAddress& listenAddress = sockets_[listener].address;
  for (int round = 0; round < kUdpBatchesPerEvent; ++round) {
    // Re-arm only the entries the kernel wrote last time: at low rates a round receives one
    // datagram, and resetting all `batch_` headers cost more than answering it.
    size_t armFrom = recvWritten_;
    if (recvArmedWildcard_ != static_cast<int>(wildcard)) {
      armFrom = batch_;
      recvArmedWildcard_ = static_cast<int>(wildcard);
    }
    for (size_t i = 0; i < armFrom; ++i) armReceive(i, wildcard);
    int n = ::recvmmsg(fd, recvMsgs_.data(), static_cast<unsigned>(batch_), MSG_DONTWAIT, nullptr);
    // After an error the first header may have been written too.
    recvWritten_ = n > 0 ? static_cast<size_t>(n) : 1;
    if (n <= 0) return true;  // EAGAIN (drained) or a transient error: wait for the next event

    const size_t received = static_cast<size_t>(n);
    // One clock read for the batch: it has all arrived by now.
    const Clock::TimePoint arrived = clock_->now();
    const bool prefetch = pipeline_.prefetches();
    if (prefetch) {
      std::fill_n(prefetchNotes_.begin(), received, 0);
      for (size_t i = 0; i < std::min(kPrefetchFar, received); ++i) prefetchUdp(i, Stage::Prefetch::Far);
      for (size_t i = 0; i < std::min(kPrefetchNear, received); ++i) prefetchUdp(i, Stage::Prefetch::Near);
    }
    size_t toSend = 0;
    for (size_t i = 0; i < received; ++i) {
      if (prefetch && i + kPrefetchFar < received) prefetchUdp(i + kPrefetchFar, Stage::Prefetch::Far);
      if (prefetch && i + kPrefetchNear < received) prefetchUdp(i + kPrefetchNear, Stage::Prefetch::Near);
      const msghdr& hdr = recvMsgs_[i].msg_hdr;
      if ((hdr.msg_flags & MSG_TRUNC) != 0) continue;  // larger than kMaxUdpRequest: dropped
      SocketAddress client =
          SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&recvAddrs_[i]), hdr.msg_namelen);
      if (!client.isSet()) continue;
      QueryContext& ctx = acquireContext();
      std::span<const uint8_t> request(recvBuffer_.data() + i * kMaxUdpRequest, recvMsgs_[i].msg_len);
      if (wildcard) {
        SocketAddress local = destinationFromPktinfo(hdr, listenAddress.family(), listenAddress.port());
        prepare(ctx, request, client, local.isSet() ? local : listenAddress, Transport::Udp, arrived);
      } else {
        prepare(ctx, request, client, listenAddress, Transport::Udp, arrived);
      }
      if (prefetch) ctx.prefetchNote = prefetchNotes_[i];
      ctx.route = listener;
      Verdict verdict = drive(ctx, 0);
      if (verdict == Verdict::Suspend) {
        // The context now belongs to the token.
      } else if (verdict == Verdict::Respond && udpResponseAcceptable(ctx)) {
        sendContexts_[toSend++] = &ctx;
      } else {
        releaseContext(ctx);
      }
      if (!deferred_.empty()) drainDeferred();
    }
    sendUdpBatch(listener, toSend);
    if (static_cast<size_t>(n) < batch_) return true;  // socket drained
  }
  return false;
}

void Worker::prefetchUdp(size_t i, Stage::Prefetch distance) {
  if ((recvMsgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) return;
  pipeline_.prefetch({recvBuffer_.data() + i * kMaxUdpRequest, recvMsgs_[i].msg_len}, Transport::Udp, distance,
                     prefetchNotes_[i]);
}

void Worker::armReceive(size_t i, bool wildcard) {
  recvIov_[i].iov_base = recvBuffer_.data() + i * kMaxUdpRequest;
  recvIov_[i].iov_len = kMaxUdpRequest;
  std::memset(&recvMsgs_[i], 0, sizeof(mmsghdr));
  recvMsgs_[i].msg_hdr.msg_iov = &recvIov_[i];
  recvMsgs_[i].msg_hdr.msg_iovlen = 1;
  recvMsgs_[i].msg_hdr.msg_name = &recvAddrs_[i];
  recvMsgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  if (wildcard) {
    recvMsgs_[i].msg_hdr.msg_control = recvControl_[i].data;
    recvMsgs_[i].msg_hdr.msg_controllen = sizeof recvControl_[i].data;
  }
}

void Worker::sendUdpBatch(size_t listener, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    QueryContext& ctx = *sendContexts_[i];
    sendIov_[i].iov_base = ctx.responseBuffer().data();
    sendIov_[i].iov_len = ctx.responseSize;
    std::memset(&sendMsgs_[i], 0, sizeof(mmsghdr));
    sendMsgs_[i].msg_hdr.msg_iov = &sendIov_[i];
    sendMsgs_[i].msg_hdr.msg_iovlen = 1;
    sendMsgs_[i].msg_hdr.msg_name = ctx.client.sockaddrPtr();
    sendMsgs_[i].msg_hdr.msg_namelen = ctx.client.length();
    if (wildcard_[listener]) {
      size_t controlLength = buildPktinfo(ctx.local, sendControl_[i]);
      if (controlLength > 0) {
        sendMsgs_[i].msg_hdr.msg_control = sendControl_[i].data;
        sendMsgs_[i].msg_hdr.msg_controllen = controlLength;
      }
    }
  }
  size_t sent = 0;
  int fd = sockets_[listener].udp.get();
  while (sent < count) {
    int n = ::sendmmsg(fd, sendMsgs_.data() + sent, static_cast<unsigned>(count - sent), MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // The first unsent message failed (EAGAIN: socket buffer full; or a bad destination).
    // UDP is best effort: skip it and carry on with the rest.
    logQuery("worker {}: UDP send to {} failed: {}", index_, sendContexts_[sent]->client.toString(),
             std::strerror(errno));
    ++sent;
  }
  for (size_t i = 0; i < count; ++i) releaseContext(*sendContexts_[i]);
}

// ---- TCP -----------------------------------------------------------------------------

bool Worker::alive(uint32_t slot, uint64_t generation) const {
  return slot < connections_.size() && connections_[slot]->open &&
         connections_[slot]->generation == generation;
}

void Worker::pauseListener(size_t listener) {
  int fd = sockets_[listener].tcp.get();
  (void)loop_.modify(fd, Interest{});
  // Out of descriptors: retry shortly instead of spinning on a readable listener.
  loop_.addTimer(std::chrono::milliseconds(100),
                 [this, fd] { (void)loop_.modify(fd, Interest::readable()); });
}

void Worker::onAccept(size_t listener) {
  int lfd = sockets_[listener].tcp.get();
  for (int i = 0; i < kAcceptsPerEvent; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE) {
        if (evictIdleConnection()) continue;
        if (shouldLog(acceptFailures_)) logWarning("worker {}: accept: {}", index_, std::strerror(errno));
        pauseListener(listener);
        return;
      }
      if (shouldLog(acceptFailures_)) logWarning("worker {}: accept: {}", index_, std::strerror(errno));
      return;
    }
    // RFC 7766 §6.2.2: at the cap, make room by closing the least recently active idle
    // connection; when every connection is busy, refuse this one by closing it at once.
    if (openConnections_ >= connectionCap_ && !evictIdleConnection()) {
      ::close(fd);
      logQuery("worker {}: TCP connection cap {} reached, closed a new connection", index_, connectionCap_);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    uint32_t slot;
    if (!freeConnections_.empty()) {
      slot = freeConnections_.back();
      freeConnections_.pop_back();
    } else {
      slot = static_cast<uint32_t>(connections_.size());
      connections_.push_back(std::make_unique<Connection>());
    }
    Connection& c = *connections_[slot];
    c.fd = fd;
    c.open = true;
    c.listener = listener;
    c.peer = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    c.local = sockets_[listener].address;
    if (wildcard_[listener]) {
      sockaddr_storage own{};
      socklen_t ownLength = sizeof own;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&own), &ownLength) == 0) {
        c.local = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&own), ownLength);
      }
    }
    if (c.in.size() < kInitialInBuffer) c.in.resize(kInitialInBuffer);
    c.inLen = 0;
    c.out.clear();
    c.outOff = 0;
    c.inFlight = 0;
    c.readPaused = c.readClosed = c.processing = c.watchingWrite = false;
    c.lastProgress = c.lastWrite = SteadyClock::now();
    uint64_t generation = c.generation;
    auto watched = loop_.watch(fd, Interest::readable(), [this, slot, generation](Readiness ready) {
      if (alive(slot, generation)) onConnectionEvent(slot, ready);
    });
    if (!watched) {
      c.open = false;
      ++c.generation;
      ::close(fd);
      freeConnections_.push_back(slot);
      continue;
    }
    ++openConnections_;
    logQuery("worker {}: TCP connection from {}", index_, c.peer.toString());
  }
}

void Worker::onConnectionEvent(uint32_t slot, Readiness ready) {
  uint64_t generation = connections_[slot]->generation;
  if (ready.writable) {
    flushConnection(slot);
    if (!alive(slot, generation)) return;
  }
  if (ready.readable) readConnection(slot);
}

void Worker::readConnection(uint32_t slot) {
  Connection& c = *connections_[slot];
  uint64_t generation = c.generation;
  for (int round = 0; round < 4 && !c.readPaused && !c.readClosed; ++round) {
    if (c.inLen == c.in.size()) {
      // Full: grow up to one maximal frame (2-byte length + 65535, RFC 1035 §4.2.2).
      if (c.in.size() >= kMaxFrameBuffer) break;
      c.in.resize(std::min(c.in.size() * 2, kMaxFrameBuffer));
    }
    ssize_t n = ::recv(c.fd, c.in.data() + c.inLen, c.in.size() - c.inLen, 0);
    if (n > 0) {
      c.inLen += static_cast<size_t>(n);
      processFrames(slot);
      if (!alive(slot, generation)) return;
      continue;
    }
    if (n == 0) {
      // The client finished sending (possibly a half-close after its last query):
      // answer what is in flight, then close.
      c.readClosed = true;
      if (c.idle()) {
        closeConnection(slot, "closed by peer");
        return;
      }
      updateInterest(slot);
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    closeConnection(slot, "read error");
    return;
  }
}

void Worker::processFrames(uint32_t slot) {
  Connection& c = *connections_[slot];
  if (c.processing) return;  // re-entered from a completion: the outer loop goes on
  uint64_t generation = c.generation;
  c.processing = true;
  size_t off = 0;
  for (;;) {
    size_t have = c.inLen - off;
    if (have < 2) break;
    size_t length = static_cast<size_t>(c.in[off]) << 8 | c.in[off + 1];
    if (have < 2 + length) {
      if (2 + length > c.in.size()) c.in.resize(2 + length);  // make room for the whole frame
      break;
    }
    if (c.inFlight >= options_.maxTcpInFlight || c.out.size() - c.outOff > kMaxPendingOutput) {
      c.readPaused = true;  // resumes when answers complete or output drains
      break;
    }
    c.readPaused = false;
    std::span<const uint8_t> frame(c.in.data() + off + 2, length);
    off += 2 + length;
    c.lastProgress = SteadyClock::now();
    handleTcpQuery(slot, frame);
    if (!alive(slot, generation)) return;
  }
  if (off > 0) {
    std::memmove(c.in.data(), c.in.data() + off, c.inLen - off);
    c.inLen -= off;
  }
  c.processing = false;
  if (c.readClosed && c.idle()) {
    closeConnection(slot, "closed by peer");
    return;
  }
  updateInterest(slot);
}

void Worker::handleTcpQuery(uint32_t slot, std::span<const uint8_t> frame) {
  Connection& c = *connections_[slot];
  QueryContext& ctx = acquireContext();
  prepare(ctx, frame, c.peer, c.local, Transport::Tcp, clock_->now());
  ctx.route = slot;
  ctx.routeGeneration = c.generation;
  Verdict verdict = drive(ctx, 0);
  if (verdict == Verdict::Suspend) {
    ++c.inFlight;
  } else if (verdict == Verdict::Respond) {
    queueTcpResponse(c, ctx.response());
    releaseContext(ctx);
    flushConnection(slot);
  } else {
    releaseContext(ctx);
  }
  // Other queries this one's stages finished; this connection's may be among them
  // (processFrames is not re-entered: its loop goes on afterwards).
  if (!deferred_.empty()) drainDeferred();
}

void Worker::queueTcpResponse(Connection& c, std::span<const uint8_t> response) {
  if (response.size() < dnswire::kHeaderSize || response.size() > dnswire::kMaxMessageSize) return;
  if (!c.hasOutput()) {
    c.out.clear();
    c.outOff = 0;
    c.lastWrite = SteadyClock::now();
  }
  // RFC 1035 §4.2.2 / RFC 7766 §8: the length and the message go out together.
  c.out.push_back(static_cast<uint8_t>(response.size() >> 8));
  c.out.push_back(static_cast<uint8_t>(response.size()));
  c.out.insert(c.out.end(), response.begin(), response.end());
}

void Worker::flushConnection(uint32_t slot) {
  Connection& c = *connections_[slot];
  while (c.hasOutput()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.outOff, c.out.size() - c.outOff, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.outOff += static_cast<size_t>(n);
      c.lastWrite = SteadyClock::now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    closeConnection(slot, "write error");
    return;
  }
  if (!c.hasOutput()) {
    c.out.clear();
    c.outOff = 0;
    c.lastProgress = SteadyClock::now();
  }
  if (c.readClosed && c.idle()) {
    closeConnection(slot, "closed by peer");
    return;
  }
  updateInterest(slot);
}

void Worker::updateInterest(uint32_t slot) {
  Connection& c = *connections_[slot];
  if (!c.open) return;
  if (c.readPaused && !c.processing && c.inFlight < options_.maxTcpInFlight &&
      c.out.size() - c.outOff <= kMaxPendingOutput) {
    // Reading paused on the in-flight or output limit and a completion freed room:
    // frames already buffered get their turn (processFrames updates the interest).
    c.readPaused = false;
    processFrames(slot);
    return;
  }
  Interest interest;
  interest.read = !c.readPaused && !c.readClosed;
  interest.write = c.hasOutput();
  (void)loop_.modify(c.fd, interest);
}

void Worker::closeConnection(uint32_t slot, const char* why) {
  Connection& c = *connections_[slot];
  if (!c.open) return;
  if (why != nullptr)
    logQuery("worker {}: TCP connection from {} closed: {}", index_, c.peer.toString(), why);
  loop_.unwatch(c.fd);
  ::close(c.fd);
  c.fd = -1;
  c.open = false;
  ++c.generation;  // suspended queries of this connection will find it gone
  c.inFlight = 0;
  c.inLen = 0;
  c.out.clear();
  c.outOff = 0;
  // Do not keep a maximal frame buffer per dead slot.
  if (c.in.capacity() > 4 * kInitialInBuffer) {
    std::vector<uint8_t>().swap(c.in);
  }
  if (c.out.capacity() > kMaxPendingOutput) std::vector<uint8_t>().swap(c.out);
  --openConnections_;
  freeConnections_.push_back(slot);
}

bool Worker::evictIdleConnection() {
  uint32_t victim = UINT32_MAX;
  SteadyClock::time_point oldest = SteadyClock::time_point::max();
  for (uint32_t slot = 0; slot < connections_.size(); ++slot) {
    const Connection& c = *connections_[slot];
    if (!c.open || !c.idle() || c.processing) continue;
    if (c.lastProgress < oldest) {
      oldest = c.lastProgress;
      victim = slot;
    }
  }
  if (victim == UINT32_MAX) return false;
  closeConnection(victim, "evicted at the connection cap");
  return true;
}

void Worker::sweepConnections() {
  auto now = SteadyClock::now();
  for (uint32_t slot = 0; slot < connections_.size(); ++slot) {
    Connection& c = *connections_[slot];
    if (!c.open) continue;
    // RFC 7766 §6.2.3: idle means nothing outstanding; a partial frame is not progress,
    // so a stalled or trickling client is closed as well.
    if (c.idle() && now - c.lastProgress >= options_.tcpIdleTimeout) {
      closeConnection(slot, "idle timeout");
    } else if (c.hasOutput() && now - c.lastWrite >= options_.tcpIdleTimeout) {
      closeConnection(slot, "client not reading");
    }
  }
}

void Worker::scheduleSweep() {
  auto interval = std::clamp<std::chrono::milliseconds>(
      options_.tcpIdleTimeout / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  loop_.addTimer(interval, [this] {
    sweepConnections();
    scheduleSweep();
  });
}

}  // namespace dnswire::server::detail
