#include "centrald/store/schema.hpp"

#include <array>

// The per-row triggers of schema 3 (also dropped and re-created by a bulk import).
#define DNS_RECORD_TRIGGERS                                                                  \
  "CREATE TRIGGER records_generation_insert AFTER INSERT ON records BEGIN\n"                 \
  "  UPDATE zones SET generation = generation + 1 WHERE id = NEW.zone_id;\n"                 \
  "END;\n"                                                                                   \
  "CREATE TRIGGER records_generation_delete AFTER DELETE ON records BEGIN\n"                 \
  "  UPDATE zones SET generation = generation + 1 WHERE id = OLD.zone_id;\n"                 \
  "END;\n"                                                                                   \
  "CREATE TRIGGER records_generation_update AFTER UPDATE ON records BEGIN\n"                 \
  "  UPDATE zones SET generation = generation + 1 WHERE id IN (OLD.zone_id, NEW.zone_id);\n" \
  "END;\n"

namespace centrald {
namespace {

constexpr std::array kMigrations{
    // 1: zones and their records.
    Migration{1, R"sql(
CREATE TABLE zones (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL UNIQUE,   -- absolute, lowercase: 'example.test.'
  created INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER))
);
CREATE TABLE records (
  id         INTEGER PRIMARY KEY, -- file order within a zone; the SOA has the zone's lowest id
  zone_id    INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  owner      TEXT NOT NULL,       -- absolute, case as given: 'WWW.example.test.'
  owner_key  TEXT NOT NULL,       -- lowercase owner, for case-insensitive lookups
  type       INTEGER NOT NULL,    -- RR type code: 1 A, 28 AAAA, 65280 ...
  class      INTEGER NOT NULL DEFAULT 1,
  ttl        INTEGER NOT NULL,
  rdata      BLOB NOT NULL,       -- RDATA in uncompressed wire form (RFC 3597 §4)
  rdata_text TEXT NOT NULL        -- the same in presentation form, for people
);
CREATE INDEX records_by_zone ON records(zone_id, id);
CREATE INDEX records_by_owner ON records(owner_key);
)sql"},
    // 2: generated addresses (never handed out twice) and ADD replay.
    Migration{2, R"sql(
CREATE TABLE address_allocations (
  id           INTEGER PRIMARY KEY,
  pool         TEXT NOT NULL,        -- the CIDR it came from: '198.51.100.0/24'
  address      TEXT NOT NULL UNIQUE, -- presentation form: '198.51.100.7'
  address_bin  BLOB NOT NULL UNIQUE, -- 4 or 16 bytes, network order, for ordered scans
  name         TEXT NOT NULL,        -- the owner it was allocated for
  allocated_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER))
);
CREATE INDEX records_addresses ON records(rdata) WHERE type IN (1, 28);
CREATE TABLE add_requests (
  id           INTEGER PRIMARY KEY,
  client_key   TEXT NOT NULL,        -- source address and message ID
  request_hash BLOB NOT NULL,        -- digest of the request bytes after the ID
  response     BLOB NOT NULL,        -- the answer sent, to replay to a retransmission
  created      INTEGER NOT NULL,     -- unix seconds
  UNIQUE(client_key, request_hash)
);
CREATE INDEX add_requests_by_time ON add_requests(created);
)sql"},
    // 3: a per-zone change counter, so that a reader reloads only the zones that changed.
    // Triggers keep it, whoever writes (dnszone, ADD, a hand edit with sqlite3). A new zone
    // starts above every generation ever issued (the live ones and those of deleted zones,
    // kept in zone_generation_floor): zone ids can be reused after a delete, and the pair
    // (id, generation) must never name two different contents.
    Migration{3, R"sql(
ALTER TABLE zones ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE TABLE zone_generation_floor (value INTEGER NOT NULL);
INSERT INTO zone_generation_floor(value) VALUES (0);
CREATE TRIGGER zones_generation_start AFTER INSERT ON zones BEGIN
  UPDATE zones SET generation = 1 + max((SELECT value FROM zone_generation_floor),
                                        (SELECT max(generation) FROM zones))
  WHERE id = NEW.id;
END;
CREATE TRIGGER zones_generation_retire AFTER DELETE ON zones BEGIN
  UPDATE zone_generation_floor SET value = max(value, OLD.generation);
END;
)sql" DNS_RECORD_TRIGGERS},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

const char* dropRecordTriggersSql() {
  return "DROP TRIGGER records_generation_insert; DROP TRIGGER records_generation_delete; "
         "DROP TRIGGER records_generation_update;";
}

const char* createRecordTriggersSql() { return DNS_RECORD_TRIGGERS; }

int latestSchemaVersion() { return kMigrations.back().version; }

}  // namespace centrald
