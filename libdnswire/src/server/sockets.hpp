#pragma once
// Socket set-up for the listeners (internal to dnswire_server).

#include "dnswire/error.hpp"
#include "dnswire/server/address.hpp"

namespace dnswire::server::detail {

// Closes the fd on destruction unless released.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A non-blocking UDP socket bound to `address` with SO_REUSEADDR (so that 127.0.0.1:5353
// can be bound beside an mDNS responder on *:5353), SO_REUSEPORT (one socket per worker),
// IPV6_V6ONLY for v6, and SO_RCVBUF/SO_SNDBUF of `bufferBytes` (best effort).
Result<UniqueFd> openUdpSocket(const SocketAddress& address, int bufferBytes);

// A non-blocking listening TCP socket with SO_REUSEADDR, SO_REUSEPORT when `reusePort`,
// IPV6_V6ONLY for v6.
Result<UniqueFd> openTcpListener(const SocketAddress& address, bool reusePort, int backlog);

// A TCP socket bound to `address` without SO_REUSEPORT and not listening: succeeds only
// when nobody else listens there. Fills `bound` with the address actually bound.
Result<UniqueFd> probeTcpBind(const SocketAddress& address, SocketAddress& bound);

// "cannot bind ADDR: reason".
Error bindError(const SocketAddress& address, int err);

}  // namespace dnswire::server::detail
