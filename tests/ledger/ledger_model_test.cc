// A randomized model test of the Ledger.
//
// LedgerModel: random command sequences over a small world (4 job ids, 6 things, 2
// thing groups). Every step is checked against the rules of the spec (Part A and
// Part B sections 1-5): the outcome each command may have, what an accepted command
// must have done, and invariants of the whole state after every step. A small
// reference model is kept where it is simple: group membership, the things the
// ledger knows, each job's configuration, and each IN_PROGRESS execution's timers.
//
// Seeds: run i uses JOBLEDGER_SEED + i (JOBLEDGER_SEED defaults to kDefaultSeed). On
// a failure the seed and every step so far are printed; replay with
//   JOBLEDGER_SEED=<base> ledger_test --gtest_filter='LedgerModel/*/<i>'

#include <gtest/gtest.h>

#include <algorithm>
#include <compare>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/ledger/ledger_test_util.h"

namespace jobledger::testing {
namespace {

constexpr int kRuns = 8;
constexpr int kStepsPerRun = 400;
constexpr uint64_t kDefaultSeed = 20251127;
constexpr char kDocument[] = R"({"operation":"model"})";

const std::vector<std::string>& Jobs() {
  static const std::vector<std::string> v = {"job-a", "job-b", "job-c", "job-d"};
  return v;
}
const std::vector<std::string>& Things() {
  static const std::vector<std::string> v = {"thing-0", "thing-1", "thing-2",
                                             "thing-3", "thing-4", "thing-5"};
  return v;
}
const std::vector<std::string>& Groups() {
  static const std::vector<std::string> v = {"fleet-a", "fleet-b"};
  return v;
}

uint64_t BaseSeed() {
  const char* env = std::getenv("JOBLEDGER_SEED");
  if (env != nullptr && *env != '\0') return std::strtoull(env, nullptr, 0);
  return kDefaultSeed;
}

// ---- formatting ----

std::string StatusName(ExecutionStatus s) { return std::string(ExecutionStatusName(s)); }

std::string ErrorName(AwsError e) {
  const std::string_view n = AwsExceptionName(e);
  return n.empty() ? std::string("OK") : std::string(n);
}

std::string ErrorNames(const std::set<AwsError>& errors) {
  std::string out;
  for (AwsError e : errors) out += (out.empty() ? "" : "|") + ErrorName(e);
  return out;
}

bool IsSystem(const std::string& actor) { return actor.rfind("system:", 0) == 0; }

bool Pending(ExecutionStatus s) {
  return s == ExecutionStatus::kQueued || s == ExecutionStatus::kInProgress;
}

// ---- snapshots of the write-side state ----

struct ExecKey {
  std::string job;
  std::string thing;
  int64_t number = 0;
  friend auto operator<=>(const ExecKey&, const ExecKey&) = default;
};

std::string KeyName(const ExecKey& k) {
  return k.job + "/" + k.thing + "#" + std::to_string(k.number);
}

struct Snapshot {
  std::map<std::string, JobStateView> jobs;
  std::map<ExecKey, ExecutionStateView> execs;
};

std::optional<ExecutionStateView> Latest(const Snapshot& s, const std::string& job,
                                         const std::string& thing) {
  auto it = s.execs.lower_bound(ExecKey{job, thing, std::numeric_limits<int64_t>::max()});
  if (it == s.execs.begin()) return std::nullopt;
  --it;
  if (it->first.job != job || it->first.thing != thing) return std::nullopt;
  return it->second;
}

std::optional<ExecutionStateView> Find(const Snapshot& s, const ExecKey& key) {
  auto it = s.execs.find(key);
  if (it == s.execs.end()) return std::nullopt;
  return it->second;
}

// The differences between two snapshots, one line each ("" when equal).
std::string Diff(const Snapshot& a, const Snapshot& b) {
  std::string out;
  auto line = [&out](const std::string& s) {
    if (out.size() < 6000) out += s + "\n";
  };
  for (const auto& [id, j] : a.jobs) {
    auto it = b.jobs.find(id);
    if (it == b.jobs.end()) {
      line("job gone: " + Describe(j));
    } else if (Describe(j) != Describe(it->second)) {
      line("job was " + Describe(j) + "\n    now " + Describe(it->second));
    }
  }
  for (const auto& [id, j] : b.jobs) {
    if (a.jobs.count(id) == 0) line("job new: " + Describe(j));
  }
  for (const auto& [key, e] : a.execs) {
    auto it = b.execs.find(key);
    if (it == b.execs.end()) {
      line("execution gone: " + Describe(e));
    } else if (Describe(e) != Describe(it->second)) {
      line("execution was " + Describe(e) + "\n          now " + Describe(it->second));
    }
  }
  for (const auto& [key, e] : b.execs) {
    if (a.execs.count(key) == 0) line("execution new: " + Describe(e));
  }
  return out;
}

int64_t TerminalCount(const JobStateView& j) {
  int64_t n = 0;
  for (ExecutionStatus s : {ExecutionStatus::kSucceeded, ExecutionStatus::kFailed,
                            ExecutionStatus::kTimedOut, ExecutionStatus::kRejected,
                            ExecutionStatus::kRemoved, ExecutionStatus::kCanceled}) {
    n += j.count(s);
  }
  return n;
}

int64_t FailedCount(const JobStateView& j, FailureType type) {
  switch (type) {
    case FailureType::kFailed: return j.count(ExecutionStatus::kFailed);
    case FailureType::kRejected: return j.count(ExecutionStatus::kRejected);
    case FailureType::kTimedOut: return j.count(ExecutionStatus::kTimedOut);
    case FailureType::kAll:
      return j.count(ExecutionStatus::kFailed) + j.count(ExecutionStatus::kRejected) +
             j.count(ExecutionStatus::kTimedOut);
  }
  return 0;
}

// ============================================================================
// The randomized model test.
// ============================================================================

class LedgerModelTest : public LedgerFixture, public ::testing::WithParamInterface<int> {
 protected:
  struct Timers {
    std::optional<int64_t> in_progress;
    std::optional<int64_t> step;
    std::optional<int64_t> deadline() const {
      if (in_progress && step) return std::min(*in_progress, *step);
      return in_progress ? in_progress : step;
    }
  };

  // What the model knows of a job incarnation's configuration (CreateJob's request).
  struct JobConfig {
    TargetSelection selection = TargetSelection::kSnapshot;
    std::optional<int64_t> timeout_minutes;
    std::optional<AbortConfig> abort;
    std::optional<int32_t> rate;
  };

  using PostCheck =
      std::function<void(const Snapshot& pre, const Snapshot& post, const std::vector<Event>& evs)>;

  // One command as issued: its text for the replay list, who issued it, the outcomes
  // the rules allow (AwsError::kNone: accepted), what it returned, and what must hold
  // afterwards if it was accepted.
  struct Attempt {
    std::string name;
    std::string text;
    std::string actor;  // "" for AdvanceTo
    bool time_driven = false;
    std::set<AwsError> allowed;
    Status status;
    PostCheck post;
  };

  // ---- randomness ----

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }
  const std::string& Pick(const std::vector<std::string>& v) {
    return v[static_cast<size_t>(Uniform(0, static_cast<int>(v.size()) - 1))];
  }
  // Half thing ARNs, half thing-group ARNs.
  std::string RandomTarget() { return Chance(50) ? ThingArnOf(Pick(Things())) : GroupArnOf(Pick(Groups())); }

  // A (job, thing) pair: mostly one that has an execution (preferably a pending one).
  std::pair<std::string, std::string> PickPair(const Snapshot& s, bool prefer_pending) {
    std::vector<ExecKey> keys;
    if (prefer_pending && Chance(75)) {
      for (const auto& [key, e] : s.execs) {
        if (Pending(e.status)) keys.push_back(key);
      }
    }
    if (keys.empty() && Chance(80)) {
      for (const auto& [key, e] : s.execs) keys.push_back(key);
    }
    if (keys.empty()) return {Pick(Jobs()), Pick(Things())};
    const ExecKey& k = keys[static_cast<size_t>(Uniform(0, static_cast<int>(keys.size()) - 1))];
    return {k.job, k.thing};
  }

  // A job id: mostly one that exists.
  std::string PickJob(const Snapshot& s) {
    if (!s.jobs.empty() && Chance(80)) {
      auto it = s.jobs.begin();
      std::advance(it, Uniform(0, static_cast<int>(s.jobs.size()) - 1));
      return it->first;
    }
    return Pick(Jobs());
  }

  int64_t MaxNumber(const std::string& job, const std::string& thing) const {
    auto it = max_number_.find({job, thing});
    return it == max_number_.end() ? 0 : it->second;
  }

  bool IsMember(const std::string& group, const std::string& thing) const {
    auto it = members_.find(group);
    return it != members_.end() && it->second.count(thing) > 0;
  }

  // Whether a job's targets reach a thing now (Part A item 4).
  bool Targeted(const JobStateView& j, const std::string& thing) const {
    for (const std::string& t : j.targets) {
      if (t == ThingArnOf(thing)) return true;
      for (const std::string& g : Groups()) {
        if (t == GroupArnOf(g) && IsMember(g, thing)) return true;
      }
    }
    return false;
  }

  std::set<std::string> Resolve(const std::vector<std::string>& targets) const {
    std::set<std::string> out;
    for (const std::string& t : targets) {
      for (const std::string& thing : Things()) {
        if (t == ThingArnOf(thing)) out.insert(thing);
      }
      for (const std::string& g : Groups()) {
        if (t != GroupArnOf(g)) continue;
        auto it = members_.find(g);
        if (it != members_.end()) out.insert(it->second.begin(), it->second.end());
      }
    }
    return out;
  }

  // ---- reading the ledger ----

  Snapshot Take() {
    Snapshot s;
    for (const std::string& job : Jobs()) {
      auto j = ledger_->GetJobState(job);
      EXPECT_TRUE(j.ok()) << j.status().ToString();
      if (j.ok() && j->has_value()) s.jobs.emplace(job, **j);
      for (const std::string& thing : Things()) {
        auto latest = ledger_->GetExecutionState(job, thing);
        EXPECT_TRUE(latest.ok()) << latest.status().ToString();
        int64_t max_n = MaxNumber(job, thing);
        if (latest.ok() && latest->has_value()) max_n = std::max(max_n, (*latest)->execution_number);
        int64_t highest = 0;
        for (int64_t n = 1; n <= max_n; ++n) {
          auto e = ledger_->GetExecutionState(job, thing, n);
          EXPECT_TRUE(e.ok()) << e.status().ToString();
          if (!e.ok() || !e->has_value()) continue;
          EXPECT_EQ((*e)->execution_number, n);
          EXPECT_EQ((*e)->job_id, job);
          EXPECT_EQ((*e)->thing_name, thing);
          s.execs.emplace(ExecKey{job, thing, n}, **e);
          highest = n;
        }
        if (latest.ok()) {
          EXPECT_EQ(latest->has_value() ? (*latest)->execution_number : 0, highest)
              << "GetExecutionState(" << job << ", " << thing
              << ") without a number is not the highest-numbered execution";
        }
      }
    }
    return s;
  }

  std::vector<Event> ReadEvents(uint64_t from, uint64_t to) {
    std::vector<Event> out;
    if (to < from) return out;
    auto cursor = ledger_->log().NewCursor(from, to);
    for (; cursor->state() == EventCursor::State::kPositioned; cursor->Next()) {
      out.push_back(cursor->event());
    }
    EXPECT_TRUE(cursor->status().ok()) << cursor->status().ToString();
    EXPECT_EQ(out.size(), to - from + 1) << "the cursor skipped events in [" << from << ", " << to << "]";
    return out;
  }

  // ---- the commands ----

  Attempt AddToGroupCmd() {
    const std::string g = Pick(Groups());
    const std::string t = Pick(Things());
    Attempt a;
    a.name = "AddThingToThingGroup";
    a.actor = "user:ops";
    a.text = a.name + "(" + g + ", " + t + ")";
    a.allowed = {AwsError::kNone};
    const bool was_member = IsMember(g, t);
    ThingGroupMembershipRequest r;
    r.thing_group_name = g;
    r.thing_name = t;
    a.status = ledger_->AddThingToThingGroup(As(a.actor), r);
    if (a.status.ok()) members_[g].insert(t);
    a.post = [g, t, was_member](const Snapshot& pre, const Snapshot& post,
                                      const std::vector<Event>& evs) {
      if (was_member) {
        EXPECT_TRUE(evs.empty()) << "adding a member again appended " << evs.size() << " events";
        return;
      }
      for (const auto& [id, j] : pre.jobs) {
        if (j.status != JobStatus::kInProgress || j.target_selection != TargetSelection::kContinuous ||
            std::find(j.targets.begin(), j.targets.end(), GroupArnOf(g)) == j.targets.end()) {
          continue;
        }
        auto before = Latest(pre, id, t);
        auto after = Latest(post, id, t);
        if (!before || before->status == ExecutionStatus::kRemoved) {
          const int64_t number = before ? before->execution_number + 1 : 1;
          EXPECT_TRUE(after && after->status == ExecutionStatus::kQueued &&
                      after->execution_number == number && after->version_number == 1)
              << t << " joined " << g << ", a target of CONTINUOUS job " << id
              << ": expected a new QUEUED execution #" << number << "; got "
              << (after ? Describe(*after) : "none");
        } else {
          EXPECT_TRUE(after && after->execution_number == before->execution_number)
              << t << " joined " << g << " but already had " << Describe(*before)
              << "; no new execution expected";
        }
      }
    };
    return a;
  }

  Attempt RemoveFromGroupCmd() {
    const std::string g = Pick(Groups());
    const std::string t = Pick(Things());
    Attempt a;
    a.name = "RemoveThingFromThingGroup";
    a.actor = "user:ops";
    a.text = a.name + "(" + g + ", " + t + ")";
    a.allowed = {AwsError::kNone};
    const bool was_member = IsMember(g, t);
    ThingGroupMembershipRequest r;
    r.thing_group_name = g;
    r.thing_name = t;
    a.status = ledger_->RemoveThingFromThingGroup(As(a.actor), r);
    if (a.status.ok()) members_[g].erase(t);
    a.post = [was_member](const Snapshot&, const Snapshot&, const std::vector<Event>& evs) {
      if (!was_member) {
        EXPECT_TRUE(evs.empty()) << "removing a non-member appended " << evs.size() << " events";
      }
    };
    return a;
  }

  Attempt DeleteThingCmd() {
    const std::string t = Pick(Things());
    Attempt a;
    a.name = "DeleteThing";
    a.actor = "user:ops";
    a.text = a.name + "(" + t + ")";
    a.allowed = {known_things_.count(t) > 0 ? AwsError::kNone : AwsError::kResourceNotFound};
    DeleteThingRequest r;
    r.thing_name = t;
    a.status = ledger_->DeleteThing(As(a.actor), r);
    if (a.status.ok()) {
      for (auto& [g, m] : members_) m.erase(t);
    }
    a.post = [t](const Snapshot& pre, const Snapshot& post, const std::vector<Event>&) {
      for (const auto& [key, e] : pre.execs) {
        if (key.thing != t || !Pending(e.status)) continue;
        auto after = Find(post, key);
        EXPECT_TRUE(after && after->status == ExecutionStatus::kRemoved &&
                    after->version_number == e.version_number + 1)
            << "DeleteThing(" << t << "): pending " << Describe(e) << " should be REMOVED (v"
            << e.version_number + 1 << "); now " << (after ? Describe(*after) : "gone");
      }
    };
    return a;
  }

  Attempt CreateJobCmd(const Snapshot& s) {
    CreateJobRequest r;
    r.job_id = Pick(Jobs());
    std::vector<std::string> free_ids;
    for (const std::string& id : Jobs()) {
      if (s.jobs.count(id) == 0) free_ids.push_back(id);
    }
    if (!free_ids.empty() && Chance(75)) r.job_id = Pick(free_ids);
    r.document = kDocument;
    const int n_targets = Uniform(1, 3);
    for (int i = 0; i < n_targets; ++i) {
      std::string target = RandomTarget();
      if (std::find(r.targets.begin(), r.targets.end(), target) == r.targets.end()) {
        r.targets.push_back(std::move(target));
      }
    }
    const int sel = Uniform(0, 2);
    if (sel == 1) r.target_selection = TargetSelection::kSnapshot;
    if (sel == 2) r.target_selection = TargetSelection::kContinuous;
    std::string text = "CreateJob(" + r.job_id + ", " +
                       std::string(sel == 0 ? "default" : sel == 1 ? "SNAPSHOT" : "CONTINUOUS") +
                       ", targets=[";
    for (size_t i = 0; i < r.targets.size(); ++i) text += (i > 0 ? "," : "") + r.targets[i];
    text += "]";
    if (Chance(30)) {
      TimeoutConfig tc;
      tc.in_progress_timeout_in_minutes = Uniform(1, 20);
      r.timeout_config = tc;
      text += ", inProgressTimeout=" + std::to_string(*tc.in_progress_timeout_in_minutes);
    }
    if (Chance(20)) {
      AbortCriteria c;
      c.failure_type = static_cast<FailureType>(Uniform(0, 3));
      const double thresholds[] = {25, 50, 100};
      c.threshold_percentage = thresholds[static_cast<size_t>(Uniform(0, 2))];
      c.min_number_of_executed_things = Uniform(1, 3);
      AbortConfig ac;
      ac.criteria_list.push_back(c);
      r.abort_config = ac;
      text += ", abort={" + std::string(FailureTypeName(c.failure_type)) + " >= " +
              std::to_string(static_cast<int>(c.threshold_percentage)) + "% after " +
              std::to_string(c.min_number_of_executed_things) + "}";
    }
    if (Chance(30)) {
      RolloutConfig rc;
      rc.maximum_per_minute = Uniform(1, 3);
      r.job_executions_rollout_config = rc;
      text += ", maximumPerMinute=" + std::to_string(*rc.maximum_per_minute);
    }
    text += ")";

    Attempt a;
    a.name = "CreateJob";
    a.actor = "user:ops";
    a.text = text;
    a.allowed = {s.jobs.count(r.job_id) > 0 ? AwsError::kResourceAlreadyExists : AwsError::kNone};
    const std::set<std::string> resolved = Resolve(r.targets);
    auto created = ledger_->CreateJob(As(a.actor), r);
    a.status = created.status();
    if (created.ok()) {
      EXPECT_EQ(created->job_id, r.job_id);
      EXPECT_EQ(created->job_arn, "arn:aws:iot:us-east-1:123456789012:job/" + r.job_id);
      JobConfig config;
      config.selection = r.target_selection.value_or(TargetSelection::kSnapshot);
      if (r.timeout_config) config.timeout_minutes = r.timeout_config->in_progress_timeout_in_minutes;
      config.abort = r.abort_config;
      if (r.job_executions_rollout_config) config.rate = r.job_executions_rollout_config->maximum_per_minute;
      configs_[r.job_id] = config;
    }
    a.post = [this, r, resolved](const Snapshot&, const Snapshot& post, const std::vector<Event>& evs) {
      auto it = post.jobs.find(r.job_id);
      ASSERT_TRUE(it != post.jobs.end()) << "CreateJob accepted but no job " << r.job_id;
      const JobStateView& j = it->second;
      ASSERT_FALSE(evs.empty());
      EXPECT_EQ(j.created_sequence, evs.front().sequence);
      EXPECT_TRUE(std::holds_alternative<JobCreated>(evs.front().body));
      EXPECT_EQ(j.targets, r.targets);
      const JobConfig& config = configs_.at(r.job_id);
      EXPECT_EQ(j.target_selection, config.selection);
      const auto n = static_cast<int64_t>(resolved.size());
      const int64_t queued = config.rate ? std::min<int64_t>(*config.rate, n) : n;
      int64_t found = 0;
      for (const auto& [key, e] : post.execs) {
        if (key.job != r.job_id) continue;
        ++found;
        EXPECT_TRUE(resolved.count(key.thing) > 0) << Describe(e) << " is not a target of " << r.job_id;
        EXPECT_EQ(e.execution_number, 1) << Describe(e);
        EXPECT_EQ(e.version_number, 1) << Describe(e);
        EXPECT_EQ(e.status, ExecutionStatus::kQueued) << Describe(e);
      }
      EXPECT_EQ(found, queued) << "CreateJob " << r.job_id << " resolved " << n
                               << " things; executions queued at once: " << found;
      EXPECT_EQ(j.rollout_pending, static_cast<uint64_t>(n - queued)) << Describe(j);
      EXPECT_EQ(j.rollout_rate_per_minute, config.rate.value_or(0)) << Describe(j);
      const bool done = config.selection == TargetSelection::kSnapshot && n == 0;
      EXPECT_EQ(j.status, done ? JobStatus::kSucceeded : JobStatus::kInProgress) << Describe(j);
    };
    return a;
  }

  Attempt CancelJobCmd(const Snapshot& s) {
    CancelJobRequest r;
    r.job_id = PickJob(s);
    r.force = Chance(50);
    if (Chance(30)) r.comment = "canceled by the model test";
    Attempt a;
    a.name = "CancelJob";
    a.actor = "user:ops";
    a.text = "CancelJob(" + r.job_id + (r.force ? ", force" : "") + ")";
    auto it = s.jobs.find(r.job_id);
    if (it == s.jobs.end()) {
      a.allowed = {AwsError::kResourceNotFound};
    } else if (it->second.status == JobStatus::kSucceeded) {
      a.allowed = {AwsError::kInvalidStateTransition};
    } else if (it->second.status == JobStatus::kCanceled) {
      // Canceling again, to add force, is not documented (Part B 1.4): either answer.
      a.allowed = {AwsError::kInvalidStateTransition};
      if (r.force && !it->second.force_canceled) a.allowed.insert(AwsError::kNone);
    } else {
      a.allowed = {AwsError::kNone};
    }
    auto canceled = ledger_->CancelJob(As(a.actor), r);
    a.status = canceled.status();
    if (canceled.ok()) {
      EXPECT_EQ(canceled->job_id, r.job_id);
    }
    a.post = [r](const Snapshot& pre, const Snapshot& post, const std::vector<Event>&) {
      auto it2 = post.jobs.find(r.job_id);
      ASSERT_TRUE(it2 != post.jobs.end());
      const JobStateView& j = it2->second;
      EXPECT_EQ(j.status, JobStatus::kCanceled) << Describe(j);
      EXPECT_EQ(j.force_canceled, pre.jobs.at(r.job_id).force_canceled || r.force) << Describe(j);
      EXPECT_EQ(j.rollout_pending, 0u) << "a canceled job keeps rolling out: " << Describe(j);
      if (r.comment) {
        EXPECT_EQ(j.comment, r.comment);
      }
      for (const auto& [key, e] : pre.execs) {
        if (key.job != r.job_id) continue;
        auto after = Find(post, key);
        ASSERT_TRUE(after.has_value()) << Describe(e) << " disappeared on CancelJob";
        if (e.status == ExecutionStatus::kQueued ||
            (r.force && e.status == ExecutionStatus::kInProgress)) {
          EXPECT_EQ(after->status, ExecutionStatus::kCanceled) << Describe(*after);
          EXPECT_EQ(after->version_number, e.version_number + 1) << Describe(*after);
          EXPECT_EQ(after->force_canceled, e.status == ExecutionStatus::kInProgress) << Describe(*after);
        } else {
          EXPECT_EQ(Describe(*after), Describe(e)) << "CancelJob(force=" << r.force
                                                  << ") must leave this execution alone";
        }
      }
    };
    return a;
  }

  Attempt DeleteJobCmd(const Snapshot& s) {
    DeleteJobRequest r;
    r.job_id = PickJob(s);
    r.force = Chance(50);
    Attempt a;
    a.name = "DeleteJob";
    a.actor = "user:ops";
    a.text = "DeleteJob(" + r.job_id + (r.force ? ", force" : "") + ")";
    auto it = s.jobs.find(r.job_id);
    if (it == s.jobs.end()) {
      a.allowed = {AwsError::kResourceNotFound};
    } else if (it->second.status == JobStatus::kInProgress && !r.force) {
      a.allowed = {AwsError::kInvalidStateTransition};
    } else {
      a.allowed = {AwsError::kNone};
    }
    a.status = ledger_->DeleteJob(As(a.actor), r);
    if (a.status.ok()) configs_.erase(r.job_id);
    a.post = [r](const Snapshot&, const Snapshot& post, const std::vector<Event>& evs) {
      EXPECT_EQ(post.jobs.count(r.job_id), 0u) << "DeleteJob accepted but the job is still there";
      for (const auto& [key, e] : post.execs) {
        EXPECT_NE(key.job, r.job_id) << "execution of a deleted job: " << Describe(e);
      }
      EXPECT_EQ(evs.size(), 1u);
    };
    return a;
  }

  // UpdateJob with a new in-progress timeout and/or rollout rate: a new timeout applies
  // only to executions that start afterwards (Part B 5).
  Attempt UpdateJobCmd(const Snapshot& s) {
    UpdateJobRequest r;
    r.job_id = PickJob(s);
    if (Chance(50)) r.description = "updated by the model test";
    if (Chance(60)) {
      TimeoutConfig tc;
      tc.in_progress_timeout_in_minutes = Uniform(1, 20);
      r.timeout_config = tc;
    }
    if (Chance(40)) {
      RolloutConfig rc;
      rc.maximum_per_minute = Uniform(1, 3);
      r.job_executions_rollout_config = rc;
    }
    Attempt a;
    a.name = "UpdateJob";
    a.actor = "user:ops";
    a.text = "UpdateJob(" + r.job_id + ", inProgressTimeout=" +
             Str(r.timeout_config ? r.timeout_config->in_progress_timeout_in_minutes : std::nullopt) +
             ", maximumPerMinute=" +
             Str(r.job_executions_rollout_config
                     ? std::optional<int64_t>(*r.job_executions_rollout_config->maximum_per_minute)
                     : std::nullopt) +
             ")";
    auto it = s.jobs.find(r.job_id);
    if (it == s.jobs.end()) {
      a.allowed = {AwsError::kResourceNotFound};
    } else if (it->second.status == JobStatus::kInProgress) {
      a.allowed = {AwsError::kNone};
    } else {
      // Updating a finished job is not covered by Part B 1-5: either answer.
      a.allowed = {AwsError::kNone, AwsError::kInvalidStateTransition, AwsError::kInvalidRequest};
    }
    a.status = ledger_->UpdateJob(As(a.actor), r);
    if (a.status.ok()) {
      JobConfig& config = configs_[r.job_id];
      if (r.timeout_config) config.timeout_minutes = r.timeout_config->in_progress_timeout_in_minutes;
      if (r.job_executions_rollout_config) config.rate = r.job_executions_rollout_config->maximum_per_minute;
    }
    a.post = [r](const Snapshot& pre, const Snapshot& post, const std::vector<Event>& evs) {
      EXPECT_EQ(evs.size(), 1u);
      for (const auto& [key, e] : pre.execs) {
        if (key.job != r.job_id) continue;
        auto after = Find(post, key);
        ASSERT_TRUE(after.has_value());
        EXPECT_EQ(Describe(*after), Describe(e)) << "UpdateJob changed an execution";
      }
      if (r.job_executions_rollout_config && post.jobs.at(r.job_id).rollout_pending > 0) {
        EXPECT_EQ(post.jobs.at(r.job_id).rollout_rate_per_minute,
                  *r.job_executions_rollout_config->maximum_per_minute);
      }
    };
    return a;
  }

  Attempt AssociateCmd(const Snapshot& s) {
    AssociateTargetsWithJobRequest r;
    r.job_id = PickJob(s);
    const int n_targets = Uniform(1, 2);
    for (int i = 0; i < n_targets; ++i) {
      std::string target = RandomTarget();
      if (std::find(r.targets.begin(), r.targets.end(), target) == r.targets.end()) {
        r.targets.push_back(std::move(target));
      }
    }
    if (Chance(30)) r.comment = "more targets";
    Attempt a;
    a.name = "AssociateTargetsWithJob";
    a.actor = "user:ops";
    a.text = a.name + "(" + r.job_id + ", [";
    for (size_t i = 0; i < r.targets.size(); ++i) a.text += (i > 0 ? "," : "") + r.targets[i];
    a.text += "])";
    auto it = s.jobs.find(r.job_id);
    if (it == s.jobs.end()) {
      a.allowed = {AwsError::kResourceNotFound};
    } else if (it->second.target_selection != TargetSelection::kContinuous ||
               it->second.status != JobStatus::kInProgress) {
      a.allowed = {AwsError::kInvalidRequest};
    } else {
      a.allowed = {AwsError::kNone};
    }
    std::vector<std::string> added;
    if (it != s.jobs.end()) {
      for (const std::string& t : r.targets) {
        if (std::find(it->second.targets.begin(), it->second.targets.end(), t) ==
            it->second.targets.end()) {
          added.push_back(t);
        }
      }
    }
    const std::set<std::string> reached = Resolve(added);
    auto associated = ledger_->AssociateTargetsWithJob(As(a.actor), r);
    a.status = associated.status();
    a.post = [r, reached](const Snapshot& pre, const Snapshot& post, const std::vector<Event>&) {
      const JobStateView& j = post.jobs.at(r.job_id);
      for (const std::string& t : r.targets) {
        EXPECT_TRUE(std::find(j.targets.begin(), j.targets.end(), t) != j.targets.end())
            << t << " is not among the targets after AssociateTargetsWithJob: " << Describe(j);
      }
      for (const std::string& thing : reached) {
        auto before = Latest(pre, r.job_id, thing);
        auto after = Latest(post, r.job_id, thing);
        if (!before || before->status == ExecutionStatus::kRemoved) {
          const int64_t number = before ? before->execution_number + 1 : 1;
          EXPECT_TRUE(after && after->status == ExecutionStatus::kQueued &&
                      after->execution_number == number)
              << "AssociateTargetsWithJob reached " << thing << ": expected a QUEUED execution #"
              << number << "; got " << (after ? Describe(*after) : "none");
        } else {
          EXPECT_TRUE(after && after->execution_number == before->execution_number)
              << thing << " already had " << Describe(*before) << "; got "
              << (after ? Describe(*after) : "none");
        }
      }
    };
    return a;
  }

  Attempt CancelExecCmd(const Snapshot& s) {
    CancelJobExecutionRequest r;
    std::tie(r.job_id, r.thing_name) = PickPair(s, true);
    r.force = Chance(50);
    const std::optional<ExecutionStateView> target = Latest(s, r.job_id, r.thing_name);
    if (Chance(30)) {
      const int64_t v = target ? target->version_number : 1;
      r.expected_version = Chance(50) ? v : std::max<int64_t>(1, v + (Chance(50) ? 1 : -1));
    }
    if (Chance(30)) r.status_details = DetailsMap{{"reason", "model"}};
    Attempt a;
    a.name = "CancelJobExecution";
    a.actor = "user:ops";
    a.text = a.name + "(" + r.job_id + ", " + r.thing_name + (r.force ? ", force" : "") +
             ", expectedVersion=" + Str(r.expected_version) + ")";
    if (s.jobs.count(r.job_id) == 0 || !target) {
      a.allowed = {AwsError::kResourceNotFound};
    } else {
      if (r.expected_version && *r.expected_version != target->version_number) {
        a.allowed.insert(AwsError::kVersionConflict);
      }
      if (IsTerminal(target->status) || (target->status == ExecutionStatus::kInProgress && !r.force)) {
        a.allowed.insert(AwsError::kInvalidStateTransition);
      }
      if (a.allowed.empty()) a.allowed.insert(AwsError::kNone);
    }
    a.status = ledger_->CancelJobExecution(As(a.actor), r);
    a.post = [r, target](const Snapshot&, const Snapshot& post, const std::vector<Event>&) {
      ASSERT_TRUE(target.has_value());
      auto after = Find(post, ExecKey{r.job_id, r.thing_name, target->execution_number});
      ASSERT_TRUE(after.has_value()) << "canceled execution disappeared";
      EXPECT_EQ(after->status, ExecutionStatus::kCanceled) << Describe(*after);
      EXPECT_EQ(after->version_number, target->version_number + 1) << Describe(*after);
      EXPECT_EQ(after->force_canceled, r.force && target->status == ExecutionStatus::kInProgress)
          << Describe(*after);
      EXPECT_EQ(Str(after->status_details), Str(r.status_details.value_or(target->status_details)));
    };
    return a;
  }

  Attempt DeleteExecCmd(const Snapshot& s) {
    DeleteJobExecutionRequest r;
    std::tie(r.job_id, r.thing_name) = PickPair(s, false);
    r.execution_number = Uniform(1, static_cast<int>(std::max<int64_t>(1, MaxNumber(r.job_id, r.thing_name))));
    if (auto latest = Latest(s, r.job_id, r.thing_name); latest && Chance(50)) {
      r.execution_number = latest->execution_number;
    }
    r.force = Chance(40);
    const ExecKey key{r.job_id, r.thing_name, r.execution_number};
    const std::optional<ExecutionStateView> target = Find(s, key);
    Attempt a;
    a.name = "DeleteJobExecution";
    a.actor = "user:ops";
    a.text = a.name + "(" + KeyName(key) + (r.force ? ", force" : "") + ")";
    if (s.jobs.count(r.job_id) == 0 || !target) {
      a.allowed = {AwsError::kResourceNotFound};
    } else if (!r.force && !IsTerminal(target->status)) {
      a.allowed = {AwsError::kInvalidStateTransition};
    } else {
      a.allowed = {AwsError::kNone};
    }
    a.status = ledger_->DeleteJobExecution(As(a.actor), r);
    a.post = [key](const Snapshot&, const Snapshot& post, const std::vector<Event>&) {
      EXPECT_EQ(post.execs.count(key), 0u) << "DeleteJobExecution accepted but " << KeyName(key)
                                           << " is still there";
    };
    return a;
  }

  Attempt UpdateCmd(const Snapshot& s) {
    UpdateJobExecutionRequest r;
    std::tie(r.job_id, r.thing_name) = PickPair(s, true);
    const int k = Uniform(0, 99);
    r.status = k < 40   ? ExecutionStatus::kInProgress
               : k < 65 ? ExecutionStatus::kSucceeded
               : k < 80 ? ExecutionStatus::kFailed
               : k < 96 ? ExecutionStatus::kRejected
                        : ExecutionStatus::kQueued;
    std::optional<ExecutionStateView> target;
    if (Chance(15)) {
      r.execution_number =
          Uniform(1, static_cast<int>(std::max<int64_t>(1, MaxNumber(r.job_id, r.thing_name))));
      target = Find(s, ExecKey{r.job_id, r.thing_name, *r.execution_number});
    } else {
      target = Latest(s, r.job_id, r.thing_name);
    }
    if (Chance(30)) {
      const int64_t v = target ? target->version_number : 1;
      r.expected_version = Chance(50) ? v : std::max<int64_t>(1, v + (Chance(50) ? 1 : -1));
    }
    if (Chance(20)) r.step_timeout_in_minutes = Chance(25) ? -1 : Uniform(1, 10);
    if (Chance(40)) r.status_details = DetailsMap{{"progress", std::to_string(Uniform(0, 100))}};
    r.include_job_execution_state = Chance(50);
    r.include_job_document = Chance(20);

    Attempt a;
    a.name = "UpdateJobExecution";
    a.actor = "thing:" + r.thing_name;
    a.text = a.name + "(" + r.job_id + ", " + r.thing_name + ", " + StatusName(r.status) +
             (r.execution_number ? ", #" + std::to_string(*r.execution_number) : "") +
             ", expectedVersion=" + Str(r.expected_version) +
             ", step=" + Str(r.step_timeout_in_minutes) +
             (r.status_details ? ", details=" + Str(*r.status_details) : "") + ")";
    if (s.jobs.count(r.job_id) == 0 || !target) {
      a.allowed = {AwsError::kResourceNotFound};
    } else {
      if (r.expected_version && *r.expected_version != target->version_number) {
        a.allowed.insert(AwsError::kVersionConflict);
      }
      if (IsTerminal(target->status) || r.status == ExecutionStatus::kQueued) {
        a.allowed.insert(AwsError::kInvalidStateTransition);
      }
      if (a.allowed.empty()) a.allowed.insert(AwsError::kNone);
    }
    const int64_t now = clock_.NowMicros();
    auto updated = ledger_->UpdateJobExecution(As(a.actor), r);
    a.status = updated.status();
    std::optional<UpdateJobExecutionResponse> response;
    if (updated.ok() && target) {
      response = *updated;
      if (r.status == ExecutionStatus::kInProgress) {
        Timers& t = timers_[ExecKey{r.job_id, r.thing_name, target->execution_number}];
        if (target->status == ExecutionStatus::kQueued) StartTimers(r.job_id, now, t);
        SetStep(r.step_timeout_in_minutes, now, t);
      }
    }
    a.post = [r, target, response, now](const Snapshot&, const Snapshot& post, const std::vector<Event>&) {
      ASSERT_TRUE(target.has_value());
      auto after = Find(post, ExecKey{r.job_id, r.thing_name, target->execution_number});
      ASSERT_TRUE(after.has_value()) << "updated execution disappeared";
      EXPECT_EQ(after->status, r.status) << Describe(*after);
      EXPECT_EQ(after->version_number, target->version_number + 1) << Describe(*after);
      EXPECT_EQ(Str(after->status_details), Str(r.status_details.value_or(target->status_details)));
      EXPECT_EQ(after->last_updated_at_micros, now);
      if (target->status == ExecutionStatus::kQueued) {
        // startedAt is set on the first move to IN_PROGRESS (Part B 4.3).
        if (r.status == ExecutionStatus::kInProgress) {
          EXPECT_EQ(after->started_at_micros, now) << Describe(*after);
        } else {
          EXPECT_FALSE(after->started_at_micros.has_value()) << Describe(*after);
        }
      } else {
        EXPECT_EQ(after->started_at_micros, target->started_at_micros) << Describe(*after);
      }
      ASSERT_TRUE(response.has_value());
      if (r.include_job_execution_state) {
        ASSERT_TRUE(response->execution_state.has_value()) << "includeJobExecutionState ignored";
        EXPECT_EQ(response->execution_state->status, after->status);
        EXPECT_EQ(response->execution_state->version_number, after->version_number);
        EXPECT_EQ(Str(response->execution_state->status_details), Str(after->status_details));
      } else {
        EXPECT_FALSE(response->execution_state.has_value());
      }
      if (r.include_job_document) {
        EXPECT_EQ(response->job_document, std::optional<std::string>(kDocument));
      } else {
        EXPECT_FALSE(response->job_document.has_value());
      }
    };
    return a;
  }

  Attempt StartNextCmd(const Snapshot& s) {
    StartNextPendingJobExecutionRequest r;
    r.thing_name = Pick(Things());
    if (Chance(30)) r.status_details = DetailsMap{{"phase", "start"}};
    if (Chance(20)) r.step_timeout_in_minutes = Uniform(1, 10);
    Attempt a;
    a.name = "StartNextPendingJobExecution";
    a.actor = "thing:" + r.thing_name;
    a.text = a.name + "(" + r.thing_name + ", step=" + Str(r.step_timeout_in_minutes) + ")";
    a.allowed = {AwsError::kNone};
    const int64_t now = clock_.NowMicros();
    auto started = ledger_->StartNextPendingJobExecution(As(a.actor), r);
    a.status = started.status();
    std::optional<StartNextPendingJobExecutionResponse> response;
    if (started.ok()) {
      response = *started;
      if (started->execution) {
        const DeviceJobExecution& x = *started->execution;
        const ExecKey key{x.job_id, x.thing_name, x.execution_number};
        auto before = Find(s, key);
        if (before && before->status == ExecutionStatus::kQueued) {
          Timers& t = timers_[key];
          StartTimers(x.job_id, now, t);
          SetStep(r.step_timeout_in_minutes, now, t);
        }
      }
    }
    a.post = [r, response, now](const Snapshot& pre, const Snapshot& post, const std::vector<Event>& evs) {
      ASSERT_TRUE(response.has_value());
      bool any_pending = false;
      for (const auto& [key, e] : pre.execs) any_pending |= key.thing == r.thing_name && Pending(e.status);
      if (!any_pending) {
        EXPECT_FALSE(response->execution.has_value()) << "StartNext returned an execution for "
                                                      << r.thing_name << ", which had none pending";
        EXPECT_TRUE(evs.empty());
        return;
      }
      ASSERT_TRUE(response->execution.has_value())
          << r.thing_name << " has pending executions but StartNext returned none";
      const DeviceJobExecution& x = *response->execution;
      const ExecKey key{x.job_id, x.thing_name, x.execution_number};
      EXPECT_EQ(x.thing_name, r.thing_name);
      auto before = Find(pre, key);
      auto after = Find(post, key);
      ASSERT_TRUE(before && after) << "StartNext returned " << KeyName(key) << ", unknown";
      EXPECT_TRUE(Pending(before->status)) << "StartNext picked " << Describe(*before);
      EXPECT_EQ(after->status, ExecutionStatus::kInProgress) << Describe(*after);
      if (before->status == ExecutionStatus::kQueued) {
        EXPECT_EQ(after->version_number, before->version_number + 1) << Describe(*after);
        EXPECT_EQ(after->started_at_micros, now) << Describe(*after);
        EXPECT_EQ(Str(after->status_details), Str(r.status_details.value_or(before->status_details)));
        EXPECT_EQ(evs.size(), 1u);
      } else {
        EXPECT_EQ(Describe(*after), Describe(*before));
        EXPECT_TRUE(evs.empty()) << "StartNext of an IN_PROGRESS execution appended events";
      }
      EXPECT_EQ(x.status, after->status);
      EXPECT_EQ(x.version_number, after->version_number);
      EXPECT_EQ(Str(x.status_details), Str(after->status_details));
      EXPECT_EQ(x.job_document, std::optional<std::string>(kDocument));
      EXPECT_EQ(x.approximate_seconds_before_timed_out.has_value(), after->deadline_micros.has_value());
      if (after->deadline_micros && x.approximate_seconds_before_timed_out) {
        EXPECT_EQ(*x.approximate_seconds_before_timed_out,
                  std::max<int64_t>(0, (*after->deadline_micros - now) / 1'000'000));
      }
    };
    return a;
  }

  Attempt TimeStep() {
    // Often less than a minute (inside one rollout window), otherwise up to 30 minutes.
    int64_t delta = Uniform(0, 59) * int64_t{1'000'000};
    if (Chance(60)) delta += Uniform(1, 30) * kMinute;
    clock_.Advance(delta);
    const int64_t now = clock_.NowMicros();
    Attempt a;
    a.name = "AdvanceTo";
    a.text = "clock +" + std::to_string(delta / 1'000'000) + "s; AdvanceTo(" + std::to_string(now) + ")";
    a.time_driven = true;
    a.allowed = {AwsError::kNone};
    auto advanced = ledger_->AdvanceTo(now);
    a.status = advanced.status();
    std::optional<AdvanceResult> result;
    if (advanced.ok()) result = *advanced;
    a.post = [this, now, result](const Snapshot& pre, const Snapshot& post, const std::vector<Event>& evs) {
      ASSERT_TRUE(result.has_value());
      EXPECT_EQ(result->appended, evs.size());
      EXPECT_EQ(result->head_sequence, Head());
      EXPECT_TRUE(!result->next_due_micros || *result->next_due_micros > now)
          << "AdvanceTo(" << now << ") left something due at " << Str(result->next_due_micros);
      // Every timer due by now fired, at the deadline the model expects.
      for (const auto& [key, e] : pre.execs) {
        if (e.status != ExecutionStatus::kInProgress) continue;
        auto t = timers_.find(key);
        const std::optional<int64_t> deadline = t == timers_.end() ? std::nullopt : t->second.deadline();
        if (!deadline || *deadline > now) continue;
        auto after = Find(post, key);
        EXPECT_TRUE(after && after->status == ExecutionStatus::kTimedOut &&
                    after->version_number == e.version_number + 1)
            << Describe(e) << " was due at " << *deadline << " <= " << now << "; now "
            << (after ? Describe(*after) : "gone");
      }
      for (const Event& ev : evs) {
        if (const auto* b = std::get_if<ExecutionTimedOut>(&ev.body)) {
          auto t = timers_.find(ExecKey{b->job_id, b->thing_name, b->execution_number});
          EXPECT_TRUE(t != timers_.end() && t->second.deadline() == b->deadline_micros)
              << "event " << ev.sequence << " times out " << b->job_id << "/" << b->thing_name
              << " at " << b->deadline_micros << "; the model's deadline is "
              << (t == timers_.end() ? "none" : Str(t->second.deadline()));
        }
      }
      // Every rollout window due by now ran.
      for (const auto& [id, j] : post.jobs) {
        if (j.status != JobStatus::kInProgress || j.rollout_pending == 0) continue;
        auto w = last_window_.find(id);
        ASSERT_TRUE(w != last_window_.end()) << id << " has a rollout pending but never ran a window";
        const int64_t next_due = j.created_at_micros + static_cast<int64_t>(w->second + 1) * kMinute;
        EXPECT_GT(next_due, now) << "rollout window " << w->second + 1 << " of " << id
                                 << " was due at " << next_due << " but did not run";
      }
    };
    return a;
  }

  void StartTimers(const std::string& job, int64_t now, Timers& t) {
    t = Timers{};
    auto config = configs_.find(job);
    if (config != configs_.end() && config->second.timeout_minutes) {
      t.in_progress = now + *config->second.timeout_minutes * kMinute;
    }
  }

  static void SetStep(const std::optional<int64_t>& step, int64_t now, Timers& t) {
    if (!step) return;
    if (*step < 0) {
      t.step.reset();
    } else {
      t.step = now + *step * kMinute;
    }
  }

  Attempt NextAttempt(const Snapshot& s) {
    const int r = Uniform(0, 99);
    if (r < 9) return AddToGroupCmd();
    if (r < 14) return RemoveFromGroupCmd();
    if (r < 16) return DeleteThingCmd();
    if (r < 26) return CreateJobCmd(s);
    if (r < 30) return CancelJobCmd(s);
    if (r < 34) return DeleteJobCmd(s);
    if (r < 38) return AssociateCmd(s);
    if (r < 41) return UpdateJobCmd(s);
    if (r < 60) return UpdateCmd(s);
    if (r < 70) return StartNextCmd(s);
    if (r < 75) return CancelExecCmd(s);
    if (r < 80) return DeleteExecCmd(s);
    return TimeStep();
  }

  // ---- checks ----

  // The model's bookkeeping of what the events say: known things, execution numbers,
  // rollout windows.
  void ApplyToModel(const std::vector<Event>& evs) {
    for (const Event& e : evs) {
      ++event_kinds_[std::string(EventKindName(KindOf(e.body))) +
                     (e.actor == "system:abort" && std::holds_alternative<JobCanceled>(e.body) ? "(abort)" : "")];
      if (const auto* b = std::get_if<ThingAddedToGroup>(&e.body)) known_things_.insert(b->thing_name);
      if (const auto* b = std::get_if<ThingDeleted>(&e.body)) known_things_.erase(b->thing_name);
      if (const auto* b = std::get_if<ExecutionQueued>(&e.body)) {
        known_things_.insert(b->thing_name);
        int64_t& m = max_number_[{b->job_id, b->thing_name}];
        m = std::max(m, b->execution_number);
      }
      if (const auto* b = std::get_if<JobDeleted>(&e.body)) {
        for (const std::string& t : Things()) max_number_.erase({b->job_id, t});
      }
      if (const auto* b = std::get_if<JobCreated>(&e.body)) {
        last_window_.erase(b->job_id);
        planned_.erase(b->job_id);
      }
      if (const auto* b = std::get_if<RolloutPlanned>(&e.body)) {
        for (const PlannedExecution& p : b->entries) planned_[b->job_id].insert(p.thing_name);
      }
      if (const auto* b = std::get_if<ExecutionQueued>(&e.body)) planned_[b->job_id].erase(b->thing_name);
      if (const auto* b = std::get_if<ThingDeleted>(&e.body)) {
        for (auto& [job, things] : planned_) things.erase(b->thing_name);
      }
      if (const auto* b = std::get_if<JobCompleted>(&e.body)) {
        // Part B 2: a SNAPSHOT job completes only once its rollout has finished.
        EXPECT_TRUE(planned_[b->job_id].empty())
            << "event " << e.sequence << ": job " << b->job_id << " completed while "
            << planned_[b->job_id].size() << " things were still planned for its rollout";
      }
      if (std::holds_alternative<JobCompleted>(e.body) || std::holds_alternative<JobCanceled>(e.body) ||
          std::holds_alternative<JobDeleted>(e.body)) {
        planned_.erase(std::string(JobIdOf(e.body)));
      }
      if (const auto* b = std::get_if<RolloutStep>(&e.body)) {
        auto w = last_window_.find(b->job_id);
        const uint64_t expected = w == last_window_.end() ? 0 : w->second + 1;
        EXPECT_EQ(b->window, expected) << "event " << e.sequence << ": rollout windows of "
                                       << b->job_id << " are not consecutive";
        last_window_[b->job_id] = b->window;
        for (const std::string& t : b->skipped) planned_[b->job_id].erase(t);
      }
    }
  }

  // The envelope of the events an accepted step appended.
  void CheckEvents(const Attempt& a, const std::vector<Event>& evs, uint64_t first,
                   const Snapshot& post) {
    const int64_t now = clock_.NowMicros();
    for (size_t i = 0; i < evs.size(); ++i) {
      const Event& e = evs[i];
      const std::string where = "event " + std::to_string(e.sequence) + " (" +
                                std::string(EventKindName(KindOf(e.body))) + ", actor " + e.actor +
                                ", cause " + std::to_string(e.cause) + ")";
      EXPECT_EQ(e.sequence, first + i);
      EXPECT_EQ(e.recorded_at_micros, now) << where;
      EXPECT_TRUE(e.cause == 0 || e.cause < e.sequence) << where << ": cause is not earlier";
      const EventKind kind = KindOf(e.body);
      if (a.time_driven) {
        EXPECT_TRUE(IsSystem(e.actor)) << where << ": time-driven events are the system's";
        if (kind != EventKind::kRolloutStep && kind != EventKind::kExecutionTimedOut) {
          EXPECT_TRUE(e.cause != 0 && e.cause >= first) << where << ": a consequence names no trigger";
        }
      } else if (i == 0) {
        EXPECT_EQ(e.actor, a.actor) << where << ": the command's own event comes first";
        EXPECT_EQ(e.cause, 0u) << where;
      } else {
        EXPECT_TRUE(IsSystem(e.actor)) << where << ": a derived event has a system actor";
        EXPECT_TRUE(e.cause != 0 && e.cause >= first) << where << ": a derived event names no trigger in its append";
      }
      if (const auto* b = std::get_if<ExecutionTimedOut>(&e.body)) {
        EXPECT_TRUE(a.time_driven) << where;
        EXPECT_LE(b->deadline_micros, now) << where << ": timed out before its deadline";
        if (e.cause != 0) {
          auto cause = ledger_->log().Read(e.cause);
          ASSERT_TRUE(cause.ok()) << cause.status().ToString();
          const auto* c = std::get_if<ExecutionStatusChanged>(&cause->body);
          EXPECT_TRUE(c != nullptr && c->job_id == b->job_id && c->thing_name == b->thing_name &&
                      c->execution_number == b->execution_number &&
                      c->to == ExecutionStatus::kInProgress)
              << where << ": the cause is not the update that set the timer";
        }
      }
      if (const auto* b = std::get_if<RolloutStep>(&e.body)) {
        uint64_t queued = 0;
        for (const Event& q : evs) {
          if (q.cause == e.sequence && std::holds_alternative<ExecutionQueued>(q.body)) ++queued;
        }
        auto config = configs_.find(b->job_id);
        ASSERT_TRUE(config != configs_.end() && config->second.rate.has_value()) << where;
        EXPECT_EQ(b->rate_per_minute, *config->second.rate) << where;
        EXPECT_EQ(b->quota, b->rate_per_minute) << where;
        EXPECT_LE(queued, static_cast<uint64_t>(b->quota)) << where << ": window queued more than its quota";
        auto j = post.jobs.find(b->job_id);
        if (queued < static_cast<uint64_t>(b->quota) && j != post.jobs.end()) {
          EXPECT_EQ(j->second.rollout_pending, 0u)
              << where << ": the window queued " << queued << " of " << b->quota
              << " though things were still planned";
        }
        if (j != post.jobs.end()) {
          EXPECT_LE(j->second.created_at_micros + static_cast<int64_t>(b->window) * kMinute, now)
              << where << ": window ran before it was due";
          // Only a CONTINUOUS job's thing that left every target is dropped unqueued.
          for (const std::string& t : b->skipped) {
            EXPECT_EQ(j->second.target_selection, TargetSelection::kContinuous) << where << ": skipped " << t;
            EXPECT_FALSE(Targeted(j->second, t)) << where << ": skipped " << t << ", still a target";
          }
        }
      }
      if (const auto* b = std::get_if<JobCanceled>(&e.body)) {
        if (e.actor == "system:abort") {
          EXPECT_EQ(b->reason_code, std::optional<std::string>("ABORT_CRITERIA_MET")) << where;
          EXPECT_FALSE(b->force) << where << ": an abort is a cancel without force";
        }
      }
      if (std::holds_alternative<JobCompleted>(e.body)) {
        EXPECT_EQ(e.actor, "system:completion") << where;
      }
      if (const auto* b = std::get_if<ExecutionCanceled>(&e.body)) {
        EXPECT_TRUE(b->from == ExecutionStatus::kQueued || b->force)
            << where << ": an IN_PROGRESS execution canceled without force";
      }
      if (const auto* b = std::get_if<ExecutionRemoved>(&e.body)) {
        // REMOVED only for a deleted thing or one no longer targeted (Part A item 4).
        bool thing_deleted = false;
        for (const Event& d : evs) {
          const auto* td = std::get_if<ThingDeleted>(&d.body);
          thing_deleted |= td != nullptr && td->thing_name == b->thing_name;
        }
        auto j = post.jobs.find(b->job_id);
        EXPECT_TRUE(thing_deleted || (j != post.jobs.end() && !Targeted(j->second, b->thing_name)))
            << where << ": " << b->thing_name << " is still a target of " << b->job_id;
      }
      if (const auto* b = std::get_if<ExecutionQueued>(&e.body)) {
        EXPECT_TRUE(b->target == ThingArnOf(b->thing_name) ||
                    b->target.rfind("arn:aws:iot:us-east-1:123456789012:thinggroup/", 0) == 0)
            << where << ": target " << b->target;
      }
    }
  }

  // Replays the appended execution events over the state before the step: every
  // change must start from the execution's current status, never from a terminal
  // one, and carry version + 1; the result must be the state after the step.
  void CheckExecutionHistory(const Snapshot& pre, const std::vector<Event>& evs, const Snapshot& post) {
    struct Run {
      ExecutionStatus status;
      int64_t version;
    };
    std::map<ExecKey, Run> run;
    for (const auto& [key, e] : pre.execs) run[key] = Run{e.status, e.version_number};
    std::set<std::string> jobs;
    for (const auto& [id, j] : pre.jobs) jobs.insert(id);

    auto change = [&](const Event& ev, const ExecKey& key, std::optional<ExecutionStatus> from,
                      ExecutionStatus to, int64_t version) {
      const std::string where = "event " + std::to_string(ev.sequence) + " (" +
                                std::string(EventKindName(KindOf(ev.body))) + " " + KeyName(key) + ")";
      auto it = run.find(key);
      if (it == run.end()) {
        ADD_FAILURE() << where << ": no such execution";
        return;
      }
      EXPECT_FALSE(IsTerminal(it->second.status))
          << where << ": changes an execution that is already " << StatusName(it->second.status);
      if (from) {
        EXPECT_EQ(*from, it->second.status) << where << ": 'from' is not the execution's status";
      }
      EXPECT_EQ(version, it->second.version + 1) << where << ": versionNumber must grow by exactly 1";
      it->second = Run{to, version};
    };

    for (const Event& ev : evs) {
      if (const auto* b = std::get_if<JobCreated>(&ev.body)) {
        EXPECT_TRUE(jobs.insert(b->job_id).second) << "event " << ev.sequence << " creates an existing job";
      } else if (const auto* b2 = std::get_if<JobDeleted>(&ev.body)) {
        jobs.erase(b2->job_id);
        for (auto it = run.begin(); it != run.end();) {
          it = it->first.job == b2->job_id ? run.erase(it) : std::next(it);
        }
      } else if (const auto* q = std::get_if<ExecutionQueued>(&ev.body)) {
        const ExecKey key{q->job_id, q->thing_name, q->execution_number};
        EXPECT_TRUE(jobs.count(q->job_id) > 0) << "event " << ev.sequence << " queues for no job";
        EXPECT_EQ(run.count(key), 0u) << "event " << ev.sequence << " queues an existing " << KeyName(key);
        int64_t highest = 0;
        for (const auto& [k, v] : run) {
          if (k.job == key.job && k.thing == key.thing) highest = std::max(highest, k.number);
        }
        EXPECT_EQ(key.number, highest + 1) << "event " << ev.sequence << ": executionNumber is not the next";
        run[key] = Run{ExecutionStatus::kQueued, 1};
      } else if (const auto* c = std::get_if<ExecutionStatusChanged>(&ev.body)) {
        change(ev, {c->job_id, c->thing_name, c->execution_number}, c->from, c->to, c->version_number);
      } else if (const auto* x = std::get_if<ExecutionCanceled>(&ev.body)) {
        change(ev, {x->job_id, x->thing_name, x->execution_number}, x->from, ExecutionStatus::kCanceled,
               x->version_number);
      } else if (const auto* t = std::get_if<ExecutionTimedOut>(&ev.body)) {
        change(ev, {t->job_id, t->thing_name, t->execution_number}, ExecutionStatus::kInProgress,
               ExecutionStatus::kTimedOut, t->version_number);
      } else if (const auto* rm = std::get_if<ExecutionRemoved>(&ev.body)) {
        change(ev, {rm->job_id, rm->thing_name, rm->execution_number}, rm->from,
               ExecutionStatus::kRemoved, rm->version_number);
      } else if (const auto* done = std::get_if<JobCompleted>(&ev.body)) {
        for (const auto& [key, r] : run) {
          EXPECT_TRUE(key.job != done->job_id || IsTerminal(r.status))
              << "event " << ev.sequence << " completes " << done->job_id << " while " << KeyName(key)
              << " is " << StatusName(r.status);
        }
      } else if (const auto* d = std::get_if<ExecutionDeleted>(&ev.body)) {
        const ExecKey key{d->job_id, d->thing_name, d->execution_number};
        EXPECT_EQ(run.erase(key), 1u) << "event " << ev.sequence << " deletes no execution";
      }
    }
    for (const auto& [key, r] : run) {
      auto it = post.execs.find(key);
      if (it == post.execs.end()) {
        ADD_FAILURE() << "the events leave " << KeyName(key) << " " << StatusName(r.status) << " v"
                      << r.version << " but the state has no such execution";
        continue;
      }
      EXPECT_EQ(it->second.status, r.status) << "the events and the state disagree: " << Describe(it->second);
      EXPECT_EQ(it->second.version_number, r.version) << "the events and the state disagree: "
                                                      << Describe(it->second);
    }
    for (const auto& [key, e] : post.execs) {
      EXPECT_EQ(run.count(key), 1u) << "the state has " << Describe(e) << " which no event created";
    }
    for (const auto& [key, e] : pre.execs) {
      auto it = post.execs.find(key);
      if (it == post.execs.end()) continue;
      EXPECT_GE(it->second.version_number, e.version_number) << "versionNumber decreased: " << Describe(it->second);
      if (IsTerminal(e.status)) {
        EXPECT_EQ(Describe(it->second), Describe(e)) << "an execution in a terminal state changed";
      }
    }
  }

  // Invariants of the whole state.
  void CheckInvariants(const Snapshot& s) {
    std::optional<int64_t> next_due;
    auto due = [&next_due](int64_t t) {
      if (!next_due || t < *next_due) next_due = t;
    };
    for (const auto& [key, e] : s.execs) {
      EXPECT_TRUE(s.jobs.count(key.job) > 0) << "execution of a job that does not exist: " << Describe(e);
      EXPECT_NE(e.status, ExecutionStatus::kNone) << Describe(e);
      if (e.force_canceled) {
        EXPECT_EQ(e.status, ExecutionStatus::kCanceled) << Describe(e);
      }
      std::optional<int64_t> expected;
      if (e.status == ExecutionStatus::kInProgress) {
        auto t = timers_.find(key);
        if (t != timers_.end()) expected = t->second.deadline();
      }
      EXPECT_EQ(Str(e.deadline_micros), Str(expected))
          << "deadline of " << Describe(e) << " (min of startedAt + inProgressTimeout and the step timer)";
      if (e.status == ExecutionStatus::kInProgress && e.deadline_micros) due(*e.deadline_micros);
      if (e.status == ExecutionStatus::kQueued) {
        EXPECT_FALSE(e.started_at_micros.has_value()) << Describe(e);
      }
    }
    for (const auto& [id, j] : s.jobs) {
      const std::string what = Describe(j);
      std::array<int64_t, 9> counts{};
      bool all_terminal = true;
      for (const auto& [key, e] : s.execs) {
        if (key.job != id) continue;
        ++counts[static_cast<size_t>(e.status)];
        all_terminal = all_terminal && IsTerminal(e.status);
        if (j.status == JobStatus::kInProgress && j.target_selection == TargetSelection::kContinuous &&
            Pending(e.status)) {
          EXPECT_TRUE(Targeted(j, key.thing))
              << "CONTINUOUS job " << id << " has pending " << Describe(e) << " but " << key.thing
              << " is no longer targeted (Part A item 4: it should be REMOVED)";
        }
      }
      for (size_t i = 0; i < counts.size(); ++i) {
        EXPECT_EQ(j.counts[i], counts[i])
            << "counter " << StatusName(static_cast<ExecutionStatus>(i)) << " of " << what;
      }
      EXPECT_EQ(j.completed_at_micros.has_value(), j.status == JobStatus::kSucceeded) << what;
      auto planned = planned_.find(id);
      EXPECT_EQ(j.rollout_pending, planned == planned_.end() ? 0u : planned->second.size())
          << "rollout_pending is not the number of planned things not yet queued: " << what;
      if (j.status != JobStatus::kInProgress) {
        EXPECT_EQ(j.rollout_pending, 0u) << what;
      }
      if (j.target_selection == TargetSelection::kSnapshot) {
        const bool complete = all_terminal && j.rollout_pending == 0;
        if (j.status == JobStatus::kSucceeded) {
          EXPECT_TRUE(complete) << "SUCCEEDED too early: " << what;
        }
        if (j.status == JobStatus::kInProgress) {
          EXPECT_FALSE(complete) << "SNAPSHOT job should be SUCCEEDED: " << what;
        }
      } else {
        EXPECT_NE(j.status, JobStatus::kSucceeded) << "a CONTINUOUS job completed: " << what;
      }
      auto config = configs_.find(id);
      if (config != configs_.end() && config->second.abort && j.status == JobStatus::kInProgress) {
        const int64_t terminal = TerminalCount(j);
        for (const AbortCriteria& c : config->second.abort->criteria_list) {
          if (terminal == 0 || terminal < c.min_number_of_executed_things) continue;
          const int64_t failed = FailedCount(j, c.failure_type);
          EXPECT_LT(failed * 100, static_cast<int64_t>(c.threshold_percentage) * terminal)
              << "abort criterion " << FailureTypeName(c.failure_type) << " >= "
              << c.threshold_percentage << "% after " << c.min_number_of_executed_things
              << " is met but the job is IN_PROGRESS: " << what;
        }
      }
      if (j.status == JobStatus::kInProgress && j.rollout_pending > 0) {
        auto w = last_window_.find(id);
        if (w != last_window_.end()) {
          due(j.created_at_micros + static_cast<int64_t>(w->second + 1) * kMinute);
        }
      }
    }
    auto actual_due = ledger_->NextDue();
    ASSERT_TRUE(actual_due.ok()) << actual_due.status().ToString();
    EXPECT_EQ(Str(*actual_due), Str(next_due)) << "NextDue: the earliest deadline or rollout window";

    for (const std::string& thing : Things()) {
      auto pending = ledger_->GetPendingJobExecutions(thing);
      ASSERT_TRUE(pending.ok()) << pending.status().ToString();
      std::set<std::tuple<std::string, int64_t, int64_t>> in_progress, queued, got_in_progress, got_queued;
      for (const auto& [key, e] : s.execs) {
        if (key.thing != thing) continue;
        if (e.status == ExecutionStatus::kInProgress) in_progress.emplace(key.job, key.number, e.version_number);
        if (e.status == ExecutionStatus::kQueued) queued.emplace(key.job, key.number, e.version_number);
      }
      for (const auto& p : pending->in_progress_jobs) got_in_progress.emplace(p.job_id, p.execution_number, p.version_number);
      for (const auto& p : pending->queued_jobs) got_queued.emplace(p.job_id, p.execution_number, p.version_number);
      EXPECT_TRUE(in_progress == got_in_progress) << "GetPendingJobExecutions(" << thing << ").inProgressJobs";
      EXPECT_TRUE(queued == got_queued) << "GetPendingJobExecutions(" << thing << ").queuedJobs";
      EXPECT_EQ(pending->in_progress_jobs.size(), got_in_progress.size());
      EXPECT_EQ(pending->queued_jobs.size(), got_queued.size());
      for (size_t i = 1; i < pending->queued_jobs.size(); ++i) {
        EXPECT_LE(pending->queued_jobs[i - 1].queued_at_micros, pending->queued_jobs[i].queued_at_micros);
      }
      for (size_t i = 1; i < pending->in_progress_jobs.size(); ++i) {
        EXPECT_LE(pending->in_progress_jobs[i - 1].started_at_micros, pending->in_progress_jobs[i].started_at_micros);
      }
    }
  }

  void CleanupTimers(const Snapshot& s) {
    for (auto it = timers_.begin(); it != timers_.end();) {
      auto e = s.execs.find(it->first);
      const bool keep = e != s.execs.end() && e->second.status == ExecutionStatus::kInProgress;
      it = keep ? std::next(it) : timers_.erase(it);
    }
  }

  void ExpectStateMatchesLog() {
    auto check = ledger_->CheckState();
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    std::string differences;
    for (const std::string& d : check->differences) differences += d + "\n";
    EXPECT_TRUE(check->ok()) << "CheckState: the stored state differs from a fold of the log:\n" << differences;
    EXPECT_EQ(check->events_folded, Head());
  }

  void RunOneStep() {
    const Snapshot pre = current_;
    const Digest d0 = ledger_->log().digest();
    if (Chance(1)) {
      steps_.push_back("Reopen");
      Reopen();
      ASSERT_TRUE(ledger_ != nullptr);
      Snapshot again = Take();
      EXPECT_EQ(Diff(pre, again), "") << "the state read back after Reopen differs";
      EXPECT_TRUE(ledger_->log().digest() == d0);
      current_ = std::move(again);
      return;
    }
    Attempt a = NextAttempt(pre);
    const Digest d1 = ledger_->log().digest();
    const AwsError got = a.status.ok() ? AwsError::kNone : a.status.aws_error();
    steps_.push_back(a.text + " -> " + (a.status.ok() ? std::string("OK") : a.status.ToString()) +
                     " [head " + std::to_string(d1.sequence) + "]");
    (a.status.ok() ? accepted_ : rejected_)[a.name]++;
    EXPECT_TRUE(a.status.ok() || a.status.aws_error() != AwsError::kNone)
        << a.text << ": a storage error: " << a.status.ToString();
    EXPECT_TRUE(a.allowed.count(got) > 0)
        << "step " << steps_.size() << ": " << a.text << " returned " << ErrorName(got) << " ("
        << a.status.ToString() << "); the rules allow " << ErrorNames(a.allowed);
    if (!a.status.ok()) {
      EXPECT_TRUE(d0 == d1) << a.text << " was rejected but the head moved from " << d0.sequence
                            << " to " << d1.sequence;
      Snapshot again = Take();
      EXPECT_EQ(Diff(pre, again), "") << a.text << " was rejected but the state changed";
      current_ = std::move(again);
      return;
    }
    std::vector<Event> evs = ReadEvents(d0.sequence + 1, d1.sequence);
    ApplyToModel(evs);
    Snapshot post = Take();
    CheckEvents(a, evs, d0.sequence + 1, post);
    CheckExecutionHistory(pre, evs, post);
    if (a.post && !HasFailure()) a.post(pre, post, evs);
    CleanupTimers(post);
    CheckInvariants(post);
    current_ = std::move(post);
  }

  void FinalChecks() {
    ExpectStateMatchesLog();
    auto verified = ledger_->log().Verify();
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_TRUE(verified->ok()) << verified->detail;
    EXPECT_EQ(verified->events_checked, Head());

    // The whole log: dense sequences, causes earlier than their effects.
    const std::vector<Event> all = ReadEvents(1, Head());
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(all[i].sequence, i + 1);
      EXPECT_TRUE(all[i].cause == 0 || all[i].cause < all[i].sequence) << "event " << all[i].sequence;
      if (IsSystem(all[i].actor) && KindOf(all[i].body) != EventKind::kRolloutStep &&
          KindOf(all[i].body) != EventKind::kExecutionTimedOut) {
        EXPECT_NE(all[i].cause, 0u) << "derived event " << all[i].sequence << " names no cause";
      }
    }

    const Snapshot pre = Take();
    const Digest digest = ledger_->log().digest();
    auto due = ledger_->NextDue();
    ASSERT_TRUE(due.ok());
    Reopen();
    ASSERT_TRUE(ledger_ != nullptr);
    EXPECT_TRUE(ledger_->log().digest() == digest) << "the head changed across Reopen";
    const Snapshot post = Take();
    EXPECT_EQ(Diff(pre, post), "") << "the state read back after Reopen differs";
    auto due_after = ledger_->NextDue();
    ASSERT_TRUE(due_after.ok());
    EXPECT_EQ(Str(*due), Str(*due_after));
    ExpectStateMatchesLog();
  }

  void DumpReplay() const {
    std::cout << "[ replay   ] seed " << seed_ << ": JOBLEDGER_SEED=" << base_seed_
              << " ledger_test --gtest_filter='LedgerModel/LedgerModelTest.*/" << GetParam()
              << "'\n[ replay   ] " << steps_.size() << " steps:\n";
    for (size_t i = 0; i < steps_.size(); ++i) std::cout << "  " << i + 1 << ". " << steps_[i] << "\n";
  }

  uint64_t base_seed_ = 0;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  Snapshot current_;
  std::vector<std::string> steps_;
  std::map<std::string, int> accepted_;
  std::map<std::string, int> rejected_;
  std::map<std::string, int> event_kinds_;

  // The reference model.
  std::map<std::string, std::set<std::string>> members_;  // group -> things
  std::set<std::string> known_things_;
  std::map<std::pair<std::string, std::string>, int64_t> max_number_;  // highest number seen
  std::map<ExecKey, Timers> timers_;                                    // IN_PROGRESS executions
  std::map<std::string, JobConfig> configs_;
  std::map<std::string, uint64_t> last_window_;  // the last rollout window run, per job
  std::map<std::string, std::set<std::string>> planned_;  // things a job's rollout will queue
};

TEST_P(LedgerModelTest, RandomCommandsKeepTheRules) {
  base_seed_ = BaseSeed();
  seed_ = base_seed_ + static_cast<uint64_t>(GetParam());
  rng_.seed(seed_);
  std::cout << "[ seed     ] " << seed_ << " (JOBLEDGER_SEED=" << base_seed_ << ", run " << GetParam()
            << ")\n";
  current_ = Take();
  for (int i = 0; i < kStepsPerRun; ++i) {
    RunOneStep();
    if (!HasFailure() && (i + 1) % 50 == 0) ExpectStateMatchesLog();
    if (HasFailure()) {
      DumpReplay();
      return;
    }
  }
  FinalChecks();
  const char* verbose = std::getenv("JOBLEDGER_MODEL_VERBOSE");
  if (HasFailure() || (verbose != nullptr && *verbose != '\0')) {
    DumpReplay();
    if (HasFailure()) return;
  }
  std::string summary;
  for (const auto& [name, n] : accepted_) {
    summary += " " + name + "=" + std::to_string(n) + "/" + std::to_string(n + rejected_[name]);
  }
  std::cout << "[ accepted ]" << summary << "\n[ events   ] " << Head() << ":";
  for (const auto& [kind, n] : event_kinds_) std::cout << " " << kind << "=" << n;
  std::cout << "\n";
}

INSTANTIATE_TEST_SUITE_P(LedgerModel, LedgerModelTest, ::testing::Range(0, kRuns));

// A sequence the model test found (e.g. JOBLEDGER_SEED=2064), reduced: a thing that
// leaves the only target group of a CONTINUOUS job while still waiting in the job's
// rollout plan must not get an execution when the next window opens (Part A item 4:
// a thing that leaves every target group has no pending execution of the job).
class LedgerModelRegressionTest : public LedgerFixture {};

TEST_F(LedgerModelRegressionTest, RolloutSkipsAThingThatLeftEveryTargetGroup) {
  MustJoin("fleet", "t1");
  MustJoin("fleet", "t2");
  CreateJobRequest r = NewJob("job", {GroupArnOf("fleet")});
  r.target_selection = TargetSelection::kContinuous;
  RolloutConfig rollout;
  rollout.maximum_per_minute = 1;
  r.job_executions_rollout_config = rollout;
  MustCreate(r);
  ASSERT_EQ(Job("job").rollout_pending, 1u);  // window 0 queued t1; t2 waits
  ThingGroupMembershipRequest leave;
  leave.thing_group_name = "fleet";
  leave.thing_name = "t2";
  ASSERT_TRUE(ledger_->RemoveThingFromThingGroup(As("user:ops"), leave).ok());
  clock_.Advance(kMinute);
  auto advanced = ledger_->AdvanceTo(clock_.NowMicros());
  ASSERT_TRUE(advanced.ok()) << advanced.status().ToString();
  auto t2 = ledger_->GetExecutionState("job", "t2");
  ASSERT_TRUE(t2.ok()) << t2.status().ToString();
  EXPECT_TRUE(!t2->has_value() || !Pending((*t2)->status))
      << "t2 left the job's only target group before its window, yet has "
      << Describe(**t2);
  EXPECT_EQ(Job("job").rollout_pending, 0u);
}

}  // namespace
}  // namespace jobledger::testing
