// Status and StatusOr<T>: how every jobledger operation reports success or failure.
//
// Codes follow abseil's names. A rejection of a service request also carries the AWS
// exception it corresponds to (AwsError), so front ends can speak the service's
// language (`An error occurred (VersionConflictException) ...`). Messages name the
// field and the rule ("jobId: must match [a-zA-Z0-9_-]+, got 'a/b'"). Errors about
// stored data name the sequence number.

#ifndef JOBLEDGER_STATUS_H_
#define JOBLEDGER_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace jobledger {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
};

// The AWS IoT Jobs exception a rejection maps to. kNone for errors that are not a
// rejection of the request (I/O, corruption, programming errors).
enum class AwsError : int {
  kNone = 0,
  kInvalidRequest,
  kResourceNotFound,
  kResourceAlreadyExists,
  kVersionConflict,
  kInvalidStateTransition,
  kLimitExceeded,
};

std::string_view StatusCodeName(StatusCode code);
// "InvalidRequestException", ...; empty for kNone.
std::string_view AwsExceptionName(AwsError error);

class [[nodiscard]] Status {
 public:
  // OK.
  Status() = default;
  Status(StatusCode code, std::string message, AwsError aws = AwsError::kNone)
      : code_(code), aws_(aws), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  AwsError aws_error() const { return aws_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: jobId: ..." or "OK".
  std::string ToString() const;

  // Explicitly discards the status, for the rare caller that has nothing to do
  // with a failure.
  void IgnoreError() const {}

  friend bool operator==(const Status&, const Status&) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  AwsError aws_ = AwsError::kNone;
  std::string message_;
};

// Factories for the codes jobledger uses. The AWS-flavoured ones set both the code
// and the exception name.
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status AbortedError(std::string message);
Status InternalError(std::string message);
Status DataLossError(std::string message);
Status UnavailableError(std::string message);
Status ResourceExhaustedError(std::string message);

Status InvalidRequest(std::string message);            // kInvalidArgument
Status ResourceNotFound(std::string message);          // kNotFound
Status ResourceAlreadyExists(std::string message);     // kAlreadyExists
Status VersionConflict(std::string message);           // kAborted
Status InvalidStateTransition(std::string message);    // kFailedPrecondition
Status LimitExceeded(std::string message);             // kResourceExhausted

// Holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // Requires !status.ok().
  StatusOr(Status status) : rep_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(rep_).ok());
  }
  StatusOr(const T& value) : rep_(value) {}       // NOLINT
  StatusOr(T&& value) : rep_(std::move(value)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(rep_); }
  Status status() const { return ok() ? Status() : std::get<Status>(rep_); }

  // Requires ok().
  const T& value() const& { return std::get<T>(rep_); }
  T& value() & { return std::get<T>(rep_); }
  T&& value() && { return std::get<T>(std::move(rep_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> rep_;
};

}  // namespace jobledger

#define JOBLEDGER_CONCAT_INNER_(a, b) a##b
#define JOBLEDGER_CONCAT_(a, b) JOBLEDGER_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK. The variable is
// named by line, so a lambda inside `expr` may use the macro too.
#define JOBLEDGER_RETURN_IF_ERROR(expr) \
  JOBLEDGER_RETURN_IF_ERROR_IMPL_(JOBLEDGER_CONCAT_(jl_status_, __LINE__), expr)
#define JOBLEDGER_RETURN_IF_ERROR_IMPL_(var, expr) \
  do {                                             \
    ::jobledger::Status var = (expr);              \
    if (!var.ok()) return var;                     \
  } while (0)

// `JOBLEDGER_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a StatusOr, or returns
// its error from the enclosing function.
#define JOBLEDGER_ASSIGN_OR_RETURN(lhs, expr) \
  JOBLEDGER_ASSIGN_OR_RETURN_IMPL_(JOBLEDGER_CONCAT_(jl_statusor_, __LINE__), lhs, expr)
#define JOBLEDGER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return tmp.status();                    \
  lhs = std::move(tmp).value()

#endif  // JOBLEDGER_STATUS_H_
