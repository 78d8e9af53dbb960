// The investigator's commands: history (and --why), diff, verify, digest.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "jobledger/replay.h"
#include "tools/command.h"

namespace jobledger::cli {
namespace {

using Json = nlohmann::ordered_json;

Json ChangesJson(const std::vector<FieldChange>& changes) {
  Json out = Json::object();
  for (const FieldChange& c : changes) {
    Json change = Json::object();
    change["from"] = c.before ? Json::parse(*c.before) : Json();
    change["to"] = c.after ? Json::parse(*c.after) : Json();
    out[c.field] = change;
  }
  return out;
}

Json EntryJson(const AuditEntry& e) {
  Json j;
  j["sequence"] = e.sequence;
  j["recordedAt"] = static_cast<double>(e.recorded_at_micros) / 1e6;
  j["actor"] = e.actor;
  if (!e.request_id.empty()) j["requestId"] = e.request_id;
  j["cause"] = e.cause;
  j["type"] = EventKindName(e.kind);
  if (!e.job_id.empty()) j["jobId"] = e.job_id;
  if (!e.thing_name.empty()) j["thingName"] = e.thing_name;
  if (e.execution_number > 0) j["executionNumber"] = e.execution_number;
  j["changes"] = ChangesJson(e.changes);
  return j;
}

// "--from TIME | --from-seq N" (or --to): one end of a range.
struct RangeEnd {
  std::string time;
  int64_t seq = -1;

  void Add(CLI::App& c, const std::string& flag) {
    c.add_option("--" + flag, time);
    c.add_option("--" + flag + "-seq", seq);
  }

  // The sequence it names (`fallback` when neither flag is given).
  StatusOr<uint64_t> Sequence(Context& ctx, uint64_t fallback, const std::string& flag) const {
    if (!time.empty() && seq >= 0) return InvalidArgumentError("--" + flag + " and --" + flag + "-seq: give one");
    if (seq >= 0) {
      const uint64_t head = ctx.ledger().log().head().sequence;
      if (static_cast<uint64_t>(seq) > head) {
        return InvalidArgumentError("--" + flag + "-seq: " + std::to_string(seq) + " is beyond the head " +
                                    std::to_string(head));
      }
      return static_cast<uint64_t>(seq);
    }
    if (!time.empty()) {
      JOBLEDGER_ASSIGN_OR_RETURN(int64_t t, Time(flag));
      return ctx.ledger().log().LastSequenceAtOrBefore(t);
    }
    return fallback;
  }

  // The read point it names; one of the two flags is required.
  StatusOr<ReadPoint> Point(Context& ctx, const std::string& flag) const {
    if (time.empty() && seq < 0) return InvalidArgumentError("--" + flag + " or --" + flag + "-seq: one is required");
    if (!time.empty() && seq < 0) {
      JOBLEDGER_ASSIGN_OR_RETURN(int64_t t, Time(flag));
      return AtTime(ctx.ledger().log(), t);
    }
    JOBLEDGER_ASSIGN_OR_RETURN(uint64_t s, Sequence(ctx, 0, flag));
    return ReadPoint::AtSequence(s);
  }

 private:
  StatusOr<int64_t> Time(const std::string& flag) const {
    std::optional<int64_t> t = ParseTime(time);
    if (!t) return InvalidArgumentError("--" + flag + ": must be RFC 3339 or epoch seconds, got '" + time + "'");
    return *t;
  }
};

class History : public Command {
 public:
  void AddFlags(CLI::App& c) override {
    c.add_option("--job-id", job_id_);
    c.add_option("--thing-name", thing_name_);
    from_.Add(c, "from");
    to_.Add(c, "to");
    c.add_flag("--why", why_);
  }
  int Run(Context& ctx) override {
    JL_TRY(ctx, "", ctx.OpenReader());
    Auditor auditor(ctx.ledger().log(), ctx.reads());
    StatusOr<std::vector<AuditEntry>> entries = InvalidArgumentError("");
    if (why_) {
      if (ctx.globals().at_seq < 0) return ctx.Usage("--why: needs --at-seq N, the event to explain");
      entries = auditor.Why(static_cast<uint64_t>(ctx.globals().at_seq));
    } else {
      if (job_id_.empty() && thing_name_.empty()) return ctx.Usage("history: give --job-id, --thing-name or both");
      HistoryRequest h;
      if (!job_id_.empty()) h.job_id = job_id_;
      if (!thing_name_.empty()) h.thing_name = thing_name_;
      StatusOr<uint64_t> from = from_.Sequence(ctx, 1, "from");
      StatusOr<uint64_t> to = to_.Sequence(ctx, kMaxSequence, "to");
      if (!from.ok()) return ctx.Usage(from.status().message());
      if (!to.ok()) return ctx.Usage(to.status().message());
      h.from_sequence = *from;
      h.to_sequence = *to;
      entries = auditor.History(h);
    }
    if (!entries.ok()) return ctx.Report(entries.status(), why_ ? "Why" : "History");
    Json list = Json::array();
    for (const AuditEntry& e : *entries) list.push_back(EntryJson(e));
    ctx.out() << Json{{"events", list}}.dump(4) << "\n";
    return kExitOk;
  }

 private:
  std::string job_id_, thing_name_;
  RangeEnd from_, to_;
  bool why_ = false;
};

class Diff : public Command {
 public:
  void AddFlags(CLI::App& c) override {
    c.add_option("--job-id", job_id_)->required();
    from_.Add(c, "from");
    to_.Add(c, "to");
  }
  int Run(Context& ctx) override {
    JL_TRY(ctx, "", ctx.OpenReader());
    StatusOr<ReadPoint> from = from_.Point(ctx, "from");
    StatusOr<ReadPoint> to = to_.Point(ctx, "to");
    if (!from.ok()) return ctx.Usage(from.status().message());
    if (!to.ok()) return ctx.Usage(to.status().message());
    Auditor auditor(ctx.ledger().log(), ctx.reads());
    auto diff = auditor.Diff(job_id_, *from, *to);
    if (!diff.ok()) return ctx.Report(diff.status(), "Diff");
    Json j;
    j["jobId"] = job_id_;
    j["fromSequence"] = from->sequence;
    j["toSequence"] = to->sequence;
    Json entities = Json::array();
    for (const auto& d : *diff) entities.push_back(Json{{"entity", d.entity}, {"changes", ChangesJson(d.changes)}});
    j["differences"] = entities;
    ctx.out() << j.dump(4) << "\n";
    return kExitOk;
  }

 private:
  std::string job_id_;
  RangeEnd from_, to_;
};

StatusOr<Digest> ReadDigestFile(const std::string& path) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::string text, ArgumentText("file://" + path, "--digest"));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("sequence") || !j.contains("hash") ||
      !j["sequence"].is_number_unsigned() || !j["hash"].is_string()) {
    return InvalidArgumentError("--digest: '" + path + "' is not a digest ({\"sequence\": N, \"hash\": \"hex\"})");
  }
  std::optional<Hash> hash = HashFromHex(j["hash"].get<std::string>());
  if (!hash) return InvalidArgumentError("--digest: the hash in '" + path + "' is not 64 hex digits");
  return Digest{j["sequence"].get<uint64_t>(), *hash};
}

class Verify : public Command {
 public:
  void AddFlags(CLI::App& c) override { c.add_option("--digest", digest_file_); }
  int Run(Context& ctx) override {
    LedgerVerifyOptions options;
    if (!digest_file_.empty()) {
      StatusOr<Digest> d = ReadDigestFile(digest_file_);
      if (!d.ok()) return ctx.Usage(d.status().message());
      options.digest = *d;
    }
    JL_TRY(ctx, "", ctx.OpenReader());
    options.progress = [&ctx](uint64_t done, uint64_t total) { ctx.Progress("verify", done, total); };
    StatusOr<VerifyReport> report = VerifyLedger(ctx.ledger().log(), &ctx.ledger(), &ctx.projections(), options);
    ctx.EndProgress();
    if (!report.ok()) return ctx.Fail(report.status().message());
    Json j;
    j["verified"] = report->ok();
    j["events"] = report->events;
    if (report->ok()) {
      j["headSequence"] = report->head_sequence;
      j["headHash"] = HashToHex(report->head_hash);
    } else {
      const VerifyCheck* bad = report->first_problem();
      j["check"] = bad->name;
      j["firstBadSequence"] = bad->first_bad_sequence;
      j["problem"] = bad->problem + ": " + bad->detail;
    }
    Json checks = Json::array();
    for (const VerifyCheck& chk : report->checks) checks.push_back(Json{{"name", chk.name}, {"ok", chk.ok}});
    j["checks"] = checks;
    ctx.out() << j.dump(4) << "\n";
    return report->ok() ? kExitOk : kExitProblem;
  }

 private:
  std::string digest_file_;
};

class DigestCommand : public Command {
 public:
  void AddFlags(CLI::App& c) override { c.add_option("--out", out_file_); }
  int Run(Context& ctx) override {
    JL_TRY(ctx, "", ctx.OpenReader());
    const Digest d = ctx.ledger().log().digest();
    const std::string text = Json{{"sequence", d.sequence}, {"hash", HashToHex(d.hash)}}.dump(4);
    if (out_file_.empty()) {
      ctx.out() << text << "\n";
      return kExitOk;
    }
    std::ofstream out(out_file_);
    out << text << "\n";
    if (!out) return ctx.Fail("cannot write '" + out_file_ + "'");
    return kExitOk;
  }

 private:
  std::string out_file_;
};

}  // namespace

void AddAuditCommands(CommandSet& set) {
  set.Add<History>({"history",
                    "Events of a job, an execution or a thing, with who, when, why and the changes; "
                    "--why --at-seq N for the cause chain of event N.",
                    "jobledger history --job-id fw-2-1 --thing-name sensor-7 --from 2026-11-27T03:00:00Z"});
  set.Add<Diff>({"diff", "The differences of a job and its executions between two points.",
                 "jobledger diff --job-id fw-2-1 --from 2026-11-27T03:00:00Z --to-seq 1200"});
  set.Add<Verify>({"verify",
                   "Recomputes the hash chain, checks indexes, state and projections, and an optional digest; "
                   "exit 1 on a problem.",
                   "jobledger verify --digest digest-2026-11-27.json"});
  set.Add<DigestCommand>({"digest", "Prints the digest (head sequence and hash) to keep elsewhere.",
                          "jobledger digest --out /secure/digest-2026-11-27.json"});
}

}  // namespace jobledger::cli
