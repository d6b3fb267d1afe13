#pragma once
// The database schema as a list of forward migrations. The version a file has reached is
// kept in PRAGMA user_version; Store::open applies every later step in order, each in
// one transaction, so a crash mid-migration leaves the file at the previous version.
// Never edit a released step: add a new one. SCHEMA.md documents the result.

#include <span>

namespace centrald {

struct Migration {
  int version;      // user_version after this step
  const char* sql;  // one or more statements
};

// All steps, in ascending version order.
std::span<const Migration> migrations();
// The version the last step reaches.
int latestSchemaVersion();

// The per-row triggers that move a zone's generation (schema 3). A bulk import drops them
// inside its transaction and re-creates them before COMMIT: each imported zone is a new
// row whose generation is fresh at its insert, so its records need not bump it one by
// one (a trigger per row cost more than the import itself on 1M records).
const char* dropRecordTriggersSql();
const char* createRecordTriggersSql();

}  // namespace centrald
