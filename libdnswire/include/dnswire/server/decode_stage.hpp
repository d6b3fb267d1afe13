#pragma once
// The second stage: validates the whole request with dnswire::parseQuery and fills
// ctx.query / ctx.parsed, then sets ctx.maxResponseSize for UDP.
//   - parse failure: FORMERR with the question echoed when it is readable (SPEC "A
//     message that cannot be parsed"; RFC 9267, RFC 6891 §6.1.1)
//   - EDNS version > 0: BADVERS with an OPT of version 0 (RFC 6891 §6.1.3)
//   - UDP: maxResponseSize = 512 without EDNS, else the client's payload size clamped to
//     [512, 1232] (RFC 6891 §6.2.5: below 512 counts as 512; 1232 is what we advertise)
//   - TCP: maxResponseSize stays 65535.
// Otherwise Continue.

#include <string_view>

#include "dnswire/server/pipeline.hpp"

namespace dnswire::server {

class DecodeStage final : public Stage {
 public:
  Verdict run(QueryContext& ctx) override;
  std::string_view name() const override { return "decode"; }
};

// The UDP response limit for a parsed query (the rule above).
size_t udpResponseLimit(const dnswire::QueryView& query);

}  // namespace dnswire::server
