#include "ledger/internal/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <string>
#include <type_traits>

#include "ledger/schema/events.capnp.h"

namespace jobledger::internal {
namespace {

namespace s = ::jobledger::schema;

capnp::Text::Reader AsText(const std::string& str) {
  return capnp::Text::Reader(str.c_str(), str.size());
}

std::string FromText(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

// ---- enums ----

s::ExecutionStatus ToSchema(ExecutionStatus status) {
  return static_cast<s::ExecutionStatus>(static_cast<uint16_t>(status));
}
ExecutionStatus FromSchema(s::ExecutionStatus status) {
  auto v = static_cast<uint16_t>(status);
  // Unknown enumerants (a newer writer) are not representable; they fail the decode.
  if (v > static_cast<uint16_t>(ExecutionStatus::kCanceled)) {
    KJ_FAIL_REQUIRE("unknown ExecutionStatus enumerant", v);
  }
  return static_cast<ExecutionStatus>(v);
}
s::TargetSelection ToSchema(TargetSelection ts) {
  return ts == TargetSelection::kContinuous ? s::TargetSelection::CONTINUOUS
                                            : s::TargetSelection::SNAPSHOT;
}
TargetSelection FromSchema(s::TargetSelection ts) {
  switch (ts) {
    case s::TargetSelection::SNAPSHOT: return TargetSelection::kSnapshot;
    case s::TargetSelection::CONTINUOUS: return TargetSelection::kContinuous;
  }
  KJ_FAIL_REQUIRE("unknown TargetSelection enumerant", static_cast<uint16_t>(ts));
}
s::FailureType ToSchema(FailureType ft) {
  return static_cast<s::FailureType>(static_cast<uint16_t>(ft));
}
FailureType FromSchema(s::FailureType ft) {
  auto v = static_cast<uint16_t>(ft);
  if (v > static_cast<uint16_t>(FailureType::kAll)) {
    KJ_FAIL_REQUIRE("unknown FailureType enumerant", v);
  }
  return static_cast<FailureType>(v);
}

// ---- small structs ----

void Write(const std::optional<std::string>& in, s::OptionalText::Builder out) {
  out.setPresent(in.has_value());
  if (in) out.setValue(AsText(*in));
}
std::optional<std::string> Read(s::OptionalText::Reader in) {
  if (!in.getPresent()) return std::nullopt;
  return FromText(in.getValue());
}

void Write(const std::optional<DetailsMap>& in, s::StatusDetails::Builder out) {
  out.setSupplied(in.has_value());
  if (!in) return;
  auto list = out.initEntries(static_cast<unsigned>(in->size()));
  for (unsigned i = 0; i < in->size(); ++i) {
    list[i].setKey(AsText((*in)[i].first));
    list[i].setValue(AsText((*in)[i].second));
  }
}
std::optional<DetailsMap> Read(s::StatusDetails::Reader in) {
  if (!in.getSupplied()) return std::nullopt;
  DetailsMap out;
  // Each pointer is followed once: Cap'n Proto charges the traversal limit per read.
  auto entries = in.getEntries();
  out.reserve(entries.size());
  for (auto e : entries) out.emplace_back(FromText(e.getKey()), FromText(e.getValue()));
  return out;
}

void Write(const PresignedUrlConfig& in, s::PresignedUrlConfig::Builder out) {
  out.setRoleArn(AsText(in.role_arn));
  out.setExpiresInSec(in.expires_in_sec.value_or(0));
}
PresignedUrlConfig Read(s::PresignedUrlConfig::Reader in) {
  PresignedUrlConfig out;
  out.role_arn = FromText(in.getRoleArn());
  if (in.getExpiresInSec() != 0) out.expires_in_sec = in.getExpiresInSec();
  return out;
}

void Write(const RolloutConfig& in, s::RolloutConfig::Builder out) {
  out.setMaximumPerMinute(in.maximum_per_minute.value_or(0));
  if (in.exponential_rate) {
    const ExponentialRate& er = *in.exponential_rate;
    auto b = out.initExponentialRate();
    b.setBaseRatePerMinute(er.base_rate_per_minute);
    b.setIncrementFactor(er.increment_factor);
    auto c = b.initRateIncreaseCriteria();
    c.setNumberOfNotifiedThings(er.rate_increase_criteria.number_of_notified_things.value_or(0));
    c.setNumberOfSucceededThings(er.rate_increase_criteria.number_of_succeeded_things.value_or(0));
  }
}
RolloutConfig Read(s::RolloutConfig::Reader in) {
  RolloutConfig out;
  if (in.getMaximumPerMinute() != 0) out.maximum_per_minute = in.getMaximumPerMinute();
  if (in.hasExponentialRate()) {
    auto r = in.getExponentialRate();
    ExponentialRate er;
    er.base_rate_per_minute = r.getBaseRatePerMinute();
    er.increment_factor = r.getIncrementFactor();
    auto c = r.getRateIncreaseCriteria();
    if (c.getNumberOfNotifiedThings() != 0) {
      er.rate_increase_criteria.number_of_notified_things = c.getNumberOfNotifiedThings();
    }
    if (c.getNumberOfSucceededThings() != 0) {
      er.rate_increase_criteria.number_of_succeeded_things = c.getNumberOfSucceededThings();
    }
    out.exponential_rate = er;
  }
  return out;
}

void Write(const AbortConfig& in, s::AbortConfig::Builder out) {
  auto list = out.initCriteriaList(static_cast<unsigned>(in.criteria_list.size()));
  for (unsigned i = 0; i < in.criteria_list.size(); ++i) {
    const AbortCriteria& c = in.criteria_list[i];
    list[i].setFailureType(ToSchema(c.failure_type));
    list[i].setAction(s::AbortAction::CANCEL);
    list[i].setThresholdPercentage(c.threshold_percentage);
    list[i].setMinNumberOfExecutedThings(c.min_number_of_executed_things);
  }
}
AbortConfig Read(s::AbortConfig::Reader in) {
  AbortConfig out;
  for (auto c : in.getCriteriaList()) {
    if (c.getAction() != s::AbortAction::CANCEL) {
      KJ_FAIL_REQUIRE("unknown AbortAction enumerant", static_cast<uint16_t>(c.getAction()));
    }
    out.criteria_list.push_back(AbortCriteria{FromSchema(c.getFailureType()),
                                              c.getThresholdPercentage(),
                                              c.getMinNumberOfExecutedThings()});
  }
  return out;
}

void Write(const TimeoutConfig& in, s::TimeoutConfig::Builder out) {
  out.setInProgressTimeoutInMinutes(in.in_progress_timeout_in_minutes.value_or(0));
}
TimeoutConfig Read(s::TimeoutConfig::Reader in) {
  TimeoutConfig out;
  if (in.getInProgressTimeoutInMinutes() != 0) {
    out.in_progress_timeout_in_minutes = in.getInProgressTimeoutInMinutes();
  }
  return out;
}

template <typename ListBuilder>
void WriteTexts(const std::vector<std::string>& in, ListBuilder out) {
  for (unsigned i = 0; i < in.size(); ++i) out.set(i, AsText(in[i]));
}
std::vector<std::string> ReadTexts(capnp::List<capnp::Text>::Reader in) {
  std::vector<std::string> out;
  out.reserve(in.size());
  for (auto t : in) out.push_back(FromText(t));
  return out;
}

// ---- members several bodies share, spelled alike in the schema ----

// The configurations of JobCreated and JobUpdated; an absent one stays a null pointer.
template <typename Body, typename Builder>
void WriteJobConfigs(const Body& b, Builder o) {
  if (b.presigned_url_config) Write(*b.presigned_url_config, o.initPresignedUrlConfig());
  if (b.job_executions_rollout_config) {
    Write(*b.job_executions_rollout_config, o.initJobExecutionsRolloutConfig());
  }
  if (b.abort_config) Write(*b.abort_config, o.initAbortConfig());
  if (b.timeout_config) Write(*b.timeout_config, o.initTimeoutConfig());
}
template <typename Reader, typename Body>
void ReadJobConfigs(Reader r, Body& b) {
  if (r.hasPresignedUrlConfig()) b.presigned_url_config = Read(r.getPresignedUrlConfig());
  if (r.hasJobExecutionsRolloutConfig()) {
    b.job_executions_rollout_config = Read(r.getJobExecutionsRolloutConfig());
  }
  if (r.hasAbortConfig()) b.abort_config = Read(r.getAbortConfig());
  if (r.hasTimeoutConfig()) b.timeout_config = Read(r.getTimeoutConfig());
}

// The execution an execution event is about.
template <typename Body, typename Builder>
void WriteExecutionId(const Body& b, Builder o) {
  o.setJobId(AsText(b.job_id));
  o.setThingName(AsText(b.thing_name));
  o.setExecutionNumber(b.execution_number);
}
template <typename Reader, typename Body>
void ReadExecutionId(Reader r, Body& b) {
  b.job_id = FromText(r.getJobId());
  b.thing_name = FromText(r.getThingName());
  b.execution_number = r.getExecutionNumber();
}

// ---- bodies ----

void WriteBody(const EventBody& body, s::Event::Body::Builder out) {
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, JobCreated>) {
          auto o = out.initJobCreated();
          o.setJobId(AsText(b.job_id));
          WriteTexts(b.targets, o.initTargets(static_cast<unsigned>(b.targets.size())));
          o.setDocument(AsText(b.document));
          Write(b.description, o.initDescription());
          o.setTargetSelection(ToSchema(b.target_selection));
          WriteJobConfigs(b, o);
        } else if constexpr (std::is_same_v<T, JobUpdated>) {
          auto o = out.initJobUpdated();
          o.setJobId(AsText(b.job_id));
          Write(b.description, o.initDescription());
          WriteJobConfigs(b, o);
        } else if constexpr (std::is_same_v<T, TargetsAssociated>) {
          auto o = out.initTargetsAssociated();
          o.setJobId(AsText(b.job_id));
          WriteTexts(b.targets, o.initTargets(static_cast<unsigned>(b.targets.size())));
          Write(b.comment, o.initComment());
        } else if constexpr (std::is_same_v<T, JobCanceled>) {
          auto o = out.initJobCanceled();
          o.setJobId(AsText(b.job_id));
          Write(b.reason_code, o.initReasonCode());
          Write(b.comment, o.initComment());
          o.setForce(b.force);
        } else if constexpr (std::is_same_v<T, JobCompleted>) {
          out.initJobCompleted().setJobId(AsText(b.job_id));
        } else if constexpr (std::is_same_v<T, JobDeleted>) {
          auto o = out.initJobDeleted();
          o.setJobId(AsText(b.job_id));
          o.setForce(b.force);
        } else if constexpr (std::is_same_v<T, ExecutionQueued>) {
          auto o = out.initExecutionQueued();
          WriteExecutionId(b, o);
          o.setTarget(AsText(b.target));
        } else if constexpr (std::is_same_v<T, ExecutionStatusChanged>) {
          auto o = out.initExecutionStatusChanged();
          WriteExecutionId(b, o);
          o.setFrom(ToSchema(b.from));
          o.setTo(ToSchema(b.to));
          Write(b.status_details, o.initStatusDetails());
          o.setVersionNumber(b.version_number);
          o.setStepTimeoutInMinutes(b.step_timeout_in_minutes.value_or(0));
        } else if constexpr (std::is_same_v<T, ExecutionCanceled>) {
          auto o = out.initExecutionCanceled();
          WriteExecutionId(b, o);
          o.setFrom(ToSchema(b.from));
          o.setForce(b.force);
          Write(b.status_details, o.initStatusDetails());
          o.setVersionNumber(b.version_number);
        } else if constexpr (std::is_same_v<T, ExecutionTimedOut>) {
          auto o = out.initExecutionTimedOut();
          WriteExecutionId(b, o);
          o.setDeadline(b.deadline_micros);
          o.setVersionNumber(b.version_number);
        } else if constexpr (std::is_same_v<T, ExecutionRemoved>) {
          auto o = out.initExecutionRemoved();
          WriteExecutionId(b, o);
          o.setFrom(ToSchema(b.from));
          o.setVersionNumber(b.version_number);
        } else if constexpr (std::is_same_v<T, ExecutionDeleted>) {
          auto o = out.initExecutionDeleted();
          WriteExecutionId(b, o);
          o.setForce(b.force);
        } else if constexpr (std::is_same_v<T, ThingAddedToGroup>) {
          auto o = out.initThingAddedToGroup();
          o.setThingName(AsText(b.thing_name));
          o.setThingGroupName(AsText(b.thing_group_name));
        } else if constexpr (std::is_same_v<T, ThingRemovedFromGroup>) {
          auto o = out.initThingRemovedFromGroup();
          o.setThingName(AsText(b.thing_name));
          o.setThingGroupName(AsText(b.thing_group_name));
        } else if constexpr (std::is_same_v<T, ThingDeleted>) {
          out.initThingDeleted().setThingName(AsText(b.thing_name));
        } else if constexpr (std::is_same_v<T, RolloutPlanned>) {
          auto o = out.initRolloutPlanned();
          o.setJobId(AsText(b.job_id));
          auto list = o.initEntries(static_cast<unsigned>(b.entries.size()));
          for (unsigned i = 0; i < b.entries.size(); ++i) {
            list[i].setThingName(AsText(b.entries[i].thing_name));
            list[i].setTarget(AsText(b.entries[i].target));
          }
        } else if constexpr (std::is_same_v<T, FanOutStep>) {
          auto o = out.initFanOutStep();
          o.setJobId(AsText(b.job_id));
          o.setTarget(AsText(b.target));
          o.setAfter(AsText(b.after));
          o.setDone(b.done);
          o.setPlan(b.plan);
        } else if constexpr (std::is_same_v<T, RolloutStep>) {
          auto o = out.initRolloutStep();
          o.setJobId(AsText(b.job_id));
          o.setWindow(b.window);
          o.setRatePerMinute(b.rate_per_minute);
          o.setQuota(b.quota);
          // Only a non-empty list is written: an empty one stays a null pointer, so
          // a step without skips encodes exactly as before the field existed.
          if (!b.skipped.empty()) {
            WriteTexts(b.skipped, o.initSkipped(static_cast<unsigned>(b.skipped.size())));
          }
        } else {
          static_assert(std::is_same_v<T, UnknownEvent>);
          KJ_FAIL_REQUIRE("an UnknownEvent cannot be encoded");
        }
      },
      body);
}

EventBody ReadBody(s::Event::Body::Reader in) {
  using W = s::Event::Body::Which;
  switch (in.which()) {
    case W::JOB_CREATED: {
      auto r = in.getJobCreated();
      JobCreated b;
      b.job_id = FromText(r.getJobId());
      b.targets = ReadTexts(r.getTargets());
      b.document = FromText(r.getDocument());
      b.description = Read(r.getDescription());
      b.target_selection = FromSchema(r.getTargetSelection());
      ReadJobConfigs(r, b);
      return b;
    }
    case W::JOB_UPDATED: {
      auto r = in.getJobUpdated();
      JobUpdated b;
      b.job_id = FromText(r.getJobId());
      b.description = Read(r.getDescription());
      ReadJobConfigs(r, b);
      return b;
    }
    case W::TARGETS_ASSOCIATED: {
      auto r = in.getTargetsAssociated();
      return TargetsAssociated{FromText(r.getJobId()), ReadTexts(r.getTargets()),
                               Read(r.getComment())};
    }
    case W::JOB_CANCELED: {
      auto r = in.getJobCanceled();
      return JobCanceled{FromText(r.getJobId()), Read(r.getReasonCode()), Read(r.getComment()),
                         r.getForce()};
    }
    case W::JOB_COMPLETED:
      return JobCompleted{FromText(in.getJobCompleted().getJobId())};
    case W::JOB_DELETED: {
      auto r = in.getJobDeleted();
      return JobDeleted{FromText(r.getJobId()), r.getForce()};
    }
    case W::EXECUTION_QUEUED: {
      auto r = in.getExecutionQueued();
      return ExecutionQueued{FromText(r.getJobId()), FromText(r.getThingName()),
                             r.getExecutionNumber(), FromText(r.getTarget())};
    }
    case W::EXECUTION_STATUS_CHANGED: {
      auto r = in.getExecutionStatusChanged();
      ExecutionStatusChanged b;
      ReadExecutionId(r, b);
      b.from = FromSchema(r.getFrom());
      b.to = FromSchema(r.getTo());
      b.status_details = Read(r.getStatusDetails());
      b.version_number = r.getVersionNumber();
      if (r.getStepTimeoutInMinutes() != 0) b.step_timeout_in_minutes = r.getStepTimeoutInMinutes();
      return b;
    }
    case W::EXECUTION_CANCELED: {
      auto r = in.getExecutionCanceled();
      ExecutionCanceled b;
      ReadExecutionId(r, b);
      b.from = FromSchema(r.getFrom());
      b.force = r.getForce();
      b.status_details = Read(r.getStatusDetails());
      b.version_number = r.getVersionNumber();
      return b;
    }
    case W::EXECUTION_TIMED_OUT: {
      auto r = in.getExecutionTimedOut();
      return ExecutionTimedOut{FromText(r.getJobId()), FromText(r.getThingName()),
                               r.getExecutionNumber(), r.getDeadline(), r.getVersionNumber()};
    }
    case W::EXECUTION_REMOVED: {
      auto r = in.getExecutionRemoved();
      return ExecutionRemoved{FromText(r.getJobId()), FromText(r.getThingName()),
                              r.getExecutionNumber(), FromSchema(r.getFrom()),
                              r.getVersionNumber()};
    }
    case W::EXECUTION_DELETED: {
      auto r = in.getExecutionDeleted();
      return ExecutionDeleted{FromText(r.getJobId()), FromText(r.getThingName()),
                              r.getExecutionNumber(), r.getForce()};
    }
    case W::THING_ADDED_TO_GROUP: {
      auto r = in.getThingAddedToGroup();
      return ThingAddedToGroup{FromText(r.getThingName()), FromText(r.getThingGroupName())};
    }
    case W::THING_REMOVED_FROM_GROUP: {
      auto r = in.getThingRemovedFromGroup();
      return ThingRemovedFromGroup{FromText(r.getThingName()), FromText(r.getThingGroupName())};
    }
    case W::THING_DELETED:
      return ThingDeleted{FromText(in.getThingDeleted().getThingName())};
    case W::ROLLOUT_PLANNED: {
      auto r = in.getRolloutPlanned();
      RolloutPlanned b;
      b.job_id = FromText(r.getJobId());
      auto entries = r.getEntries();  // once: every read is charged to the traversal limit
      b.entries.reserve(entries.size());
      for (auto e : entries) {
        b.entries.push_back(PlannedExecution{FromText(e.getThingName()), FromText(e.getTarget())});
      }
      return b;
    }
    case W::ROLLOUT_STEP: {
      auto r = in.getRolloutStep();
      return RolloutStep{FromText(r.getJobId()), r.getWindow(), r.getRatePerMinute(),
                         r.getQuota(), ReadTexts(r.getSkipped())};
    }
    case W::FAN_OUT_STEP: {
      auto f = in.getFanOutStep();
      return FanOutStep{FromText(f.getJobId()), FromText(f.getTarget()), FromText(f.getAfter()),
                        f.getDone(), f.getPlan()};
    }
  }
  return UnknownEvent{static_cast<uint16_t>(in.which())};
}

// The envelope's previousHash, which must be a whole hash.
Hash ReadPreviousHash(s::Event::Reader root) {
  auto prev = root.getPreviousHash();
  Hash out{};
  if (prev.size() != out.size()) KJ_FAIL_REQUIRE("previousHash must be 32 bytes", prev.size());
  std::memcpy(out.data(), prev.begin(), prev.size());
  return out;
}

capnp::ReaderOptions BoundedReaderOptions() {
  capnp::ReaderOptions options;
  // Decoding reads every object once, and Cap'n Proto charges a word or two beyond the
  // message's own words: the slack keeps every storable event (at most kMaxEventBytes)
  // readable (CodecTest.EveryEncodingWithinTheSizeLimitDecodes).
  options.traversalLimitInWords = kMaxEventBytes / sizeof(capnp::word) + kTraversalSlackWords;
  options.nestingLimit = kMaxNestingDepth;
  return options;
}

// Runs `fn(reader)` over the canonical bytes; converts every failure into kDataLoss.
template <typename Fn>
auto WithReader(std::string_view bytes, uint64_t sequence, Fn&& fn)
    -> StatusOr<decltype(fn(std::declval<s::Event::Reader>()))> {
  auto fail = [&](std::string_view why) {
    return DataLossError("event " + std::to_string(sequence) + ": " + std::string(why));
  };
  if (bytes.empty()) return fail("stored value is empty");
  if (bytes.size() % sizeof(capnp::word) != 0) {
    return fail("stored value is " + std::to_string(bytes.size()) +
                " bytes, not a whole number of 8-byte words (truncated?)");
  }
  if (bytes.size() > kMaxEventBytes) return fail("stored value exceeds the event size limit");
  // RocksDB values are not 8-byte aligned; Cap'n Proto needs aligned words.
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  kj::ArrayPtr<const capnp::word> segments[1] = {words.asPtr()};
  std::string error;
  try {
    {
      // Stored events are canonical (what EncodeEvent writes, what the hash covers):
      // other bytes (aliased pointers, trailing words) could decode to an event far
      // larger than the bytes, or hash differently from an equal event. Checked with
      // a reader of its own, so the check does not spend the decode's traversal budget.
      capnp::SegmentArrayMessageReader check(kj::arrayPtr(segments, 1), BoundedReaderOptions());
      if (!check.isCanonical()) return fail("stored value is not canonical Cap'n Proto");
    }
    capnp::SegmentArrayMessageReader message(kj::arrayPtr(segments, 1), BoundedReaderOptions());
    auto root = message.getRoot<s::Event>();
    if (root.getSequence() != sequence) {
      return fail("envelope says sequence " + std::to_string(root.getSequence()) +
                  " (stored under the wrong key)");
    }
    return fn(root);
  } catch (const kj::Exception& e) {
    error = e.getDescription().cStr();
  } catch (const std::exception& e) {
    error = e.what();
  }
  return fail("cannot decode: " + error);
}

}  // namespace

std::string EncodeEvent(const Event& event) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<s::Event>();
  root.setSequence(event.sequence);
  root.setRecordedAt(event.recorded_at_micros);
  root.setClampedFrom(event.clamped_from_micros);
  root.setActor(AsText(event.actor));
  root.setCause(event.cause);
  root.setRequestId(AsText(event.request_id));
  root.setPreviousHash(capnp::Data::Reader(event.previous_hash.data(), event.previous_hash.size()));
  WriteBody(event.body, root.getBody());
  kj::Array<capnp::word> words = capnp::canonicalize(root.asReader());
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

StatusOr<Event> DecodeEvent(std::string_view bytes, uint64_t sequence) {
  return WithReader(bytes, sequence, [&](s::Event::Reader root) {
    Event event;
    event.sequence = root.getSequence();
    event.recorded_at_micros = root.getRecordedAt();
    event.clamped_from_micros = root.getClampedFrom();
    event.actor = FromText(root.getActor());
    event.cause = root.getCause();
    event.request_id = FromText(root.getRequestId());
    event.previous_hash = ReadPreviousHash(root);
    event.body = ReadBody(root.getBody());
    return event;
  });
}

StatusOr<Hash> DecodePreviousHash(std::string_view bytes, uint64_t sequence) {
  return WithReader(bytes, sequence, ReadPreviousHash);
}

std::optional<Hash> PreviousHashAt(std::string_view bytes, uint64_t sequence) {
  constexpr size_t kWord = sizeof(capnp::word);
  const size_t words = bytes.size() / kWord;
  auto word = [&](size_t i) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i * kWord, kWord);
    return w;  // Cap'n Proto is little-endian, as are the machines we build for
  };
  // A pointer's signed 30-bit word offset.
  auto offset = [](uint64_t w) { return static_cast<int64_t>(static_cast<int32_t>(w & 0xffffffffu) >> 2); };
  if (bytes.size() % kWord != 0 || words < 1) return std::nullopt;
  const uint64_t root = word(0);
  if ((root & 3) != 0) return std::nullopt;  // not a struct pointer
  const int64_t start = 1 + offset(root);
  const int64_t data_words = static_cast<int64_t>((root >> 32) & 0xffff);
  const int64_t pointers = static_cast<int64_t>(root >> 48);
  // previousHash is the envelope's third pointer (actor, requestId, previousHash).
  constexpr int64_t kPreviousHashPointer = 2;
  if (start < 1 || pointers <= kPreviousHashPointer) return std::nullopt;
  const int64_t at = start + data_words + kPreviousHashPointer;
  if (at >= static_cast<int64_t>(words)) return std::nullopt;
  // The envelope's sequence is its first data word (trimmed when zero).
  if ((data_words >= 1 ? word(static_cast<size_t>(start)) : 0) != sequence) return std::nullopt;
  const uint64_t list = word(static_cast<size_t>(at));
  constexpr uint64_t kByteElements = 2;
  if ((list & 3) != 1 || ((list >> 32) & 7) != kByteElements || (list >> 35) != sizeof(Hash)) {
    return std::nullopt;
  }
  const int64_t target = at + 1 + offset(list);
  if (target < 1 || (target + 4) > static_cast<int64_t>(words)) return std::nullopt;
  Hash out;
  std::memcpy(out.data(), bytes.data() + static_cast<size_t>(target) * kWord, out.size());
  return out;
}

}  // namespace jobledger::internal
