// A small binary encoding for derived rows (the ledger's write-side state, the
// projections' read models): varints,
// length-prefixed strings, presence bytes for optionals. Rows start with a version
// byte so their layout can change; a reader that finds a bad row reports kDataLoss.
// (Events use Cap'n Proto's canonical form because they are hashed and kept forever;
// state rows are derived and can be rebuilt from the log, so a compact encoding with
// no schema compiler suffices.)

#ifndef JOBLEDGER_LEDGER_WIRE_H_
#define JOBLEDGER_LEDGER_WIRE_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jobledger {

class WireWriter {
 public:
  void U64(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  // Zig-zag, so small negative numbers stay small.
  void I64(int64_t v) { U64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void Bool(bool v) { out_.push_back(v ? 1 : 0); }
  void F64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(bits >> (8 * i)));
  }
  void Str(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }
  template <typename T, typename Fn>
  void Opt(const std::optional<T>& v, Fn&& write) {
    Bool(v.has_value());
    if (v) write(*v);
  }
  template <typename T, typename Fn>
  void Vec(const std::vector<T>& v, Fn&& write) {
    U64(v.size());
    for (const T& x : v) write(x);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what WireWriter wrote. After any malformed read, ok() is false and every
// further read returns a zero value; callers check ok() once at the end.
class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool AtEnd() const { return in_.empty(); }

  uint64_t U64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return Fail();
      auto b = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail();
  }
  int64_t I64() {
    uint64_t z = U64();
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  bool Bool() {
    if (in_.empty()) return Fail() != 0;
    char c = in_[0];
    in_.remove_prefix(1);
    if (c != 0 && c != 1) return Fail() != 0;
    return c == 1;
  }
  double F64() {
    if (in_.size() < 8) return static_cast<double>(Fail());
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(static_cast<uint8_t>(in_[static_cast<size_t>(i)])) << (8 * i);
    in_.remove_prefix(8);
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  std::string Str() {
    uint64_t n = U64();
    if (!ok_ || n > in_.size()) {
      Fail();
      return {};
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  template <typename T, typename Fn>
  std::optional<T> Opt(Fn&& read) {
    if (!Bool()) return std::nullopt;
    return read();
  }
  template <typename T, typename Fn>
  std::vector<T> Vec(Fn&& read) {
    uint64_t n = U64();
    std::vector<T> out;
    if (!ok_ || n > in_.size()) {  // every element takes at least one byte
      Fail();
      return out;
    }
    out.reserve(n);
    for (uint64_t i = 0; i < n && ok_; ++i) out.push_back(read());
    return out;
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

// Builds row keys: a prefix byte, then length-prefixed ids (1..255 bytes) or
// NUL-terminated names, and big-endian integers, so bytewise order is (id, number)
// order and ids that are prefixes of each other never interleave.
class KeyBuilder {
 public:
  explicit KeyBuilder(char prefix) : key_(1, prefix) {}
  KeyBuilder& Id(std::string_view id) {
    key_.push_back(static_cast<char>(static_cast<uint8_t>(id.size())));
    key_.append(id);
    return *this;
  }
  // A name that cannot contain NUL (jobId, thingName, group names): NUL-terminated,
  // so keys sort by the name itself and "a" sorts wholly before "ab".
  KeyBuilder& Name(std::string_view name) {
    key_.append(name);
    key_.push_back('\0');
    return *this;
  }
  KeyBuilder& U64(uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) key_.push_back(static_cast<char>((v >> shift) & 0xff));
    return *this;
  }
  // Newest first: versions of an entity keyed by ~sequence.
  KeyBuilder& Version(uint64_t sequence) { return U64(~sequence); }
  const std::string& key() const { return key_; }
  std::string Take() { return std::move(key_); }

 private:
  std::string key_;
};

// Reads what KeyBuilder wrote, after the prefix byte. ok() false once malformed.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : in_(key.empty() ? key : key.substr(1)) {}
  bool ok() const { return ok_; }
  bool AtEnd() const { return in_.empty(); }
  std::string_view Id() {
    if (in_.empty() || static_cast<uint8_t>(in_[0]) + 1u > in_.size()) return Fail();
    size_t n = static_cast<uint8_t>(in_[0]);
    std::string_view id = in_.substr(1, n);
    in_.remove_prefix(1 + n);
    return id;
  }
  std::string_view Name() {
    size_t end = in_.find('\0');
    if (end == std::string_view::npos) return Fail();
    std::string_view name = in_.substr(0, end);
    in_.remove_prefix(end + 1);
    return name;
  }
  uint64_t U64() {
    if (in_.size() < 8) {
      Fail();
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in_[i]);
    in_.remove_prefix(8);
    return v;
  }
  uint64_t Version() { return ~U64(); }

 private:
  std::string_view Fail() {
    ok_ = false;
    in_ = {};
    return {};
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace jobledger

#endif  // JOBLEDGER_LEDGER_WIRE_H_
