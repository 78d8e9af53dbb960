#include "server/metrics.h"

#include <sstream>

namespace jobledger::server {

void Metrics::Record(const std::string& operation, int status, double seconds) {
  MutexLock lock(&mu_);
  ++requests_[{operation, status}];
  Latency& l = latency_[operation];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++l.buckets[i];
      break;
    }
  }
  ++l.count;
  l.sum += seconds;
}

std::string Metrics::Render(const EventLog& log) const {
  std::ostringstream out;
  {
    MutexLock lock(&mu_);
    out << "# HELP jobledger_requests_total Requests answered, by operation and HTTP status.\n"
        << "# TYPE jobledger_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      out << "jobledger_requests_total{operation=\"" << key.first << "\",status=\"" << key.second << "\"} " << n
          << "\n";
    }
    out << "# HELP jobledger_request_duration_seconds Time from a request read to its answer.\n"
        << "# TYPE jobledger_request_duration_seconds histogram\n";
    for (const auto& [operation, l] : latency_) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += l.buckets[i];
        out << "jobledger_request_duration_seconds_bucket{operation=\"" << operation << "\",le=\"" << kBuckets[i]
            << "\"} " << cumulative << "\n";
      }
      out << "jobledger_request_duration_seconds_bucket{operation=\"" << operation << "\",le=\"+Inf\"} " << l.count
          << "\n"
          << "jobledger_request_duration_seconds_sum{operation=\"" << operation << "\"} " << l.sum << "\n"
          << "jobledger_request_duration_seconds_count{operation=\"" << operation << "\"} " << l.count << "\n";
    }
  }
  const EventLog::WriterStats w = log.writer_stats();
  out << "# HELP jobledger_writer_groups_total Groups the ledger's writer decided.\n"
      << "# TYPE jobledger_writer_groups_total counter\n"
      << "jobledger_writer_groups_total " << w.groups << "\n"
      << "# HELP jobledger_writer_appends_total Appends the writer decided (accepted, rejected or retried).\n"
      << "# TYPE jobledger_writer_appends_total counter\n"
      << "jobledger_writer_appends_total " << w.appends << "\n"
      << "# HELP jobledger_writer_largest_group Most appends in one group.\n"
      << "# TYPE jobledger_writer_largest_group gauge\n"
      << "jobledger_writer_largest_group " << w.largest_group << "\n"
      << "# HELP jobledger_writer_queue_depth Appends waiting for the writer.\n"
      << "# TYPE jobledger_writer_queue_depth gauge\n"
      << "jobledger_writer_queue_depth " << log.queued_appends() << "\n"
      << "# HELP jobledger_head_sequence The ledger's last sequence number.\n"
      << "# TYPE jobledger_head_sequence gauge\n"
      << "jobledger_head_sequence " << log.head().sequence << "\n";
  return out.str();
}

}  // namespace jobledger::server
