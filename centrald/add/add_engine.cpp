#include "centrald/add/add_engine.hpp"

#include <fmt/format.h>

#include <utility>
#include <variant>

#include "centrald/store/address_pool.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/text.hpp"

namespace centrald {

using dnswire::Name;
using dnswire::Rcode;
using dnswire::ResourceRecord;
using dnswire::RRType;

namespace {

bool isDatabaseFailure(const dnswire::Error& error) {
  // Everything but the expected, per-request outcomes means the database itself failed
  // (read-only file, disk full, I/O error, lock timeout): the batch cannot go on.
  return error.code != make_error_code(StoreError::PoolExhausted) &&
         error.code != make_error_code(StoreError::BadPool);
}

std::string recordsText(const std::vector<ResourceRecord>& records) {
  std::string out;
  for (const auto& rr : records) out += (out.empty() ? "" : ", ") + dnswire::typeToText(rr.type);
  return out;
}

}  // namespace

AddEngine::AddEngine(Store store, AddOptions options, const dnswire::server::Clock& clock, LogFn log)
    : store_(std::move(store)), options_(std::move(options)), clock_(clock), log_(std::move(log)) {
  // Only a memory bound: the default cache works too, so a failure is not worth failing for.
  (void)store_.limitPageCache(kWriterPageCacheKiB);
}

void AddEngine::log(const std::string& line) const {
  if (log_) log_(line);
}

std::vector<uint8_t> AddEngine::sign(std::vector<uint8_t> response,
                                     const std::optional<TsigReply>& tsig) const {
  if (!tsig) return response;
  dnswire::TsigFields fields;
  fields.timeSigned = static_cast<uint64_t>(clock_.wallSeconds());
  auto signedResponse = dnswire::tsigSign(response, tsig->key, fields, tsig->requestMac);
  if (!signedResponse) return response;
  return std::move(signedResponse->wire);
}

std::vector<uint8_t> AddEngine::errorResponse(const dnswire::Header& header,
                                              const dnswire::Question* question, Rcode rcode, bool withEdns,
                                              const std::optional<TsigReply>& tsig) const {
  auto wire = dnswire::encodeAddResponse(header, question, rcode, {}, withEdns);
  if (!wire) return {};
  return sign(std::move(*wire), tsig);
}

std::optional<std::vector<uint8_t>> AddEngine::findReplay(const AddItem& item, int64_t now,
                                                          std::optional<Failure>& failure) {
  // The table holds the answers given before a restart and those of this batch; a new
  // request pays this indexed lookup anyway (UNIQUE(client_key, request_hash)), so a copy
  // in memory would only cost memory.
  auto stored = store_.findAddResponse(item.clientKey, item.digest, now - kReplayWindowSeconds);
  if (!stored) {
    failure = Failure{"replay lookup: " + stored.error().message()};
    return std::nullopt;
  }
  return *stored;
}

std::variant<AddOutcome, AddEngine::Failure> AddEngine::applyOne(const AddItem& item) {
  const int64_t now = clock_.wallSeconds();
  const auto& request = item.request;
  const Name& name = request.question.qname;
  AddOutcome outcome;
  auto finish = [&](Rcode rcode) {
    outcome.rcode = rcode;
    outcome.response = errorResponse(item.requestHeader, &request.question, rcode, item.withEdns, item.tsig);
    return outcome;
  };

  std::optional<Failure> failure;
  if (auto previous = findReplay(item, now, failure)) {
    outcome.response = std::move(*previous);
    outcome.replayed = true;
    outcome.rcode = static_cast<Rcode>(outcome.response.size() >= 4 ? outcome.response[3] & 0xF : 2);
    log(fmt::format("ADD {} from {}: retransmission, first answer sent again", name.toText(), item.client));
    return outcome;
  }
  if (failure) return *failure;

  // SPEC "ADD": a NAME or alias that exists gets YXDOMAIN and nothing changes.
  std::vector<Name> aliases;
  for (const auto& rr : request.records)
    if (rr.type == RRType::CNAME) aliases.push_back(rr.owner);
  std::vector<Name> owners{name};
  owners.insert(owners.end(), aliases.begin(), aliases.end());
  for (const auto& owner : owners) {
    auto exists = store_.nameExists(owner);
    if (!exists) return Failure{exists.error().message()};
    if (*exists) {
      log(fmt::format("ADD {} from {}: YXDOMAIN, {} exists", name.toText(), item.client, owner.toText()));
      return finish(Rcode::YXDomain);
    }
  }

  auto zone = store_.findZone(name);
  if (!zone) return Failure{zone.error().message()};
  const bool newZone = !zone->has_value();
  const Name zoneName = newZone ? name : **zone;
  // Each alias goes into the zone that holds it: NAME's new zone when below NAME.
  std::vector<Name> aliasZones;
  for (const auto& alias : aliases) {
    auto aliasZone = store_.findZone(alias);
    if (!aliasZone) return Failure{aliasZone.error().message()};
    // The longest held zone wins (it may be a zone below a new zone NAME).
    if (aliasZone->has_value()) {
      aliasZones.push_back(**aliasZone);
    } else if (newZone && alias.isSubdomainOf(name)) {
      aliasZones.push_back(name);
    } else {
      log(fmt::format("ADD {} from {}: FORMERR, alias {} is in no zone this server holds", name.toText(),
                      item.client, alias.toText()));
      return finish(Rcode::FormErr);
    }
  }

  // Placeholders: addresses from the pool, of the placeholder's family.
  size_t wantV4 = 0;
  size_t wantV6 = 0;
  for (const auto& rr : request.records) {
    if (!dnswire::isAddPlaceholder(rr)) continue;
    (rr.type == RRType::A ? wantV4 : wantV6) += 1;
  }
  std::vector<dnswire::RData> v4;
  std::vector<dnswire::RData> v6;
  if (wantV4 + wantV6 > 0) {
    const bool poolV4 = options_.pool && options_.pool->isV4();
    const bool poolV6 = options_.pool && !options_.pool->isV4();
    if ((wantV4 > 0 && !poolV4) || (wantV6 > 0 && !poolV6)) {
      log(fmt::format("ADD {} from {}: REFUSED, no --pool for {} addresses", name.toText(), item.client,
                      wantV4 > 0 && !poolV4 ? "IPv4" : "IPv6"));
      return finish(Rcode::Refused);
    }
    auto allocated = store_.allocateAddresses(options_.pool->toString(), wantV4 + wantV6, name);
    if (!allocated) {
      if (isDatabaseFailure(allocated.error())) return Failure{allocated.error().message()};
      log(fmt::format("ADD {} from {}: SERVFAIL, address pool {}: {}", name.toText(), item.client,
                      options_.pool->toString(), allocated.error().message()));
      return finish(Rcode::ServFail);
    }
    (poolV4 ? v4 : v6) = std::move(*allocated);
  }

  // The records as they will be stored: placeholders filled in, class IN.
  std::vector<ResourceRecord> records;
  size_t nextV4 = 0;
  size_t nextV6 = 0;
  for (const auto& rr : request.records) {
    ResourceRecord stored = rr;
    if (dnswire::isAddPlaceholder(rr)) {
      stored.cls = dnswire::RRClass::IN;
      stored.data = rr.type == RRType::A ? v4[nextV4++] : v6[nextV6++];
    }
    records.push_back(std::move(stored));
  }

  std::vector<ResourceRecord> answer;
  // Records grouped by the zone they go into (NAME's zone first).
  std::vector<std::pair<Name, std::vector<ResourceRecord>>> byZone{{zoneName, {}}};
  size_t aliasIndex = 0;
  for (const auto& rr : records) {
    const Name& target = rr.type == RRType::CNAME ? aliasZones[aliasIndex++] : zoneName;
    auto it = byZone.begin();
    while (it != byZone.end() && it->first != target) ++it;
    if (it == byZone.end()) it = byZone.insert(byZone.end(), {target, {}});
    it->second.push_back(rr);
  }
  for (auto& [zoneOrigin, zoneRecords] : byZone) {
    if (newZone && zoneOrigin == name) {
      dnswire::Zone created;
      created.origin = name;
      auto hostmaster = name.prepend("hostmaster");
      dnswire::Soa soa{options_.nameserver,
                       hostmaster ? *hostmaster : name,
                       1,
                       options_.refresh,
                       options_.retry,
                       options_.expire,
                       options_.minimum};
      created.records.push_back({name, RRType::SOA, dnswire::RRClass::IN, options_.soaTtl, soa});
      created.records.push_back(
          {name, RRType::NS, dnswire::RRClass::IN, options_.soaTtl, dnswire::Ns{options_.nameserver}});
      answer.push_back(created.records[0]);
      answer.push_back(created.records[1]);
      created.records.insert(created.records.end(), zoneRecords.begin(), zoneRecords.end());
      auto done = store_.createZone(created);
      if (!done) return Failure{done.error().message()};
      auto version = store_.zoneVersion(name);
      if (!version) return Failure{version.error().message()};
      if (!*version) return Failure{"zone " + name.toText() + " vanished after its creation"};
      ZoneChange change;
      change.origin = name;
      change.zoneId = (*version)->id;
      change.created = true;
      change.added = std::move(created.records);
      change.serial = 1;
      changes_.push_back(std::move(change));
    } else if (!zoneRecords.empty()) {
      auto change = changeOf(zoneOrigin);
      if (auto* failed = std::get_if<Failure>(&change)) return *failed;
      auto done = store_.insertRecords(zoneOrigin, zoneRecords);
      if (!done) return Failure{done.error().message()};
      // RFC 1996 §2 / RFC 1035 §3.3.13: a changed zone gets a higher serial.
      auto bumped = store_.bumpSerial(zoneOrigin);
      if (!bumped) return Failure{bumped.error().message()};
      ZoneChange& record = *std::get<ZoneChange*>(change);
      record.added.insert(record.added.end(), zoneRecords.begin(), zoneRecords.end());
      record.serial = *bumped;
    }
  }
  answer.insert(answer.end(), records.begin(), records.end());

  auto wire = dnswire::encodeAddResponse(item.requestHeader, &request.question, Rcode::NoError, answer,
                                         item.withEdns);
  if (!wire) return Failure{"cannot encode the response: " + wire.error().message()};
  outcome.response = sign(std::move(*wire), item.tsig);
  outcome.rcode = Rcode::NoError;
  outcome.applied = true;
  // Logged by applyBatch once the transaction has committed: only then is it true.
  outcome.logLine = fmt::format("ADD {} from {}: {} records ({}) in {}zone {}", name.toText(), item.client,
                                answer.size(), recordsText(answer), newZone ? "new " : "", zoneName.toText());
  return outcome;
}

std::variant<ZoneChange*, AddEngine::Failure> AddEngine::changeOf(const Name& origin) {
  for (auto& change : changes_)
    if (change.origin == origin) return &change;
  auto version = store_.zoneVersion(origin);
  if (!version) return Failure{version.error().message()};
  if (!*version) return Failure{"zone " + origin.toText() + " is not stored"};
  ZoneChange change;
  change.origin = origin;
  change.zoneId = (*version)->id;
  change.generationBefore = (*version)->generation;
  changes_.push_back(std::move(change));
  return &changes_.back();
}

std::vector<AddOutcome> AddEngine::applyBatch(std::vector<AddItem>& items, bool& committed,
                                              std::vector<ZoneChange>* changes) {
  committed = false;
  changes_.clear();
  if (changes != nullptr) changes->clear();
  std::vector<AddOutcome> outcomes;
  const int64_t now = clock_.wallSeconds();
  auto failAll = [&](const std::string& reason) {
    log(fmt::format("error: ADD batch of {} failed, nothing stored: database: {}", items.size(), reason));
    outcomes.clear();
    for (const auto& item : items) {
      AddOutcome outcome;
      outcome.rcode = Rcode::ServFail;
      outcome.response = errorResponse(item.requestHeader, &item.request.question, Rcode::ServFail,
                                       item.withEdns, item.tsig);
      outcomes.push_back(std::move(outcome));
    }
    return outcomes;
  };

  auto transaction = store_.begin();
  if (!transaction) return failAll(transaction.error().message());
  for (const auto& item : items) {
    auto result = applyOne(item);
    if (auto* failure = std::get_if<Failure>(&result)) return failAll(failure->reason);
    auto& outcome = std::get<AddOutcome>(result);
    if (!outcome.replayed) {
      auto remembered = store_.rememberAddResponse(item.clientKey, item.digest, outcome.response, now);
      if (!remembered) return failAll(remembered.error().message());
    }
    outcomes.push_back(std::move(outcome));
  }
  if (now - lastPrune_ >= kReplayWindowSeconds) {
    auto pruned = store_.pruneAddResponses(now - kReplayWindowSeconds);
    if (!pruned) return failAll(pruned.error().message());
  }
  // The version each zone is left at, read under the write lock: exactly this commit's.
  for (auto& change : changes_) {
    auto version = store_.zoneVersion(change.origin);
    if (!version) return failAll(version.error().message());
    if (!*version) return failAll("zone " + change.origin.toText() + " vanished in the transaction");
    change.generationAfter = (*version)->generation;
  }
  auto done = transaction->commit();
  if (!done) return failAll(done.error().message());
  committed = true;
  for (auto& outcome : outcomes)
    if (!outcome.logLine.empty()) log(std::exchange(outcome.logLine, {}));
  if (changes != nullptr) *changes = std::move(changes_);
  changes_.clear();
  if (now - lastPrune_ >= kReplayWindowSeconds) lastPrune_ = now;
  return outcomes;
}

}  // namespace centrald
