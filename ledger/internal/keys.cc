#include "ledger/internal/keys.h"

#include <cassert>

namespace jobledger::internal {

void PutBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

void PutBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

uint64_t GetBigEndian64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  return v;
}

uint32_t GetBigEndian32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  return v;
}

std::string EventKey(uint64_t sequence) {
  std::string key(1, static_cast<char>(KeyPrefix::kEvent));
  PutBigEndian64(&key, sequence);
  return key;
}

std::optional<uint64_t> ParseEventKey(std::string_view key) {
  if (key.size() != 9 || key[0] != static_cast<char>(KeyPrefix::kEvent)) return std::nullopt;
  return GetBigEndian64(key.substr(1));
}

std::string StreamPrefix(KeyPrefix prefix, std::string_view id) {
  assert(!id.empty() && id.size() <= kMaxKeyIdBytes);
  std::string key(1, static_cast<char>(prefix));
  key.push_back(static_cast<char>(static_cast<uint8_t>(id.size())));
  key.append(id);
  return key;
}

std::string StreamKey(KeyPrefix prefix, std::string_view id, uint64_t sequence) {
  std::string key = StreamPrefix(prefix, id);
  PutBigEndian64(&key, sequence);
  return key;
}

std::optional<uint64_t> ParseStreamKeySequence(std::string_view key) {
  if (key.size() < 2) return std::nullopt;
  size_t len = static_cast<uint8_t>(key[1]);
  if (key.size() != 2 + len + 8) return std::nullopt;
  return GetBigEndian64(key.substr(2 + len));
}

void PutId(std::string* key, std::string_view id) {
  assert(!id.empty() && id.size() <= kMaxKeyIdBytes);
  key->push_back(static_cast<char>(static_cast<uint8_t>(id.size())));
  key->append(id);
}

std::optional<std::string_view> GetId(std::string_view key, size_t* pos) {
  if (*pos >= key.size()) return std::nullopt;
  size_t len = static_cast<uint8_t>(key[*pos]);
  if (len == 0 || *pos + 1 + len > key.size()) return std::nullopt;
  std::string_view id = key.substr(*pos + 1, len);
  *pos += 1 + len;
  return id;
}

void PutTime(std::string* key, int64_t micros) {
  PutBigEndian64(key, static_cast<uint64_t>(micros) ^ (uint64_t{1} << 63));
}

int64_t GetTime(std::string_view in) {
  return static_cast<int64_t>(GetBigEndian64(in) ^ (uint64_t{1} << 63));
}

std::string TimeKey(int64_t recorded_at_micros, uint64_t sequence) {
  std::string key(1, static_cast<char>(KeyPrefix::kTimeIndex));
  PutBigEndian64(&key, static_cast<uint64_t>(recorded_at_micros) ^ (uint64_t{1} << 63));
  PutBigEndian64(&key, sequence);
  return key;
}

std::optional<TimeKeyParts> ParseTimeKey(std::string_view key) {
  if (key.size() != 17 || key[0] != static_cast<char>(KeyPrefix::kTimeIndex)) return std::nullopt;
  uint64_t t = GetBigEndian64(key.substr(1)) ^ (uint64_t{1} << 63);
  return TimeKeyParts{static_cast<int64_t>(t), GetBigEndian64(key.substr(9))};
}

std::string RequestKey(std::string_view request_id) {
  return StreamPrefix(KeyPrefix::kRequest, request_id);
}

std::string MetaKey(std::string_view name) {
  std::string key(1, static_cast<char>(KeyPrefix::kMeta));
  key.append(name);
  return key;
}

}  // namespace jobledger::internal
