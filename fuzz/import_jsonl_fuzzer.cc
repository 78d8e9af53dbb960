// Fuzz target: the JSON-lines importer (jobledger/replay.h Import, jobledger/event_json.h),
// as a user's `jobledger import --file` presents a hostile or damaged export.
//
// The input is the file. If it starts with '!', the rest is re-chained first: every
// line that parses gets sequence i, the previous line's hash, a recordedAt that does
// not go back, an earlier cause and its true hash, so mutations of the bodies get past
// the chain checks and reach the ledger's fold and the projections, as a forged but
// self-consistent export would (the hashes are unkeyed: anyone can recompute them).
//
// Properties:
//   - every line that parses re-renders (EventToJsonLine) to a line that parses to the
//     same event and renders the same again;
//   - a refused import appends nothing (head sequence and digest stay those of the
//     empty ledger);
//   - an accepted import holds every line: head = line count, digest = the last hash,
//     the export of the ledger carries the file's hashes in order, and VerifyLedger
//     (chain, indexes, write-side state, projection drift) passes; AdvanceTo a week
//     past the last event succeeds, and VerifyLedger passes again.
//
// Known library bugs (open; see KnownBug below): Import does not check imported content
// against the commands' rules, so a forged file can make the ledger fold what no command
// would write (a rollout rate of -1000 x 1e300 is a float-to-int overflow in
// RolloutRate); and an event that does not survive encode/decode unchanged (an optional
// number given as 0, which the wire format stores as "absent") is folded as given, so
// the state and the projection differ from a fold of the stored log. With
// JOBLEDGER_FUZZ_SKIP_KNOWN=1 such inputs are skipped, so fuzzing can go past them; by
// default they fail.
//
// One ledger (with the "jobs" projection inline) serves every input; it is emptied
// after each import that wrote something.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <utility>
#include <vector>

#include "fuzz/fuzz_env.h"
#include "fuzz/fuzz_util.h"
#include "jobledger/clock.h"
#include "jobledger/event_json.h"
#include "jobledger/event_log.h"
#include "jobledger/jobs_projection.h"
#include "jobledger/ledger.h"
#include "jobledger/projection_manager.h"
#include "jobledger/replay.h"
#include "jobledger/validation.h"
#include "ledger/internal/codec.h"
#include "tests/support/ledger_stack.h"

namespace jobledger::fuzz {
namespace {

constexpr int64_t kStart = 1'764'237'600'000'000;  // 2025-11-27T10:00:00Z

class Rig {
 public:
  Rig() { Open(); }

  Ledger& ledger() { return *stack_->ledger; }
  ProjectionManager& projections() { return *stack_->projections; }

  void Reset() {
    stack_.reset();
    dir_.Clear();
    Open();
  }

 private:
  void Open() {
    clock_.Set(kStart);
    stack_ = OpenFuzzLedger(&clock_, dir_.path() + "/ledger");
  }

  ScratchDir dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<testing::LedgerStack> stack_;
};

Rig& TheRig() {
  static Rig rig;
  return rig;
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Re-chains every line that parses (see the file comment); others stay as they are.
std::string Rechain(std::string_view text) {
  std::string out;
  Hash previous{};
  int64_t last_time = INT64_MIN;
  uint64_t sequence = 0;
  for (const std::string& line : Lines(text)) {
    StatusOr<ParsedEvent> parsed = EventFromJsonLine(line);
    if (!parsed.ok()) {
      out += line + "\n";
      continue;
    }
    Event e = std::move(parsed->event);
    e.sequence = ++sequence;
    e.previous_hash = previous;
    if (e.recorded_at_micros < last_time) e.recorded_at_micros = last_time;
    last_time = e.recorded_at_micros;
    if (e.cause >= e.sequence) e.cause = e.sequence - 1;
    previous = EventHash(e);
    out += EventToJsonLine(e, previous) + "\n";
  }
  return out;
}

// Every line that parses renders to a line that parses to the same event.
void CheckLineRoundTrips(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    StatusOr<ParsedEvent> parsed = EventFromJsonLine(line);
    if (!parsed.ok()) {
      JOBLEDGER_FUZZ_CHECK(parsed.status().code() == StatusCode::kInvalidArgument,
                           "a bad line is not kInvalidArgument: " + parsed.status().ToString());
      continue;
    }
    JOBLEDGER_FUZZ_CHECK(KindOf(parsed->event.body) != EventKind::kUnknown,
                         "a line parsed to an UnknownEvent: " + line);
    const std::string rendered = EventToJsonLine(parsed->event, parsed->hash);
    StatusOr<ParsedEvent> again = EventFromJsonLine(rendered);
    JOBLEDGER_FUZZ_CHECK(
        again.ok(), "an accepted line re-renders to a refused one: " + again.status().ToString() +
                        "\n  line: " + line + "\n  rendered: " + rendered);
    JOBLEDGER_FUZZ_CHECK(
        again->event == parsed->event && again->hash == parsed->hash,
        "render/parse changed the event\n  line: " + line + "\n  rendered: " + rendered);
    JOBLEDGER_FUZZ_CHECK(EventToJsonLine(again->event, again->hash) == rendered,
                         "rendering is not stable: " + rendered);
  }
}

bool SkipKnown() {
  static const bool skip = [] {
    const char* v = std::getenv("JOBLEDGER_FUZZ_SKIP_KNOWN");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return skip;
}

// Whether the ledger's commands would have refused this content (known bug: Import does
// not check it).
bool BreaksTheRules(const Event& e) {
  const ValidationContext context;
  return std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, JobCreated>) {
          CreateJobRequest r{b.job_id, b.targets, b.document, b.description, b.target_selection,
                             b.presigned_url_config, b.job_executions_rollout_config,
                             b.abort_config, b.timeout_config};
          return !Validate(r, context).ok();
        } else if constexpr (std::is_same_v<T, JobUpdated>) {
          UpdateJobRequest r{b.job_id, b.description, b.presigned_url_config,
                             b.job_executions_rollout_config, b.abort_config, b.timeout_config};
          return !Validate(r, context).ok();
        } else if constexpr (std::is_same_v<T, ExecutionStatusChanged> ||
                             std::is_same_v<T, ExecutionCanceled>) {
          return !ValidateJobId(b.job_id).ok() || !ValidateThingName(b.thing_name).ok() ||
                 (b.status_details && !ValidateStatusDetails(*b.status_details, {}).ok());
        } else if constexpr (requires { b.job_id; }) {
          return !ValidateJobId(b.job_id).ok();
        } else if constexpr (requires { b.thing_name; }) {
          return !ValidateThingName(b.thing_name).ok();
        } else {
          return false;
        }
      },
      e.body);
}

// True when the input reaches a known open bug: an event that differs from what the log
// stores for it (decode(encode)), or one whose content breaks the commands' rules.
bool KnownBug(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    StatusOr<ParsedEvent> parsed = EventFromJsonLine(line);
    if (!parsed.ok()) continue;
    StatusOr<Event> stored =
        internal::DecodeEvent(internal::EncodeEvent(parsed->event), parsed->event.sequence);
    if (!stored.ok() || !(*stored == parsed->event)) return true;
    if (BreaksTheRules(parsed->event)) return true;
  }
  return false;
}

void CheckVerified(Rig& rig, const char* when) {
  StatusOr<VerifyReport> report =
      VerifyLedger(rig.ledger().log(), &rig.ledger(), &rig.projections());
  JOBLEDGER_FUZZ_CHECK(report.ok(),
                       std::string("VerifyLedger ") + when + ": " + report.status().ToString());
  if (const VerifyCheck* bad = report->first_problem()) {
    JOBLEDGER_FUZZ_CHECK(false, std::string("VerifyLedger ") + when + ": check '" + bad->name +
                                    "' failed at " + std::to_string(bad->first_bad_sequence) +
                                    ": " + bad->problem + ": " + bad->detail);
  }
}

void TestOneInput(std::string_view input) {
  std::string text(input);
  if (!text.empty() && text[0] == '!') text = Rechain(std::string_view(text).substr(1));
  const std::vector<std::string> lines = Lines(text);
  CheckLineRoundTrips(lines);

  if (SkipKnown() && KnownBug(lines)) return;

  Rig& rig = TheRig();
  const Digest empty = rig.ledger().log().digest();
  JOBLEDGER_FUZZ_CHECK(empty.sequence == 0, "the rig's ledger is not empty");
  std::istringstream in(text);
  StatusOr<ImportResult> imported = Import(rig.ledger(), in);
  if (!imported.ok()) {
    const Digest after = rig.ledger().log().digest();
    if (after == empty) return;
    rig.Reset();
    JOBLEDGER_FUZZ_CHECK(false, "a refused import appended events: head " +
                                    std::to_string(after.sequence) + " after " +
                                    imported.status().ToString());
  }

  // Accepted: everything is there, exactly as in the file.
  const Digest digest = rig.ledger().log().digest();
  JOBLEDGER_FUZZ_CHECK(imported->events == lines.size() && digest.sequence == lines.size(),
                       "imported " + std::to_string(imported->events) + " events from " +
                           std::to_string(lines.size()) + " lines");
  JOBLEDGER_FUZZ_CHECK(imported->digest == digest, "ImportResult.digest is not the log's digest");
  if (!lines.empty()) {
    StatusOr<ParsedEvent> last = EventFromJsonLine(lines.back());
    JOBLEDGER_FUZZ_CHECK(last.ok() && last->hash == digest.hash,
                         "digest is not the last line's hash");
  }
  std::ostringstream exported;
  StatusOr<uint64_t> n = Export(rig.ledger().log(), 1, kMaxSequence, exported);
  JOBLEDGER_FUZZ_CHECK(
      n.ok() && *n == lines.size(),
      "export after import: " + (n.ok() ? std::to_string(*n) : n.status().ToString()));
  const std::vector<std::string> out_lines = Lines(exported.str());
  for (size_t i = 0; i < lines.size() && i < out_lines.size(); ++i) {
    StatusOr<ParsedEvent> in_event = EventFromJsonLine(lines[i]);
    StatusOr<ParsedEvent> out_event = EventFromJsonLine(out_lines[i]);
    JOBLEDGER_FUZZ_CHECK(out_event.ok(), "an exported line does not parse: " + out_lines[i]);
    JOBLEDGER_FUZZ_CHECK(in_event->hash == out_event->hash,
                         "line " + std::to_string(i + 1) + " exports with another hash");
  }
  CheckVerified(rig, "after import");

  // Time-driven work on the imported state, then everything still agrees.
  int64_t latest = kStart;
  for (const std::string& line : lines) {
    StatusOr<ParsedEvent> e = EventFromJsonLine(line);
    if (e.ok() && e->event.recorded_at_micros > latest) latest = e->event.recorded_at_micros;
  }
  const int64_t week = 7LL * 24 * 3600 * 1'000'000;
  const int64_t until = latest < INT64_MAX - week ? latest + week : INT64_MAX;
  StatusOr<AdvanceResult> advanced = rig.ledger().AdvanceTo(until);
  // An accepted import that cannot advance would stop every later write (the CLI
  // advances before each command).
  JOBLEDGER_FUZZ_CHECK(advanced.ok(),
                       "AdvanceTo after an accepted import: " + advanced.status().ToString());
  CheckVerified(rig, "after AdvanceTo");
  rig.Reset();
}

}  // namespace
}  // namespace jobledger::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  jobledger::fuzz::TestOneInput(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
