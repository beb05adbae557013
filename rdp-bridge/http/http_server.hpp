// The HTTP side of the network thread: /healthz, /readyz, /metrics, and the web client (its
// files, the login and the WebSocket tunnel), all through one route table (routes.cpp).
#pragma once

// Boost 1.74's asio uses std::exchange without including <utility> (boost/asio/awaitable.hpp,
// under -std=c++20), so <utility> comes before any Boost header.
#include <utility>

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>

#include "shared/config.hpp"

namespace deskpod {

namespace guac {
struct Host;
}

struct HttpProbes {
    // Calls done(true) once the compositor answered a ping, done(false) after a timeout. Runs on
    // the io_context thread.
    std::function<void(std::function<void(bool)> done)> compositor_alive;
    // True when the session is running and the listeners are open.
    std::function<bool()> ready;
};

struct HttpServerState;

// Runs on one io_context driven by a single thread; every member is called on that thread, or
// while the io_context is not running.
class HttpServer {
  public:
    HttpServer(boost::asio::io_context& io, const Config& config, HttpProbes probes);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void listen();  // binds config.http; throws std::runtime_error naming --http and the address
    // Serves the built-in web client (page, login, /websocket-tunnel) for `host`'s desktop.
    void enable_web_client(guac::Host& host);
    void start();  // begins accepting
    void stop();   // closes the listener and every open connection; idempotent

    // The bound port once listen() returned (differs from config.http.port when that is 0,
    // which tests use to get a free port).
    uint16_t port() const;

  private:
    // Shared with the connections, which may outlive the server inside the io_context.
    std::shared_ptr<HttpServerState> state_;
};

}  // namespace deskpod
