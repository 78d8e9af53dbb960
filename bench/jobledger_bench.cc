// jobledger's benchmark: every figure next to a baseline measured in the same run on
// the same machine and the same events, reported as a ratio. Never part of the tests.
//
//   jobledger_bench [--events N] [--json] [--dir DIR] [--keep]
//
// Rows so far (baselines open the same folder with plain RocksDB, read-only):
//   events, bytes_per_event    the log built (a realistic mix through the Ledger, with
//                              the "jobs" projection inline) and its footprint on disk
//   open_ms                    opening the ledger and its projections, one DescribeJob
//   asof_p50_us, asof_p99_us   DescribeJob as of a random sequence
//   raw_seek_get_p99_us        a RocksDB seek then get of a random event
//   rebuild_events_per_s       ProjectionManager::Rebuild of every projection
//   raw_fold_events_per_s      scan of the events family, Cap'n Proto decode, and a
//                              minimal in-memory fold (counters per job) of the same log
//   verify_events_per_s        EventLog::Verify (hash chain)
//   raw_scan_events_per_s      scan of the events family
//   rebuild_ratio, verify_ratio, asof_p99_over_raw

#include <rocksdb/db.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/internal/codec.h"
#include "ledger/internal/keys.h"
#include "ledger/ledger.h"
#include "projections/jobs_projection.h"
#include "projections/projection_manager.h"
#include "projections/read_models.h"

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

// The ledger folder opened with plain RocksDB, read-only: the baselines.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(options, path, &names).ok()) std::exit(2);
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    if (!rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles_, &db_).ok()) std::exit(2);
    for (auto* h : handles_) {
      if (h->GetName() == internal::kEventsFamily) events_ = h;
    }
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    delete db_;
  }

  // Scans the events family; with `decode`, decodes every event and folds execution
  // status changes into per-job counters.
  RawFold ScanDecodeFold(bool decode) {
    RawFold fold;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
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
    return fold;
  }

  // One seek to an event key, then a get of it: the cheapest point read RocksDB does.
  void SeekThenGet(uint64_t seq) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    const std::string key = internal::EventKey(seq);
    it->Seek(key);
    std::string value;
    if (!db_->Get(rocksdb::ReadOptions(), events_, key, &value).ok()) std::exit(3);
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

uint64_t FolderBytes(const std::string& path) {
  uint64_t bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes;
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
  auto open_all = [&](std::unique_ptr<Ledger>* ledger, std::unique_ptr<ProjectionManager>* projections) {
    *ledger = Must(Ledger::Open(options, path), "open");
    std::vector<ProjectionManager::Entry> entries;
    entries.push_back({std::make_unique<JobsProjection>(), ProjectionMode::kInline});
    *projections = Must(ProjectionManager::Open((*ledger)->log(), std::move(entries)), "projections");
  };
  uint64_t n = 0;
  uint64_t jobs = 0;
  {
    std::unique_ptr<Ledger> ledger;
    std::unique_ptr<ProjectionManager> projections;
    open_all(&ledger, &projections);
    n = Populate(*ledger, clock, events);
    for (uint64_t j = 0;; ++j) {
      auto state = ledger->GetJobState("job-" + std::to_string(j));
      if (!state.ok() || !state->has_value()) {
        jobs = j;
        break;
      }
    }
  }
  rows.push_back({"events", static_cast<double>(n)});
  rows.push_back({"bytes_per_event", static_cast<double>(FolderBytes(path)) / static_cast<double>(n)});
  {
    // Cold open: the ledger, its projections, and one answer.
    auto start = Steady::now();
    std::unique_ptr<Ledger> ledger;
    std::unique_ptr<ProjectionManager> projections;
    open_all(&ledger, &projections);
    ReadModels reads(ledger->log(), *projections, ValidationContext{}, &clock);
    Must(reads.DescribeJob("job-0").status(), "describe");
    rows.push_back({"open_ms", Seconds(start) * 1000});

    // As-of reads at random points.
    std::mt19937_64 rng(42);
    std::vector<double> samples;
    for (int i = 0; i < 20000; ++i) {
      const std::string job = "job-" + std::to_string(rng() % jobs);
      const uint64_t at = 1 + rng() % n;
      auto t0 = Steady::now();
      auto answer = reads.DescribeJob(job, ReadPoint::AtSequence(at));
      samples.push_back(Seconds(t0) * 1e6);
      if (!answer.ok() && answer.status().aws_error() != AwsError::kResourceNotFound) {
        Die("as-of describe", answer.status());
      }
    }
    rows.push_back({"asof_p50_us", Percentile(samples, 0.50)});
    rows.push_back({"asof_p99_us", Percentile(samples, 0.99)});

    // Rebuild of all projections.
    start = Steady::now();
    RebuildReport report = Must(projections->Rebuild(JobsProjection::kName), "rebuild");
    rows.push_back({"rebuild_events_per_s", static_cast<double>(report.events) / Seconds(start)});

    // Verify the chain.
    start = Steady::now();
    VerifyResult verified = Must(ledger->log().Verify(), "verify");
    const double verify_s = Seconds(start);
    if (!verified.ok()) Die("verify", DataLossError(verified.detail));
    rows.push_back({"verify_events_per_s", static_cast<double>(verified.events_checked) / verify_s});
  }
  {
    RawDb raw(path);
    auto start = Steady::now();
    RawFold fold = raw.ScanDecodeFold(/*decode=*/true);
    rows.push_back({"raw_fold_events_per_s", static_cast<double>(fold.events) / Seconds(start)});
    start = Steady::now();
    RawFold scan = raw.ScanDecodeFold(/*decode=*/false);
    rows.push_back({"raw_scan_events_per_s", static_cast<double>(scan.events) / Seconds(start)});
    std::mt19937_64 rng(43);
    std::vector<double> samples;
    for (int i = 0; i < 20000; ++i) {
      const uint64_t at = 1 + rng() % n;
      auto t0 = Steady::now();
      raw.SeekThenGet(at);
      samples.push_back(Seconds(t0) * 1e6);
    }
    rows.push_back({"raw_seek_get_p99_us", Percentile(samples, 0.99)});
  }
  auto get = [&](const std::string& key) {
    for (const Row& r : rows) {
      if (r.key == key) return r.value;
    }
    return 0.0;
  };
  rows.push_back({"rebuild_ratio", get("rebuild_events_per_s") / get("raw_fold_events_per_s")});
  rows.push_back({"verify_ratio", get("verify_events_per_s") / get("raw_scan_events_per_s")});
  rows.push_back({"asof_p99_over_raw", get("asof_p99_us") / get("raw_seek_get_p99_us")});

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
