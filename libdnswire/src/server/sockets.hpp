#pragma once
// Socket set-up for the listeners (internal to dnswire_server).

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

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
// IPV6_V6ONLY for v6, path MTU discovery off with DF set (IP_PMTUDISC_PROBE;
// IPV6_PMTUDISC_PROBE and IPV6_DONTFRAG), and SO_RCVBUF/SO_SNDBUF of `bufferBytes`
// (best effort).
Result<UniqueFd> openUdpSocket(const SocketAddress& address, int bufferBytes);

// A non-blocking listening TCP socket with SO_REUSEADDR, SO_REUSEPORT when `reusePort`,
// IPV6_V6ONLY for v6.
Result<UniqueFd> openTcpListener(const SocketAddress& address, bool reusePort, int backlog);

// A TCP socket bound to `address` without SO_REUSEPORT and not listening: succeeds only
// when nobody else listens there. Fills `bound` with the address actually bound.
Result<UniqueFd> probeTcpBind(const SocketAddress& address, SocketAddress& bound);

// True for 0.0.0.0 and ::, where replies need IP_PKTINFO to leave from the address the
// query was sent to.
bool isWildcard(const SocketAddress& address);

// Control-message room for one IPv4 or IPv6 packet-info record.
struct alignas(cmsghdr) PktinfoBuffer {
  uint8_t data[CMSG_SPACE(sizeof(in6_pktinfo))];
};

// The destination address of a datagram received with packet info, with `port`; unset
// when the message carries none. For IPv6 the interface index goes into the scope id.
SocketAddress destinationFromPktinfo(const msghdr& message, int family, uint16_t port);

// Fills `buffer` with a packet-info record that makes a reply leave from `local`;
// returns the control length to put in msg_controllen (0 when `local` is unset).
size_t buildPktinfo(const SocketAddress& local, PktinfoBuffer& buffer);

// "cannot bind ADDR: reason".
Error bindError(const SocketAddress& address, int err);

}  // namespace dnswire::server::detail
