#include "proxyd/stages/cache_stage.hpp"

#include "dnswire/rr_table.hpp"
#include "dnswire/server/log.hpp"

namespace proxyd {

using dnswire::server::Verdict;

Verdict CacheStage::run(dnswire::server::QueryContext& ctx) {
  // The batch's arrival time, read once for all its queries, stands for now: a clock read
  // per query cost more than the microseconds it would add to an entry's age.
  const auto hit = cache_.find(
      CacheQuestion::of(ctx.query.qname, ctx.query.qtype, ctx.query.qclass, ctx.query.dnssecOk), ctx.received);
  if (!hit.entry || hit.stale) return Verdict::Continue;
  const size_t size = writeAnswer(*hit.entry, ctx.query, ctx.responseBuffer(), ctx.maxResponseSize, ctx.received);
  if (size == 0) return Verdict::Continue;
  ctx.responseSize = size;
  dnswire::server::logQuery("{} {} {} -> rcode {} (cache)", ctx.client, ctx.query.qname,
                            ctx.query.qtype, hit.entry->rcode);
  return Verdict::Respond;
}

}  // namespace proxyd
