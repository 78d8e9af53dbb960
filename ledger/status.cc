#include "jobledger/status.h"

namespace jobledger {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kUnknown: return "UNKNOWN";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
  }
  return "UNKNOWN";
}

std::string_view AwsExceptionName(AwsError error) {
  switch (error) {
    case AwsError::kNone: return "";
    case AwsError::kInvalidRequest: return "InvalidRequestException";
    case AwsError::kResourceNotFound: return "ResourceNotFoundException";
    case AwsError::kResourceAlreadyExists: return "ResourceAlreadyExistsException";
    case AwsError::kVersionConflict: return "VersionConflictException";
    case AwsError::kInvalidStateTransition: return "InvalidStateTransitionException";
    case AwsError::kLimitExceeded: return "LimitExceededException";
  }
  return "";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code_));
  if (aws_ != AwsError::kNone) {
    out += " (";
    out += AwsExceptionName(aws_);
    out += ")";
  }
  out += ": ";
  out += message_;
  return out;
}

Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
Status AlreadyExistsError(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
Status FailedPreconditionError(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
Status AbortedError(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
Status ResourceExhaustedError(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }

Status InvalidRequest(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m), AwsError::kInvalidRequest};
}
Status ResourceNotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m), AwsError::kResourceNotFound};
}
Status ResourceAlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m), AwsError::kResourceAlreadyExists};
}
Status VersionConflict(std::string m) {
  return {StatusCode::kAborted, std::move(m), AwsError::kVersionConflict};
}
Status InvalidStateTransition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m), AwsError::kInvalidStateTransition};
}
Status LimitExceeded(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m), AwsError::kLimitExceeded};
}

}  // namespace jobledger
