#pragma once
// centrald's policy stage, after header gate and decode: what centrald will not answer
// from its zones, decided from the opcode and question alone.
//   - opcode ADD (14) reaching this stage: NOTIMP. The ADD stage, when configured, sits
//     before this one (see centrald_pipeline.hpp) and answers ADD itself.
//   - any other opcode but QUERY: NOTIMP (RFC 1035 §4.1.1)
//   - class other than IN, AXFR/IXFR: REFUSED (centrald::policyRcode)
// Otherwise Continue.

#include <string_view>

#include "dnswire/server/pipeline.hpp"

namespace centrald {

class PolicyStage final : public dnswire::server::Stage {
 public:
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override;
  std::string_view name() const override { return "policy"; }
};

}  // namespace centrald
