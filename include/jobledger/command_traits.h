// Each command of JOBLEDGER_LEDGER_COMMANDS (jobledger/commands.h) as a type, for code
// that handles every command alike: the command line registers one subcommand per
// type, and a wire front end routes one operation per type. For each command Name:
//   command::Name::Request   what it takes
//   command::Name::Answer    what it answers (Status or StatusOr<T>)
//   command::Name::kName     the AWS operation's name, "CreateJob"
//   command::Name::Call(ledger, context, request)   Ledger::Name, blocking
//   command::Name::Submit(ledger, context, request, done, admission)   Ledger::SubmitName
// and command::ForEach<F>(f) calls f.template operator()<command::Name>() for each, in
// the table's order.

#ifndef JOBLEDGER_COMMAND_TRAITS_H_
#define JOBLEDGER_COMMAND_TRAITS_H_

#include <functional>
#include <string_view>
#include <utility>

#include "jobledger/commands.h"
#include "jobledger/ledger.h"

namespace jobledger::command {

#define JOBLEDGER_COMMAND_TYPE(Name, snake_name, RequestType, AnswerType)                    \
  struct Name {                                                                              \
    using Request = RequestType;                                                             \
    using Answer = AnswerType;                                                               \
    static constexpr std::string_view kName = #Name;                                         \
    static Answer Call(Ledger& ledger, const RequestContext& context, const Request& request) { \
      return ledger.Name(context, request);                                                  \
    }                                                                                        \
    static Status Submit(Ledger& ledger, RequestContext context, Request request,            \
                         std::function<void(Answer)> done,                                   \
                         Ledger::Admission admission = Ledger::Admission::kWait) {           \
      return ledger.Submit##Name(std::move(context), std::move(request), std::move(done),    \
                                 admission);                                                 \
    }                                                                                        \
  };
JOBLEDGER_LEDGER_COMMANDS(JOBLEDGER_COMMAND_TYPE)
#undef JOBLEDGER_COMMAND_TYPE

template <typename F>
void ForEach(F&& f) {
#define JOBLEDGER_COMMAND_VISIT(Name, snake_name, RequestType, AnswerType) \
  f.template operator()<Name>();
  JOBLEDGER_LEDGER_COMMANDS(JOBLEDGER_COMMAND_VISIT)
#undef JOBLEDGER_COMMAND_VISIT
}

}  // namespace jobledger::command

#endif  // JOBLEDGER_COMMAND_TRAITS_H_
