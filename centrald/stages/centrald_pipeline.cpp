#include "centrald/stages/centrald_pipeline.hpp"

#include <memory>
#include <stdexcept>

#include "centrald/stages/answer_cache_stage.hpp"
#include "centrald/stages/answer_stage.hpp"
#include "centrald/stages/policy_stage.hpp"
#include "dnswire/server/decode_stage.hpp"
#include "dnswire/server/header_gate_stage.hpp"

namespace centrald {

dnswire::server::Pipeline buildPipeline(const PipelineDeps& deps, const dnswire::server::WorkerEnv& env) {
  if (deps.snapshots == nullptr) throw std::logic_error("centrald pipeline without a snapshot holder");
  dnswire::server::Pipeline pipeline;
  // ADD passes the gate so that it reaches the ADD stage (or a NOTIMP from policy).
  pipeline.emplace<dnswire::server::HeaderGateStage>(
      std::initializer_list<dnswire::Opcode>{dnswire::Opcode::Query, dnswire::Opcode::Add});
  // The answer stage is made first: the cache stage in front of decoding uses its cache.
  auto answer = std::make_unique<AnswerStage>(*deps.snapshots, deps.answerCacheEntries);
  if (deps.answerCacheEntries != 0) pipeline.emplace<AnswerCacheStage>(*answer);
  pipeline.emplace<dnswire::server::DecodeStage>();
  if (deps.addStage) {
    auto add = deps.addStage(env);
    if (add) pipeline.add(std::move(add));
  }
  pipeline.emplace<PolicyStage>();
  pipeline.add(std::move(answer));
  return pipeline;
}

}  // namespace centrald
