#include "centrald/stages/answer_stage.hpp"

#include "centrald/answer.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"

namespace centrald {

using dnswire::server::Verdict;

namespace {
// A prefetch note holds a question's hash, marked so that a note of 0 means none.
constexpr uint64_t kHashNoted = uint64_t{1} << 32;
}  // namespace

AnswerStage::AnswerStage(const SnapshotHolder& snapshots, size_t cacheEntries)
    : holder_(&snapshots),
      generation_(snapshots.generation()),
      snapshot_(snapshots.current()),
      cache_(cacheEntries) {}

const ZoneSnapshot& AnswerStage::snapshot() {
  const uint64_t generation = holder_->generation();
  if (generation != generation_) {
    // A publish stores the pointer before bumping the generation, so this load sees at
    // least the snapshot of `generation`. The entries go first: they point into the old one.
    cache_.clear();
    snapshot_ = holder_->current();
    generation_ = generation;
  }
  return *snapshot_;
}

bool AnswerStage::answerFromRequest(dnswire::server::QueryContext& ctx) {
  if (holder_->generation() != generation_ || !cache_.enabled()) return false;
  AnswerCache::Question question;
  if (!AnswerCache::question(ctx.request, ctx.transport, question)) return false;
  // The note is this request's own hash when the worker prefetched it (same bytes, same
  // transport, so the same question).
  const uint32_t hash = (ctx.prefetchNote & kHashNoted) != 0 ? static_cast<uint32_t>(ctx.prefetchNote)
                                                             : AnswerCache::hashOf(question);
  const size_t size = cache_.lookup(question, hash, ctx.responseBuffer());
  if (size == 0) return false;
  ctx.maxResponseSize = question.limit;
  ctx.responseSize = size;
  return true;
}

void AnswerStage::prefetchForRequest(std::span<const uint8_t> request, dnswire::server::Transport transport,
                                     bool far, uint64_t& note) const {
  if (!cache_.enabled()) return;
  if (!far) {
    if (note != 0) cache_.prefetch(static_cast<uint32_t>(note));
    return;
  }
  AnswerCache::Question question;
  if (!AnswerCache::question(request, transport, question)) return;
  const uint32_t hash = AnswerCache::hashOf(question);
  note = kHashNoted | hash;
  cache_.prefetchTags(hash);
}

Verdict AnswerStage::run(dnswire::server::QueryContext& ctx) {
  if (!ctx.parsed) return dnswire::server::respondWithError(ctx, dnswire::Rcode::FormErr);
  const ZoneSnapshot& zones = snapshot();
  if (const size_t cached =
          cache_.lookup(ctx.query, ctx.transport, ctx.maxResponseSize, ctx.responseBuffer())) {
    ctx.responseSize = cached;
    dnswire::server::logQuery("query from {} over {}: {} {} -> rcode {} (cached)", ctx.client,
                              dnswire::server::toString(ctx.transport), ctx.query.qname, ctx.query.qtype,
                              static_cast<unsigned>(ctx.response()[3] & 0xF));
    return Verdict::Respond;
  }
  const AnswerResult result =
      answerQuery(zones, ctx.query, ctx.transport, ctx.responseBuffer(), ctx.maxResponseSize);
  if (result.size == 0) return dnswire::server::respondWithError(ctx, dnswire::Rcode::ServFail);
  ctx.responseSize = result.size;
  cache_.store(ctx.query, ctx.transport, ctx.maxResponseSize, ctx.response(), result);
  dnswire::server::logQuery("query from {} over {}: {} {} -> rcode {}{}", ctx.client,
                            dnswire::server::toString(ctx.transport), ctx.query.qname, ctx.query.qtype,
                            static_cast<unsigned>(result.rcode), result.truncated ? " (truncated)" : "");
  return Verdict::Respond;
}

}  // namespace centrald
