#include "centrald/stages/policy_stage.hpp"

#include "centrald/answer.hpp"
#include "dnswire/server/error_response.hpp"

namespace centrald {

using dnswire::server::Verdict;

Verdict PolicyStage::run(dnswire::server::QueryContext& ctx) {
  // Without a parsed query there is nothing to decide on: DecodeStage answered already.
  if (!ctx.parsed) return dnswire::server::respondWithError(ctx, dnswire::Rcode::FormErr);
  if (ctx.query.header.opcode != dnswire::Opcode::Query)
    return dnswire::server::respondWithError(ctx, dnswire::Rcode::NotImp);
  if (auto rcode = policyRcode(ctx.query)) return dnswire::server::respondWithError(ctx, *rcode);
  return Verdict::Continue;
}

}  // namespace centrald
