#include "dnswire/server/pipeline.hpp"

#include <stdexcept>

namespace dnswire::server {

void Pipeline::add(std::unique_ptr<Stage> stage) {
  if (stage->prefetches()) {
    if (prefetcher_ != nullptr) throw std::logic_error("a pipeline takes one stage that prefetches");
    prefetcher_ = stage.get();
  }
  stages_.push_back(std::move(stage));
}

Verdict Pipeline::run(QueryContext& ctx, size_t from) const {
  for (size_t i = from; i < stages_.size(); ++i) {
    Verdict verdict = stages_[i]->run(ctx);
    if (verdict == Verdict::Continue) continue;
    ctx.nextStage = i + 1;
    return verdict;
  }
  ctx.nextStage = stages_.size();
  return Verdict::Continue;
}

}  // namespace dnswire::server
