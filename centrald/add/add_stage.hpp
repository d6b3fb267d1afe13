#pragma once
// centrald's ADD stage (opcode 14), after header gate and decode, before policy (see
// centrald_pipeline.hpp). Every other opcode passes on (Continue). For ADD, in order:
//   1. source outside --allow-add: REFUSED (SPEC "ADD");
//   2. TSIG (RFC 8945 §5.2): with --tsig-key, a request without a signature gets NOTAUTH
//      with an unsigned TSIG naming our key, error BADSIG; a wrong key or algorithm
//      NOTAUTH/BADKEY, a wrong MAC NOTAUTH/BADSIG, a truncated MAC NOTAUTH/BADTRUNC (all
//      unsigned, §5.3.2); a stale time NOTAUTH/BADTIME, signed, with our time as other
//      data (§5.2.3). Without --tsig-key, a signed request gets NOTAUTH/BADKEY (§5.2.1).
//      A TSIG record that does not parse: FORMERR. Nothing changes in any of these cases;
//   3. a request that breaks the ADD layout (dnswire/add_message.hpp): FORMERR;
//   4. otherwise the request goes to the AddService's writer and the query is suspended
//      until the answer comes back after COMMIT.
// Answers to a correctly signed request are signed (§5.3).

#include <string_view>

#include "centrald/add/add_service.hpp"
#include "dnswire/server/pipeline.hpp"

namespace centrald {

class AddStage final : public dnswire::server::Stage {
 public:
  AddStage(AddService& service, const dnswire::server::WorkerEnv& env);
  ~AddStage() override;

  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override;
  std::string_view name() const override { return "add"; }

 private:
  dnswire::server::Verdict respond(dnswire::server::QueryContext& ctx, std::vector<uint8_t> bytes);

  AddService& service_;
  dnswire::server::EventLoop* loop_;
  const dnswire::server::Clock* clock_;
};

}  // namespace centrald
