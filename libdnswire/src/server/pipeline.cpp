#include "dnswire/server/pipeline.hpp"

namespace dnswire::server {

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
