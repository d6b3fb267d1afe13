#pragma once
// The part of ADD that touches the database: applies a batch of decoded ADD requests in
// one SQLite transaction and builds each one's response (SPEC "ADD"). Single-threaded:
// AddService runs it on its writer thread; tests call it directly.
//
// Per request, in order, inside the batch's transaction (earlier requests of the batch
// are visible to later ones):
//   1. replay: the same client key (source address + ID) and request digest answered
//      within kReplayWindow gets that answer again, byte for byte, and nothing is applied
//      (kept in the store's add_requests table only, pruned after the window: a restart
//      does not forget, and no copy in memory grows with the ADD rate);
//   2. YXDOMAIN when NAME or an alias owns any record already; nothing changes;
//   3. FORMERR when an alias lies in no zone centrald holds (nor below a new zone NAME);
//   4. placeholders: addresses from the pool (never handed out twice, restarts included:
//      the store's address_allocations table). No pool of the placeholder's family:
//      REFUSED; pool exhausted: SERVFAIL; both logged with the reason;
//   5. NAME inside a zone held: records appended there and its SOA serial bumped (each
//      alias's zone too); otherwise a new zone at NAME with a synthesized SOA and NS;
//   6. the NOERROR response lists the records as stored (SOA and NS first for a new
//      zone), signed when the request was (RFC 8945 §5.3).
// A database failure anywhere rolls the whole batch back and every request of it gets
// SERVFAIL; responses are handed out only after COMMIT returned (the acknowledgement
// promises durability: synchronous=FULL).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "centrald/store/store.hpp"
#include "centrald/zone_change.hpp"
#include "dnswire/add_message.hpp"
#include "dnswire/server/address.hpp"
#include "dnswire/server/clock.hpp"
#include "dnswire/tsig.hpp"

namespace centrald {

inline constexpr int64_t kReplayWindowSeconds = 60;  // SPEC: "within a minute"
// The write connection's page cache. An ADD touches a few dozen pages (the paths to the
// ends of the records, add_requests and address_allocations B-trees and their indexes);
// at SQLite's default (2,000 KiB) the cache keeps every page the writer ever created, so
// centrald grew by ~470 bytes per ADD until it was full. A miss reads from the OS cache:
// 32 add_client clients, 20,000-name zone: 1,600 adds/s at 2,000 KiB, 1,560 at 1,024,
// 1,370 at 256.
inline constexpr size_t kWriterPageCacheKiB = 1024;

struct AddOptions {
  std::optional<dnswire::server::Cidr> pool;  // where placeholders' addresses come from
  dnswire::server::Acl allowAdd = dnswire::server::Acl::loopbackOnly();
  std::optional<dnswire::TsigKey> tsigKey;  // when set, ADD must be signed with it
  // The synthesized records of a new zone NAME (RFC 1035 §3.3.13, RFC 2308 §4):
  //   NAME soaTtl SOA nameserver hostmaster.NAME 1 refresh retry expire minimum
  //   NAME soaTtl NS  nameserver
  // "localhost." says "served right here", as RFC 6303's locally served zones do.
  dnswire::Name nameserver = *dnswire::Name::fromText("localhost.");
  uint32_t soaTtl = 3600;
  uint32_t refresh = 3600;
  uint32_t retry = 900;
  uint32_t expire = 604800;
  uint32_t minimum = 300;
};

// How the response to a signed request is signed.
struct TsigReply {
  dnswire::TsigKey key;
  std::vector<uint8_t> requestMac;
};

// One request as the stage hands it over.
struct AddItem {
  std::string clientKey;        // "127.0.0.1#4660": source address and ID
  std::vector<uint8_t> digest;  // of the request's bytes after the ID
  dnswire::Header requestHeader;
  dnswire::AddRequest request;
  bool withEdns = false;
  std::optional<TsigReply> tsig;
  std::string client;  // for log lines
};

// What happened to one item.
struct AddOutcome {
  std::vector<uint8_t> response;  // the full response (the caller truncates for UDP)
  dnswire::Rcode rcode = dnswire::Rcode::ServFail;
  bool replayed = false;
  bool applied = false;
  std::string logLine;  // the success line, logged after COMMIT (internal to the engine)
};

class AddEngine {
 public:
  using LogFn = std::function<void(const std::string&)>;
  // Caps `store`'s page cache at kWriterPageCacheKiB.
  AddEngine(Store store, AddOptions options, const dnswire::server::Clock& clock, LogFn log = {});

  // Applies `items` in one transaction (see above); one outcome per item, in order.
  // `committed` is false when the batch failed as a whole (every outcome SERVFAIL).
  // When committed and `changes` is given, it receives what the transaction did to each
  // zone (for publishing without reading the store back); empty otherwise.
  std::vector<AddOutcome> applyBatch(std::vector<AddItem>& items, bool& committed,
                                     std::vector<ZoneChange>* changes = nullptr);

  const AddOptions& options() const { return options_; }
  Store& store() { return store_; }

  // A response to `header`/`question` with `rcode` and no records, signed when `tsig`.
  std::vector<uint8_t> errorResponse(const dnswire::Header& header, const dnswire::Question* question,
                                     dnswire::Rcode rcode, bool withEdns,
                                     const std::optional<TsigReply>& tsig) const;
  // Appends a TSIG signed with `tsig` (time: the clock's wall time). Unchanged on failure.
  std::vector<uint8_t> sign(std::vector<uint8_t> response, const std::optional<TsigReply>& tsig) const;

 private:
  struct Failure {  // a batch-wide database failure
    std::string reason;
  };

  // Applies one item inside the open transaction. Returns the outcome, or a Failure.
  std::variant<AddOutcome, Failure> applyOne(const AddItem& item);
  std::optional<std::vector<uint8_t>> findReplay(const AddItem& item, int64_t now,
                                                 std::optional<Failure>& failure);
  void log(const std::string& line) const;
  // The batch's change record of `origin`, started with the zone's version before the
  // batch first touches it.
  std::variant<ZoneChange*, Failure> changeOf(const dnswire::Name& origin);

  Store store_;
  AddOptions options_;
  const dnswire::server::Clock& clock_;
  LogFn log_;
  int64_t lastPrune_ = 0;            // of add_requests
  std::vector<ZoneChange> changes_;  // of the batch being applied
};

}  // namespace centrald
