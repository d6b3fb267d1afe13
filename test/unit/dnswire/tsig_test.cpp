#include "dnswire/tsig.hpp"

#include <catch2/catch.hpp>

#include "dnswire/message_reader.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/text.hpp"

using namespace dnswire;

namespace {

std::vector<uint8_t> hex(std::string_view text) {
  auto bytes = fromHex(text);
  REQUIRE(bytes.ok());
  return *bytes;
}

TsigKey testKey() {
  auto key = parseTsigKey("hmac-sha256:test-key:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  REQUIRE(key.ok());
  return *key;
}

// Produced by dnspython 2.3 (dns.message.use_tsig, time fixed at 1700000000 and
// 1700000001): "www.example.com. A" with ID 0x1234, RD, signed with testKey(), and the
// signed response to it.
const char* kUnsignedQuery = "12340100000100000000000003777777076578616d706c6503636f6d0000010001";
const char* kSignedQuery =
    "12340100000100000000000103777777076578616d706c6503636f6d000001000108746573742d6b65790000fa00ff000000"
    "00003d0b686d61632d7368613235360000006553f100012c0020f58b28cdccf56fc250d244ecc6cc3034f868b5db4b004242"
    "601eef193f955b5f123400000000";
const char* kQueryMac = "f58b28cdccf56fc250d244ecc6cc3034f868b5db4b004242601eef193f955b5f";
const char* kUnsignedResponse = "12348100000100000000000003777777076578616d706c6503636f6d0000010001";
const char* kSignedResponse =
    "12348100000100000000000103777777076578616d706c6503636f6d000001000108746573742d6b65790000fa00ff000000"
    "00003d0b686d61632d7368613235360000006553f101012c0020d3542752b1d618640703e0804855bb7a9212bef560ca2ded"
    "9afaef663ce847a5123400000000";

}  // namespace

TEST_CASE("parseTsigKey takes hmac-sha256:NAME:BASE64SECRET", "[unit]") {
  auto key = testKey();
  CHECK(key.name.toText() == "test-key.");
  CHECK(key.algorithm.toText() == "hmac-sha256.");
  CHECK(key.secret.size() == 32);
  CHECK(parseTsigKey("HMAC-SHA256:k.example.:AAAA").ok());
  for (const char* bad : {"", "hmac-sha256", "hmac-sha256:name", "hmac-md5:k:AAAA", "hmac-sha256::AAAA",
                          "hmac-sha256:k:", "hmac-sha256:k:@@@@", "hmac-sha256:.:AAAA"}) {
    INFO(bad);
    auto key2 = parseTsigKey(bad);
    REQUIRE_FALSE(key2.ok());
    CHECK_FALSE(key2.error().message().empty());
  }
}

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2", "[vector]") {
  const std::string key = "Jefe";
  const std::string data = "what do ya want for nothing?";
  auto mac = hmacSha256({reinterpret_cast<const uint8_t*>(key.data()), key.size()},
                        {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  CHECK(toHex(mac) == "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843");
}

TEST_CASE("signing a query gives dnspython's bytes", "[vector]") {
  TsigFields fields;
  fields.timeSigned = 1700000000;
  auto signedQuery = tsigSign(hex(kUnsignedQuery), testKey(), fields);
  REQUIRE(signedQuery.ok());
  CHECK(toHex(signedQuery->wire) == toHex(hex(kSignedQuery)));
  CHECK(toHex(signedQuery->mac) == toHex(hex(kQueryMac)));

  // The response covers the request's MAC first (RFC 8945 §4.3.1).
  fields.timeSigned = 1700000001;
  auto signedResponse = tsigSign(hex(kUnsignedResponse), testKey(), fields, signedQuery->mac);
  REQUIRE(signedResponse.ok());
  CHECK(toHex(signedResponse->wire) == toHex(hex(kSignedResponse)));
}

TEST_CASE("verifying dnspython's signatures", "[vector]") {
  const auto query = hex(kSignedQuery);
  auto check = tsigVerify(query, testKey(), 1700000010);
  REQUIRE(check.ok());
  CHECK(check->present);
  CHECK(check->error == TsigError::NoError);
  CHECK(check->keyName.toText() == "test-key.");
  CHECK(toHex(check->record.mac) == toHex(hex(kQueryMac)));
  CHECK(check->offset == std::string_view(kUnsignedQuery).size() / 2);

  auto response = tsigVerify(hex(kSignedResponse), testKey(), 1700000010, hex(kQueryMac));
  REQUIRE(response.ok());
  CHECK(response->error == TsigError::NoError);

  SECTION("a response checked without the request MAC fails") {
    auto alone = tsigVerify(hex(kSignedResponse), testKey(), 1700000010);
    REQUIRE(alone.ok());
    CHECK(alone->error == TsigError::BadSig);
  }
  SECTION("a wrong secret is BADSIG") {
    auto other = parseTsigKey("hmac-sha256:test-key:c2VjcmV0c2VjcmV0c2VjcmV0");
    REQUIRE(other.ok());
    auto bad = tsigVerify(query, *other, 1700000010);
    REQUIRE(bad.ok());
    CHECK(bad->error == TsigError::BadSig);
  }
  SECTION("another key name is BADKEY") {
    auto other = parseTsigKey("hmac-sha256:other-key:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    REQUIRE(other.ok());
    auto bad = tsigVerify(query, *other, 1700000010);
    REQUIRE(bad.ok());
    CHECK(bad->error == TsigError::BadKey);
  }
  SECTION("key names compare case-insensitively") {
    auto upper = parseTsigKey("hmac-sha256:TEST-KEY:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    REQUIRE(upper.ok());
    auto good = tsigVerify(query, *upper, 1700000010);
    REQUIRE(good.ok());
    CHECK(good->error == TsigError::NoError);
  }
  SECTION("outside the fudge is BADTIME, at the edge it is fine") {
    auto late = tsigVerify(query, testKey(), 1700000301);
    REQUIRE(late.ok());
    CHECK(late->error == TsigError::BadTime);
    auto early = tsigVerify(query, testKey(), 1699999699);
    REQUIRE(early.ok());
    CHECK(early->error == TsigError::BadTime);
    auto edge = tsigVerify(query, testKey(), 1700000300);
    REQUIRE(edge.ok());
    CHECK(edge->error == TsigError::NoError);
  }
  SECTION("a flipped bit anywhere in the signed part is BADSIG") {
    for (size_t i : {size_t{2}, size_t{13}, size_t{31}}) {
      auto changed = query;
      changed[i] ^= 0x01;
      auto bad = tsigVerify(changed, testKey(), 1700000010);
      INFO(i);
      REQUIRE(bad.ok());
      CHECK(bad->error == TsigError::BadSig);
    }
    // The time signed field: covered by the MAC too.
    auto changed = query;
    changed[check->offset + 10 + 10 + 13 + 5] ^= 0x01;  // owner, fixed fields, algorithm, time
    auto bad = tsigVerify(changed, testKey(), 1700000010);
    REQUIRE(bad.ok());
    CHECK(bad->error == TsigError::BadSig);
  }
  SECTION("the ID may change in transit: the original ID is what is signed (RFC 8945 §4.3.2)") {
    auto forwarded = query;
    forwarded[0] = 0xab;
    auto good = tsigVerify(forwarded, testKey(), 1700000010);
    REQUIRE(good.ok());
    CHECK(good->error == TsigError::NoError);
  }
}

TEST_CASE("an unsigned message has no TSIG; a short or truncated MAC is refused", "[unit]") {
  auto none = tsigVerify(hex(kUnsignedQuery), testKey(), 1700000000);
  REQUIRE(none.ok());
  CHECK_FALSE(none->present);

  TsigFields fields;
  fields.timeSigned = 1700000000;
  // An unsigned TSIG record (MAC size 0), as an error answer carries: malformed as a
  // signature.
  auto empty = tsigAppendUnsigned(hex(kUnsignedQuery), testKey().name, hmacSha256Name(), fields, 0x1234);
  REQUIRE(empty.ok());
  CHECK_FALSE(tsigVerify(*empty, testKey(), 1700000000).ok());

  // Cut the MAC to 20 octets (and fix the lengths): BADTRUNC, which we do not accept.
  auto signedQuery = hex(kSignedQuery);
  const size_t macSizeAt = std::string_view(kUnsignedQuery).size() / 2 + 10 + 10 + 13 + 8;
  REQUIRE(signedQuery[macSizeAt + 1] == 32);
  signedQuery[macSizeAt + 1] = 20;
  signedQuery.erase(signedQuery.begin() + static_cast<ptrdiff_t>(macSizeAt + 2 + 20),
                    signedQuery.begin() + static_cast<ptrdiff_t>(macSizeAt + 2 + 32));
  signedQuery[macSizeAt - 22] =
      static_cast<uint8_t>(signedQuery[macSizeAt - 22] - 12);  // RDLENGTH's low byte
  auto truncated = tsigVerify(signedQuery, testKey(), 1700000000);
  REQUIRE(truncated.ok());
  CHECK(truncated->error == TsigError::BadTrunc);
}

TEST_CASE("tsigAppendUnsigned writes an error TSIG with the original ID", "[unit]") {
  TsigFields fields;
  fields.timeSigned = 1700000000;
  fields.error = static_cast<uint16_t>(TsigError::BadSig);
  auto wire = tsigAppendUnsigned(hex(kUnsignedResponse), testKey().name, hmacSha256Name(), fields, 0x4321);
  REQUIRE(wire.ok());
  auto view = parseQuery(*wire);
  REQUIRE(view.ok());
  CHECK(view->header.arcount == 1);
  REQUIRE(view->tsigOffset == std::string_view(kUnsignedResponse).size() / 2);
  // ... 0x0000 MAC size, 0x4321 original ID, 0x0010 BADSIG, 0x0000 other length.
  CHECK(toHex(std::span(*wire).last(8)) == "0000432100100000");
  CHECK(std::string(tsigErrorText(16)) == "BADSIG");
}

TEST_CASE("BADTIME answers carry the server time as other data and still verify", "[unit]") {
  TsigFields fields;
  fields.timeSigned = 1700000000;
  fields.error = static_cast<uint16_t>(TsigError::BadTime);
  fields.otherData = {0x00, 0x00, 0x65, 0x53, 0xf2, 0x00};
  auto signedResponse = tsigSign(hex(kUnsignedResponse), testKey(), fields, hex(kQueryMac));
  REQUIRE(signedResponse.ok());
  auto check = tsigVerify(signedResponse->wire, testKey(), 1700000000, hex(kQueryMac));
  REQUIRE(check.ok());
  CHECK(check->error == TsigError::NoError);
  CHECK(check->record.error == 18);
  CHECK(check->record.otherData == fields.otherData);
}

TEST_CASE("a query signed by BIND's dig -y verifies; with another secret it does not", "[vector]") {
  // Captured from `dig -y hmac-sha256:dig-key.:AAECAw...Hh8= www.example.test A` (BIND
  // 9.18) with a UDP listener: EDNS with a cookie option, TSIG last, time 0x6b0cd386.
  const auto query = hex(
      "a5420120000100000000000203777777076578616d706c650474657374000001000100002904d000000000000c000a0008"
      "da2a0e05ab555777076469672d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b0cd386012c0020"
      "172608c5a6bd89b30bafa6dba7dccb8543e9cadb4451dad099b77c48163c8af3a54200000000");
  auto key = parseTsigKey("hmac-sha256:dig-key.:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  REQUIRE(key.ok());
  auto good = tsigVerify(query, *key, 0x6b0cd386);
  REQUIRE(good.ok());
  CHECK(good->present);
  CHECK(good->error == TsigError::NoError);
  CHECK(good->record.originalId == 0xa542);

  auto wrong = parseTsigKey("hmac-sha256:dig-key.:c2VjcmV0c2VjcmV0c2VjcmV0");
  REQUIRE(wrong.ok());
  auto bad = tsigVerify(query, *wrong, 0x6b0cd386);
  REQUIRE(bad.ok());
  CHECK(bad->error == TsigError::BadSig);

  // The same with opcode 14 (dig +opcode=14), as dnsadd's requests look to the server.
  const auto add = hex(
      "ccce71200001000000000002036e6577076578616d706c650474657374000001000100002904d000000000000c000a0008"
      "0cdad675e7b3516e076469672d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b0cd38a012c0020"
      "47a1933902e968c41f5b07525f6aaa199eb670cb8af78769d69907c73e629812ccce00000000");
  auto addCheck = tsigVerify(add, *key, 0x6b0cd38a);
  REQUIRE(addCheck.ok());
  CHECK(addCheck->error == TsigError::NoError);
}

TEST_CASE("a TSIG that is not the last additional record makes the message malformed", "[unit]") {
  // RFC 8945 §5.1: "If a TSIG record is present in any other position, the DNS message is
  // dropped and a response with RCODE 1 (FORMERR) MUST be returned."
  SECTION("followed by an OPT record") {
    auto wire = hex(kSignedQuery);
    const auto opt = hex("0000291000000000000000");
    wire.insert(wire.end(), opt.begin(), opt.end());
    wire[11] = 2;  // ARCOUNT
    auto view = parseQuery(wire);
    REQUIRE_FALSE(view.ok());
    CHECK(view.error().code == make_error_code(WireError::BadTsig));
    CHECK(toRcode(WireError::BadTsig) == Rcode::FormErr);
    auto message = parseMessage(wire);  // the full parser agrees
    REQUIRE_FALSE(message.ok());
    CHECK(message.error().code == make_error_code(WireError::BadTsig));
  }
  SECTION("in the answer section") {
    auto wire = hex(kSignedQuery);
    wire[7] = 1;   // ANCOUNT
    wire[11] = 0;  // ARCOUNT
    auto view = parseQuery(wire);
    REQUIRE_FALSE(view.ok());
    CHECK(view.error().code == make_error_code(WireError::BadTsig));
  }
  SECTION("the same record as the last additional one is accepted") {
    auto view = parseQuery(hex(kSignedQuery));
    REQUIRE(view.ok());
    CHECK(view->tsigOffset == std::string_view(kUnsignedQuery).size() / 2);
  }
}
