#pragma once
// Small blocking clients for the runtime's socket tests (127.0.0.1 only).

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "dnswire/server/address.hpp"

namespace servertest {

using Bytes = std::vector<uint8_t>;

// A 12-byte header-only query with `id` plus a question for "a." type A, class IN.
inline Bytes makeQuery(uint16_t id) {
  return Bytes{static_cast<uint8_t>(id >> 8),
               static_cast<uint8_t>(id),
               0x01,
               0x00,
               0,
               1,
               0,
               0,
               0,
               0,
               0,
               0,
               1,
               'a',
               0,
               0,
               1,
               0,
               1};
}

inline uint16_t idOf(const Bytes& message) {
  return message.size() < 2 ? 0 : static_cast<uint16_t>(message[0] << 8 | message[1]);
}

// Waits for `fd` to be readable; false on timeout.
inline bool waitReadable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

class UdpClient {
 public:
  explicit UdpClient(const dnswire::server::SocketAddress& server) : server_(server) {
    fd_ = ::socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  ~UdpClient() { ::close(fd_); }
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;

  bool send(const Bytes& message) {
    return ::sendto(fd_, message.data(), message.size(), 0, server_.sockaddrPtr(), server_.length()) ==
           static_cast<ssize_t>(message.size());
  }
  std::optional<Bytes> receive(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    if (!waitReadable(fd_, timeout)) return std::nullopt;
    Bytes buf(65536);
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
  int fd() const { return fd_; }

 private:
  dnswire::server::SocketAddress server_;
  int fd_ = -1;
};

class TcpClient {
 public:
  explicit TcpClient(const dnswire::server::SocketAddress& server) {
    fd_ = ::socket(server.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    connected_ = ::connect(fd_, server.sockaddrPtr(), server.length()) == 0;
  }
  ~TcpClient() { close(); }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return connected_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool sendRaw(const Bytes& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  static Bytes frame(const Bytes& message) {
    Bytes out{static_cast<uint8_t>(message.size() >> 8), static_cast<uint8_t>(message.size())};
    out.insert(out.end(), message.begin(), message.end());
    return out;
  }
  bool sendFrame(const Bytes& message) { return sendRaw(frame(message)); }

  // One framed message, or nullopt on timeout, EOF or error (see closedByPeer()).
  std::optional<Bytes> receiveFrame(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    uint8_t len[2];
    if (!readExact(len, 2, timeout)) return std::nullopt;
    Bytes msg(static_cast<size_t>(len[0] << 8 | len[1]));
    if (!msg.empty() && !readExact(msg.data(), msg.size(), timeout)) return std::nullopt;
    return msg;
  }
  // Waits up to `timeout` for the server to close the connection.
  bool waitForClose(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    uint8_t buf[512];
    while (std::chrono::steady_clock::now() < until) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (!waitReadable(fd_, left)) return false;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;  // EOF or reset
    }
    return false;
  }
  bool closedByPeer() const { return closed_; }
  int fd() const { return fd_; }

 private:
  bool readExact(uint8_t* out, size_t n, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    size_t got = 0;
    while (got < n) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !waitReadable(fd_, left)) return false;
      ssize_t r = ::recv(fd_, out + got, n - got, 0);
      if (r <= 0) {
        closed_ = true;
        return false;
      }
      got += static_cast<size_t>(r);
    }
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

}  // namespace servertest
