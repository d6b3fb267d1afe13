#pragma once
// Error values for the codec: every malformed input maps to one WireError, never to an
// exception or a read past the end.

#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "dnswire/types.hpp"

namespace dnswire {

enum class WireError {
  Ok = 0,
  Truncated,         // a read ran past the end of the message or of RDATA
  ShortHeader,       // fewer than 12 bytes
  LabelTooLong,      // a label over 63 octets (RFC 1035 §2.3.4)
  NameTooLong,       // a name over 255 octets after expansion (RFC 1035 §2.3.4)
  BadLabelType,      // label type 0x40 or 0x80 (RFC 6891 §5 retired them)
  PointerForward,    // compression pointer not strictly backwards (RFC 9267 §2)
  PointerLoop,       // too many compression hops (RFC 9267 §2)
  RdataLength,       // RDATA not consumed exactly by its RDLENGTH
  TrailingBytes,     // bytes after the last record
  BadQuestionCount,  // QDCOUNT != 1 on a QUERY
  BadOpt,            // OPT not in additional, not at the root, or more than one (RFC 6891 §6.1.1)
  BadRdata,          // RDATA fields inconsistent (e.g. TXT string running past RDLENGTH)
  BadText,           // presentation text that does not parse
  UnknownType,       // a mnemonic that names no type
  NoSpace,           // the writer's size limit was reached
  PointerIntoHeader, // compression pointer to an offset inside the 12-byte header
  BadTsig,           // TSIG anywhere but last in the additional section (RFC 8945 §5.1)
};

}  // namespace dnswire

template <>
struct std::is_error_code_enum<dnswire::WireError> : std::true_type {};

namespace dnswire {

const std::error_category& wireCategory() noexcept;
std::error_code make_error_code(WireError e) noexcept;
// The reply code a server sends for a message that failed to parse with `e`.
Rcode toRcode(WireError e) noexcept;
const char* describe(WireError e) noexcept;

// A failure: a code plus an optional human detail ("line 12: bad TTL").
struct Error {
  std::error_code code;
  std::string detail;

  Error() = default;
  Error(WireError e, std::string d = {}) : code(make_error_code(e)), detail(std::move(d)) {}
  Error(std::error_code c, std::string d = {}) : code(c), detail(std::move(d)) {}
  // "detail" when present, else the category's message.
  std::string message() const { return detail.empty() ? code.message() : detail; }
  bool is(WireError e) const noexcept { return code == make_error_code(e); }
};

// A small expected-like type: a value or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}
  Result(WireError e) : v_(std::in_place_index<1>, Error(e)) {}
  // Anything T can be built from (e.g. one alternative of a variant T), so that
  // `return A{...};` works in a function returning Result<RData>.
  template <class U>
  requires(!std::is_same_v<std::remove_cvref_t<U>, T> && !std::is_same_v<std::remove_cvref_t<U>, Result> &&
           !std::is_constructible_v<Error, U&&> && std::is_constructible_v<T, U&&>) Result(U&& value)
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}
  Result(WireError e) : error_(e), ok_(false) {}
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace dnswire
