#include "plexus/common/status.h"

namespace plexus {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status Status::WithPrefix(std::string_view prefix) const {
  if (ok()) return *this;
  return Status(code_, std::string(prefix) + ": " + message_);
}

Status InvalidArgument(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
Status NotFound(std::string message) { return Status(StatusCode::kNotFound, std::move(message)); }
Status AlreadyExists(std::string message) {
  return Status(StatusCode::kAlreadyExists, std::move(message));
}
Status PermissionDenied(std::string message) {
  return Status(StatusCode::kPermissionDenied, std::move(message));
}
Status Unauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}
Status FailedPrecondition(std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(message));
}
Status IOError(std::string message) { return Status(StatusCode::kIOError, std::move(message)); }
Status Internal(std::string message) { return Status(StatusCode::kInternal, std::move(message)); }

namespace {
struct CodeInfo {
  StatusCode code;
  std::string_view name;
  int http;
  std::string_view sqlstate;
};
// The one table from error codes to what each door answers with.
constexpr CodeInfo kCodeTable[] = {
    {StatusCode::kOk, "OK", 200, "00000"},
    {StatusCode::kInvalidArgument, "invalid argument", 400, "42601"},
    {StatusCode::kNotFound, "not found", 404, "42P01"},
    {StatusCode::kAlreadyExists, "already exists", 409, "42710"},
    {StatusCode::kPermissionDenied, "permission denied", 403, "42501"},
    {StatusCode::kUnauthenticated, "unauthenticated", 401, "28000"},
    {StatusCode::kFailedPrecondition, "failed precondition", 409, "55000"},
    {StatusCode::kIOError, "I/O error", 500, "58030"},
    {StatusCode::kInternal, "internal error", 500, "XX000"},
};
const CodeInfo& Info(StatusCode code) {
  for (const auto& info : kCodeTable) {
    if (info.code == code) return info;
  }
  return kCodeTable[sizeof(kCodeTable) / sizeof(kCodeTable[0]) - 1];
}
}  // namespace

std::string_view StatusCodeName(StatusCode code) { return Info(code).name; }
int HttpStatusFor(StatusCode code) { return Info(code).http; }
std::string_view SqlStateFor(StatusCode code) { return Info(code).sqlstate; }

}  // namespace plexus
