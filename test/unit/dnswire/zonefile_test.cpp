// The master-file loader (RFC 1035 §5): each syntax case checked against exact wire
// bytes, each error case against its exact message.

#include "dnswire/zonefile.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "dnswire/rr_table.hpp"

using namespace dnswire;

namespace {

std::string hex(std::span<const uint8_t> bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// "owner type ttl rdata-hex", with the owner in presentation form: the exact content of a
// record as the loader built it.
std::string describeRecord(const ResourceRecord& rr) {
  auto wire = rdataToWire(rr.type, rr.data);
  REQUIRE(wire.ok());
  return rr.owner.toText() + " " + typeToText(rr.type) + " " + std::to_string(rr.ttl) + " " + hex(*wire);
}

std::vector<std::string> describe(const Zone& zone) {
  std::vector<std::string> out;
  for (const auto& rr : zone.records) out.push_back(describeRecord(rr));
  return out;
}

Zone parseOk(std::string_view text, const std::string& file = "t.zone") {
  auto zone = parseZoneText(text, file);
  INFO(text);
  if (!zone) FAIL(zone.error().message());
  return *zone;
}

std::string parseError(std::string_view text, const std::string& file = "t.zone") {
  auto zone = parseZoneText(text, file);
  INFO(text);
  REQUIRE_FALSE(zone.ok());
  return zone.error().message();
}

Name name(std::string_view text) {
  auto n = Name::fromText(text);
  REQUIRE(n.ok());
  return *n;
}

// ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 300
const std::string kSoaHex =
    "036e7331076578616d706c65047465737400"
    "0a686f73746d6173746572076578616d706c65047465737400"
    "00000001"
    "00001c20"
    "00000384"
    "00127500"
    "0000012c";

const std::string kHead =
    "$ORIGIN example.test.\n"
    "$TTL 3600\n"
    "@ SOA ns1 hostmaster 1 7200 900 1209600 300\n";

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("zonefile_test_" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("zonefile: SOA across lines with comments and timer units", "[unit][vector]") {
  auto zone = parseOk(
      "$ORIGIN example.test.\n"
      "$TTL 1h\n"
      "@  IN  SOA  ns1 hostmaster ( ; a comment inside the parentheses\n"
      "            1        ; serial\n"
      "            2h       ; refresh\n"
      "            15m      ; retry\n"
      "            2w       ; expire\n"
      "            5m )     ; minimum\n");
  CHECK(zone.origin == name("example.test."));
  REQUIRE(describe(zone) == std::vector<std::string>{"example.test. SOA 3600 " + kSoaHex});
}

TEST_CASE("zonefile: '@', relative and absolute names, omitted owners", "[unit][vector]") {
  auto zone = parseOk(kHead +
                      "@      NS    ns1\n"
                      "       NS    ns2.example.test.\n"
                      "www    A     192.0.2.1\n"
                      "       AAAA  2001:db8::1\n"
                      "Mail.Example.Test. MX 10 @\n");
  REQUIRE(describe(zone) == std::vector<std::string>{
                                "example.test. SOA 3600 " + kSoaHex,
                                "example.test. NS 3600 036e7331076578616d706c65047465737400",
                                "example.test. NS 3600 036e7332076578616d706c65047465737400",
                                "www.example.test. A 3600 c0000201",
                                "www.example.test. AAAA 3600 20010db8000000000000000000000001",
                                "Mail.Example.Test. MX 3600 000a076578616d706c65047465737400",
                            });
  // The owner's case is kept as written.
  CHECK(zone.records[5].owner.toText() == "Mail.Example.Test.");
}

TEST_CASE("zonefile: TTL and class in either order or omitted", "[unit][vector]") {
  auto zone = parseOk(kHead +
                      "a 300 IN A 192.0.2.1\n"
                      "b IN 301 A 192.0.2.2\n"
                      "c 302 A 192.0.2.3\n"
                      "d IN A 192.0.2.4\n"
                      "e A 192.0.2.5\n"
                      "f 1h30m A 192.0.2.6\n"
                      "g 1W IN A 192.0.2.7\n"
                      "h 2d A 192.0.2.8\n");
  REQUIRE(describe(zone) == std::vector<std::string>{
                                "example.test. SOA 3600 " + kSoaHex,
                                "a.example.test. A 300 c0000201",
                                "b.example.test. A 301 c0000202",
                                "c.example.test. A 302 c0000203",
                                "d.example.test. A 3600 c0000204",
                                "e.example.test. A 3600 c0000205",
                                "f.example.test. A 5400 c0000206",
                                "g.example.test. A 604800 c0000207",
                                "h.example.test. A 172800 c0000208",
                            });
}

TEST_CASE("zonefile: without $TTL a record takes the last explicit TTL", "[unit][vector]") {
  auto zone = parseOk(
      "example.test. 600 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 300\n"
      "$ORIGIN example.test.\n"
      "a A 192.0.2.1\n"
      "b 60 A 192.0.2.2\n"
      "c A 192.0.2.3\n");
  REQUIRE(describe(zone) == std::vector<std::string>{
                                "example.test. SOA 600 " + kSoaHex,
                                "a.example.test. A 600 c0000201",
                                "b.example.test. A 60 c0000202",
                                "c.example.test. A 60 c0000203",
                            });
}

TEST_CASE("zonefile: $TTL wins over the last explicit TTL (RFC 2308 §4)", "[unit][vector]") {
  auto zone = parseOk(kHead +
                      "a 60 A 192.0.2.1\n"
                      "b A 192.0.2.2\n"
                      "$TTL 120\n"
                      "c A 192.0.2.3\n");
  REQUIRE(describe(zone) == std::vector<std::string>{
                                "example.test. SOA 3600 " + kSoaHex,
                                "a.example.test. A 60 c0000201",
                                "b.example.test. A 3600 c0000202",
                                "c.example.test. A 120 c0000203",
                            });
}

TEST_CASE("zonefile: names after the SOA are relative to it without $ORIGIN", "[unit][vector]") {
  auto zone = parseOk(
      "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 300\n"
      "www A 192.0.2.1\n");
  REQUIRE(describe(zone) ==
          std::vector<std::string>{"example.test. SOA 3600 " + kSoaHex, "www.example.test. A 3600 c0000201"});
}

TEST_CASE("zonefile: quoted strings with escapes and several strings", "[unit][vector]") {
  auto zone = parseOk(kHead +
                      "t1 TXT \"v=spf1 -all\"\n"
                      "t2 TXT \"a\\\"b\" \"c;d\" e\n"
                      "t3 TXT \"\\065\\\\\"\n"
                      "t4 TXT ( \"one\"\n"
                      "         \"two\" )\n");
  REQUIRE(describe(zone) == std::vector<std::string>{
                                "example.test. SOA 3600 " + kSoaHex,
                                "t1.example.test. TXT 3600 0b763d73706631202d616c6c",
                                "t2.example.test. TXT 3600 0361226203633b640165",
                                "t3.example.test. TXT 3600 02415c",
                                "t4.example.test. TXT 3600 036f6e650374776f",
                            });
}

TEST_CASE("zonefile: RFC 3597 generic RDATA for unknown and known types", "[unit][vector]") {
  auto zone = parseOk(kHead +
                      "u1 TYPE65280 \\# 4 0a000001\n"
                      "u2 TYPE65280 \\# 0\n"
                      "u3 TYPE65281 \\# 6 0a00 0001 FFff\n"
                      "k1 A \\# 4 C0000201\n"
                      "k2 TYPE1 192.0.2.2\n");
  REQUIRE(describe(zone) == std::vector<std::string>{
                                "example.test. SOA 3600 " + kSoaHex,
                                "u1.example.test. TYPE65280 3600 0a000001",
                                "u2.example.test. TYPE65280 3600 ",
                                "u3.example.test. TYPE65281 3600 0a000001ffff",
                                "k1.example.test. A 3600 c0000201",
                                "k2.example.test. A 3600 c0000202",
                            });
  CHECK(std::holds_alternative<Opaque>(zone.records[1].data));
  CHECK(std::holds_alternative<A>(zone.records[4].data));
}

TEST_CASE("zonefile: MX, CNAME, PTR, SRV and a wildcard", "[unit][vector]") {
  auto zone = parseOk(kHead +
                      "@ MX 10 mx1\n"
                      "alias CNAME www\n"
                      "_sip._tcp SRV 10 60 5060 sip\n"
                      "1 PTR host.example.com.\n"
                      "* A 192.0.2.9\n");
  REQUIRE(describe(zone) == std::vector<std::string>{
                                "example.test. SOA 3600 " + kSoaHex,
                                "example.test. MX 3600 000a036d7831076578616d706c65047465737400",
                                "alias.example.test. CNAME 3600 03777777076578616d706c65047465737400",
                                "_sip._tcp.example.test. SRV 3600 000a003c13c4037369"
                                "70076578616d706c65047465737400",
                                "1.example.test. PTR 3600 04686f7374076578616d706c6503636f6d00",
                                "*.example.test. A 3600 c0000209",
                            });
}

TEST_CASE("zonefile: exact duplicates are dropped (RFC 2181 §5)", "[unit][vector]") {
  auto zone = parseOk(kHead +
                      "www A 192.0.2.1\n"
                      "WWW A 192.0.2.1\n"
                      "www A 192.0.2.2\n");
  CHECK(zone.records.size() == 3);
}

TEST_CASE("zonefile: CRLF line ends and tabs", "[unit][vector]") {
  auto zone = parseOk(
      "$ORIGIN example.test.\r\n$TTL 3600\r\n@\tSOA\tns1 hostmaster 1 7200 900 1209600 "
      "300\r\n\tA\t192.0.2.1\r\n");
  REQUIRE(describe(zone) ==
          std::vector<std::string>{"example.test. SOA 3600 " + kSoaHex, "example.test. A 3600 c0000201"});
}

TEST_CASE("zonefile: $INCLUDE relative to the including file, with and without origin", "[unit][vector]") {
  TempDir dir;
  dir.write("sub/hosts.inc", "www A 192.0.2.1\n");
  dir.write("sub/mail.inc", "mx A 192.0.2.25\n");
  auto main = dir.write("sub/main.zone", kHead +
                                             "$INCLUDE hosts.inc\n"
                                             "$INCLUDE mail.inc mail.example.test.\n"
                                             "after A 192.0.2.3\n"
                                             "      A 192.0.2.4\n");
  auto zone = loadZoneFile(main);
  if (!zone) FAIL(zone.error().message());
  REQUIRE(describe(*zone) == std::vector<std::string>{
                                 "example.test. SOA 3600 " + kSoaHex,
                                 "www.example.test. A 3600 c0000201",
                                 "mx.mail.example.test. A 3600 c0000219",
                                 "after.example.test. A 3600 c0000203",
                                 "after.example.test. A 3600 c0000204",
                             });
}

TEST_CASE("zonefile: $INCLUDE loops, depth and missing files are errors", "[unit]") {
  TempDir dir;
  auto a = dir.write("a.zone", kHead + "$INCLUDE b.inc\n");
  auto b = dir.write("b.inc", "\n$INCLUDE a.zone\n");
  auto loop = loadZoneFile(a);
  REQUIRE_FALSE(loop.ok());
  CHECK(loop.error().message() ==
        b + ":2: $INCLUDE loop: " + (dir.path() / "a.zone").string() + " is already being read");

  // A chain deeper than kMaxIncludeDepth.
  for (int i = 0; i <= kMaxIncludeDepth; ++i) {
    dir.write("d" + std::to_string(i) + ".inc", "$INCLUDE d" + std::to_string(i + 1) + ".inc\n");
  }
  auto deep = dir.write("deep.zone", kHead + "$INCLUDE d0.inc\n");
  auto tooDeep = loadZoneFile(deep);
  REQUIRE_FALSE(tooDeep.ok());
  CHECK(tooDeep.error().message().find("$INCLUDE nested more than 8 deep") != std::string::npos);

  auto missing = dir.write("m.zone", kHead + "$INCLUDE nothere.inc\n");
  auto noFile = loadZoneFile(missing);
  REQUIRE_FALSE(noFile.ok());
  CHECK(noFile.error().message() == missing + ":4: cannot read " + (dir.path() / "nothere.inc").string());

  auto none = loadZoneFile((dir.path() / "absent.zone").string());
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message() == (dir.path() / "absent.zone").string() + ":1: cannot read the file");
}

TEST_CASE("zonefile: error messages name the file and line", "[unit]") {
  const std::string soaNoTtl = "$ORIGIN example.test.\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n";
  struct Case {
    std::string text;
    std::string message;
  };
  std::vector<Case> cases = {
      {"", "t.zone:1: no SOA record"},
      {"; only a comment\n", "t.zone:1: no SOA record"},
      {"$ORIGIN example.test.\n$TTL 60\nwww A 192.0.2.1\n",
       "t.zone:3: the first record must be the zone's SOA"},
      {soaNoTtl, "t.zone:2: no TTL: give one or set $TTL"},
      {kHead + "@ SOA ns1 hostmaster 2 7200 900 1209600 300\n",
       "t.zone:4: second SOA record (one zone per file)"},
      {kHead + "www.other.test. A 192.0.2.1\n",
       "t.zone:4: www.other.test. is outside the zone example.test."},
      {kHead + "www CH A 192.0.2.1\n", "t.zone:4: class CH is not served (only IN)"},
      {kHead + "www IN FOO 1\n", "t.zone:4: unknown type 'FOO'"},
      {kHead + "www 1x A 192.0.2.1\n", "t.zone:4: bad TTL '1x'"},
      {kHead + "www 4294967296 A 192.0.2.1\n", "t.zone:4: bad TTL '4294967296'"},
      {kHead + "www 2147483648 A 192.0.2.1\n", "t.zone:4: bad TTL '2147483648'"},
      {kHead + "$TTL 1y\n", "t.zone:4: bad TTL '1y'"},
      {kHead + "www TXT \"open\n", "t.zone:4: unterminated quoted string"},
      {kHead + "www TXT ( \"a\"\n\n", "t.zone:4: '(' never closed"},
      {kHead + "www A 192.0.2.1 )\n", "t.zone:4: ')' without '('"},
      {kHead + "www TXT ( ( \"a\" ) )\n", "t.zone:4: nested '('"},
      {kHead + "$GENERATE 1-2 a$ A 192.0.2.$\n", "t.zone:4: unknown directive $GENERATE"},
      {kHead + "$ORIGIN\n", "t.zone:4: $ORIGIN takes one name"},
      {kHead + "$TTL\n", "t.zone:4: $TTL takes one TTL"},
      {kHead + "$INCLUDE\n", "t.zone:4: $INCLUDE takes a file name and an optional origin"},
      {"$TTL 60\nwww SOA ns1.x. h.x. 1 2 3 4 5\n",
       "t.zone:2: relative name 'www' with no origin (add $ORIGIN)"},
      {"$TTL 60\n@ SOA ns1.x. h.x. 1 2 3 4 5\n", "t.zone:2: '@' with no origin (add $ORIGIN)"},
      {"$TTL 60\n  A 192.0.2.1\n", "t.zone:2: no owner name and no previous owner"},
      {kHead + "www\n", "t.zone:4: missing type"},
      {kHead + "www 60 IN\n", "t.zone:4: missing type"},
      {kHead + "www A\n", "t.zone:4: A: missing RDATA"},
      {kHead + "www IN ANY 192.0.2.1\n", "t.zone:4: type ANY cannot appear in a zone"},
      {kHead + "www ANY A 192.0.2.1\n", "t.zone:4: class ANY is not served (only IN)"},
      {kHead + "www 60 IN AXFR 192.0.2.1\n", "t.zone:4: type AXFR cannot appear in a zone"},
      {kHead + "www OPT \\# 0\n", "t.zone:4: type OPT cannot appear in a zone"},
      {kHead + "www TYPE65280 0a000001\n",
       "t.zone:4: TYPE65280: unknown type needs RFC 3597 '\\# length hex' RDATA"},
      {kHead + "www TYPE65280 \\# 4 0a0000\n", "t.zone:4: TYPE65280: RDATA length 4 but 3 bytes of hex"},
      {kHead + "www TYPE65280 \\# 2 0a000\n", "t.zone:4: TYPE65280: odd number of hex digits"},
      {kHead + "www TYPE65280 \\# 2 0g00\n", "t.zone:4: TYPE65280: bad hex digit in RDATA"},
      {kHead + "www TYPE65280 \\# x\n", "t.zone:4: TYPE65280: bad RDATA length 'x'"},
      {kHead + "www TYPE65280 \\# 70000\n", "t.zone:4: TYPE65280: RDATA length 70000 over 65535"},
      {kHead + "www TYPE65280 \\#\n", "t.zone:4: TYPE65280: '\\#' needs a length"},
      {kHead + "www A \\# 3 c00002\n", "t.zone:4: A: bad RDATA: "},
      {kHead + "www CNAME a\nwww A 192.0.2.1\n",
       "t.zone:5: www.example.test. has a CNAME and cannot have other data"},
      {kHead + "www A 192.0.2.1\nwww CNAME a\n",
       "t.zone:5: www.example.test. has other data and cannot have a CNAME"},
      {kHead + "www CNAME a\nwww CNAME b\n", "t.zone:5: www.example.test. has a second CNAME"},
      {kHead + "www A 192.0.2.1 \\\n", "t.zone:4: '\\' at the end of a line"},
  };
  for (const auto& c : cases) {
    std::string message = parseError(c.text);
    INFO(c.text);
    if (c.message.ends_with(": ")) {
      CHECK(message.starts_with(c.message));
    } else {
      CHECK(message == c.message);
    }
  }
}

TEST_CASE("zonefile: a multi-line entry's error names its first line", "[unit]") {
  std::string message = parseError(kHead + "\n\nwww TXT ( \"a\"\n  \"b\" )\nx 1x A 192.0.2.1\n");
  CHECK(message == "t.zone:8: bad TTL '1x'");
  std::string soa =
      parseError("$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 hostmaster (\n 1 2 3 4 5 )\nwww A 999.0.0.1\n");
  CHECK(soa.starts_with("t.zone:5: A: "));
}

TEST_CASE("zonefile: TTL text in BIND's forms", "[unit]") {
  CHECK(parseTtlText("0") == 0u);
  CHECK(parseTtlText("3600") == 3600u);
  CHECK(parseTtlText("1h") == 3600u);
  CHECK(parseTtlText("1H30M") == 5400u);
  CHECK(parseTtlText("1h30") == 3630u);
  CHECK(parseTtlText("1w2d3h4m5s") == 604800u + 2 * 86400u + 3 * 3600u + 4 * 60u + 5u);
  CHECK(parseTtlText("4294967295") == 4294967295u);
  CHECK_FALSE(parseTtlText("4294967296"));
  CHECK_FALSE(parseTtlText(""));
  CHECK_FALSE(parseTtlText("h"));
  CHECK_FALSE(parseTtlText("1hh"));
  CHECK_FALSE(parseTtlText("-1"));
  CHECK_FALSE(parseTtlText("1y"));
  CHECK_FALSE(parseTtlText("100000w"));
}

TEST_CASE("zonefile: zoneToText parses back to the same records", "[unit][vector]") {
  auto zone = parseOk(kHead +
                      "@ NS ns1\n"
                      "www 300 A 192.0.2.1\n"
                      "www AAAA 2001:db8::1\n"
                      "t TXT \"a \\\"quoted\\\" string\" \"two\"\n"
                      "u TYPE65280 \\# 4 0a000001\n"
                      "e TYPE65281 \\# 0\n"
                      "_s._tcp SRV 1 2 3 www\n");
  std::string text = zoneToText(zone);
  CHECK(text.starts_with("$ORIGIN example.test.\nexample.test.\t3600\tIN\tSOA\t"));
  auto again = parseZoneText(text, "export");
  if (!again) FAIL(again.error().message() + "\n" + text);
  CHECK(again->origin == zone.origin);
  CHECK(describe(*again) == describe(zone));
  CHECK(again->records == zone.records);
}

TEST_CASE("zonefile: every sample zone in zones/ loads", "[unit]") {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(DNS_SOURCE_DIR) + "/zones")) {
    if (entry.path().extension() != ".zone") continue;
    auto zone = loadZoneFile(entry.path().string());
    INFO(entry.path().string());
    if (!zone) FAIL(zone.error().message());
    // The zone is named after its file.
    CHECK(zone->origin.toText() == entry.path().stem().string() + ".");
    CHECK(zone->records.size() > 2);
    auto again = parseZoneText(zoneToText(*zone), "export");
    if (!again) FAIL(again.error().message());
    CHECK(again->records == zone->records);
    ++count;
  }
  CHECK(count >= 4);
}

TEST_CASE("zonefile: arbitrary text never crashes the loader", "[unit]") {
  std::mt19937 rng(1234);
  const std::string alphabet = "ab.@$();\"\\ \t\n0123456789ASOINTXCH#";
  for (int i = 0; i < 2000; ++i) {
    std::string text = kHead;
    size_t n = rng() % 80;
    for (size_t k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
    auto zone = parseZoneText(text, "fuzz");
    if (!zone) CHECK(zone.error().message().starts_with("fuzz:"));
  }
}
