#include "proxyd/config.hpp"

#include <fmt/format.h>

namespace proxyd {

using dnswire::Error;
using dnswire::WireError;
using dnswire::server::SocketAddress;

namespace {

dnswire::Result<SocketAddress> parseAddress(const char* option, const std::string& text) {
  auto address = SocketAddress::parse(text);
  if (!address)
    return Error(WireError::BadText, fmt::format("{} '{}': {}", option, text, address.error().message()));
  if (address->port() == 0 && std::string_view(option) != "--listen")
    return Error(WireError::BadText, fmt::format("{} '{}': port 0 is not a server port", option, text));
  return address;
}

}  // namespace

dnswire::Result<Config> validateConfig(const RawConfig& raw, size_t cores) {
  Config config;
  const std::vector<std::string> defaults{kDefaultListen};
  for (const auto& text : raw.listen.empty() ? defaults : raw.listen) {
    auto address = parseAddress("--listen", text);
    if (!address) return address.error();
    for (const auto& seen : config.listen)
      if (seen == *address) return Error(WireError::BadText, fmt::format("--listen '{}' given twice", text));
    config.listen.push_back(*address);
  }
  auto central = parseAddress("--central", raw.central);
  if (!central) return central.error();
  config.central = *central;
  for (const auto& text : raw.upstreams) {
    auto address = parseAddress("--upstream", text);
    if (!address) return address.error();
    config.upstreams.push_back(*address);
  }
  config.db = raw.db;
  if (raw.cacheSize == 0) return Error(WireError::BadText, "--cache-size 0: at least 1 entry");
  config.cacheSize = raw.cacheSize;
  config.threads = raw.threads == 0 ? (cores == 0 ? 1 : cores) : raw.threads;
  if (config.threads > kMaxThreads)
    return Error(WireError::BadText, fmt::format("--threads {}: at most {}", config.threads, kMaxThreads));
  auto allow = dnswire::server::Acl::parse(raw.allow);
  if (!allow) return Error(WireError::BadText, fmt::format("--allow: {}", allow.error().message()));
  config.allow = *allow;
  auto allowAdd = dnswire::server::Acl::parse(raw.allowAdd);
  if (!allowAdd) return Error(WireError::BadText, fmt::format("--allow-add: {}", allowAdd.error().message()));
  config.allowAdd = *allowAdd;
  config.logQueries = raw.logQueries;
  return config;
}

}  // namespace proxyd
