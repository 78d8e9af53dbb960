#include "jobledger/replay.h"

#include "ledger/test_hooks.h"

#include <nlohmann/json.hpp>

#include <istream>
#include <map>
#include <ostream>
#include <set>

#include "jobledger/event_json.h"
#include "ledger/memory_rows.h"
#include "projections/json_mapping.h"

namespace jobledger {
namespace {

// A read model rendered and flattened: "status" -> "\"IN_PROGRESS\"", ...
using Flat = std::map<std::string, std::string>;

// Fields that depend on the reading's "now", not on the events.
bool Volatile(const std::string& field) { return field == "approximateSecondsBeforeTimedOut"; }

// A read model's document (projections/json_mapping.h), flattened: one entry per
// leaf, "statusDetails.detailsMap.progress" -> its JSON value.
Flat Flatten(const nlohmann::ordered_json& document, const std::string& prefix = "") {
  Flat out;
  const nlohmann::ordered_json flat = document.flatten();
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    std::string path = it.key();  // "/statusDetails/detailsMap/progress"
    std::string field;
    for (char c : path.substr(1)) field.push_back(c == '/' ? '.' : c);
    // Empty objects and lists flatten to null; they add nothing to a change list.
    if (Volatile(field) || it.value().is_null()) continue;
    out[prefix + field] = it.value().dump();
  }
  return out;
}

void DiffInto(const Flat& before, const Flat& after, std::vector<FieldChange>* out) {
  std::set<std::string> keys;
  for (const auto& [k, v] : before) keys.insert(k);
  for (const auto& [k, v] : after) keys.insert(k);
  for (const std::string& k : keys) {
    auto b = before.find(k);
    auto a = after.find(k);
    std::optional<std::string> bv = b == before.end() ? std::nullopt : std::optional<std::string>(b->second);
    std::optional<std::string> av = a == after.end() ? std::nullopt : std::optional<std::string>(a->second);
    if (bv != av) out->push_back(FieldChange{k, bv, av});
  }
}

// The rendered read model of a job / an execution at a point; empty when absent.
StatusOr<Flat> JobAt(const ReadModels& reads, const std::string& job_id, const ReadPoint& at,
                     const std::string& prefix = "") {
  StatusOr<Job> job = reads.DescribeJob(job_id, at);
  if (!job.ok()) {
    if (job.status().aws_error() == AwsError::kResourceNotFound) return Flat{};
    return job.status();
  }
  return Flatten(ToJson(*job), prefix);
}

StatusOr<Flat> ExecutionAt(const ReadModels& reads, const std::string& job_id,
                           const std::string& thing, int64_t number, const ReadPoint& at) {
  StatusOr<JobExecution> e = reads.DescribeJobExecution(job_id, thing, number, at);
  if (!e.ok()) {
    if (e.status().aws_error() == AwsError::kResourceNotFound) return Flat{};
    return e.status();
  }
  return Flatten(ToJson(*e));
}

// Only the job's counters, for the job-side effect of an execution event.
Flat CountersOnly(const Flat& job) {
  Flat out;
  for (const auto& [k, v] : job) {
    if (k.find("jobProcessDetails.") != std::string::npos) out[k] = v;
  }
  return out;
}

int64_t ExecutionNumberOf(const EventBody& body) {
  return std::visit(
      [](const auto& b) -> int64_t {
        if constexpr (requires { b.execution_number; }) {
          return b.execution_number;
        } else {
          return 0;
        }
      },
      body);
}

}  // namespace

StatusOr<ReadPoint> AtTime(const EventLog& log, int64_t micros) {
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t seq, log.LastSequenceAtOrBefore(micros));
  ReadPoint p;
  p.sequence = seq;
  p.now_micros = micros;
  return p;
}

StatusOr<AuditEntry> Auditor::Explain(const Event& event) const {
  AuditEntry entry;
  entry.sequence = event.sequence;
  entry.recorded_at_micros = event.recorded_at_micros;
  entry.actor = event.actor;
  entry.request_id = event.request_id;
  entry.cause = event.cause;
  entry.kind = KindOf(event.body);
  entry.job_id = std::string(JobIdOf(event.body));
  entry.thing_name = std::string(ThingNameOf(event.body));
  entry.execution_number = ExecutionNumberOf(event.body);
  const ReadPoint before = ReadPoint::AtSequence(event.sequence - 1);
  const ReadPoint after = ReadPoint::AtSequence(event.sequence);
  if (entry.job_id.empty()) return entry;  // the thing registry has no read model of its own
  if (!entry.thing_name.empty() && entry.execution_number > 0) {
    JOBLEDGER_ASSIGN_OR_RETURN(Flat b, ExecutionAt(reads_, entry.job_id, entry.thing_name, entry.execution_number, before));
    JOBLEDGER_ASSIGN_OR_RETURN(Flat a, ExecutionAt(reads_, entry.job_id, entry.thing_name, entry.execution_number, after));
    DiffInto(b, a, &entry.changes);
    JOBLEDGER_ASSIGN_OR_RETURN(Flat jb, JobAt(reads_, entry.job_id, before, "job."));
    JOBLEDGER_ASSIGN_OR_RETURN(Flat ja, JobAt(reads_, entry.job_id, after, "job."));
    DiffInto(CountersOnly(jb), CountersOnly(ja), &entry.changes);
    return entry;
  }
  JOBLEDGER_ASSIGN_OR_RETURN(Flat b, JobAt(reads_, entry.job_id, before));
  JOBLEDGER_ASSIGN_OR_RETURN(Flat a, JobAt(reads_, entry.job_id, after));
  if (!b.empty() && a.empty()) {
    entry.changes.push_back(FieldChange{"deleted", "false", "true"});
  } else {
    DiffInto(b, a, &entry.changes);
  }
  return entry;
}

StatusOr<std::vector<AuditEntry>> Auditor::History(const HistoryRequest& request) const {
  if (!request.job_id && !request.thing_name) {
    return InvalidRequest("jobId or thingName: a history needs at least one of them");
  }
  std::vector<Event> events;
  if (request.job_id) {
    JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(*request.job_id));
    JOBLEDGER_ASSIGN_OR_RETURN(events, log_.ReadStream(StreamKind::kJob, *request.job_id,
                                                       request.from_sequence, request.to_sequence));
    if (request.thing_name) {
      JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(*request.thing_name));
      std::erase_if(events, [&](const Event& e) { return ThingNameOf(e.body) != *request.thing_name; });
    }
  } else {
    JOBLEDGER_RETURN_IF_ERROR(ValidateThingName(*request.thing_name));
    JOBLEDGER_ASSIGN_OR_RETURN(events, log_.ReadStream(StreamKind::kThing, *request.thing_name,
                                                       request.from_sequence, request.to_sequence));
  }
  if (events.size() > request.limit) events.resize(request.limit);
  std::vector<AuditEntry> out;
  out.reserve(events.size());
  for (const Event& e : events) {
    JOBLEDGER_ASSIGN_OR_RETURN(AuditEntry entry, Explain(e));
    out.push_back(std::move(entry));
  }
  return out;
}

StatusOr<std::vector<AuditEntry>> Auditor::Why(uint64_t sequence) const {
  if (sequence == 0) return ResourceNotFound("sequence: no event 0; sequences start at 1");
  std::vector<AuditEntry> out;
  uint64_t next = sequence;
  // Causes always point back, so the chain ends; the bound guards a corrupt log.
  for (int depth = 0; next != 0 && depth < 1000; ++depth) {
    StatusOr<Event> e = log_.Read(next);
    if (!e.ok()) {
      if (e.status().code() == StatusCode::kNotFound) {
        return ResourceNotFound("sequence: no event " + std::to_string(next) + " (head is " +
                                std::to_string(log_.head().sequence) + ")");
      }
      return e.status();
    }
    if (e->cause >= e->sequence) {
      return DataLossError("event " + std::to_string(e->sequence) + ": cause " +
                           std::to_string(e->cause) + " is not an earlier event");
    }
    JOBLEDGER_ASSIGN_OR_RETURN(AuditEntry entry, Explain(*e));
    out.push_back(std::move(entry));
    next = e->cause;
  }
  return out;
}

StatusOr<std::vector<Auditor::EntityDiff>> Auditor::Diff(const std::string& job_id,
                                                        const ReadPoint& from,
                                                        const ReadPoint& to) const {
  JOBLEDGER_RETURN_IF_ERROR(ValidateJobId(job_id));
  std::vector<EntityDiff> out;
  JOBLEDGER_ASSIGN_OR_RETURN(Flat jb, JobAt(reads_, job_id, from));
  JOBLEDGER_ASSIGN_OR_RETURN(Flat ja, JobAt(reads_, job_id, to));
  if (jb.empty() && ja.empty()) {
    return ResourceNotFound("jobId: no job '" + job_id + "' at either point");
  }
  EntityDiff job{"job", {}};
  DiffInto(jb, ja, &job.changes);
  if (!job.changes.empty()) out.push_back(std::move(job));
  // Every execution present at either point.
  std::set<std::pair<std::string, int64_t>> executions;
  for (const ReadPoint* at : {&from, &to}) {
    ListJobExecutionsForJobRequest list;
    list.job_id = job_id;
    list.max_results = 250;
    for (;;) {
      StatusOr<ListJobExecutionsForJobResult> page = reads_.ListJobExecutionsForJob(list, *at);
      if (!page.ok()) {
        if (page.status().aws_error() == AwsError::kResourceNotFound) break;
        return page.status();
      }
      for (const auto& s : page->execution_summaries) {
        executions.emplace(s.thing_name, s.job_execution_summary.execution_number);
      }
      if (!page->next_token) break;
      list.next_token = page->next_token;
    }
  }
  for (const auto& [thing, number] : executions) {
    JOBLEDGER_ASSIGN_OR_RETURN(Flat b, ExecutionAt(reads_, job_id, thing, number, from));
    JOBLEDGER_ASSIGN_OR_RETURN(Flat a, ExecutionAt(reads_, job_id, thing, number, to));
    EntityDiff d{"execution " + thing + "#" + std::to_string(number), {}};
    DiffInto(b, a, &d.changes);
    if (!d.changes.empty()) out.push_back(std::move(d));
  }
  return out;
}

// ---- verification ----

bool VerifyReport::ok() const { return first_problem() == nullptr; }

const VerifyCheck* VerifyReport::first_problem() const {
  for (const VerifyCheck& c : checks) {
    if (!c.ok) return &c;
  }
  return nullptr;
}

StatusOr<VerifyReport> VerifyLedger(const EventLog& log, Ledger* ledger,
                                    ProjectionManager* projections,
                                    const LedgerVerifyOptions& options) {
  VerifyReport report;
  VerifyOptions vo;
  vo.check_indexes = true;
  vo.digest = options.digest;
  vo.progress = options.progress;
  JOBLEDGER_ASSIGN_OR_RETURN(VerifyResult chain, log.Verify(vo));
  report.events = chain.events_checked;
  report.head_sequence = chain.to;
  report.head_hash = chain.last_hash;
  // Returns the index of a new check (an index: later checks may move the vector).
  auto check = [&](std::string name) -> size_t {
    report.checks.push_back(VerifyCheck{std::move(name), true, 0, "", ""});
    return report.checks.size() - 1;
  };
  {
    const size_t c = check("chain");
    const size_t i = check("indexes");
    const size_t d = check("digest");
    if (!options.digest) report.checks[d].detail = "no digest given";
    if (!chain.ok()) {
      VerifyCheck& failed = report.checks[chain.problem == VerifyProblem::kIndexMismatch ? i
                                          : (chain.problem == VerifyProblem::kDigestMismatch ||
                                             chain.problem == VerifyProblem::kTruncated)
                                              ? d
                                              : c];
      failed.ok = false;
      failed.first_bad_sequence = chain.first_bad_sequence;
      failed.problem = std::string(VerifyProblemName(chain.problem));
      failed.detail = chain.detail;
      return report;  // later checks assume an intact log
    }
  }
  if (options.check_state && ledger != nullptr) {
    const size_t index = check("state");
    JOBLEDGER_ASSIGN_OR_RETURN(StateCheckResult state, ledger->CheckState());
    VerifyCheck& c = report.checks[index];
    if (!state.ok()) {
      c.ok = false;
      c.problem = "drift";
      c.detail = std::to_string(state.differences.size()) + " row(s) differ from the log's fold, first: " +
                 state.differences.front();
    }
  }
  if (options.check_projections && projections != nullptr) {
    for (const ProjectionInfo& info : projections->Info()) {
      const size_t index = check("projection " + info.name);
      std::vector<std::string> differences;
      if (log.mode() == OpenMode::kReadWrite) {
        JOBLEDGER_ASSIGN_OR_RETURN(DriftReport drift, projections->CheckDrift(info.name));
        differences = std::move(drift.differences);
      } else {
        // Read-only: fold into memory, compare with the stored rows (the checkpoint row
        // is the machinery's and is skipped).
        Projection* projection = projections->Find(info.name);
        JOBLEDGER_ASSIGN_OR_RETURN(FamilyId stored, projections->ActiveFamily(info.name));
        MemoryRows memory;
        ProjectionWriter writer(memory, FamilyId{0});
        auto cursor = log.NewCursor(1, info.checkpoint);
        for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
          JOBLEDGER_RETURN_IF_ERROR(projection->Apply(cursor->event(), writer));
        }
        JOBLEDGER_RETURN_IF_ERROR(cursor->status());
        JOBLEDGER_ASSIGN_OR_RETURN(differences, CompareWithStored(memory, FamilyId{0}, log, stored,
                                                                  std::string_view("\0", 1)));
      }
      if (!differences.empty()) {
        VerifyCheck& c = report.checks[index];
        c.ok = false;
        c.problem = "drift";
        c.detail = std::to_string(differences.size()) + " row(s) differ from the log's fold, first: " +
                   differences.front();
      }
    }
  }
  return report;
}

// ---- export / import ----

StatusOr<uint64_t> Export(const EventLog& log, uint64_t from, uint64_t to, std::ostream& out,
                          const std::function<void(uint64_t, uint64_t)>& progress) {
  const uint64_t head = log.head().sequence;
  to = std::min(to, head);
  from = std::max<uint64_t>(from, 1);
  const uint64_t total = to >= from ? to - from + 1 : 0;
  uint64_t n = 0;
  auto cursor = log.NewCursor(from, to);
  for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
    // Never export an altered event as if it were intact.
    if (EventHash(cursor->event()) != cursor->hash()) {
      return DataLossError("event " + std::to_string(cursor->event().sequence) +
                           " does not match its stored hash (the event was altered); run verify");
    }
    out << EventToJsonLine(cursor->event(), cursor->hash()) << '\n';
    if (!out) return UnavailableError("export: writing failed after " + std::to_string(n) + " events");
    ++n;
    if (progress && n % kProgressEveryEvents == 0) progress(n, total);
  }
  JOBLEDGER_RETURN_IF_ERROR(cursor->status());
  if (n != total) {
    return DataLossError("export: read " + std::to_string(n) + " of events " + std::to_string(from) +
                         ".." + std::to_string(to));
  }
  if (progress) progress(n, total);
  return n;
}

StatusOr<ImportResult> Import(Ledger& ledger, std::istream& in,
                              const std::function<void(uint64_t, uint64_t)>& progress) {
  if (ledger.log().head().sequence != 0) {
    return FailedPreconditionError("import: the ledger at '" + ledger.log().path() +
                                   "' is not empty (head " + std::to_string(ledger.log().head().sequence) +
                                   "); import only into an empty ledger");
  }
  // First the whole file: parse and check every line, so a bad one imports nothing.
  std::vector<Event> events;
  Hash prev{};
  int64_t last_time = INT64_MIN;
  std::string line;
  for (uint64_t line_number = 1; std::getline(in, line); ++line_number) {
    if (line.empty()) return InvalidRequest("line " + std::to_string(line_number) + ": empty line");
    auto refuse = [&](const std::string& why) {
      return InvalidRequest("line " + std::to_string(line_number) + ": " + why + "; nothing was imported");
    };
    StatusOr<ParsedEvent> parsed = EventFromJsonLine(line);
    if (!parsed.ok()) return refuse(parsed.status().message());
    const Event& e = parsed->event;
    const uint64_t expected = events.size() + 1;
    if (e.sequence != expected) {
      return refuse("expected sequence " + std::to_string(expected) + ", found " +
                    std::to_string(e.sequence) + " (a line is missing or out of order)");
    }
    if (e.previous_hash != prev) {
      return refuse("previousHash is not the hash of the line before (a line was altered or removed)");
    }
    if (EventHash(e) != parsed->hash) {
      return refuse("the event does not hash to the hash on its line (the line was altered)");
    }
    if (e.recorded_at_micros < last_time) return refuse("recordedAt goes back in time");
    if (e.cause >= e.sequence) return refuse("cause is not an earlier event");
    last_time = e.recorded_at_micros;
    prev = parsed->hash;
    events.push_back(std::move(parsed->event));
  }
  if (in.bad()) return UnavailableError("import: reading the file failed");
  // Then what the events say: each must be what a command could have written, and the
  // state must fold from them without a contradiction, before anything is written.
  size_t bad = 0;
  if (Status importable = ledger.CheckImport(events, &bad); !importable.ok()) {
    return InvalidRequest("line " + std::to_string(bad + 1) + ": " + importable.message() +
                          "; nothing was imported");
  }
  // Then append, in chunks (each atomic).
  constexpr size_t kChunk = 4096;
  ImportResult result;
  for (size_t i = 0; i < events.size(); i += kChunk) {
    std::vector<Event> chunk(events.begin() + static_cast<long>(i),
                             events.begin() + static_cast<long>(std::min(events.size(), i + kChunk)));
    JOBLEDGER_RETURN_IF_ERROR(ledger.ImportEvents(chunk));
    result.events += chunk.size();
    testing::CrashPoint("import.after_chunk");
    if (progress) progress(result.events, events.size());
  }
  result.digest = ledger.log().digest();
  if (result.digest.hash != prev) {
    return DataLossError("import: the imported log's digest differs from the file's last hash");
  }
  return result;
}

}  // namespace jobledger
