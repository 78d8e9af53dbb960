// The HTTP front end on loopback: keep-alive, answers from other threads, bodies over
// the limit (413), slow and idle clients cut off, the connection limit, and a Stop()
// that answers every request in flight first.

#include <utility>  // before Asio: g++ 12 needs it for Asio's coroutine support

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "server/http_server.h"

namespace jobledger::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A blocking client on one keep-alive connection.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  http::response<http::string_body> Send(http::verb verb, const std::string& target, const std::string& body = "") {
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.body() = body;
    request.prepare_payload();
    http::write(socket_, request);
    return Read();
  }
  http::response<http::string_body> Read() {
    http::response<http::string_body> response;
    http::read(socket_, buffer_, response);
    return response;
  }
  // Writes raw bytes (a request cut short, say).
  void WriteRaw(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // True once the server closed the connection (a read ends with EOF or a reset).
  bool ClosedByServer() {
    char byte;
    beast::error_code ec;
    socket_.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

HttpServerOptions Options() {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  return options;
}

// Echoes the method, target and body.
void Echo(HttpRequest request, Respond respond) {
  respond(HttpResponse{200, {{"Content-Type", "text/plain"}}, request.method + " " + request.target + " " + request.body});
}

TEST(HttpServerTest, ServesManyRequestsOnOneConnectionOnAFreePort) {
  auto server = HttpServer::Start(Options(), Echo);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_NE((*server)->port(), 0);
  Client client((*server)->port());
  for (int i = 0; i < 5; ++i) {
    auto r = client.Send(http::verb::post, "/x?i=" + std::to_string(i), "body" + std::to_string(i));
    EXPECT_EQ(r.result_int(), 200u);
    EXPECT_EQ(r.body(), "POST /x?i=" + std::to_string(i) + " body" + std::to_string(i));
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST(HttpServerTest, AnAnswerMayComeFromAnotherThreadAndOutliveTheServer) {
  std::vector<std::thread> threads;
  Respond kept;  // the answering side keeps its callback after the server is gone
  {
    auto server = HttpServer::Start(Options(), [&](HttpRequest request, Respond respond) {
      kept = respond;
      threads.emplace_back([respond, target = request.target] { respond(HttpResponse{200, {}, "later " + target}); });
    });
    ASSERT_TRUE(server.ok());
    Client client((*server)->port());
    EXPECT_EQ(client.Send(http::verb::get, "/1").body(), "later /1");
    for (std::thread& t : threads) t.join();
  }
  kept(HttpResponse{200, {}, "too late"});  // a second answer, after the server: ignored
}

TEST(HttpServerTest, ABodyOverTheLimitIs413AndTheConnectionCloses) {
  auto server = HttpServer::Start(Options(), Echo);
  ASSERT_TRUE(server.ok());
  Client client((*server)->port());
  EXPECT_EQ(client.Send(http::verb::put, "/ok", std::string(1024, 'a')).result_int(), 200u);
  auto r = client.Send(http::verb::put, "/big", std::string(1025, 'a'));
  EXPECT_EQ(r.result_int(), 413u);
  EXPECT_EQ(r[http::field::content_type], "application/json");
  EXPECT_NE(r.body().find("larger than 1024 bytes"), std::string::npos) << r.body();
  EXPECT_TRUE(client.ClosedByServer());
}

TEST(HttpServerTest, ASlowClientAndAnIdleOneAreCutOff) {
  HttpServerOptions options = Options();
  options.header_timeout = std::chrono::milliseconds(200);
  options.idle_timeout = std::chrono::milliseconds(200);
  auto server = HttpServer::Start(options, Echo);
  ASSERT_TRUE(server.ok());
  {
    Client slow((*server)->port());
    slow.WriteRaw("GET /x HTTP/1.1\r\nHost: a\r\n");  // never finishes its header
    EXPECT_TRUE(slow.ClosedByServer());               // blocks until the server cuts it off
  }
  {
    Client idle((*server)->port());
    EXPECT_EQ(idle.Send(http::verb::get, "/x").result_int(), 200u);
    EXPECT_TRUE(idle.ClosedByServer());  // says nothing more: closed after the idle timeout
  }
  Client fresh((*server)->port());
  EXPECT_EQ(fresh.Send(http::verb::get, "/x").result_int(), 200u) << "the server still serves";
}

TEST(HttpServerTest, ConnectionsOverTheLimitAreAnswered503) {
  HttpServerOptions options = Options();
  options.max_connections = 2;
  auto server = HttpServer::Start(options, Echo);
  ASSERT_TRUE(server.ok());
  Client a((*server)->port()), b((*server)->port());
  EXPECT_EQ(a.Send(http::verb::get, "/a").result_int(), 200u);
  EXPECT_EQ(b.Send(http::verb::get, "/b").result_int(), 200u);
  Client c((*server)->port());
  auto refused = c.Read();
  EXPECT_EQ(refused.result_int(), 503u);
  EXPECT_TRUE(c.ClosedByServer());
  EXPECT_EQ(a.Send(http::verb::get, "/a").result_int(), 200u) << "the first two keep their connections";
}

TEST(HttpServerTest, AMalformedRequestIs400AndTheServerGoesOn) {
  auto server = HttpServer::Start(Options(), Echo);
  ASSERT_TRUE(server.ok());
  {
    Client bad((*server)->port());
    bad.WriteRaw("NOT HTTP AT ALL\r\n\r\n");
    EXPECT_EQ(bad.Read().result_int(), 400u);
  }
  Client good((*server)->port());
  EXPECT_EQ(good.Send(http::verb::get, "/x").result_int(), 200u);
}

TEST(HttpServerTest, StopAnswersTheRequestsInFlightFirst) {
  std::promise<Respond> held;
  auto server = HttpServer::Start(Options(), [&held](HttpRequest, Respond respond) { held.set_value(respond); });
  ASSERT_TRUE(server.ok());
  const uint16_t port = (*server)->port();
  auto answer = std::async(std::launch::async, [port] {
    Client client(port);
    return client.Send(http::verb::get, "/slow");
  });
  Respond respond = held.get_future().get();  // the request is in flight
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    (*server)->Stop();
    stopped = true;
  });
  respond(HttpResponse{200, {}, "done"});
  stopper.join();
  EXPECT_TRUE(stopped);
  auto r = answer.get();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "done");
  EXPECT_FALSE(HttpServer::Start(HttpServerOptions{"not-an-ip", 0}, Echo).ok());
}

}  // namespace
}  // namespace jobledger::server
