#include "centrald/store/address_pool.hpp"

#include <arpa/inet.h>

#include "centrald/store/store_error.hpp"

namespace centrald {

using dnswire::Error;
using dnswire::Result;

Result<AddressPool> AddressPool::parse(std::string_view cidr) {
  auto bad = [&](const char* why) {
    return Error(StoreError::BadPool, "bad pool '" + std::string(cidr) + "': " + why);
  };
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) return bad("expected ADDRESS/PREFIX");
  std::string address(cidr.substr(0, slash));
  std::string_view prefixText = cidr.substr(slash + 1);
  if (prefixText.empty() || prefixText.size() > 3) return bad("bad prefix length");
  unsigned prefix = 0;
  for (char c : prefixText) {
    if (c < '0' || c > '9') return bad("bad prefix length");
    prefix = prefix * 10 + static_cast<unsigned>(c - '0');
  }
  std::vector<uint8_t> network;
  if (address.find(':') != std::string::npos) {
    network.resize(16);
    if (inet_pton(AF_INET6, address.c_str(), network.data()) != 1) return bad("bad IPv6 address");
  } else {
    network.resize(4);
    if (inet_pton(AF_INET, address.c_str(), network.data()) != 1) return bad("bad IPv4 address");
  }
  unsigned bits = static_cast<unsigned>(network.size() * 8);
  if (prefix > bits) return bad("prefix longer than the address");

  std::vector<uint8_t> last = network;
  for (unsigned bit = prefix; bit < bits; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
    if (network[bit / 8] & mask) return bad("host bits set");
    last[bit / 8] |= mask;
  }

  AddressPool pool;
  pool.first_ = network;
  pool.last_ = last;
  pool.text_ = addressText(network) + "/" + std::to_string(prefix);
  if (bits - prefix >= 2) {
    // The all-zero host is the network (IPv4) or the subnet-router anycast (IPv6).
    increment(pool.first_);
    // IPv4's all-ones host is the broadcast address.
    if (!pool.isV6()) {
      for (size_t i = pool.last_.size(); i-- > 0;) {
        if (pool.last_[i]-- != 0) break;
      }
    }
  }
  return pool;
}

bool AddressPool::contains(const std::vector<uint8_t>& address) const {
  return address.size() == first_.size() && address >= first_ && address <= last_;
}

std::string AddressPool::addressText(const std::vector<uint8_t>& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  int family = address.size() == 16 ? AF_INET6 : AF_INET;
  if (inet_ntop(family, address.data(), buffer, sizeof buffer) == nullptr) return {};
  return buffer;
}

bool AddressPool::increment(std::vector<uint8_t>& address) {
  for (size_t i = address.size(); i-- > 0;) {
    if (++address[i] != 0) return true;
  }
  return false;
}

}  // namespace centrald
