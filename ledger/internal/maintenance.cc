// Keeping the ledger folder bounded: the flush rule and the level-0 compaction debt
// of MaintenanceOptions (at a read-write open and close), the full compaction of
// EventLog::Compact, and the storage statistics operators read.

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/transaction_log.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "ledger/internal/rocks_event_log.h"
#include "ledger/test_hooks.h"

namespace jobledger::internal {
namespace {

using Clock = std::chrono::steady_clock;

// How long to wait before looking again at level-0 files that a background
// compaction RocksDB started holds.
constexpr auto kBusyRetry = std::chrono::milliseconds(2);

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::shared_ptr<rocksdb::ColumnFamilyHandle>> RocksEventLog::LiveFamilies() const {
  std::vector<std::shared_ptr<rocksdb::ColumnFamilyHandle>> all;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    // The log's own handles live as long as the log: a non-owning pointer.
    all.emplace_back(std::shared_ptr<rocksdb::ColumnFamilyHandle>(), h);
  }
  ReaderLock lock(&families_mu_);
  for (const FamilySlot& f : families_) {
    if (f.live != nullptr) all.push_back(f.live);
  }
  return all;
}

Status RocksEventLog::FlushIfWalPastLimits(
    const rocksdb::VectorLogPtr& wals,
    const std::vector<std::shared_ptr<rocksdb::ColumnFamilyHandle>>& all) {
  uint64_t bytes = 0;
  size_t count = 0;
  for (const std::unique_ptr<rocksdb::LogFile>& wal : wals) {
    if (wal->Type() != rocksdb::kAliveLogFile) continue;
    ++count;
    bytes += wal->SizeFileBytes();
  }
  if (bytes <= maintenance_.max_live_wal_bytes && count <= maintenance_.max_live_wal_files) {
    return Status();
  }
  const Clock::time_point start = Clock::now();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  for (const auto& h : all) handles.push_back(h.get());
  rocksdb::FlushOptions flush;
  flush.wait = true;
  testing::CrashPoint("maintain.before_flush");
  JOBLEDGER_RETURN_IF_ERROR(FromRocks(db_->Flush(flush, handles), "flushing the memtables"));
  rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, db_->GetDBOptions().info_log,
               "jobledger: %zu live WAL files of %llu bytes passed the limits; flushed in %lld ms",
               count, static_cast<unsigned long long>(bytes), static_cast<long long>(MillisSince(start)));
  return Status();
}

Status RocksEventLog::PayLevel0Debt(rocksdb::ColumnFamilyHandle* family, MaintainAt when,
                                    Clock::time_point deadline, bool* done) {
  *done = false;
  const size_t trigger = static_cast<size_t>(std::max(cf_options_.level0_file_num_compaction_trigger, 1));
  for (;;) {
    rocksdb::ColumnFamilyMetaData meta;
    db_->GetColumnFamilyMetaData(family, &meta);
    // Level 0, and the small files of level 1 that compactions of a few level-0 files
    // leave (a family written in key order gets one more per compaction): both are
    // debt once they reach the trigger, and are compacted together into level 1.
    // RocksDB adds the level-1 files in between and those the inputs overlap.
    std::vector<std::string> inputs;
    size_t level0 = 0;
    size_t small = 0;
    uint64_t input_bytes = 0;
    bool busy = false;
    for (const rocksdb::LevelMetaData& level : meta.levels) {
      for (const rocksdb::SstFileMetaData& f : level.files) {
        if (level.level == 0) {
          ++level0;
        } else if (level.level == 1 && f.size < SmallFileBytes()) {
          ++small;
        } else {
          continue;
        }
        inputs.push_back(f.name);
        input_bytes += f.size;
        busy |= f.being_compacted;
      }
    }
    if (level0 < trigger && small < trigger) {
      *done = true;
      return Status();
    }
    if (when == MaintainAt::kOpen && (busy || input_bytes > kOpenDebtBytes)) {
      // Not the debt of short-lived writers that died before their close (a few small
      // files): a long-running writer's level 0, which RocksDB's own background
      // compaction (already running, when busy) and the close take care of. Paying it
      // here would hold up the open by seconds.
      *done = true;
      return Status();
    }
    if (Clock::now() >= deadline) return Status();  // the next process goes on
    if (busy) {
      // RocksDB's own background compaction has them: wait for it, within the budget.
      std::this_thread::sleep_for(kBusyRetry);
      continue;
    }
    const Clock::time_point start = Clock::now();
    rocksdb::CompactionOptions options;
    options.output_file_size_limit = cf_options_.target_file_size_base;
    testing::CrashPoint("maintain.before_compact");
    rocksdb::Status s = db_->CompactFiles(options, family, inputs, /*output_level=*/1);
    if (s.IsAborted() || s.IsInvalidArgument()) {
      // RocksDB's background compaction took (or already replaced) some of these
      // files, or files of level 1 they overlap, since the metadata was read: look
      // again, within the budget.
      rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, db_->GetDBOptions().info_log,
                   "jobledger: level-0 compaction of '%s' deferred: %s", family->GetName().c_str(),
                   s.ToString().c_str());
      std::this_thread::sleep_for(kBusyRetry);
      continue;
    }
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(s, "compacting level 0 of '" + family->GetName() + "'"));
    testing::CrashPoint("maintain.after_compact");
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, db_->GetDBOptions().info_log,
                 "jobledger: compacted %zu level-0 and %zu small level-1 files of '%s' in %lld ms",
                 level0, small,
                 family->GetName().c_str(), static_cast<long long>(MillisSince(start)));
  }
}

Status RocksEventLog::SyncRecoveredWals(const rocksdb::VectorLogPtr& wals) {
  // This open's own WAL file (RocksDB syncs it, and may not list it yet).
  uint64_t current = 0;
  std::unique_ptr<rocksdb::LogFile> current_wal;
  if (db_->GetCurrentWalFile(&current_wal).ok() && current_wal != nullptr) {
    current = current_wal->LogNumber();
  }
  const std::shared_ptr<rocksdb::FileSystem>& fs = db_->GetEnv()->GetFileSystem();
  bool synced_any = false;
  for (const std::unique_ptr<rocksdb::LogFile>& wal : wals) {
    if (wal->Type() != rocksdb::kAliveLogFile || wal->LogNumber() == current) continue;
    const std::string file = path_ + wal->PathName();
    std::unique_ptr<rocksdb::FSWritableFile> writable;
    rocksdb::IOStatus s = fs->ReopenWritableFile(file, rocksdb::FileOptions(), &writable, nullptr);
    if (s.ok()) s = writable->Sync(rocksdb::IOOptions(), nullptr);
    if (s.ok()) s = writable->Close(rocksdb::IOOptions(), nullptr);
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(s, "syncing the recovered WAL file '" + file + "'"));
    synced_any = true;
  }
  if (!synced_any) return Status();
  std::unique_ptr<rocksdb::FSDirectory> dir;
  rocksdb::IOStatus s = fs->NewDirectory(path_, rocksdb::IOOptions(), &dir, nullptr);
  if (s.ok()) s = dir->Fsync(rocksdb::IOOptions(), nullptr);
  return FromRocks(s, "syncing the ledger folder '" + path_ + "'");
}

Status RocksEventLog::Maintain(MaintainAt when) {
  const Clock::time_point deadline = Clock::now() + maintenance_.compaction_budget;
  std::vector<std::shared_ptr<rocksdb::ColumnFamilyHandle>> all = LiveFamilies();
  rocksdb::VectorLogPtr wals;  // listed once: both steps below read it
  JOBLEDGER_RETURN_IF_ERROR(FromRocks(db_->GetSortedWalFiles(wals), "listing the WAL files"));
  if (when == MaintainAt::kOpen) {
    // The WAL files this open recovered and keeps (no flush at recovery) may hold
    // what a process that died wrote and never synced: make it durable before any
    // new append lands in a newer WAL file, or a power cut could leave a hole.
    JOBLEDGER_RETURN_IF_ERROR(SyncRecoveredWals(wals));
  } else {
    // A clean close makes every append durable, sync or not (it used to flush).
    // After a failed write there is nothing more to make durable (and RocksDB
    // refuses to sync a WAL writer that saw an error): the next open recovers.
    if (!failure().ok()) return Status();
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(db_->SyncWAL(), "syncing the WAL"));
  }
  JOBLEDGER_RETURN_IF_ERROR(FlushIfWalPastLimits(wals, all));
  for (const auto& family : all) {
    bool done = false;
    JOBLEDGER_RETURN_IF_ERROR(PayLevel0Debt(family.get(), when, deadline, &done));
    if (!done) {
      rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, db_->GetDBOptions().info_log,
                   "jobledger: %s: the compaction budget of %lld ms ran out at '%s'; the next "
                   "open or close goes on",
                   when == MaintainAt::kOpen ? "open" : "close",
                   static_cast<long long>(maintenance_.compaction_budget.count()),
                   family->GetName().c_str());
      break;
    }
  }
  return Status();
}

Status RocksEventLog::Compact(const CompactProgress& progress) {
  if (mode_ != OpenMode::kReadWrite) {
    return FailedPreconditionError("Compact: ledger at '" + path_ + "' is not open read-write");
  }
  std::vector<std::shared_ptr<rocksdb::ColumnFamilyHandle>> all = LiveFamilies();
  const uint64_t total = all.size();
  uint64_t done = 0;
  if (progress) progress(done, total);
  for (const auto& family : all) {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
    rocksdb::Status s = db_->CompactRange(options, family.get(), nullptr, nullptr);
    // A family dropped meanwhile (a rebuild's switch) has nothing left to compact.
    if (s.IsColumnFamilyDropped()) s = rocksdb::Status::OK();
    JOBLEDGER_RETURN_IF_ERROR(FromRocks(s, "compacting '" + family->GetName() + "'"));
    ++done;
    if (progress) progress(done, total);
  }
  return Status();
}

StatusOr<StorageStats> RocksEventLog::storage_stats() const {
  namespace fs = std::filesystem;
  StorageStats stats;
  std::error_code ec;
  for (fs::directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const uint64_t size = it->file_size(ec);
    if (ec) continue;  // removed meanwhile (a compaction, a purge)
    const std::string name = it->path().filename().string();
    ++stats.files;
    stats.bytes += size;
    if (EndsWith(name, ".sst")) {
      ++stats.sst_files;
      stats.sst_bytes += size;
    } else if (EndsWith(name, ".log")) {
      ++stats.wal_files;
      stats.wal_bytes += size;
    } else if (name == "LOG" || StartsWith(name, "LOG.old.")) {
      ++stats.info_log_files;
      stats.info_log_bytes += size;
    }
  }
  if (ec) return UnavailableError("listing the ledger folder '" + path_ + "': " + ec.message());
  stats.level0_trigger = static_cast<uint64_t>(cf_options_.level0_file_num_compaction_trigger);
  for (const auto& family : LiveFamilies()) {
    rocksdb::ColumnFamilyMetaData meta;
    db_->GetColumnFamilyMetaData(family.get(), &meta);
    FamilyStorage f;
    f.name = family->GetName();
    for (const rocksdb::LevelMetaData& level : meta.levels) {
      f.sst_files += level.files.size();
      for (const rocksdb::SstFileMetaData& file : level.files) f.sst_bytes += file.size;
      if (level.level == 0) f.level0_files = level.files.size();
    }
    uint64_t pending = 0;
    if (db_->GetIntProperty(family.get(), rocksdb::DB::Properties::kEstimatePendingCompactionBytes,
                            &pending)) {
      f.pending_compaction_bytes = pending;
    }
    stats.pending_compaction_bytes += f.pending_compaction_bytes;
    stats.families.push_back(std::move(f));
  }
  std::sort(stats.families.begin(), stats.families.end(),
            [](const FamilyStorage& a, const FamilyStorage& b) { return a.name < b.name; });
  return stats;
}

}  // namespace jobledger::internal
