// dnsadd: registers a domain with centrald through the ADD opcode (README "The ADD
// opcode"). Parses options; the logic is in tools/common/add_command.*.
#include <iostream>
#include <string>

#include "tools/common/add_command.hpp"
#include "tools/common/cli.hpp"

int main(int argc, char** argv) {
  using dnstools::AddExit;
  CLI::App app{
      "Register a domain with centrald (ADD opcode 14), through proxyd by default.\n"
      "Prints each record the server stored, one master-file line each."};
  app.name("dnsadd");
  dnstools::addStandardOptions(app);
  dnstools::AddCommand command;
  app.add_option("NAME", command.name, "the domain name to register")->required();
  app.add_option("--ip", command.ips, "an address of NAME (IPv4 or IPv6), repeatable");
  auto* count =
      app.add_option("--count", "addresses to generate from the server's --pool (default 1 without --ip)")
          ->check(CLI::Range(size_t{0}, dnstools::kMaxAddCount));
  app.add_flag("--ipv6", command.ipv6, "generated addresses are IPv6 (AAAA)");
  app.add_option("--alias", command.aliases, "a name that becomes a CNAME to NAME, repeatable");
  app.add_option("--mx", command.mx, "PREF:HOST, a mail exchange of NAME, repeatable");
  app.add_option("--ttl", command.ttl, "TTL of the created records")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{0}, dnswire::kMaxTtl));
  app.add_option("--server", command.server, "ADDR:PORT of proxyd or centrald")->capture_default_str();
  app.add_option("--key", command.key, "hmac-sha256:NAME:BASE64SECRET: sign with TSIG (RFC 8945)");
  app.add_option("--timeout", command.timeout, "seconds to wait for the answer")->capture_default_str();
  app.add_flag("--udp", command.udp, "send over UDP (TCP when truncated) instead of TCP");
  app.footer(
      "Example:\n"
      "  dnsadd web.example.test --count 2 --alias www.example.test --mx 10:mail.example.test\n"
      "  web.example.test.\t3600\tIN\tA\t10.0.0.1   (one line per stored record)\n\n"
      "Exit status:\n"
      "  0  registered; the stored records are printed\n"
      "  1  server failure (SERVFAIL: database error, pool exhausted), network error\n"
      "  2  bad input: a bad option or value, or the server found the request malformed\n"
      "  3  NAME or an alias already exists (YXDOMAIN); nothing was changed\n"
      "  4  refused (REFUSED: source not in --allow-add, no pool for that family)\n"
      "  5  bad signature: NOTAUTH / TSIG error, or a reply that does not verify\n"
      "  6  timeout: no answer within --timeout");

  if (auto status = dnstools::parseCommandLine(app, argc, argv, "dnsadd"))
    return *status == 0 ? 0 : static_cast<int>(AddExit::BadInput);
  if (count->count() > 0) command.count = count->as<size_t>();
  return static_cast<int>(dnstools::runAdd(command, std::cout, std::cerr));
}
