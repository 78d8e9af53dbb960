// The answers the ledger keeps with a request's record (AppendTxn::SetAnswer), so a
// retry with the same request id gets the first answer back as it was given, after a
// crash too (the record is in the same batch as the events).
//
// Encoding: a tag byte naming the type, a format byte (1), then the fields in the wire
// encoding of ledger/wire.h. Decoding the answer of another type is InvalidRequest
// (the request id was first used by another kind of command); one cut short, of
// another format or with bytes left over is kDataLoss naming the request id.

#ifndef JOBLEDGER_LEDGER_INTERNAL_ANSWERS_H_
#define JOBLEDGER_LEDGER_INTERNAL_ANSWERS_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "jobledger/commands.h"
#include "jobledger/status.h"

namespace jobledger::internal {

// The commands whose answers are kept: the others answer with a Status only.
template <typename T>
inline constexpr bool kKeepsAnswer = std::is_same_v<T, JobReference> ||
                                     std::is_same_v<T, UpdateJobExecutionResponse> ||
                                     std::is_same_v<T, StartNextPendingJobExecutionResponse>;

std::string EncodeAnswer(const JobReference& answer);
std::string EncodeAnswer(const UpdateJobExecutionResponse& answer);
std::string EncodeAnswer(const StartNextPendingJobExecutionResponse& answer);

// T: one of the kKeepsAnswer types.
template <typename T>
StatusOr<T> DecodeAnswer(std::string_view bytes, std::string_view request_id);

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_ANSWERS_H_
