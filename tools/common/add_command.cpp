#include "tools/common/add_command.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <ctime>
#include <ostream>
#include <random>

#include "dnswire/server/address.hpp"
#include "dnswire/tsig.hpp"
#include "dnswire/zonefile.hpp"
#include "tools/common/dns_client.hpp"

namespace dnstools {

using dnswire::Error;
using dnswire::Name;
using dnswire::ResourceRecord;
using dnswire::RRClass;
using dnswire::RRType;
using dnswire::WireError;

namespace {

Error badInput(std::string reason) { return Error(WireError::BadText, std::move(reason)); }

dnswire::Result<Name> absoluteName(const std::string& text, const char* what) {
  // A name given without a trailing dot is taken as absolute: there is no search list.
  auto name = Name::fromText(text);
  if (!name || name->isRoot()) return badInput(std::string("bad ") + what + " '" + text + "'");
  return *name;
}

}  // namespace

dnswire::Result<dnswire::AddRequest> buildAddRequest(const AddCommand& command, uint16_t id) {
  auto name = absoluteName(command.name, "NAME");
  if (!name) return name.error();
  if (command.ttl > dnswire::kMaxTtl)
    return badInput("--ttl " + std::to_string(command.ttl) + ": at most 2147483647");
  dnswire::AddRequest request;
  request.id = id;

  std::vector<ResourceRecord> records;
  bool anyV4 = false;
  for (const auto& ip : command.ips) {
    dnswire::A a;
    dnswire::Aaaa aaaa;
    if (inet_pton(AF_INET, ip.c_str(), a.address.data()) == 1) {
      records.push_back({*name, RRType::A, RRClass::IN, command.ttl, a});
      anyV4 = true;
    } else if (inet_pton(AF_INET6, ip.c_str(), aaaa.address.data()) == 1) {
      records.push_back({*name, RRType::AAAA, RRClass::IN, command.ttl, aaaa});
    } else {
      return badInput("--ip '" + ip + "': not an IPv4 or IPv6 address");
    }
  }
  const size_t count = command.count.value_or(command.ips.empty() ? 1 : 0);
  if (count > kMaxAddCount)
    return badInput("--count " + std::to_string(count) + ": at most " + std::to_string(kMaxAddCount));
  if (count == 0 && command.ips.empty())
    return badInput("nothing to register: give --ip or a --count above 0");
  const RRType placeholderType = command.ipv6 ? RRType::AAAA : RRType::A;
  for (size_t i = 0; i < count; ++i)
    records.push_back(dnswire::makeAddPlaceholder(*name, placeholderType, command.ttl));
  for (const auto& text : command.aliases) {
    auto alias = absoluteName(text, "--alias");
    if (!alias) return alias.error();
    if (*alias == *name) return badInput("--alias '" + text + "' is NAME itself");
    records.push_back({*alias, RRType::CNAME, RRClass::IN, command.ttl, dnswire::Cname{*name}});
  }
  for (const auto& text : command.mx) {
    const auto colon = text.find(':');
    uint16_t preference = 0;
    const char* end = colon == std::string::npos ? nullptr : text.data() + colon;
    if (colon == std::string::npos || colon == 0 || std::from_chars(text.data(), end, preference).ptr != end)
      return badInput("--mx '" + text + "': expected PREF:HOST, PREF 0..65535");
    auto host = absoluteName(text.substr(colon + 1), "--mx host");
    if (!host) return host.error();
    records.push_back({*name, RRType::MX, RRClass::IN, command.ttl, dnswire::Mx{preference, *host}});
  }
  // The question's type says which family NAME is registered for (README).
  const bool v6 = count > 0 ? command.ipv6 : !anyV4;
  request.question = {*name, v6 ? RRType::AAAA : RRType::A, RRClass::IN};
  request.records = std::move(records);
  return request;
}

AddExit runAdd(const AddCommand& command, std::ostream& out, std::ostream& err) {
  auto fail = [&](AddExit code, const std::string& reason) {
    err << "dnsadd: " << reason << "\n";
    return code;
  };
  std::random_device random;
  const auto id = static_cast<uint16_t>(random());
  auto request = buildAddRequest(command, id);
  if (!request) return fail(AddExit::BadInput, request.error().message());
  auto server = dnswire::server::SocketAddress::parse(command.server, 53);
  if (!server) return fail(AddExit::BadInput, "--server: " + server.error().message());
  std::optional<dnswire::TsigKey> key;
  if (!command.key.empty()) {
    auto parsed = dnswire::parseTsigKey(command.key);
    if (!parsed) return fail(AddExit::BadInput, "--key: " + parsed.error().message());
    key = std::move(*parsed);
  }
  if (!(command.timeout > 0) || command.timeout > 3600)
    return fail(AddExit::BadInput, "--timeout: 0 < SECONDS <= 3600");

  auto wire = dnswire::encodeAddRequest(*request);
  if (!wire) return fail(AddExit::BadInput, wire.error().message());
  std::vector<uint8_t> requestMac;
  if (key) {
    dnswire::TsigFields fields;
    fields.timeSigned = static_cast<uint64_t>(std::time(nullptr));
    auto signedWire = dnswire::tsigSign(*wire, *key, fields);
    if (!signedWire) return fail(AddExit::BadInput, "cannot sign: " + signedWire.error().message());
    *wire = std::move(signedWire->wire);
    requestMac = std::move(signedWire->mac);
  }

  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(command.timeout * 1000));
  auto reply = exchange(*server, *wire, command.udp ? Transport::Udp : Transport::Tcp, timeout);
  if (!reply) {
    if (isTimeout(reply.error()))
      return fail(AddExit::Timeout, "no answer from " + server->toString() + " within " +
                                        std::to_string(timeout.count()) + " ms");
    return fail(AddExit::Failure, server->toString() + ": " + reply.error().message());
  }
  auto response = dnswire::decodeAddResponse(*reply);
  if (!response) return fail(AddExit::Failure, "malformed reply: " + response.error().message());
  const uint16_t rcode = response->rcode();

  // RFC 8945 §5.3: a server that knows the key signs its answer; check it with our MAC.
  const dnswire::Tsig* tsig = response->tsig ? std::get_if<dnswire::Tsig>(&response->tsig->data) : nullptr;
  if (tsig != nullptr && tsig->error != 0) {
    const std::string error = std::string("TSIG ") + dnswire::tsigErrorText(tsig->error);
    if (!key)
      return fail(AddExit::BadSignature, "the server requires a TSIG signature (" + error + "): give --key");
    return fail(AddExit::BadSignature, "the server rejected the signature: " + error + " (check --key)");
  }
  if (rcode == static_cast<uint16_t>(dnswire::Rcode::NotAuth))
    return fail(AddExit::BadSignature, key ? "the server rejected the signature (NOTAUTH)"
                                           : "the server requires a TSIG signature (NOTAUTH): give --key");
  // Error answers given before the signature was looked at (REFUSED by address,
  // FORMERR) come unsigned; they change nothing. A success must be signed.
  if (key && (tsig != nullptr || rcode == 0)) {
    if (tsig == nullptr) return fail(AddExit::BadSignature, "the reply is not signed");
    auto check = dnswire::tsigVerify(*reply, *key, std::time(nullptr), requestMac);
    if (!check || !check->present || check->error != dnswire::TsigError::NoError)
      return fail(
          AddExit::BadSignature,
          std::string("the reply's signature does not verify") +
              (check ? std::string(": ") + dnswire::tsigErrorText(static_cast<uint16_t>(check->error)) : ""));
  }

  switch (static_cast<dnswire::Rcode>(rcode)) {
    case dnswire::Rcode::NoError:
      for (const auto& rr : response->records) out << dnswire::recordToZoneLine(rr) << "\n";
      return AddExit::Ok;
    case dnswire::Rcode::YXDomain:
      return fail(AddExit::Exists,
                  request->question.qname.toText() + " or one of its aliases already exists");
    case dnswire::Rcode::Refused:
      return fail(AddExit::Refused,
                  "refused by the server (source not allowed to ADD, or no address pool for it)");
    case dnswire::Rcode::FormErr:
      return fail(AddExit::BadInput, "the server found the request malformed (FORMERR; see its log)");
    case dnswire::Rcode::NotImp:
      return fail(AddExit::Failure, "the server does not implement ADD (NOTIMP)");
    case dnswire::Rcode::ServFail:
      return fail(AddExit::Failure,
                  "server failure (SERVFAIL: database error or address pool exhausted; see its log)");
    default:
      return fail(AddExit::Failure, "unexpected reply code " + std::to_string(rcode));
  }
}

}  // namespace dnstools
