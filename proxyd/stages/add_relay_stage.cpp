#include "proxyd/stages/add_relay_stage.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "dnswire/message_reader.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"
#include "proxyd/cache_entry.hpp"
#include "proxyd/resolver.hpp"

namespace proxyd {

using dnswire::server::Readiness;
using dnswire::server::Verdict;

AddRelayStage::AddRelayStage(const dnswire::server::WorkerEnv& env, dnswire::server::SocketAddress central,
                             Cache& cache, ZoneRouting& routing)
    : loop_(*env.loop), central_(central), cache_(cache), routing_(routing) {}

AddRelayStage::~AddRelayStage() {
  for (auto& [id, relay] : relays_) {
    if (relay.timer != dnswire::server::EventLoop::kNoTimer) loop_.cancelTimer(relay.timer);
    loop_.unwatch(relay.fd);
    ::close(relay.fd);
  }
}

Verdict AddRelayStage::run(dnswire::server::QueryContext& ctx) {
  if (ctx.query.header.opcode != dnswire::Opcode::Add) return Verdict::Continue;
  auto servFail = [&] {
    const Verdict verdict = dnswire::server::respondWithError(ctx, dnswire::Rcode::ServFail);
    setRecursionAvailable(ctx.responseBuffer());
    return verdict;
  };
  const bool tcp = ctx.transport == dnswire::server::Transport::Tcp;
  const int fd =
      ::socket(central_.family(), (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return servFail();
  if (::connect(fd, central_.sockaddrPtr(), central_.length()) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return servFail();
  }
  const uint64_t relayId = nextRelay_++;
  if (!loop_.watch(fd, dnswire::server::Interest::writable(),
                   [this, relayId](Readiness ready) { onReady(relayId, ready); })) {
    ::close(fd);
    return servFail();
  }
  auto token = ctx.suspend();
  if (!token.valid()) {
    loop_.unwatch(fd);
    ::close(fd);
    return servFail();
  }
  Relay relay;
  relay.token = token;
  relay.fd = fd;
  relay.tcp = tcp;
  relay.id = ctx.query.header.id;
  if (tcp) {
    relay.out.push_back(static_cast<uint8_t>(ctx.request.size() >> 8));
    relay.out.push_back(static_cast<uint8_t>(ctx.request.size()));
  }
  relay.out.insert(relay.out.end(), ctx.request.begin(), ctx.request.end());
  const auto left = ctx.deadline - std::chrono::steady_clock::now() - kClientPatience;
  relay.timer = loop_.addTimer(std::max<std::chrono::nanoseconds>(left, std::chrono::milliseconds(50)),
                               [this, relayId] {
                                 auto it = relays_.find(relayId);
                                 if (it == relays_.end()) return;
                                 it->second.timer = dnswire::server::EventLoop::kNoTimer;
                                 finish(relayId, nullptr);
                               });
  relays_.emplace(relayId, std::move(relay));
  return Verdict::Suspend;
}

void AddRelayStage::onReady(uint64_t relayId, Readiness ready) {
  auto it = relays_.find(relayId);
  if (it == relays_.end()) return;
  Relay& relay = it->second;
  if (relay.sent < relay.out.size()) {
    if (!ready.writable && !ready.error) return;
    const ssize_t n =
        ::send(relay.fd, relay.out.data() + relay.sent, relay.out.size() - relay.sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return finish(relayId, nullptr);
    }
    relay.sent += static_cast<size_t>(n);
    if (relay.sent == relay.out.size()) (void)loop_.modify(relay.fd, dnswire::server::Interest::readable());
    return;
  }
  if (!ready.readable) return;
  uint8_t buffer[65536];
  const ssize_t n = ::recv(relay.fd, buffer, sizeof buffer, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return finish(relayId, nullptr);
  }
  if (!relay.tcp) {
    // A connected UDP socket only hears from centrald; still check that it is a reply
    // to this request.
    if (n < 12 || (buffer[2] & 0x80) == 0 || (buffer[0] << 8 | buffer[1]) != relay.id) return;
    const std::vector<uint8_t> reply(buffer, buffer + n);
    return finish(relayId, &reply);
  }
  if (n == 0) return finish(relayId, nullptr);  // closed before a whole reply
  relay.in.insert(relay.in.end(), buffer, buffer + n);
  if (relay.in.size() < 2) return;
  const size_t length = static_cast<size_t>(relay.in[0] << 8 | relay.in[1]);
  if (relay.in.size() < 2 + length) return;
  const std::vector<uint8_t> reply(relay.in.begin() + 2,
                                   relay.in.begin() + 2 + static_cast<ptrdiff_t>(length));
  finish(relayId, &reply);
}

void AddRelayStage::finish(uint64_t relayId, const std::vector<uint8_t>* reply) {
  auto it = relays_.find(relayId);
  if (it == relays_.end()) return;
  Relay relay = std::move(it->second);
  relays_.erase(it);
  if (relay.timer != dnswire::server::EventLoop::kNoTimer) loop_.cancelTimer(relay.timer);
  loop_.unwatch(relay.fd);
  ::close(relay.fd);
  dnswire::server::QueryContext* ctx = relay.token.context();
  if (ctx == nullptr) return;
  if (reply != nullptr && reply->size() >= 12 && (reply->at(3) & 0x0f) == 0) forgetNames(*reply);
  if (reply != nullptr && reply->size() <= ctx->maxResponseSize) {
    ctx->setResponse(*reply);
    dnswire::server::logQuery("{} ADD {} relayed: rcode {}", ctx->client,
                              ctx->query.qname, reply->size() >= 4 ? reply->at(3) & 0x0f : 0);
    relay.token.resume(Verdict::Respond);
    return;
  }
  dnswire::server::logWarning("ADD from {}: no usable reply from centrald {}", ctx->client,
                              central_.toString());
  const Verdict verdict = dnswire::server::respondWithError(*ctx, dnswire::Rcode::ServFail);
  setRecursionAvailable(ctx->responseBuffer());
  relay.token.resume(verdict);
}

void AddRelayStage::forgetNames(const std::vector<uint8_t>& reply) {
  auto message = dnswire::parseMessage(reply);
  if (!message) return;
  routing_.forgetNegative();
  for (const auto& question : message->questions) {
    cache_.eraseName(question.qname.lowercased());
    routing_.learnCentralName(question.qname);
  }
  for (const auto& rr : message->answers) {
    cache_.eraseName(rr.owner.lowercased());
    routing_.learnCentralName(rr.owner);
  }
}

}  // namespace proxyd
