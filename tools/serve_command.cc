// `jobledger serve`: the AWS IoT Jobs REST API (both planes) over the ledger, for
// unmodified `aws` CLIs and AWS SDKs (server/service.h).

#include <utility>  // before Asio: g++ 12 needs it for Asio's coroutine support

#include <CLI/CLI.hpp>
#include <pthread.h>
#include <signal.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>

#include "jobledger/scheduler.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/service.h"
#include "tools/command.h"

namespace jobledger::cli {
namespace {

class Serve : public Command {
 public:
  void AddFlags(CLI::App& c) override {
    c.add_option("--listen", listen_, "HOST:PORT to listen on (port 0: a free one); loopback by default")
        ->required();
    c.add_option("--credentials", credentials_, "the principals file (JSON, private to its owner)")->required();
    c.add_option("--threads", threads_, "threads serving requests (default 2)")->check(CLI::Range(1, 256));
  }

  int Run(Context& ctx) override {
    server::HttpServerOptions options;
    const size_t colon = listen_.rfind(':');
    if (colon == std::string::npos || colon == 0) return ctx.Usage("--listen: must be HOST:PORT, got '" + listen_ + "'");
    options.host = listen_.substr(0, colon);
    if (options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']') {
      options.host = options.host.substr(1, options.host.size() - 2);  // [::1]
    }
    const std::string port = listen_.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535) {
      return ctx.Usage("--listen: the port must be 0..65535, got '" + port + "'");
    }
    options.port = static_cast<uint16_t>(std::stoi(port));
    options.threads = static_cast<size_t>(threads_);
    StatusOr<server::Credentials> credentials = server::Credentials::Load(credentials_);
    if (!credentials.ok()) return ctx.Usage(credentials.status().message());

    // SIGTERM and SIGINT are taken by sigwait below: block them before any thread starts,
    // so every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    JL_TRY(ctx, "", ctx.OpenLiveWriter());
    SystemClock wall_clock;
    server::Service service(ctx.ledger(), ctx.reads(), *credentials, wall_clock);
    StatusOr<std::unique_ptr<server::HttpServer>> http = server::HttpServer::Start(
        options, [&service](server::HttpRequest request, server::Respond respond) {
          service.Handle(std::move(request), std::move(respond));
        });
    if (!http.ok()) return ctx.Fail(http.status().message());

    // Rollout windows and timeouts fall due as time passes.
    boost::asio::io_context timers;
    auto work = boost::asio::make_work_guard(timers);
    AdvanceScheduler scheduler(ctx.ledger(), timers.get_executor());
    scheduler.Start();
    std::thread timer_thread([&timers] { timers.run(); });

    ctx.out() << "listening on http://" << listen_.substr(0, colon) << ":" << (*http)->port() << std::endl;
    int received = 0;
    sigwait(&signals, &received);

    // Stop accepting, answer what is in flight, then close the ledger cleanly.
    (*http)->Stop();
    scheduler.Stop();
    work.reset();
    timers.stop();
    timer_thread.join();
    ctx.err() << "jobledger serve: stopped on " << (received == SIGTERM ? "SIGTERM" : "SIGINT") << "\n";
    return kExitOk;
  }

 private:
  std::string listen_, credentials_;
  int threads_ = 2;
};

}  // namespace

void AddServeCommand(CommandSet& set) {
  set.Add<Serve>({"serve",
                  "Serves the AWS IoT Jobs REST API (iot and iot-jobs-data) over HTTP, signed with SigV4.",
                  "jobledger serve --db ledger --listen 127.0.0.1:0 --credentials principals.json"});
}

}  // namespace jobledger::cli
