#pragma once
// One cached answer as wire bytes, ready to be copied to a client: what a cache hit costs
// is a memcpy, an ID and question-case patch, the TTLs aged in place at precomputed
// offsets and the A/AAAA RRsets rotated by whole records.
//
// Entries are built from a decoded upstream or centrald Message (off the hot path) by
// buildEntry(), which also decides what may be kept (bailiwick scrubbing) and whether the
// answer may be cached at all.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "dnswire/message.hpp"
#include "dnswire/name.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/server/clock.hpp"
#include "dnswire/server/query_context.hpp"

namespace proxyd {

using Clock = dnswire::server::Clock;

// TTLs above this are served as this (a day, like Unbound's cache-max-ttl).
inline constexpr uint32_t kTtlCap = 86'400;
// Entries live at least this long whatever their TTL says (a TTL of 0 or 1 would
// otherwise make every burst of identical queries a burst of upstream queries); the
// TTLs shown to clients still count down from the record's own TTL and stop at 0.
inline constexpr uint32_t kTtlFloor = 2;
// RFC 8767 §4: the TTL given to records served stale.
inline constexpr uint32_t kStaleTtl = 30;
// RFC 8767 §5: how long past expiry an entry may still be served stale.
inline constexpr std::chrono::seconds kStaleWindow{86'400};

struct CacheEntry {
  // The whole response without OPT: header (ID 0, QR, RA; AA, TC, AD clear), the question
  // (qname lowercased) and the scrubbed sections. Names compressed, but never into a
  // rotating RRset, and every record of a rotating RRset has the same owner bytes.
  std::vector<uint8_t> wire;
  struct TtlSlot {
    uint32_t offset;  // of the 4-byte TTL field in `wire`
    uint32_t ttl;     // the TTL as stored (capped; negative SOA per RFC 2308 §5)
  };
  std::vector<TtlSlot> ttls;
  struct RotatingSet {
    uint32_t offset;      // first record
    uint32_t recordSize;  // every record of the set has this size
    uint32_t count;
  };
  std::vector<RotatingSet> rotating;
  size_t questionEnd = 0;
  Clock::TimePoint stored{};
  Clock::TimePoint expires{};     // fresh until then
  Clock::TimePoint staleUntil{};  // servable stale until then (RFC 8767)
  uint16_t rcode = 0;
  bool negative = false;  // NXDOMAIN or NODATA
  // Round robin: each answer built from this entry takes the next value.
  mutable std::atomic<uint32_t> rotation{0};

  bool fresh(Clock::TimePoint now) const { return now < expires; }
  // Approximate heap + object footprint, for the --cache-size note and tests.
  size_t footprint() const;
};

// What buildEntry() made of a response.
struct BuiltEntry {
  std::shared_ptr<CacheEntry> entry;  // null when the message could not be encoded
  bool cacheable = false;             // false: answer the waiting clients, do not store
  dnswire::Name finalName;            // end of the CNAME chain (the qname without one)
  bool chainIncomplete = false;       // ends in a CNAME whose target has no data here
};

// Builds an entry for `question` from `response` (a reply to our query for it, or such a
// reply merged with the completion of its CNAME chain). Scrubbing (never cached, never
// relayed):
//   - answer: only records owned by the qname or by a name its CNAME chain reaches from
//     it (at most 16 links); anything else is an unrelated, possibly forged record;
//   - authority: only SOA and NS records owned by the final name or one of its ancestors
//     (the zone that answered), and the DNSSEC types (RRSIG, NSEC, NSEC3, DS) likewise;
//   - additional: only records owned by names inside `bailiwick` (the zone the query was
//     sent to: the SOA/NS owner in authority when there is one, else `bailiwickHint`);
//     OPT and TSIG always dropped.
// RRset TTLs are set to the lowest of their records (RFC 2181 §5.2) and capped at
// kTtlCap; the SOA of a negative answer gets min(SOA TTL, SOA MINIMUM) (RFC 2308 §5).
// Cacheable: rcode NOERROR or NXDOMAIN, TC clear, and a negative answer (NXDOMAIN, or
// no data of qtype at the end of the chain) carries an SOA (RFC 2308 §5: without one it
// is not cached); a chain left incomplete is not cached.
BuiltEntry buildEntry(const dnswire::Message& response, const dnswire::Question& question,
                      const dnswire::Name& bailiwickHint, Clock::TimePoint now);

// Writes the answer to `query` from `entry` into `out` (at most `limit` bytes):
// the client's ID, RD and CD; the question in the client's case (RFC 4343); TTLs aged by
// the entry's age, or all set to `forcedTtl` (serve-stale); every rotating RRset rotated
// by the entry's next rotation value; an OPT (1232, DO echoed) when the query had one.
// When the whole answer does not fit, the header, question and OPT with TC set
// (RFC 2181 §9: the client retries over TCP). Returns the size written (0 only when
// not even that fits, never for limit >= 512).
size_t writeAnswer(const CacheEntry& entry, const dnswire::QueryView& query, std::span<uint8_t> out,
                   size_t limit, Clock::TimePoint now, std::optional<uint32_t> forcedTtl = std::nullopt);

// Sets RA in a response already written (RFC 1035 §4.1.1: proxyd offers recursion).
void setRecursionAvailable(std::span<uint8_t> response);

}  // namespace proxyd
