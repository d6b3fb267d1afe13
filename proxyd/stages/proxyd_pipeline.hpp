#pragma once
// The order of proxyd's query stages, per worker:
//   header gate (QUERY and ADD pass) -> decode -> policy -> ADD relay -> [local records]
//   -> cache -> resolve (centrald / upstreams; stores into the cache).
// Gate and decode are wrapped so that their answers carry RA=1 too.

#include "centrald/snapshot_holder.hpp"
#include "dnswire/server/address.hpp"
#include "dnswire/server/pipeline.hpp"
#include "proxyd/resolver.hpp"

namespace proxyd {

struct PipelineDeps {
  SharedState shared;
  const dnswire::server::Acl* allow = nullptr;
  const dnswire::server::Acl* allowAdd = nullptr;
  dnswire::server::SocketAddress central;           // where ADD is relayed
  const centrald::SnapshotHolder* local = nullptr;  // --db, optional
};

dnswire::server::Pipeline buildPipeline(const PipelineDeps& deps, const dnswire::server::WorkerEnv& env);

}  // namespace proxyd
