#include "dnswire/server/address.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace dnswire::server {
namespace {

Error badAddress(std::string_view text, std::string_view why) {
  return Error(std::make_error_code(std::errc::invalid_argument),
               fmt::format("bad address '{}': {}", text, why));
}

bool parsePort(std::string_view digits, uint16_t& port) {
  if (digits.empty() || digits.size() > 5) return false;
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

// inet_pton wants a NUL-terminated string; the longest textual v6 address is 45 chars.
bool toV4(std::string_view text, in_addr& out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return inet_pton(AF_INET, buf, &out) == 1;
}

bool toV6(std::string_view text, in6_addr& out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return inet_pton(AF_INET6, buf, &out) == 1;
}

// A v4-mapped v6 address (::ffff:a.b.c.d) yields its 4 IPv4 bytes.
bool mappedV4(std::span<const uint8_t> v6, const uint8_t*& v4) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (v6.size() != 16 || std::memcmp(v6.data(), kPrefix, 12) != 0) return false;
  v4 = v6.data() + 12;
  return true;
}

bool prefixMatches(const uint8_t* network, const uint8_t* address, int prefix) {
  int fullBytes = prefix / 8;
  if (std::memcmp(network, address, static_cast<size_t>(fullBytes)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (network[fullBytes] & mask) == (address[fullBytes] & mask);
}

Result<SocketAddress> build(std::string_view original, std::string_view host, bool bracketed, uint16_t port) {
  SocketAddress out;
  if (!bracketed) {
    in_addr a{};
    if (!toV4(host, a)) {
      in6_addr probe{};
      if (toV6(host, probe)) return badAddress(original, "IPv6 addresses need brackets: [ADDR]:PORT");
      return badAddress(original, "not a numeric IPv4 address (expected IPv4:PORT or [IPv6]:PORT)");
    }
    auto* sin = reinterpret_cast<sockaddr_in*>(out.sockaddrPtr());
    sin->sin_family = AF_INET;
    sin->sin_addr = a;
    sin->sin_port = htons(port);
  } else {
    in6_addr a{};
    if (!toV6(host, a)) return badAddress(original, "not a numeric IPv6 address inside the brackets");
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(out.sockaddrPtr());
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = a;
    sin6->sin6_port = htons(port);
  }
  return out;
}

Result<SocketAddress> parseImpl(std::string_view text, bool portRequired, uint16_t defaultPort) {
  if (text.empty()) return badAddress(text, "empty");
  std::string_view host;
  std::string_view portText;
  bool bracketed = false;
  bool hasPort = false;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return badAddress(text, "missing ']'");
    host = text.substr(1, close - 1);
    bracketed = true;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return badAddress(text, "expected ':PORT' after ']'");
      portText = rest.substr(1);
      hasPort = true;
    }
  } else {
    size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      // Several colons and no brackets: a bare IPv6 address.
      if (portRequired) return badAddress(text, "IPv6 addresses need brackets: [ADDR]:PORT");
      host = text;
      bracketed = true;
    } else if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      portText = text.substr(colon + 1);
      hasPort = true;
    } else {
      host = text;
    }
  }
  uint16_t port = defaultPort;
  if (hasPort) {
    if (!parsePort(portText, port)) return badAddress(text, "port must be a number from 0 to 65535");
  } else if (portRequired) {
    return badAddress(text, "missing port (expected IPv4:PORT or [IPv6]:PORT)");
  }
  return build(text, host, bracketed, port);
}

}  // namespace

Result<SocketAddress> SocketAddress::parse(std::string_view text) { return parseImpl(text, true, 0); }

Result<SocketAddress> SocketAddress::parse(std::string_view text, uint16_t defaultPort) {
  return parseImpl(text, false, defaultPort);
}

SocketAddress SocketAddress::fromSockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress out;
  if (sa == nullptr) return out;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&out.storage_, sa, sizeof(sockaddr_in));
  } else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&out.storage_, sa, sizeof(sockaddr_in6));
  }
  return out;
}

SocketAddress SocketAddress::loopbackV4(uint16_t port) {
  SocketAddress out;
  auto* sin = reinterpret_cast<sockaddr_in*>(out.sockaddrPtr());
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin->sin_port = htons(port);
  return out;
}

SocketAddress SocketAddress::loopbackV6(uint16_t port) {
  SocketAddress out;
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out.sockaddrPtr());
  sin6->sin6_family = AF_INET6;
  sin6->sin6_addr = in6addr_loopback;
  sin6->sin6_port = htons(port);
  return out;
}

uint16_t SocketAddress::port() const {
  if (isV4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (isV6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

void SocketAddress::setPort(uint16_t port) {
  if (isV4()) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  if (isV6()) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

std::span<const uint8_t> SocketAddress::addressBytes() const {
  if (isV4()) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage_);
    return {reinterpret_cast<const uint8_t*>(&sin->sin_addr), 4};
  }
  if (isV6()) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    return {reinterpret_cast<const uint8_t*>(&sin6->sin6_addr), 16};
  }
  return {};
}

socklen_t SocketAddress::length() const {
  if (isV4()) return sizeof(sockaddr_in);
  if (isV6()) return sizeof(sockaddr_in6);
  return 0;
}

std::string SocketAddress::addressString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (isV4()) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
  } else if (isV6()) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
  } else {
    return "unset";
  }
  return buf;
}

std::string SocketAddress::toString() const {
  if (isV4()) return fmt::format("{}:{}", addressString(), port());
  if (isV6()) return fmt::format("[{}]:{}", addressString(), port());
  return "unset";
}

bool SocketAddress::operator==(const SocketAddress& other) const {
  if (family() != other.family()) return false;
  if (isV4()) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&storage_);
    const auto* b = reinterpret_cast<const sockaddr_in*>(&other.storage_);
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (isV6()) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage_);
    const auto* b = reinterpret_cast<const sockaddr_in6*>(&other.storage_);
    return a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id &&
           std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(in6_addr)) == 0;
  }
  return true;
}

Result<Cidr> Cidr::parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Error(std::make_error_code(std::errc::invalid_argument),
                 fmt::format("bad CIDR '{}': {}", text, why));
  };
  if (text.empty()) return bad("empty");
  std::string_view host = text;
  int prefix = -1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    host = text.substr(0, slash);
    std::string_view digits = text.substr(slash + 1);
    int value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || value < 0) {
      return bad("prefix length must be a number");
    }
    prefix = value;
  }
  Cidr out;
  in_addr v4{};
  in6_addr v6{};
  if (toV4(host, v4)) {
    out.v4_ = true;
    std::memcpy(out.bytes_, &v4, 4);
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return bad("IPv4 prefix length over 32");
  } else if (toV6(host, v6)) {
    out.v4_ = false;
    std::memcpy(out.bytes_, &v6, 16);
    if (prefix < 0) prefix = 128;
    if (prefix > 128) return bad("IPv6 prefix length over 128");
  } else {
    return bad("not a numeric IPv4 or IPv6 address");
  }
  out.prefix_ = prefix;
  // Host bits set beyond the prefix usually mean a typo ("10.0.0.1/8" for "10.0.0.0/8").
  size_t total = out.v4_ ? 4 : 16;
  for (size_t bit = static_cast<size_t>(prefix); bit < total * 8; ++bit) {
    if (out.bytes_[bit / 8] & (0x80 >> (bit % 8)))
      return bad("address has bits set beyond the prefix length");
  }
  return out;
}

bool Cidr::contains(const SocketAddress& address) const {
  auto bytes = address.addressBytes();
  if (v4_) {
    if (bytes.size() == 4) return prefixMatches(bytes_, bytes.data(), prefix_);
    const uint8_t* v4 = nullptr;
    if (mappedV4(bytes, v4)) return prefixMatches(bytes_, v4, prefix_);
    return false;
  }
  if (bytes.size() != 16) return false;
  return prefixMatches(bytes_, bytes.data(), prefix_);
}

std::string Cidr::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_, buf, sizeof buf);
  return fmt::format("{}/{}", buf, prefix_);
}

Acl Acl::loopbackOnly() {
  std::vector<Cidr> entries;
  entries.push_back(Cidr::parse("127.0.0.0/8").value());
  entries.push_back(Cidr::parse("::1/128").value());
  return Acl(std::move(entries));
}

Result<Acl> Acl::parse(const std::vector<std::string>& texts, bool emptyMeansLoopback) {
  if (texts.empty()) return emptyMeansLoopback ? loopbackOnly() : Acl();
  std::vector<Cidr> entries;
  entries.reserve(texts.size());
  for (const auto& text : texts) {
    auto cidr = Cidr::parse(text);
    if (!cidr) return cidr.error();
    entries.push_back(*cidr);
  }
  return Acl(std::move(entries));
}

bool Acl::allows(const SocketAddress& address) const {
  for (const auto& entry : entries_) {
    if (entry.contains(address)) return true;
  }
  return false;
}

}  // namespace dnswire::server
