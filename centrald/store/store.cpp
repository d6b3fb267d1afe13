#include "centrald/store/store.hpp"

#include <sqlite3.h>

#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "centrald/store/address_pool.hpp"
#include "centrald/store/schema.hpp"
#include "dnswire/rr_table.hpp"

namespace centrald {

using dnswire::Error;
using dnswire::Name;
using dnswire::RData;
using dnswire::ResourceRecord;
using dnswire::Result;
using dnswire::RRType;
using dnswire::Zone;

namespace {

Error sqliteError(sqlite3* db, int rc, std::string_view what) {
  int primary = rc & 0xff;
  StoreError code = StoreError::Sqlite;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) code = StoreError::Busy;
  if (primary == SQLITE_READONLY) code = StoreError::ReadOnly;
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error(code, std::string(what) + ": " + message);
}

// A prepared statement, finalized on destruction.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  static Result<Statement> prepare(sqlite3* db, const char* sql) {
    Statement s;
    s.db_ = db;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s.stmt_, nullptr);
    if (rc != SQLITE_OK) return sqliteError(db, rc, "prepare");
    return s;
  }

  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bindBlob(int i, std::span<const uint8_t> v) {
    // A zero-length blob must still be a blob, not NULL (NOT NULL columns).
    static const uint8_t kEmpty = 0;
    sqlite3_bind_blob(stmt_, i, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }

  // True when a row is ready, false when done.
  Result<bool> step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqliteError(db_, rc, "query");
  }
  Result<void> run() {
    auto r = step();
    if (!r) return r.error();
    return {};
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
                        : std::string();
  }
  // Valid until the next step() or reset().
  std::string_view textView(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p != nullptr ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
                        : std::string_view();
  }
  std::span<const uint8_t> blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    if (p == nullptr || n <= 0) return {};
    return {static_cast<const uint8_t*>(p), static_cast<size_t>(n)};
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// The key text of a name: absolute and lowercase ("example.test.").
std::string keyOf(const Name& name) { return name.lowercased().toText(); }

Result<ResourceRecord> decodeRow(std::string_view owner, int64_t type, int64_t cls, int64_t ttl,
                                 std::span<const uint8_t> rdata) {
  auto bad = [&](const std::string& why) {
    return Error(StoreError::BadData,
                 "stored record " + std::string(owner) + " type " + std::to_string(type) + ": " + why);
  };
  if (type < 0 || type > 65535 || cls < 0 || cls > 65535 || ttl < 0 || ttl > 0xffffffffLL)
    return bad("field out of range");
  auto name = Name::fromText(owner);
  if (!name) return bad("bad owner: " + name.error().message());
  auto rrType = static_cast<RRType>(type);
  auto data = dnswire::rdataFromWire(rrType, rdata);
  if (!data) return bad("bad RDATA: " + data.error().message());
  return ResourceRecord{*name, rrType, static_cast<dnswire::RRClass>(cls), static_cast<uint32_t>(ttl),
                        std::move(*data)};
}

}  // namespace

struct StoreImpl {
  sqlite3* db = nullptr;
  bool readOnly = false;
  int schemaVersion = 0;
  uint64_t ownCommits = 0;
  int savepoints = 0;

  ~StoreImpl() { sqlite3_close_v2(db); }

  Result<void> exec(const char* sql, std::string_view what) {
    char* message = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return {};
    Error e = sqliteError(db, rc, what);
    if (message != nullptr) {
      e.detail = std::string(what) + ": " + message;
      sqlite3_free(message);
    }
    return e;
  }

  Result<Statement> prepare(const char* sql) { return Statement::prepare(db, sql); }

  Result<int64_t> queryInt(const char* sql, std::string_view what) {
    auto st = prepare(sql);
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return Error(StoreError::Sqlite, std::string(what) + ": no row");
    return st->int64(0);
  }

  bool inTransaction() const { return sqlite3_get_autocommit(db) == 0; }

  Result<std::optional<int64_t>> zoneId(const Name& origin) {
    auto st = prepare("SELECT id FROM zones WHERE name = ?1");
    if (!st) return st.error();
    st->bind(1, keyOf(origin));
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<int64_t>();
    return std::optional<int64_t>(st->int64(0));
  }

  Result<void> insertRecords(int64_t zoneId, const Name& origin, std::span<const ResourceRecord> records) {
    auto st = prepare(
        "INSERT INTO records(zone_id, owner, owner_key, type, class, ttl, rdata, rdata_text) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st) return st.error();
    for (const auto& rr : records) {
      if (!rr.owner.isSubdomainOf(origin)) {
        return Error(StoreError::OutsideZone, rr.owner.toText() + " is outside the zone " + origin.toText());
      }
      auto wire = dnswire::rdataToWire(rr.type, rr.data);
      if (!wire) return Error(StoreError::BadData, rr.owner.toText() + ": " + wire.error().message());
      st->reset();
      st->bind(1, zoneId);
      st->bind(2, rr.owner.toText());
      st->bind(3, keyOf(rr.owner));
      st->bind(4, static_cast<int64_t>(rr.type));
      st->bind(5, static_cast<int64_t>(rr.cls));
      st->bind(6, static_cast<int64_t>(rr.ttl));
      st->bindBlob(7, *wire);
      st->bind(8, dnswire::typeInfo(rr.type).toText(rr.data));
      auto done = st->run();
      if (!done) return done;
    }
    return {};
  }

  Result<void> insertZone(const Zone& zone) {
    if (zone.records.empty() || zone.records[0].type != RRType::SOA || zone.records[0].owner != zone.origin) {
      return Error(StoreError::BadData,
                   "zone " + zone.origin.toText() + ": the first record must be its SOA");
    }
    for (size_t i = 1; i < zone.records.size(); ++i) {
      if (zone.records[i].type == RRType::SOA) {
        return Error(StoreError::BadData, "zone " + zone.origin.toText() + " has a second SOA");
      }
    }
    auto st = prepare("INSERT INTO zones(name) VALUES (?1)");
    if (!st) return st.error();
    st->bind(1, keyOf(zone.origin));
    auto done = st->run();
    if (!done) return done;
    return insertRecords(sqlite3_last_insert_rowid(db), zone.origin, zone.records);
  }

  Result<Zone> readZone(int64_t id, const Name& origin) {
    auto st = prepare("SELECT owner, type, class, ttl, rdata FROM records WHERE zone_id = ?1 ORDER BY id");
    if (!st) return st.error();
    st->bind(1, id);
    Zone zone;
    zone.origin = origin;
    for (;;) {
      auto row = st->step();
      if (!row) return row.error();
      if (!*row) break;
      auto rr = decodeRow(st->text(0), st->int64(1), st->int64(2), st->int64(3), st->blob(4));
      if (!rr) return rr.error();
      zone.records.push_back(std::move(*rr));
    }
    if (!zone.records.empty() && zone.records[0].type == RRType::SOA) zone.origin = zone.records[0].owner;
    return zone;
  }
};

namespace {

// A unit of writing: BEGIN IMMEDIATE when no transaction is open, else a SAVEPOINT inside
// the caller's Transaction, so that every Store write is atomic alone and composes.
class WriteScope {
 public:
  static Result<WriteScope> begin(StoreImpl& impl) {
    if (impl.readOnly) return Error(StoreError::ReadOnly, "the database was opened read-only");
    WriteScope scope(impl);
    if (impl.inTransaction()) {
      auto done = impl.exec("SAVEPOINT store_write", "savepoint");
      if (!done) return done.error();
      scope.nested_ = true;
      ++impl.savepoints;
    } else {
      auto done = impl.exec("BEGIN IMMEDIATE", "begin");
      if (!done) return done.error();
    }
    scope.active_ = true;
    return scope;
  }

  WriteScope(WriteScope&& other) noexcept
      : impl_(other.impl_), nested_(other.nested_), active_(std::exchange(other.active_, false)) {}
  WriteScope& operator=(WriteScope&&) = delete;
  ~WriteScope() {
    if (!active_) return;
    if (nested_) {
      (void)impl_->exec("ROLLBACK TO store_write; RELEASE store_write", "rollback");
      --impl_->savepoints;
    } else if (impl_->inTransaction()) {
      (void)impl_->exec("ROLLBACK", "rollback");
    }
  }

  Result<void> commit() {
    if (nested_) {
      auto done = impl_->exec("RELEASE store_write", "release");
      if (!done) return done;
      --impl_->savepoints;
      active_ = false;
      return {};
    }
    auto done = impl_->exec("COMMIT", "commit");
    if (!done) return done;  // still active: the destructor rolls back
    active_ = false;
    ++impl_->ownCommits;
    return {};
  }

 private:
  explicit WriteScope(StoreImpl& impl) : impl_(&impl) {}
  StoreImpl* impl_;
  bool nested_ = false;
  bool active_ = false;
};

// A consistent read: one deferred transaction unless one is already open.
class ReadScope {
 public:
  explicit ReadScope(StoreImpl& impl) : impl_(impl) {}
  Result<void> begin() {
    if (impl_.inTransaction()) return {};
    auto done = impl_.exec("BEGIN", "begin");
    if (done) owned_ = true;
    return done;
  }
  ~ReadScope() {
    if (owned_) (void)impl_.exec("COMMIT", "end read");
  }

 private:
  StoreImpl& impl_;
  bool owned_ = false;
};

}  // namespace

// --- Transaction ---

Transaction::Transaction(Transaction&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}

Transaction::~Transaction() { rollback(); }

Result<void> Transaction::commit() {
  if (impl_ == nullptr) return Error(StoreError::Sqlite, "commit: no transaction open");
  StoreImpl* impl = std::exchange(impl_, nullptr);
  auto done = impl->exec("COMMIT", "commit");
  if (!done) {
    if (impl->inTransaction()) (void)impl->exec("ROLLBACK", "rollback");
    return done;
  }
  ++impl->ownCommits;
  return {};
}

void Transaction::rollback() {
  StoreImpl* impl = std::exchange(impl_, nullptr);
  if (impl != nullptr && impl->inTransaction()) (void)impl->exec("ROLLBACK", "rollback");
}

// --- Store ---

Store::Store(std::unique_ptr<StoreImpl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

Result<Store> Store::open(const std::string& path, StoreOptions options) {
  auto impl = std::make_unique<StoreImpl>();
  impl->readOnly = options.readOnly;
  int flags = options.readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqliteError(impl->db, rc, "cannot open " + path);
    return e;
  }
  sqlite3_extended_result_codes(impl->db, 1);
  sqlite3_busy_timeout(impl->db, options.busyTimeoutMs);

  auto version = impl->queryInt("PRAGMA user_version", "read schema version");
  if (!version) return Error(version.error().code, path + ": " + version.error().message());
  int latest = latestSchemaVersion();
  if (*version > latest) {
    return Error(StoreError::SchemaTooNew, path + ": schema version " + std::to_string(*version) +
                                               " is newer than this program's " + std::to_string(latest));
  }

  if (!options.readOnly) {
    // WAL: readers (centrald's watcher, proxyd --db) never block the writer nor it them.
    auto done = impl->exec("PRAGMA journal_mode=WAL", "enable WAL");
    if (!done) return Error(done.error().code, path + ": " + done.error().message());
  }
  // Durability: synchronous=FULL syncs the WAL on every commit. NORMAL would survive a
  // killed process but could lose the last commits on power loss, and an ADD is
  // acknowledged only after its commit: the promise should hold either way. Writes are
  // rare (ADD, imports) and answers come from memory, so one fsync per commit is cheap.
  auto pragmas = impl->exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL", "set pragmas");
  if (!pragmas) return Error(pragmas.error().code, path + ": " + pragmas.error().message());

  if (options.readOnly) {
    if (*version < latest) {
      return Error(StoreError::SchemaTooOld, path + ": schema version " + std::to_string(*version) +
                                                 ", expected " + std::to_string(latest) +
                                                 " (open it once with dnszone or centrald)");
    }
    impl->schemaVersion = static_cast<int>(*version);
    return Store(std::move(impl));
  }

  // Forward migrations, one transaction each; re-read the version under the write lock
  // in case another process migrated meanwhile.
  for (const Migration& step : migrations()) {
    if (step.version <= *version) continue;
    auto begun = impl->exec("BEGIN IMMEDIATE", "begin migration");
    if (!begun) return Error(begun.error().code, path + ": " + begun.error().message());
    auto now = impl->queryInt("PRAGMA user_version", "read schema version");
    if (!now) {
      (void)impl->exec("ROLLBACK", "rollback");
      return Error(now.error().code, path + ": " + now.error().message());
    }
    if (*now >= step.version) {
      (void)impl->exec("COMMIT", "commit");
      version = *now;
      continue;
    }
    auto applied = impl->exec(step.sql, "migrate to version " + std::to_string(step.version));
    std::string setVersion = "PRAGMA user_version = " + std::to_string(step.version);
    if (applied) applied = impl->exec(setVersion.c_str(), "set schema version");
    if (applied) applied = impl->exec("COMMIT", "commit migration");
    if (!applied) {
      if (impl->inTransaction()) (void)impl->exec("ROLLBACK", "rollback");
      return Error(applied.error().code, path + ": " + applied.error().message());
    }
    version = step.version;
  }
  impl->schemaVersion = static_cast<int>(*version);
  return Store(std::move(impl));
}

int Store::schemaVersion() const { return impl_->schemaVersion; }

Result<uint64_t> Store::dataVersion() {
  auto v = impl_->queryInt("PRAGMA data_version", "data_version");
  if (!v) return v.error();
  return static_cast<uint64_t>(*v) + impl_->ownCommits;
}

Result<void> Store::limitPageCache(size_t kib) {
  const std::string pragma = "PRAGMA cache_size = -" + std::to_string(kib);
  return impl_->exec(pragma.c_str(), "set cache_size");
}

size_t Store::pageCacheBytes() const {
  int current = 0;
  int highwater = 0;
  if (sqlite3_db_status(impl_->db, SQLITE_DBSTATUS_CACHE_USED, &current, &highwater, 0) != SQLITE_OK)
    return 0;
  return static_cast<size_t>(current);
}

Result<std::vector<Zone>> Store::loadZones() {
  ReadScope scope(*impl_);
  auto begun = scope.begin();
  if (!begun) return begun.error();

  auto zonesSt = impl_->prepare("SELECT id, name FROM zones ORDER BY id");
  if (!zonesSt) return zonesSt.error();
  std::vector<Zone> zones;
  std::unordered_map<int64_t, size_t> index;
  for (;;) {
    auto row = zonesSt->step();
    if (!row) return row.error();
    if (!*row) break;
    auto name = Name::fromText(zonesSt->text(1));
    if (!name)
      return Error(StoreError::BadData, "stored zone name '" + zonesSt->text(1) + "' does not parse");
    index[zonesSt->int64(0)] = zones.size();
    zones.push_back(Zone{*name, {}});
  }

  auto st =
      impl_->prepare("SELECT zone_id, owner, type, class, ttl, rdata FROM records ORDER BY zone_id, id");
  if (!st) return st.error();
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    auto it = index.find(st->int64(0));
    if (it == index.end()) continue;  // cannot happen with foreign keys on
    auto rr = decodeRow(st->text(1), st->int64(2), st->int64(3), st->int64(4), st->blob(5));
    if (!rr) return rr.error();
    zones[it->second].records.push_back(std::move(*rr));
  }
  for (auto& zone : zones) {
    if (!zone.records.empty() && zone.records[0].type == RRType::SOA) zone.origin = zone.records[0].owner;
  }
  return zones;
}

Result<void> Store::visitRecords(const RecordVisitor& visit) {
  ReadScope scope(*impl_);
  auto begun = scope.begin();
  if (!begun) return begun.error();

  auto zonesSt = impl_->prepare("SELECT id, name FROM zones");
  if (!zonesSt) return zonesSt.error();
  std::unordered_map<int64_t, std::string> names;
  for (;;) {
    auto row = zonesSt->step();
    if (!row) return row.error();
    if (!*row) break;
    names.emplace(zonesSt->int64(0), zonesSt->text(1));
  }
  // Rowid order: a plain table scan, no index walk and no sort.
  auto st = impl_->prepare("SELECT zone_id, owner, type, class, ttl, rdata FROM records ORDER BY id");
  if (!st) return st.error();
  StoredRecord record;
  int64_t zoneId = -1;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    if (st->int64(0) != zoneId) {
      zoneId = st->int64(0);
      auto it = names.find(zoneId);
      if (it == names.end()) continue;  // cannot happen with foreign keys on
      record.zoneId = zoneId;
      record.zoneName = it->second;
    }
    record.owner = st->textView(1);
    record.type = st->int64(2);
    record.cls = st->int64(3);
    record.ttl = st->int64(4);
    record.rdata = st->blob(5);
    auto done = visit(record);
    if (!done) return done;
  }
  return {};
}

Result<void> Store::visitZoneRecords(const Name& origin, const RecordVisitor& visit) {
  ReadScope scope(*impl_);
  auto begun = scope.begin();
  if (!begun) return begun.error();
  auto id = impl_->zoneId(origin);
  if (!id) return id.error();
  if (!*id) return Error(StoreError::NoSuchZone, "no zone " + origin.toText());
  auto st =
      impl_->prepare("SELECT owner, type, class, ttl, rdata FROM records WHERE zone_id = ?1 ORDER BY id");
  if (!st) return st.error();
  st->bind(1, **id);
  const std::string name = keyOf(origin);
  StoredRecord record;
  record.zoneId = **id;
  record.zoneName = name;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    record.owner = st->textView(0);
    record.type = st->int64(1);
    record.cls = st->int64(2);
    record.ttl = st->int64(3);
    record.rdata = st->blob(4);
    auto done = visit(record);
    if (!done) return done;
  }
  return {};
}

Result<void> Store::importZones(std::span<const Zone> zones, bool replace) {
  std::unordered_set<std::string> given;
  for (const auto& zone : zones) {
    if (!given.insert(keyOf(zone.origin)).second) {
      return Error(StoreError::ZoneExists, "zone " + zone.origin.toText() + " is given twice");
    }
  }
  auto scope = WriteScope::begin(*impl_);
  if (!scope) return scope.error();
  // Each zone is inserted anew (a replaced one too), with a fresh generation: the per-row
  // triggers are not needed meanwhile. Schema changes are transactional: no other
  // connection ever sees them gone.
  auto dropped = impl_->exec(dropRecordTriggersSql(), "drop record triggers");
  if (!dropped) return dropped;
  for (const auto& zone : zones) {
    auto id = impl_->zoneId(zone.origin);
    if (!id) return id.error();
    if (*id) {
      if (!replace) {
        return Error(StoreError::ZoneExists,
                     "zone " + zone.origin.toText() + " already exists (use --replace)");
      }
      auto del = impl_->prepare("DELETE FROM zones WHERE id = ?1");  // records go by ON DELETE CASCADE
      if (!del) return del.error();
      del->bind(1, **id);
      auto done = del->run();
      if (!done) return done;
    }
    auto done = impl_->insertZone(zone);
    if (!done) return done;
  }
  auto created = impl_->exec(createRecordTriggersSql(), "re-create record triggers");
  if (!created) return created;
  return scope->commit();
}

Result<std::vector<ZoneSummary>> Store::listZones() {
  ReadScope scope(*impl_);
  auto begun = scope.begin();
  if (!begun) return begun.error();
  auto st = impl_->prepare(
      "SELECT z.name, (SELECT count(*) FROM records r WHERE r.zone_id = z.id), "
      "(SELECT rdata FROM records r WHERE r.zone_id = z.id AND r.type = 6 ORDER BY r.id LIMIT 1) "
      "FROM zones z ORDER BY z.name");
  if (!st) return st.error();
  std::vector<ZoneSummary> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    auto name = Name::fromText(st->text(0));
    if (!name) return Error(StoreError::BadData, "stored zone name '" + st->text(0) + "' does not parse");
    ZoneSummary summary{*name, static_cast<uint64_t>(st->int64(1)), 0};
    if (!st->isNull(2)) {
      auto soa = dnswire::rdataFromWire(RRType::SOA, st->blob(2));
      if (soa && std::holds_alternative<dnswire::Soa>(*soa))
        summary.serial = std::get<dnswire::Soa>(*soa).serial;
    }
    out.push_back(summary);
  }
  return out;
}

Result<Zone> Store::exportZone(const Name& origin) {
  ReadScope scope(*impl_);
  auto begun = scope.begin();
  if (!begun) return begun.error();
  auto id = impl_->zoneId(origin);
  if (!id) return id.error();
  if (!*id) return Error(StoreError::NoSuchZone, "no zone " + origin.toText());
  return impl_->readZone(**id, origin);
}

Result<bool> Store::hasZone(const Name& origin) {
  auto id = impl_->zoneId(origin);
  if (!id) return id.error();
  return id->has_value();
}

Result<bool> Store::nameExists(const Name& owner) {
  auto st = impl_->prepare("SELECT 1 FROM records WHERE owner_key = ?1 LIMIT 1");
  if (!st) return st.error();
  st->bind(1, keyOf(owner));
  auto row = st->step();
  if (!row) return row.error();
  return *row;
}

Result<std::optional<Name>> Store::findZone(const Name& name) {
  Name candidate = name;
  for (;;) {
    auto found = hasZone(candidate);
    if (!found) return found.error();
    if (*found) return std::optional<Name>(candidate);
    if (candidate.isRoot() || candidate.empty()) return std::optional<Name>();
    candidate = candidate.parent();
  }
}

Result<Transaction> Store::begin() {
  if (impl_->readOnly) return Error(StoreError::ReadOnly, "the database was opened read-only");
  if (impl_->inTransaction()) return Error(StoreError::Sqlite, "begin: a transaction is already open");
  auto done = impl_->exec("BEGIN IMMEDIATE", "begin");
  if (!done) return done.error();
  return Transaction(impl_.get());
}

Result<std::vector<RData>> Store::allocateAddresses(std::string_view poolCidr, size_t count,
                                                    const Name& owner) {
  auto pool = AddressPool::parse(poolCidr);
  if (!pool) return pool.error();
  std::vector<RData> out;
  if (count == 0) return out;
  auto scope = WriteScope::begin(*impl_);
  if (!scope) return scope.error();

  // Hand out upwards from the highest address ever allocated in the pool; only when the
  // top is reached look for gaps below (addresses skipped because a record used them).
  auto maxSt = impl_->prepare(
      "SELECT max(address_bin) FROM address_allocations "
      "WHERE length(address_bin) = ?1 AND address_bin BETWEEN ?2 AND ?3");
  if (!maxSt) return maxSt.error();
  maxSt->bind(1, static_cast<int64_t>(pool->width()));
  maxSt->bindBlob(2, pool->first());
  maxSt->bindBlob(3, pool->last());
  auto row = maxSt->step();
  if (!row) return row.error();
  std::vector<uint8_t> candidate = pool->first();
  bool pastTop = false;
  if (*row && !maxSt->isNull(0)) {
    auto top = maxSt->blob(0);
    candidate.assign(top.begin(), top.end());
    pastTop = !AddressPool::increment(candidate) || !pool->contains(candidate);
  }
  const std::vector<uint8_t> start = candidate;
  bool wrapped = false;

  auto allocatedSt = impl_->prepare("SELECT 1 FROM address_allocations WHERE address_bin = ?1");
  auto usedSt = impl_->prepare("SELECT 1 FROM records WHERE type IN (1, 28) AND rdata = ?1 LIMIT 1");
  auto insertSt = impl_->prepare(
      "INSERT INTO address_allocations(pool, address, address_bin, name) VALUES (?1, ?2, ?3, ?4)");
  if (!allocatedSt) return allocatedSt.error();
  if (!usedSt) return usedSt.error();
  if (!insertSt) return insertSt.error();
  std::string ownerText = owner.toText();

  while (out.size() < count) {
    if (pastTop || !pool->contains(candidate)) {
      if (wrapped) break;
      wrapped = true;
      pastTop = false;
      candidate = pool->first();
    }
    if (wrapped && candidate >= start) break;
    bool taken = false;
    for (Statement* check : {&*allocatedSt, &*usedSt}) {
      check->reset();
      check->bindBlob(1, candidate);
      auto hit = check->step();
      if (!hit) return hit.error();
      taken = taken || *hit;
    }
    if (!taken) {
      insertSt->reset();
      insertSt->bind(1, pool->text());
      insertSt->bind(2, AddressPool::addressText(candidate));
      insertSt->bindBlob(3, candidate);
      insertSt->bind(4, ownerText);
      auto done = insertSt->run();
      if (!done) return done.error();
      if (pool->isV6()) {
        dnswire::Aaaa a;
        std::copy(candidate.begin(), candidate.end(), a.address.begin());
        out.emplace_back(a);
      } else {
        dnswire::A a;
        std::copy(candidate.begin(), candidate.end(), a.address.begin());
        out.emplace_back(a);
      }
    }
    if (!AddressPool::increment(candidate)) pastTop = true;
  }
  if (out.size() < count) {
    return Error(StoreError::PoolExhausted, "pool " + pool->text() + " has fewer than " +
                                                std::to_string(count) + " unallocated addresses left");
  }
  auto committed = scope->commit();
  if (!committed) return committed.error();
  return out;
}

Result<void> Store::insertRecords(const Name& zone, std::span<const ResourceRecord> records) {
  for (const auto& rr : records) {
    if (rr.type == RRType::SOA)
      return Error(StoreError::BadData, "zone " + zone.toText() + " already has its SOA");
  }
  auto scope = WriteScope::begin(*impl_);
  if (!scope) return scope.error();
  auto id = impl_->zoneId(zone);
  if (!id) return id.error();
  if (!*id) return Error(StoreError::NoSuchZone, "no zone " + zone.toText());
  auto done = impl_->insertRecords(**id, zone, records);
  if (!done) return done;
  return scope->commit();
}

Result<void> Store::createZone(const Zone& zone) {
  auto scope = WriteScope::begin(*impl_);
  if (!scope) return scope.error();
  auto id = impl_->zoneId(zone.origin);
  if (!id) return id.error();
  if (*id) return Error(StoreError::ZoneExists, "zone " + zone.origin.toText() + " already exists");
  auto done = impl_->insertZone(zone);
  if (!done) return done;
  return scope->commit();
}

Result<uint32_t> Store::bumpSerial(const Name& zone) {
  auto scope = WriteScope::begin(*impl_);
  if (!scope) return scope.error();
  auto id = impl_->zoneId(zone);
  if (!id) return id.error();
  if (!*id) return Error(StoreError::NoSuchZone, "no zone " + zone.toText());
  auto st =
      impl_->prepare("SELECT id, rdata FROM records WHERE zone_id = ?1 AND type = 6 ORDER BY id LIMIT 1");
  if (!st) return st.error();
  st->bind(1, **id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return Error(StoreError::BadData, "zone " + zone.toText() + " has no SOA");
  int64_t recordId = st->int64(0);
  auto data = dnswire::rdataFromWire(RRType::SOA, st->blob(1));
  if (!data || !std::holds_alternative<dnswire::Soa>(*data)) {
    return Error(StoreError::BadData, "zone " + zone.toText() + ": stored SOA does not decode");
  }
  auto& soa = std::get<dnswire::Soa>(*data);
  soa.serial += 1;  // RFC 1982 §3.1: serial arithmetic wraps modulo 2^32
  auto wire = dnswire::rdataToWire(RRType::SOA, *data);
  if (!wire) return wire.error();
  auto update = impl_->prepare("UPDATE records SET rdata = ?1, rdata_text = ?2 WHERE id = ?3");
  if (!update) return update.error();
  update->bindBlob(1, *wire);
  update->bind(2, dnswire::typeInfo(RRType::SOA).toText(*data));
  update->bind(3, recordId);
  auto done = update->run();
  if (!done) return done.error();
  auto committed = scope->commit();
  if (!committed) return committed.error();
  return soa.serial;
}

Result<void> Store::rememberAddResponse(std::string_view clientKey, std::span<const uint8_t> requestHash,
                                        std::span<const uint8_t> response, int64_t now) {
  auto scope = WriteScope::begin(*impl_);
  if (!scope) return scope.error();
  auto st = impl_->prepare(
      "INSERT OR REPLACE INTO add_requests(client_key, request_hash, response, created) VALUES (?1, ?2, ?3, "
      "?4)");
  if (!st) return st.error();
  st->bind(1, clientKey);
  st->bindBlob(2, requestHash);
  st->bindBlob(3, response);
  st->bind(4, now);
  auto done = st->run();
  if (!done) return done;
  return scope->commit();
}

Result<std::optional<std::vector<uint8_t>>> Store::findAddResponse(std::string_view clientKey,
                                                                   std::span<const uint8_t> requestHash,
                                                                   int64_t notBefore) {
  auto st = impl_->prepare(
      "SELECT response FROM add_requests WHERE client_key = ?1 AND request_hash = ?2 AND created >= ?3");
  if (!st) return st.error();
  st->bind(1, clientKey);
  st->bindBlob(2, requestHash);
  st->bind(3, notBefore);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::vector<uint8_t>>();
  auto blob = st->blob(0);
  return std::optional<std::vector<uint8_t>>(std::vector<uint8_t>(blob.begin(), blob.end()));
}

Result<void> Store::pruneAddResponses(int64_t before) {
  auto scope = WriteScope::begin(*impl_);
  if (!scope) return scope.error();
  auto st = impl_->prepare("DELETE FROM add_requests WHERE created < ?1");
  if (!st) return st.error();
  st->bind(1, before);
  auto done = st->run();
  if (!done) return done;
  return scope->commit();
}

// --- Zone versions (schema 3) ---

Result<std::vector<ZoneVersion>> Store::zoneVersions() {
  auto st = impl_->prepare("SELECT name, id, generation FROM zones");
  if (!st) return st.error();
  std::vector<ZoneVersion> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    auto name = Name::fromText(st->text(0));
    if (!name) return Error(StoreError::BadData, "stored zone name '" + st->text(0) + "' does not parse");
    out.push_back(ZoneVersion{std::move(*name), st->int64(1), static_cast<uint64_t>(st->int64(2))});
  }
  return out;
}

Result<uint64_t> Store::externalDataVersion() {
  auto v = impl_->queryInt("PRAGMA data_version", "data_version");
  if (!v) return v.error();
  return static_cast<uint64_t>(*v);
}

Result<std::optional<ZoneVersion>> Store::zoneVersion(const Name& origin) {
  auto st = impl_->prepare("SELECT id, generation FROM zones WHERE name = ?1");
  if (!st) return st.error();
  st->bind(1, keyOf(origin));
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<ZoneVersion>();
  return std::optional<ZoneVersion>(ZoneVersion{origin, st->int64(0), static_cast<uint64_t>(st->int64(1))});
}

}  // namespace centrald
