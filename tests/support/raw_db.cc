#include "tests/support/raw_db.h"

#include <rocksdb/options.h>
#include <rocksdb/table_properties.h>

#include <algorithm>

#include "ledger/internal/keys.h"

namespace jobledger::testing {

StoredEvent SplitStoredEvent(std::string_view value) {
  StoredEvent out;
  if (value.size() < sizeof(Hash)) return out;
  std::copy(value.begin(), value.begin() + sizeof(Hash), out.hash.begin());
  out.bytes = std::string(value.substr(sizeof(Hash)));
  return out;
}

std::string JoinStoredEvent(const Hash& hash, std::string_view bytes) {
  std::string value(reinterpret_cast<const char*>(hash.data()), hash.size());
  value.append(bytes);
  return value;
}

std::string EncodeHeadRecord(uint64_t sequence, const Hash& hash, int64_t recorded_at_micros) {
  std::string out;
  internal::PutBigEndian64(&out, sequence);
  out.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  internal::PutBigEndian64(&out, static_cast<uint64_t>(recorded_at_micros));
  return out;
}

rocksdb::Status RawDb::GetEvent(uint64_t sequence, StoredEvent* out) {
  std::string value;
  rocksdb::Status s = Get(std::string(internal::kEventsFamily), internal::EventKey(sequence), &value);
  if (s.ok()) *out = SplitStoredEvent(value);
  return s;
}

std::unique_ptr<RawDb> RawDb::Open(const std::string& path, rocksdb::Status* status) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  *status = rocksdb::DB::ListColumnFamilies(options, path, &names);
  if (!status->ok()) return nullptr;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::unique_ptr<RawDb> raw(new RawDb());
  rocksdb::DB* db = nullptr;
  *status = rocksdb::DB::Open(options, path, descriptors, &raw->handles_, &db);
  if (!status->ok()) return nullptr;
  raw->db_ = db;
  for (size_t i = 0; i < names.size(); ++i) raw->by_name_[names[i]] = raw->handles_[i];
  return raw;
}

RawDb::~RawDb() {
  for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  handles_.clear();
  delete db_;
}

rocksdb::ColumnFamilyHandle* RawDb::cf(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

rocksdb::Status RawDb::Get(const std::string& family, const std::string& key, std::string* value) {
  return db_->Get(rocksdb::ReadOptions(), cf(family), key, value);
}

rocksdb::Status RawDb::Put(const std::string& family, const std::string& key, std::string_view value) {
  return db_->Put(rocksdb::WriteOptions(), cf(family), key, rocksdb::Slice(value.data(), value.size()));
}

rocksdb::Status RawDb::Delete(const std::string& family, const std::string& key) {
  return db_->Delete(rocksdb::WriteOptions(), cf(family), key);
}

std::vector<std::pair<std::string, uint64_t>> RawDb::SstFiles(const std::string& family) {
  std::vector<std::pair<std::string, uint64_t>> out;
  rocksdb::ColumnFamilyHandle* h = cf(family);
  if (h == nullptr) return out;
  rocksdb::TablePropertiesCollection props;
  if (!db_->GetPropertiesOfAllTables(h, &props).ok()) return out;
  for (const auto& [file, p] : props) out.emplace_back(file, p->data_size);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace jobledger::testing
