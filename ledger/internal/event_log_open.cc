// EventLog, opening: the RocksDB options, the open in each mode, the head, and a
// secondary's catch-up with its writer. (RocksEventLog is split by phase, as RocksDB
// splits DBImpl: event_log_open.cc, event_log_write.cc, event_log_read.cc, verify.cc,
// maintenance.cc; the class is in rocks_event_log.h.)

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/sst_file_writer.h>
#include <unistd.h>

#include <cstdarg>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

#include "ledger/internal/codec.h"
#include "ledger/internal/hash_chain.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/rocks_event_log.h"
#include "ledger/internal/rocks_util.h"
#include "ledger/internal/row_iterator.h"
#include "ledger/test_hooks.h"

namespace jobledger {
namespace internal {

namespace {

// An info log that drops everything.
class NullLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

}  // namespace

Status ProbeWalWhenIdle(const rocksdb::DBOptions& options, const std::string& path,
                        const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors) {
  rocksdb::Env* env = options.env != nullptr ? options.env : rocksdb::Env::Default();
  rocksdb::FileLock* lock = nullptr;
  if (!env->LockFile(path + "/LOCK", &lock).ok()) return Status();  // a writer is live
  env->UnlockFile(lock).PermitUncheckedError();
  rocksdb::DBOptions probe_options = options;
  probe_options.info_log = std::make_shared<NullLogger>();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* probe = nullptr;
  rocksdb::Status rs = rocksdb::DB::OpenForReadOnly(probe_options, path, descriptors, &handles, &probe);
  if (probe != nullptr) {
    for (auto* h : handles) probe->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    delete probe;
  }
  if (rs.ok() || !rs.IsCorruption()) return Status();  // other failures: let the real open say
  return internal::FromRocks(rs, "opening ledger at '" + path + "'");
}

StatusOr<std::unique_ptr<EventLog>> RocksEventLog::Open(const EventLogOptions& options,
                                                        std::string_view path_view,
                                                        OpenMode mode) {
  namespace fs = std::filesystem;
  std::unique_ptr<RocksEventLog> log(new RocksEventLog());
  log->mode_ = mode;
  log->path_ = std::string(path_view);
  log->clock_ = options.clock != nullptr ? options.clock : &log->system_clock_;
  log->sync_ = options.sync;
  log->maintenance_ = options.maintenance;
  // Every family shares one block cache (reads of state, projections and events
  // compete for it) and keeps bloom filters, so point reads skip files without the
  // key. Options only: ledgers written without them read the same.
  {
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Index and filter in partitions kept in the block cache, loaded as reads need
    // them: opening a table file reads its footer and the partitions' top level, not
    // its whole index and filter (at 10 million events, opening every file's took
    // most of an open). The top levels and level 0's partitions stay pinned.
    table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
    table.partition_filters = true;
    table.cache_index_and_filter_blocks = true;
    table.cache_index_and_filter_blocks_with_high_priority = true;
    table.pin_top_level_index_and_filter = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    log->cf_options_.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  }
  log->queue_capacity_ = std::max<size_t>(options.append_queue_capacity, 1);
  log->max_group_size_ = std::max<size_t>(options.max_group_size, 1);
  const std::string& path = log->path_;
  if (path.empty()) return InvalidArgumentError("path: must not be empty");

  std::error_code ec;
  const bool exists = fs::exists(fs::path(path) / "CURRENT", ec);
  if (!exists && (mode != OpenMode::kReadWrite || !options.create_if_missing)) {
    return NotFoundError("no ledger at '" + path + "'");
  }

  if (!exists && !fs::exists(path, ec)) {
    // A new ledger: make its folder, parents included.
    fs::create_directories(path, ec);
    if (ec) return UnavailableError("cannot create the ledger folder '" + path + "': " + ec.message());
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = (mode == OpenMode::kReadWrite);
  db_options.create_missing_column_families = (mode == OpenMode::kReadWrite);
  // A torn tail after a crash is tolerated; a corrupted middle refuses to open
  // instead of silently dropping acknowledged events (kPointInTimeRecovery does).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  if (options.env != nullptr) db_options.env = options.env;
  if (mode == OpenMode::kSecondary) db_options.max_open_files = -1;  // required
  // Many short-lived writers (MaintenanceOptions): opening keeps the WAL it recovers
  // instead of flushing it into a small SST file per family, and closing never flushes
  // by itself; Maintain() applies the rule at both.
  // RocksDB opens each family's table files with up to 16 threads, started afresh for
  // every family at every open: 176 thread starts per open for a ledger of 11
  // families, most of a short-lived process's system time. On this two-core class
  // of machine one thread opens them as fast.
  db_options.max_file_opening_threads = 1;
  db_options.avoid_flush_during_recovery = true;
  db_options.avoid_flush_during_shutdown = true;
  // Info logs: each read-write open starts a new LOG and keeps the previous ones as
  // LOG.old.*; at most kInfoLogFiles files of at most kInfoLogFileBytes each.
  db_options.keep_log_file_num = kInfoLogFiles;
  db_options.max_log_file_size = kInfoLogFileBytes;
  db_options.info_log_level = rocksdb::InfoLogLevel::INFO_LEVEL;
  // A read-only open writes nothing into the folder, not even an info log (RocksDB
  // would start a new LOG there); a secondary keeps its own in secondary_path.
  if (mode == OpenMode::kReadOnly) db_options.info_log = std::make_shared<NullLogger>();

  std::vector<std::string> existing = {rocksdb::kDefaultColumnFamilyName};
  if (exists) {
    existing.clear();
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(
        rocksdb::DB::ListColumnFamilies(db_options, path, &existing), "listing '" + path + "'"));
  }
  const std::vector<std::string_view> ours = {
      internal::kEventsFamily,     internal::kJobStreamFamily, internal::kThingStreamFamily,
      internal::kTimeIndexFamily,  internal::kRequestsFamily,  internal::kMetaFamily};
  std::set<std::string> names(existing.begin(), existing.end());
  const bool is_ledger = names.count(std::string(internal::kMetaFamily)) > 0;
  if (exists && !is_ledger && (names.size() > 1 || mode != OpenMode::kReadWrite)) {
    return FailedPreconditionError("'" + path + "' is a RocksDB database but not a jobledger ledger");
  }
  for (std::string_view cf : ours) {
    if (names.insert(std::string(cf)).second && mode != OpenMode::kReadWrite) {
      return FailedPreconditionError("ledger at '" + path + "' lacks column family '" +
                                     std::string(cf) + "'");
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, log->cf_options_);
  }

  rocksdb::Options merged(db_options, log->cf_options_);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs;
  switch (mode) {
    case OpenMode::kReadWrite:
      rs = rocksdb::DB::Open(db_options, path, descriptors, &log->handles_, &raw);
      break;
    case OpenMode::kReadOnly:
      rs = rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &log->handles_, &raw);
      break;
    case OpenMode::kSecondary: {
      // A secondary treats an unreadable WAL record as a write in progress and stops
      // there, silently answering from a prefix. When no writer holds the ledger, a
      // read-only probe first checks that the WAL replays whole (its info log goes
      // nowhere: nothing is written into the ledger folder).
      if (Status probe = ProbeWalWhenIdle(db_options, path, descriptors); !probe.ok()) {
        return probe;
      }
      std::string secondary = options.secondary_path;
      if (secondary.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "jobledger-secondary-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) {
          return InternalError("cannot create a temporary folder for the secondary instance");
        }
        secondary = tmpl;
        log->temp_secondary_dir_ = tmpl;
      }
      // A compaction by the writer (`jobledger compact`, or a close paying level-0
      // debt) may delete a table file between the secondary reading the MANIFEST and
      // opening the file: try again, and if it keeps happening, say so.
      for (int attempt = 1;; ++attempt) {
        rs = rocksdb::DB::OpenAsSecondary(db_options, path, secondary, descriptors,
                                          &log->handles_, &raw);
        const bool vanished = rs.IsPathNotFound() ||
                              (rs.IsIOError() && rs.ToString().find("No such file") != std::string::npos);
        if (!vanished) break;
        log->handles_.clear();
        if (attempt == kSecondaryOpenAttempts) {
          return UnavailableError("ledger at '" + path +
                                  "': its files changed while it was being opened (the writer is "
                                  "compacting it); retry: " + rs.ToString());
        }
      }
      break;
    }
  }
  if (!rs.ok()) {
    if (rs.IsIOError() && rs.ToString().find("lock") != std::string::npos) {
      return UnavailableError("ledger at '" + path +
                              "' is held read-write by another process: " + rs.ToString());
    }
    return internal::FromRocks(rs, "opening ledger at '" + path + "'");
  }
  log->db_.reset(raw);
  for (size_t i = 0; i < descriptors.size(); ++i) {
    const std::string& name = descriptors[i].name;
    rocksdb::ColumnFamilyHandle* h = log->handles_[i];
    if (name == internal::kEventsFamily) log->events_ = h;
    if (name == internal::kJobStreamFamily) log->job_stream_ = h;
    if (name == internal::kThingStreamFamily) log->thing_stream_ = h;
    if (name == internal::kTimeIndexFamily) log->time_index_ = h;
    if (name == internal::kRequestsFamily) log->requests_ = h;
    if (name == internal::kMetaFamily) log->meta_ = h;
  }
  // Upper layers' families are owned by shared pointers (see FamilyHandle).
  {
    WriterLock lock(&log->families_mu_);  // not shared yet, but the contract holds
    std::vector<rocksdb::ColumnFamilyHandle*> own;
    for (rocksdb::ColumnFamilyHandle* h : log->handles_) {
      if (IsLogFamily(h->GetName())) {
        own.push_back(h);
      } else {
        log->families_.push_back(FamilySlot{log->Own(h), {}});
      }
    }
    log->handles_ = std::move(own);
  }

  // Format version.
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> format,
                             log->Get(log->meta_, internal::MetaKey(internal::kFormatMetaName)));
  if (!format.has_value()) {
    if (mode != OpenMode::kReadWrite) {
      return FailedPreconditionError("ledger at '" + path + "' has no format version");
    }
    std::unique_ptr<rocksdb::Iterator> it(log->db_->NewIterator(rocksdb::ReadOptions(), log->events_));
    it->SeekToFirst();
    if (it->Valid()) {
      return FailedPreconditionError("ledger at '" + path + "' has events but no format version");
    }
    std::string value;
    internal::PutBigEndian32(&value, internal::kFormatVersion);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(
        log->db_->Put(wo, log->meta_, internal::MetaKey(internal::kFormatMetaName), value),
        "writing the format version"));
  } else {
    if (format->size() != 4) {
      return DataLossError("ledger at '" + path + "': malformed format version record");
    }
    uint32_t version = internal::GetBigEndian32(*format);
    if (version != internal::kFormatVersion) {
      return FailedPreconditionError("ledger at '" + path + "' has format version " +
                                     std::to_string(version) + "; this build reads version " +
                                     std::to_string(internal::kFormatVersion));
    }
  }
  JOBLEDGER_RETURN_IF_ERROR(log->LoadHead(/*strict=*/mode == OpenMode::kReadWrite));
  if (mode == OpenMode::kReadWrite) {
    // What a process that died before its close left to do (MaintenanceOptions).
    JOBLEDGER_RETURN_IF_ERROR(log->Maintain(RocksEventLog::MaintainAt::kOpen));
    // Table files an IngestRows made but a crash kept from being ingested.
    fs::remove_all(fs::path(path) / internal::kIngestFolder, ec);
    log->StartWriter();
  }
  return std::unique_ptr<EventLog>(std::move(log));
}

StatusOr<std::optional<std::string>> RocksEventLog::Get(rocksdb::ColumnFamilyHandle* cf,
                                                        const std::string& key,
                                                        const rocksdb::Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db_->Get(ro, cf, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(s, "reading " + cf->GetName()));
  return std::optional<std::string>(std::move(value));
}

StatusOr<std::optional<std::string>> RocksEventLog::GetSetting(std::string_view name) const {
  if (!internal::ValidFamilyName(name)) {
    return InvalidArgumentError("setting name: must match [a-z0-9_.-]+, got '" + PrintableKey(name) + "'");
  }
  return Get(meta_, internal::MetaKey(std::string(internal::kSettingMetaPrefix) + std::string(name)));
}

Status RocksEventLog::PutSetting(std::string_view name, std::string_view value) {
  if (!internal::ValidFamilyName(name)) {
    return InvalidArgumentError("setting name: must match [a-z0-9_.-]+, got '" + PrintableKey(name) + "'");
  }
  if (mode_ != OpenMode::kReadWrite) {
    return FailedPreconditionError("setting '" + std::string(name) + "': the ledger at '" + path_ +
                                   "' is open for reading only");
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return internal::FromRocks(
      db_->Put(wo, meta_, internal::MetaKey(std::string(internal::kSettingMetaPrefix) + std::string(name)),
               rocksdb::Slice(value.data(), value.size())),
      "writing setting '" + std::string(name) + "'");
}

Status RocksEventLog::LoadHead(bool strict) {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> raw,
                             Get(meta_, internal::MetaKey(internal::kHeadMetaName)));
  Head head;
  if (raw.has_value()) {
    std::optional<Head> decoded = DecodeHead(*raw);
    if (!decoded) return DataLossError("ledger at '" + path_ + "': malformed head record");
    head = *decoded;
  }
  if (strict) {
    // The head is written in the same batch as the events; disagreement means the
    // folder was altered outside jobledger.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    it->SeekToLast();
    JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading the last event"));
    uint64_t last = 0;
    if (it->Valid()) {
      std::optional<uint64_t> seq = internal::ParseEventKey(internal::ToView(it->key()));
      if (!seq) return DataLossError("ledger at '" + path_ + "': malformed key in events");
      last = *seq;
    }
    if (last != head.sequence) {
      return DataLossError("ledger at '" + path_ + "': the head record says sequence " +
                           SeqStr(head.sequence) + " but the last stored event is " + SeqStr(last) +
                           "; run verify");
    }
  }
  MutexLock lock(&head_mu_);
  head_ = head;
  return Status();
}
Status RocksEventLog::CatchUpWithPrimary() {
  if (mode_ != OpenMode::kSecondary) {
    return FailedPreconditionError("CatchUpWithPrimary: ledger at '" + path_ + "' is not a secondary");
  }
  MutexLock lock(&append_mu_);
  // Replays the writer's WAL into this instance's memtables.
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(
      internal::InsideRocksDbWrite([&] { return db_->TryCatchUpWithPrimary(); }),
      "catching up with the writer"));
  JOBLEDGER_RETURN_IF_ERROR(LoadHead(/*strict=*/false));
  // RocksDB 7.8's secondary keeps rows it replayed from the WAL in memory, where they
  // shadow newer values the writer has since flushed (facebook/rocksdb#15051): the
  // head record, projection checkpoints and state rows go stale, while events (never
  // overwritten) do not. Detect it by events beyond the head record and refuse to
  // serve the stale state.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  it->SeekToLast();
  JOBLEDGER_RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading the last event"));
  if (it->Valid()) {
    std::optional<uint64_t> last = internal::ParseEventKey(internal::ToView(it->key()));
    if (last && *last > head().sequence) {
      return UnavailableError("ledger at '" + path_ + "': the writer flushed while this secondary "
                              "followed it, and the secondary's rows are stale (events up to " +
                              SeqStr(*last) + ", head record at " + SeqStr(head().sequence) +
                              "); reopen the ledger to follow on");
    }
  }
  return Status();
}

}  // namespace internal
}  // namespace jobledger
