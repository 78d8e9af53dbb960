#include "tests/support/folder_snapshot.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace jobledger::testing {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

Snapshot SnapshotOf(const std::string& dir) {
  Snapshot s;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    const std::string name = fs::relative(entry.path(), dir).string();
    if (entry.is_directory()) {
      s[name] = "dir";
      continue;
    }
    const std::string bytes = ReadFile(entry.path().string());
    uint64_t h = 1469598103934665603ULL;
    for (char c : bytes) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    s[name] = std::to_string(bytes.size()) + " bytes, fnv " + std::to_string(h);
  }
  return s;
}

std::string Differences(const Snapshot& before, const Snapshot& after) {
  std::string out;
  for (const auto& [name, what] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      out += "\n  removed " + name;
    } else if (it->second != what) {
      out += "\n  changed " + name + ": " + what + " -> " + it->second;
    }
  }
  for (const auto& [name, what] : after) {
    if (before.count(name) == 0) out += "\n  added " + name + " (" + what + ")";
  }
  return out;
}

}  // namespace jobledger::testing
