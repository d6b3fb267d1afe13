// TSIG (RFC 8945): verifying arbitrary signed-looking messages never crashes; any message
// the server would accept (parseQuery), once signed, verifies under the key and fails in
// the right way under a wrong secret, key name, time or request MAC, or after one of its
// signed bytes changes. Key specifications in text never crash the parser either.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "dnswire/packet_view.hpp"
#include "dnswire/tsig.hpp"

using namespace dnswire;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr int64_t kNow = 1'800'000'000;

struct Keys {
  TsigKey good = *parseTsigKey("hmac-sha256:fuzz-key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==");
  TsigKey otherSecret = *parseTsigKey("hmac-sha256:fuzz-key:b3RoZXItc2VjcmV0");
  TsigKey otherName = *parseTsigKey("hmac-sha256:other-key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==");
};

TsigError verifyError(std::span<const uint8_t> wire, const TsigKey& key, int64_t now,
                      std::span<const uint8_t> requestMac = {}) {
  auto result = tsigVerify(wire, key, now, requestMac);
  check(result.ok() && result->present);
  return result->error;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Keys* keys = new Keys();
  const std::span<const uint8_t> wire(data, size);

  // Whatever the bytes, verification answers without crashing; a MAC that nobody computed
  // never passes for the fuzzer's messages unless it is one of ours (the seeds).
  auto verdict = tsigVerify(wire, keys->good, kNow);
  if (verdict.ok() && verdict->present) {
    check(verdict->offset >= kHeaderSize && verdict->offset < size);
    if (verdict->error == TsigError::NoError)
      check(verifyError(wire, keys->otherSecret, kNow) == TsigError::BadSig);
  }
  (void)tsigVerify(wire, keys->good, kNow, wire.subspan(0, std::min<size_t>(size, 32)));
  (void)parseTsigKey(std::string_view(reinterpret_cast<const char*>(data), size));

  // Sign the bytes as they are, as a request.
  auto view = parseQuery(wire);
  if (!view.ok() || view->tsigOffset != 0) return 0;
  TsigFields fields;
  fields.timeSigned = static_cast<uint64_t>(kNow);
  auto request = tsigSign(wire, keys->good, fields);
  if (!request.ok()) return 0;  // ARCOUNT at its maximum or no room left
  check(request->mac.size() == kHmacSha256Size);
  auto ok = tsigVerify(request->wire, keys->good, kNow);
  check(ok.ok() && ok->present && ok->error == TsigError::NoError);
  check(ok->offset == size);
  check(ok->keyName == keys->good.name);
  check(ok->record.mac == request->mac);
  check(verifyError(request->wire, keys->good, kNow + kTsigFudge) == TsigError::NoError);
  check(verifyError(request->wire, keys->good, kNow - kTsigFudge - 1) == TsigError::BadTime);
  check(verifyError(request->wire, keys->otherSecret, kNow) == TsigError::BadSig);
  check(verifyError(request->wire, keys->otherName, kNow) == TsigError::BadKey);
  // A request's MAC does not verify as a response's.
  check(verifyError(request->wire, keys->good, kNow, request->mac) == TsigError::BadSig);

  // One signed byte changed (not the ID, which the digest takes from the TSIG record,
  // RFC 8945 §4.3.2): never NOERROR where the TSIG is still found in the same place.
  if (size > 2) {
    std::vector<uint8_t> tampered = request->wire;
    const size_t at = 2 + data[size - 1] % (size - 2);
    tampered[at] ^= static_cast<uint8_t>(1u << (data[0] % 8));
    auto bad = tsigVerify(tampered, keys->good, kNow);
    if (bad.ok() && bad->present && bad->offset == size) check(bad->error != TsigError::NoError);
  }

  // The same bytes signed as a response to that request: the request MAC is part of
  // the digest (§4.3.1).
  auto response = tsigSign(wire, keys->good, fields, request->mac);
  check(response.ok());
  check(verifyError(response->wire, keys->good, kNow, request->mac) == TsigError::NoError);
  check(verifyError(response->wire, keys->good, kNow) == TsigError::BadSig);

  // An unsigned error answer (§5.3.2) is found, with its empty MAC refused as malformed.
  auto unsignedAnswer = tsigAppendUnsigned(wire, keys->good.name, hmacSha256Name(), fields, view->header.id);
  if (unsignedAnswer.ok()) {
    auto checked = tsigVerify(*unsignedAnswer, keys->good, kNow);
    check(!checked.ok());
  }
  return 0;
}
