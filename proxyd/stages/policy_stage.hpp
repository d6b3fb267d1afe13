#pragma once
// proxyd's policy, after header gate and decode:
//   - ADD (opcode 14) from a source outside --allow-add: REFUSED; from inside: Continue
//     (the ADD relay stage takes it);
//   - a query from a source outside --allow: REFUSED (not an open resolver);
//   - class other than IN, AXFR/IXFR: REFUSED (centrald::policyRcode; the upstreams are
//     not asked for other classes or zone transfers either).
// RA is set on every refusal.

#include <string_view>

#include "dnswire/server/address.hpp"
#include "dnswire/server/pipeline.hpp"

namespace proxyd {

class PolicyStage final : public dnswire::server::Stage {
 public:
  PolicyStage(const dnswire::server::Acl& allow, const dnswire::server::Acl& allowAdd)
      : allow_(allow), allowAdd_(allowAdd) {}
  dnswire::server::Verdict run(dnswire::server::QueryContext& ctx) override;
  std::string_view name() const override { return "policy"; }

 private:
  const dnswire::server::Acl& allow_;
  const dnswire::server::Acl& allowAdd_;
};

}  // namespace proxyd
