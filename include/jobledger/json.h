// Renders read-model answers as the AWS CLI prints them: member names and nesting of
// the service model, absent optional members omitted (never null), 4-space indents.
// Control-plane timestamps (`iot`) are epoch seconds with a fraction
// (1486687079.743); device-plane ones (`iot-jobs-data`) whole epoch seconds (Part A
// item 13). The job status vocabulary is the seed's (SUCCEEDED, not COMPLETED).

#ifndef JOBLEDGER_JSON_H_
#define JOBLEDGER_JSON_H_

#include <string>

#include "jobledger/commands.h"
#include "jobledger/types.h"

namespace jobledger {

// `indent` < 0: one line.
std::string RenderJobReference(const JobReference& ref, int indent = 4);         // CreateJob, CancelJob, AssociateTargetsWithJob
std::string RenderDescribeJob(const Job& job, int indent = 4);                  // {"job": ...}
std::string RenderGetJobDocument(const std::string& document, int indent = 4);  // {"document": ...}
std::string RenderListJobs(const ListJobsResult& result, int indent = 4);
std::string RenderDescribeJobExecution(const JobExecution& execution, int indent = 4);
std::string RenderListJobExecutionsForJob(const ListJobExecutionsForJobResult& result, int indent = 4);
std::string RenderListJobExecutionsForThing(const ListJobExecutionsForThingResult& result,
                                            int indent = 4);
// Device plane.
std::string RenderGetPendingJobExecutions(const GetPendingJobExecutionsResponse& response,
                                          int indent = 4);
std::string RenderStartNextPendingJobExecution(const StartNextPendingJobExecutionResponse& response,
                                               int indent = 4);
std::string RenderUpdateJobExecution(const UpdateJobExecutionResponse& response, int indent = 4);

// The answer of any command of the ledger (jobledger/command_traits.h: Op::Answer's
// value), for code that handles every command alike (the CLI, the server).
inline std::string RenderAnswer(const JobReference& ref) { return RenderJobReference(ref); }
inline std::string RenderAnswer(const UpdateJobExecutionResponse& r) { return RenderUpdateJobExecution(r); }
inline std::string RenderAnswer(const StartNextPendingJobExecutionResponse& r) {
  return RenderStartNextPendingJobExecution(r);
}

// Epoch seconds with the fraction the microseconds carry ("1486687079.743").
double ControlPlaneTime(int64_t micros);

}  // namespace jobledger

#endif  // JOBLEDGER_JSON_H_
