#include "server/service.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "jobledger/command_traits.h"
#include "jobledger/json.h"
#include "jobledger/replay.h"
#include "jobledger/time_text.h"
#include "projections/json_mapping.h"
#include "server/routes.h"
#include "server/wire_input.h"

namespace jobledger::server {
namespace {

HttpResponse Json(int status, std::string body) {
  return HttpResponse{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

HttpResponse Refusal(int status, const std::string& type, const std::string& message) {
  HttpResponse r = Json(status, nlohmann::json{{"message", message}}.dump());
  r.headers.emplace_back("x-amzn-ErrorType", type);
  return r;
}

// ---- requests of the ledger's commands, from the wire ----

// Sets `into` from an optional read, or returns its error.
#define JL_WIRE(into, expr)                      \
  do {                                           \
    auto jl_read_ = (expr);                      \
    if (!jl_read_.ok()) return jl_read_.status(); \
    if (*jl_read_) into = std::move(**jl_read_); \
  } while (0)

template <typename T>
Status Config(WireInput& in, const std::string& member, std::optional<T>* into) {
  const nlohmann::ordered_json* j = in.Member(member);
  if (j == nullptr) return Status();
  JOBLEDGER_ASSIGN_OR_RETURN(*into, FromJson<T>(*j, member));
  return Status();
}

Status TargetSelectionMember(WireInput& in, std::optional<TargetSelection>* into) {
  std::optional<std::string> s;
  JL_WIRE(s, in.String("targetSelection"));
  if (!s) return Status();
  *into = ParseTargetSelection(*s);
  if (!*into) return InvalidRequest("targetSelection: must be SNAPSHOT or CONTINUOUS, got '" + *s + "'");
  return Status();
}

template <typename Request>
Status Configs(WireInput& in, Request* r) {
  JOBLEDGER_RETURN_IF_ERROR(Config(in, "presignedUrlConfig", &r->presigned_url_config));
  JOBLEDGER_RETURN_IF_ERROR(Config(in, "jobExecutionsRolloutConfig", &r->job_executions_rollout_config));
  JOBLEDGER_RETURN_IF_ERROR(Config(in, "abortConfig", &r->abort_config));
  return Config(in, "timeoutConfig", &r->timeout_config);
}

// Parse<Command>: the request of a command of jobledger/command_traits.h from the
// wire, as the service model places its members; kQuery: the query parameters it
// takes.
template <typename Command>
struct Wire;

template <>
struct Wire<command::CreateJob> {
  static StatusOr<CreateJobRequest> Parse(WireInput& in) {
    CreateJobRequest r;
    r.job_id = in.Label("jobId");
    JL_WIRE(r.targets, in.Strings("targets"));
    JL_WIRE(r.document, in.String("document"));
    JL_WIRE(r.description, in.String("description"));
    JOBLEDGER_RETURN_IF_ERROR(TargetSelectionMember(in, &r.target_selection));
    JOBLEDGER_RETURN_IF_ERROR(Configs(in, &r));
    JOBLEDGER_RETURN_IF_ERROR(in.Finish());
    return r;
  }
};

template <>
struct Wire<command::UpdateJob> {
  static StatusOr<UpdateJobRequest> Parse(WireInput& in) {
    UpdateJobRequest r;
    r.job_id = in.Label("jobId");
    JL_WIRE(r.description, in.String("description"));
    JOBLEDGER_RETURN_IF_ERROR(Configs(in, &r));
    JOBLEDGER_RETURN_IF_ERROR(in.Finish());
    return r;
  }
};

template <>
struct Wire<command::CancelJob> {
  static StatusOr<CancelJobRequest> Parse(WireInput& in) {
    CancelJobRequest r;
    r.job_id = in.Label("jobId");
    JL_WIRE(r.reason_code, in.String("reasonCode"));
    JL_WIRE(r.comment, in.String("comment"));
    JL_WIRE(r.force, in.QueryBool("force"));
    JOBLEDGER_RETURN_IF_ERROR(in.Finish({"force"}));
    return r;
  }
};

template <>
struct Wire<command::DeleteJob> {
  static StatusOr<DeleteJobRequest> Parse(WireInput& in) {
    DeleteJobRequest r;
    r.job_id = in.Label("jobId");
    JL_WIRE(r.force, in.QueryBool("force"));
    JOBLEDGER_RETURN_IF_ERROR(in.Finish({"force"}));
    return r;
  }
};

template <>
struct Wire<command::AssociateTargetsWithJob> {
  static StatusOr<AssociateTargetsWithJobRequest> Parse(WireInput& in) {
    AssociateTargetsWithJobRequest r;
    r.job_id = in.Label("jobId");
    JL_WIRE(r.targets, in.Strings("targets"));
    JL_WIRE(r.comment, in.String("comment"));
    JOBLEDGER_RETURN_IF_ERROR(in.Finish());
    return r;
  }
};

template <>
struct Wire<command::CancelJobExecution> {
  static StatusOr<CancelJobExecutionRequest> Parse(WireInput& in) {
    CancelJobExecutionRequest r;
    r.job_id = in.Label("jobId");
    r.thing_name = in.Label("thingName");
    JL_WIRE(r.force, in.QueryBool("force"));
    JL_WIRE(r.expected_version, in.Int("expectedVersion"));
    JL_WIRE(r.status_details, in.Details("statusDetails"));
    JOBLEDGER_RETURN_IF_ERROR(in.Finish({"force"}));
    return r;
  }
};

template <>
struct Wire<command::DeleteJobExecution> {
  static StatusOr<DeleteJobExecutionRequest> Parse(WireInput& in) {
    DeleteJobExecutionRequest r;
    r.job_id = in.Label("jobId");
    r.thing_name = in.Label("thingName");
    const std::string& number = in.Label("executionNumber");
    if (number.empty() || number.size() > 18 ||
        number.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidRequest("executionNumber: must be a whole number, got '" + number + "'");
    }
    r.execution_number = std::stoll(number);
    JL_WIRE(r.force, in.QueryBool("force"));
    JOBLEDGER_RETURN_IF_ERROR(in.Finish({"force"}));
    return r;
  }
};

template <>
struct Wire<command::UpdateJobExecution> {
  static StatusOr<UpdateJobExecutionRequest> Parse(WireInput& in) {
    UpdateJobExecutionRequest r;
    r.job_id = in.Label("jobId");
    r.thing_name = in.Label("thingName");
    std::optional<std::string> status;
    JL_WIRE(status, in.String("status"));
    if (!status) return InvalidRequest("status: is required");
    std::optional<ExecutionStatus> parsed = ParseExecutionStatus(*status);
    if (!parsed) return InvalidRequest("status: not a job execution status: '" + *status + "'");
    r.status = *parsed;
    JL_WIRE(r.status_details, in.Details("statusDetails"));
    JL_WIRE(r.step_timeout_in_minutes, in.Int("stepTimeoutInMinutes"));
    JL_WIRE(r.expected_version, in.Int("expectedVersion"));
    JL_WIRE(r.include_job_execution_state, in.Bool("includeJobExecutionState"));
    JL_WIRE(r.include_job_document, in.Bool("includeJobDocument"));
    JL_WIRE(r.execution_number, in.Int("executionNumber"));
    JOBLEDGER_RETURN_IF_ERROR(in.Finish());
    return r;
  }
};

template <>
struct Wire<command::StartNextPendingJobExecution> {
  static StatusOr<StartNextPendingJobExecutionRequest> Parse(WireInput& in) {
    StartNextPendingJobExecutionRequest r;
    r.thing_name = in.Label("thingName");
    JL_WIRE(r.status_details, in.Details("statusDetails"));
    JL_WIRE(r.step_timeout_in_minutes, in.Int("stepTimeoutInMinutes"));
    JOBLEDGER_RETURN_IF_ERROR(in.Finish());
    return r;
  }
};

StatusOr<ThingGroupMembershipRequest> ParseMembership(WireInput& in) {
  ThingGroupMembershipRequest r;
  std::optional<std::string> group, thing;
  JL_WIRE(group, in.String("thingGroupName"));
  JL_WIRE(thing, in.String("thingName"));
  if (!group) return InvalidRequest("thingGroupName: is required (thingGroupArn is not supported)");
  if (!thing) return InvalidRequest("thingName: is required (thingArn is not supported)");
  JOBLEDGER_RETURN_IF_ERROR(in.Finish());
  r.thing_group_name = *group;
  r.thing_name = *thing;
  return r;
}

template <>
struct Wire<command::AddThingToThingGroup> {
  static StatusOr<ThingGroupMembershipRequest> Parse(WireInput& in) { return ParseMembership(in); }
};

template <>
struct Wire<command::RemoveThingFromThingGroup> {
  static StatusOr<ThingGroupMembershipRequest> Parse(WireInput& in) { return ParseMembership(in); }
};

template <>
struct Wire<command::DeleteThing> {
  static StatusOr<DeleteThingRequest> Parse(WireInput& in) {
    DeleteThingRequest r;
    r.thing_name = in.Label("thingName");
    JOBLEDGER_RETURN_IF_ERROR(in.Finish());
    return r;
  }
};

// A command's answer: its JSON, "{}" for a bare Status (as the service answers).

HttpResponse Answer(Plane plane, const Status& status) {
  return status.ok() ? Json(200, "{}") : ErrorResponse(plane, status);
}
template <typename T>
HttpResponse Answer(Plane plane, const StatusOr<T>& answer) {
  return answer.ok() ? Json(200, RenderAnswer(*answer)) : ErrorResponse(plane, answer.status());
}

// Runs a write: parses the request, submits it, answers when the ledger does.
using WriteFn = std::function<void(Ledger&, Plane, RequestContext, WireInput&, Respond)>;

const std::map<std::string, WriteFn, std::less<>>& Writes() {
  static const auto* writes = [] {
    auto* out = new std::map<std::string, WriteFn, std::less<>>();
    command::ForEach([out]<typename Op>() {
      (*out)[std::string(Op::kName)] = [](Ledger& ledger, Plane plane, RequestContext context, WireInput& in,
                                           Respond respond) {
        StatusOr<typename Op::Request> request = Wire<Op>::Parse(in);
        if (!request.ok()) return respond(ErrorResponse(plane, request.status()));
        Status submitted = Op::Submit(ledger, std::move(context), std::move(*request),
                                      [plane, respond](typename Op::Answer answer) { respond(Answer(plane, answer)); });
        if (!submitted.ok()) respond(ErrorResponse(plane, submitted));
      };
    });
    return out;
  }();
  return *writes;
}

// ---- reads ----

StatusOr<std::optional<int>> MaxResults(const WireInput& in) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<int64_t> n, in.QueryInt("maxResults"));
  if (!n) return std::optional<int>();
  if (*n < 1 || *n > 250) return InvalidRequest("maxResults: must be 1..250, got " + std::to_string(*n));
  return std::optional<int>(static_cast<int>(*n));
}

StatusOr<std::optional<ExecutionStatus>> StatusQuery(const WireInput& in) {
  std::optional<std::string> s = in.Query("status");
  if (!s) return std::optional<ExecutionStatus>();
  std::optional<ExecutionStatus> parsed = ParseExecutionStatus(*s);
  if (!parsed) return InvalidRequest("status: not a job execution status: '" + *s + "'");
  return parsed;
}

template <typename T, typename RenderFn>
HttpResponse ReadAnswer(Plane plane, const StatusOr<T>& answer, RenderFn render) {
  return answer.ok() ? Json(200, render(*answer)) : ErrorResponse(plane, answer.status());
}

StatusOr<HttpResponse> Read(ReadModels& reads, const std::string& op, WireInput& in, const ReadPoint& at, Plane plane) {
  if (op == "DescribeJob") {
    JOBLEDGER_RETURN_IF_ERROR(in.Finish());
    return ReadAnswer(plane, reads.DescribeJob(in.Label("jobId"), at), [](const Job& j) { return RenderDescribeJob(j); });
  }
  if (op == "GetJobDocument") {
    JOBLEDGER_RETURN_IF_ERROR(in.Finish());
    return ReadAnswer(plane, reads.GetJobDocument(in.Label("jobId"), at),
                      [](const std::string& d) { return RenderGetJobDocument(d); });
  }
  if (op == "ListJobs") {
    JOBLEDGER_RETURN_IF_ERROR(in.Finish({"status", "targetSelection", "maxResults", "nextToken", "thingGroupName",
                                         "thingGroupId"}));
    ListJobsRequest r;
    if (std::optional<std::string> s = in.Query("status")) {
      r.status = ParseJobStatus(*s);
      if (!r.status) return InvalidRequest("status: must be IN_PROGRESS, CANCELED, SUCCEEDED or COMPLETED, got '" + *s + "'");
    }
    if (std::optional<std::string> s = in.Query("targetSelection")) {
      r.target_selection = ParseTargetSelection(*s);
      if (!r.target_selection) return InvalidRequest("targetSelection: must be SNAPSHOT or CONTINUOUS, got '" + *s + "'");
    }
    r.thing_group_name = in.Query("thingGroupName");
    r.thing_group_id = in.Query("thingGroupId");
    JOBLEDGER_ASSIGN_OR_RETURN(r.max_results, MaxResults(in));
    r.next_token = in.Query("nextToken");
    return ReadAnswer(plane, reads.ListJobs(r, at), [](const ListJobsResult& l) { return RenderListJobs(l); });
  }
  if (op == "DescribeJobExecution") {
    if (plane == Plane::kDevice) {
      // The device plane's shape (jobDocument, $next) needs a read of its own.
      return InvalidRequest("DescribeJobExecution of the iot-jobs-data API is not served yet; the iot API's is");
    }
    JOBLEDGER_RETURN_IF_ERROR(in.Finish({"executionNumber"}));
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<int64_t> number, in.QueryInt("executionNumber"));
    return ReadAnswer(plane, reads.DescribeJobExecution(in.Label("jobId"), in.Label("thingName"), number, at),
                      [](const JobExecution& e) { return RenderDescribeJobExecution(e); });
  }
  if (op == "ListJobExecutionsForJob" || op == "ListJobExecutionsForThing") {
    JOBLEDGER_RETURN_IF_ERROR(in.Finish({"status", "maxResults", "nextToken"}));
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<ExecutionStatus> status, StatusQuery(in));
    JOBLEDGER_ASSIGN_OR_RETURN(std::optional<int> max, MaxResults(in));
    if (op == "ListJobExecutionsForJob") {
      ListJobExecutionsForJobRequest r{in.Label("jobId"), status, max, in.Query("nextToken")};
      return ReadAnswer(plane, reads.ListJobExecutionsForJob(r, at),
                        [](const auto& l) { return RenderListJobExecutionsForJob(l); });
    }
    ListJobExecutionsForThingRequest r{in.Label("thingName"), status, max, in.Query("nextToken")};
    return ReadAnswer(plane, reads.ListJobExecutionsForThing(r, at),
                      [](const auto& l) { return RenderListJobExecutionsForThing(l); });
  }
  if (op == "GetPendingJobExecutions") {
    JOBLEDGER_RETURN_IF_ERROR(in.Finish());
    return ReadAnswer(plane, reads.GetPendingJobExecutions(in.Label("thingName"), at),
                      [](const GetPendingJobExecutionsResponse& p) { return RenderGetPendingJobExecutions(p); });
  }
  return Status(StatusCode::kUnimplemented, op + ": not served yet");
}

// Whether `caller` may run `route` with `labels`; the refusal otherwise.
std::optional<HttpResponse> Authorize(const Caller& caller, const Route& route,
                                      const std::map<std::string, std::string>& labels) {
  const Principal& p = *caller.principal;
  std::string why;
  if (p.role == Role::kReader && route.write) {
    why = p.principal + " is a reader and may not call " + std::string(route.operation);
  } else if (p.role == Role::kDevice) {
    auto thing = labels.find("thingName");
    if (caller.plane != Plane::kDevice) {
      why = p.principal + " is a device and may call only the iot-jobs-data API";
    } else if (thing == labels.end() || thing->second != p.thing_name) {
      why = p.principal + " may act only for thing '" + p.thing_name + "'";
    }
  }
  if (why.empty()) return std::nullopt;
  // The control plane declares UnauthorizedException (401); the device plane declares
  // none, so it answers as AWS does for a refused call.
  return caller.plane == Plane::kControl ? Refusal(401, "UnauthorizedException", why)
                                         : Refusal(403, "AccessDeniedException", why);
}

}  // namespace

HttpResponse ErrorResponse(Plane plane, const Status& status) {
  switch (status.aws_error()) {
    case AwsError::kInvalidRequest:
      return Refusal(400, "InvalidRequestException", status.message());
    case AwsError::kResourceNotFound:
      return Refusal(404, "ResourceNotFoundException", status.message());
    case AwsError::kResourceAlreadyExists:
      return Refusal(409, "ResourceAlreadyExistsException", status.message());
    case AwsError::kVersionConflict:
      return Refusal(409, "VersionConflictException", status.message());
    case AwsError::kInvalidStateTransition:
      return Refusal(409, "InvalidStateTransitionException", status.message());
    case AwsError::kLimitExceeded:
      return plane == Plane::kControl ? Refusal(410, "LimitExceededException", status.message())
                                      : Refusal(400, "InvalidRequestException", status.message());
    case AwsError::kNone:
      break;
  }
  if (status.code() == StatusCode::kInvalidArgument) return Refusal(400, "InvalidRequestException", status.message());
  if (status.code() == StatusCode::kResourceExhausted) {
    return Refusal(plane == Plane::kControl ? 400 : 429, "ThrottlingException", status.message());
  }
  return plane == Plane::kControl ? Refusal(500, "InternalFailureException", status.message())
                                  : Refusal(503, "ServiceUnavailableException", status.message());
}

void Service::Handle(HttpRequest request, Respond respond_now) {
  // Every answer is counted by operation ("-" before one is known) and status, with
  // its latency.
  const auto start = std::chrono::steady_clock::now();
  auto answer = [this, start, respond_now = std::move(respond_now)](const std::string& op, HttpResponse response) {
    metrics_.Record(op, response.status,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    respond_now(std::move(response));
  };
  // Health and metrics: unsigned, for probes and scrapers.
  if (request.method == "GET" && request.target == "/ping") {
    return answer("Ping", Json(200, nlohmann::json{{"status", "ok"}, {"headSequence", ledger_.log().head().sequence}}.dump()));
  }
  if (request.method == "GET" && request.target == "/metrics") {
    return answer("Metrics",
                  HttpResponse{200, {{"Content-Type", "text/plain; version=0.0.4"}}, metrics_.Render(ledger_.log())});
  }
  auto respond = [&answer](HttpResponse response) { answer("-", std::move(response)); };
  SignedRequest signed_request{request.method, request.target, request.headers, request.body};
  auto auth = Authenticate(signed_request, credentials_, ledger_.context().region, wall_clock_.NowMicros());
  if (const AuthFailure* failure = std::get_if<AuthFailure>(&auth)) {
    return respond(Refusal(failure->http_status, failure->error_type, failure->message));
  }
  const Caller caller = std::get<Caller>(auth);
  StatusOr<RouteMatch> match = MatchRoute(caller.plane, request.method, request.target);
  if (!match.ok()) {
    if (match.status().code() == StatusCode::kNotFound) {
      return respond(Refusal(404, "UnknownOperationException", match.status().message()));
    }
    return respond(ErrorResponse(caller.plane, InvalidRequest(match.status().message())));
  }
  if (std::optional<HttpResponse> refused = Authorize(caller, *match->route, match->labels)) {
    return respond(std::move(*refused));
  }
  StatusOr<WireInput> in = WireInput::From(*match, request.body);
  if (!in.ok()) return respond(ErrorResponse(caller.plane, in.status()));
  const std::string operation(match->route->operation);
  auto respond_op = [&answer, &operation](HttpResponse response) { answer(operation, std::move(response)); };
  const bool past = match->when.at_sequence || match->when.as_of;
  if (match->route->write) {
    if (past) {
      return respond_op(ErrorResponse(caller.plane, InvalidRequest(operation + ": a write cannot be made as of a past "
                                                                               "point (/at-seq/ or /as-of/)")));
    }
    // Recent SDKs resend a call that timed out with the same invocation id.
    RequestContext context{caller.principal->principal, request.Header("amz-sdk-invocation-id")};
    return Writes().at(operation)(ledger_, caller.plane, std::move(context), *in,
                                  [answer, operation](HttpResponse response) { answer(operation, std::move(response)); });
  }
  ReadPoint at;
  if (match->when.at_sequence) {
    at = ReadPoint::AtSequence(*match->when.at_sequence);
  } else if (match->when.as_of) {
    std::optional<int64_t> t = ParseTime(*match->when.as_of);
    if (!t) {
      return respond_op(ErrorResponse(caller.plane, InvalidRequest("as-of: must be RFC 3339 or epoch seconds, got '" +
                                                                   *match->when.as_of + "'")));
    }
    StatusOr<ReadPoint> point = AtTime(ledger_.log(), *t);
    if (!point.ok()) return respond_op(ErrorResponse(caller.plane, point.status()));
    at = *point;
  }
  StatusOr<HttpResponse> read = Read(reads_, operation, *in, at, caller.plane);
  respond_op(read.ok() ? std::move(*read) : ErrorResponse(caller.plane, read.status()));
}

}  // namespace jobledger::server
