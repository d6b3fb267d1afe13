// centrald: the authoritative server. Parses options, builds the objects and runs them;
// the logic lives in centrald_core.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "centrald/add/add_service.hpp"
#include "centrald/add/add_stage.hpp"
#include "centrald/config.hpp"
#include "centrald/snapshot_holder.hpp"
#include "centrald/stages/centrald_pipeline.hpp"
#include "centrald/store/store.hpp"
#include "centrald/store/zone_files.hpp"
#include "centrald/zone_watcher.hpp"
#include "dnswire/server/log.hpp"
#include "dnswire/server/server.hpp"
#include "tools/common/cli.hpp"

namespace {

namespace server = dnswire::server;

int fail(const std::string& reason) {
  server::logError("{}", reason);
  return 1;
}

// --zones DIR: imports, in one transaction, every zone of DIR/*.zone not yet stored.
dnswire::Result<size_t> importNewZones(centrald::Store& store, const std::string& dir) {
  auto zones = centrald::loadZonePath(dir);
  if (!zones) return zones.error();
  std::vector<dnswire::Zone> fresh;
  for (auto& zone : *zones) {
    auto stored = store.hasZone(zone.origin);
    if (!stored) return stored.error();
    if (!*stored) fresh.push_back(std::move(zone));
  }
  if (!fresh.empty()) {
    auto imported = store.importZones(fresh, false);
    if (!imported) return imported.error();
  }
  return fresh.size();
}

}  // namespace

int main(int argc, char** argv) {
  server::setLogProgram("centrald");
  CLI::App app{"centrald: authoritative DNS server answering from its SQLite database", "centrald"};
  app.set_version_flag("--version", std::string("centrald ") + DNS_VERSION);
  app.set_config("--config", "", "read options from FILE (CLI11 config format, same option names)");

  centrald::RawConfig raw;
  app.add_option("--db", raw.db, "SQLite database, created with its schema if missing")
      ->capture_default_str();
  app.add_option("--zones", raw.zonesDir, "at start, import every DIR/*.zone whose zone is not yet stored");
  app.add_option("--listen", raw.listen, "ADDR:PORT for UDP and TCP, repeatable; IPv6 as [::1]:5300")
      ->default_str(centrald::kDefaultListen);
  app.add_option("--threads", raw.threads, "worker threads (default: number of cores)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  app.add_option("--pool", raw.pool, "CIDR that ADD's generated addresses come from");
  app.add_option("--allow-add", raw.allowAdd, "CIDR allowed to use ADD, repeatable (default: loopback only)");
  app.add_option("--tsig-key", raw.tsigKey, "hmac-sha256:NAME:BASE64SECRET: ADD must carry a valid TSIG");
  app.add_option("--answer-cache-size", raw.answerCacheSize,
                 "questions whose finished responses each worker thread keeps, ~320 bytes each (0: none)")
      ->capture_default_str();
  app.add_flag("--log-queries", raw.logQueries, "log one line per query");

  if (auto exitStatus = dnstools::parseCommandLine(app, argc, argv, "centrald")) return *exitStatus;

  auto config = centrald::validateConfig(raw, std::thread::hardware_concurrency());
  if (!config) {
    std::fprintf(stderr, "centrald: %s\n", config.error().message().c_str());
    return 2;
  }
  server::setLogVerbose(config->logQueries);
  // Before any thread exists, so that every thread inherits the mask and only the
  // server's signalfd sees SIGTERM/SIGINT.
  server::blockTerminationSignals();

  try {
    auto store = centrald::Store::open(config->db);
    if (!store) return fail(fmt::format("cannot open database {}: {}", config->db, store.error().message()));
    if (!config->zonesDir.empty()) {
      auto imported = importNewZones(*store, config->zonesDir);
      if (!imported)
        return fail(
            fmt::format("cannot import zones from {}: {}", config->zonesDir, imported.error().message()));
      if (*imported > 0) server::logInfo("imported {} new zones from {}", *imported, config->zonesDir);
    }

    // The watcher polls through its own connection (a Store is one thread's at a time).
    auto watcherStore = centrald::Store::open(config->db);
    if (!watcherStore)
      return fail(fmt::format("cannot open database {}: {}", config->db, watcherStore.error().message()));
    centrald::SnapshotHolder snapshots(nullptr);
    centrald::ZoneWatcher watcher(snapshots, centrald::ZoneWatcher::fromStore(*watcherStore),
                                  [](const std::string& line) { server::logInfo("{}", line); });
    if (auto loaded = watcher.reload(); !loaded)
      return fail(fmt::format("cannot load zones from {}: {}", config->db, loaded.error().message()));

    // ADD: its own write connection, owned by the ADD writer thread.
    auto addStore = centrald::Store::open(config->db);
    if (!addStore)
      return fail(fmt::format("cannot open database {}: {}", config->db, addStore.error().message()));
    centrald::AddOptions addOptions;
    addOptions.pool = config->pool;
    addOptions.allowAdd = config->allowAdd;
    if (config->tsigKey)
      addOptions.tsigKey =
          dnswire::TsigKey{config->tsigKey->name, dnswire::hmacSha256Name(), config->tsigKey->secret};
    centrald::AddService addService(
        centrald::AddEngine(std::move(*addStore), addOptions, server::SystemClock::instance(),
                            [](const std::string& line) { server::logInfo("{}", line); }),
        centrald::AddService::Publisher{
            [&watcher] { watcher.beginWrites(); },
            [&watcher](const std::vector<centrald::ZoneChange>& changes, bool othersWrote) {
              return watcher.publishChanges(changes, othersWrote);
            }});

    centrald::PipelineDeps deps;
    deps.snapshots = &snapshots;
    deps.answerCacheEntries = config->answerCacheSize;
    deps.addStage = [&addService](const server::WorkerEnv& env) {
      return std::make_unique<centrald::AddStage>(addService, env);
    };
    server::ServerOptions options;
    options.listen = config->listen;
    options.threads = config->threads;
    server::Server dnsServer(
        options, [&deps](const server::WorkerEnv& env) { return centrald::buildPipeline(deps, env); });
    // The writer runs before the first query can arrive (an ADD must never find it absent).
    addService.start();
    if (auto started = dnsServer.start(); !started) return fail(started.error().message());

    // The runtime logs the addresses it listens on; this line says what is served. The
    // snapshot is not kept: held here, the zones as loaded at start would stay in memory
    // for good once the first reload or ADD fold-in replaced them.
    {
      const auto snapshot = snapshots.current();
      server::logInfo("serving {} zones ({} records) from {}", snapshot->zoneCount(), snapshot->recordCount(),
                      config->db);
    }

    watcher.start();
    const int signal = dnsServer.run();
    addService.stop();
    watcher.stop();
    server::logInfo("stopped{}", signal != 0 ? fmt::format(" on signal {}", signal) : std::string());
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
