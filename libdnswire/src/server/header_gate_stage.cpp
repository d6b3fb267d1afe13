#include "dnswire/server/header_gate_stage.hpp"

#include <algorithm>

#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"

namespace dnswire::server {

Verdict HeaderGateStage::run(QueryContext& ctx) {
  const auto& r = ctx.request;
  // Too short to hold a header: nothing to answer to (SPEC; RFC 1035 §4.1.1).
  if (r.size() < dnswire::kHeaderSize) return Verdict::Drop;
  // QR=1 is a response: answering responses invites loops and reflection.
  if ((r[2] & 0x80) != 0) return Verdict::Drop;
  auto opcode = static_cast<dnswire::Opcode>((r[2] >> 3) & 0x0f);
  if (std::find(allowed_.begin(), allowed_.end(), opcode) == allowed_.end()) {
    logQuery("{} {}: opcode {} not implemented", toString(ctx.transport), ctx.client.toString(),
             static_cast<int>(opcode));
    return respondWithError(ctx, dnswire::Rcode::NotImp);
  }
  uint16_t qdcount = static_cast<uint16_t>(r[4] << 8 | r[5]);
  if (opcode == dnswire::Opcode::Query && qdcount != 1) {
    // RFC 9619: a QUERY carries exactly one question.
    return respondWithError(ctx, dnswire::Rcode::FormErr, false);
  }
  return Verdict::Continue;
}

}  // namespace dnswire::server
