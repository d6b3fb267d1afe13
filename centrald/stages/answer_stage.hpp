#pragma once
// Answers a QUERY from the current zone snapshot straight into the context's response
// buffer, within ctx.maxResponseSize (TC set when RRsets had to be left out). One per
// worker: it keeps that worker's SnapshotReader, so the hot path takes no lock.

#include <string_view>

#include "centrald/snapshot_holder.hpp"
#include "dnswire/server/pipeline.hpp"

namespace centrald {

class AnswerStage final : public dnswire::server::Stage {
 public:
  explicit AnswerStage(const SnapshotHolder& snapshots) : reader_(snapshots) {}
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override;
  std::string_view name() const override { return "answer"; }

 private:
  SnapshotReader reader_;
};

}  // namespace centrald
