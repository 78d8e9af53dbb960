#include "ledger/internal/state.h"

#include "ledger/config_wire.h"
#include "ledger/internal/keys.h"
#include "ledger/wire.h"

namespace jobledger::internal {
namespace {

constexpr char kJobStateVersion = 1;
constexpr char kExecStateVersion = 1;

std::string Prefix(KeyPrefix p) { return std::string(1, static_cast<char>(p)); }

std::string JobKey(std::string_view job) {
  std::string k = Prefix(KeyPrefix::kJob);
  PutId(&k, job);
  return k;
}

std::string ExecPrefix(std::string_view job, std::string_view thing) {
  std::string k = Prefix(KeyPrefix::kExecution);
  PutId(&k, job);
  if (!thing.empty()) PutId(&k, thing);
  return k;
}

std::string ExecKey(const ExecutionId& id) {
  std::string k = ExecPrefix(id.job_id, id.thing_name);
  PutBigEndian64(&k, static_cast<uint64_t>(id.execution_number));
  return k;
}

// ---- config encodings ----


template <typename Fn>
Status ScanAll(std::unique_ptr<RowIterator> it, Fn&& fn) {
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    StatusOr<bool> go = fn(it->key(), it->value());
    if (!go.ok()) return go.status();
    if (!*go) break;
  }
  return it->status();
}

// The tags of JobState's optional sections, in the order they are written.
constexpr uint64_t kFanOutSection = 1;
constexpr uint64_t kCancelSection = 2;
constexpr uint64_t kPlanSection = 3;  // empty: the unfinished fan-out makes a plan
constexpr uint64_t kWindowSection = 4;  // a window queued in chunks

Status Malformed(std::string_view what) {
  return DataLossError("ledger.state: malformed row for " + std::string(what) +
                       "; rebuild the state from the log");
}

}  // namespace

std::string EncodeJobState(const JobState& j) {
  WireWriter w;
  w.Str(std::string(1, kJobStateVersion));
  w.U64(j.incarnation);
  w.U64(static_cast<uint64_t>(j.status));
  w.U64(static_cast<uint64_t>(j.target_selection));
  w.Vec(j.targets, [&](const std::string& t) { w.Str(t); });
  WriteOptStr(w, j.description);
  WriteJobConfigs(w, JobConfigs{j.presigned_url_config, j.rollout_config, j.abort_config, j.timeout_config});
  w.Bool(j.force_canceled);
  WriteOptStr(w, j.reason_code);
  WriteOptStr(w, j.comment);
  w.I64(j.created_at);
  w.I64(j.last_updated_at);
  WriteOptI64(w, j.completed_at);
  for (int64_t c : j.counts) w.I64(c);
  w.U64(j.rollout_pending);
  w.U64(j.rollout_next_order);
  w.I64(j.rollout_origin);
  w.U64(j.rollout_next_window);
  w.I64(j.rollout_notified);
  w.I64(j.rollout_rate_step);
  w.U64(j.rollout_plan_seq);
  // Optional sections, each after its tag, written only when they hold something: a
  // job that never had them reads as before.
  if (j.fanout_pending) {
    w.U64(kFanOutSection);
    w.Str(j.fanout_target);
    w.Str(j.fanout_after);
  }
  if (j.canceled_seq != 0) {
    w.U64(kCancelSection);
    w.U64(j.canceled_seq);
    w.Bool(j.canceled_by_abort);
  }
  if (j.fanout_pending && j.fanout_plans) w.U64(kPlanSection);
  if (j.window_left != 0) {
    w.U64(kWindowSection);
    w.U64(j.window_left);
    w.U64(j.window_step_seq);
  }
  return w.Take();
}

StatusOr<JobState> DecodeJobState(std::string_view bytes, std::string_view job_id) {
  WireReader r(bytes);
  JobState j;
  if (r.Str() != std::string(1, kJobStateVersion)) return Malformed("job '" + std::string(job_id) + "'");
  j.incarnation = r.U64();
  uint64_t status = r.U64();
  uint64_t selection = r.U64();
  if (status > 2 || selection > 1) return Malformed("job '" + std::string(job_id) + "'");
  j.status = static_cast<JobStatus>(status);
  j.target_selection = static_cast<TargetSelection>(selection);
  j.targets = r.Vec<std::string>([&] { return r.Str(); });
  j.description = ReadOptStr(r);
  JobConfigs configs = ReadJobConfigs(r);
  j.presigned_url_config = std::move(configs.presigned_url_config);
  j.rollout_config = std::move(configs.rollout_config);
  j.abort_config = std::move(configs.abort_config);
  j.timeout_config = std::move(configs.timeout_config);
  j.force_canceled = r.Bool();
  j.reason_code = ReadOptStr(r);
  j.comment = ReadOptStr(r);
  j.created_at = r.I64();
  j.last_updated_at = r.I64();
  j.completed_at = ReadOptI64(r);
  for (int64_t& c : j.counts) c = r.I64();
  j.rollout_pending = r.U64();
  j.rollout_next_order = r.U64();
  j.rollout_origin = r.I64();
  j.rollout_next_window = r.U64();
  j.rollout_notified = r.I64();
  j.rollout_rate_step = static_cast<int32_t>(r.I64());
  j.rollout_plan_seq = r.U64();
  uint64_t last_section = 0;
  while (r.ok() && !r.AtEnd()) {
    const uint64_t section = r.U64();
    if (section <= last_section) return Malformed("job '" + std::string(job_id) + "'");
    last_section = section;
    if (section == kFanOutSection) {
      j.fanout_pending = true;
      j.fanout_target = r.Str();
      j.fanout_after = r.Str();
    } else if (section == kCancelSection) {
      j.canceled_seq = r.U64();
      j.canceled_by_abort = r.Bool();
      if (j.canceled_seq == 0) return Malformed("job '" + std::string(job_id) + "'");
    } else if (section == kPlanSection) {
      if (!j.fanout_pending) return Malformed("job '" + std::string(job_id) + "'");
      j.fanout_plans = true;
    } else if (section == kWindowSection) {
      j.window_left = r.U64();
      j.window_step_seq = r.U64();
      if (j.window_left == 0 || j.window_step_seq == 0) return Malformed("job '" + std::string(job_id) + "'");
    } else {
      return Malformed("job '" + std::string(job_id) + "'");
    }
  }
  if (!r.ok() || !r.AtEnd()) return Malformed("job '" + std::string(job_id) + "'");
  return j;
}

std::string EncodeExecState(const ExecState& e) {
  WireWriter w;
  w.Str(std::string(1, kExecStateVersion));
  w.U64(static_cast<uint64_t>(e.status));
  w.I64(e.version);
  w.U64(e.queued_seq);
  w.Str(e.target);
  w.I64(e.queued_at);
  WriteOptI64(w, e.started_at);
  w.I64(e.last_updated_at);
  WriteDetails(w, e.status_details);
  w.Bool(e.force_canceled);
  WriteOptI64(w, e.in_progress_deadline);
  WriteOptI64(w, e.step_deadline);
  w.U64(e.deadline_seq);
  return w.Take();
}

StatusOr<ExecState> DecodeExecState(std::string_view bytes, std::string_view what) {
  WireReader r(bytes);
  ExecState e;
  if (r.Str() != std::string(1, kExecStateVersion)) return Malformed(what);
  uint64_t status = r.U64();
  if (status == 0 || status > static_cast<uint64_t>(ExecutionStatus::kCanceled)) return Malformed(what);
  e.status = static_cast<ExecutionStatus>(status);
  e.version = r.I64();
  e.queued_seq = r.U64();
  e.target = r.Str();
  e.queued_at = r.I64();
  e.started_at = ReadOptI64(r);
  e.last_updated_at = r.I64();
  e.status_details = ReadDetails(r);
  e.force_canceled = r.Bool();
  e.in_progress_deadline = ReadOptI64(r);
  e.step_deadline = ReadOptI64(r);
  e.deadline_seq = r.U64();
  if (!r.ok() || !r.AtEnd()) return Malformed(what);
  return e;
}

// ---- StateStore ----

StatusOr<std::optional<std::string>> StateStore::Get(std::string_view key) const {
  return txn_ != nullptr ? txn_->Get(family_, key) : log_->GetRow(family_, key);
}
Status StateStore::Put(std::string_view key, std::string_view value) {
  if (txn_ == nullptr) return InternalError("ledger.state: write outside an append");
  return txn_->Put(family_, key, value);
}
Status StateStore::Delete(std::string_view key) {
  if (txn_ == nullptr) return InternalError("ledger.state: write outside an append");
  return txn_->Delete(family_, key);
}
std::unique_ptr<RowIterator> StateStore::Scan(std::string_view prefix) const {
  return txn_ != nullptr ? txn_->Scan(family_, prefix) : log_->ScanRows(family_, prefix);
}

StatusOr<std::optional<JobState>> StateStore::GetJob(std::string_view job_id) const {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> raw, Get(JobKey(job_id)));
  if (!raw) return std::optional<JobState>();
  JOBLEDGER_ASSIGN_OR_RETURN(JobState job, DecodeJobState(*raw, job_id));
  return std::optional<JobState>(std::move(job));
}
Status StateStore::PutJob(std::string_view job_id, const JobState& job) {
  return Put(JobKey(job_id), EncodeJobState(job));
}
Status StateStore::DeleteJob(std::string_view job_id) { return Delete(JobKey(job_id)); }

Status StateStore::ForEachJob(
    const std::function<Status(std::string_view, const JobState&)>& fn) const {
  return ScanAll(Scan(Prefix(KeyPrefix::kJob)), [&](std::string_view key, std::string_view value) -> StatusOr<bool> {
    size_t pos = 1;
    std::optional<std::string_view> job = GetId(key, &pos);
    if (!job) return Malformed("a job key");
    JOBLEDGER_ASSIGN_OR_RETURN(JobState state, DecodeJobState(value, *job));
    JOBLEDGER_RETURN_IF_ERROR(fn(*job, state));
    return true;
  });
}

namespace {
std::string ExecWhat(const ExecutionId& id) {
  return "execution " + id.job_id + "/" + id.thing_name + "#" + std::to_string(id.execution_number);
}
}  // namespace

StatusOr<std::optional<ExecState>> StateStore::GetExecution(const ExecutionId& id) const {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> raw, Get(ExecKey(id)));
  if (!raw) return std::optional<ExecState>();
  JOBLEDGER_ASSIGN_OR_RETURN(ExecState e, DecodeExecState(*raw, ExecWhat(id)));
  return std::optional<ExecState>(std::move(e));
}

StatusOr<std::optional<std::pair<int64_t, ExecState>>> StateStore::LatestExecution(
    std::string_view job_id, std::string_view thing_name) const {
  using Result = std::optional<std::pair<int64_t, ExecState>>;
  std::unique_ptr<RowIterator> it = Scan(ExecPrefix(job_id, thing_name));
  it->SeekToLast();
  if (!it->Valid()) {
    JOBLEDGER_RETURN_IF_ERROR(it->status());
    return Result();
  }
  std::string_view key = it->key();
  if (key.size() < 8) return Malformed("an execution key");
  auto number = static_cast<int64_t>(GetBigEndian64(key.substr(key.size() - 8)));
  ExecutionId id{std::string(job_id), std::string(thing_name), number};
  JOBLEDGER_ASSIGN_OR_RETURN(ExecState e, DecodeExecState(it->value(), ExecWhat(id)));
  return Result(std::make_pair(number, std::move(e)));
}

Status StateStore::PutExecution(const ExecutionId& id, const ExecState& exec) {
  return Put(ExecKey(id), EncodeExecState(exec));
}
Status StateStore::DeleteExecution(const ExecutionId& id) { return Delete(ExecKey(id)); }

Status StateStore::ForEachExecutionOfJob(
    std::string_view job_id,
    const std::function<StatusOr<bool>(const ExecutionId&, const ExecState&)>& fn) const {
  return ScanAll(Scan(ExecPrefix(job_id, {})), [&](std::string_view key, std::string_view value) -> StatusOr<bool> {
    size_t pos = 1;
    std::optional<std::string_view> job = GetId(key, &pos);
    std::optional<std::string_view> thing = job ? GetId(key, &pos) : std::nullopt;
    if (!thing || key.size() != pos + 8) return Malformed("an execution key");
    ExecutionId id{std::string(*job), std::string(*thing),
                   static_cast<int64_t>(GetBigEndian64(key.substr(pos)))};
    JOBLEDGER_ASSIGN_OR_RETURN(ExecState e, DecodeExecState(value, ExecWhat(id)));
    return fn(id, e);
  });
}

namespace {
std::string PendingPrefix(std::string_view thing) {
  std::string k = Prefix(KeyPrefix::kPending);
  PutId(&k, thing);
  return k;
}
std::string PendingKey(std::string_view thing, uint64_t queued_seq, std::string_view job) {
  std::string k = PendingPrefix(thing);
  PutBigEndian64(&k, queued_seq);
  PutId(&k, job);
  return k;
}
}  // namespace

Status StateStore::PutPending(std::string_view thing, uint64_t queued_seq, const ExecutionId& id) {
  std::string value;
  PutBigEndian64(&value, static_cast<uint64_t>(id.execution_number));
  return Put(PendingKey(thing, queued_seq, id.job_id), value);
}
Status StateStore::DeletePending(std::string_view thing, uint64_t queued_seq, std::string_view job_id) {
  return Delete(PendingKey(thing, queued_seq, job_id));
}
StatusOr<std::vector<PendingEntry>> StateStore::PendingOfThing(std::string_view thing) const {
  std::vector<PendingEntry> out;
  const std::string prefix = PendingPrefix(thing);
  JOBLEDGER_RETURN_IF_ERROR(ScanAll(Scan(prefix), [&](std::string_view key, std::string_view value) -> StatusOr<bool> {
    size_t pos = prefix.size() + 8;
    if (key.size() < pos || value.size() != 8) return Malformed("a pending key");
    uint64_t seq = GetBigEndian64(key.substr(prefix.size()));
    std::optional<std::string_view> job = GetId(key, &pos);
    if (!job) return Malformed("a pending key");
    out.push_back(PendingEntry{seq, ExecutionId{std::string(*job), std::string(thing),
                                                static_cast<int64_t>(GetBigEndian64(value))}});
    return true;
  }));
  return out;
}

namespace {
std::string DeadlineKey(int64_t deadline, const ExecutionId& id) {
  std::string k = Prefix(KeyPrefix::kDeadline);
  PutTime(&k, deadline);
  PutId(&k, id.job_id);
  PutId(&k, id.thing_name);
  PutBigEndian64(&k, static_cast<uint64_t>(id.execution_number));
  return k;
}
std::string RolloutDueKey(int64_t due, std::string_view job) {
  std::string k = Prefix(KeyPrefix::kRolloutDue);
  PutTime(&k, due);
  PutId(&k, job);
  return k;
}
}  // namespace

Status StateStore::PutDeadline(int64_t deadline, const ExecutionId& id) {
  return Put(DeadlineKey(deadline, id), {});
}
Status StateStore::DeleteDeadline(int64_t deadline, const ExecutionId& id) {
  return Delete(DeadlineKey(deadline, id));
}
StatusOr<std::optional<DueTimer>> StateStore::FirstDeadline() const {
  std::optional<DueTimer> out;
  JOBLEDGER_RETURN_IF_ERROR(ScanAll(Scan(Prefix(KeyPrefix::kDeadline)), [&](std::string_view key, std::string_view) -> StatusOr<bool> {
    if (key.size() < 9) return Malformed("a deadline key");
    size_t pos = 9;
    std::optional<std::string_view> job = GetId(key, &pos);
    std::optional<std::string_view> thing = job ? GetId(key, &pos) : std::nullopt;
    if (!thing || key.size() != pos + 8) return Malformed("a deadline key");
    out = DueTimer{GetTime(key.substr(1)),
                   ExecutionId{std::string(*job), std::string(*thing),
                               static_cast<int64_t>(GetBigEndian64(key.substr(pos)))}};
    return false;
  }));
  return out;
}

Status StateStore::PutRolloutDue(int64_t due, std::string_view job_id) {
  return Put(RolloutDueKey(due, job_id), {});
}
Status StateStore::DeleteRolloutDue(int64_t due, std::string_view job_id) {
  return Delete(RolloutDueKey(due, job_id));
}
StatusOr<std::optional<DueRollout>> StateStore::FirstRolloutDue() const {
  std::optional<DueRollout> out;
  JOBLEDGER_RETURN_IF_ERROR(ScanAll(Scan(Prefix(KeyPrefix::kRolloutDue)), [&](std::string_view key, std::string_view) -> StatusOr<bool> {
    size_t pos = 9;
    std::optional<std::string_view> job = key.size() > 9 ? GetId(key, &pos) : std::nullopt;
    if (!job || pos != key.size()) return Malformed("a rollout key");
    out = DueRollout{GetTime(key.substr(1)), std::string(*job)};
    return false;
  }));
  return out;
}

namespace {
std::string PlannedPrefix(std::string_view job) {
  std::string k = Prefix(KeyPrefix::kPlanned);
  PutId(&k, job);
  return k;
}
std::string PlannedByThingPrefix(std::string_view thing) {
  std::string k = Prefix(KeyPrefix::kPlannedByThing);
  PutId(&k, thing);
  return k;
}
}  // namespace

Status StateStore::PutPlanned(std::string_view job_id, uint64_t order, const PlannedExecution& entry) {
  std::string key = PlannedPrefix(job_id);
  PutBigEndian64(&key, order);
  WireWriter w;
  w.Str(entry.thing_name);
  w.Str(entry.target);
  JOBLEDGER_RETURN_IF_ERROR(Put(key, w.Take()));
  std::string by_thing = PlannedByThingPrefix(entry.thing_name);
  PutId(&by_thing, job_id);
  PutBigEndian64(&by_thing, order);
  return Put(by_thing, {});
}

Status StateStore::DeletePlanned(std::string_view job_id, uint64_t order, std::string_view thing) {
  std::string key = PlannedPrefix(job_id);
  PutBigEndian64(&key, order);
  JOBLEDGER_RETURN_IF_ERROR(Delete(key));
  std::string by_thing = PlannedByThingPrefix(thing);
  PutId(&by_thing, job_id);
  PutBigEndian64(&by_thing, order);
  return Delete(by_thing);
}

StatusOr<std::vector<std::pair<uint64_t, PlannedExecution>>> StateStore::Planned(
    std::string_view job_id, size_t limit) const {
  std::vector<std::pair<uint64_t, PlannedExecution>> out;
  if (limit == 0) return out;
  const std::string prefix = PlannedPrefix(job_id);
  JOBLEDGER_RETURN_IF_ERROR(ScanAll(Scan(prefix), [&](std::string_view key, std::string_view value) -> StatusOr<bool> {
    if (key.size() != prefix.size() + 8) return Malformed("a planned key");
    WireReader r(value);
    PlannedExecution e;
    e.thing_name = r.Str();
    e.target = r.Str();
    if (!r.ok() || !r.AtEnd()) return Malformed("a planned execution of job '" + std::string(job_id) + "'");
    out.emplace_back(GetBigEndian64(key.substr(prefix.size())), std::move(e));
    return out.size() < limit;
  }));
  return out;
}

StatusOr<std::vector<std::pair<std::string, uint64_t>>> StateStore::PlannedOfThing(
    std::string_view thing) const {
  std::vector<std::pair<std::string, uint64_t>> out;
  const std::string prefix = PlannedByThingPrefix(thing);
  JOBLEDGER_RETURN_IF_ERROR(ScanAll(Scan(prefix), [&](std::string_view key, std::string_view) -> StatusOr<bool> {
    size_t pos = prefix.size();
    std::optional<std::string_view> job = GetId(key, &pos);
    if (!job || key.size() != pos + 8) return Malformed("a planned-by-thing key");
    out.emplace_back(std::string(*job), GetBigEndian64(key.substr(pos)));
    return true;
  }));
  return out;
}

namespace {
std::string PairKey(KeyPrefix p, std::string_view a, std::string_view b) {
  std::string k = Prefix(p);
  PutId(&k, a);
  if (!b.empty()) PutId(&k, b);
  return k;
}
// The second ids of every key under (p, a).
StatusOr<std::vector<std::string>> SecondIds(const StateStore* /*unused*/,
                                             std::unique_ptr<RowIterator> it, size_t prefix_size) {
  std::vector<std::string> out;
  JOBLEDGER_RETURN_IF_ERROR(ScanAll(std::move(it), [&](std::string_view key, std::string_view) -> StatusOr<bool> {
    size_t pos = prefix_size;
    std::optional<std::string_view> id = GetId(key, &pos);
    if (!id || pos != key.size()) return Malformed("an index key");
    out.emplace_back(*id);
    return true;
  }));
  return out;
}
}  // namespace

Status StateStore::PutGroupTarget(std::string_view group, std::string_view job_id) {
  return Put(PairKey(KeyPrefix::kGroupTarget, group, job_id), {});
}
Status StateStore::DeleteGroupTarget(std::string_view group, std::string_view job_id) {
  return Delete(PairKey(KeyPrefix::kGroupTarget, group, job_id));
}
StatusOr<std::vector<std::string>> StateStore::JobsTargetingGroup(std::string_view group) const {
  std::string prefix = PairKey(KeyPrefix::kGroupTarget, group, {});
  return SecondIds(this, Scan(prefix), prefix.size());
}

Status StateStore::AddMember(std::string_view group, std::string_view thing) {
  JOBLEDGER_RETURN_IF_ERROR(Put(PairKey(KeyPrefix::kGroupMember, group, thing), {}));
  return Put(PairKey(KeyPrefix::kThingGroup, thing, group), {});
}
Status StateStore::RemoveMember(std::string_view group, std::string_view thing) {
  JOBLEDGER_RETURN_IF_ERROR(Delete(PairKey(KeyPrefix::kGroupMember, group, thing)));
  return Delete(PairKey(KeyPrefix::kThingGroup, thing, group));
}
StatusOr<bool> StateStore::IsMember(std::string_view group, std::string_view thing) const {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> row,
                             Get(PairKey(KeyPrefix::kGroupMember, group, thing)));
  return row.has_value();
}
StatusOr<std::vector<std::string>> StateStore::GroupsOfThing(std::string_view thing) const {
  std::string prefix = PairKey(KeyPrefix::kThingGroup, thing, {});
  return SecondIds(this, Scan(prefix), prefix.size());
}
StatusOr<std::vector<std::string>> StateStore::MembersOfGroup(std::string_view group) const {
  std::string prefix = PairKey(KeyPrefix::kGroupMember, group, {});
  return SecondIds(this, Scan(prefix), prefix.size());
}
StatusOr<std::vector<std::string>> StateStore::MembersOfGroup(std::string_view group,
                                                              std::string_view after,
                                                              size_t limit) const {
  const std::string prefix = PairKey(KeyPrefix::kGroupMember, group, {});
  std::vector<std::string> out;
  std::unique_ptr<RowIterator> it = Scan(prefix);
  if (after.empty()) {
    it->SeekToFirst();
  } else {
    it->Seek(PairKey(KeyPrefix::kGroupMember, group, after));
  }
  for (; it->Valid() && out.size() < limit; it->Next()) {
    size_t pos = prefix.size();
    std::optional<std::string_view> thing = GetId(it->key(), &pos);
    if (!thing || pos != it->key().size()) return Malformed("a membership key");
    if (*thing == after) continue;
    out.emplace_back(*thing);
  }
  JOBLEDGER_RETURN_IF_ERROR(it->status());
  return out;
}

Status StateStore::PutFanOut(std::string_view job_id) {
  return Put(PairKey(KeyPrefix::kFanOut, job_id, {}), {});
}
Status StateStore::DeleteFanOut(std::string_view job_id) {
  return Delete(PairKey(KeyPrefix::kFanOut, job_id, {}));
}
StatusOr<std::vector<std::string>> StateStore::JobsWithFanOut() const {
  const std::string prefix = Prefix(KeyPrefix::kFanOut);
  std::vector<std::string> out;
  JOBLEDGER_RETURN_IF_ERROR(ScanAll(Scan(prefix), [&](std::string_view key, std::string_view) -> StatusOr<bool> {
    size_t pos = prefix.size();
    std::optional<std::string_view> job = GetId(key, &pos);
    if (!job || pos != key.size()) return Malformed("a fan-out key");
    out.emplace_back(*job);
    return true;
  }));
  return out;
}

Status StateStore::PutThing(std::string_view thing) {
  return Put(PairKey(KeyPrefix::kThing, thing, {}), {});
}
Status StateStore::DeleteThing(std::string_view thing) {
  return Delete(PairKey(KeyPrefix::kThing, thing, {}));
}
StatusOr<bool> StateStore::ThingKnown(std::string_view thing) const {
  JOBLEDGER_ASSIGN_OR_RETURN(std::optional<std::string> row, Get(PairKey(KeyPrefix::kThing, thing, {})));
  return row.has_value();
}

}  // namespace jobledger::internal
