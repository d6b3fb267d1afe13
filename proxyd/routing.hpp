#pragma once
// Which names go to centrald and which to the upstream resolvers, learnt from centrald's
// own replies, so that a miss costs one centrald query at most once per name:
//   - a name never seen is asked of centrald first (centrald answers its zones and
//     REFUSES everything else, SPEC "Answers");
//   - an authoritative reply teaches that centrald holds the zone: the SOA owner in the
//     authority section is the zone apex (remembered without expiry: every name below
//     goes to centrald); an AA reply without SOA teaches the name itself;
//   - REFUSED teaches "not centrald's" for that exact name for kNegativeLifetime: it says
//     no ancestor of the name is a centrald zone, but a zone could still exist below it,
//     so it is not applied to other names. Such names go straight to the upstreams;
//   - a relayed ADD that succeeded teaches its name and clears all negative knowledge
//     (the ADD may have created a zone that covers names refused earlier);
//   - REFUSED for a name thought to be centrald's (a zone deleted) forgets the apex.
// Shared by every worker; reads take a shared lock.

#include <chrono>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include "dnswire/name.hpp"
#include "dnswire/server/clock.hpp"

namespace proxyd {

inline constexpr std::chrono::seconds kNegativeLifetime{45};

enum class Route { Central, NotCentral, Unknown };

class ZoneRouting {
 public:
  explicit ZoneRouting(const dnswire::server::Clock& clock,
                       std::chrono::seconds negativeLifetime = kNegativeLifetime)
      : clock_(clock), negativeLifetime_(negativeLifetime) {}

  Route classify(const dnswire::Name& qname) const;
  // True when `name` is at or below a learnt centrald zone apex or is a learnt name.
  bool isCentral(const dnswire::Name& name) const;

  void learnCentralZone(const dnswire::Name& apex);
  void learnCentralName(const dnswire::Name& name);
  void learnNotCentral(const dnswire::Name& name);
  // Forgets apexes and names at or above `name` (centrald refused it).
  void forgetCentral(const dnswire::Name& name);
  void forgetNegative();

  size_t zoneCount() const;

 private:
  bool isCentralLocked(const dnswire::Name& name) const;

  const dnswire::server::Clock& clock_;
  std::chrono::seconds negativeLifetime_;
  mutable std::shared_mutex mutex_;
  std::unordered_set<dnswire::Name, dnswire::NameHash> zones_;
  std::unordered_set<dnswire::Name, dnswire::NameHash> names_;
  std::unordered_map<dnswire::Name, dnswire::server::Clock::TimePoint, dnswire::NameHash> notCentral_;
};

}  // namespace proxyd
