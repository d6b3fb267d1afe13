#include <catch2/catch.hpp>

#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/rr_table.hpp"
#include "dnswire/text.hpp"

using namespace dnswire;

namespace {

Name nameOf(std::string_view text) {
  auto n = Name::fromText(text);
  REQUIRE(n.ok());
  return *n;
}

ResourceRecord record(std::string_view owner, RRType type, uint32_t ttl, std::string_view rdata) {
  auto tokens = tokenize(rdata);
  REQUIRE(tokens.ok());
  auto data = typeInfo(type).fromText(*tokens, Name::root());
  INFO(rdata);
  REQUIRE(data.ok());
  return ResourceRecord{nameOf(owner), type, RRClass::IN, ttl, *data};
}

Message sampleAnswer() {
  Message m;
  m.header.id = 0x1234;
  m.header.qr = true;
  m.header.aa = true;
  m.header.rd = true;
  m.questions.push_back({nameOf("www.example.com."), RRType::A, RRClass::IN});
  m.answers.push_back(record("www.example.com.", RRType::CNAME, 300, "web.example.com."));
  m.answers.push_back(record("web.example.com.", RRType::A, 300, "192.0.2.1"));
  m.answers.push_back(record("web.example.com.", RRType::A, 300, "192.0.2.2"));
  m.authority.push_back(record("example.com.", RRType::NS, 3600, "ns1.example.com."));
  m.additional.push_back(record("ns1.example.com.", RRType::AAAA, 3600, "2001:db8::53"));
  Edns edns;
  edns.udpSize = 1232;
  edns.dnssecOk = true;
  m.additional.push_back(edns.toRecord());
  return m;
}

}  // namespace

TEST_CASE("write then parse gives the same message", "[unit]") {
  const Message m = sampleAnswer();
  auto wire = writeMessage(m);
  REQUIRE(wire.size() > kHeaderSize);
  auto parsed = parseMessage(wire);
  REQUIRE(parsed.ok());
  Message expected = m;
  expected.header.qdcount = 1;
  expected.header.ancount = 3;
  expected.header.nscount = 1;
  expected.header.arcount = 2;
  CHECK(*parsed == expected);
  REQUIRE(parsed->edns().has_value());
  CHECK(parsed->edns()->dnssecOk);
  CHECK(parsed->edns()->udpSize == 1232);
}

TEST_CASE("compression points owner and rdata names backwards", "[unit]") {
  const Message m = sampleAnswer();
  auto wire = writeMessage(m);
  // "www.example.com" appears once in full; every later name ends in a pointer. The
  // uncompressed form would be far larger.
  size_t uncompressed = kHeaderSize;
  for (const auto& q : m.questions) uncompressed += q.qname.size() + 4;
  CHECK(wire.size() < uncompressed + 3 * 60);
  // The CNAME owner is exactly a pointer to the question name at offset 12.
  const size_t answerStart = kHeaderSize + nameOf("www.example.com.").size() + 4;
  CHECK(wire[answerStart] == 0xC0);
  CHECK(wire[answerStart + 1] == 12);
}

TEST_CASE("SRV targets are never compressed", "[unit]") {
  Message m;
  m.questions.push_back({nameOf("_sip._udp.example.com."), RRType::SRV, RRClass::IN});
  m.answers.push_back(record("_sip._udp.example.com.", RRType::SRV, 60, "10 5 5060 example.com."));
  auto wire = writeMessage(m);
  // The target is the last 13 octets, written out in full.
  const Name targetName = nameOf("example.com.");  // wire() is a view into it
  const auto target = targetName.wire();
  REQUIRE(wire.size() > target.size());
  CHECK(std::equal(target.begin(), target.end(), wire.end() - static_cast<long>(target.size())));
}

TEST_CASE("RRsets that do not fit are left out whole with TC", "[unit]") {
  Message m;
  m.header.qr = true;
  m.questions.push_back({nameOf("big.example."), RRType::TXT, RRClass::IN});
  for (int i = 0; i < 10; ++i)
    m.answers.push_back(record("big.example.", RRType::TXT, 60, "\"" + std::string(100, 'x') + "\""));
  m.additional.push_back(Edns{}.toRecord());
  auto wire = writeMessage(m, 512);
  REQUIRE(wire.size() <= 512);
  auto parsed = parseMessage(wire);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.tc);
  CHECK(parsed->answers.empty());
  CHECK(parsed->additional.size() == 1);  // OPT kept
}

TEST_CASE("parseQuery indexes a query without decoding records", "[unit]") {
  Message q;
  q.header.id = 7;
  q.header.rd = true;
  q.questions.push_back({nameOf("WwW.Example.com."), RRType::AAAA, RRClass::IN});
  Edns edns;
  edns.udpSize = 4096;
  edns.version = 0;
  edns.dnssecOk = true;
  edns.options.push_back({10, {1, 2, 3, 4, 5, 6, 7, 8}});
  q.additional.push_back(edns.toRecord());
  auto wire = writeMessage(q);
  auto view = parseQuery(wire);
  REQUIRE(view.ok());
  CHECK(view->header.id == 7);
  CHECK(view->qname.toText() == "WwW.Example.com.");
  CHECK(view->qtype == RRType::AAAA);
  CHECK(view->hasEdns);
  CHECK(view->udpSize == 4096);
  CHECK(view->dnssecOk);
  CHECK(view->tsigOffset == 0);
  CHECK(view->questionEnd == kHeaderSize + view->qname.size() + 4);

  wire.push_back(0);
  CHECK(parseQuery(wire).error().is(WireError::TrailingBytes));
  CHECK(parseMessage(wire).error().is(WireError::TrailingBytes));
}

TEST_CASE("records print as dig does", "[unit]") {
  CHECK(toText(record("example.com.", RRType::MX, 300, "10 mail.example.com.")) ==
        "example.com.\t300\tIN\tMX\t10 mail.example.com.");
  CHECK(toText(record("example.com.", RRType::TXT, 60, "\"a b\" c")) ==
        "example.com.\t60\tIN\tTXT\t\"a b\" \"c\"");
  CHECK(toText(record("x.example.", RRType{65280}, 60, "\\# 4 0a000001")) ==
        "x.example.\t60\tIN\tTYPE65280\t\\# 4 0A000001");
  CHECK(toText(record("x.example.", RRType::A, 60, "\\# 4 0a000001")) == "x.example.\t60\tIN\tA\t10.0.0.1");
}

TEST_CASE("type and class mnemonics", "[unit]") {
  CHECK(typeToText(RRType::AAAA) == "AAAA");
  CHECK(typeToText(RRType{65280}) == "TYPE65280");
  CHECK(*typeFromText("mx") == RRType::MX);
  CHECK(*typeFromText("TYPE1") == RRType::A);
  CHECK(*typeFromText("ANY") == RRType::ANY);
  CHECK_FALSE(typeFromText("BOGUS").ok());
  CHECK_FALSE(typeFromText("TYPE65536").ok());
  CHECK(classToText(RRClass::IN) == "IN");
  CHECK(classToText(RRClass{42}) == "CLASS42");
  CHECK(*classFromText("class42") == RRClass{42});
}

TEST_CASE("text helpers", "[unit]") {
  auto t = tokenize("www  IN A 1.2.3.4 ; comment");
  REQUIRE(t.ok());
  REQUIRE(t->size() == 4);
  CHECK((*t)[3].text == "1.2.3.4");
  auto q = tokenize("\"a \\\" b\" c\\ d ( x )");
  REQUIRE(q.ok());
  REQUIRE(q->size() == 5);
  CHECK((*q)[0].quoted);
  CHECK((*q)[0].text == "a \\\" b");
  CHECK((*q)[1].text == "c\\ d");
  CHECK((*q)[2].text == "(");
  CHECK_FALSE(tokenize("\"open").ok());
  CHECK(*unescapeCharacterString("a\\\"b\\065") == "a\"bA");
  CHECK(quoteCharacterString(std::string("a\"\\\x01", 4)) == "\"a\\\"\\\\\\001\"");
  CHECK(toHex(std::vector<uint8_t>{0x0a, 0xff}) == "0AFF");
  CHECK(*fromHex("0aFf") == std::vector<uint8_t>{0x0a, 0xff});
  CHECK_FALSE(fromHex("0g").ok());
  CHECK(toBase64(std::vector<uint8_t>{'f', 'o', 'o', 'b'}) == "Zm9vYg==");
  CHECK(*fromBase64("Zm9vYg==") == std::vector<uint8_t>{'f', 'o', 'o', 'b'});
  CHECK_FALSE(fromBase64("Zm9vY===").ok());
  CHECK_FALSE(fromBase64("Zm9").ok());
}

TEST_CASE("a rolled-back RRset leaves no compression targets behind", "[unit]") {
  std::vector<uint8_t> buffer(200);
  MessageWriter w(buffer, 200);
  Header h;
  h.qr = true;
  REQUIRE(w.setHeader(h));
  REQUIRE(w.addQuestion({nameOf("q.example."), RRType::A, RRClass::IN}));
  // Too large as a whole: the first record (with a new name) is written, then undone.
  std::vector<ResourceRecord> big;
  for (int i = 0; i < 3; ++i)
    big.push_back(
        record("some.long.owner.name.example.", RRType::TXT, 60, "\"" + std::string(60, 'x') + "\""));
  CHECK_FALSE(w.addRRset(Section::Answer, big));
  CHECK(w.count(1) == 0);
  // This name would compress against the undone owner if it were still remembered.
  REQUIRE(w.add(Section::Answer, record("owner.name.example.", RRType::A, 60, "192.0.2.1")));
  auto parsed = parseMessage(w.finish());
  REQUIRE(parsed.ok());
  REQUIRE(parsed->answers.size() == 1);
  CHECK(parsed->answers[0].owner == nameOf("owner.name.example."));
}

TEST_CASE("room reserved for OPT is kept until addEdns", "[unit]") {
  std::vector<uint8_t> buffer(512);
  MessageWriter w(buffer, 100);
  Header h;
  h.qr = true;
  REQUIRE(w.setHeader(h));
  w.reserve(11);
  REQUIRE(w.addQuestion({nameOf("example."), RRType::TXT, RRClass::IN}));  // 12 + 13 = 25 bytes
  // 25 + 2 (owner pointer) + 10 + 61 = 98: fits 100, but not 100 - 11 kept for the OPT.
  CHECK_FALSE(
      w.add(Section::Answer, record("example.", RRType::TXT, 60, "\"" + std::string(60, 'y') + "\"")));
  REQUIRE(w.add(Section::Answer, record("example.", RRType::TXT, 60, "\"" + std::string(30, 'y') + "\"")));
  Edns edns;
  edns.udpSize = 1232;
  REQUIRE(w.addEdns(edns));
  w.setRcode(3);
  w.setTruncated();
  const auto out = w.finish();
  CHECK(out.size() <= 100);
  auto parsed = parseMessage(out);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.tc);
  CHECK(parsed->header.rcode == 3);
  CHECK(parsed->edns()->udpSize == 1232);
  CHECK(parsed->answers.size() == 1);
}

TEST_CASE("sections must be filled in order", "[unit]") {
  std::vector<uint8_t> buffer(512);
  MessageWriter w(buffer, 512);
  REQUIRE(w.setHeader(Header{}));
  REQUIRE(w.add(Section::Authority, record("example.", RRType::NS, 60, "ns.example.")));
  CHECK_FALSE(w.add(Section::Answer, record("example.", RRType::A, 60, "192.0.2.1")));
  CHECK_FALSE(w.addQuestion({nameOf("example."), RRType::A, RRClass::IN}));
}

TEST_CASE("rdata text errors and forms", "[unit]") {
  auto parse = [](RRType type, std::string_view text) {
    auto tokens = tokenize(text);
    REQUIRE(tokens.ok());
    return typeInfo(type).fromText(*tokens, *Name::fromText("example.com."));
  };
  CHECK_FALSE(parse(RRType::A, "1.2.3").ok());
  CHECK_FALSE(parse(RRType::A, "1.2.3.4 5.6.7.8").ok());
  CHECK_FALSE(parse(RRType::AAAA, "1.2.3.4").ok());
  CHECK_FALSE(parse(RRType::MX, "70000 mail").ok());
  CHECK_FALSE(parse(RRType::MX, "10").ok());
  CHECK_FALSE(parse(RRType::SRV, "1 2 mail.").ok());
  CHECK_FALSE(parse(RRType::TXT, "").ok());
  CHECK_FALSE(parse(RRType::TXT, std::string(256, 'a')).ok());
  CHECK_FALSE(parse(RRType::A, "\\# 3 0a0000").ok());  // decodes short
  CHECK_FALSE(parse(RRType::A, "\\# 4 0a0000").ok());  // length mismatch
  CHECK_FALSE(parse(RRType{999}, "00 11").ok());       // unknown types need \#
  // Relative names take the origin, '@' is the origin; SOA timers accept units.
  auto mx = parse(RRType::MX, "10 mail");
  REQUIRE(mx.ok());
  CHECK(std::get<Mx>(*mx).exchange.toText() == "mail.example.com.");
  auto cname = parse(RRType::CNAME, "@");
  REQUIRE(cname.ok());
  CHECK(std::get<Cname>(*cname).target.toText() == "example.com.");
  auto soa = parse(RRType::SOA, "ns hostmaster 1 1h 15m 2w 1d");
  REQUIRE(soa.ok());
  const auto& s = std::get<Soa>(*soa);
  CHECK(s.refresh == 3600);
  CHECK(s.retry == 900);
  CHECK(s.expire == 1209600);
  CHECK(s.minimum == 86400);
  CHECK(s.rname.toText() == "hostmaster.example.com.");
  CHECK_FALSE(parse(RRType::SOA, "ns hostmaster 1h 1 1 1 1").ok());  // the serial takes no units
  // TXT keeps unquoted words and escapes.
  auto txt = parse(RRType::TXT, "word \"two words\" \\065");
  REQUIRE(txt.ok());
  CHECK(std::get<Txt>(*txt).strings == std::vector<std::string>{"word", "two words", "A"});
}

TEST_CASE("raw RDATA under a known type prints and writes as is", "[unit]") {
  ResourceRecord rr{nameOf("x.example."), RRType::A, RRClass::IN, 60, Opaque{{10, 0, 0, 1}}};
  CHECK(toText(rr) == "x.example.\t60\tIN\tA\t\\# 4 0A000001");
  Message m;
  m.answers.push_back(rr);
  auto parsed = parseMessage(writeMessage(m));
  REQUIRE(parsed.ok());
  CHECK(std::get<A>(parsed->answers[0].data).address == std::array<uint8_t, 4>{10, 0, 0, 1});
}
