#include "projections/internal/records.h"

#include <openssl/evp.h>

#include "ledger/config_wire.h"

namespace jobledger::projections_internal {
namespace {

constexpr uint64_t kRecordVersion = 1;

}  // namespace

std::string Encode(const JobRecord& j) {
  WireWriter w;
  w.U64(kRecordVersion);
  w.Bool(j.deleted);
  w.U64(j.incarnation);
  w.U64(static_cast<uint64_t>(j.status));
  w.Bool(j.force_canceled);
  WriteOptStr(w, j.reason_code);
  WriteOptStr(w, j.comment);
  w.U64(static_cast<uint64_t>(j.target_selection));
  w.Vec(j.targets, [&](const std::string& t) { w.Str(t); });
  WriteOptStr(w, j.description);
  w.I64(j.created_at);
  w.I64(j.last_updated_at);
  WriteOptI64(w, j.completed_at);
  WriteJobConfigs(w, JobConfigs{j.presigned_url_config, j.rollout_config, j.abort_config, j.timeout_config});
  return w.Take();
}

bool Decode(std::string_view in, JobRecord* out) {
  WireReader r(in);
  JobRecord j;
  if (r.U64() != kRecordVersion) return false;
  j.deleted = r.Bool();
  j.incarnation = r.U64();
  uint64_t status = r.U64();
  j.force_canceled = r.Bool();
  j.reason_code = ReadOptStr(r);
  j.comment = ReadOptStr(r);
  uint64_t selection = r.U64();
  if (status > 2 || selection > 1) return false;
  j.status = static_cast<JobStatus>(status);
  j.target_selection = static_cast<TargetSelection>(selection);
  j.targets = r.Vec<std::string>([&] { return r.Str(); });
  j.description = ReadOptStr(r);
  j.created_at = r.I64();
  j.last_updated_at = r.I64();
  j.completed_at = ReadOptI64(r);
  JobConfigs configs = ReadJobConfigs(r);
  j.presigned_url_config = std::move(configs.presigned_url_config);
  j.rollout_config = std::move(configs.rollout_config);
  j.abort_config = std::move(configs.abort_config);
  j.timeout_config = std::move(configs.timeout_config);
  if (!r.ok() || !r.AtEnd()) return false;
  *out = std::move(j);
  return true;
}

std::string Encode(const JobCounters& c) {
  WireWriter w;
  w.U64(kRecordVersion);
  for (int64_t n : c.counts) w.I64(n);
  w.Vec(c.remaining, [&](const auto& t) {
    w.Str(t.first);
    w.I64(t.second);
  });
  return w.Take();
}

bool Decode(std::string_view in, JobCounters* out) {
  WireReader r(in);
  JobCounters c;
  if (r.U64() != kRecordVersion) return false;
  for (int64_t& n : c.counts) n = r.I64();
  c.remaining = r.Vec<std::pair<std::string, int64_t>>([&] {
    std::string t = r.Str();
    int64_t n = r.I64();
    return std::make_pair(std::move(t), n);
  });
  if (!r.ok() || !r.AtEnd()) return false;
  *out = std::move(c);
  return true;
}

std::string Encode(const ExecRecord& e) {
  WireWriter w;
  w.U64(kRecordVersion);
  w.Bool(e.deleted);
  w.U64(static_cast<uint64_t>(e.status));
  w.Bool(e.force_canceled);
  w.Vec(e.status_details, [&](const auto& kv) {
    w.Str(kv.first);
    w.Str(kv.second);
  });
  w.I64(e.queued_at);
  WriteOptI64(w, e.started_at);
  w.I64(e.last_updated_at);
  w.I64(e.version);
  WriteOptI64(w, e.in_progress_deadline);
  WriteOptI64(w, e.step_deadline);
  return w.Take();
}

bool Decode(std::string_view in, ExecRecord* out) {
  WireReader r(in);
  ExecRecord e;
  if (r.U64() != kRecordVersion) return false;
  e.deleted = r.Bool();
  uint64_t status = r.U64();
  if (status == 0 || status > static_cast<uint64_t>(ExecutionStatus::kCanceled)) return false;
  e.status = static_cast<ExecutionStatus>(status);
  e.force_canceled = r.Bool();
  e.status_details = r.Vec<std::pair<std::string, std::string>>([&] {
    std::string k = r.Str();
    std::string v = r.Str();
    return std::make_pair(std::move(k), std::move(v));
  });
  e.queued_at = r.I64();
  e.started_at = ReadOptI64(r);
  e.last_updated_at = r.I64();
  e.version = r.I64();
  e.in_progress_deadline = ReadOptI64(r);
  e.step_deadline = ReadOptI64(r);
  if (!r.ok() || !r.AtEnd()) return false;
  *out = std::move(e);
  return true;
}

std::string JobEntity(std::string_view job_id) { return KeyBuilder(kJobRow).Name(job_id).Take(); }
std::string CountersEntity(std::string_view job_id) {
  return KeyBuilder(kCountersRow).Name(job_id).Take();
}
std::string DocumentEntity(std::string_view job_id) {
  return KeyBuilder(kDocumentRow).Name(job_id).Take();
}
std::string ExecEntity(std::string_view job_id, std::string_view thing, int64_t number) {
  return KeyBuilder(kExecRow).Name(job_id).Name(thing).U64(static_cast<uint64_t>(number)).Take();
}
std::string ExecJobPrefix(std::string_view job_id) { return KeyBuilder(kExecRow).Name(job_id).Take(); }

std::string VersionSuffix(uint64_t sequence) {
  std::string key = KeyBuilder('\0').Version(sequence).Take();
  return key.substr(1);
}

std::string PastEntity(std::string_view entity) {
  std::string key(entity);
  key.append(9, '\xff');
  return key;
}

StatusOr<std::optional<Version>> ReadAsOf(RowIterator& it, std::string_view entity,
                                          uint64_t sequence) {
  it.Seek(std::string(entity) + VersionSuffix(sequence));
  if (!it.Valid()) {
    JOBLEDGER_RETURN_IF_ERROR(it.status());
    return std::optional<Version>();
  }
  std::string_view key = it.key();
  if (key.size() != entity.size() + 8 || key.substr(0, entity.size()) != entity) {
    return std::optional<Version>();  // no version at or before `sequence`
  }
  uint64_t stored = 0;
  for (size_t i = entity.size(); i < key.size(); ++i) stored = (stored << 8) | static_cast<uint8_t>(key[i]);
  return std::optional<Version>(Version{~stored, std::string(it.value())});
}

std::string ThingGroupId(std::string_view group_name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static constexpr char kDomain[] = "jobledger.thinggroup.v1:";
  std::string input = kDomain + std::string(group_name);
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr) != 1) len = 0;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 16 && i < len; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

Status Malformed(std::string_view what) {
  return DataLossError("projection jobs: malformed " + std::string(what) +
                       "; rebuild the projection (jobledger rebuild-projections)");
}

}  // namespace jobledger::projections_internal
