// One HTTP/1.1 connection from accept to close: reading requests within the limits, keep-alive,
// HEAD, the upgrade to the WebSocket tunnel, and the bound on open connections. What a request
// gets is the route table's business (routes.cpp).
#include "rdp-bridge/http/server_state.hpp"

#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace deskpod::http_internal {
namespace {

// Probes and scrapes need a handful of connections; the bound keeps a flood of idle sockets
// from exhausting file descriptors the RDP side needs.
constexpr size_t kMaxConnections = 64;
// ... and one source (an address, or an IPv6 /64) may hold only this many of them, so it
// cannot take them all: a browser opens about six, a monitoring system one or two.
constexpr size_t kMaxConnectionsPerSource = 16;
// Covers the wait for a request (keep-alive idle) and reading all of it, so a client that
// trickles bytes (slowloris) is cut off as surely as an idle one.
constexpr auto kReadTimeout = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(10);

}  // namespace

// One HTTP/1.1 connection: read a request, answer it, and with keep-alive read the next.
// Requests are handled one at a time (no pipelining), which is all browsers and scrapers use.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
  public:
    HttpConnection(std::shared_ptr<HttpServerState> state, tcp::socket socket, uint64_t id,
                   std::string source)
        : state_(std::move(state)),
          peer_(peer_address(socket)),
          source_(std::move(source)),
          stream_(std::move(socket)),
          id_(id),
          logger_("http", fmt::format("http#{}", id)) {}

    ~HttpConnection() {
        state_->connections.erase(id_);
        const auto it = state_->connections_per_source.find(source_);
        if (it != state_->connections_per_source.end() && --it->second == 0)
            state_->connections_per_source.erase(it);
    }

    void start() { read_request(); }

    // Since when the connection has been waiting for (or reading) its next request; empty
    // while a request is being answered and once it became a WebSocket tunnel.
    std::optional<std::chrono::steady_clock::time_point> waiting_since() const {
        return waiting_since_;
    }
    uint64_t id() const { return id_; }
    const std::string& peer() const { return peer_; }

    void close() {
        if (upgraded_)
            return;
        error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

  private:
    void read_request() {
        waiting_since_ = std::chrono::steady_clock::now();
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        parser_->body_limit(kBodyLimit);
        stream_.expires_after(kReadTimeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(error_code ec) {
        waiting_since_.reset();
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
        route_request(*state_, req, peer_,
                      [self = shared_from_this()](Response res) { self->send(std::move(res)); });
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
        if (auto refusal = tunnel_refusal(*state_, req, logger_)) {
            reply_and_close(refusal->result(), std::move(refusal->body()));
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
    const std::string source_;  // what the per-source limit counts (source_of)
    std::optional<std::chrono::steady_clock::time_point> waiting_since_;
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

namespace {

// All connections are open: close the one that has waited longest for a request (an idle
// keep-alive, or one trickling its headers), so that a new request, a health probe above all,
// still gets in. Connections answering a request or carrying a tunnel are never closed here.
bool make_room(HttpServerState& state) {
    std::shared_ptr<HttpConnection> oldest;
    for (const auto& [id, weak] : state.connections) {
        auto connection = weak.lock();
        if (!connection || !connection->waiting_since())
            continue;
        if (!oldest || *connection->waiting_since() < *oldest->waiting_since())
            oldest = std::move(connection);
    }
    if (!oldest)
        return false;
    state.logger.debug("closing http#{} from {}, the longest idle of {} open connections",
                       oldest->id(), oldest->peer(), state.connections.size());
    state.connections.erase(oldest->id());
    oldest->close();
    return true;
}

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
    error_code endpoint_ec;
    const auto remote = socket.remote_endpoint(endpoint_ec);
    const std::string source = endpoint_ec ? std::string("?") : source_of(remote.address());
    const auto refuse = [&](const std::string& why) {
        state->refusals.refused("an HTTP connection from " + source, why);
        error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    };
    const auto from_source = state->connections_per_source.find(source);
    if (from_source != state->connections_per_source.end() &&
        from_source->second >= kMaxConnectionsPerSource) {
        refuse(fmt::format("{} connections from that source are open", kMaxConnectionsPerSource));
    } else if (state->connections.size() >= kMaxConnections && !make_room(*state)) {
        refuse(fmt::format("{} connections are open, all busy", kMaxConnections));
    } else {
        const uint64_t id = state->next_id++;
        ++state->connections_per_source[source];
        auto connection = std::make_shared<HttpConnection>(state, std::move(socket), id, source);
        state->connections.emplace(id, connection);
        connection->start();
    }
    accept_next(state);
}

}  // namespace

std::optional<Response> tunnel_refusal(HttpServerState& state, const Request& req,
                                       const log::Logger& logger) {
    if (!beast::websocket::is_upgrade(req))
        return text_response(http::status::bad_request, "WebSocket upgrade expected\n");
    const auto cookie = web::cookie_value(
        std::string_view(req[http::field::cookie].data(), req[http::field::cookie].size()),
        web::kCookieName);
    if (!cookie || !state.logins.valid(*cookie)) {
        logger.info("tunnel refused: no valid session");
        return text_response(http::status::unauthorized, "log in first\n");
    }
    // Browsers send Origin on WebSocket handshakes; another site's page must not be able to
    // drive the desktop with this browser's cookie (SameSite=Strict already withholds it from
    // cross-site requests; this also covers older browsers).
    const std::string_view origin(req[http::field::origin].data(), req[http::field::origin].size());
    const std::string_view host(req[http::field::host].data(), req[http::field::host].size());
    if (!origin.empty() && origin != fmt::format("http://{}", host) &&
        origin != fmt::format("https://{}", host)) {
        logger.warn("tunnel refused: origin {} is not this server ({})", origin, host);
        return text_response(http::status::forbidden, "cross-origin tunnel refused\n");
    }
    return std::nullopt;
}

void accept_next(const std::shared_ptr<HttpServerState>& state) {
    if (state->stopped || !state->acceptor.is_open())
        return;
    state->acceptor.async_accept(
        [state](error_code ec, tcp::socket socket) { on_accept(state, ec, std::move(socket)); });
}

void close_connections(HttpServerState& state) {
    // Copy first: closing may run no handler synchronously, but keep the iteration safe anyway.
    std::vector<std::shared_ptr<HttpConnection>> open;
    for (auto& [id, weak] : state.connections) {
        if (auto session = weak.lock())
            open.push_back(std::move(session));
    }
    for (auto& session : open)
        session->close();
}

}  // namespace deskpod::http_internal
