#include "ledger/internal/answers.h"

#include "ledger/config_wire.h"
#include "ledger/wire.h"

namespace jobledger::internal {
namespace {

constexpr char kFormat = 1;
constexpr char kJobReferenceTag = 'R';
constexpr char kUpdateTag = 'U';
constexpr char kStartNextTag = 'S';

WireWriter Begin(char tag) {
  WireWriter w;
  w.U64(static_cast<uint8_t>(tag));
  w.U64(static_cast<uint8_t>(kFormat));
  return w;
}

ExecutionStatus ReadStatus(WireReader& r, bool* ok) {
  const uint64_t v = r.U64();
  if (v > static_cast<uint64_t>(ExecutionStatus::kCanceled)) *ok = false;
  return static_cast<ExecutionStatus>(v);
}

Status Malformed(std::string_view request_id, std::string_view what) {
  return DataLossError("requests: the answer kept for requestId '" + std::string(request_id) + "' is " +
                       std::string(what));
}

// Reads the tag and format; false (with *status set) when they are not `tag`'s.
bool Opening(WireReader& r, char tag, std::string_view request_id, Status* status) {
  const uint64_t got = r.U64();
  const uint64_t format = r.U64();
  if (!r.ok()) {
    *status = Malformed(request_id, "malformed");
    return false;
  }
  if (got != static_cast<uint8_t>(tag)) {
    *status = InvalidRequest("requestId: '" + std::string(request_id) +
                             "' was first used by another kind of command; a retry repeats its "
                             "command, a new command takes a new request id");
    return false;
  }
  if (format != static_cast<uint8_t>(kFormat)) {
    *status = Malformed(request_id, "of format " + std::to_string(format) + "; this build reads format 1");
    return false;
  }
  return true;
}

}  // namespace

std::string EncodeAnswer(const JobReference& a) {
  WireWriter w = Begin(kJobReferenceTag);
  w.Str(a.job_arn);
  w.Str(a.job_id);
  WriteOptStr(w, a.description);
  return w.Take();
}

std::string EncodeAnswer(const UpdateJobExecutionResponse& a) {
  WireWriter w = Begin(kUpdateTag);
  w.Opt(a.execution_state, [&](const JobExecutionState& s) {
    w.U64(static_cast<uint64_t>(s.status));
    WriteDetails(w, s.status_details);
    w.I64(s.version_number);
  });
  WriteOptStr(w, a.job_document);
  return w.Take();
}

std::string EncodeAnswer(const StartNextPendingJobExecutionResponse& a) {
  WireWriter w = Begin(kStartNextTag);
  w.Opt(a.execution, [&](const DeviceJobExecution& e) {
    w.Str(e.job_id);
    w.Str(e.thing_name);
    w.U64(static_cast<uint64_t>(e.status));
    WriteDetails(w, e.status_details);
    w.I64(e.queued_at_micros);
    WriteOptI64(w, e.started_at_micros);
    w.I64(e.last_updated_at_micros);
    WriteOptI64(w, e.approximate_seconds_before_timed_out);
    w.I64(e.version_number);
    w.I64(e.execution_number);
    WriteOptStr(w, e.job_document);
  });
  return w.Take();
}

template <>
StatusOr<JobReference> DecodeAnswer(std::string_view bytes, std::string_view request_id) {
  WireReader r(bytes);
  Status opening;
  if (!Opening(r, kJobReferenceTag, request_id, &opening)) return opening;
  JobReference a;
  a.job_arn = r.Str();
  a.job_id = r.Str();
  a.description = ReadOptStr(r);
  if (!r.ok() || !r.AtEnd()) return Malformed(request_id, "malformed");
  return a;
}

template <>
StatusOr<UpdateJobExecutionResponse> DecodeAnswer(std::string_view bytes, std::string_view request_id) {
  WireReader r(bytes);
  Status opening;
  if (!Opening(r, kUpdateTag, request_id, &opening)) return opening;
  bool ok = true;
  UpdateJobExecutionResponse a;
  a.execution_state = r.Opt<JobExecutionState>([&] {
    JobExecutionState s;
    s.status = ReadStatus(r, &ok);
    s.status_details = ReadDetails(r);
    s.version_number = r.I64();
    return s;
  });
  a.job_document = ReadOptStr(r);
  if (!ok || !r.ok() || !r.AtEnd()) return Malformed(request_id, "malformed");
  return a;
}

template <>
StatusOr<StartNextPendingJobExecutionResponse> DecodeAnswer(std::string_view bytes,
                                                            std::string_view request_id) {
  WireReader r(bytes);
  Status opening;
  if (!Opening(r, kStartNextTag, request_id, &opening)) return opening;
  bool ok = true;
  StartNextPendingJobExecutionResponse a;
  a.execution = r.Opt<DeviceJobExecution>([&] {
    DeviceJobExecution e;
    e.job_id = r.Str();
    e.thing_name = r.Str();
    e.status = ReadStatus(r, &ok);
    e.status_details = ReadDetails(r);
    e.queued_at_micros = r.I64();
    e.started_at_micros = ReadOptI64(r);
    e.last_updated_at_micros = r.I64();
    e.approximate_seconds_before_timed_out = ReadOptI64(r);
    e.version_number = r.I64();
    e.execution_number = r.I64();
    e.job_document = ReadOptStr(r);
    return e;
  });
  if (!ok || !r.ok() || !r.AtEnd()) return Malformed(request_id, "malformed");
  return a;
}

}  // namespace jobledger::internal
