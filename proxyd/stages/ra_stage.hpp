#pragma once
// Wraps one of the runtime's stages (header gate, decode) so that the answers it makes
// carry RA=1 like every other proxyd answer (SPEC "proxyd": RA on every answer).

#include <memory>
#include <string_view>

#include "dnswire/server/pipeline.hpp"
#include "proxyd/cache_entry.hpp"

namespace proxyd {

class RecursionAvailableStage final : public dnswire::server::Stage {
 public:
  explicit RecursionAvailableStage(std::unique_ptr<dnswire::server::Stage> inner)
      : inner_(std::move(inner)) {}
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override {
    const auto verdict = inner_->run(ctx);
    if (verdict == dnswire::server::Verdict::Respond) setRecursionAvailable(ctx.responseBuffer());
    return verdict;
  }
  std::string_view name() const override { return inner_->name(); }

 private:
  std::unique_ptr<dnswire::server::Stage> inner_;
};

}  // namespace proxyd
