#include "dnswire/name.hpp"

#include <catch2/catch.hpp>
#include <vector>

#include "dnswire/wire_reader.hpp"

using namespace dnswire;

namespace {

Name nameOf(std::string_view text) {
  auto n = Name::fromText(text);
  REQUIRE(n.ok());
  return *n;
}

Result<Name> decode(const std::vector<uint8_t>& bytes, size_t at) {
  WireReader r(bytes);
  r.seek(at);
  return Name::fromWire(r);
}

}  // namespace

TEST_CASE("name text round trip with escapes", "[unit]") {
  CHECK(nameOf("www.example.com.").toText() == "www.example.com.");
  CHECK(nameOf(".").isRoot());
  CHECK(nameOf("a\\.b.example.").labelCount() == 2);
  CHECK(nameOf("a\\.b.example.").label(0) == "a.b");
  CHECK(nameOf("a\\.b.example.").toText() == "a\\.b.example.");
  CHECK(nameOf("\\065bc.").toText() == "Abc.");
  CHECK(nameOf("x\\000y.").toText() == "x\\000y.");
  CHECK(nameOf("sp\\ ace.").toText() == "sp\\032ace.");
  CHECK_FALSE(Name::fromText("a..b.").ok());
  CHECK_FALSE(Name::fromText("\\256.").ok());
  CHECK_FALSE(Name::fromText("\\12.").ok());
  CHECK_FALSE(Name::fromText("").ok());
  CHECK(Name::fromText(std::string(64, 'a') + ".").error().is(WireError::LabelTooLong));
  CHECK(Name::fromText(std::string(63, 'a') + ".").ok());
}

TEST_CASE("name length limit is 255 octets on the wire", "[unit]") {
  // 4 labels of 63 = 256 octets with length bytes, plus the root: too long.
  std::string l63(63, 'a');
  CHECK(Name::fromText(l63 + "." + l63 + "." + l63 + "." + l63 + ".").error().is(WireError::NameTooLong));
  // 3*64 + 62 = 254, plus root = 255: the longest legal name.
  auto longest = Name::fromText(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b') + ".");
  REQUIRE(longest.ok());
  CHECK(longest->size() == 255);
}

TEST_CASE("relative names take the origin", "[unit]") {
  auto origin = nameOf("example.com.");
  auto n = Name::fromText("www", origin);
  REQUIRE(n.ok());
  CHECK(n->toText() == "www.example.com.");
  CHECK(Name::fromText("www", Name()).error().is(WireError::BadText));
}

TEST_CASE("names compare case-insensitively", "[unit]") {
  CHECK(nameOf("WWW.Example.COM.") == nameOf("www.example.com."));
  CHECK(nameOf("WWW.Example.COM.").hash() == nameOf("www.example.com.").hash());
  CHECK(nameOf("a.example.") != nameOf("b.example."));
  CHECK(Name() != Name::root());
  CHECK(nameOf("WWW.Example.").lowercased().toText() == "www.example.");
}

TEST_CASE("case folding touches ASCII letters only, at every byte position", "[unit]") {
  // Names are hashed and compared a word at a time: check every byte value at offsets that
  // fall on each position within a word, against a byte-by-byte reference.
  auto refLower = [](int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
  auto make = [](size_t prefix, int c) {
    std::vector<uint8_t> wire;
    if (prefix > 0) {
      wire.push_back(static_cast<uint8_t>(prefix));
      wire.insert(wire.end(), prefix, 'x');
    }
    wire.push_back(1);
    wire.push_back(static_cast<uint8_t>(c));
    wire.push_back(0);
    auto n = Name::fromUncompressed(wire);
    REQUIRE(n.ok());
    return *n;
  };
  // Sizes 3 to 21: under a word, whole words, and tails that overlap the word before.
  for (size_t prefix = 0; prefix <= 17; ++prefix) {
    for (int c = 0; c < 256; ++c) {
      const Name name = make(prefix, c);
      const Name flipped = make(prefix, c ^ 0x20);
      const bool sameLetter = refLower(c) == refLower(c ^ 0x20);
      CHECK((name == flipped) == sameLetter);
      if (sameLetter) CHECK(name.hash() == flipped.hash());
      const Name lowerName = name.lowercased();
      const auto lowered = lowerName.wire();
      CHECK(static_cast<int>(lowered[lowered.size() - 2]) == refLower(c));
      CHECK(name.lowercased() == name);
    }
  }
}

TEST_CASE("names differing in one byte are unequal wherever that byte is", "[unit]") {
  // One label of `len` letters: every position, for lengths around each word boundary.
  for (size_t len = 1; len <= 40; ++len) {
    std::string label(len, 'a');
    const Name base = nameOf(label + ".example.");
    const Name upper = nameOf(std::string(len, 'A') + ".EXAMPLE.");
    CHECK(base == upper);
    CHECK(base.hash() == upper.hash());
    CHECK(base.isSubdomainOf(nameOf("EXAMPLE.")));
    for (size_t i = 0; i < len; ++i) {
      std::string other = label;
      other[i] = 'b';
      const Name changed = nameOf(other + ".example.");
      CHECK(changed != base);
      CHECK(changed.lowercased() != base);
      CHECK(nameOf("x." + other + ".example.").isSubdomainOf(changed));
      CHECK_FALSE(nameOf("x." + other + ".example.").isSubdomainOf(base));
    }
  }
}

TEST_CASE("name hierarchy helpers", "[unit]") {
  auto n = nameOf("www.Example.com.");
  CHECK(n.isSubdomainOf(nameOf("example.COM.")));
  CHECK(n.isSubdomainOf(Name::root()));
  CHECK(n.isSubdomainOf(n));
  CHECK_FALSE(nameOf("www.badexample.com.").isSubdomainOf(nameOf("example.com.")));
  CHECK_FALSE(nameOf("example.com.").isSubdomainOf(n));
  CHECK(n.parent() == nameOf("example.com."));
  CHECK(Name::root().parent().isRoot());
  CHECK(nameOf("example.com.").prepend("mail")->toText() == "mail.example.com.");
  CHECK(nameOf("example.com.").prepend(std::string(64, 'x')).error().is(WireError::LabelTooLong));
  auto relative = Name().prepend("www");
  REQUIRE(relative.ok());
  CHECK(relative->toText() == "www");
  CHECK(relative->concat(nameOf("example.org."))->toText() == "www.example.org.");
  auto rel = nameOf("www.").concat(nameOf("example.org."));
  REQUIRE(rel.ok());
  CHECK(rel->toText() == "www.example.org.");
}

TEST_CASE("canonical order follows RFC 4034 6.1", "[unit]") {
  // The example list of RFC 4034 §6.1, in order.
  const char* ordered[] = {"example.",         "a.example.",      "yljkjljk.a.example.",
                           "Z.a.example.",     "zABC.a.EXAMPLE.", "z.example.",
                           "\\001.z.example.", "*.z.example.",    "\\200.z.example."};
  for (size_t i = 0; i + 1 < std::size(ordered); ++i) {
    INFO(ordered[i] << " < " << ordered[i + 1]);
    CHECK(nameOf(ordered[i]).compareCanonical(nameOf(ordered[i + 1])) < 0);
    CHECK(nameOf(ordered[i + 1]).compareCanonical(nameOf(ordered[i])) > 0);
  }
  CHECK(nameOf("A.example.").compareCanonical(nameOf("a.EXAMPLE.")) == 0);
}

TEST_CASE("fromWire follows backward pointers", "[unit]") {
  // 12 filler bytes, "example.com" at 12, then "www" + pointer to 12.
  std::vector<uint8_t> msg(12, 0);
  const uint8_t name[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
  msg.insert(msg.end(), std::begin(name), std::end(name));
  const size_t www = msg.size();
  const uint8_t ptr[] = {3, 'w', 'w', 'w', 0xC0, 12, 0xAA};
  msg.insert(msg.end(), std::begin(ptr), std::end(ptr));
  WireReader r(msg);
  r.seek(www);
  auto n = Name::fromWire(r);
  REQUIRE(n.ok());
  CHECK(n->toText() == "www.example.com.");
  CHECK(r.position() == www + 6);  // just past the pointer
}

TEST_CASE("fromWire rejects RFC 9267 violations", "[unit]") {
  std::vector<uint8_t> base(12, 0);
  SECTION("pointer to itself") {
    auto m = base;
    m.insert(m.end(), {0xC0, 12});
    CHECK(decode(m, 12).error().is(WireError::PointerForward));
  }
  SECTION("pointer forward") {
    auto m = base;
    m.insert(m.end(), {0xC0, 14, 0});
    CHECK(decode(m, 12).error().is(WireError::PointerForward));
  }
  SECTION("loop through a label") {
    auto m = base;
    m.insert(m.end(), {1, 'a', 0xC0, 12});
    CHECK(decode(m, 12).error().is(WireError::PointerLoop));
  }
  SECTION("label types 0x40 and 0x80") {
    auto m = base;
    m.insert(m.end(), {0x41, 'a', 0});
    CHECK(decode(m, 12).error().is(WireError::BadLabelType));
    auto m2 = base;
    m2.insert(m2.end(), {0x81, 'a', 0});
    CHECK(decode(m2, 12).error().is(WireError::BadLabelType));
  }
  SECTION("truncated label and pointer") {
    auto m = base;
    m.insert(m.end(), {5, 'a', 'b'});
    CHECK(decode(m, 12).error().is(WireError::Truncated));
    auto m2 = base;
    m2.insert(m2.end(), {0xC0});
    CHECK(decode(m2, 12).error().is(WireError::Truncated));
  }
  SECTION("expanded name over 255") {
    // Four 50-octet labels (205 octets with the root), then 51 more octets pointing at them.
    auto m = base;
    for (int i = 0; i < 4; ++i) {
      m.push_back(50);
      m.insert(m.end(), 50, 'x');
    }
    m.push_back(0);
    const size_t at = m.size();
    m.push_back(50);
    m.insert(m.end(), 50, 'y');
    m.insert(m.end(), {0xC0, 12});
    CHECK(decode(m, 12).ok());
    CHECK(decode(m, at).error().is(WireError::NameTooLong));
  }
}
