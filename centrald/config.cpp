#include "centrald/config.hpp"

#include <fmt/format.h>

#include "dnswire/text.hpp"

namespace centrald {
namespace {

using dnswire::Error;
using dnswire::WireError;

constexpr size_t kMaxThreads = 1024;

}  // namespace

dnswire::Result<TsigKey> parseTsigKey(const std::string& text) {
  const auto first = text.find(':');
  const auto last = text.rfind(':');
  if (first == std::string::npos || first == last)
    return Error(WireError::BadText, "expected hmac-sha256:NAME:BASE64SECRET");
  TsigKey key;
  key.algorithm = text.substr(0, first);
  for (auto& c : key.algorithm) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (key.algorithm != "hmac-sha256")
    return Error(WireError::BadText,
                 fmt::format("unsupported algorithm '{}' (only hmac-sha256)", key.algorithm));
  const std::string name = text.substr(first + 1, last - first - 1);
  if (name.empty()) return Error(WireError::BadText, "empty key name");
  auto parsedName = dnswire::Name::fromText(name);
  if (!parsedName) return Error(WireError::BadText, fmt::format("bad key name '{}'", name));
  key.name = *parsedName;
  auto secret = dnswire::fromBase64(text.substr(last + 1));
  if (!secret || secret->empty()) return Error(WireError::BadText, "secret is not base64");
  key.secret = std::move(*secret);
  return key;
}

dnswire::Result<Config> validateConfig(const RawConfig& raw, size_t cores) {
  Config config;
  if (raw.db.empty()) return Error(WireError::BadText, "--db: empty path");
  config.db = raw.db;
  config.zonesDir = raw.zonesDir;

  const std::vector<std::string> defaults{kDefaultListen};
  for (const auto& text : raw.listen.empty() ? defaults : raw.listen) {
    auto address = dnswire::server::SocketAddress::parse(text);
    if (!address) return Error(WireError::BadText, fmt::format("--listen: {}", address.error().message()));
    for (const auto& seen : config.listen)
      if (seen == *address) return Error(WireError::BadText, fmt::format("--listen '{}' given twice", text));
    config.listen.push_back(*address);
  }

  config.threads = raw.threads == 0 ? (cores == 0 ? 1 : cores) : raw.threads;
  if (config.threads > kMaxThreads)
    return Error(WireError::BadText, fmt::format("--threads {}: at most {}", config.threads, kMaxThreads));

  if (!raw.pool.empty()) {
    auto pool = dnswire::server::Cidr::parse(raw.pool);
    if (!pool) return Error(WireError::BadText, fmt::format("--pool: {}", pool.error().message()));
    config.pool = *pool;
  }

  auto acl = dnswire::server::Acl::parse(raw.allowAdd, true);
  if (!acl) return Error(WireError::BadText, fmt::format("--allow-add: {}", acl.error().message()));
  config.allowAdd = std::move(*acl);

  if (!raw.tsigKey.empty()) {
    auto key = parseTsigKey(raw.tsigKey);
    if (!key) return Error(WireError::BadText, fmt::format("--tsig-key: {}", key.error().message()));
    config.tsigKey = std::move(*key);
  }
  if (raw.answerCacheSize > kMaxAnswerCacheSize)
    return Error(WireError::BadText,
                 fmt::format("--answer-cache-size {}: at most {}", raw.answerCacheSize, kMaxAnswerCacheSize));
  config.answerCacheSize = raw.answerCacheSize;
  config.logQueries = raw.logQueries;
  return config;
}

}  // namespace centrald
