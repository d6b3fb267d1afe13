#pragma once
// The order of centrald's query stages, per worker:
//   header gate (QUERY and ADD pass) -> [answer cache] -> decode -> [ADD stage] -> policy
//   -> answer. The answer cache stage is there unless answerCacheEntries is 0.
// The ADD stage is optional: when `addStage` is set, the factory builds one per worker
// and puts it before the policy stage; it must answer opcode ADD itself and return
// Continue for every other opcode. Without it, ADD gets NOTIMP from the policy stage.

#include <functional>
#include <memory>

#include "centrald/answer_cache.hpp"
#include "centrald/snapshot_holder.hpp"
#include "dnswire/server/pipeline.hpp"

namespace centrald {

struct PipelineDeps {
  const SnapshotHolder* snapshots = nullptr;
  // Finished responses each worker keeps (--answer-cache-size); 0: none.
  size_t answerCacheEntries = AnswerCache::kDefaultEntries;
  // The hook for opcode 14 (ADD): builds the worker's ADD stage.
  std::function<std::unique_ptr<dnswire::server::Stage>(const dnswire::server::WorkerEnv&)> addStage;
};

dnswire::server::Pipeline buildPipeline(const PipelineDeps& deps, const dnswire::server::WorkerEnv& env);

}  // namespace centrald
