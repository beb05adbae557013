#include "rdp-bridge/http/http_server.hpp"

#include <utility>

#include <boost/asio/ip/tcp.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "rdp-bridge/http/server_state.hpp"

namespace deskpod {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

}  // namespace

HttpServer::HttpServer(boost::asio::io_context& io, const Config& config, HttpProbes probes)
    : state_(std::make_shared<HttpServerState>(io, config, std::move(probes))) {
    http_internal::add_probe_routes(*state_);
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
        http_internal::set_cloexec(s.acceptor.native_handle());
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
    http_internal::add_web_routes(*state_);
}

void HttpServer::start() {
    state_->stopped = false;
    http_internal::accept_next(state_);
}

void HttpServer::stop() {
    HttpServerState& s = *state_;
    s.stopped = true;
    error_code ignored;
    s.acceptor.close(ignored);
    http_internal::close_connections(s);
    s.tunnels->close_all();
    // Login attempts still waiting for their turn hold their connections (the respond
    // callback), and a connection holds the State: drop them, or the State and every queued
    // connection keep each other alive for good (LeakSanitizer found it at exit).
    s.login_queues.clear();
}

uint16_t HttpServer::port() const {
    return state_->bound_port;
}

}  // namespace deskpod
