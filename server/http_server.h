// A small HTTP/1.1 server on Boost.Beast: keep-alive, bounded bodies (413), header and
// idle timeouts (a slow or silent client cannot hold a connection), a bounded number
// of connections, and a handler that may answer later from any thread (a write
// answers from the ledger's writer). It knows nothing of AWS: server/service.h does.

#ifndef JOBLEDGER_SERVER_HTTP_SERVER_H_
#define JOBLEDGER_SERVER_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jobledger/status.h"

namespace jobledger::server {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // as sent: "/jobs/fw-1?x=y"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header named `name` (any case), or "".
  std::string Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
  std::string body;
};

// Answers one request; `respond` must be called exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest request, Respond respond)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: a free port (see HttpServer::port)
  size_t threads = 2;
  size_t max_body_bytes = size_t{1} << 20;  // a larger body is answered 413
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_connections = 256;  // more are answered 503 and closed
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};  // to read one request
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};    // between requests
};

class HttpServer {
 public:
  // Binds and starts serving on `options.threads` threads. kInvalidArgument for a host
  // that is not an IP address; kUnavailable when the address cannot be bound.
  static StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, Handler handler);

  virtual ~HttpServer() = default;
  // The port it listens on (the chosen one for port 0).
  virtual uint16_t port() const = 0;
  // Stops accepting, waits for every request in flight to be answered, closes the
  // connections and joins the threads. Idempotent; the destructor calls it.
  virtual void Stop() = 0;
};

}  // namespace jobledger::server

#endif  // JOBLEDGER_SERVER_HTTP_SERVER_H_
