#pragma once
// The last stage: a cache miss goes to centrald or the upstreams through the worker's
// Resolver (resolver.hpp); the query is suspended until the answer (or the client's
// patience) runs out.

#include <memory>
#include <string_view>

#include "dnswire/server/pipeline.hpp"
#include "proxyd/resolver.hpp"

namespace proxyd {

class ResolveStage final : public dnswire::server::Stage {
 public:
  ResolveStage(const SharedState& shared, const dnswire::server::WorkerEnv& env)
      : resolver_(std::make_unique<Resolver>(shared, env)) {}
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override {
    return resolver_->resolve(ctx);
  }
  std::string_view name() const override { return "resolve"; }

 private:
  std::unique_ptr<Resolver> resolver_;
};

}  // namespace proxyd
