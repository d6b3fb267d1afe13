// The listeners' socket options (libdnswire/src/server/sockets.cpp).
#include "libdnswire/src/server/sockets.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

using dnswire::server::SocketAddress;
using dnswire::server::detail::openUdpSocket;

namespace {

int option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  REQUIRE(getsockopt(fd, level, name, &value, &length) == 0);
  return value;
}

}  // namespace

TEST_CASE("UDP listeners send unfragmented, DF set, without path MTU discovery (RFC 9715 R1)", "[unit]") {
  auto v4 = openUdpSocket(SocketAddress::loopbackV4(0), 0);
  REQUIRE(v4.ok());
  CHECK(option(v4->get(), IPPROTO_IP, IP_MTU_DISCOVER) == IP_PMTUDISC_PROBE);

  auto v6 = openUdpSocket(SocketAddress::loopbackV6(0), 0);
  if (!v6.ok()) {
    WARN("no IPv6 loopback here: " << v6.error().message());
    return;
  }
  CHECK(option(v6->get(), IPPROTO_IPV6, IPV6_MTU_DISCOVER) == IPV6_PMTUDISC_PROBE);
  CHECK(option(v6->get(), IPPROTO_IPV6, IPV6_DONTFRAG) == 1);
}
