// What `GET /metrics` reports, in the Prometheus text format (version 0.0.4): requests
// by operation and HTTP status, their latency as a histogram by operation, and the
// ledger writer's groups, appends and queue depth.

#ifndef JOBLEDGER_SERVER_METRICS_H_
#define JOBLEDGER_SERVER_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "jobledger/event_log.h"
#include "jobledger/thread_annotations.h"

namespace jobledger::server {

class Metrics {
 public:
  // The histogram's upper bounds, in seconds.
  static constexpr std::array<double, 10> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,  0.1,    0.25,  1.0};

  // One answered request: its operation ("DescribeJob"; "-" when none was routed), its
  // HTTP status and how long it took.
  void Record(const std::string& operation, int status, double seconds) JOBLEDGER_EXCLUDES(mu_);

  // The exposition text, with `log`'s writer figures.
  std::string Render(const EventLog& log) const JOBLEDGER_EXCLUDES(mu_);

 private:
  struct Latency {
    std::array<uint64_t, kBuckets.size()> buckets{};  // not cumulative; Render sums
    uint64_t count = 0;
    double sum = 0;
  };

  mutable Mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_ JOBLEDGER_GUARDED_BY(mu_);
  std::map<std::string, Latency> latency_ JOBLEDGER_GUARDED_BY(mu_);
};

}  // namespace jobledger::server

#endif  // JOBLEDGER_SERVER_METRICS_H_
