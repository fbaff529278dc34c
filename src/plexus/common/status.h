// File: plexus/common/status.h
//
// Status and Result<T>: how every Plexus module reports failure (Arrow/Abseil style).
//
//   Result<int> ParsePort(std::string_view s);
//   PLEXUS_ASSIGN_OR_RETURN(int port, ParsePort(text));
//   PLEXUS_RETURN_IF_ERROR(catalog.Apply(plan));
//
// One table (HttpStatusFor / SqlStateFor) maps codes to the HTTP statuses and SQLSTATEs the
// server answers with. Thread safety: values, no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace plexus {

/// What kind of failure a Status carries; decides the exit code, HTTP status and SQLSTATE.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     ///< the caller's input is malformed (a descriptor, a request)
  kNotFound,            ///< a named thing does not exist
  kAlreadyExists,       ///< a named thing exists and may not be created again
  kPermissionDenied,    ///< the access layer refused
  kUnauthenticated,     ///< no valid credential: unknown principal, bad or expired token
  kFailedPrecondition,  ///< the state does not allow it (e.g. a breaking change)
  kIOError,             ///< the file system or a network peer failed
  kInternal,            ///< a bug or an unexpected engine failure
};

/// A success, or a failure with a code and a one-line message for a person.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "invalid argument: <message>", or "OK".
  std::string ToString() const;

  /// Returns a copy whose message is "<prefix>: <message>" (adds context on the way up).
  Status WithPrefix(std::string_view prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status AlreadyExists(std::string message);
Status PermissionDenied(std::string message);
Status Unauthenticated(std::string message);
Status FailedPrecondition(std::string message);
Status IOError(std::string message);
Status Internal(std::string message);

std::string_view StatusCodeName(StatusCode code);
/// The HTTP status a server answers with for this code (400, 403, 404, 409, 500...).
int HttpStatusFor(StatusCode code);
/// The five-character SQLSTATE the wire protocol answers with for this code.
std::string_view SqlStateFor(StatusCode code);

/// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace plexus

#define PLEXUS_CONCAT_INNER_(a, b) a##b
#define PLEXUS_CONCAT_(a, b) PLEXUS_CONCAT_INNER_(a, b)

/// Evaluates `expr` (a Status); returns it from the calling function when it is not OK.
#define PLEXUS_RETURN_IF_ERROR(expr)                         \
  do {                                                       \
    ::plexus::Status plexus_status_ = (expr);                \
    if (!plexus_status_.ok()) return plexus_status_;         \
  } while (false)

#define PLEXUS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

/// Evaluates `rexpr` (a Result<T>); on failure returns its Status, else assigns to `lhs`.
#define PLEXUS_ASSIGN_OR_RETURN(lhs, rexpr) \
  PLEXUS_ASSIGN_OR_RETURN_IMPL_(PLEXUS_CONCAT_(plexus_result_, __LINE__), lhs, rexpr)
