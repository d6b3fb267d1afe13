// centrald's stages wired as main.cpp wires them, driven with raw requests through a
// QueryContext (no sockets).

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "centrald/snapshot_holder.hpp"
#include "centrald/stages/centrald_pipeline.hpp"
#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/server/error_response.hpp"
#include "dnswire/zonefile.hpp"

using namespace dnswire;
using dnswire::server::QueryContext;
using dnswire::server::Transport;
using dnswire::server::Verdict;

namespace {

std::shared_ptr<const centrald::ZoneSnapshot> snapshot() {
  std::string text = "$ORIGIN p.test.\n$TTL 60\n@ IN SOA ns admin 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
  for (int i = 1; i <= 40; ++i) text += "many A 10.2.0." + std::to_string(i) + "\n";
  auto zone = parseZoneText(text, "p.zone");
  REQUIRE(zone.ok());
  return centrald::ZoneSnapshot::build({*zone});
}

std::vector<uint8_t> request(const char* name, RRType type, Opcode opcode = Opcode::Query,
                             RRClass cls = RRClass::IN, int ednsVersion = -1) {
  Message m;
  m.header.id = 77;
  m.header.opcode = opcode;
  m.questions.push_back({*Name::fromText(name), type, cls});
  if (ednsVersion >= 0) {
    Edns e;
    e.version = static_cast<uint8_t>(ednsVersion);
    m.additional.push_back(e.toRecord());
  }
  return writeMessage(m);
}

struct Run {
  Verdict verdict;
  Message response;
};

Run run(const dnswire::server::Pipeline& pipeline, const std::vector<uint8_t>& wire,
        Transport transport = Transport::Udp) {
  QueryContext ctx;
  ctx.request = wire;
  ctx.transport = transport;
  ctx.maxResponseSize = transport == Transport::Udp ? 512 : QueryContext::kResponseCapacity;
  Run r;
  r.verdict = pipeline.run(ctx);
  if (r.verdict == Verdict::Respond) {
    REQUIRE(ctx.responseSize <= ctx.maxResponseSize);
    auto parsed = parseMessage(ctx.response());
    REQUIRE(parsed.ok());
    r.response = *parsed;
  }
  return r;
}

// Stands in for the ADD engineer's stage: answers ADD with YXDOMAIN, passes the rest.
class FakeAddStage final : public dnswire::server::Stage {
 public:
  explicit FakeAddStage(int* calls) : calls_(calls) {}
  Verdict run(QueryContext& ctx) override {
    if (ctx.query.header.opcode != Opcode::Add) return Verdict::Continue;
    ++*calls_;
    return dnswire::server::respondWithError(ctx, Rcode::YXDomain);
  }

 private:
  int* calls_;
};

}  // namespace

TEST_CASE("pipeline answers queries from the published snapshot", "[unit]") {
  centrald::SnapshotHolder holder(snapshot());
  centrald::PipelineDeps deps;
  deps.snapshots = &holder;
  auto pipeline = centrald::buildPipeline(deps, {});

  auto ok = run(pipeline, request("ns.p.test.", RRType::A));
  REQUIRE(ok.verdict == Verdict::Respond);
  CHECK(ok.response.header.id == 77);
  CHECK(ok.response.header.aa);
  CHECK(ok.response.answers.size() == 1);

  auto refused = run(pipeline, request("ns.p.test.", RRType::A, Opcode::Query, RRClass::CH));
  CHECK(refused.response.rcode() == static_cast<uint16_t>(Rcode::Refused));

  auto notify = run(pipeline, request("p.test.", RRType::SOA, Opcode::Notify));
  CHECK(notify.response.rcode() == static_cast<uint16_t>(Rcode::NotImp));

  auto badvers = run(pipeline, request("ns.p.test.", RRType::A, Opcode::Query, RRClass::IN, 1));
  CHECK(badvers.response.rcode() == static_cast<uint16_t>(Rcode::BadVers));

  auto big = run(pipeline, request("many.p.test.", RRType::A));
  CHECK(big.response.header.tc);
  auto bigTcp = run(pipeline, request("many.p.test.", RRType::A), Transport::Tcp);
  CHECK_FALSE(bigTcp.response.header.tc);
  CHECK(bigTcp.response.answers.size() == 40);

  // A response (QR=1) is dropped by the gate.
  auto response = request("ns.p.test.", RRType::A);
  response[2] |= 0x80;
  CHECK(run(pipeline, response).verdict == Verdict::Drop);
}

TEST_CASE("a new snapshot is served by an existing pipeline", "[unit]") {
  centrald::SnapshotHolder holder(nullptr);
  centrald::PipelineDeps deps;
  deps.snapshots = &holder;
  auto pipeline = centrald::buildPipeline(deps, {});
  CHECK(run(pipeline, request("ns.p.test.", RRType::A)).response.rcode() ==
        static_cast<uint16_t>(Rcode::Refused));
  holder.publish(snapshot());
  CHECK(run(pipeline, request("ns.p.test.", RRType::A)).response.answers.size() == 1);
}

TEST_CASE("opcode ADD: NOTIMP without the hook, the ADD stage with it", "[unit]") {
  centrald::SnapshotHolder holder(snapshot());
  centrald::PipelineDeps deps;
  deps.snapshots = &holder;
  auto plain = centrald::buildPipeline(deps, {});
  auto add = request("new.p.test.", RRType::A, Opcode::Add);
  CHECK(run(plain, add).response.rcode() == static_cast<uint16_t>(Rcode::NotImp));

  int calls = 0;
  deps.addStage = [&calls](const dnswire::server::WorkerEnv&) {
    return std::make_unique<FakeAddStage>(&calls);
  };
  auto hooked = centrald::buildPipeline(deps, {});
  CHECK(run(hooked, add).response.rcode() == static_cast<uint16_t>(Rcode::YXDomain));
  CHECK(calls == 1);
  CHECK(run(hooked, request("ns.p.test.", RRType::A)).response.answers.size() == 1);
  CHECK(calls == 1);
}
