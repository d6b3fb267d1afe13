#include "dnswire/server/log.hpp"

#include <unistd.h>

#include <atomic>
#include <ctime>
#include <mutex>
#include <string>

namespace dnswire::server {
namespace {

std::mutex gLock;
std::string gProgram = "dns";  // guarded by gLock
std::atomic<bool> gVerbose{false};
std::atomic<LogSink> gSink{nullptr};

const char* levelTag(LogLevel level) {
  switch (level) {
    case LogLevel::Error:
      return "error: ";
    case LogLevel::Warning:
      return "warning: ";
    case LogLevel::Info:
    case LogLevel::Query:
      return "";
  }
  return "";
}

}  // namespace

void setLogProgram(std::string_view name) {
  std::lock_guard lock(gLock);
  gProgram.assign(name);
}

void setLogVerbose(bool verbose) { gVerbose.store(verbose, std::memory_order_relaxed); }
bool logVerbose() { return gVerbose.load(std::memory_order_relaxed); }
void setLogSink(LogSink sink) { gSink.store(sink); }

void logLine(LogLevel level, std::string_view message) {
  if (level == LogLevel::Query && !logVerbose()) return;
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.remove_suffix(1);
  try {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char stamp[32];
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    std::lock_guard lock(gLock);
    std::string line;
    line.reserve(n + gProgram.size() + message.size() + 16);
    line.append(stamp, n).append(" ").append(gProgram).append(": ").append(levelTag(level));
    line.append(message).push_back('\n');
    if (LogSink sink = gSink.load()) {
      sink(line);
      return;
    }
    // One write(2) per line keeps lines whole when several processes share stderr.
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t w = ::write(STDERR_FILENO, p, left);
      if (w <= 0) break;
      p += w;
      left -= static_cast<size_t>(w);
    }
  } catch (...) {
    // Logging must never take the server down (allocation failure while formatting).
  }
}

}  // namespace dnswire::server
