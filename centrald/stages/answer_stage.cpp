#include "centrald/stages/answer_stage.hpp"

#include "centrald/answer.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"

namespace centrald {

using dnswire::server::Verdict;

Verdict AnswerStage::run(dnswire::server::QueryContext& ctx) {
  if (!ctx.parsed) return dnswire::server::respondWithError(ctx, dnswire::Rcode::FormErr);
  const AnswerResult result =
      answerQuery(reader_.get(), ctx.query, ctx.transport, ctx.responseBuffer(), ctx.maxResponseSize);
  if (result.size == 0) return dnswire::server::respondWithError(ctx, dnswire::Rcode::ServFail);
  ctx.responseSize = result.size;
  dnswire::server::logQuery("query from {} over {}: {} {} -> rcode {}{}", ctx.client,
                            dnswire::server::toString(ctx.transport), ctx.query.qname,
                            ctx.query.qtype, static_cast<unsigned>(result.rcode),
                            result.truncated ? " (truncated)" : "");
  return Verdict::Respond;
}

}  // namespace centrald
