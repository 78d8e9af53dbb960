// Replay and audit: what an incident investigator and an auditor use.
//
//   - As of a time: ReadPoint for "the state right after the last event recorded at
//     or before T" (AtTime); every ReadModels query takes a ReadPoint.
//   - History: the events of a job, an execution or a thing, each with who, when, why
//     (cause) and the field-level changes it made to the read models.
//   - Why: the cause chain of an event back to the command that started it.
//   - Diff: the differences of a job and its executions between two points.
//   - Verify: the hash chain, the indexes, the write-side state, the projections and
//     an optional digest, as one structured report.
//   - Export / import of the log as JSON lines (jobledger/event_json.h).
//
// Everything here reads; only Import writes (into an empty ledger).

#ifndef JOBLEDGER_REPLAY_H_
#define JOBLEDGER_REPLAY_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "jobledger/event_log.h"
#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"
#include "jobledger/read_models.h"

namespace jobledger {

// The state right after the last event recorded at or before `micros` (sequence 0
// if none); approximateSecondsBeforeTimedOut is computed against `micros`.
StatusOr<ReadPoint> AtTime(const EventLog& log, int64_t micros);

// One field a change touched. Values are JSON texts as the AWS CLI would print them
// ("\"IN_PROGRESS\"", "2"); nullopt where the field was absent.
struct FieldChange {
  std::string field;  // "status", "statusDetails.detailsMap.progress", "job.jobProcessDetails.numberOfQueuedThings"
  std::optional<std::string> before;
  std::optional<std::string> after;
  friend bool operator==(const FieldChange&, const FieldChange&) = default;
};

struct AuditEntry {
  uint64_t sequence = 0;
  int64_t recorded_at_micros = 0;
  std::string actor;
  std::string request_id;
  uint64_t cause = 0;
  EventKind kind = EventKind::kUnknown;
  std::string job_id;      // "" for thing-registry events
  std::string thing_name;  // "" for job-level events
  int64_t execution_number = 0;  // execution events only
  std::vector<FieldChange> changes;
};

struct HistoryRequest {
  std::optional<std::string> job_id;      // a job's events (with thing_name: one execution's)
  std::optional<std::string> thing_name;  // a thing's events
  uint64_t from_sequence = 1;
  uint64_t to_sequence = kMaxSequence;
  size_t limit = 10000;
};

class Auditor {
 public:
  // Not owned; all must outlive the auditor.
  Auditor(const EventLog& log, const ReadModels& reads) : log_(log), reads_(reads) {}

  StatusOr<std::vector<AuditEntry>> History(const HistoryRequest& request) const;
  // Event `sequence`, then its cause, its cause's cause, ... up to a direct command.
  StatusOr<std::vector<AuditEntry>> Why(uint64_t sequence) const;
  // One entry for any event.
  StatusOr<AuditEntry> Explain(const Event& event) const;

  struct EntityDiff {
    std::string entity;  // "job" or "execution <thingName>#<n>"
    std::vector<FieldChange> changes;
  };
  // The job and each of its executions that differ between the two points.
  StatusOr<std::vector<EntityDiff>> Diff(const std::string& job_id, const ReadPoint& from,
                                         const ReadPoint& to) const;

 private:
  const EventLog& log_;
  const ReadModels& reads_;
};

// ---- verification ----

struct VerifyCheck {
  std::string name;            // "chain", "indexes", "digest", "state", "projection jobs"
  bool ok = true;
  uint64_t first_bad_sequence = 0;
  std::string problem;         // a kind: "hash-mismatch", "drift", ...
  std::string detail;
};

struct VerifyReport {
  bool ok() const;
  uint64_t events = 0;
  uint64_t head_sequence = 0;
  Hash head_hash{};
  std::vector<VerifyCheck> checks;
  // The first failed check, if any.
  const VerifyCheck* first_problem() const;
};

struct LedgerVerifyOptions {
  std::optional<Digest> digest;
  bool check_state = true;        // needs `ledger`
  bool check_projections = true;  // needs `projections`
  // (done, total) during the chain pass.
  std::function<void(uint64_t, uint64_t)> progress;
};

// Runs every check; `ledger` and `projections` may be null (those checks are
// skipped). On a read-only log, the state and projections are folded in memory.
StatusOr<VerifyReport> VerifyLedger(const EventLog& log, Ledger* ledger,
                                    ProjectionManager* projections,
                                    const LedgerVerifyOptions& options = {});

// ---- export / import ----

// Writes events [from, to] as JSON lines. Returns how many.
StatusOr<uint64_t> Export(const EventLog& log, uint64_t from, uint64_t to, std::ostream& out,
                          const std::function<void(uint64_t, uint64_t)>& progress = {});

struct ImportResult {
  uint64_t events = 0;
  Digest digest;
};

// Imports a JSON-lines export into an empty ledger. The whole file is checked first
// (every line parses, sequences run 1, 2, 3, ... with none missing or out of order,
// each previousHash is the previous line's hash, each hash matches its event): the
// first bad line is refused with its number and nothing is imported. The result has
// the source's sequences, hashes and digest.
StatusOr<ImportResult> Import(Ledger& ledger, std::istream& in,
                              const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace jobledger

#endif  // JOBLEDGER_REPLAY_H_
