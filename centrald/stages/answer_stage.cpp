#include "centrald/stages/answer_stage.hpp"

#include "centrald/answer.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"

namespace centrald {

using dnswire::server::Verdict;

namespace {

// A prefetch note: what AnswerCache::question() read from the request, and its hash, so
// that the run reads neither again. Bits 0-31 the hash, 32-39 the name's length, 40-47
// the key flags, 48-62 the size limit (UDP: at most 1232), 63 set (0 is no note).
constexpr uint64_t kNoted = uint64_t{1} << 63;

uint64_t noteOf(const AnswerCache::Question& q, uint32_t hash) {
  return kNoted | hash | static_cast<uint64_t>(q.qname.size()) << 32 | static_cast<uint64_t>(q.flags) << 40 |
         static_cast<uint64_t>(q.limit) << 48;
}

// The question noteOf() summed up, read back with the request it was taken from.
AnswerCache::Question questionOf(uint64_t note, std::span<const uint8_t> request) {
  AnswerCache::Question q;
  const size_t qnameSize = note >> 32 & 0xFF;
  const uint8_t* p = request.data();
  q.qname = request.subspan(dnswire::kHeaderSize, qnameSize);
  q.id = static_cast<uint16_t>(p[0] << 8 | p[1]);
  const uint8_t* type = p + dnswire::kHeaderSize + qnameSize;
  q.qtype = static_cast<uint16_t>(type[0] << 8 | type[1]);
  q.qclass = static_cast<uint16_t>(type[2] << 8 | type[3]);
  q.flags = static_cast<uint8_t>(note >> 40);
  q.limit = note >> 48 & 0x7FFF;
  return q;
}

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
  // A note is from these very bytes (the worker's prefetch), so it is their question.
  AnswerCache::Question question;
  uint32_t hash;
  if (ctx.prefetchNote & kNoted) {
    question = questionOf(ctx.prefetchNote, ctx.request);
    hash = static_cast<uint32_t>(ctx.prefetchNote);
  } else {
    if (!AnswerCache::question(ctx.request, ctx.transport, question)) return false;
    hash = AnswerCache::hashOf(question);
  }
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
  // Not for a limit the note cannot hold (never for UDP, the only transport prefetched).
  if (question.limit <= 0x7FFF) note = noteOf(question, hash);
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
