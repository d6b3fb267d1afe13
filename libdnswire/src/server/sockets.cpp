#include "sockets.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

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

Result<UniqueFd> openUdpSocket(const SocketAddress& address, int bufferBytes) {
  auto fd = openBound(address, SOCK_DGRAM, true);
  if (!fd) return fd;
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
