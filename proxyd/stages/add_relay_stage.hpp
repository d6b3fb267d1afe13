#pragma once
// Relays ADD (opcode 14) to centrald byte for byte, over the transport the client used,
// and returns centrald's reply unchanged: a TSIG signature (RFC 8945) then stays valid
// end to end between dnsadd and centrald. c-ares is not used here: it rewrites the
// message ID, which the TSIG MAC covers.
// The policy stage has already refused sources outside --allow-add. Other opcodes pass.
//
// After a successful ADD (NOERROR), every cache entry for the question name and for the
// owners of the answer records (the created records) is dropped, negative ones included,
// and routing learns the name as centrald's and forgets its negative knowledge (the ADD
// may have created a zone). No reply before the client's patience runs out: SERVFAIL.

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dnswire/server/address.hpp"
#include "dnswire/server/event_loop.hpp"
#include "dnswire/server/pipeline.hpp"
#include "proxyd/cache.hpp"
#include "proxyd/routing.hpp"

namespace proxyd {

class AddRelayStage final : public dnswire::server::Stage {
 public:
  AddRelayStage(const dnswire::server::WorkerEnv& env, dnswire::server::SocketAddress central, Cache& cache,
                ZoneRouting& routing);
  ~AddRelayStage() override;
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override;
  std::string_view name() const override { return "add-relay"; }

 private:
  struct Relay {
    dnswire::server::SuspendToken token;
    int fd = -1;
    bool tcp = false;
    uint16_t id = 0;
    std::vector<uint8_t> out;  // what is left to send (TCP: with its length prefix)
    size_t sent = 0;
    std::vector<uint8_t> in;  // TCP: bytes read so far
    dnswire::server::EventLoop::TimerId timer = dnswire::server::EventLoop::kNoTimer;
  };

  void onReady(uint64_t relayId, dnswire::server::Readiness ready);
  // Ends the relay: answers with `reply` when given (and it fits), else SERVFAIL.
  void finish(uint64_t relayId, const std::vector<uint8_t>* reply);
  void forgetNames(const std::vector<uint8_t>& reply);

  dnswire::server::EventLoop& loop_;
  dnswire::server::SocketAddress central_;
  Cache& cache_;
  ZoneRouting& routing_;
  uint64_t nextRelay_ = 1;
  std::unordered_map<uint64_t, Relay> relays_;
};

}  // namespace proxyd
