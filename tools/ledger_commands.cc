// The ledger's own commands: advance, history, diff, verify, digest,
// rebuild-projections, export, import, stats, compact, tail.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "jobledger/event_json.h"
#include "jobledger/replay.h"
#include "tools/cli_internal.h"

namespace jobledger::cli {
namespace {

using Json = nlohmann::ordered_json;

struct Flags {
  std::string job_id, thing_name, from, to, digest_file, out_file, file, projection;
  int64_t from_seq = -1, to_seq = -1, at_seq = -1;
  bool why = false, compare = false, follow = false;
};

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

// Resolves "--from TIME | --from-seq N" (or --to) to a sequence.
StatusOr<uint64_t> Bound(Context& ctx, const std::string& time, int64_t seq, uint64_t fallback,
                         const std::string& flag) {
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
    std::optional<int64_t> t = ParseTime(time);
    if (!t) return InvalidArgumentError("--" + flag + ": must be RFC 3339 or epoch seconds, got '" + time + "'");
    return ctx.ledger().log().LastSequenceAtOrBefore(*t);
  }
  return fallback;
}

StatusOr<ReadPoint> PointOf(Context& ctx, const std::string& time, int64_t seq, const std::string& flag) {
  if (time.empty() && seq < 0) return InvalidArgumentError("--" + flag + " or --" + flag + "-seq: one is required");
  if (!time.empty() && seq < 0) {
    std::optional<int64_t> t = ParseTime(time);
    if (!t) return InvalidArgumentError("--" + flag + ": must be RFC 3339 or epoch seconds, got '" + time + "'");
    return AtTime(ctx.ledger().log(), *t);
  }
  JOBLEDGER_ASSIGN_OR_RETURN(uint64_t s, Bound(ctx, time, seq, 0, flag));
  return ReadPoint::AtSequence(s);
}

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

std::string DigestJson(const Digest& d) {
  Json j;
  j["sequence"] = d.sequence;
  j["hash"] = HashToHex(d.hash);
  return j.dump(4);
}

// The storage part of `stats` and `compact`.
Json StorageJson(const StorageStats& s) {
  Json j;
  j["files"] = s.files;
  j["bytes"] = s.bytes;
  j["sstFiles"] = s.sst_files;
  j["sstBytes"] = s.sst_bytes;
  j["walFiles"] = s.wal_files;
  j["walBytes"] = s.wal_bytes;
  j["infoLogFiles"] = s.info_log_files;
  j["infoLogBytes"] = s.info_log_bytes;
  j["pendingCompactionBytes"] = s.pending_compaction_bytes;
  j["level0CompactionTrigger"] = s.level0_trigger;
  Json families = Json::array();
  for (const FamilyStorage& f : s.families) {
    families.push_back(Json{{"family", f.name}, {"sstFiles", f.sst_files}, {"sstBytes", f.sst_bytes},
                            {"level0Files", f.level0_files},
                            {"pendingCompactionBytes", f.pending_compaction_bytes}});
  }
  j["families"] = families;
  return j;
}

}  // namespace

void AddLedgerCommands(CLI::App& app, Context& ctx, std::function<int()>* action) {
  auto flags = std::make_shared<Flags>();
  Flags& f = *flags;
  auto cmd = [&](const char* name, const char* help, const char* example) {
    CLI::App* c = app.add_subcommand(name, help);
    c->footer(std::string("Example:\n  ") + example);
    return c;
  };

  CLI::App* c = cmd("advance", "Appends the time-driven work (rollout windows, timeouts) due by --now.",
                    "jobledger advance --now 2026-11-27T12:30:00Z");
  c->callback([&ctx, action] {
    *action = [&ctx]() -> int {
      JL_TRY(ctx, "", ctx.OpenWriter());  // opening a writer advances to --now
      Json j;
      j["appended"] = ctx.advanced();
      j["headSequence"] = ctx.ledger().log().head().sequence;
      StatusOr<std::optional<int64_t>> due = ctx.ledger().NextDue();
      if (!due.ok()) return ctx.Fail(due.status().message());
      if (*due) j["nextDue"] = FormatTime(**due);
      ctx.out() << j.dump(4) << "\n";
      return kExitOk;
    };
  });

  c = cmd("history", "Events of a job, an execution or a thing, with who, when, why and the changes; "
                     "--why --at-seq N for the cause chain of event N.",
          "jobledger history --job-id fw-2-1 --thing-name sensor-7 --from 2026-11-27T03:00:00Z");
  c->add_option("--job-id", f.job_id);
  c->add_option("--thing-name", f.thing_name);
  c->add_option("--from", f.from);
  c->add_option("--from-seq", f.from_seq);
  c->add_option("--to", f.to);
  c->add_option("--to-seq", f.to_seq);
  c->add_flag("--why", f.why);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      const Flags& a = *flags;
      JL_TRY(ctx, "", ctx.OpenReader());
      Auditor auditor(ctx.ledger().log(), ctx.reads());
      StatusOr<std::vector<AuditEntry>> entries = InvalidArgumentError("");
      if (a.why) {
        if (ctx.globals().at_seq < 0) return ctx.Usage("--why: needs --at-seq N, the event to explain");
        entries = auditor.Why(static_cast<uint64_t>(ctx.globals().at_seq));
      } else {
        if (a.job_id.empty() && a.thing_name.empty()) return ctx.Usage("history: give --job-id, --thing-name or both");
        HistoryRequest h;
        if (!a.job_id.empty()) h.job_id = a.job_id;
        if (!a.thing_name.empty()) h.thing_name = a.thing_name;
        StatusOr<uint64_t> from = Bound(ctx, a.from, a.from_seq, 1, "from");
        StatusOr<uint64_t> to = Bound(ctx, a.to, a.to_seq, kMaxSequence, "to");
        if (!from.ok()) return ctx.Usage(from.status().message());
        if (!to.ok()) return ctx.Usage(to.status().message());
        h.from_sequence = *from;
        h.to_sequence = *to;
        entries = auditor.History(h);
      }
      if (!entries.ok()) return ctx.Report(entries.status(), a.why ? "Why" : "History");
      Json list = Json::array();
      for (const AuditEntry& e : *entries) list.push_back(EntryJson(e));
      ctx.out() << Json{{"events", list}}.dump(4) << "\n";
      return kExitOk;
    };
  });

  c = cmd("diff", "The differences of a job and its executions between two points.",
          "jobledger diff --job-id fw-2-1 --from 2026-11-27T03:00:00Z --to-seq 1200");
  c->add_option("--job-id", f.job_id)->required();
  c->add_option("--from", f.from);
  c->add_option("--from-seq", f.from_seq);
  c->add_option("--to", f.to);
  c->add_option("--to-seq", f.to_seq);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      const Flags& a = *flags;
      JL_TRY(ctx, "", ctx.OpenReader());
      StatusOr<ReadPoint> from = PointOf(ctx, a.from, a.from_seq, "from");
      StatusOr<ReadPoint> to = PointOf(ctx, a.to, a.to_seq, "to");
      if (!from.ok()) return ctx.Usage(from.status().message());
      if (!to.ok()) return ctx.Usage(to.status().message());
      Auditor auditor(ctx.ledger().log(), ctx.reads());
      auto diff = auditor.Diff(a.job_id, *from, *to);
      if (!diff.ok()) return ctx.Report(diff.status(), "Diff");
      Json j;
      j["jobId"] = a.job_id;
      j["fromSequence"] = from->sequence;
      j["toSequence"] = to->sequence;
      Json entities = Json::array();
      for (const auto& d : *diff) entities.push_back(Json{{"entity", d.entity}, {"changes", ChangesJson(d.changes)}});
      j["differences"] = entities;
      ctx.out() << j.dump(4) << "\n";
      return kExitOk;
    };
  });

  c = cmd("verify", "Recomputes the hash chain, checks indexes, state and projections, and an optional digest; exit 1 on a problem.",
          "jobledger verify --digest digest-2026-11-27.json");
  c->add_option("--digest", f.digest_file);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      LedgerVerifyOptions options;
      if (!flags->digest_file.empty()) {
        StatusOr<Digest> d = ReadDigestFile(flags->digest_file);
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
    };
  });

  c = cmd("digest", "Prints the digest (head sequence and hash) to keep elsewhere.",
          "jobledger digest --out /secure/digest-2026-11-27.json");
  c->add_option("--out", f.out_file);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      JL_TRY(ctx, "", ctx.OpenReader());
      const std::string text = DigestJson(ctx.ledger().log().digest());
      if (flags->out_file.empty()) {
        ctx.out() << text << "\n";
        return kExitOk;
      }
      std::ofstream out(flags->out_file);
      out << text << "\n";
      if (!out) return ctx.Fail("cannot write '" + flags->out_file + "'");
      return kExitOk;
    };
  });

  c = cmd("rebuild-projections", "Rebuilds projections from the log while writers go on.",
          "jobledger rebuild-projections --projection jobs --compare");
  c->add_option("--projection", f.projection);
  c->add_flag("--compare", f.compare);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      JL_TRY(ctx, "", ctx.OpenWriter(Context::Advance::kNever));  // maintenance never appends
      RebuildOptions options;
      options.compare = flags->compare;
      options.progress = [&ctx](const RebuildProgress& p) { ctx.Progress("rebuild " + p.projection, p.events_done, p.events_total); };
      Json list = Json::array();
      for (const ProjectionInfo& info : ctx.projections().Info()) {
        if (!flags->projection.empty() && info.name != flags->projection) continue;
        StatusOr<RebuildReport> r = ctx.projections().Rebuild(info.name, options);
        ctx.EndProgress();
        if (!r.ok()) return ctx.Fail(r.status().message());
        Json j{{"projection", r->projection}, {"version", r->version}, {"family", r->family},
               {"events", r->events}, {"seconds", r->seconds}};
        if (flags->compare) j["differences"] = r->differences;
        list.push_back(j);
      }
      if (list.empty()) return ctx.Usage("--projection: no projection '" + flags->projection + "'");
      ctx.out() << Json{{"rebuilt", list}}.dump(4) << "\n";
      return kExitOk;
    };
  });

  c = cmd("export", "Writes the log as JSON lines (doc/export-format.md).",
          "jobledger export --from-seq 1 --out ledger.jsonl");
  c->add_option("--from-seq", f.from_seq);
  c->add_option("--to-seq", f.to_seq);
  c->add_option("--out", f.out_file);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      JL_TRY(ctx, "", ctx.OpenReader());
      const uint64_t from = flags->from_seq > 0 ? static_cast<uint64_t>(flags->from_seq) : 1;
      const uint64_t to = flags->to_seq >= 0 ? static_cast<uint64_t>(flags->to_seq) : kMaxSequence;
      auto progress = [&ctx](uint64_t done, uint64_t total) { ctx.Progress("export", done, total); };
      StatusOr<uint64_t> n = InvalidArgumentError("");
      if (flags->out_file.empty()) {
        n = Export(ctx.ledger().log(), from, to, ctx.out(), {});
      } else {
        std::ofstream out(flags->out_file);
        if (!out) return ctx.Fail("cannot write '" + flags->out_file + "'");
        n = Export(ctx.ledger().log(), from, to, out, progress);
      }
      ctx.EndProgress();
      if (!n.ok()) return ctx.Fail(n.status().message());
      return kExitOk;
    };
  });

  c = cmd("import", "Imports a JSON-lines export into an empty ledger, verifying every line.",
          "jobledger --db restored import --file ledger.jsonl");
  c->add_option("--file", f.file)->required();
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      std::ifstream in(flags->file);
      if (!in) return ctx.Usage("--file: cannot read '" + flags->file + "'");
      JL_TRY(ctx, "", ctx.OpenWriter(Context::Advance::kNever));  // exactly the imported events
      StatusOr<ImportResult> r = Import(ctx.ledger(), in, [&ctx](uint64_t done, uint64_t total) {
        ctx.Progress("import", done, total);
      });
      ctx.EndProgress();
      if (!r.ok()) {
        if (r.status().aws_error() == AwsError::kInvalidRequest) return ctx.Usage(r.status().message());
        return ctx.Fail(r.status().message());
      }
      Json j{{"imported", r->events}, {"headSequence", r->digest.sequence}, {"headHash", HashToHex(r->digest.hash)}};
      ctx.out() << j.dump(4) << "\n";
      return kExitOk;
    };
  });

  c = cmd("stats", "Events, head, sizes, projections and time range of a ledger.", "jobledger stats");
  c->callback([&ctx, action] {
    *action = [&ctx]() -> int {
      JL_TRY(ctx, "", ctx.OpenReader());
      const EventLog& log = ctx.ledger().log();
      const Head head = log.head();
      Json j;
      j["ledger"] = ctx.DbPath();
      j["events"] = head.sequence;
      j["headSequence"] = head.sequence;
      j["headHash"] = HashToHex(head.hash);
      if (head.sequence > 0) {
        StatusOr<Event> first = log.Read(1);
        if (first.ok()) j["firstRecordedAt"] = FormatTime(first->recorded_at_micros);
        j["lastRecordedAt"] = FormatTime(head.recorded_at_micros);
      }
      StatusOr<StorageStats> storage = log.storage_stats();
      if (!storage.ok()) return ctx.Fail(storage.status().message());
      j["bytes"] = storage->bytes;
      j["storage"] = StorageJson(*storage);
      Json projections = Json::array();
      for (const ProjectionInfo& info : ctx.projections().Info()) {
        projections.push_back(Json{{"name", info.name}, {"version", info.stored_version},
                                   {"codeVersion", info.code_version}, {"family", info.family},
                                   {"checkpoint", info.checkpoint}});
      }
      j["projections"] = projections;
      ctx.out() << j.dump(4) << "\n";
      return kExitOk;
    };
  });

  c = cmd("compact", "Compacts every family of the ledger fully (a writer: waits for the lock); "
                     "reads beside it are answered or told to retry.",
          "jobledger compact");
  c->callback([&ctx, action] {
    *action = [&ctx]() -> int {
      JL_TRY(ctx, "", ctx.OpenWriter(Context::Advance::kNever));  // maintenance never appends
      EventLog& log = ctx.ledger().log();
      StatusOr<StorageStats> before = log.storage_stats();
      if (!before.ok()) return ctx.Fail(before.status().message());
      const auto start = std::chrono::steady_clock::now();
      Status compacted = log.Compact([&ctx](uint64_t done, uint64_t total) {
        ctx.Progress("compact", done, total);
      });
      ctx.EndProgress();
      if (!compacted.ok()) return ctx.Fail(compacted.message());
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      StatusOr<StorageStats> after = log.storage_stats();
      if (!after.ok()) return ctx.Fail(after.status().message());
      Json j;
      j["compacted"] = after->families.size();
      j["seconds"] = seconds;
      j["before"] = StorageJson(*before);
      j["after"] = StorageJson(*after);
      ctx.out() << j.dump(4) << "\n";
      return kExitOk;
    };
  });

  c = cmd("tail", "Prints events as JSON lines; --follow keeps printing as a live ledger grows.",
          "jobledger tail --follow");
  c->add_option("--from-seq", f.from_seq);
  c->add_flag("--follow", f.follow);
  c->callback([&ctx, action, flags] {
    *action = [&ctx, flags]() -> int {
      JL_TRY(ctx, "", ctx.OpenReader());
      EventLog& log = ctx.ledger().log();
      uint64_t next = flags->from_seq > 0 ? static_cast<uint64_t>(flags->from_seq)
                                          : (log.head().sequence > 10 ? log.head().sequence - 9 : 1);
      for (;;) {
        auto cursor = log.NewCursor(next);
        for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
          ctx.out() << EventToJsonLine(cursor->event(), cursor->hash()) << "\n";
          next = cursor->event().sequence + 1;
        }
        if (cursor->state() == EventCursor::State::kFailed) return ctx.Fail(cursor->status().message());
        ctx.out().flush();
        if (!flags->follow) return kExitOk;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        // kUnavailable: the secondary's rows went stale after a flush by the writer;
        // events (all tail reads) are unaffected, so it goes on.
        Status caught = log.CatchUpWithPrimary();
        if (!caught.ok() && caught.code() != StatusCode::kUnavailable) return ctx.Fail(caught.message());
      }
    };
  });
}

}  // namespace jobledger::cli
