#pragma once
// The first stage: decisions that need only the 12-byte header, modelled on Unbound's
// worker_check_request (STYLE.md example 5).
//   - shorter than 12 bytes, or QR=1 (a response, possibly a reflection attempt): Drop
//   - opcode not in the allowed set: NOTIMP (RFC 1035 §4.1.1)
//   - QUERY with QDCOUNT != 1: FORMERR (no question echoed)
//   - otherwise Continue.

#include <initializer_list>
#include <string_view>
#include <vector>

#include "dnswire/server/pipeline.hpp"
#include "dnswire/types.hpp"

namespace dnswire::server {

class HeaderGateStage final : public Stage {
 public:
  // Opcodes that go on to the next stages; the default is QUERY only.
  explicit HeaderGateStage(std::initializer_list<dnswire::Opcode> allowed = {dnswire::Opcode::Query})
      : allowed_(allowed) {}
  explicit HeaderGateStage(std::vector<dnswire::Opcode> allowed) : allowed_(std::move(allowed)) {}

  Verdict run(QueryContext& ctx) override;
  std::string_view name() const override { return "header-gate"; }

 private:
  std::vector<dnswire::Opcode> allowed_;
};

}  // namespace dnswire::server
