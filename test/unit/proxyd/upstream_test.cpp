#include "proxyd/upstream.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>

#include "dnswire/message_reader.hpp"
#include "dnswire/server/event_loop.hpp"
#include "proxyd/resolver.hpp"

using namespace dnswire;
using proxyd::Upstream;
using proxyd::UpstreamError;

namespace {

// A UDP socket on 127.0.0.1 with a kernel-chosen port.
struct UdpSocket {
  int fd = -1;
  uint16_t port = 0;
  UdpSocket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t len = sizeof sa;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
  }
  ~UdpSocket() { ::close(fd); }
  server::SocketAddress address() const { return server::SocketAddress::loopbackV4(port); }
};

struct Result_ {
  std::error_code error;
  std::vector<uint8_t> reply;
};

std::optional<Result_> sendAndWait(server::EventLoop& loop, Upstream& upstream,
                                   std::span<const uint8_t> query) {
  // Shared with the callback: if we give up first, c-ares still calls it (at the latest
  // when the Upstream is destroyed), and it must not write into a dead stack frame.
  auto result = std::make_shared<std::optional<Result_>>();
  upstream.send(query, [result](std::error_code error, std::span<const uint8_t> reply) {
    *result = Result_{error, {reply.begin(), reply.end()}};
  });
  // A wall-clock bound, not an iteration count: runOnce() may return at once while
  // another socket is readable, and a loaded machine may be slow to fire timers.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!*result && std::chrono::steady_clock::now() < deadline) loop.runOnce(std::chrono::milliseconds(20));
  return *result;
}

}  // namespace

TEST_CASE("upstream: its own error category", "[unit]") {
  const std::error_code code = UpstreamError::Timeout;
  CHECK(code.category().name() == std::string("upstream"));
  CHECK(code.message() == "upstream timed out");
  CHECK(std::error_code(UpstreamError::ConnectionRefused) != std::error_code(UpstreamError::Timeout));
}

TEST_CASE("upstream: no servers, refused, silent", "[unit]") {
  server::EventLoop loop;
  const auto query =
      proxyd::encodeQuery(Name::fromText("www.example.test.").value(), RRType::A, RRClass::IN, false);

  Upstream none(loop, {});
  auto result = sendAndWait(loop, none, query);
  REQUIRE(result);
  CHECK(result->error == UpstreamError::NoServers);

  server::SocketAddress closed;
  {
    UdpSocket probe;
    closed = probe.address();
  }  // closed now: the kernel answers with port unreachable
  Upstream refused(loop, {{closed}, std::chrono::milliseconds(200), 1});
  result = sendAndWait(loop, refused, query);
  REQUIRE(result);
  CHECK((result->error == UpstreamError::ConnectionRefused || result->error == UpstreamError::Timeout));

  UdpSocket silent;
  Upstream quiet(loop, {{silent.address()}, std::chrono::milliseconds(100), 1});
  result = sendAndWait(loop, quiet, query);
  REQUIRE(result);
  CHECK(result->error == UpstreamError::Timeout);
}

TEST_CASE("upstream: replies with a wrong ID or question are ignored", "[unit]") {
  server::EventLoop loop;
  UdpSocket server;
  int seen = 0;
  REQUIRE(loop.watch(server.fd, server::Interest::readable(), [&](server::Readiness) {
    uint8_t buffer[1500];
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const ssize_t n =
        ::recvfrom(server.fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer), &len);
    if (n < 12) return;
    ++seen;
    auto send = [&](std::vector<uint8_t> reply) {
      ::sendto(server.fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
    };
    std::vector<uint8_t> reply(buffer, buffer + n);
    reply[2] |= 0x80;  // QR
    std::vector<uint8_t> wrongId = reply;
    wrongId[1] ^= 0x01;
    wrongId[3] = 0x03;  // NXDOMAIN: would be visible if accepted
    send(wrongId);
    std::vector<uint8_t> wrongQuestion = reply;
    wrongQuestion[13] ^= 0x01;  // a letter of the first label changes
    wrongQuestion[3] = 0x03;
    send(wrongQuestion);
    reply[3] = 0x00;
    send(reply);
  }));
  Upstream upstream(loop, {{server.address()}, std::chrono::milliseconds(500), 1});
  const auto query =
      proxyd::encodeQuery(Name::fromText("www.example.test.").value(), RRType::A, RRClass::IN, false);
  auto result = sendAndWait(loop, upstream, query);
  REQUIRE(result);
  REQUIRE_FALSE(result->error);
  auto message = parseMessage(result->reply);
  REQUIRE(message.ok());
  CHECK(message->header.rcode == 0);
  CHECK(message->questions.at(0).qname == Name::fromText("www.example.test.").value());
  CHECK(seen == 1);
  loop.unwatch(server.fd);
}
