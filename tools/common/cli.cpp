#include "tools/common/cli.hpp"

#include <iostream>

#ifndef DNS_VERSION
#define DNS_VERSION "unknown"
#endif

namespace dnstools {

void addStandardOptions(CLI::App& app) {
  app.set_version_flag("--version", std::string(DNS_VERSION));
  app.set_config("--config", "", "Read options from this file (CLI11 config, same option names)");
}

std::optional<int> parseCommandLine(CLI::App& app, int argc, char** argv, const std::string& program) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string reason = e.what();
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    for (char& c : reason) {
      if (c == '\n') c = ' ';
    }
    std::cerr << program << ": " << reason << " (try --help)\n";
    return e.get_exit_code() != 0 ? e.get_exit_code() : 2;
  }
  return std::nullopt;
}

}  // namespace dnstools
