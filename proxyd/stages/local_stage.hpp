#pragma once
// Answers names inside the zones of proxyd's own database (--db) before anything else
// (SPEC "proxyd": local records -> cache -> centrald -> upstreams), with centrald's
// answer logic; AA stays set (these are proxyd's own data), RA is set.

#include <string_view>

#include "centrald/snapshot_holder.hpp"
#include "dnswire/server/pipeline.hpp"

namespace proxyd {

class LocalStage final : public dnswire::server::Stage {
 public:
  explicit LocalStage(const centrald::SnapshotHolder& snapshots) : reader_(snapshots) {}
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override;
  std::string_view name() const override { return "local"; }

 private:
  centrald::SnapshotReader reader_;
};

}  // namespace proxyd
