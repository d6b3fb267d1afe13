#pragma once
// Minimal error answers built from what could be read of a request: the gate, the decoder
// and every stage that refuses (REFUSED, NOTIMP, SERVFAIL) use them.

#include <cstdint>
#include <span>

#include "dnswire/packet_view.hpp"
#include "dnswire/server/query_context.hpp"
#include "dnswire/types.hpp"

namespace dnswire::server {

// Writes a reply to `request` into `out` and returns its size, or 0 when the request's
// header is unreadable (< 12 bytes: such messages are dropped, never answered).
// The reply has: the request's ID and opcode, RD copied, QR=1, every other flag 0 (Z
// never set), rcode's low four bits in the header;
//   - the question echoed: from `query` when given, else read from the request when its
//     first question parses (QDCOUNT >= 1), else no question;
//   - an OPT record when `query` says the request had one (RFC 6891 §6.1.1): payload
//     1232, version 0, DO echoed, no options, and rcode's upper eight bits as the
//     extended rcode (§6.1.3). Without OPT only rcodes 0..15 can be expressed: a larger
//     one is written as its low four bits (callers do not do that).
// With `echoQuestion` false no question is written (FORMERR for a bad QDCOUNT).
// `out` must hold at least 12 bytes; a question or OPT that does not fit is left out.
size_t buildErrorResponse(std::span<const uint8_t> request, const dnswire::QueryView* query,
                          dnswire::Rcode rcode, std::span<uint8_t> out, bool echoQuestion = true);

// buildErrorResponse() into ctx's response buffer, using ctx.query when ctx.parsed;
// sets ctx.responseSize. Returns the verdict to hand back: Respond, or Drop when the
// header was unreadable.
Verdict respondWithError(QueryContext& ctx, dnswire::Rcode rcode, bool echoQuestion = true);

}  // namespace dnswire::server
