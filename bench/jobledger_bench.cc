// jobledger's benchmark: every figure next to a baseline measured in the same run on
// the same machine and the same events, reported as a ratio. Never part of the tests.
//
//   jobledger_bench [--events N] [--json] [--dir DIR] [--keep]
//
// Rows so far:
//   rebuild_events_per_s   ProjectionManager::Rebuild of every projection
//   raw_fold_events_per_s  a raw RocksDB scan of the events family, Cap'n Proto decode,
//                          and a minimal in-memory fold (counters per job) of the same log
//   rebuild_ratio          rebuild / raw fold
//   verify_events_per_s, raw_scan_events_per_s, verify_ratio

#include <rocksdb/db.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/internal/codec.h"
#include "ledger/internal/keys.h"
#include "ledger/ledger.h"
#include "projections/jobs_projection.h"
#include "projections/projection_manager.h"

using namespace jobledger;

namespace {

using Steady = std::chrono::steady_clock;

double Seconds(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "jobledger_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(StatusOr<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}

void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}

std::string Arn(const std::string& kind, const std::string& name) {
  return "arn:aws:iot:us-east-1:123456789012:" + kind + "/" + name;
}

// A realistic mix: jobs over groups of 20 things; devices start, report progress and
// finish (mostly SUCCEEDED, some FAILED), a few executions and jobs are canceled.
uint64_t Populate(Ledger& ledger, ManualClock& clock, uint64_t target_events) {
  constexpr int kThingsPerGroup = 20;
  uint64_t job = 0;
  while (ledger.log().head().sequence < target_events) {
    const std::string group = "fleet-" + std::to_string(job % 50);
    if (job < 50) {
      for (int t = 0; t < kThingsPerGroup; ++t) {
        Must(ledger.AddThingToThingGroup({"bench:admin", ""},
                                         {group, group + "-thing-" + std::to_string(t)}),
             "add thing");
      }
    }
    CreateJobRequest create;
    create.job_id = "job-" + std::to_string(job);
    create.targets = {Arn("thinggroup", group)};
    create.document = R"({"operation":"install","url":"https://example.com/fw.bin"})";
    create.description = "firmware rollout " + std::to_string(job);
    create.timeout_config = TimeoutConfig{30};
    Must(ledger.CreateJob({"bench:operator", ""}, create).status(), "create job");
    for (int t = 0; t < kThingsPerGroup; ++t) {
      const std::string thing = group + "-thing-" + std::to_string(t);
      clock.Advance(1000);
      UpdateJobExecutionRequest u;
      u.job_id = create.job_id;
      u.thing_name = thing;
      u.status = ExecutionStatus::kInProgress;
      u.status_details = DetailsMap{{"progress", "10%"}};
      Must(ledger.UpdateJobExecution({"thing:" + thing, ""}, u).status(), "start");
      u.status_details = DetailsMap{{"progress", "60%"}};
      Must(ledger.UpdateJobExecution({"thing:" + thing, ""}, u).status(), "progress");
      if (t == 7 && job % 10 == 3) {
        CancelJobExecutionRequest c;
        c.job_id = create.job_id;
        c.thing_name = thing;
        c.force = true;
        Must(ledger.CancelJobExecution({"bench:operator", ""}, c), "cancel execution");
        continue;
      }
      u.status = (t % 9 == 4) ? ExecutionStatus::kFailed : ExecutionStatus::kSucceeded;
      u.status_details = DetailsMap{{"progress", "100%"}};
      Must(ledger.UpdateJobExecution({"thing:" + thing, ""}, u).status(), "finish");
    }
    ++job;
  }
  return ledger.log().head().sequence;
}

struct RawFold {
  uint64_t events = 0;
  std::unordered_map<std::string, std::array<int64_t, 9>> counts;
};

// Opens the ledger folder with plain RocksDB, scans the events family, decodes every
// event and folds execution status changes into per-job counters.
RawFold RawScanDecodeFold(const std::string& path, bool decode) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(options, path, &names).ok()) std::exit(2);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles, &db).ok()) std::exit(2);
  rocksdb::ColumnFamilyHandle* events = nullptr;
  for (auto* h : handles) {
    if (h->GetName() == internal::kEventsFamily) events = h;
  }
  RawFold fold;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), events));
    uint64_t seq = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++seq;
      ++fold.events;
      if (!decode) continue;
      std::string_view value(it->value().data(), it->value().size());
      StatusOr<Event> e = internal::DecodeEvent(value.substr(32), seq);
      if (!e.ok()) Die("raw decode", e.status());
      if (const auto* q = std::get_if<ExecutionQueued>(&e->body)) {
        ++fold.counts[q->job_id][static_cast<size_t>(ExecutionStatus::kQueued)];
      } else if (const auto* c = std::get_if<ExecutionStatusChanged>(&e->body)) {
        auto& counts = fold.counts[c->job_id];
        --counts[static_cast<size_t>(c->from)];
        ++counts[static_cast<size_t>(c->to)];
      }
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete db;
  return fold;
}

struct Row {
  std::string key;
  double value;
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 200000;
  bool json = false;
  bool keep = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--events" && i + 1 < argc) {
      events = std::stoull(argv[++i]);
    } else if (a == "--json") {
      json = true;
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: jobledger_bench [--events N] [--json] [--dir DIR] [--keep]\n");
      return 2;
    }
  }
  if (dir.empty()) {
    dir = (std::filesystem::temp_directory_path() / "jobledger-bench").string();
  }
  std::filesystem::remove_all(dir);
  const std::string path = dir + "/ledger";
  std::vector<Row> rows;

  ManualClock clock(1764237600000000);
  LedgerOptions options;
  options.clock = &clock;
  options.sync = false;
  {
    auto ledger = Must(Ledger::Open(options, path), "open");
    std::vector<ProjectionManager::Entry> entries;
    entries.push_back({std::make_unique<JobsProjection>(), ProjectionMode::kInline});
    auto projections = Must(ProjectionManager::Open(ledger->log(), std::move(entries)), "projections");
    const uint64_t n = Populate(*ledger, clock, events);
    rows.push_back({"events", static_cast<double>(n)});

    // Rebuild of all projections, then the raw baseline on the same log.
    auto start = Steady::now();
    RebuildReport report = Must(projections->Rebuild(JobsProjection::kName), "rebuild");
    const double rebuild_s = Seconds(start);
    rows.push_back({"rebuild_events_per_s", static_cast<double>(report.events) / rebuild_s});

    // Verify the chain, next to a raw scan.
    start = Steady::now();
    VerifyResult verified = Must(ledger->log().Verify(), "verify");
    const double verify_s = Seconds(start);
    if (!verified.ok()) Die("verify", DataLossError(verified.detail));
    rows.push_back({"verify_events_per_s", static_cast<double>(verified.events_checked) / verify_s});
  }
  {
    auto start = Steady::now();
    RawFold fold = RawScanDecodeFold(path, /*decode=*/true);
    const double s = Seconds(start);
    rows.push_back({"raw_fold_events_per_s", static_cast<double>(fold.events) / s});
    start = Steady::now();
    RawFold scan = RawScanDecodeFold(path, /*decode=*/false);
    rows.push_back({"raw_scan_events_per_s", static_cast<double>(scan.events) / Seconds(start)});
  }
  auto get = [&](const std::string& key) {
    for (const Row& r : rows) {
      if (r.key == key) return r.value;
    }
    return 0.0;
  };
  rows.push_back({"rebuild_ratio", get("rebuild_events_per_s") / get("raw_fold_events_per_s")});
  rows.push_back({"verify_ratio", get("verify_events_per_s") / get("raw_scan_events_per_s")});

  if (json) {
    std::printf("{");
    for (size_t i = 0; i < rows.size(); ++i) {
      std::printf("%s\"%s\": %.6g", i ? ", " : "", rows[i].key.c_str(), rows[i].value);
    }
    std::printf("}\n");
  } else {
    std::printf("%-28s %16s\n", "metric", "value");
    for (const Row& r : rows) std::printf("%-28s %16.3f\n", r.key.c_str(), r.value);
  }
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
