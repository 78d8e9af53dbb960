// The ledger's own upkeep: advance, rebuild-projections, export, import, stats,
// compact, tail.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "jobledger/event_json.h"
#include "jobledger/replay.h"
#include "tools/command.h"

namespace jobledger::cli {
namespace {

using Json = nlohmann::ordered_json;

class Advance : public Command {
 public:
  void AddFlags(CLI::App&) override {}
  int Run(Context& ctx) override {
    JL_TRY(ctx, "", ctx.OpenWriter());  // opening a writer advances to --now
    Json j;
    j["appended"] = ctx.advanced();
    j["headSequence"] = ctx.ledger().log().head().sequence;
    StatusOr<std::optional<int64_t>> due = ctx.ledger().NextDue();
    if (!due.ok()) return ctx.Fail(due.status().message());
    if (*due) j["nextDue"] = FormatTime(**due);
    ctx.out() << j.dump(4) << "\n";
    return kExitOk;
  }
};

class RebuildProjections : public Command {
 public:
  void AddFlags(CLI::App& c) override {
    c.add_option("--projection", projection_);
    c.add_flag("--compare", compare_);
  }
  int Run(Context& ctx) override {
    JL_TRY(ctx, "", ctx.OpenWriter(Context::Advance::kNever));  // maintenance never appends
    RebuildOptions options;
    options.compare = compare_;
    options.progress = [&ctx](const RebuildProgress& p) {
      ctx.Progress("rebuild " + p.projection, p.events_done, p.events_total);
    };
    Json list = Json::array();
    for (const ProjectionInfo& info : ctx.projections().Info()) {
      if (!projection_.empty() && info.name != projection_) continue;
      StatusOr<RebuildReport> r = ctx.projections().Rebuild(info.name, options);
      ctx.EndProgress();
      if (!r.ok()) return ctx.Fail(r.status().message());
      Json j{{"projection", r->projection}, {"version", r->version}, {"family", r->family},
             {"events", r->events}, {"seconds", r->seconds}};
      if (compare_) j["differences"] = r->differences;
      list.push_back(j);
    }
    if (list.empty()) return ctx.Usage("--projection: no projection '" + projection_ + "'");
    ctx.out() << Json{{"rebuilt", list}}.dump(4) << "\n";
    return kExitOk;
  }

 private:
  std::string projection_;
  bool compare_ = false;
};

class ExportCommand : public Command {
 public:
  void AddFlags(CLI::App& c) override {
    c.add_option("--from-seq", from_seq_);
    c.add_option("--to-seq", to_seq_);
    c.add_option("--out", out_file_);
  }
  int Run(Context& ctx) override {
    JL_TRY(ctx, "", ctx.OpenReader());
    const uint64_t from = from_seq_ > 0 ? static_cast<uint64_t>(from_seq_) : 1;
    const uint64_t to = to_seq_ >= 0 ? static_cast<uint64_t>(to_seq_) : kMaxSequence;
    auto progress = [&ctx](uint64_t done, uint64_t total) { ctx.Progress("export", done, total); };
    StatusOr<uint64_t> n = InvalidArgumentError("");
    if (out_file_.empty()) {
      n = Export(ctx.ledger().log(), from, to, ctx.out(), {});
    } else {
      std::ofstream out(out_file_);
      if (!out) return ctx.Fail("cannot write '" + out_file_ + "'");
      n = Export(ctx.ledger().log(), from, to, out, progress);
    }
    ctx.EndProgress();
    if (!n.ok()) return ctx.Fail(n.status().message());
    return kExitOk;
  }

 private:
  int64_t from_seq_ = -1, to_seq_ = -1;
  std::string out_file_;
};

class ImportCommand : public Command {
 public:
  void AddFlags(CLI::App& c) override { c.add_option("--file", file_)->required(); }
  int Run(Context& ctx) override {
    std::ifstream in(file_);
    if (!in) return ctx.Usage("--file: cannot read '" + file_ + "'");
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
  }

 private:
  std::string file_;
};

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

class Stats : public Command {
 public:
  void AddFlags(CLI::App&) override {}
  int Run(Context& ctx) override {
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
  }
};

class Compact : public Command {
 public:
  void AddFlags(CLI::App&) override {}
  int Run(Context& ctx) override {
    JL_TRY(ctx, "", ctx.OpenWriter(Context::Advance::kNever));  // maintenance never appends
    EventLog& log = ctx.ledger().log();
    StatusOr<StorageStats> before = log.storage_stats();
    if (!before.ok()) return ctx.Fail(before.status().message());
    const auto start = std::chrono::steady_clock::now();
    Status compacted = log.Compact([&ctx](uint64_t done, uint64_t total) { ctx.Progress("compact", done, total); });
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
  }
};

class Tail : public Command {
 public:
  void AddFlags(CLI::App& c) override {
    c.add_option("--from-seq", from_seq_);
    c.add_flag("--follow", follow_);
  }
  int Run(Context& ctx) override {
    JL_TRY(ctx, "", ctx.OpenReader());
    EventLog& log = ctx.ledger().log();
    uint64_t next = from_seq_ > 0 ? static_cast<uint64_t>(from_seq_)
                                  : (log.head().sequence > 10 ? log.head().sequence - 9 : 1);
    for (;;) {
      auto cursor = log.NewCursor(next);
      for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
        ctx.out() << EventToJsonLine(cursor->event(), cursor->hash()) << "\n";
        next = cursor->event().sequence + 1;
      }
      if (cursor->state() == EventCursor::State::kFailed) return ctx.Fail(cursor->status().message());
      ctx.out().flush();
      if (!follow_) return kExitOk;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      // kUnavailable: the secondary's rows went stale after a flush by the writer;
      // events (all tail reads) are unaffected, so it goes on.
      Status caught = log.CatchUpWithPrimary();
      if (!caught.ok() && caught.code() != StatusCode::kUnavailable) return ctx.Fail(caught.message());
    }
  }

 private:
  int64_t from_seq_ = -1;
  bool follow_ = false;
};

}  // namespace

void AddMaintenanceCommands(CommandSet& set) {
  set.Add<Advance>({"advance", "Appends the time-driven work (rollout windows, timeouts) due by --now.",
                    "jobledger advance --now 2026-11-27T12:30:00Z"});
  set.Add<RebuildProjections>({"rebuild-projections", "Rebuilds projections from the log while writers go on.",
                               "jobledger rebuild-projections --projection jobs --compare"});
  set.Add<ExportCommand>({"export", "Writes the log as JSON lines (doc/export-format.md).",
                          "jobledger export --from-seq 1 --out ledger.jsonl"});
  set.Add<ImportCommand>({"import", "Imports a JSON-lines export into an empty ledger, verifying every line.",
                          "jobledger --db restored import --file ledger.jsonl"});
  set.Add<Stats>({"stats", "Events, head, sizes, projections and time range of a ledger.", "jobledger stats"});
  set.Add<Compact>({"compact",
                    "Compacts every family of the ledger fully (a writer: waits for the lock); "
                    "reads beside it are answered or told to retry.",
                    "jobledger compact"});
  set.Add<Tail>({"tail", "Prints events as JSON lines; --follow keeps printing as a live ledger grows.",
                 "jobledger tail --follow"});
}

}  // namespace jobledger::cli
