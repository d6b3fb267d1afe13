// Byte-exact vectors (test/vectors/*.hex, written from dnspython by generate.py): each
// record row must encode from its text to exactly its bytes, decode from its bytes to the
// same record and print back as its text; each message row likewise as a whole; each
// malformed row must fail with its WireError.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/text.hpp"

using namespace dnswire;

namespace {

struct Row {
  std::string file;
  int line = 0;
  std::string kind;  // record, message, malformed
  std::string text;  // what follows "kind:"
  std::string prints;
  std::vector<std::pair<std::string, std::string>> fields;  // message lines: header, question, answer...
  std::vector<uint8_t> wire;
};

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<Row> loadRows(const std::string& only = {}) {
  std::vector<Row> rows;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(DNS_TEST_VECTORS_DIR))
    if (entry.path().extension() == ".hex") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    int number = 0;
    Row* current = nullptr;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty() || line[0] == '#') continue;
      const auto colon = line.find(':');
      const std::string key = colon == std::string::npos ? "" : line.substr(0, colon);
      if (key == "record" || key == "message" || key == "malformed") {
        rows.push_back(Row{path.filename().string(), number, key, trim(line.substr(colon + 1)), "", {}, {}});
        current = &rows.back();
        continue;
      }
      REQUIRE(current != nullptr);
      if (key == "prints") {
        current->prints = trim(line.substr(colon + 1));
        continue;
      }
      if (key == "header" || key == "question" || key == "answer" || key == "authority" ||
          key == "additional") {
        current->fields.emplace_back(key, trim(line.substr(colon + 1)));
        continue;
      }
      const std::string hex = line.substr(0, line.find(';'));
      std::string digits;
      for (char c : hex)
        if (c != ' ' && c != '\t') digits.push_back(c);
      auto bytes = fromHex(digits);
      INFO(path.string() << ":" << number);
      REQUIRE(bytes.ok());
      current->wire.insert(current->wire.end(), bytes->begin(), bytes->end());
    }
  }
  if (!only.empty()) std::erase_if(rows, [&](const Row& r) { return r.kind != only; });
  return rows;
}

// "owner ttl class type rdata..." as the zone loader would read it (absolute names).
ResourceRecord parseRecordText(const std::string& text) {
  std::istringstream in(text);
  std::string owner, ttl, cls, type;
  in >> owner >> ttl >> cls >> type;
  std::string rest;
  std::getline(in, rest);
  auto name = Name::fromText(owner);
  REQUIRE(name.ok());
  auto rrtype = typeFromText(type);
  REQUIRE(rrtype.ok());
  auto rrclass = classFromText(cls);
  REQUIRE(rrclass.ok());
  auto tokens = tokenize(rest);
  REQUIRE(tokens.ok());
  auto data = typeInfo(*rrtype).fromText(*tokens, Name::root());
  INFO((data.ok() ? std::string() : data.error().message()));
  REQUIRE(data.ok());
  return ResourceRecord{*name, *rrtype, *rrclass, static_cast<uint32_t>(std::stoul(ttl)), *data};
}

// toText() with the four field-separating tabs turned into spaces, as the files write it.
std::string printed(const ResourceRecord& rr) {
  std::string s = toText(rr);
  int tabs = 0;
  for (auto& c : s)
    if (c == '\t' && tabs < 4) {
      c = ' ';
      ++tabs;
    }
  return s;
}

// The record as the only one of a message: in the answer section, or for OPT (which may
// only be there, RFC 6891 §6.1.1) in the additional section.
std::vector<uint8_t> withHeader(const std::vector<uint8_t>& record, bool additional) {
  std::vector<uint8_t> m = {0, 0, 0, 0,
                            0, 0, 0, additional ? uint8_t{0} : uint8_t{1},
                            0, 0, 0, additional ? uint8_t{1} : uint8_t{0}};
  m.insert(m.end(), record.begin(), record.end());
  return m;
}

WireError errorNamed(const std::string& name) {
  static const std::map<std::string, WireError> kNames = {
      {"Truncated", WireError::Truncated},
      {"ShortHeader", WireError::ShortHeader},
      {"LabelTooLong", WireError::LabelTooLong},
      {"NameTooLong", WireError::NameTooLong},
      {"BadLabelType", WireError::BadLabelType},
      {"PointerForward", WireError::PointerForward},
      {"PointerLoop", WireError::PointerLoop},
      {"RdataLength", WireError::RdataLength},
      {"TrailingBytes", WireError::TrailingBytes},
      {"BadQuestionCount", WireError::BadQuestionCount},
      {"BadOpt", WireError::BadOpt},
      {"BadRdata", WireError::BadRdata},
  };
  auto it = kNames.find(name);
  REQUIRE(it != kNames.end());
  return it->second;
}

}  // namespace

TEST_CASE("record vectors: text <-> exact wire bytes", "[vector]") {
  const auto rows = loadRows("record");
  REQUIRE(rows.size() >= 30);
  for (const auto& row : rows) {
    INFO(row.file << ":" << row.line << " " << row.text);
    const ResourceRecord rr = parseRecordText(row.text);
    // OPT and TSIG belong in the additional section (RFC 6891 §6.1.1, RFC 8945 §5.1).
    const bool additional = rr.type == RRType::OPT || rr.type == RRType::TSIG;
    const Section section = additional ? Section::Additional : Section::Answer;

    // text -> wire, written right after a header as a server would.
    std::vector<uint8_t> buffer(kMaxMessageSize);
    MessageWriter writer(buffer, buffer.size());
    REQUIRE(writer.setHeader(Header{}));
    REQUIRE(writer.add(section, rr));
    const auto out = writer.finish();
    const std::vector<uint8_t> body(out.begin() + kHeaderSize, out.end());
    CHECK(toHex(body) == toHex(row.wire));

    // wire -> record -> text.
    auto parsed = parseMessage(withHeader(row.wire, additional));
    REQUIRE(parsed.ok());
    REQUIRE(parsed->section(section).size() == 1);
    CHECK(parsed->section(section)[0] == rr);
    CHECK(printed(parsed->section(section)[0]) == (row.prints.empty() ? row.text : row.prints));
    // No question: parseQuery checks the records, then refuses the count.
    CHECK(parseQuery(withHeader(row.wire, additional)).error().is(WireError::BadQuestionCount));
  }
}

TEST_CASE("message vectors: fields <-> exact wire bytes", "[vector]") {
  const auto rows = loadRows("message");
  REQUIRE(rows.size() >= 5);
  for (const auto& row : rows) {
    INFO(row.file << ":" << row.line << " " << row.text);
    Message m;
    for (const auto& [key, value] : row.fields) {
      if (key == "header") {
        unsigned id = 0, flags = 0;
        REQUIRE(std::sscanf(value.c_str(), "id=%u flags=0x%x", &id, &flags) == 2);
        m.header.id = static_cast<uint16_t>(id);
        m.header.setFlags(static_cast<uint16_t>(flags));
      } else if (key == "question") {
        std::istringstream in(value);
        std::string name, cls, type;
        in >> name >> cls >> type;
        m.questions.push_back({*Name::fromText(name), *typeFromText(type), *classFromText(cls)});
      } else {
        const Section s = key == "answer"      ? Section::Answer
                          : key == "authority" ? Section::Authority
                                               : Section::Additional;
        m.section(s).push_back(parseRecordText(value));
      }
    }
    m.header.qdcount = static_cast<uint16_t>(m.questions.size());
    m.header.ancount = static_cast<uint16_t>(m.answers.size());
    m.header.nscount = static_cast<uint16_t>(m.authority.size());
    m.header.arcount = static_cast<uint16_t>(m.additional.size());

    CHECK(toHex(writeMessage(m)) == toHex(row.wire));
    auto parsed = parseMessage(row.wire);
    REQUIRE(parsed.ok());
    CHECK(*parsed == m);
    if (!m.header.qr) {
      auto view = parseQuery(row.wire);
      REQUIRE(view.ok());
      CHECK(view->qname == m.questions[0].qname);
      CHECK(view->hasEdns == m.edns().has_value());
    }
  }
}

TEST_CASE("malformed vectors fail with their error", "[vector]") {
  const auto rows = loadRows("malformed");
  REQUIRE(rows.size() >= 20);
  for (const auto& row : rows) {
    INFO(row.file << ":" << row.line << " " << row.text);
    std::istringstream in(row.text);
    std::string error, which;
    in >> error >> which;
    const WireError expected = errorNamed(error);
    auto view = parseQuery(row.wire);
    REQUIRE_FALSE(view.ok());
    CHECK(describe(static_cast<WireError>(view.error().code.value())) == std::string(describe(expected)));
    auto message = parseMessage(row.wire);
    if (which == "both") {
      REQUIRE_FALSE(message.ok());
      CHECK(describe(static_cast<WireError>(message.error().code.value())) ==
            std::string(describe(expected)));
    } else {
      CHECK(message.ok());
    }
  }
}
