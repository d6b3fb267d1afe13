#pragma once
// Error codes of centrald's SQLite store, with their own std::error_category so that
// callers can tell "zone exists" from "pool exhausted" from a database failure.

#include <system_error>

namespace centrald {

enum class StoreError {
  Ok = 0,
  Sqlite,         // SQLite failed (detail has its message)
  Busy,           // another connection held the lock past busy_timeout
  SchemaTooNew,   // the file was written by a newer program
  SchemaTooOld,   // read-only open of a file whose schema needs migrating
  ZoneExists,     // import without replace, or createZone, of a zone already stored
  NoSuchZone,     // the zone named is not stored
  OutsideZone,    // a record not at or below its zone's origin
  BadPool,        // a pool CIDR that does not parse
  PoolExhausted,  // no unallocated address left in the pool
  BadData,        // a stored row that does not decode
  ReadOnly,       // a write through a read-only store
};

const std::error_category& storeCategory() noexcept;
std::error_code make_error_code(StoreError e) noexcept;

}  // namespace centrald

template <>
struct std::is_error_code_enum<centrald::StoreError> : std::true_type {};
