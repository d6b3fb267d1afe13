#include "proxyd/stages/proxyd_pipeline.hpp"

#include <stdexcept>

#include "dnswire/server/decode_stage.hpp"
#include "dnswire/server/header_gate_stage.hpp"
#include "proxyd/stages/add_relay_stage.hpp"
#include "proxyd/stages/cache_stage.hpp"
#include "proxyd/stages/local_stage.hpp"
#include "proxyd/stages/policy_stage.hpp"
#include "proxyd/stages/ra_stage.hpp"
#include "proxyd/stages/resolve_stage.hpp"

namespace proxyd {

dnswire::server::Pipeline buildPipeline(const PipelineDeps& deps, const dnswire::server::WorkerEnv& env) {
  if (deps.shared.cache == nullptr || deps.shared.routing == nullptr || deps.shared.flights == nullptr ||
      deps.allow == nullptr || deps.allowAdd == nullptr || env.loop == nullptr || env.clock == nullptr)
    throw std::logic_error("proxyd pipeline with missing dependencies");
  dnswire::server::Pipeline pipeline;
  pipeline.emplace<RecursionAvailableStage>(std::make_unique<dnswire::server::HeaderGateStage>(
      std::initializer_list<dnswire::Opcode>{dnswire::Opcode::Query, dnswire::Opcode::Add}));
  pipeline.emplace<RecursionAvailableStage>(std::make_unique<dnswire::server::DecodeStage>());
  pipeline.emplace<PolicyStage>(*deps.allow, *deps.allowAdd);
  pipeline.emplace<AddRelayStage>(env, deps.central, *deps.shared.cache, *deps.shared.routing);
  if (deps.local != nullptr) pipeline.emplace<LocalStage>(*deps.local);
  pipeline.emplace<CacheStage>(*deps.shared.cache);
  pipeline.emplace<ResolveStage>(deps.shared, env);
  return pipeline;
}

}  // namespace proxyd
