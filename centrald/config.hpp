#pragma once
// centrald's settings as the command line (or --config file) gives them, validated.
// main.cpp only maps CLI11 options onto RawConfig; the checks live here so tests reach them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "centrald/answer_cache.hpp"
#include "dnswire/error.hpp"
#include "dnswire/name.hpp"
#include "dnswire/server/address.hpp"

namespace centrald {

inline constexpr const char* kDefaultDb = "central.db";
inline constexpr const char* kDefaultListen = "127.0.0.1:5300";
// Questions whose finished responses each worker thread keeps (a log of 256 bytes and an
// index of 64 bytes per question: AnswerCache); 0 turns the cache off.
inline constexpr size_t kDefaultAnswerCacheSize = AnswerCache::kDefaultEntries;
inline constexpr size_t kMaxAnswerCacheSize = size_t{1} << 20;

// A TSIG key as given by --tsig-key hmac-sha256:NAME:BASE64SECRET (RFC 8945 §6).
struct TsigKey {
  std::string algorithm;  // "hmac-sha256"
  dnswire::Name name;
  std::vector<uint8_t> secret;
};

// The option texts before validation.
struct RawConfig {
  std::string db = kDefaultDb;
  std::string zonesDir;
  std::vector<std::string> listen;
  size_t threads = 0;  // 0: one per core
  std::string pool;
  std::vector<std::string> allowAdd;
  std::string tsigKey;
  size_t answerCacheSize = kDefaultAnswerCacheSize;
  bool logQueries = false;
};

struct Config {
  std::string db;
  std::string zonesDir;  // empty: no import at start
  std::vector<dnswire::server::SocketAddress> listen;
  size_t threads = 1;
  std::optional<dnswire::server::Cidr> pool;
  dnswire::server::Acl allowAdd;
  std::optional<TsigKey> tsigKey;
  size_t answerCacheSize = kDefaultAnswerCacheSize;
  bool logQueries = false;
};

// Parses "hmac-sha256:NAME:BASE64SECRET"; the only algorithm accepted is hmac-sha256.
dnswire::Result<TsigKey> parseTsigKey(const std::string& text);

// Validates every field; the error's detail is one line naming the option and value,
// e.g. "--listen '1.2.3:53': expected IPv4:PORT or [IPv6]:PORT". `cores` is what
// --threads defaults to.
dnswire::Result<Config> validateConfig(const RawConfig& raw, size_t cores);

}  // namespace centrald
