#pragma once
// The answer cache in front of decoding: a repeated question in the plainest form (see
// AnswerCache::question(request)) is answered from the bytes as they came in, without
// DecodeStage, the policy stage and the answer stage's own lookup. Anything else, or a
// miss, continues down the pipeline unchanged; the answer stage fills the cache.

#include <cstdint>
#include <span>
#include <string_view>

#include "centrald/stages/answer_stage.hpp"
#include "dnswire/server/pipeline.hpp"

namespace centrald {

class AnswerCacheStage final : public dnswire::server::Stage {
 public:
  // `answer` (the same worker's) must outlive this stage: both live in one pipeline.
  explicit AnswerCacheStage(AnswerStage& answer) : answer_(&answer) {}
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override;
  std::string_view name() const override { return "answer-cache"; }
  bool prefetches() const override { return true; }
  void prefetch(std::span<const uint8_t> request, dnswire::server::Transport transport, Prefetch distance,
                uint64_t& note) override {
    answer_->prefetchForRequest(request, transport, distance == Prefetch::Far, note);
  }

 private:
  AnswerStage* answer_;
};

}  // namespace centrald
