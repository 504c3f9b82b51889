#pragma once
// Status and Result<T>: how errors cross module boundaries in Tenure (no exceptions across modules).
// An error carries a class a ticket detector can act on, a human message, and the native code of the
// system that produced it (an LDAP result code, an HTTP status, an SQLite code, errno) when there is one.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tenure {

enum class ErrorClass {
  kOk = 0,
  kTransient,    // retry may succeed: network, timeout, server busy, lock
  kPermission,   // access denied, bad credentials
  kData,         // the input is wrong: malformed record, constraint violation
  kConflict,     // the target already exists / state changed underneath
  kConfig,       // misconfiguration: missing OU, bad URL, missing file
  kNotFound,     // the thing asked for does not exist
  kInternal,     // a bug or an unexpected failure
};

std::string_view errorClassName(ErrorClass c);
std::optional<ErrorClass> errorClassFromName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorClass cls, std::string message, int native_code = 0)
      : rep_(cls == ErrorClass::kOk
                 ? nullptr
                 : std::make_shared<const Rep>(Rep{cls, std::move(message), native_code})) {}

  static Status ok() { return Status(); }

  bool isOk() const { return rep_ == nullptr; }
  explicit operator bool() const { return isOk(); }
  ErrorClass errorClass() const { return rep_ ? rep_->cls : ErrorClass::kOk; }
  const std::string& message() const;
  int nativeCode() const { return rep_ ? rep_->native_code : 0; }
  // "data: employee_id is required (code 0)"
  std::string toString() const;

  // Adds context in front of the message, keeping class and code.
  Status withContext(std::string_view context) const;

 private:
  struct Rep {
    ErrorClass cls;
    std::string message;
    int native_code;
  };
  // Null when ok. An ok Status is one pointer's worth of nothing (every per-person plan carries
  // two of them), and a copy of an error shares its text rather than copying it.
  std::shared_ptr<const Rep> rep_;
};

inline Status transientError(std::string m, int code = 0) { return {ErrorClass::kTransient, std::move(m), code}; }
inline Status permissionError(std::string m, int code = 0) { return {ErrorClass::kPermission, std::move(m), code}; }
inline Status dataError(std::string m, int code = 0) { return {ErrorClass::kData, std::move(m), code}; }
inline Status conflictError(std::string m, int code = 0) { return {ErrorClass::kConflict, std::move(m), code}; }
inline Status configError(std::string m, int code = 0) { return {ErrorClass::kConfig, std::move(m), code}; }
inline Status notFoundError(std::string m, int code = 0) { return {ErrorClass::kNotFound, std::move(m), code}; }
inline Status internalError(std::string m, int code = 0) { return {ErrorClass::kInternal, std::move(m), code}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool isOk() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return isOk(); }

  const Status& status() const {
    static const Status kOkStatus;
    return isOk() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  // On a temporary, the value itself (moved out), not a reference into the dying Result: so
  // `for (auto& x : load().value())` and `auto&& v = *load();` keep what they refer to alive.
  T value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tenure

#define TENURE_CONCAT_INNER(a, b) a##b
#define TENURE_CONCAT(a, b) TENURE_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` (a Status) is not ok.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::tenure::Status _st = (expr);                 \
    if (!_st.isOk()) return _st;                   \
  } while (0)

// ASSIGN_OR_RETURN(auto x, resultExpr): unwraps a Result<T> or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(TENURE_CONCAT(_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.isOk()) return tmp.status();       \
  lhs = std::move(tmp).value()
