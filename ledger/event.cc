#include "jobledger/event.h"

#include <array>
#include <type_traits>

namespace jobledger {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::array<std::string_view, kExecutionStatusCount> kExecutionStatusNames = {
    "NONE",    "QUEUED",    "IN_PROGRESS", "SUCCEEDED", "FAILED",
    "TIMED_OUT", "REJECTED", "REMOVED",     "CANCELED"};

constexpr std::array<std::string_view, kEventKindCount> kEventKindNames = {
    "JobCreated",        "JobUpdated",         "TargetsAssociated",
    "JobCanceled",       "JobCompleted",       "JobDeleted",
    "ExecutionQueued",   "ExecutionStatusChanged", "ExecutionCanceled",
    "ExecutionTimedOut", "ExecutionRemoved",   "ExecutionDeleted",
    "ThingAddedToGroup", "ThingRemovedFromGroup", "ThingDeleted",
    "RolloutPlanned",    "RolloutStep",        "FanOutStep",
    "Unknown"};

}  // namespace

std::string HashToHex(const Hash& hash) {
  std::string out;
  out.reserve(hash.size() * 2);
  for (uint8_t b : hash) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0xf]);
  }
  return out;
}

std::optional<Hash> HashFromHex(std::string_view hex) {
  Hash out{};
  if (hex.size() != out.size() * 2) return std::nullopt;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return out;
}

std::string_view ExecutionStatusName(ExecutionStatus status) {
  auto i = static_cast<size_t>(status);
  return i < kExecutionStatusNames.size() ? kExecutionStatusNames[i] : "UNKNOWN";
}

std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name) {
  for (size_t i = 1; i < kExecutionStatusNames.size(); ++i) {
    if (kExecutionStatusNames[i] == name) return static_cast<ExecutionStatus>(i);
  }
  return std::nullopt;
}

bool IsTerminal(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kSucceeded:
    case ExecutionStatus::kFailed:
    case ExecutionStatus::kTimedOut:
    case ExecutionStatus::kRejected:
    case ExecutionStatus::kRemoved:
    case ExecutionStatus::kCanceled:
      return true;
    case ExecutionStatus::kNone:
    case ExecutionStatus::kQueued:
    case ExecutionStatus::kInProgress:
      return false;
  }
  return false;
}

std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kInProgress: return "IN_PROGRESS";
    case JobStatus::kCanceled: return "CANCELED";
    case JobStatus::kSucceeded: return "SUCCEEDED";
  }
  return "IN_PROGRESS";
}

std::optional<JobStatus> ParseJobStatus(std::string_view name) {
  if (name == "IN_PROGRESS") return JobStatus::kInProgress;
  if (name == "CANCELED") return JobStatus::kCanceled;
  if (name == "SUCCEEDED" || name == "COMPLETED") return JobStatus::kSucceeded;
  return std::nullopt;
}

std::string_view TargetSelectionName(TargetSelection selection) {
  return selection == TargetSelection::kContinuous ? "CONTINUOUS" : "SNAPSHOT";
}

std::optional<TargetSelection> ParseTargetSelection(std::string_view name) {
  if (name == "SNAPSHOT") return TargetSelection::kSnapshot;
  if (name == "CONTINUOUS") return TargetSelection::kContinuous;
  return std::nullopt;
}

std::string_view FailureTypeName(FailureType type) {
  switch (type) {
    case FailureType::kFailed: return "FAILED";
    case FailureType::kRejected: return "REJECTED";
    case FailureType::kTimedOut: return "TIMED_OUT";
    case FailureType::kAll: return "ALL";
  }
  return "FAILED";
}

std::optional<FailureType> ParseFailureType(std::string_view name) {
  if (name == "FAILED") return FailureType::kFailed;
  if (name == "REJECTED") return FailureType::kRejected;
  if (name == "TIMED_OUT") return FailureType::kTimedOut;
  if (name == "ALL") return FailureType::kAll;
  return std::nullopt;
}

std::string_view EventKindName(EventKind kind) {
  auto i = static_cast<size_t>(kind);
  return i < kEventKindNames.size() ? kEventKindNames[i] : "Unknown";
}

std::string_view JobIdOf(const EventBody& body) {
  return std::visit(
      [](const auto& b) -> std::string_view {
        if constexpr (requires { b.job_id; }) {
          return b.job_id;
        } else {
          return {};
        }
      },
      body);
}

std::string_view ThingNameOf(const EventBody& body) {
  return std::visit(
      [](const auto& b) -> std::string_view {
        if constexpr (requires { b.thing_name; }) {
          return b.thing_name;
        } else {
          return {};
        }
      },
      body);
}

}  // namespace jobledger
