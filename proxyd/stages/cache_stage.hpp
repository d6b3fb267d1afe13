#pragma once
// Answers from the shared cache when it holds a fresh entry for the query's key
// (cache_entry.hpp: ID and case patched, TTLs aged, A/AAAA rotated, AA=0, RA=1).
// A stale entry or a miss goes on to the resolve stage.

#include <string_view>

#include "dnswire/server/pipeline.hpp"
#include "proxyd/cache.hpp"

namespace proxyd {

class CacheStage final : public dnswire::server::Stage {
 public:
  explicit CacheStage(Cache& cache) : cache_(cache) {}
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override;
  std::string_view name() const override { return "cache"; }

 private:
  Cache& cache_;
};

}  // namespace proxyd
