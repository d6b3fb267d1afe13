#include "dnswire/error.hpp"

namespace dnswire {
namespace {

class WireCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "dnswire"; }
  std::string message(int value) const override { return describe(static_cast<WireError>(value)); }
};

}  // namespace

const std::error_category& wireCategory() noexcept {
  static const WireCategory category;
  return category;
}

std::error_code make_error_code(WireError e) noexcept { return {static_cast<int>(e), wireCategory()}; }

const char* describe(WireError e) noexcept {
  switch (e) {
    case WireError::Ok:
      return "no error";
    case WireError::Truncated:
      return "message truncated";
    case WireError::ShortHeader:
      return "header shorter than 12 bytes";
    case WireError::LabelTooLong:
      return "label longer than 63 octets";
    case WireError::NameTooLong:
      return "name longer than 255 octets";
    case WireError::BadLabelType:
      return "reserved label type";
    case WireError::PointerForward:
      return "compression pointer does not point backwards";
    case WireError::PointerLoop:
      return "too many compression pointers";
    case WireError::RdataLength:
      return "RDATA does not match RDLENGTH";
    case WireError::TrailingBytes:
      return "trailing bytes after the last record";
    case WireError::BadQuestionCount:
      return "query without exactly one question";
    case WireError::BadOpt:
      return "misplaced or repeated OPT record";
    case WireError::BadRdata:
      return "malformed RDATA";
    case WireError::BadText:
      return "malformed presentation text";
    case WireError::UnknownType:
      return "unknown type mnemonic";
    case WireError::NoSpace:
      return "message size limit reached";
    case WireError::PointerIntoHeader:
      return "compression pointer into the header";
    case WireError::BadTsig:
      return "TSIG record not last in the additional section";
  }
  return "unknown error";
}

Rcode toRcode(WireError e) noexcept {
  // Every parse failure of a message whose header was readable is a format error
  // (RFC 1035 §4.1.1); running out of room while answering is the server's failure.
  return e == WireError::NoSpace ? Rcode::ServFail : Rcode::FormErr;
}

}  // namespace dnswire
