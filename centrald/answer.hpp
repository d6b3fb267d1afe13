#pragma once
// centrald's answer logic: RFC 1034 §4.3.2 over a ZoneSnapshot, one function per outcome.
// Everything writes straight into the caller's buffer through a ResponseWriter; nothing
// is allocated per query.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "centrald/response_writer.hpp"
#include "centrald/zone_snapshot.hpp"
#include "dnswire/name.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/server/query_context.hpp"
#include "dnswire/types.hpp"

namespace centrald {

// CNAME chains are followed this many links at most (and loops are stopped earlier).
inline constexpr size_t kMaxCnameChain = 8;

using Transport = dnswire::server::Transport;

// Rcode for a query centrald does not answer from its zones, decided from the question
// alone, or nullopt when the query goes on to answerQuery():
//   class other than IN -> REFUSED (we hold IN zones only);
//   AXFR / IXFR -> REFUSED (zone transfers are not served).
// The opcode is checked before this (QUERY only; others get NOTIMP).
std::optional<dnswire::Rcode> policyRcode(const dnswire::QueryView& query);

struct AnswerResult {
  size_t size = 0;  // bytes written to `out`; 0 when nothing fits (never for limit >= 512)
  dnswire::Rcode rcode = dnswire::Rcode::NoError;
  bool truncated = false;
  // The A/AAAA RRsets rotated in the answer section, and the last of them: what a cache
  // of finished responses needs to replay the round robin (answer_cache.hpp).
  uint8_t rotatedSets = 0;
  const RRset* rotated = nullptr;
};

// Answers a parsed QUERY from `snapshot` into `out`, at most `limit` bytes (the client's
// UDP limit, or 65535 over TCP). Over UDP, ANY gets one RRset (RFC 8482 §4.2); over TCP,
// every RRset. An answer or authority RRset that does not fit is left out and TC set.
AnswerResult answerQuery(const ZoneSnapshot& snapshot, const dnswire::QueryView& query, Transport transport,
                         std::span<uint8_t> out, size_t limit);

// --- the outcomes (RFC 1034 §4.3.2 step 3), exposed for tests ---------------------------

// State of one answer as the outcomes build it.
struct AnswerState {
  const ZoneSnapshot& snapshot;
  const dnswire::QueryView& query;
  Transport transport;
  ResponseWriter& writer;
  AnswerResult* rotation = nullptr;  // where writeAnswerSet notes rotated RRsets, if anywhere
};

// Where a name leads inside the snapshot.
struct Lookup {
  enum class Kind { NotOurs, Delegation, Node, Nxdomain };
  Kind kind = Kind::NotOurs;
  const ZoneView* zone = nullptr;
  const Node* node = nullptr;  // the node (exact or wildcard) or the zone cut
  bool wildcard = false;       // `node` is the source of synthesis (RFC 4592)
};
Lookup lookup(const ZoneSnapshot& snapshot, const dnswire::Name& name);

// The node has RRsets of qtype (or qtype is ANY): writes them owned by `owner`, then the
// addresses of MX exchanges, NS hosts and SRV targets in the additional section.
void answerExact(AnswerState& state, const dnswire::Name& owner, bool ownerIsQname, const Node& node);
// The node holds a CNAME and qtype is something else: writes it and returns its target
// (to be looked up next), or null when the CNAME did not fit.
const dnswire::Name* answerCname(AnswerState& state, const dnswire::Name& owner, bool ownerIsQname,
                                 const RRset& cname);
// The name is at or below a zone cut: a referral, the cut's NS in authority and their
// in-zone addresses (glue) in additional; not authoritative.
void answerDelegation(AnswerState& state, const ZoneView& zone, const Node& cut);
// The name exists without data of qtype: NOERROR with the zone's SOA (RFC 2308 §2.2).
void answerNodata(AnswerState& state, const ZoneView& zone);
// The name does not exist: NXDOMAIN with the zone's SOA (RFC 2308 §2.1).
void answerNxdomain(AnswerState& state, const ZoneView& zone);

}  // namespace centrald
