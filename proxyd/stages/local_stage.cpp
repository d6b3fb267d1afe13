#include "proxyd/stages/local_stage.hpp"

#include "centrald/answer.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"
#include "proxyd/cache_entry.hpp"

namespace proxyd {

using dnswire::server::Verdict;

Verdict LocalStage::run(dnswire::server::QueryContext& ctx) {
  const centrald::ZoneSnapshot& snapshot = reader_.get();
  if (snapshot.findZone(ctx.query.qname) == nullptr) return Verdict::Continue;
  const auto result =
      centrald::answerQuery(snapshot, ctx.query, ctx.transport, ctx.responseBuffer(), ctx.maxResponseSize);
  Verdict verdict = Verdict::Respond;
  if (result.size == 0)
    verdict = dnswire::server::respondWithError(ctx, dnswire::Rcode::ServFail);
  else
    ctx.responseSize = result.size;
  setRecursionAvailable(ctx.responseBuffer());
  dnswire::server::logQuery("{} {} {} -> rcode {} (local records)", ctx.client,
                            ctx.query.qname, ctx.query.qtype,
                            static_cast<unsigned>(result.rcode));
  return verdict;
}

}  // namespace proxyd
