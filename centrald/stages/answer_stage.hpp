#pragma once
// Answers a QUERY from the current zone snapshot straight into the context's response
// buffer, within ctx.maxResponseSize (TC set when RRsets had to be left out). One per
// worker: it keeps that worker's snapshot and cache of finished responses, so the hot
// path takes no lock. A repeated question is answered from the cache (answer_cache.hpp),
// which is emptied whenever a new snapshot is published.

#include <cstdint>
#include <memory>
#include <string_view>

#include "centrald/answer_cache.hpp"
#include "centrald/snapshot_holder.hpp"
#include "dnswire/server/pipeline.hpp"

namespace centrald {

class AnswerStage final : public dnswire::server::Stage {
 public:
  // `cacheEntries` 0: every query goes through answerQuery().
  AnswerStage(const SnapshotHolder& snapshots, size_t cacheEntries);
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override;
  std::string_view name() const override { return "answer"; }

  // For AnswerCacheStage, before decoding: answers ctx.request from the cache when it is
  // in the form AnswerCache::question(request) takes, was cached, and the snapshot has
  // not changed since (then the cache is emptied by the next run() first). Sets the
  // response and ctx.maxResponseSize as DecodeStage would; false: nothing was touched.
  bool answerFromRequest(dnswire::server::QueryContext& ctx);
  // For AnswerCacheStage::prefetch(): the cache lines answerFromRequest() will read. Far
  // (`far`) reads the request, starts loading the cache's tags and notes the question's
  // hash; Near loads what the tags point to. answerFromRequest() takes the hash from
  // ctx.prefetchNote instead of hashing again.
  void prefetchForRequest(std::span<const uint8_t> request, dnswire::server::Transport transport, bool far,
                          uint64_t& note) const;

 private:
  // The snapshot of the current generation; clears the cache when it changes. (Not a
  // SnapshotReader: the cache's entries point into the snapshot, so the snapshot and the
  // cache must change together.)
  const ZoneSnapshot& snapshot();

  const SnapshotHolder* holder_;
  uint64_t generation_;
  std::shared_ptr<const ZoneSnapshot> snapshot_;
  AnswerCache cache_;
};

}  // namespace centrald
