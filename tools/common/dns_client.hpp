#pragma once
// One DNS exchange from a tool: send a message to a server and wait for the reply with
// the same ID, over UDP (retrying once, TCP when the reply is truncated) or TCP (RFC 1035
// §4.2.2 framing). Loopback or any numeric address; no name resolution.

#include <chrono>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "dnswire/error.hpp"
#include "dnswire/server/address.hpp"

namespace dnstools {

enum class Transport { Udp, Tcp };

// The reply's bytes. Errors: std::errc::timed_out when nothing came back in `timeout`
// (all tries together), std::errc::connection_refused / other errno values for the
// network, WireError::ShortHeader for a reply too short to be DNS.
dnswire::Result<std::vector<uint8_t>> exchange(const dnswire::server::SocketAddress& server,
                                               std::span<const uint8_t> request, Transport transport,
                                               std::chrono::milliseconds timeout);

bool isTimeout(const dnswire::Error& error);

}  // namespace dnstools
