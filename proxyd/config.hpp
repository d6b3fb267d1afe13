#pragma once
// proxyd's settings as the command line (or --config file) gives them, validated.
// main.cpp maps CLI11 options onto RawConfig; the checks live here so that tests reach them.

#include <cstddef>
#include <string>
#include <vector>

#include "dnswire/error.hpp"
#include "dnswire/server/address.hpp"

namespace proxyd {

inline constexpr const char* kDefaultListen = "127.0.0.1:5353";
inline constexpr const char* kDefaultCentral = "127.0.0.1:5300";
inline constexpr size_t kDefaultCacheSize = 100'000;
inline constexpr size_t kMaxThreads = 256;

struct RawConfig {
  std::vector<std::string> listen;
  std::string central = kDefaultCentral;
  std::vector<std::string> upstreams;
  std::string db;  // empty: no local records
  size_t cacheSize = kDefaultCacheSize;
  size_t threads = 0;  // 0: one per core
  std::vector<std::string> allow;
  std::vector<std::string> allowAdd;
  bool logQueries = false;
};

struct Config {
  std::vector<dnswire::server::SocketAddress> listen;
  dnswire::server::SocketAddress central;
  std::vector<dnswire::server::SocketAddress> upstreams;
  std::string db;
  size_t cacheSize = kDefaultCacheSize;
  size_t threads = 1;
  dnswire::server::Acl allow;
  dnswire::server::Acl allowAdd;
  bool logQueries = false;
};

// Validates every field; the error's detail is one line naming the option and the value,
// e.g. "--upstream '1.2.3.4': expected IPv4:PORT or [IPv6]:PORT". `cores` is what
// --threads defaults to.
dnswire::Result<Config> validateConfig(const RawConfig& raw, size_t cores);

}  // namespace proxyd
