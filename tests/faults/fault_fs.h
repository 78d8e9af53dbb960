// FaultFs: a RocksDB FileSystem wrapper that injects the storage faults the
// reliability suites need, built on the public API only (Debian's librocksdb does not
// ship the header of RocksDB's own fault-injection file system).
//
// What it models:
//   - Durability, per file: the bytes written, the bytes made durable by Sync/Fsync
//     (RangeSync is sync_file_range without a wait: it makes nothing durable), and
//     whether the file's directory entry was made durable by an fsync of its folder
//     (FSDirectory::Fsync / FsyncWithDirOptions). Close makes nothing durable. Files
//     that existed before the wrapper saw them are taken as durable.
//   - Power loss: CutPower() (or CutPowerAfterBytes, which cuts in the middle of the
//     write that crosses the budget) makes every later mutation fail with an I/O
//     error, as the machine is gone. Once every user of the file system has closed,
//     DropUnsyncedData() leaves the folder as the machine would find it when the power
//     comes back: every file truncated to its durable size (optionally keeping a random
//     part of the unsynced tail, as a disk may), files whose directory entry was never
//     made durable deleted (or, when they replaced a durable file by a rename, that
//     file's content restored).
//   - A process crash: CutPower() without DropUnsyncedData() (everything written stays);
//     RestartProcess() lets a new process on the same machine go on with the files.
//   - A full disk: SetSpaceBudget(bytes) makes the write that crosses the budget write
//     what fits and fail with IOStatus::NoSpace(), and every later write fail so.
//
// Thread-safe. Paths are compared after lexical normalisation.

#ifndef JOBLEDGER_TESTS_FAULTS_FAULT_FS_H_
#define JOBLEDGER_TESTS_FAULTS_FAULT_FS_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace jobledger::faults {

inline constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFs(std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());

  static const char* kClassName() { return "JobledgerFaultFs"; }
  const char* Name() const override { return kClassName(); }

  // ---- faults ----

  // The power goes off now: every later mutation fails with an I/O error.
  void CutPower();
  // The power goes off when `bytes` more bytes (counted over every file) have been
  // written: the write that crosses the point writes only the bytes before it.
  void CutPowerAfterBytes(uint64_t bytes);
  bool powered() const;
  // A process crash and a new process on the same machine: after CutPower() (and once
  // the dead process's database is closed), mutations work again and nothing is
  // dropped; what was written and never synced stays, still not durable.
  void RestartProcess();
  // Writes fail with NoSpace once `bytes` more bytes have been written (kUnlimited:
  // never). The write that crosses the budget writes what fits.
  void SetSpaceBudget(uint64_t bytes);

  // The file system as found after the power came back. Call only when nothing uses
  // the file system any more (the database is closed). `rng`: keep a random part of
  // each file's unsynced tail instead of none. Returns one line per change made.
  std::vector<std::string> DropUnsyncedData(std::mt19937_64* rng = nullptr);

  // ---- observations ----
  uint64_t bytes_written() const;
  uint64_t syncs() const;
  uint64_t dir_syncs() const;
  uint64_t failed_writes() const;  // writes refused (power off or no space)
  // Mutations attempted while the power was off (each was refused).
  uint64_t refused_mutations() const;

  // ---- FileSystem ----
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& dst,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override;

 private:
  friend class TrackedFile;
  friend class TrackedDirectory;

  struct FileState {
    uint64_t size = 0;        // bytes written
    uint64_t synced = 0;      // bytes made durable
    bool dir_synced = false;  // the directory entry is durable
    // The durable content this name had before a rename replaced it (small files
    // only, such as CURRENT), restored if the rename never became durable.
    std::optional<std::string> replaced_content;
  };

  static std::string Normal(const std::string& path);
  static std::string Parent(const std::string& normal_path);
  rocksdb::IOStatus Refused(const char* what);  // requires mu_
  rocksdb::IOStatus CheckPowered(const char* what);
  // Before a write of `n` bytes: how many may be written (*allowed) and the status to
  // return after writing them (OK, or the fault that cut the write).
  rocksdb::IOStatus ReserveWrite(size_t n, size_t* allowed);
  void Appended(const std::string& path, uint64_t n);
  void Wrote(const std::string& path, uint64_t end_offset);
  // Sync: returns the size to mark durable, or an error when powered off.
  rocksdb::IOStatus BeginSync(const std::string& path, uint64_t* size);
  rocksdb::IOStatus EndSync(const std::string& path, uint64_t size);
  void Truncated(const std::string& path, uint64_t size);
  rocksdb::IOStatus BeginDirSync(const std::string& dir, std::vector<std::string>* files);
  rocksdb::IOStatus EndDirSync(const std::vector<std::string>& files);
  void Created(const std::string& path);
  void TrackExisting(const std::string& path);

  mutable std::mutex mu_;
  bool powered_ = true;
  uint64_t written_ = 0;
  uint64_t power_cut_at_ = kUnlimited;  // in written_ bytes
  uint64_t space_end_ = kUnlimited;     // in written_ bytes
  uint64_t syncs_ = 0;
  uint64_t dir_syncs_ = 0;
  uint64_t failed_writes_ = 0;
  uint64_t refused_ = 0;
  std::map<std::string, FileState> files_;
};

// An Env running on `fs` (owned by the caller through the shared pointer).
std::unique_ptr<rocksdb::Env> NewFaultEnv(const std::shared_ptr<FaultFs>& fs);

}  // namespace jobledger::faults

#endif  // JOBLEDGER_TESTS_FAULTS_FAULT_FS_H_
