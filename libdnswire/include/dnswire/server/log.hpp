#pragma once
// One line per event on stderr: "2026-11-30T01:02:03Z centrald: listening on 127.0.0.1:5300".
// Thread-safe: each line is written with a single write(2), so lines from different
// threads never interleave. Warnings and errors carry "warning: " / "error: " after the
// program name. Per-query lines (LogLevel::Query) appear only when verbose is on.

#include <fmt/format.h>

#include <string_view>
#include <utility>

#include "dnswire/name.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/server/address.hpp"

namespace dnswire::server {

enum class LogLevel { Error, Warning, Info, Query };

// The program name put on every line ("centrald"). Call once at startup, before threads.
void setLogProgram(std::string_view name);
// Turns per-query logging on or off (atomic; may be changed at any time).
void setLogVerbose(bool verbose);
bool logVerbose();

// Writes one line (a trailing newline in `message` is not needed and is stripped).
// Level Query is dropped unless verbose. Never throws; a failed write is ignored.
void logLine(LogLevel level, std::string_view message);

// Formatting front ends. For LogLevel::Query use logQuery(): it checks verbosity before
// formatting. Its arguments are still evaluated on every call, so pass the objects
// themselves (a Name, a SocketAddress, an RRType: formatters below), never strings made
// from them, and the query path pays nothing when verbose is off.
template <class... Args>
void logError(fmt::format_string<Args...> format, Args&&... args) {
  logLine(LogLevel::Error, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void logWarning(fmt::format_string<Args...> format, Args&&... args) {
  logLine(LogLevel::Warning, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void logInfo(fmt::format_string<Args...> format, Args&&... args) {
  logLine(LogLevel::Info, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void logQuery(fmt::format_string<Args...> format, Args&&... args) {
  if (logVerbose()) logLine(LogLevel::Query, fmt::format(format, std::forward<Args>(args)...));
}

// Redirects lines to `sink` instead of stderr (tests capture them). nullptr restores
// stderr. The sink is called under the logger's lock with the full line, newline included.
using LogSink = void (*)(std::string_view line);
void setLogSink(LogSink sink);

}  // namespace dnswire::server

// Text forms of the types query lines show, built only when a line is written.
template <>
struct fmt::formatter<dnswire::Name> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const dnswire::Name& name, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(name.toText(), ctx);
  }
};
template <>
struct fmt::formatter<dnswire::server::SocketAddress> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const dnswire::server::SocketAddress& address, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(address.toString(), ctx);
  }
};
template <>
struct fmt::formatter<dnswire::RRType> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(dnswire::RRType type, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(dnswire::typeToText(type), ctx);
  }
};
