#include "server/http_server.h"

#include <utility>  // before Asio: g++ 12 needs it for Asio's coroutine support

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <thread>

#include "jobledger/thread_annotations.h"

namespace jobledger::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Requests being answered and connections open, for Stop() and the connection limit.
struct Counters {
  Mutex mu;
  std::condition_variable_any idle;
  size_t in_flight JOBLEDGER_GUARDED_BY(mu) = 0;
  std::atomic<size_t> connections{0};

  void Begin() {
    MutexLock lock(&mu);
    ++in_flight;
  }
  void End() {
    MutexLock lock(&mu);
    if (--in_flight == 0) idle.notify_all();
  }
  void WaitIdle() {
    MutexLock lock(&mu);
    idle.wait(mu, [this]() JOBLEDGER_REQUIRES(mu) { return in_flight == 0; });
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServerOptions& options, const Handler& handler,
          std::shared_ptr<Counters> counters)
      : stream_(std::move(socket)), options_(options), handler_(handler), counters_(std::move(counters)) {
    counters_->connections.fetch_add(1);
  }
  ~Session() { counters_->connections.fetch_sub(1); }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }

  // Answers 503 and closes: too many connections.
  void Refuse() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      HttpResponse r{503, {{"Content-Type", "application/json"}},
                     R"({"message":"the server has too many connections; retry later"})"};
      self->keep_alive_ = false;
      self->Write(std::move(r));
    });
  }

 private:
  // Waits up to idle_timeout for the first byte of the next request.
  void WaitForRequest() {
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    idle_timer_.expires_after(options_.idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->stream_.socket().cancel();  // idle too long: ends the wait below
    });
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      self->idle_timer_.cancel();
      if (ec) return self->Close();
      self->ReadHeader();
    });
  }

  // Reads the request (header and body) within header_timeout.
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser_->body_limit(options_.max_body_bytes);
    stream_.expires_after(options_.header_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      return Write({413,
                    {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", "RequestEntityTooLargeException"}},
                    R"({"message":"the request body is larger than )" + std::to_string(options_.max_body_bytes) +
                        R"( bytes"})"});
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec) {
      keep_alive_ = false;
      return Write({400, {{"Content-Type", "application/json"}}, R"({"message":"malformed HTTP request"})"});
    }
    http::request<http::string_body> message = parser_->release();
    keep_alive_ = message.keep_alive();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
    request.body = std::move(message.body());
    stream_.expires_never();
    counters_->Begin();
    // The callback may be kept (copied) by whoever answers, past Stop(): it lets go of
    // the session when it is called, so only the posted write keeps the session alive.
    struct Pending {
      Mutex mu;
      std::shared_ptr<Session> session JOBLEDGER_GUARDED_BY(mu);
    };
    auto pending = std::make_shared<Pending>();
    {
      MutexLock lock(&pending->mu);
      pending->session = shared_from_this();
    }
    handler_(std::move(request), [pending](HttpResponse response) {
      std::shared_ptr<Session> self;
      {
        MutexLock lock(&pending->mu);
        self = std::move(pending->session);
      }
      if (self == nullptr) return;  // answered already
      auto executor = self->stream_.get_executor();
      asio::post(executor, [self = std::move(self), response = std::move(response)]() mutable {
        self->Write(std::move(response));
        self->counters_->End();
      });
    });
  }

  void Write(HttpResponse response) {
    auto message = std::make_shared<http::response<http::string_body>>();
    message->version(11);
    message->result(static_cast<unsigned>(response.status));
    for (auto& [name, value] : response.headers) message->set(name, value);
    message->keep_alive(keep_alive_);
    message->body() = std::move(response.body);
    message->prepare_payload();
    stream_.expires_after(options_.header_timeout);
    http::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->Close();
      self->WaitForRequest();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  asio::steady_timer idle_timer_{stream_.get_executor()};
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const HttpServerOptions& options_;
  const Handler& handler_;
  std::shared_ptr<Counters> counters_;
  bool keep_alive_ = true;
};

class ServerImpl : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, Handler handler)
      : options_(options), handler_(std::move(handler)), acceptor_(asio::make_strand(io_)) {}

  ~ServerImpl() override { Stop(); }

  Status Listen() {
    beast::error_code ec;
    const asio::ip::address address = asio::ip::make_address(options_.host, ec);
    if (ec) return InvalidArgumentError("--listen: '" + options_.host + "' is not an IP address");
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status(StatusCode::kUnavailable, "--listen: cannot listen on " + options_.host + ":" +
                                                  std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (size_t i = 0; i < std::max<size_t>(1, options_.threads); ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    return Status();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    counters_->WaitIdle();
    io_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        auto session = std::make_shared<Session>(std::move(socket), options_, handler_, counters_);
        if (counters_->connections.load() > options_.max_connections) {
          session->Refuse();
        } else {
          session->Start();
        }
      }
      Accept();
    });
  }

  const HttpServerOptions options_;
  const Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, Handler handler) {
  auto server = std::make_unique<ServerImpl>(options, std::move(handler));
  JOBLEDGER_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace jobledger::server
