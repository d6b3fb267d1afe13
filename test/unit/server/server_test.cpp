#include "dnswire/server/server.hpp"

#include <arpa/inet.h>
#include <sys/resource.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "client_sockets.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/server/event_loop.hpp"
#include "dnswire/server/header_gate_stage.hpp"

using namespace std::chrono_literals;
using dnswire::server::EventLoop;
using dnswire::server::Pipeline;
using dnswire::server::QueryContext;
using dnswire::server::Server;
using dnswire::server::ServerOptions;
using dnswire::server::SocketAddress;
using dnswire::server::Stage;
using dnswire::server::SuspendToken;
using dnswire::server::Transport;
using dnswire::server::Verdict;
using dnswire::server::WorkerEnv;
using servertest::Bytes;
using servertest::idOf;
using servertest::makeQuery;
using servertest::TcpClient;
using servertest::UdpClient;

namespace {

// Answers with the request itself, QR set: enough to see which query an answer is for.
class EchoStage final : public Stage {
 public:
  Verdict run(QueryContext& ctx) override {
    ctx.setResponse(ctx.request);
    ctx.responseBuffer()[2] |= 0x80;
    return Verdict::Respond;
  }
};

// Queries whose ID is odd wait `delay` on a loop timer before being answered, so that
// answers on one TCP connection come back out of order.
class DelayOddStage final : public Stage {
 public:
  DelayOddStage(EventLoop* loop, std::chrono::milliseconds delay) : loop_(loop), delay_(delay) {}
  Verdict run(QueryContext& ctx) override {
    if ((idOf(Bytes(ctx.request.begin(), ctx.request.end())) & 1) == 0) return Verdict::Continue;
    SuspendToken token = ctx.suspend();
    if (!token.valid()) return dnswire::server::respondWithError(ctx, dnswire::Rcode::ServFail);
    loop_->addTimer(delay_, [token] {
      QueryContext* c = token.context();
      if (c == nullptr) return;
      c->setResponse(c->request);
      c->responseBuffer()[2] |= 0x80;
      token.resume(Verdict::Respond);
    });
    return Verdict::Suspend;
  }

 private:
  EventLoop* loop_;
  std::chrono::milliseconds delay_;
};

// Answers with `size` bytes (ID copied), regardless of the limit.
class BigAnswerStage final : public Stage {
 public:
  Verdict run(QueryContext& ctx) override {
    size_t size = ctx.request.size() > 2 && ctx.request[2] == 0x7f ? 600 : 100;
    std::fill_n(ctx.responseBuffer().begin(), size, 0);
    ctx.responseBuffer()[0] = ctx.request[0];
    ctx.responseBuffer()[1] = ctx.request[1];
    ctx.responseBuffer()[2] = 0x80;
    ctx.responseSize = size;
    return Verdict::Respond;
  }
};

// Queries with an odd ID wait; a query whose ID is a multiple of 10 answers every
// waiting one from inside its own run() and then itself (the nested-resume case of a
// stage that completes the queries sharing its work).
class ReleaseOnTenStage final : public Stage {
 public:
  Verdict run(QueryContext& ctx) override {
    uint16_t id = idOf(Bytes(ctx.request.begin(), ctx.request.end()));
    if (id % 10 == 0) {
      releasing = true;
      for (const auto& token : waiting_) {
        // Continue: the next stage (EchoStage) answers; it must not run inside this run().
        token.resume(Verdict::Continue);
        token.resume(Verdict::Drop);  // a second resume does nothing
      }
      waiting_.clear();
      releasing = false;
      return Verdict::Continue;
    }
    if (id % 2 == 1) {
      SuspendToken token = ctx.suspend();
      if (!token.valid()) return dnswire::server::respondWithError(ctx, dnswire::Rcode::ServFail);
      waiting_.push_back(token);
      return Verdict::Suspend;
    }
    return Verdict::Continue;
  }

  static inline std::atomic<bool> releasing{false};

 private:
  std::vector<SuspendToken> waiting_;
};

// Records whether it ever ran while ReleaseOnTenStage::run() was on the stack.
class ReentryProbeStage final : public Stage {
 public:
  Verdict run(QueryContext&) override {
    if (ReleaseOnTenStage::releasing) reentered = true;
    return Verdict::Continue;
  }
  static inline std::atomic<bool> reentered{false};
};

// Records, per query ID, the prefetch calls and the run the worker made, in order; answers
// like EchoStage. Only the worker thread touches `events` until the server has stopped.
class PrefetchProbeStage final : public Stage {
 public:
  bool prefetches() const override { return true; }
  // Far notes the ID; Near and run() must see the note Far left for that datagram.
  void prefetch(std::span<const uint8_t> request, Transport transport, Prefetch distance,
                uint64_t& note) override {
    if (transport != Transport::Udp) wrongTransport = true;
    const uint16_t id = idOf(Bytes(request.begin(), request.end()));
    if (distance == Prefetch::Far) {
      events[id] += note == 0 ? 'F' : '?';
      note = 0x10000u + id;
    } else {
      events[id] += note == 0x10000u + id ? 'N' : '?';
    }
  }
  Verdict run(QueryContext& ctx) override {
    const uint16_t id = idOf(Bytes(ctx.request.begin(), ctx.request.end()));
    if (ctx.transport == Transport::Udp)
      events[id] += ctx.prefetchNote == 0x10000u + id ? 'R' : '?';
    else
      events[id] += ctx.prefetchNote == 0 ? 'T' : '?';
    ctx.setResponse(ctx.request);
    ctx.responseBuffer()[2] |= 0x80;
    return Verdict::Respond;
  }
  static inline std::map<uint16_t, std::string> events;
  static inline bool wrongTransport = false;
};

ServerOptions testOptions(size_t threads = 1) {
  ServerOptions options;
  options.listen = {SocketAddress::loopbackV4(0)};
  options.threads = threads;
  options.handleSignals = false;
  return options;
}

Pipeline echoPipeline(const WorkerEnv&) {
  Pipeline p;
  p.emplace<dnswire::server::HeaderGateStage>();
  p.emplace<EchoStage>();
  return p;
}

// Starts a server and runs it on a background thread until destroyed.
class Running {
 public:
  Running(ServerOptions options, dnswire::server::PipelineFactory factory)
      : server_(std::move(options), std::move(factory)) {
    auto started = server_.start();
    INFO((started.ok() ? std::string() : started.error().message()));
    REQUIRE(started.ok());
    thread_ = std::thread([this] { server_.run(); });
  }
  ~Running() {
    server_.stop();
    thread_.join();
  }
  SocketAddress address() const { return server_.boundAddresses().at(0); }
  Server& server() { return server_; }

 private:
  Server server_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("Server answers a burst of UDP queries from several threads' sockets", "[unit]") {
  ServerOptions options = testOptions(2);
  options.udpBatch = 64;
  Running running(options, echoPipeline);
  REQUIRE(running.address().port() != 0);
  UdpClient client(running.address());
  // Bursts of 100 (more than one recvmmsg batch of 64) that still fit the default
  // socket buffers on both sides, so that no datagram is lost on loopback.
  constexpr size_t kBurst = 100;
  constexpr size_t kBursts = 3;
  std::set<uint16_t> ids;
  for (size_t burst = 0; burst < kBursts; ++burst) {
    for (size_t i = 0; i < kBurst; ++i)
      REQUIRE(client.send(makeQuery(static_cast<uint16_t>(burst * kBurst + i + 1))));
    while (ids.size() < (burst + 1) * kBurst) {
      auto reply = client.receive();
      if (!reply) break;
      REQUIRE(reply->size() == makeQuery(0).size());
      CHECK(((*reply)[2] & 0x80) != 0);
      ids.insert(idOf(*reply));
    }
  }
  CHECK(ids.size() == kBurst * kBursts);
}

TEST_CASE("A stage that prefetches sees each UDP query far, then near, then runs it with its note", "[unit]") {
  PrefetchProbeStage::events.clear();
  {
    ServerOptions options = testOptions();
    options.udpBatch = 40;  // longer than the Far distance (16), shorter than the burst
    Running running(options, [](const WorkerEnv&) {
      Pipeline p;
      p.emplace<dnswire::server::HeaderGateStage>();
      p.emplace<PrefetchProbeStage>();
      return p;
    });
    UdpClient client(running.address());
    // More than one recvmmsg batch, sent before reading, so that batches are full; then one
    // over TCP, which is not prefetched.
    constexpr uint16_t kQueries = 100;
    for (uint16_t id = 1; id <= kQueries; ++id) REQUIRE(client.send(makeQuery(id)));
    size_t answers = 0;
    while (answers < kQueries && client.receive()) ++answers;
    CHECK(answers == kQueries);
    TcpClient tcp(running.address());
    REQUIRE(tcp.sendFrame(makeQuery(500)));
    REQUIRE(tcp.receiveFrame());
  }
  const auto& events = PrefetchProbeStage::events;
  REQUIRE(events.size() == 101);
  for (uint16_t id = 1; id <= 100; ++id) {
    INFO("query " << id);
    CHECK(events.at(id) == "FNR");
  }
  CHECK(events.at(500) == "T");
  CHECK_FALSE(PrefetchProbeStage::wrongTransport);
}

TEST_CASE("A UDP socket busier than its share of batches is read until drained, then waited on", "[unit]") {
  ServerOptions options = testOptions();
  options.udpBatch = 2;  // a share is 4 batches of 2: a burst of 200 keeps the worker busy
  Running running(options, echoPipeline);
  UdpClient client(running.address());
  constexpr uint16_t kBurst = 200;
  for (int burst = 0; burst < 2; ++burst) {
    for (uint16_t i = 1; i <= kBurst; ++i) REQUIRE(client.send(makeQuery(static_cast<uint16_t>(burst * 1000 + i))));
    std::set<uint16_t> ids;
    while (ids.size() < kBurst) {
      auto reply = client.receive();
      if (!reply) break;
      ids.insert(idOf(*reply));
    }
    CHECK(ids.size() == kBurst);
  }
  // Drained and idle: the worker sleeps in epoll again instead of polling the socket on
  // a zero timer (which would take the whole 300 ms of CPU), and still hears a query.
  rusage before{};
  rusage after{};
  getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(300ms);
  getrusage(RUSAGE_SELF, &after);
  auto cpuMs = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000.0 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0;
  };
  CHECK(cpuMs(after) - cpuMs(before) < 100);
  REQUIRE(client.send(makeQuery(4242)));
  auto reply = client.receive();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 4242);
}

TEST_CASE("A pipeline takes one stage that prefetches", "[unit]") {
  Pipeline p;
  CHECK_FALSE(p.prefetches());
  p.emplace<EchoStage>();
  CHECK_FALSE(p.prefetches());
  p.emplace<PrefetchProbeStage>();
  CHECK(p.prefetches());
  CHECK_THROWS_AS(p.emplace<PrefetchProbeStage>(), std::logic_error);
}

TEST_CASE("Server drops short UDP packets and responses (QR=1) without answering", "[unit]") {
  Running running(testOptions(), echoPipeline);
  UdpClient client(running.address());
  REQUIRE(client.send(Bytes{1, 2, 3}));
  Bytes response = makeQuery(5);
  response[2] |= 0x80;
  REQUIRE(client.send(response));
  REQUIRE(client.send(makeQuery(6)));
  auto reply = client.receive();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 6);
  CHECK_FALSE(client.receive(100ms));
}

TEST_CASE("Server never sends a UDP response over maxResponseSize", "[unit]") {
  Running running(testOptions(), [](const WorkerEnv&) {
    Pipeline p;
    p.emplace<BigAnswerStage>();
    return p;
  });
  UdpClient client(running.address());
  Bytes big = makeQuery(1);
  big[2] = 0x7f;  // BigAnswerStage: 600 bytes, over the 512 limit
  REQUIRE(client.send(big));
  REQUIRE(client.send(makeQuery(2)));
  auto reply = client.receive();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 2);
  CHECK(reply->size() == 100);
  CHECK_FALSE(client.receive(100ms));

  // The same oversized answer is fine over TCP.
  TcpClient tcp(running.address());
  REQUIRE(tcp.connected());
  REQUIRE(tcp.sendFrame(big));
  auto framed = tcp.receiveFrame();
  REQUIRE(framed);
  CHECK(framed->size() == 600);
}

TEST_CASE("Server answers pipelined TCP queries on one connection, out of order", "[unit]") {
  Running running(testOptions(), [](const WorkerEnv& env) {
    Pipeline p;
    p.emplace<DelayOddStage>(env.loop, 150ms);
    p.emplace<EchoStage>();
    return p;
  });
  TcpClient client(running.address());
  REQUIRE(client.connected());
  // Both frames in one write: the server must split them (RFC 7766 §6.2.1).
  Bytes both = TcpClient::frame(makeQuery(1));
  Bytes second = TcpClient::frame(makeQuery(2));
  both.insert(both.end(), second.begin(), second.end());
  REQUIRE(client.sendRaw(both));
  auto first = client.receiveFrame();
  auto next = client.receiveFrame();
  REQUIRE(first);
  REQUIRE(next);
  CHECK(idOf(*first) == 2);  // the quick one overtakes the delayed one (§6.2.1.1)
  CHECK(idOf(*next) == 1);

  // A frame split across writes, including inside the length prefix.
  Bytes third = TcpClient::frame(makeQuery(4));
  REQUIRE(client.sendRaw(Bytes(third.begin(), third.begin() + 1)));
  std::this_thread::sleep_for(20ms);
  REQUIRE(client.sendRaw(Bytes(third.begin() + 1, third.begin() + 7)));
  std::this_thread::sleep_for(20ms);
  REQUIRE(client.sendRaw(Bytes(third.begin() + 7, third.end())));
  auto reply = client.receiveFrame();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 4);
}

TEST_CASE("Server answers a suspended UDP query when a timer resumes it", "[unit]") {
  Running running(testOptions(), [](const WorkerEnv& env) {
    Pipeline p;
    p.emplace<DelayOddStage>(env.loop, 100ms);
    p.emplace<EchoStage>();
    return p;
  });
  UdpClient client(running.address());
  auto start = std::chrono::steady_clock::now();
  REQUIRE(client.send(makeQuery(7)));
  REQUIRE(client.send(makeQuery(8)));
  auto a = client.receive();
  auto b = client.receive();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(idOf(*a) == 8);
  CHECK(idOf(*b) == 7);
  CHECK(std::chrono::steady_clock::now() - start >= 100ms);
}

TEST_CASE("A suspended TCP query whose connection closed is dropped safely", "[unit]") {
  Running running(testOptions(), [](const WorkerEnv& env) {
    Pipeline p;
    p.emplace<DelayOddStage>(env.loop, 100ms);
    p.emplace<EchoStage>();
    return p;
  });
  {
    TcpClient client(running.address());
    REQUIRE(client.sendFrame(makeQuery(1)));
    std::this_thread::sleep_for(20ms);
  }  // closed before the answer is ready
  std::this_thread::sleep_for(150ms);
  TcpClient again(running.address());
  REQUIRE(again.sendFrame(makeQuery(3)));
  auto reply = again.receiveFrame();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 3);
}

TEST_CASE("When the suspended pool is full the runtime answers SERVFAIL", "[unit]") {
  auto options = testOptions();
  options.maxSuspendedPerWorker = 1;
  Running running(options, [](const WorkerEnv& env) {
    Pipeline p;
    p.emplace<DelayOddStage>(env.loop, 200ms);
    p.emplace<EchoStage>();
    return p;
  });
  UdpClient client(running.address());
  REQUIRE(client.send(makeQuery(1)));
  REQUIRE(client.send(makeQuery(3)));
  auto first = client.receive();
  REQUIRE(first);
  CHECK(idOf(*first) == 3);
  CHECK(((*first)[3] & 0x0f) == 2);  // SERVFAIL
  auto second = client.receive();
  REQUIRE(second);
  CHECK(idOf(*second) == 1);
  CHECK(((*second)[3] & 0x0f) == 0);
}

TEST_CASE("An idle TCP connection is closed after the idle timeout", "[unit]") {
  auto options = testOptions();
  options.tcpIdleTimeout = 200ms;
  Running running(options, echoPipeline);
  TcpClient client(running.address());
  REQUIRE(client.connected());
  // Activity resets the clock: a query at 120 ms keeps it open past 200 ms.
  std::this_thread::sleep_for(120ms);
  REQUIRE(client.sendFrame(makeQuery(1)));
  REQUIRE(client.receiveFrame());
  auto start = std::chrono::steady_clock::now();
  CHECK(client.waitForClose(2000ms));
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 150ms);
  CHECK(waited < 1000ms);
}

TEST_CASE("A client stalled in a length prefix is closed while others are served", "[unit]") {
  auto options = testOptions();
  options.tcpIdleTimeout = 300ms;
  Running running(options, echoPipeline);
  TcpClient stalled(running.address());
  REQUIRE(stalled.sendRaw(Bytes{0x00}));  // half a length prefix, then nothing
  TcpClient trickler(running.address());
  Bytes frame = TcpClient::frame(makeQuery(9));
  // Another client serves queries meanwhile.
  TcpClient good(running.address());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {
    // One byte every 100 ms never completes a frame in time: not progress.
    REQUIRE(trickler.sendRaw(Bytes{frame[static_cast<size_t>(i)]}));
    REQUIRE(good.sendFrame(makeQuery(static_cast<uint16_t>(100 + i))));
    auto reply = good.receiveFrame();
    REQUIRE(reply);
    CHECK(idOf(*reply) == 100 + i);
    std::this_thread::sleep_for(100ms);
  }
  CHECK(stalled.waitForClose(1000ms));
  CHECK(trickler.waitForClose(1000ms));
  CHECK(std::chrono::steady_clock::now() - start < 1500ms);
  REQUIRE(good.sendFrame(makeQuery(200)));  // still served afterwards
  auto reply = good.receiveFrame();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 200);
}

TEST_CASE("At the connection cap the least recently active idle connection is closed", "[unit]") {
  auto options = testOptions();
  options.maxTcpConnectionsPerWorker = 2;
  Running running(options, echoPipeline);
  TcpClient oldest(running.address());
  std::this_thread::sleep_for(20ms);
  TcpClient newer(running.address());
  REQUIRE(newer.sendFrame(makeQuery(1)));
  REQUIRE(newer.receiveFrame());
  std::this_thread::sleep_for(20ms);
  TcpClient third(running.address());
  REQUIRE(third.connected());
  CHECK(oldest.waitForClose(1000ms));
  REQUIRE(third.sendFrame(makeQuery(3)));
  auto reply = third.receiveFrame();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 3);
  REQUIRE(newer.sendFrame(makeQuery(2)));
  reply = newer.receiveFrame();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 2);
}

TEST_CASE("At the cap with every connection busy a new one is closed at once", "[unit]") {
  auto options = testOptions();
  options.maxTcpConnectionsPerWorker = 1;
  Running running(options, [](const WorkerEnv& env) {
    Pipeline p;
    p.emplace<DelayOddStage>(env.loop, 400ms);
    p.emplace<EchoStage>();
    return p;
  });
  TcpClient busy(running.address());
  REQUIRE(busy.sendFrame(makeQuery(1)));  // in flight for 400 ms
  std::this_thread::sleep_for(50ms);
  TcpClient refused(running.address());
  CHECK(refused.waitForClose(300ms));
  auto reply = busy.receiveFrame();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 1);
}

TEST_CASE("Server::run() returns promptly after stop()", "[unit]") {
  Server server(testOptions(2), echoPipeline);
  REQUIRE(server.start().ok());
  std::atomic<bool> returned{false};
  int result = -2;
  std::thread t([&] {
    result = server.run();
    returned = true;
  });
  UdpClient client(server.boundAddresses().at(0));
  REQUIRE(client.send(makeQuery(1)));
  REQUIRE(client.receive());
  auto start = std::chrono::steady_clock::now();
  server.stop();
  t.join();
  CHECK(returned);
  CHECK(result == 0);
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
}

TEST_CASE("Server::start() reports an address in use and a failing factory", "[unit]") {
  Running first(testOptions(), echoPipeline);
  auto options = testOptions();
  options.listen = {first.address()};
  Server second(options, echoPipeline);
  auto started = second.start();
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().message() ==
        "cannot bind " + first.address().toString() + ": Address already in use");

  Server noAddress(ServerOptions{}, echoPipeline);
  auto none = noAddress.start();
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message() == "no listen address");

  Server throwing(testOptions(2),
                  [](const WorkerEnv&) -> Pipeline { throw std::runtime_error("no database"); });
  auto failed = throwing.start();
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message() == "cannot build pipeline: no database");
}

TEST_CASE("Server listens on IPv6 loopback", "[unit]") {
  auto options = testOptions();
  options.listen = {SocketAddress::loopbackV6(0)};
  Server server(options, echoPipeline);
  auto started = server.start();
  if (!started.ok()) {
    WARN("no IPv6 loopback here: " << started.error().message());
    return;
  }
  std::thread t([&] { server.run(); });
  UdpClient client(server.boundAddresses().at(0));
  REQUIRE(client.send(makeQuery(11)));
  auto reply = client.receive();
  server.stop();
  t.join();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 11);
}

TEST_CASE("A stage may resume other suspended queries from inside its run()", "[unit]") {
  auto factory = [](const WorkerEnv&) {
    Pipeline p;
    p.emplace<ReleaseOnTenStage>();
    p.emplace<ReentryProbeStage>();
    p.emplace<EchoStage>();
    return p;
  };
  ReentryProbeStage::reentered = false;
  Running running(testOptions(), factory);
  UdpClient client(running.address());
  REQUIRE(client.send(makeQuery(1)));
  REQUIRE(client.send(makeQuery(3)));
  CHECK_FALSE(client.receive(100ms));
  REQUIRE(client.send(makeQuery(10)));
  std::set<uint16_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto reply = client.receive();
    REQUIRE(reply);
    ids.insert(idOf(*reply));
  }
  CHECK(ids == std::set<uint16_t>{1, 3, 10});
  CHECK_FALSE(client.receive(100ms));

  // The same over one TCP connection, the waiting queries and the releasing one pipelined.
  TcpClient tcp(running.address());
  Bytes all;
  for (uint16_t id : {5, 7, 20}) {
    Bytes f = TcpClient::frame(makeQuery(id));
    all.insert(all.end(), f.begin(), f.end());
  }
  REQUIRE(tcp.sendRaw(all));
  std::set<uint16_t> tcpIds;
  for (int i = 0; i < 3; ++i) {
    auto reply = tcp.receiveFrame();
    REQUIRE(reply);
    tcpIds.insert(idOf(*reply));
  }
  CHECK(tcpIds == std::set<uint16_t>{5, 7, 20});
  CHECK_FALSE(ReentryProbeStage::reentered);
}

TEST_CASE("TCP takes frames up to 65535 bytes", "[unit]") {
  Running running(testOptions(), echoPipeline);
  TcpClient client(running.address());
  for (size_t size : {size_t{1000}, size_t{20000}, size_t{65535}}) {
    Bytes big = makeQuery(static_cast<uint16_t>(size & 0xffff));
    big.resize(size, 0x5a);
    REQUIRE(client.sendFrame(big));
    auto reply = client.receiveFrame();
    REQUIRE(reply);
    CHECK(reply->size() == size);
    CHECK(Bytes(reply->begin() + 3, reply->end()) == Bytes(big.begin() + 3, big.end()));
  }
}

TEST_CASE("TCP pauses reading at the in-flight limit and resumes as answers complete", "[unit]") {
  auto options = testOptions();
  options.maxTcpInFlight = 2;
  Running running(options, [](const WorkerEnv& env) {
    Pipeline p;
    p.emplace<DelayOddStage>(env.loop, 50ms);
    p.emplace<EchoStage>();
    return p;
  });
  TcpClient client(running.address());
  Bytes all;
  std::set<uint16_t> sent;
  for (uint16_t id = 1; id <= 19; id += 2) {  // ten delayed queries, five rounds of two
    Bytes f = TcpClient::frame(makeQuery(id));
    all.insert(all.end(), f.begin(), f.end());
    sent.insert(id);
  }
  REQUIRE(client.sendRaw(all));
  auto start = std::chrono::steady_clock::now();
  std::set<uint16_t> got;
  for (size_t i = 0; i < sent.size(); ++i) {
    auto reply = client.receiveFrame();
    REQUIRE(reply);
    got.insert(idOf(*reply));
  }
  CHECK(got == sent);
  // Two at a time, 50 ms each: at least five rounds.
  CHECK(std::chrono::steady_clock::now() - start >= 240ms);
}

TEST_CASE("TCP answers what was asked before the client half-closed, then closes", "[unit]") {
  Running running(testOptions(), [](const WorkerEnv& env) {
    Pipeline p;
    p.emplace<DelayOddStage>(env.loop, 50ms);
    p.emplace<EchoStage>();
    return p;
  });
  TcpClient client(running.address());
  Bytes both = TcpClient::frame(makeQuery(1));
  Bytes second = TcpClient::frame(makeQuery(2));
  both.insert(both.end(), second.begin(), second.end());
  REQUIRE(client.sendRaw(both));
  REQUIRE(::shutdown(client.fd(), SHUT_WR) == 0);
  std::set<uint16_t> ids;
  for (int i = 0; i < 2; ++i) {
    auto reply = client.receiveFrame();
    REQUIRE(reply);
    ids.insert(idOf(*reply));
  }
  CHECK(ids == std::set<uint16_t>{1, 2});
  CHECK(client.waitForClose(1000ms));
}

TEST_CASE("Server binds 127.0.0.1:PORT beside a wildcard UDP socket on PORT (mDNS)", "[unit]") {
  // What an mDNS responder does on *:5353: a UDP socket on the wildcard address with
  // SO_REUSEADDR. Unicast queries to 127.0.0.1 must still reach the server.
  // The kernel picks a free UDP port; the server also needs TCP on the same number, which
  // another test running in parallel may hold, so a few ports are tried.
  int mdns = -1;
  uint16_t port = 0;
  std::unique_ptr<Server> server;
  std::string lastError;
  for (int attempt = 0; attempt < 20 && !server; ++attempt) {
    mdns = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(mdns >= 0);
    int one = 1;
    REQUIRE(::setsockopt(mdns, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    any.sin_port = 0;
    REQUIRE(::bind(mdns, reinterpret_cast<sockaddr*>(&any), sizeof any) == 0);
    socklen_t len = sizeof any;
    REQUIRE(::getsockname(mdns, reinterpret_cast<sockaddr*>(&any), &len) == 0);
    port = ntohs(any.sin_port);

    auto options = testOptions(2);
    options.listen = {SocketAddress::loopbackV4(port)};
    auto candidate = std::make_unique<Server>(options, echoPipeline);
    auto started = candidate->start();
    if (started.ok()) {
      server = std::move(candidate);
    } else {
      lastError = started.error().message();
      ::close(mdns);
    }
  }
  INFO(lastError);
  REQUIRE(server);
  std::thread t([&] { server->run(); });
  UdpClient client(SocketAddress::loopbackV4(port));
  std::set<uint16_t> ids;
  for (uint16_t id = 1; id <= 10; ++id) {
    REQUIRE(client.send(makeQuery(id)));
    auto reply = client.receive();
    if (reply) ids.insert(idOf(*reply));
  }
  server->stop();
  t.join();
  CHECK(ids.size() == 10);
  CHECK_FALSE(servertest::waitReadable(mdns, std::chrono::milliseconds(0)));  // nothing went to "mDNS"
  ::close(mdns);
}

TEST_CASE("On a wildcard listener UDP replies leave from the address the query was sent to", "[unit]") {
  // Writes ctx.local after the echoed request so the test can see what the stage saw.
  class LocalEchoStage final : public Stage {
   public:
    Verdict run(QueryContext& ctx) override {
      ctx.setResponse(ctx.request);
      ctx.responseBuffer()[2] |= 0x80;
      std::string local = ctx.local.toString();
      std::copy(local.begin(), local.end(), ctx.responseBuffer().begin() + ctx.responseSize);
      ctx.responseSize += local.size();
      return Verdict::Respond;
    }
  };
  auto options = testOptions();
  options.listen = {SocketAddress::parse("0.0.0.0:0").value()};
  Running running(options, [](const WorkerEnv&) {
    Pipeline p;
    p.emplace<LocalEchoStage>();
    return p;
  });
  uint16_t port = running.address().port();
  auto target = SocketAddress::parse("127.0.0.2:" + std::to_string(port)).value();
  // A connected socket accepts datagrams only from 127.0.0.2:port (as resolvers require,
  // RFC 5452 §3): a reply sent from 127.0.0.1 would never arrive.
  UdpClient client(target);
  REQUIRE(::connect(client.fd(), target.sockaddrPtr(), target.length()) == 0);
  Bytes query = makeQuery(77);
  REQUIRE(::send(client.fd(), query.data(), query.size(), 0) == static_cast<ssize_t>(query.size()));
  auto reply = client.receive();
  REQUIRE(reply);
  CHECK(idOf(*reply) == 77);
  CHECK(std::string(reply->begin() + static_cast<long>(query.size()), reply->end()) == target.toString());

  TcpClient tcp(target);
  REQUIRE(tcp.sendFrame(makeQuery(78)));
  auto framed = tcp.receiveFrame();
  REQUIRE(framed);
  CHECK(std::string(framed->begin() + static_cast<long>(query.size()), framed->end()) == target.toString());
}
