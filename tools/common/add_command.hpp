#pragma once
// dnsadd's logic: builds the ADD request from the command line (README "The ADD
// opcode"), signs it when a key is given (RFC 8945), exchanges it and prints what the
// server stored, one master-file line per record.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "dnswire/add_message.hpp"
#include "dnswire/error.hpp"

namespace dnstools {

// dnsadd's exit statuses (also listed in its --help).
enum class AddExit : int {
  Ok = 0,
  Failure = 1,       // server failure (SERVFAIL), network error, unexpected reply
  BadInput = 2,      // a bad option or value, or the server found the request malformed (FORMERR)
  Exists = 3,        // NAME or an alias already exists (YXDOMAIN)
  Refused = 4,       // the server refused: source not allowed, no pool for that family (REFUSED)
  BadSignature = 5,  // NOTAUTH with a TSIG error, or a reply whose signature does not verify
  Timeout = 6,       // no answer within --timeout
};

struct AddCommand {
  std::string name;
  std::vector<std::string> ips;
  std::optional<size_t> count;  // default: 1 when no --ip, else 0
  std::vector<std::string> aliases;
  std::vector<std::string> mx;  // "PREF:HOST"
  uint32_t ttl = dnswire::kAddDefaultTtl;
  std::string server = "127.0.0.1:5353";
  std::string key;  // hmac-sha256:NAME:BASE64SECRET
  double timeout = 5.0;
  bool udp = false;
  bool ipv6 = false;  // generated addresses are IPv6 (AAAA placeholders)
};

inline constexpr size_t kMaxAddCount = 1024;

// The request for `command` (no TSIG yet). BadText with a one-line reason on bad input:
// a name, address, alias or MX that does not parse, --count over kMaxAddCount, a TTL
// over 2^31-1, nothing to register.
dnswire::Result<dnswire::AddRequest> buildAddRequest(const AddCommand& command, uint16_t id);

// Runs the whole command; prints records on `out`, one-line reasons on `err`
// ("dnsadd: ..."). Returns the exit status.
AddExit runAdd(const AddCommand& command, std::ostream& out, std::ostream& err);

}  // namespace dnstools
