#include "tools/common/dns_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dnstools {
namespace {

using Clock = std::chrono::steady_clock;

dnswire::Error errnoError(int error, const std::string& what) {
  return dnswire::Error(std::error_code(error, std::generic_category()), what + ": " + std::strerror(error));
}

dnswire::Error timedOut() {
  return dnswire::Error(std::make_error_code(std::errc::timed_out), "no answer (timed out)");
}

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on fd until `deadline`; false on timeout.
bool waitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

uint16_t idOf(std::span<const uint8_t> message) {
  return message.size() >= 2 ? static_cast<uint16_t>(message[0] << 8 | message[1]) : 0;
}

dnswire::Result<std::vector<uint8_t>> exchangeTcp(const dnswire::server::SocketAddress& server,
                                                  std::span<const uint8_t> request,
                                                  Clock::time_point deadline) {
  if (request.size() > 65535) return dnswire::Error(dnswire::WireError::NoSpace, "request over 65535 octets");
  Socket s(::socket(server.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.fd() < 0) return errnoError(errno, "socket");
  if (::connect(s.fd(), server.sockaddrPtr(), server.length()) < 0 && errno != EINPROGRESS)
    return errnoError(errno, "connect to " + server.toString());
  if (!waitFor(s.fd(), POLLOUT, deadline)) return timedOut();
  int soError = 0;
  socklen_t len = sizeof(soError);
  ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &soError, &len);
  if (soError != 0) return errnoError(soError, "connect to " + server.toString());

  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(request.size() >> 8));
  out.push_back(static_cast<uint8_t>(request.size()));
  out.insert(out.end(), request.begin(), request.end());
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(s.fd(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return errnoError(errno, "send");
    if (!waitFor(s.fd(), POLLOUT, deadline)) return timedOut();
  }
  std::vector<uint8_t> in;
  for (;;) {
    if (in.size() >= 2) {
      const size_t want = static_cast<size_t>(in[0] << 8 | in[1]);
      if (in.size() >= 2 + want) {
        std::vector<uint8_t> reply(in.begin() + 2, in.begin() + 2 + static_cast<ptrdiff_t>(want));
        // Skip anything that is not our reply (a server may not send strays, but be safe).
        if (reply.size() >= 2 && idOf(reply) == idOf(request)) return reply;
        in.erase(in.begin(), in.begin() + 2 + static_cast<ptrdiff_t>(want));
        continue;
      }
    }
    uint8_t buf[4096];
    ssize_t n = ::recv(s.fd(), buf, sizeof buf, 0);
    if (n > 0) {
      in.insert(in.end(), buf, buf + n);
      continue;
    }
    if (n == 0)
      return dnswire::Error(std::make_error_code(std::errc::connection_reset),
                            "the server closed the connection");
    if (errno != EAGAIN && errno != EINTR) return errnoError(errno, "receive");
    if (!waitFor(s.fd(), POLLIN, deadline)) return timedOut();
  }
}

dnswire::Result<std::vector<uint8_t>> exchangeUdp(const dnswire::server::SocketAddress& server,
                                                  std::span<const uint8_t> request,
                                                  Clock::time_point deadline) {
  Socket s(::socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.fd() < 0) return errnoError(errno, "socket");
  // connect() filters replies to the server's address and reports ICMP errors.
  if (::connect(s.fd(), server.sockaddrPtr(), server.length()) < 0) return errnoError(errno, "connect");
  const auto start = Clock::now();
  // Two tries: the second after half the time. A retransmitted ADD is answered from the
  // server's replay map, never applied twice (SPEC "ADD").
  const auto retryAt = start + (deadline - start) / 2;
  bool retried = false;
  if (::send(s.fd(), request.data(), request.size(), 0) < 0) return errnoError(errno, "send");
  for (;;) {
    const auto waitUntil = retried ? deadline : retryAt;
    if (!waitFor(s.fd(), POLLIN, waitUntil)) {
      if (retried || Clock::now() >= deadline) return timedOut();
      retried = true;
      if (::send(s.fd(), request.data(), request.size(), 0) < 0) return errnoError(errno, "send");
      continue;
    }
    uint8_t buf[65535];
    ssize_t n = ::recv(s.fd(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return errnoError(errno, "receive from " + server.toString());
    }
    std::vector<uint8_t> reply(buf, buf + n);
    if (reply.size() < 12 || idOf(reply) != idOf(request)) continue;            // not ours
    if ((reply[2] & 0x02) != 0) return exchangeTcp(server, request, deadline);  // TC: RFC 7766 §5
    return reply;
  }
}

}  // namespace

bool isTimeout(const dnswire::Error& error) {
  return error.code == std::make_error_code(std::errc::timed_out);
}

dnswire::Result<std::vector<uint8_t>> exchange(const dnswire::server::SocketAddress& server,
                                               std::span<const uint8_t> request, Transport transport,
                                               std::chrono::milliseconds timeout) {
  if (request.size() < 12)
    return dnswire::Error(dnswire::WireError::ShortHeader, "request shorter than a header");
  const auto deadline = Clock::now() + timeout;
  return transport == Transport::Tcp ? exchangeTcp(server, request, deadline)
                                     : exchangeUdp(server, request, deadline);
}

}  // namespace dnstools
