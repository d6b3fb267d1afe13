#include "sockets.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dnswire::server::detail {

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Error bindError(const SocketAddress& address, int err) {
  return Error(std::error_code(err, std::system_category()),
               fmt::format("cannot bind {}: {}", address.toString(), std::strerror(err)));
}

namespace {

bool setFlag(int fd, int level, int option, int value = 1) {
  return setsockopt(fd, level, option, &value, sizeof value) == 0;
}

Result<UniqueFd> openBound(const SocketAddress& address, int type, bool reusePort) {
  UniqueFd fd(::socket(address.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return bindError(address, errno);
  setFlag(fd.get(), SOL_SOCKET, SO_REUSEADDR);
  if (reusePort && !setFlag(fd.get(), SOL_SOCKET, SO_REUSEPORT)) return bindError(address, errno);
  // A v6 listener takes only v6: v4 is listened on explicitly (and ACLs stay exact).
  if (address.isV6()) setFlag(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY);
  if (::bind(fd.get(), address.sockaddrPtr(), address.length()) < 0) return bindError(address, errno);
  return fd;
}

}  // namespace

bool isWildcard(const SocketAddress& address) {
  auto bytes = address.addressBytes();
  if (bytes.empty()) return false;
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

SocketAddress destinationFromPktinfo(const msghdr& message, int family, uint16_t port) {
  SocketAddress out;
  for (const cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&message), const_cast<cmsghdr*>(c))) {
    if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_addr = info.ipi_addr;  // the header's destination address
      sin.sin_port = htons(port);
      return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    }
    if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_addr = info.ipi6_addr;
      sin6.sin6_port = htons(port);
      sin6.sin6_scope_id = info.ipi6_ifindex;
      return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&sin6), sizeof sin6);
    }
  }
  return out;
}

size_t buildPktinfo(const SocketAddress& local, PktinfoBuffer& buffer) {
  std::memset(buffer.data, 0, sizeof buffer.data);
  msghdr fake{};
  fake.msg_control = buffer.data;
  fake.msg_controllen = sizeof buffer.data;
  cmsghdr* c = CMSG_FIRSTHDR(&fake);
  if (local.isV4()) {
    in_pktinfo info{};
    info.ipi_spec_dst = reinterpret_cast<const sockaddr_in*>(local.sockaddrPtr())->sin_addr;
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    return CMSG_SPACE(sizeof info);
  }
  if (local.isV6()) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(local.sockaddrPtr());
    in6_pktinfo info{};
    info.ipi6_addr = sin6->sin6_addr;
    info.ipi6_ifindex = sin6->sin6_scope_id;
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    return CMSG_SPACE(sizeof info);
  }
  return 0;
}

Result<UniqueFd> openUdpSocket(const SocketAddress& address, int bufferBytes) {
  auto fd = openBound(address, SOCK_DGRAM, true);
  if (!fd) return fd;
  if (isWildcard(address)) {
    // A reply must come from the address the query went to, or the client discards it
    // (RFC 5452 §3): learn that address per datagram.
    bool ok = address.isV4() ? setFlag(fd->get(), IPPROTO_IP, IP_PKTINFO)
                             : setFlag(fd->get(), IPPROTO_IPV6, IPV6_RECVPKTINFO);
    if (!ok) return bindError(address, errno);
  }
  // RFC 9715 R1: responses leave unfragmented, DF set on IPv4. PROBE, not DO: the
  // interface's MTU, never a path MTU from an ICMP message anyone could forge (our UDP
  // answers stay within 1232 bytes, RFC 9715 R2). And with DF set Linux need not pick a
  // per-destination IP ID for every datagram, a shared counter all loopback traffic
  // fights over (issue #6: 90 ns a response on the bench).
  bool unfragmented = address.isV4() ? setFlag(fd->get(), IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
                                     : setFlag(fd->get(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE) &&
                                           setFlag(fd->get(), IPPROTO_IPV6, IPV6_DONTFRAG);
  if (!unfragmented) return bindError(address, errno);
  if (bufferBytes > 0) {
    // Best effort: the kernel clamps to net.core.{r,w}mem_max.
    setFlag(fd->get(), SOL_SOCKET, SO_RCVBUF, bufferBytes);
    setFlag(fd->get(), SOL_SOCKET, SO_SNDBUF, bufferBytes);
  }
  return fd;
}

Result<UniqueFd> openTcpListener(const SocketAddress& address, bool reusePort, int backlog) {
  auto fd = openBound(address, SOCK_STREAM, reusePort);
  if (!fd) return fd;
  if (::listen(fd->get(), backlog) < 0) return bindError(address, errno);
  return fd;
}

Result<UniqueFd> probeTcpBind(const SocketAddress& address, SocketAddress& bound) {
  auto fd = openBound(address, SOCK_STREAM, false);
  if (!fd) return fd;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd->get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) return bindError(address, errno);
  bound = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  return fd;
}

}  // namespace dnswire::server::detail
