// Test helper for test/system/test_codec_crosscheck.py: drives the codec from stdin so
// that another implementation (dnspython) can check its output.
//
//   wire_roundtrip decode [MAX]  each line: a message in hex. Prints "OK <hex>" with the
//                           message parsed and written again (cut to MAX bytes, default
//                           65535), or "ERR <reason>".
//   wire_roundtrip text     each line: a message in hex. Prints every record (OPT aside) as
//                           toText() does, one per line, then "." after each message.
//   wire_roundtrip encode   blocks of lines, each ended by ".":  "H <id> <flags>",
//                           "Q <name> <class> <type>", "AN|NS|AR <owner> <ttl> <class> <type>
//                           <rdata>". Prints "OK <hex>" with the message written, or "ERR <reason>".
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/text.hpp"

using namespace dnswire;

namespace {

std::string lowerHex(std::span<const uint8_t> bytes) {
  std::string s = toHex(bytes);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int decodeMode(size_t maxSize) {
  std::string line;
  while (std::getline(std::cin, line)) {
    auto bytes = fromHex(line);
    if (!bytes) {
      std::cout << "ERR bad hex\n";
      continue;
    }
    auto message = parseMessage(*bytes);
    if (!message) {
      std::cout << "ERR " << message.error().message() << "\n";
      continue;
    }
    std::cout << "OK " << lowerHex(writeMessage(*message, maxSize)) << "\n";
  }
  return 0;
}

// Each record of each message (answer, authority, additional; OPT left out) as toText()
// prints it, one per line; a line "." ends each message.
int textMode() {
  std::string line;
  while (std::getline(std::cin, line)) {
    auto bytes = fromHex(line);
    if (!bytes) {
      std::cout << "ERR bad hex\n.\n";
      continue;
    }
    auto message = parseMessage(*bytes);
    if (!message) {
      std::cout << "ERR " << message.error().message() << "\n.\n";
      continue;
    }
    for (Section s : {Section::Answer, Section::Authority, Section::Additional})
      for (const auto& rr : message->section(s))
        if (rr.type != RRType::OPT) std::cout << toText(rr) << "\n";
    std::cout << ".\n";
  }
  return 0;
}

Result<ResourceRecord> recordFromText(const std::string& text) {
  auto tokens = tokenize(text);
  if (!tokens) return tokens.error();
  const auto& t = *tokens;
  if (t.size() < 4) return Error(WireError::BadText, "short record line");
  auto owner = Name::fromText(t[0].text);
  if (!owner) return owner.error();
  uint32_t ttl = 0;
  try {
    ttl = static_cast<uint32_t>(std::stoul(std::string(t[1].text)));
  } catch (...) {
    return Error(WireError::BadText, "bad ttl");
  }
  auto cls = classFromText(t[2].text);
  if (!cls) return cls.error();
  auto type = typeFromText(t[3].text);
  if (!type) return type.error();
  auto data = typeInfo(*type).fromText(std::span(t).subspan(4), Name::root());
  if (!data) return data.error();
  return ResourceRecord{*owner, *type, *cls, ttl, std::move(*data)};
}

int encodeMode() {
  std::string line;
  Message m;
  std::string error;
  while (std::getline(std::cin, line)) {
    if (line == ".") {
      if (error.empty())
        std::cout << "OK " << lowerHex(writeMessage(m)) << "\n";
      else
        std::cout << "ERR " << error << "\n";
      m = Message{};
      error.clear();
      continue;
    }
    if (!error.empty()) continue;
    std::istringstream in(line);
    std::string tag;
    in >> tag;
    std::string rest;
    std::getline(in, rest);
    if (tag == "H") {
      unsigned id = 0, flags = 0;
      if (std::sscanf(rest.c_str(), "%u %u", &id, &flags) != 2) error = "bad header line";
      m.header.id = static_cast<uint16_t>(id);
      m.header.setFlags(static_cast<uint16_t>(flags));
    } else if (tag == "Q") {
      std::istringstream q(rest);
      std::string name, cls, type;
      q >> name >> cls >> type;
      auto n = Name::fromText(name);
      auto c = classFromText(cls);
      auto t = typeFromText(type);
      if (!n || !c || !t)
        error = "bad question: " + rest;
      else
        m.questions.push_back({*n, *t, *c});
    } else if (tag == "AN" || tag == "NS" || tag == "AR") {
      auto rr = recordFromText(rest);
      if (!rr) {
        error = rr.error().message() + ": " + rest;
        continue;
      }
      const Section s = tag == "AN"   ? Section::Answer
                        : tag == "NS" ? Section::Authority
                                      : Section::Additional;
      m.section(s).push_back(std::move(*rr));
    } else {
      error = "unknown line: " + line;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "decode") return decodeMode(argc > 2 ? std::stoul(argv[2]) : kMaxMessageSize);
  if (mode == "encode") return encodeMode();
  if (mode == "text") return textMode();
  std::fprintf(stderr, "usage: wire_roundtrip decode [MAX] | text | encode < input\n");
  return 2;
}
