#include "centrald/stages/answer_cache_stage.hpp"

#include "dnswire/server/log.hpp"

namespace centrald {

using dnswire::server::Verdict;

Verdict AnswerCacheStage::run(dnswire::server::QueryContext& ctx) {
  // A logged query goes the whole way: its log line names the decoded question.
  if (dnswire::server::logVerbose()) return Verdict::Continue;
  return answer_->answerFromRequest(ctx) ? Verdict::Respond : Verdict::Continue;
}

}  // namespace centrald
