#pragma once
// Command-line handling shared by the tools: --help, --version, --config and one-line
// errors ("PROGRAM: reason") with a non-zero exit, as the command-line contract asks.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace dnstools {

// Adds --version (DNS_VERSION) and --config FILE (a CLI11 config file with the same
// option names) to `app`.
void addStandardOptions(CLI::App& app);

// Parses the command line. Nothing when the program should go on; otherwise the exit
// status to return now: 0 after printing --help or --version, non-zero after printing a
// one-line error on stderr.
std::optional<int> parseCommandLine(CLI::App& app, int argc, char** argv, const std::string& program);

}  // namespace dnstools
