#include "tests/faults/fault_fs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

namespace jobledger::faults {
namespace {

namespace fs = std::filesystem;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

constexpr uint64_t kMaxRememberedBytes = 1 << 20;

std::string ReadWhole(const std::string& path, uint64_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() > limit) bytes.resize(limit);
  return bytes;
}

}  // namespace

// A writable file whose writes and syncs FaultFs accounts for.
class TrackedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(FaultFs* fs, std::string path, std::unique_ptr<rocksdb::FSWritableFile> target)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), path_(std::move(path)) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    size_t allowed = 0;
    IOStatus fault = fs_->ReserveWrite(data.size(), &allowed);
    if (allowed > 0) {
      IOStatus s = target()->Append(Slice(data.data(), allowed), o, dbg);
      if (!s.ok()) return s;
      fs_->Appended(path_, allowed);
    }
    return fault;
  }
  IOStatus Append(const Slice& data, const IOOptions& o, const rocksdb::DataVerificationInfo&,
                  IODebugContext* dbg) override {
    return Append(data, o, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    size_t allowed = 0;
    IOStatus fault = fs_->ReserveWrite(data.size(), &allowed);
    if (allowed > 0) {
      IOStatus s = target()->PositionedAppend(Slice(data.data(), allowed), offset, o, dbg);
      if (!s.ok()) return s;
      fs_->Wrote(path_, offset + allowed);
    }
    return fault;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo&, IODebugContext* dbg) override {
    return PositionedAppend(data, offset, o, dbg);
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPowered("truncate");
    if (!s.ok()) return s;
    s = target()->Truncate(size, o, dbg);
    if (s.ok()) fs_->Truncated(path_, size);
    return s;
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    uint64_t size = 0;
    IOStatus s = fs_->BeginSync(path_, &size);
    if (!s.ok()) return s;
    s = target()->Sync(o, dbg);
    if (!s.ok()) return s;
    return fs_->EndSync(path_, size);
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    uint64_t size = 0;
    IOStatus s = fs_->BeginSync(path_, &size);
    if (!s.ok()) return s;
    s = target()->Fsync(o, dbg);
    if (!s.ok()) return s;
    return fs_->EndSync(path_, size);
  }
  // sync_file_range without waiting: starts write-back, makes nothing durable.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                     IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPowered("range sync");
    if (!s.ok()) return s;
    return target()->RangeSync(offset, nbytes, o, dbg);
  }
  IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& o,
                    IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPowered("allocate");
    if (!s.ok()) return s;
    return target()->Allocate(offset, len, o, dbg);
  }

 private:
  FaultFs* fs_;
  std::string path_;
};

// A directory whose fsyncs make the entries of the files in it durable.
class TrackedDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(FaultFs* fs, std::string path, std::unique_ptr<rocksdb::FSDirectory> target)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), path_(std::move(path)) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    return Synced([&] { return FSDirectoryWrapper::Fsync(o, dbg); });
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& d) override {
    return Synced([&] { return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d); });
  }

 private:
  template <typename F>
  IOStatus Synced(F&& fsync) {
    std::vector<std::string> files;
    IOStatus s = fs_->BeginDirSync(path_, &files);
    if (!s.ok()) return s;
    s = fsync();
    if (!s.ok()) return s;
    return fs_->EndDirSync(files);
  }

  FaultFs* fs_;
  std::string path_;
};

FaultFs::FaultFs(std::shared_ptr<rocksdb::FileSystem> base) : FileSystemWrapper(base) {}

std::string FaultFs::Normal(const std::string& path) {
  std::string n = fs::path(path).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

std::string FaultFs::Parent(const std::string& normal_path) {
  return fs::path(normal_path).parent_path().string();
}

void FaultFs::CutPower() {
  std::lock_guard<std::mutex> lock(mu_);
  powered_ = false;
}

void FaultFs::CutPowerAfterBytes(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  power_cut_at_ = bytes > kUnlimited - written_ ? kUnlimited : written_ + bytes;
}

void FaultFs::RestartProcess() {
  std::lock_guard<std::mutex> lock(mu_);
  powered_ = true;
  power_cut_at_ = kUnlimited;
}

bool FaultFs::powered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return powered_;
}

void FaultFs::SetSpaceBudget(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  space_end_ = bytes > kUnlimited - written_ ? kUnlimited : written_ + bytes;
}

uint64_t FaultFs::bytes_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}
uint64_t FaultFs::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}
uint64_t FaultFs::dir_syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dir_syncs_;
}
uint64_t FaultFs::failed_writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_writes_;
}
uint64_t FaultFs::refused_mutations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

IOStatus FaultFs::Refused(const char* what) {
  ++refused_;
  return IOStatus::IOError(std::string("FaultFs: the power is off (") + what + ")");
}

IOStatus FaultFs::CheckPowered(const char* what) {
  std::lock_guard<std::mutex> lock(mu_);
  return powered_ ? IOStatus::OK() : Refused(what);
}

IOStatus FaultFs::ReserveWrite(size_t n, size_t* allowed) {
  std::lock_guard<std::mutex> lock(mu_);
  *allowed = 0;
  if (!powered_) {
    ++failed_writes_;
    return Refused("write");
  }
  if (written_ >= space_end_) {
    ++failed_writes_;
    return IOStatus::NoSpace("FaultFs: no space left on device");
  }
  const uint64_t limit = std::min(power_cut_at_, space_end_);
  if (n <= limit - written_) {
    *allowed = n;
    written_ += n;
    return IOStatus::OK();
  }
  *allowed = static_cast<size_t>(limit - written_);
  written_ = limit;
  ++failed_writes_;
  if (power_cut_at_ <= space_end_) {
    powered_ = false;
    return IOStatus::IOError("FaultFs: the power went off during a write");
  }
  return IOStatus::NoSpace("FaultFs: no space left on device");
}

void FaultFs::Appended(const std::string& path, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[path].size += n;
}

void FaultFs::Wrote(const std::string& path, uint64_t end_offset) {
  std::lock_guard<std::mutex> lock(mu_);
  FileState& st = files_[path];
  st.size = std::max(st.size, end_offset);
}

IOStatus FaultFs::BeginSync(const std::string& path, uint64_t* size) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!powered_) return Refused("sync");
  auto it = files_.find(path);
  *size = it == files_.end() ? 0 : it->second.size;
  return IOStatus::OK();
}

IOStatus FaultFs::EndSync(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  // A sync that completes after the power went off never completed.
  if (!powered_) return Refused("sync");
  ++syncs_;
  auto it = files_.find(path);
  if (it != files_.end()) it->second.synced = std::max(it->second.synced, size);
  return IOStatus::OK();
}

void FaultFs::Truncated(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return;
  it->second.size = size;
  it->second.synced = std::min(it->second.synced, size);
}

IOStatus FaultFs::BeginDirSync(const std::string& dir, std::vector<std::string>* files) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!powered_) return Refused("directory fsync");
  for (const auto& [path, st] : files_) {
    if (!st.dir_synced && Parent(path) == dir) files->push_back(path);
  }
  return IOStatus::OK();
}

IOStatus FaultFs::EndDirSync(const std::vector<std::string>& files) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!powered_) return Refused("directory fsync");
  ++dir_syncs_;
  for (const std::string& path : files) {
    auto it = files_.find(path);
    if (it == files_.end()) continue;
    it->second.dir_synced = true;
    it->second.replaced_content.reset();
  }
  return IOStatus::OK();
}

void FaultFs::Created(const std::string& path) {
  std::error_code ec;
  const bool existed = fs::exists(path, ec);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  // Truncating a file whose name is durable keeps the name durable.
  const bool durable_name = existed && (it == files_.end() || it->second.dir_synced);
  FileState st;
  st.dir_synced = durable_name;
  files_[path] = st;
}

void FaultFs::TrackExisting(const std::string& path) {
  std::error_code ec;
  const uint64_t size = fs::exists(path, ec) ? fs::file_size(path, ec) : 0;
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.count(path) != 0) return;
  FileState st;
  st.size = st.synced = ec ? 0 : size;
  st.dir_synced = true;
  files_[path] = st;
}

IOStatus FaultFs::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                  std::unique_ptr<rocksdb::FSWritableFile>* r,
                                  IODebugContext* dbg) {
  IOStatus s = CheckPowered("create");
  if (!s.ok()) return s;
  const std::string path = Normal(f);
  Created(path);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = target()->NewWritableFile(f, o, &file, dbg);
  if (!s.ok()) return s;
  *r = std::make_unique<TrackedFile>(this, path, std::move(file));
  return s;
}

IOStatus FaultFs::ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                     std::unique_ptr<rocksdb::FSWritableFile>* r,
                                     IODebugContext* dbg) {
  IOStatus s = CheckPowered("reopen");
  if (!s.ok()) return s;
  const std::string path = Normal(f);
  std::error_code ec;
  if (fs::exists(path, ec)) {
    TrackExisting(path);
  } else {
    Created(path);
  }
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = target()->ReopenWritableFile(f, o, &file, dbg);
  if (!s.ok()) return s;
  *r = std::make_unique<TrackedFile>(this, path, std::move(file));
  return s;
}

IOStatus FaultFs::ReuseWritableFile(const std::string& f, const std::string& old,
                                    const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    IODebugContext* dbg) {
  IOStatus s = CheckPowered("reuse");
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = target()->ReuseWritableFile(f, old, o, &file, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(Normal(old));
  }
  const std::string path = Normal(f);
  Created(path);
  *r = std::make_unique<TrackedFile>(this, path, std::move(file));
  return s;
}

IOStatus FaultFs::NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                  std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                  IODebugContext* dbg) {
  IOStatus s = CheckPowered("open read-write");
  if (!s.ok()) return s;
  return target()->NewRandomRWFile(f, o, r, dbg);
}

IOStatus FaultFs::NewDirectory(const std::string& name, const IOOptions& o,
                               std::unique_ptr<rocksdb::FSDirectory>* r, IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, o, &dir, dbg);
  if (!s.ok()) return s;
  *r = std::make_unique<TrackedDirectory>(this, Normal(name), std::move(dir));
  return s;
}

IOStatus FaultFs::DeleteFile(const std::string& f, const IOOptions& o, IODebugContext* dbg) {
  IOStatus s = CheckPowered("delete");
  if (!s.ok()) return s;
  s = target()->DeleteFile(f, o, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(Normal(f));
  }
  return s;
}

IOStatus FaultFs::RenameFile(const std::string& src, const std::string& dst, const IOOptions& o,
                             IODebugContext* dbg) {
  IOStatus s = CheckPowered("rename");
  if (!s.ok()) return s;
  const std::string from = Normal(src);
  const std::string to = Normal(dst);
  std::error_code ec;
  TrackExisting(from);
  // If `to` names a durable file, remember its durable bytes: until the directory is
  // synced, the power coming back may find the old file under that name.
  std::optional<std::string> replaced;
  if (fs::exists(to, ec) && fs::file_size(to, ec) <= kMaxRememberedBytes) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(to);
    if (it == files_.end()) {
      replaced = ReadWhole(to, kMaxRememberedBytes);
    } else if (it->second.dir_synced) {
      replaced = ReadWhole(to, it->second.synced);
    } else {
      replaced = it->second.replaced_content;
    }
  }
  s = target()->RenameFile(src, dst, o, dbg);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  FileState st = files_[from];
  files_.erase(from);
  st.dir_synced = false;
  st.replaced_content = std::move(replaced);
  files_[to] = std::move(st);
  return s;
}

IOStatus FaultFs::LinkFile(const std::string& src, const std::string& dst, const IOOptions& o,
                           IODebugContext* dbg) {
  IOStatus s = CheckPowered("link");
  if (!s.ok()) return s;
  TrackExisting(Normal(src));
  s = target()->LinkFile(src, dst, o, dbg);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  FileState st = files_[Normal(src)];
  st.dir_synced = false;
  st.replaced_content.reset();
  files_[Normal(dst)] = st;
  return s;
}

IOStatus FaultFs::Truncate(const std::string& f, size_t size, const IOOptions& o,
                           IODebugContext* dbg) {
  IOStatus s = CheckPowered("truncate");
  if (!s.ok()) return s;
  s = target()->Truncate(f, size, o, dbg);
  if (s.ok()) Truncated(Normal(f), size);
  return s;
}

IOStatus FaultFs::CreateDir(const std::string& d, const IOOptions& o, IODebugContext* dbg) {
  IOStatus s = CheckPowered("create directory");
  return s.ok() ? target()->CreateDir(d, o, dbg) : s;
}

IOStatus FaultFs::CreateDirIfMissing(const std::string& d, const IOOptions& o,
                                     IODebugContext* dbg) {
  IOStatus s = CheckPowered("create directory");
  return s.ok() ? target()->CreateDirIfMissing(d, o, dbg) : s;
}

IOStatus FaultFs::DeleteDir(const std::string& d, const IOOptions& o, IODebugContext* dbg) {
  IOStatus s = CheckPowered("delete directory");
  return s.ok() ? target()->DeleteDir(d, o, dbg) : s;
}

std::vector<std::string> FaultFs::DropUnsyncedData(std::mt19937_64* rng) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> changes;
  std::error_code ec;
  for (auto it = files_.begin(); it != files_.end();) {
    const std::string& path = it->first;
    FileState& st = it->second;
    if (!st.dir_synced) {
      if (st.replaced_content.has_value()) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << *st.replaced_content;
        changes.push_back("restored " + path + " as it was before a rename (" +
                          std::to_string(st.replaced_content->size()) + " bytes)");
        FileState restored;
        restored.size = restored.synced = st.replaced_content->size();
        restored.dir_synced = true;
        st = restored;
        ++it;
      } else {
        if (fs::remove(path, ec)) {
          changes.push_back("deleted " + path + " (its directory entry was never synced)");
        }
        it = files_.erase(it);
      }
      continue;
    }
    uint64_t keep = st.synced;
    if (rng != nullptr && st.size > st.synced) keep += (*rng)() % (st.size - st.synced + 1);
    const uint64_t actual = fs::exists(path, ec) ? fs::file_size(path, ec) : 0;
    if (!ec && actual > keep) {
      fs::resize_file(path, keep, ec);
      std::ostringstream line;
      line << "truncated " << path << " from " << actual << " to " << keep << " bytes ("
           << st.synced << " synced)";
      changes.push_back(line.str());
    }
    st.size = st.synced = std::min(actual, keep);
    ++it;
  }
  powered_ = true;
  power_cut_at_ = kUnlimited;
  space_end_ = kUnlimited;
  return changes;
}

std::unique_ptr<rocksdb::Env> NewFaultEnv(const std::shared_ptr<FaultFs>& fs) {
  return rocksdb::NewCompositeEnv(fs);
}

}  // namespace jobledger::faults
