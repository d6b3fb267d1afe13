#include "dnswire/add_message.hpp"

#include <catch2/catch.hpp>
#include <functional>

#include "dnswire/packet_view.hpp"
#include "dnswire/text.hpp"
#include "dnswire/tsig.hpp"

using namespace dnswire;

namespace {

Name nameOf(std::string_view text) {
  auto n = Name::fromText(text);
  REQUIRE(n.ok());
  return *n;
}

std::vector<uint8_t> hex(std::string_view text) {
  std::string compact;
  for (char c : text)
    if (c != ' ') compact += c;
  auto bytes = fromHex(compact);
  REQUIRE(bytes.ok());
  return *bytes;
}

AddRequest sampleRequest() {
  AddRequest r;
  r.id = 0xbeef;
  r.question = {nameOf("new.example."), RRType::A, RRClass::IN};
  r.records.push_back(makeAddPlaceholder(nameOf("new.example."), RRType::A, 300));
  r.records.push_back({nameOf("new.example."), RRType::A, RRClass::IN, 300, A{{192, 0, 2, 7}}});
  r.records.push_back(
      {nameOf("alias.example."), RRType::CNAME, RRClass::IN, 3600, Cname{nameOf("new.example.")}});
  r.records.push_back({nameOf("new.example."), RRType::MX, RRClass::IN, 3600, Mx{10, nameOf("mx.example.")}});
  return r;
}

// The request above, byte by byte (README "The ADD opcode").
const char* kSampleRequest =
    "beef 7000 0001 0000 0004 0000"                   // ID, opcode 14, QD=1 AN=0 NS=4 AR=0
    "036e6577 076578616d706c65 00 0001 0001"          // new.example. A IN
    "c00c 0001 00fe 0000012c 0000"                    // placeholder: A NONE 300, RDLENGTH 0
    "c00c 0001 0001 0000012c 0004 c0000207"           // A IN 300 192.0.2.7
    "05616c696173 c010 0005 0001 00000e10 0002 c00c"  // alias.example. CNAME new.example.
    "c00c 000f 0001 00000e10 0007 000a 026d78 c010";  // MX 10 mx.example.

Result<AddRequest> decodeWith(const AddRequest& request) {
  auto wire = encodeAddRequest(request);
  REQUIRE(wire.ok());
  return decodeAddRequest(*wire);
}

}  // namespace

TEST_CASE("ADD request layout is byte-exact both ways", "[vector]") {
  auto wire = encodeAddRequest(sampleRequest());
  REQUIRE(wire.ok());
  CHECK(toHex(*wire) == toHex(hex(kSampleRequest)));

  auto decoded = decodeAddRequest(hex(kSampleRequest));
  REQUIRE(decoded.ok());
  CHECK(decoded->id == 0xbeef);
  CHECK(decoded->question == sampleRequest().question);
  REQUIRE(decoded->records == sampleRequest().records);
  CHECK(isAddPlaceholder(decoded->records[0]));
  CHECK_FALSE(isAddPlaceholder(decoded->records[1]));
  CHECK_FALSE(decoded->edns);

  // The server's first stage validates with parseQuery: the placeholder must pass it.
  auto view = parseQuery(hex(kSampleRequest));
  REQUIRE(view.ok());
  CHECK(view->header.opcode == Opcode::Add);
}

TEST_CASE("ADD request with OPT and TSIG decodes; TSIG is left to tsigVerify", "[unit]") {
  auto request = sampleRequest();
  request.edns = Edns{};
  auto wire = encodeAddRequest(request);
  REQUIRE(wire.ok());
  auto key = parseTsigKey("hmac-sha256:k.:c2VjcmV0c2VjcmV0c2VjcmV0");
  REQUIRE(key.ok());
  TsigFields fields;
  fields.timeSigned = 1800000000;
  auto signedWire = tsigSign(*wire, *key, fields);
  REQUIRE(signedWire.ok());
  auto decoded = decodeAddRequest(signedWire->wire);
  REQUIRE(decoded.ok());
  CHECK(decoded->edns);
  CHECK(decoded->records.size() == 4);
  auto check = tsigVerify(signedWire->wire, *key, 1800000000);
  REQUIRE(check.ok());
  CHECK(check->error == TsigError::NoError);
}

TEST_CASE("ADD requests that break the layout are refused with a reason", "[unit]") {
  const Name name = nameOf("new.example.");
  struct Case {
    const char* why;
    std::function<void(AddRequest&)> change;
  };
  const std::vector<Case> cases = {
      {"question class", [](AddRequest& r) { r.question.qclass = RRClass::CH; }},
      {"question type", [](AddRequest& r) { r.question.qtype = RRType::MX; }},
      {"no records", [](AddRequest& r) { r.records.clear(); }},
      {"only an MX", [&](AddRequest& r) { r.records.erase(r.records.begin(), r.records.begin() + 3); }},
      {"address of another owner", [](AddRequest& r) { r.records[1].owner = nameOf("other.example."); }},
      {"address of class CH", [](AddRequest& r) { r.records[1].cls = RRClass::CH; }},
      {"placeholder of class ANY", [](AddRequest& r) { r.records[0].cls = RRClass::ANY; }},
      {"alias is NAME", [&](AddRequest& r) { r.records[2].owner = name; }},
      {"alias pointing elsewhere", [](AddRequest& r) { r.records[2].data = Cname{nameOf("x.example.")}; }},
      {"alias twice", [](AddRequest& r) { r.records.push_back(r.records[2]); }},
      {"MX of another owner", [](AddRequest& r) { r.records[3].owner = nameOf("alias.example."); }},
      {"TXT record",
       [&](AddRequest& r) {
         r.records.push_back({name, RRType::TXT, RRClass::IN, 60, Txt{{"x"}}});
       }},
      {"TTL over 2^31-1", [](AddRequest& r) { r.records[1].ttl = 0x80000000u; }},
      {"root",
       [](AddRequest& r) {
         r.question.qname = Name::root();
         for (auto& rr : r.records) rr.owner = Name::root();
       }},
  };
  for (const auto& c : cases) {
    INFO(c.why);
    auto request = sampleRequest();
    c.change(request);
    auto decoded = decodeWith(request);
    REQUIRE_FALSE(decoded.ok());
    CHECK_FALSE(decoded.error().message().empty());
  }

  SECTION("header fields") {
    auto wire = hex(kSampleRequest);
    auto qr = wire;
    qr[2] |= 0x80;
    CHECK_FALSE(decodeAddRequest(qr).ok());
    auto query = wire;
    query[2] = 0x00;  // opcode QUERY
    CHECK_FALSE(decodeAddRequest(query).ok());
    auto cut = wire;
    cut.pop_back();
    CHECK_FALSE(decodeAddRequest(cut).ok());
    auto trailing = wire;
    trailing.push_back(0);
    CHECK_FALSE(decodeAddRequest(trailing).ok());
    auto noQuestion = hex("beef 7000 0000 0000 0000 0000");
    CHECK_FALSE(decodeAddRequest(noQuestion).ok());
    CHECK_FALSE(decodeAddRequest(hex("beef 7000 00")).ok());
  }
  SECTION("an answer section or a stray additional record") {
    // AN=1 by moving the first record's count: the same bytes, now in the answer section.
    auto answer = hex(kSampleRequest);
    answer[7] = 1;
    answer[9] = 3;
    CHECK_FALSE(decodeAddRequest(answer).ok());
    auto additional = hex(kSampleRequest);
    additional[9] = 3;
    additional[11] = 1;
    CHECK_FALSE(decodeAddRequest(additional).ok());
  }
}

TEST_CASE("ADD response layout is byte-exact and decodes", "[vector]") {
  auto request = sampleRequest();
  Header h;
  h.id = request.id;
  h.opcode = Opcode::Add;
  const std::vector<ResourceRecord> stored = {
      {nameOf("new.example."), RRType::A, RRClass::IN, 300, A{{10, 0, 0, 1}}},
  };
  auto wire = encodeAddResponse(h, &request.question, Rcode::NoError, stored, false);
  REQUIRE(wire.ok());
  CHECK(toHex(*wire) == toHex(hex("beef f000 0001 0001 0000 0000"
                                  "036e6577 076578616d706c65 00 0001 0001"
                                  "c00c 0001 0001 0000012c 0004 0a000001")));
  auto decoded = decodeAddResponse(*wire);
  REQUIRE(decoded.ok());
  CHECK(decoded->header.id == 0xbeef);
  CHECK(decoded->rcode() == 0);
  CHECK(decoded->records == stored);
  CHECK(decoded->question == request.question);

  auto refused = encodeAddResponse(h, &request.question, Rcode::YXDomain, {}, true);
  REQUIRE(refused.ok());
  auto refusedDecoded = decodeAddResponse(*refused);
  REQUIRE(refusedDecoded.ok());
  CHECK(refusedDecoded->rcode() == static_cast<uint16_t>(Rcode::YXDomain));
  CHECK(refusedDecoded->edns);
  CHECK(refusedDecoded->records.empty());

  // A request is not a response.
  CHECK_FALSE(decodeAddResponse(hex(kSampleRequest)).ok());
}
