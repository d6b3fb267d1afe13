#include "proxyd/stages/policy_stage.hpp"

#include "centrald/answer.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"
#include "proxyd/cache_entry.hpp"

namespace proxyd {

using dnswire::server::Verdict;

namespace {
Verdict refuse(dnswire::server::QueryContext& ctx, dnswire::Rcode rcode, const char* why) {
  dnswire::server::logQuery("{} {}: {}", ctx.client, ctx.parsed ? ctx.query.qname.toText() : "-",
                            why);
  const Verdict verdict = dnswire::server::respondWithError(ctx, rcode);
  setRecursionAvailable(ctx.responseBuffer());
  return verdict;
}
}  // namespace

Verdict PolicyStage::run(dnswire::server::QueryContext& ctx) {
  if (!ctx.parsed) return refuse(ctx, dnswire::Rcode::FormErr, "not parsed");
  const auto opcode = ctx.query.header.opcode;
  if (opcode == dnswire::Opcode::Add) {
    if (!allowAdd_.allows(ctx.client))
      return refuse(ctx, dnswire::Rcode::Refused, "ADD refused (--allow-add)");
    return Verdict::Continue;
  }
  if (opcode != dnswire::Opcode::Query) return refuse(ctx, dnswire::Rcode::NotImp, "opcode not implemented");
  if (!allow_.allows(ctx.client)) return refuse(ctx, dnswire::Rcode::Refused, "refused (--allow)");
  if (auto rcode = centrald::policyRcode(ctx.query)) return refuse(ctx, *rcode, "refused by policy");
  return Verdict::Continue;
}

}  // namespace proxyd
