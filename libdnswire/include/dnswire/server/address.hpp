#pragma once
// Socket addresses as the daemons' command lines spell them ("127.0.0.1:5300",
// "[::1]:5300"), CIDR prefixes ("127.0.0.0/8", "::1/128", "10.0.0.1") and access lists
// built from them. No name resolution anywhere: only numeric addresses are accepted.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnswire/error.hpp"

namespace dnswire::server {

// An IPv4 or IPv6 address plus port, stored as the sockaddr the socket calls take (28
// bytes, not a 128-byte sockaddr_storage: every query copies two of them). A default-constructed value is "unset" (family
// AF_UNSPEC). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) stay IPv6 here; Cidr matching
// treats them as the IPv4 address they carry.
class SocketAddress {
 public:
  SocketAddress() = default;

  // "a.b.c.d:port" or "[v6]:port"; port 0..65535 (0 = any, for tests). A bare address
  // without a port, a hostname, a v6 address without brackets or trailing junk are
  // errors; the Error's detail says what is wrong, e.g. "bad address '1.2.3:53':
  // expected IPv4:PORT or [IPv6]:PORT".
  static Result<SocketAddress> parse(std::string_view text);
  // Like parse(), but a text without ":port" gets `defaultPort` ("127.0.0.1" -> :53).
  static Result<SocketAddress> parse(std::string_view text, uint16_t defaultPort);
  // From a sockaddr filled by the kernel (recvmsg, accept, getsockname); `len` is checked
  // against the family. An unknown family or short length gives an unset address.
  static SocketAddress fromSockaddr(const sockaddr* sa, socklen_t len);
  static SocketAddress loopbackV4(uint16_t port);
  static SocketAddress loopbackV6(uint16_t port);

  int family() const { return storage_.any.sa_family; }  // AF_INET, AF_INET6 or AF_UNSPEC
  bool isSet() const { return family() != AF_UNSPEC; }
  bool isV4() const { return family() == AF_INET; }
  bool isV6() const { return family() == AF_INET6; }
  uint16_t port() const;
  void setPort(uint16_t port);
  // The address bytes in network order: 4 for v4, 16 for v6, empty when unset.
  std::span<const uint8_t> addressBytes() const;

  const sockaddr* sockaddrPtr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* sockaddrPtr() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t length() const;  // sizeof(sockaddr_in) / sizeof(sockaddr_in6) / 0

  // "127.0.0.1:5300", "[::1]:5300"; "unset" for an unset value. parse(toString()) == *this.
  std::string toString() const;
  // Only the address: "127.0.0.1", "::1".
  std::string addressString() const;

  // Same family, address and port (v6 scope id included).
  bool operator==(const SocketAddress& other) const;
  bool operator!=(const SocketAddress& other) const { return !(*this == other); }

 private:
  // The largest member first: value-initialising a union zeroes its first member (clang
  // leaves the bytes beyond it alone), and every byte must be zero for operator==.
  union Storage {
    sockaddr_in6 v6;
    sockaddr_in v4;
    sockaddr any;
  };
  Storage storage_{};
};

// A network prefix. "10.0.0.1" alone means /32 (/128 for v6). Host bits beyond the prefix
// must be zero ("10.0.0.1/8" is rejected: it almost always hides a typo).
class Cidr {
 public:
  Cidr() = default;
  static Result<Cidr> parse(std::string_view text);

  // True when `address` (its port ignored) lies inside the prefix. An IPv4 prefix also
  // matches the IPv4-mapped form ::ffff:a.b.c.d (what a dual-stack socket reports).
  bool contains(const SocketAddress& address) const;
  // "127.0.0.0/8", "::1/128".
  std::string toString() const;

  bool isV4() const { return v4_; }
  int prefixLength() const { return prefix_; }
  // The network address bytes: 4 (v4) or 16 (v6).
  std::span<const uint8_t> networkBytes() const { return {bytes_, v4_ ? 4u : 16u}; }

 private:
  uint8_t bytes_[16]{};
  int prefix_ = 0;
  bool v4_ = true;
};

// An allow list of prefixes, checked in order (first match wins; there is no deny).
// Read-only once built, so workers share it without locks.
class Acl {
 public:
  // An empty list allows nobody.
  Acl() = default;
  explicit Acl(std::vector<Cidr> entries) : entries_(std::move(entries)) {}
  // 127.0.0.0/8 and ::1/128: the command-line default for --allow and --allow-add.
  static Acl loopbackOnly();
  // Parses each text with Cidr::parse; the first bad one fails the whole list with
  // its text in the detail. An empty `texts` gives loopbackOnly() when
  // `emptyMeansLoopback`, else an empty list.
  static Result<Acl> parse(const std::vector<std::string>& texts, bool emptyMeansLoopback = true);

  bool allows(const SocketAddress& address) const;
  const std::vector<Cidr>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Cidr> entries_;
};

}  // namespace dnswire::server
