// What the parts of the HTTP server share, private to rdp-bridge/http/: the listener
// (http_server.cpp), the connections that read requests and write responses (connection.cpp)
// and the route table that answers them (routes.cpp).
#pragma once

#include <fcntl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rdp-bridge/auth/credentials.hpp"
#include "rdp-bridge/auth/source_limits.hpp"
#include "rdp-bridge/auth/throttle.hpp"
#include "rdp-bridge/http/http_server.hpp"
#include "rdp-bridge/http/login.hpp"
#include "rdp-bridge/http/websocket_tunnel.hpp"
#include "shared/config.hpp"
#include "shared/log.hpp"

namespace deskpod {

namespace http_internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
// Called exactly once with the response; may be called later, from another handler.
using Respond = std::function<void(Response)>;
// `peer` is the client's address (for the login throttle).
using Handler = std::function<void(const Request&, const std::string& peer, Respond)>;

// What one request may be: headers up to kHeaderLimit, a body up to kBodyLimit (room for the
// login form the web client posts; nothing larger is expected).
constexpr uint32_t kHeaderLimit = 8 * 1024;
constexpr uint64_t kBodyLimit = 64 * 1024;

struct Route {
    std::vector<http::verb> methods;
    Handler handler;
};

class HttpConnection;

inline Response text_response(http::status status, std::string body,
                              std::string_view content_type = "text/plain; charset=utf-8") {
    Response res{status, 11};
    res.set(http::field::content_type,
            beast::string_view(content_type.data(), content_type.size()));
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(body);
    return res;
}

inline void set_cloexec(int fd) {
    // Sockets must not leak into the session processes the compositor forks.
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0)
        ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

}  // namespace http_internal

struct HttpServerState {
    HttpServerState(http_internal::asio::io_context& io_context, const Config& cfg, HttpProbes p)
        : io(io_context),
          config(cfg),
          endpoint(cfg.http),
          probes(std::move(p)),
          acceptor(io_context) {}

    http_internal::asio::io_context& io;
    const Config& config;
    Endpoint endpoint;
    HttpProbes probes;
    http_internal::tcp::acceptor acceptor;
    uint16_t bound_port = 0;
    bool stopped = false;
    uint64_t next_id = 1;
    std::map<std::string, http_internal::Route, std::less<>> routes;
    std::unordered_map<uint64_t, std::weak_ptr<http_internal::HttpConnection>> connections;
    // Open connections per source (source_of: an address, or an IPv6 /64).
    std::unordered_map<std::string, size_t> connections_per_source;
    log::Logger logger{"http"};
    // Refused connections, logged at most once a second (a flood must not flood the log).
    RefusalLog refusals{logger, std::chrono::seconds(1)};

    // The web client, once enable_web_client() ran.
    guac::Host* guac = nullptr;
    web::LoginTokens logins;
    AuthThrottle login_throttle;
    // Login attempts from one address are checked one at a time, each after the throttle delay
    // its predecessors' failures earned, so parallel requests cannot share one delay: at most
    // kMaxQueuedLogins wait behind the one being checked, more are answered 429.
    struct LoginQueue {
        bool checking = false;
        std::deque<std::function<void()>> waiting;
    };
    static constexpr size_t kMaxQueuedLogins = 8;
    std::unordered_map<std::string, LoginQueue> login_queues;
    std::shared_ptr<web::Tunnels> tunnels = std::make_shared<web::Tunnels>();
};

namespace http_internal {

// ---- connection.cpp ----
// Accepts the next connection, and so on until the acceptor closes or the server stops.
void accept_next(const std::shared_ptr<HttpServerState>& state);
// Closes every open connection; those upgraded to a WebSocket tunnel are the tunnels' to close.
void close_connections(HttpServerState& state);

// Why the WebSocket tunnel upgrade `req` is refused (the response to send before closing), or
// nothing: upgrade. Refused: not an upgrade, no valid session cookie, another site's Origin.
std::optional<Response> tunnel_refusal(HttpServerState& state, const Request& req,
                                       const log::Logger& logger);

// ---- routes.cpp ----
// Answers `req` from the route table: 404 for an unknown path, 405 (with Allow) for a method its
// route does not take; HEAD is answered wherever GET is (the caller drops the body).
void route_request(HttpServerState& state, const Request& req, const std::string& peer,
                   Respond respond);
// /healthz, /readyz and /metrics.
void add_probe_routes(HttpServerState& state);
// The web client's assets and /session, /login, /logout.
void add_web_routes(HttpServerState& state);

}  // namespace http_internal

}  // namespace deskpod
