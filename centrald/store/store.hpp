#pragma once
// centrald's single source of truth: zones and records in SQLite (schema.hpp, SCHEMA.md),
// the addresses handed out from pools, and the answers to recent ADD requests.
//
// One Store is one SQLite connection: use it from one thread at a time (give a watcher
// thread its own Store). Every failure comes back as a Result; nothing throws.
// Writes from several processes are safe: each change is one transaction, and a write
// transaction starts with BEGIN IMMEDIATE so that read-check-write sequences (allocation,
// "does this name exist") cannot interleave with another writer.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "centrald/store/store_error.hpp"
#include "dnswire/error.hpp"
#include "dnswire/zonefile.hpp"

namespace centrald {

struct StoreOptions {
  bool readOnly = false;     // proxyd --db: never creates, migrates or writes
  int busyTimeoutMs = 5000;  // how long to wait for another writer's lock
};

struct ZoneSummary {
  dnswire::Name name;
  uint64_t records = 0;
  uint32_t serial = 0;
};

// A zone's identity and change counter (schema 3): `generation` goes up with every change
// to the zone's records, by triggers, whoever writes. (id, generation) never names two
// different contents, even after the zone is deleted and its id reused.
struct ZoneVersion {
  dnswire::Name name;
  int64_t id = 0;
  uint64_t generation = 0;
};

// One stored record as read, for streaming (Store::visitRecords): views into SQLite's row,
// valid only during the visitor's call. Nothing is decoded or checked yet.
struct StoredRecord {
  int64_t zoneId = 0;
  std::string_view zoneName;  // as stored: absolute, lowercase
  std::string_view owner;     // as stored: absolute presentation text
  int64_t type = 0;
  int64_t cls = 0;
  int64_t ttl = 0;
  std::span<const uint8_t> rdata;  // uncompressed wire RDATA (RFC 3597 §4)
};
// Returns an error to stop the reading; that error is then returned by the read.
using RecordVisitor = std::function<dnswire::Result<void>(const StoredRecord&)>;

class Store;
struct StoreImpl;  // the connection and its prepared statements (store.cpp)

// A write transaction (BEGIN IMMEDIATE). Store methods called while it is open join it
// (each as a savepoint), so several of them commit or roll back together. Rolled back
// on destruction unless committed. Must not outlive its Store.
class Transaction {
 public:
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();

  // COMMIT; the change is durable when this returns ok (synchronous=FULL).
  dnswire::Result<void> commit();
  void rollback();
  bool active() const { return impl_ != nullptr; }

 private:
  friend class Store;
  explicit Transaction(StoreImpl* impl) : impl_(impl) {}
  StoreImpl* impl_;
};

class Store {
 public:
  // Opens (creating when missing, unless readOnly) and migrates to the latest schema.
  // WAL mode, busy_timeout, foreign keys on, synchronous=FULL.
  // Errors: Sqlite/Busy; SchemaTooNew; readOnly: SchemaTooOld when not migrated.
  static dnswire::Result<Store> open(const std::string& path, StoreOptions options = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // Every zone with its records, SOA first, in insertion order; one read transaction,
  // so the set is consistent even while another process writes.
  dnswire::Result<std::vector<dnswire::Zone>> loadZones();
  // Every record of every zone in one read transaction, in insertion order (so each
  // zone's SOA comes before its other records; zones interleave). For loaders that
  // build as they read, without a copy of the rows in between.
  dnswire::Result<void> visitRecords(const RecordVisitor& visit);
  // The records of the zone `origin`, in insertion order. NoSuchZone when absent.
  dnswire::Result<void> visitZoneRecords(const dnswire::Name& origin, const RecordVisitor& visit);
  // Changes whenever the data may have changed: SQLite's PRAGMA data_version (bumped by
  // other connections' commits) plus a count of this connection's own commits. Cheap
  // enough to poll every few hundred milliseconds.
  dnswire::Result<uint64_t> dataVersion();
  int schemaVersion() const;

  // Caps this connection's page cache at `kib` KiB (PRAGMA cache_size = -kib). SQLite's
  // default, 2,000 KiB, is reached by any connection in the end: pages read or written
  // stay cached until the cap, so one that writes a little at a time (the ADD writer)
  // grows towards it for hours.
  dnswire::Result<void> limitPageCache(size_t kib);
  // What this connection's page cache holds now, in bytes (SQLITE_DBSTATUS_CACHE_USED).
  size_t pageCacheBytes() const;

  // Stores `zones` in one transaction: all or nothing. A zone already stored is an error
  // (ZoneExists) unless `replace`, which deletes its old records first.
  dnswire::Result<void> importZones(std::span<const dnswire::Zone> zones, bool replace);
  // One line per zone, ordered by name.
  dnswire::Result<std::vector<ZoneSummary>> listZones();
  // NoSuchZone when absent.
  dnswire::Result<dnswire::Zone> exportZone(const dnswire::Name& origin);
  dnswire::Result<bool> hasZone(const dnswire::Name& origin);
  // True when any record has this owner (case-insensitive), in any zone.
  dnswire::Result<bool> nameExists(const dnswire::Name& owner);
  // The stored zone that `name` is in (the longest origin at or above it), if any.
  dnswire::Result<std::optional<dnswire::Name>> findZone(const dnswire::Name& name);

  // Every zone's version, in one statement (cheap: one row per zone, no records read).
  dnswire::Result<std::vector<ZoneVersion>> zoneVersions();
  // PRAGMA data_version alone: moves only when another connection commits (the ADD writer
  // asks whether anybody else wrote since its last round).
  dnswire::Result<uint64_t> externalDataVersion();
  // One zone's version; nullopt when it is not stored. Inside a Transaction this is the
  // version the transaction has produced so far.
  dnswire::Result<std::optional<ZoneVersion>> zoneVersion(const dnswire::Name& origin);

  // --- Writes for ADD; each is atomic alone and joins an open Transaction. ---

  // BEGIN IMMEDIATE: takes the write lock now (waiting up to busy_timeout).
  dnswire::Result<Transaction> begin();
  // `count` addresses from `poolCidr` never handed out before (by this table, restarts
  // included) and not already in an A/AAAA record; recorded for `owner`. Returns A or
  // AAAA RDATA. BadPool, PoolExhausted (nothing allocated then).
  dnswire::Result<std::vector<dnswire::RData>> allocateAddresses(std::string_view poolCidr, size_t count,
                                                                 const dnswire::Name& owner);
  // Appends records to a stored zone. NoSuchZone; OutsideZone when a record is not at or
  // below the zone's origin; a second SOA is BadData.
  dnswire::Result<void> insertRecords(const dnswire::Name& zone,
                                      std::span<const dnswire::ResourceRecord> records);
  // Stores a new zone (SOA first). ZoneExists when present.
  dnswire::Result<void> createZone(const dnswire::Zone& zone);
  // SOA serial + 1 (RFC 1982 arithmetic: wraps past 2^32-1); returns the new serial.
  dnswire::Result<uint32_t> bumpSerial(const dnswire::Name& zone);

  // --- ADD retransmission replay (SPEC: same source, ID and content within a minute). ---
  dnswire::Result<void> rememberAddResponse(std::string_view clientKey, std::span<const uint8_t> requestHash,
                                            std::span<const uint8_t> response, int64_t now);
  // The response stored for the key and hash at or after `notBefore` (unix seconds).
  dnswire::Result<std::optional<std::vector<uint8_t>>> findAddResponse(std::string_view clientKey,
                                                                       std::span<const uint8_t> requestHash,
                                                                       int64_t notBefore);
  // Deletes entries older than `before`.
  dnswire::Result<void> pruneAddResponses(int64_t before);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

 private:
  explicit Store(std::unique_ptr<StoreImpl> impl);
  std::unique_ptr<StoreImpl> impl_;
};

}  // namespace centrald
