#pragma once
// A CIDR block that generated addresses come from (centrald --pool): its usable range and
// the arithmetic to walk it. IPv4 skips the network and broadcast addresses (except in
// /31 and /32, RFC 3021); IPv6 skips the subnet-router anycast address, host bits all
// zero (RFC 4291 §2.6.1), except in /127 and /128.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dnswire/error.hpp"

namespace centrald {

class AddressPool {
 public:
  // "198.51.100.0/24" or "2001:db8:1::/64"; host bits must be zero. BadPool otherwise.
  static dnswire::Result<AddressPool> parse(std::string_view cidr);

  bool isV6() const { return first_.size() == 16; }
  size_t width() const { return first_.size(); }  // 4 or 16 bytes
  // The lowest and highest usable addresses, network order.
  const std::vector<uint8_t>& first() const { return first_; }
  const std::vector<uint8_t>& last() const { return last_; }
  bool contains(const std::vector<uint8_t>& address) const;
  // The pool in canonical text, "198.51.100.0/24".
  const std::string& text() const { return text_; }

  // inet_ntop's form of 4 or 16 bytes.
  static std::string addressText(const std::vector<uint8_t>& address);
  // Adds one; false on wrap-around past all ones.
  static bool increment(std::vector<uint8_t>& address);

 private:
  std::vector<uint8_t> first_;
  std::vector<uint8_t> last_;
  std::string text_;
};

}  // namespace centrald
