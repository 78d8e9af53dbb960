// Shared pieces of the fuzz targets: reading structured choices out of the fuzzer's
// bytes, scratch folders, and a check that aborts (so libFuzzer and the corpus replay
// both report it as a crash, with the reason on stderr).

#ifndef JOBLEDGER_FUZZ_FUZZ_UTIL_H_
#define JOBLEDGER_FUZZ_FUZZ_UTIL_H_

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace jobledger::fuzz {

// Aborts with `what` when `condition` is false: a property of the library failed.
#define JOBLEDGER_FUZZ_CHECK(condition, what)                                              \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "\nFUZZ CHECK FAILED at %s:%d: %s\n  %s\n", __FILE__, __LINE__, \
                   #condition, std::string(what).c_str());                                 \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

// Consumes the fuzzer's bytes front to back; once they run out every read returns
// zero (or empty), so any input is a valid program.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  size_t remaining() const { return size_ - pos_; }

  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool Bool() { return (Byte() & 1) != 0; }
  // 0..n-1 (n >= 1).
  size_t Pick(size_t n) { return n <= 1 ? 0 : Byte() % n; }
  // A little-endian integer of `bytes` bytes (<= 8).
  uint64_t Bits(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(Byte()) << (8 * i);
    return v;
  }
  // Bytes up to (not including) `end`, or to the end of the input.
  std::string Until(char end) {
    std::string out;
    while (pos_ < size_) {
      const char c = static_cast<char>(data_[pos_++]);
      if (c == end) break;
      out.push_back(c);
    }
    return out;
  }
  // Everything not consumed yet.
  std::string_view Rest() {
    std::string_view rest(reinterpret_cast<const char*>(data_) + pos_, size_ - pos_);
    pos_ = size_;
    return rest;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A fresh folder for one input, removed with everything in it when destroyed. It lives
// in $TMPDIR when set, else in /dev/shm when writable (a ledger syncs its appends; on
// tmpfs that is free), else in /tmp.
class ScratchDir {
 public:
  ScratchDir() {
    std::string base = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
    if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') base = tmp;
    std::string tmpl = base + "/jlfuzz-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
    JOBLEDGER_FUZZ_CHECK(!path_.empty(), "cannot create a scratch folder under " + base);
  }
  ~ScratchDir() { Clear(/*remove_root=*/true); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

  // Removes everything inside the folder (or the folder too).
  void Clear(bool remove_root = false) {
    std::error_code ec;
    if (path_.empty()) return;
    if (remove_root) {
      std::filesystem::remove_all(path_, ec);
      return;
    }
    for (const auto& entry : std::filesystem::directory_iterator(path_, ec)) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }

 private:
  std::string path_;
};

}  // namespace jobledger::fuzz

#endif  // JOBLEDGER_FUZZ_FUZZ_UTIL_H_
