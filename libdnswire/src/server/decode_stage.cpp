#include "dnswire/server/decode_stage.hpp"

#include <algorithm>

#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"

namespace dnswire::server {

size_t udpResponseLimit(const dnswire::QueryView& query) {
  if (!query.hasEdns) return dnswire::kMaxUdpPlain;  // RFC 1035 §4.2.1
  // RFC 6891 §6.2.5: a payload size under 512 is treated as 512; we never go above what
  // we advertise (1232, to stay below common path MTUs without fragmentation).
  return std::clamp<size_t>(query.udpSize, dnswire::kMaxUdpPlain, dnswire::kAdvertisedUdpSize);
}

Verdict DecodeStage::run(QueryContext& ctx) {
  // Parsed in place: no 300-byte result copied on every query.
  const dnswire::WireError error = dnswire::parseQuery(ctx.request, ctx.query);
  if (error != dnswire::WireError::Ok) {
    ctx.query = dnswire::QueryView{};  // what a failed parse left is no query
    ctx.parsed = false;
    logQuery("{} {}: unparsable query: {}", toString(ctx.transport), ctx.client,
             dnswire::Error(error).message());
    return respondWithError(ctx, dnswire::toRcode(error));
  }
  ctx.parsed = true;
  ctx.maxResponseSize =
      ctx.transport == Transport::Udp ? udpResponseLimit(ctx.query) : dnswire::kMaxMessageSize;
  if (ctx.query.hasEdns && ctx.query.ednsVersion > 0) {
    // RFC 6891 §6.1.3: we implement version 0 only.
    return respondWithError(ctx, dnswire::Rcode::BadVers);
  }
  return Verdict::Continue;
}

}  // namespace dnswire::server
