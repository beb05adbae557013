#include "rdp-bridge/guac/server.hpp"

#include <fcntl.h>

#include <random>

#include <fmt/format.h>

#include "rdp-bridge/guac/queued_transport.hpp"

namespace deskpod::guac {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::string new_connection_id() {
    std::random_device rd;
    uint8_t b[16];
    for (auto& x : b)
        x = uint8_t(rd());
    b[6] = uint8_t((b[6] & 0x0F) | 0x40);
    b[8] = uint8_t((b[8] & 0x3F) | 0x80);
    return fmt::format(
        "${:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
        "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
        b[14], b[15]);
}

// One TCP connection: ordered writes from a queue, reads fed to the User.
class TcpConnection final : public QueuedTransport<TcpConnection>,
                            public std::enable_shared_from_this<TcpConnection> {
  public:
    TcpConnection(Server& server, Host& host, tcp::socket socket, int id)
        : server_(server),
          socket_(std::move(socket)),
          id_(id),
          user_(std::make_unique<User>(host, *this, Protocol::guac, fmt::format("guac#{}", id))) {}

    void start() {
        user_->start_handshake();
        read();
    }

    // QueuedTransport's hooks.
    template <class Done>
    void write_front(const std::string& data, Done done) {
        asio::async_write(socket_, asio::buffer(data),
                          [self = shared_from_this(), done](error_code ec, size_t) { done(ec); });
    }
    void queue_drained() { user_->on_drained(); }
    // Let the queued `error`/`disconnect` reach the client first: called once they have.
    void shut_down() { finish(); }
    void finish_later() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] { self->finish(); });
    }

    void finish() {
        if (closed_)
            return;
        closed_ = true;
        user_->stop();
        error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        // Removal drops the server's reference; pending handlers hold their own.
        asio::post(socket_.get_executor(),
                   [self = shared_from_this()] { self->server_.remove(self->id_); });
    }

  private:
    void read() {
        socket_.async_read_some(asio::buffer(buffer_),
                                [self = shared_from_this()](error_code ec, size_t n) {
                                    if (self->closed_)
                                        return;
                                    if (ec) {
                                        self->finish();
                                        return;
                                    }
                                    self->user_->receive(std::string_view(self->buffer_.data(), n));
                                    if (!self->closed_)
                                        self->read();
                                });
    }

    Server& server_;
    tcp::socket socket_;
    int id_;
    std::unique_ptr<User> user_;
    std::array<char, 16384> buffer_{};
};

Server::Server(Host& host) : host_(host), acceptor_(host.io) {}

Server::~Server() {
    stop();
}

void Server::listen() {
    const Endpoint& ep = host_.config.guac;
    error_code ec;
    tcp::endpoint endpoint;
    const auto address = asio::ip::make_address(ep.host, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, ep.port);
    } else {
        tcp::resolver resolver(host_.io);
        const auto results =
            resolver.resolve(ep.host, std::to_string(ep.port), tcp::resolver::passive, ec);
        if (ec || results.empty())
            throw std::runtime_error(
                fmt::format("--guac: cannot resolve {}: {}", ep.to_string(), ec.message()));
        endpoint = results.begin()->endpoint();
    }
    error_code ignored;
    if (acceptor_.open(endpoint.protocol(), ec) ||
        (::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC),
         acceptor_.set_option(tcp::acceptor::reuse_address(true), ignored),
         acceptor_.bind(endpoint, ec)) ||
        acceptor_.listen(asio::socket_base::max_listen_connections, ec)) {
        acceptor_.close(ignored);
        throw std::runtime_error(
            fmt::format("--guac: cannot listen on {}: {}", ep.to_string(), ec.message()));
    }
    port_ = acceptor_.local_endpoint(ignored).port();
    log_.info("guacd-compatible endpoint listening on {}:{}", ep.host, port_);
}

void Server::start() {
    accept();
}

void Server::accept() {
    if (stopping_ || !acceptor_.is_open())
        return;
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
        if (stopping_ || ec == asio::error::operation_aborted)
            return;
        if (!ec) {
            ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
            socket.set_option(tcp::no_delay(true), ec);
            const int id = next_id_++;
            error_code ignored;
            log_.info("connection guac#{} from {}", id,
                      socket.remote_endpoint(ignored).address().to_string());
            auto conn = std::make_shared<TcpConnection>(*this, host_, std::move(socket), id);
            connections_.emplace(id, conn);
            conn->start();
            accept();
        } else {
            // Usually EMFILE: retry shortly rather than spin on a readable listener.
            log_.warn("accept failed: {}", ec.message());
            auto timer =
                std::make_shared<asio::steady_timer>(host_.io, std::chrono::milliseconds(100));
            timer->async_wait([this, timer](error_code) { accept(); });
        }
    });
}

void Server::remove(int id) {
    connections_.erase(id);
}

void Server::stop() {
    if (stopping_)
        return;
    stopping_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    auto open = connections_;
    for (auto& [id, conn] : open)
        conn->finish();
}

}  // namespace deskpod::guac
