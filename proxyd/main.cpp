// proxyd: the caching proxy resolver. Parses options, builds the objects and runs them;
// the logic lives in proxyd_core.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dnswire/server/log.hpp"
#include "dnswire/server/server.hpp"
#include "proxyd/cache.hpp"
#include "proxyd/config.hpp"
#include "proxyd/flight_table.hpp"
#include "proxyd/local_records.hpp"
#include "proxyd/routing.hpp"
#include "proxyd/stages/proxyd_pipeline.hpp"
#include "tools/common/cli.hpp"

namespace {

namespace server = dnswire::server;

int fail(const std::string& reason) {
  server::logError("{}", reason);
  return 1;
}

std::string joined(const std::vector<server::SocketAddress>& addresses) {
  std::string out;
  for (const auto& address : addresses) out += (out.empty() ? "" : ", ") + address.toString();
  return out.empty() ? "none" : out;
}

}  // namespace

int main(int argc, char** argv) {
  server::setLogProgram("proxyd");
  CLI::App app{"proxyd: caching DNS proxy resolver in front of centrald and upstream resolvers", "proxyd"};
  app.set_version_flag("--version", std::string("proxyd ") + DNS_VERSION);
  app.set_config("--config", "", "read options from FILE (CLI11 config format, same option names)");

  proxyd::RawConfig raw;
  app.add_option("--listen", raw.listen, "ADDR:PORT for UDP and TCP, repeatable; IPv6 as [::1]:5353")
      ->default_str(proxyd::kDefaultListen);
  app.add_option("--central", raw.central, "centrald's ADDR:PORT")->capture_default_str();
  app.add_option(
      "--upstream", raw.upstreams,
      "recursive resolver ADDR:PORT, repeatable; with none, names outside centrald's zones get REFUSED");
  app.add_option("--db", raw.db,
                 "the proxy's own records (centrald's schema), answered before anything else");
  app.add_option("--cache-size", raw.cacheSize, "most cache entries kept (least recently used go first)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}));
  app.add_option("--threads", raw.threads, "worker threads (default: number of cores)")
      ->check(CLI::Range(size_t{1}, proxyd::kMaxThreads));
  app.add_option("--allow", raw.allow, "CIDR allowed to query, repeatable (default: loopback only)");
  app.add_option("--allow-add", raw.allowAdd,
                 "CIDR whose ADD is relayed to centrald, repeatable (default: loopback)");
  app.add_flag("--log-queries", raw.logQueries, "log one line per query");

  if (auto exitStatus = dnstools::parseCommandLine(app, argc, argv, "proxyd")) return *exitStatus;

  auto config = proxyd::validateConfig(raw, std::thread::hardware_concurrency());
  if (!config) {
    std::fprintf(stderr, "proxyd: %s\n", config.error().message().c_str());
    return 2;
  }
  server::setLogVerbose(config->logQueries);
  // Before any thread exists, so that only the server's signalfd sees SIGTERM/SIGINT.
  server::blockTerminationSignals();

  try {
    std::unique_ptr<proxyd::LocalRecords> local;
    if (!config->db.empty()) {
      auto opened = proxyd::LocalRecords::open(config->db);
      if (!opened)
        return fail(fmt::format("cannot open database {}: {}", config->db, opened.error().message()));
      local = std::move(*opened);
    }
    const auto& clock = server::SystemClock::instance();
    proxyd::Cache cache(config->cacheSize, clock);
    proxyd::ZoneRouting routing(clock);
    proxyd::FlightTable flights;

    proxyd::PipelineDeps deps;
    deps.shared.cache = &cache;
    deps.shared.routing = &routing;
    deps.shared.flights = &flights;
    deps.shared.central.servers = {config->central};
    deps.shared.upstreams.servers = config->upstreams;
    deps.allow = &config->allow;
    deps.allowAdd = &config->allowAdd;
    deps.central = config->central;
    deps.local = local ? &local->snapshots() : nullptr;

    server::ServerOptions options;
    options.listen = config->listen;
    options.threads = config->threads;
    server::Server dnsServer(
        options, [&deps](const server::WorkerEnv& env) { return proxyd::buildPipeline(deps, env); });
    if (auto started = dnsServer.start(); !started) return fail(started.error().message());

    server::logInfo("resolving through centrald {} and upstreams {}; cache {} entries{}",
                    config->central.toString(), joined(config->upstreams), config->cacheSize,
                    config->db.empty() ? std::string() : fmt::format("; local records from {}", config->db));
    if (local) local->start();
    const int signal = dnsServer.run();
    if (local) local->stop();
    server::logInfo("stopped{}", signal != 0 ? fmt::format(" on signal {}", signal) : std::string());
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
