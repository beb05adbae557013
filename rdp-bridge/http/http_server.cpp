#include "rdp-bridge/http/http_server.hpp"

#include <fcntl.h>

#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "rdp-bridge/auth/credentials.hpp"
#include "rdp-bridge/http/login.hpp"
#include "rdp-bridge/http/websocket_tunnel.hpp"
#include "rdp-bridge/web/web_assets.hpp"
#include "shared/log.hpp"
#include "shared/metrics.hpp"

namespace deskpod {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Probes and scrapes need a handful of connections; the bound keeps a flood of idle sockets
// from exhausting file descriptors the RDP side needs.
constexpr size_t kMaxConnections = 64;
// Covers the wait for a request (keep-alive idle) and reading all of it, so a client that
// trickles bytes (slowloris) is cut off as surely as an idle one.
constexpr auto kReadTimeout = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(10);
// Below the kubelet's default probe timeout of 1s would be too eager on a loaded desktop;
// the compositor's own ping timeout should normally answer first.
constexpr auto kProbeTimeout = std::chrono::seconds(3);
constexpr uint32_t kHeaderLimit = 8 * 1024;
// Room for the login form the web client will post; nothing larger is expected.
constexpr uint64_t kBodyLimit = 64 * 1024;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
// Called exactly once with the response; may be called later, from another handler.
using Respond = std::function<void(Response)>;
// `peer` is the client's address (for the login throttle).
using Handler = std::function<void(const Request&, const std::string& peer, Respond)>;

struct Route {
    std::vector<http::verb> methods;
    Handler handler;
};

Response text_response(http::status status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8") {
    Response res{status, 11};
    res.set(http::field::content_type,
            beast::string_view(content_type.data(), content_type.size()));
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(body);
    return res;
}

void set_cloexec(int fd) {
    // Sockets must not leak into the session processes the compositor forks.
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0)
        ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

class HttpConnection;

}  // namespace

struct HttpServerState {
    HttpServerState(asio::io_context& io_context, const Config& cfg, HttpProbes p)
        : io(io_context),
          config(cfg),
          endpoint(cfg.http),
          probes(std::move(p)),
          acceptor(io_context) {}

    asio::io_context& io;
    const Config& config;
    Endpoint endpoint;
    HttpProbes probes;
    tcp::acceptor acceptor;
    uint16_t bound_port = 0;
    bool stopped = false;
    uint64_t next_id = 1;
    std::map<std::string, Route, std::less<>> routes;
    std::unordered_map<uint64_t, std::weak_ptr<HttpConnection>> connections;
    log::Logger logger{"http"};

    // The web client, once enable_web_client() ran.
    guac::Host* guac = nullptr;
    web::LoginTokens logins;
    AuthThrottle login_throttle;
    std::shared_ptr<web::Tunnels> tunnels = std::make_shared<web::Tunnels>();
};

namespace {

// One HTTP/1.1 connection: read a request, answer it, and with keep-alive read the next.
// Requests are handled one at a time (no pipelining), which is all browsers and scrapers use.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
  public:
    HttpConnection(std::shared_ptr<HttpServerState> state, tcp::socket socket, uint64_t id)
        : state_(std::move(state)),
          peer_(peer_address(socket)),
          stream_(std::move(socket)),
          id_(id),
          logger_("http", fmt::format("http#{}", id)) {}

    ~HttpConnection() { state_->connections.erase(id_); }

    void start() { read_request(); }

    void close() {
        if (upgraded_)
            return;
        error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

  private:
    void read_request() {
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        parser_->body_limit(kBodyLimit);
        stream_.expires_after(kReadTimeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(error_code ec) {
        if (state_->stopped)
            return;
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted) {
            if (ec == beast::error::timeout)
                logger_.debug("closing: read timed out");
            close();
            return;
        }
        if (ec == http::error::header_limit) {
            reply_and_close(http::status::request_header_fields_too_large,
                            "request header too large\n");
            return;
        }
        if (ec == http::error::body_limit) {
            reply_and_close(http::status::payload_too_large, "request body too large\n");
            return;
        }
        if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
            reply_and_close(http::status::bad_request, "bad request\n");
            return;
        }
        if (ec) {
            logger_.debug("closing: {}", ec.message());
            close();
            return;
        }
        dispatch(parser_->release());
    }

    void reply_and_close(http::status status, std::string body) {
        keep_alive_ = false;
        version_ = 11;
        head_only_ = false;
        send(text_response(status, std::move(body)));
    }

    void dispatch(Request req) {
        version_ = req.version();
        keep_alive_ = req.keep_alive();
        head_only_ = req.method() == http::verb::head;
        const std::string_view target(req.target().data(), req.target().size());
        const std::string_view path = target.substr(0, target.find('?'));
        logger_.debug("{} {}",
                      std::string_view(req.method_string().data(), req.method_string().size()),
                      target);

        if (path == "/websocket-tunnel" && state_->guac) {
            upgrade(std::move(req));
            return;
        }
        const auto route = state_->routes.find(path);
        if (route == state_->routes.end()) {
            send(text_response(http::status::not_found, "not found\n"));
            return;
        }
        // HEAD is answered wherever GET is, as HTTP requires.
        const http::verb method = head_only_ ? http::verb::get : req.method();
        const auto& methods = route->second.methods;
        if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
            Response res = text_response(http::status::method_not_allowed, "method not allowed\n");
            std::string allow;
            for (http::verb m : methods) {
                if (!allow.empty())
                    allow += ", ";
                allow += std::string(http::to_string(m));
                if (m == http::verb::get)
                    allow += ", HEAD";
            }
            res.set(http::field::allow, allow);
            send(std::move(res));
            return;
        }
        route->second.handler(
            req, peer_, [self = shared_from_this()](Response res) { self->send(std::move(res)); });
    }

    static std::string peer_address(const tcp::socket& socket) {
        error_code ec;
        const auto ep = socket.remote_endpoint(ec);
        return ec ? std::string("?") : ep.address().to_string();
    }

    // The Guacamole WebSocket tunnel: only for a logged-in browser, only from our own page.
    void upgrade(Request req) {
        version_ = req.version();
        keep_alive_ = false;
        head_only_ = false;
        if (!beast::websocket::is_upgrade(req)) {
            reply_and_close(http::status::bad_request, "WebSocket upgrade expected\n");
            return;
        }
        const auto cookie = web::cookie_value(
            std::string_view(req[http::field::cookie].data(), req[http::field::cookie].size()),
            web::kCookieName);
        if (!cookie || !state_->logins.valid(*cookie)) {
            logger_.info("tunnel refused: no valid session");
            reply_and_close(http::status::unauthorized, "log in first\n");
            return;
        }
        // Browsers send Origin on WebSocket handshakes; another site's page must not be able to
        // drive the desktop with this browser's cookie (SameSite=Strict already withholds it
        // from cross-site requests; this also covers older browsers).
        const std::string_view origin(req[http::field::origin].data(),
                                      req[http::field::origin].size());
        const std::string_view host(req[http::field::host].data(), req[http::field::host].size());
        if (!origin.empty() && origin != fmt::format("http://{}", host) &&
            origin != fmt::format("https://{}", host)) {
            logger_.warn("tunnel refused: origin {} is not this server ({})", origin, host);
            reply_and_close(http::status::forbidden, "cross-origin tunnel refused\n");
            return;
        }
        upgraded_ = true;
        web::start_websocket_tunnel(state_->tunnels, *state_->guac, std::move(stream_),
                                    std::move(req));
    }

    void send(Response res) {
        if (state_->stopped)
            return;
        res.version(version_);
        res.keep_alive(keep_alive_);
        res.set(http::field::server, "deskpod");
        res.prepare_payload();
        if (head_only_) {
            // Content-Length stays that of the GET response; only the body is left out.
            const auto length = res.body().size();
            res.body().clear();
            res.content_length(length);
        }
        response_ = std::make_unique<Response>(std::move(res));
        stream_.expires_after(kWriteTimeout);
        http::async_write(stream_, *response_, [self = shared_from_this()](error_code ec, size_t) {
            self->on_write(ec);
        });
    }

    void on_write(error_code ec) {
        response_.reset();
        if (state_->stopped)
            return;
        if (ec) {
            logger_.debug("closing: write failed: {}", ec.message());
            close();
            return;
        }
        if (!keep_alive_) {
            error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            stream_.close();
            return;
        }
        read_request();
    }

    std::shared_ptr<HttpServerState> state_;
    std::string peer_;
    bool upgraded_ = false;  // stream_ now belongs to a WebSocket tunnel
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::unique_ptr<Response> response_;  // must outlive async_write
    unsigned version_ = 11;
    bool keep_alive_ = false;
    bool head_only_ = false;
    uint64_t id_;
    log::Logger logger_;
};

void accept_next(const std::shared_ptr<HttpServerState>& state);

void on_accept(const std::shared_ptr<HttpServerState>& state, error_code ec, tcp::socket socket) {
    if (state->stopped || ec == asio::error::operation_aborted)
        return;
    if (ec) {
        // Usually EMFILE: back off briefly instead of spinning on a listener that stays
        // readable.
        state->logger.warn("accept failed: {}", ec.message());
        auto timer =
            std::make_shared<asio::steady_timer>(state->io, std::chrono::milliseconds(100));
        timer->async_wait([state, timer](error_code wait_ec) {
            if (!wait_ec)
                accept_next(state);
        });
        return;
    }
    set_cloexec(socket.native_handle());
    if (state->connections.size() >= kMaxConnections) {
        state->logger.warn("refusing a connection: {} connections are open", kMaxConnections);
        error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    } else {
        const uint64_t id = state->next_id++;
        auto session = std::make_shared<HttpConnection>(state, std::move(socket), id);
        state->connections.emplace(id, session);
        session->start();
    }
    accept_next(state);
}

void accept_next(const std::shared_ptr<HttpServerState>& state) {
    if (state->stopped || !state->acceptor.is_open())
        return;
    state->acceptor.async_accept(
        [state](error_code ec, tcp::socket socket) { on_accept(state, ec, std::move(socket)); });
}

void add_routes(HttpServerState& state) {
    // Handlers capture the State by pointer: the routes live inside it, and a handler only runs
    // while a HttpConnection (which owns a reference to the State) is calling it.
    HttpServerState* s = &state;
    state.routes["/healthz"] = Route{
        {http::verb::get}, [s](const Request&, const std::string&, Respond respond) {
            if (!s->probes.compositor_alive) {
                respond(text_response(http::status::service_unavailable, "no compositor probe\n"));
                return;
            }
            // The probe promises an answer, but a wedged compositor thread must still yield a
            // 503 here rather than a hung request.
            auto answered = std::make_shared<bool>(false);
            auto timer = std::make_shared<asio::steady_timer>(s->io, kProbeTimeout);
            auto finish = [answered, timer, respond](bool alive) {
                if (*answered)
                    return;
                *answered = true;
                timer->cancel();
                respond(alive ? text_response(http::status::ok, "ok\n")
                              : text_response(http::status::service_unavailable,
                                              "compositor not responding\n"));
            };
            timer->async_wait([finish](error_code ec) {
                if (!ec)
                    finish(false);
            });
            s->probes.compositor_alive(finish);
        }};
    state.routes["/readyz"] =
        Route{{http::verb::get}, [s](const Request&, const std::string&, Respond respond) {
                  const bool ready = s->probes.ready && s->probes.ready();
                  respond(ready ? text_response(http::status::ok, "ready\n")
                                : text_response(http::status::service_unavailable, "not ready\n"));
              }};
    state.routes["/metrics"] =
        Route{{http::verb::get}, [](const Request&, const std::string&, Respond respond) {
                  respond(text_response(http::status::ok, metrics().render_prometheus(),
                                        "text/plain; version=0.0.4; charset=utf-8"));
              }};
}

Response json_error(http::status status, std::string_view message) {
    // Messages are fixed ASCII strings without quotes or backslashes.
    return text_response(status, fmt::format("{{\"error\":\"{}\"}}\n", message),
                         "application/json");
}

bool logged_in(HttpServerState& s, const Request& req) {
    const auto cookie = web::cookie_value(
        std::string_view(req[http::field::cookie].data(), req[http::field::cookie].size()),
        web::kCookieName);
    return cookie && s.logins.valid(*cookie);
}

void add_web_routes(HttpServerState& state) {
    HttpServerState* s = &state;
    for (const web::Asset& asset : web::assets()) {
        state.routes[std::string(asset.path)] =
            Route{{http::verb::get}, [asset](const Request&, const std::string&, Respond respond) {
                      Response res = text_response(http::status::ok, std::string(asset.body),
                                                   asset.content_type);
                      // The page and its scripts come only from here; no framing (clickjacking).
                      res.set("Content-Security-Policy",
                              "default-src 'self'; img-src 'self' data: blob:; "
                              "connect-src 'self' ws: wss:; frame-ancestors 'none'");
                      res.set("X-Frame-Options", "DENY");
                      res.set("X-Content-Type-Options", "nosniff");
                      respond(std::move(res));
                  }};
    }
    state.routes["/session"] = Route{
        {http::verb::get}, [s](const Request& req, const std::string&, Respond respond) {
            respond(logged_in(*s, req) ? text_response(http::status::ok, "{}\n", "application/json")
                                       : json_error(http::status::unauthorized, "Not logged in."));
        }};
    state.routes["/logout"] = Route{
        {http::verb::post}, [s](const Request& req, const std::string&, Respond respond) {
            const auto cookie = web::cookie_value(
                std::string_view(req[http::field::cookie].data(), req[http::field::cookie].size()),
                web::kCookieName);
            if (cookie)
                s->logins.remove(*cookie);
            Response res = text_response(http::status::no_content, "");
            res.set(http::field::set_cookie, web::session_cookie(""));
            respond(std::move(res));
        }};
    state.routes["/login"] = Route{
        {http::verb::post}, [s](const Request& req, const std::string& peer, Respond respond) {
            const std::string body = req.body();
            auto check = [s, body, peer, respond] {
                const auto user = web::form_field(body, "user");
                const auto password = web::form_field(body, "password");
                if (user && password && credentials_match(s->config, *user, *password)) {
                    s->login_throttle.record_success(peer);
                    s->logger.info("web login of user '{}' from {}", *user, peer);
                    Response res = text_response(http::status::no_content, "");
                    res.set(http::field::set_cookie, web::session_cookie(s->logins.create()));
                    respond(std::move(res));
                    return;
                }
                s->login_throttle.record_failure(peer, AuthThrottle::Clock::now());
                metrics().auth_failures[Protocol::web].add();
                s->logger.warn("web login failed from {}: wrong user or password", peer);
                respond(json_error(http::status::unauthorized, "Wrong user name or password."));
            };
            // Repeated failures from one address wait 1 s, 2 s, 4 s ... before being checked.
            const auto delay = s->login_throttle.delay_for(peer, AuthThrottle::Clock::now());
            if (delay.count() == 0) {
                check();
                return;
            }
            auto timer = std::make_shared<asio::steady_timer>(s->io, delay);
            timer->async_wait([timer, check](error_code ec) {
                if (!ec)
                    check();
            });
        }};
}

}  // namespace

HttpServer::HttpServer(boost::asio::io_context& io, const Config& config, HttpProbes probes)
    : state_(std::make_shared<HttpServerState>(io, config, std::move(probes))) {
    add_routes(*state_);
}

// Sessions still queued in the io_context keep the State alive until their handlers run (with
// operation_aborted) or the io_context is destroyed.
HttpServer::~HttpServer() {
    stop();
}

void HttpServer::listen() {
    HttpServerState& s = *state_;
    if (!s.endpoint.enabled || s.acceptor.is_open())
        return;

    std::vector<tcp::endpoint> candidates;
    error_code ec;
    const auto address = asio::ip::make_address(s.endpoint.host, ec);
    if (!ec) {
        candidates.emplace_back(address, s.endpoint.port);
    } else {
        tcp::resolver resolver(s.io);
        const auto results = resolver.resolve(s.endpoint.host, std::to_string(s.endpoint.port),
                                              tcp::resolver::passive, ec);
        if (ec) {
            throw std::runtime_error(
                fmt::format("--http: cannot resolve {}: {}", s.endpoint.to_string(), ec.message()));
        }
        for (const auto& entry : results)
            candidates.push_back(entry.endpoint());
    }

    ec = asio::error::host_not_found;
    for (const auto& candidate : candidates) {
        error_code ignored;
        s.acceptor.close(ignored);
        if (s.acceptor.open(candidate.protocol(), ec))
            continue;
        set_cloexec(s.acceptor.native_handle());
        // A restart must not fail on connections of the previous process in TIME_WAIT.
        s.acceptor.set_option(tcp::acceptor::reuse_address(true), ignored);
        if (s.acceptor.bind(candidate, ec))
            continue;
        if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec))
            continue;
        s.bound_port = s.acceptor.local_endpoint(ignored).port();
        Endpoint bound = s.endpoint;
        bound.port = s.bound_port;
        s.logger.info("listening on {}", bound.to_string());
        return;
    }
    error_code ignored;
    s.acceptor.close(ignored);
    throw std::runtime_error(
        fmt::format("--http: cannot listen on {}: {}", s.endpoint.to_string(), ec.message()));
}

void HttpServer::enable_web_client(guac::Host& host) {
    state_->guac = &host;
    add_web_routes(*state_);
}

void HttpServer::start() {
    state_->stopped = false;
    accept_next(state_);
}

void HttpServer::stop() {
    HttpServerState& s = *state_;
    s.stopped = true;
    error_code ignored;
    s.acceptor.close(ignored);
    // Copy first: closing may run no handler synchronously, but keep the iteration safe anyway.
    std::vector<std::shared_ptr<HttpConnection>> open;
    for (auto& [id, weak] : s.connections) {
        if (auto session = weak.lock())
            open.push_back(std::move(session));
    }
    for (auto& session : open)
        session->close();
    s.tunnels->close_all();
}

uint16_t HttpServer::port() const {
    return state_->bound_port;
}

}  // namespace deskpod
