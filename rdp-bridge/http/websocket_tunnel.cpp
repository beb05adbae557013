#include "rdp-bridge/http/websocket_tunnel.hpp"

#include <boost/beast/websocket.hpp>

#include <fmt/format.h>

#include "rdp-bridge/guac/queued_transport.hpp"
#include "rdp-bridge/guac/server.hpp"
#include "rdp-bridge/http/login.hpp"

namespace deskpod::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;

guac::ClientInfo client_info_from_query(std::string_view query) {
    guac::ClientInfo info;
    info.version = guac::kServerVersion;
    while (!query.empty()) {
        const size_t end = query.find('&');
        const std::string_view pair = query.substr(0, end);
        query = end == std::string_view::npos ? std::string_view{} : query.substr(end + 1);
        const size_t eq = pair.find('=');
        if (eq == std::string_view::npos)
            continue;
        const std::string key = url_decode(pair.substr(0, eq));
        const std::string value = url_decode(pair.substr(eq + 1));
        if (key == "width") {
            if (auto v = guac::parse_int(value, 1, 16384))
                info.width = *v;
        } else if (key == "height") {
            if (auto v = guac::parse_int(value, 1, 16384))
                info.height = *v;
        } else if (key == "dpi") {
            if (auto v = guac::parse_int(value, 1, 10000))
                info.dpi = *v;
        } else if (key == "image") {
            if (info.image_mimetypes.size() < 16)
                info.image_mimetypes.push_back(value);
        } else if (key == "timezone") {
            info.timezone = value;
        } else if (key == "read-only") {
            info.read_only = value == "true";
        }
    }
    return info;
}

void receive_tunnel_message(guac::Parser& parser, guac::User& user, std::string_view message,
                            const std::function<void(std::string)>& echo) {
    parser.append(message);
    guac::Instruction in;
    while (!user.stopped()) {
        const auto status = parser.next(in);
        if (status == guac::Parser::Status::need_more)
            return;
        if (status == guac::Parser::Status::error) {
            user.protocol_error(parser.error_message());
            return;
        }
        if (in.opcode.empty()) {
            // Tunnel-internal: the client's ping, echoed so it can measure the round trip.
            user.note_activity();
            if (!in.args.empty() && in.args[0] == "ping") {
                std::vector<std::string_view> args(in.args.begin(), in.args.end());
                std::string out;
                guac::append_instruction(out, "", args);
                echo(std::move(out));
            }
            continue;
        }
        user.on_instruction(in);
    }
}

// A tunnel: the WebSocket, its write queue, and the Guacamole user behind it.
struct Tunnels::Entry final : guac::QueuedTransport<Tunnels::Entry>,
                              std::enable_shared_from_this<Tunnels::Entry> {
    Entry(std::shared_ptr<Tunnels> t, guac::Host& h, beast::tcp_stream stream, uint64_t tunnel_id)
        : tunnels(std::move(t)),
          host(h),
          ws(std::move(stream)),
          id(tunnel_id),
          log("web", fmt::format("web#{}", tunnel_id)) {}

    void start(beast::http::request<beast::http::string_body> request) {
        const std::string_view target(request.target().data(), request.target().size());
        const size_t q = target.find('?');
        info = client_info_from_query(q == std::string_view::npos ? "" : target.substr(q + 1));
        ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
            res.set(beast::http::field::sec_websocket_protocol, "guacamole");
            res.set(beast::http::field::server, "deskpod");
        }));
        ws.read_message_max(kMaxMessageBytes);
        ws.text(true);
        ws.async_accept(request, [self = shared_from_this()](error_code ec) {
            if (ec) {
                self->log.info("WebSocket upgrade failed: {}", ec.message());
                self->finish();
                return;
            }
            self->open();
        });
    }

    void open() {
        uuid = guac::new_connection_id().substr(1);
        log.info("tunnel {} open: {}x{}", uuid, info.width, info.height);
        user = std::make_unique<guac::User>(host, *this, Protocol::web, log.conn());
        send(guac::instruction("", uuid));
        user->start_session(info);
        read();
    }

    void read() {
        ws.async_read(buffer, [self = shared_from_this()](error_code ec, size_t) {
            if (self->closed_)
                return;
            if (ec) {
                if (ec != websocket::error::closed)
                    self->log.debug("read: {}", ec.message());
                self->finish();
                return;
            }
            const auto data = self->buffer.data();
            const std::string_view text(static_cast<const char*>(data.data()), data.size());
            self->receive(text);
            self->buffer.consume(self->buffer.size());
            if (!self->closed_)
                self->read();
        });
    }

    void receive(std::string_view text) {
        if (closed_ || !user)
            return;
        receive_tunnel_message(parser, *user, text,
                               [this](std::string out) { send(std::move(out)); });
    }

    // QueuedTransport's hooks.
    template <class Done>
    void write_front(const std::string& data, Done done) {
        ws.async_write(asio::buffer(data),
                       [self = shared_from_this(), done](error_code ec, size_t) { done(ec); });
    }
    void queue_drained() {
        if (user)
            user->on_drained();
    }
    void shut_down() {
        ws.async_close(websocket::close_code::normal,
                       [self = shared_from_this()](error_code) { self->finish(); });
    }

    void finish_later() {
        asio::post(ws.get_executor(), [self = shared_from_this()] { self->finish(); });
    }

    void finish() {
        if (closed_)
            return;
        closed_ = true;
        if (user)
            user->stop();
        error_code ignored;
        beast::get_lowest_layer(ws).socket().shutdown(asio::ip::tcp::socket::shutdown_both,
                                                      ignored);
        beast::get_lowest_layer(ws).close();
        tunnels->remove(id);
        log.info("tunnel closed");
    }

    std::shared_ptr<Tunnels> tunnels;
    guac::Host& host;
    websocket::stream<beast::tcp_stream> ws;
    uint64_t id;
    log::Logger log;
    guac::ClientInfo info;
    std::string uuid;
    std::unique_ptr<guac::User> user;
    guac::Parser parser;
    beast::flat_buffer buffer;
};

void Tunnels::add(uint64_t id, std::weak_ptr<Entry> tunnel) {
    open_.emplace(id, std::move(tunnel));
}
void Tunnels::remove(uint64_t id) {
    open_.erase(id);
}

void Tunnels::close_all() {
    std::vector<std::shared_ptr<Entry>> all;
    for (auto& [id, weak] : open_)
        if (auto t = weak.lock())
            all.push_back(std::move(t));
    for (auto& t : all)
        t->finish();
}

void start_websocket_tunnel(std::shared_ptr<Tunnels> tunnels, guac::Host& host,
                            beast::tcp_stream stream,
                            beast::http::request<beast::http::string_body> request) {
    // The HTTP read timeout must not cut the tunnel; the WebSocket's own timeouts take over.
    stream.expires_never();
    const uint64_t id = tunnels->next_id();
    auto entry = std::make_shared<Tunnels::Entry>(tunnels, host, std::move(stream), id);
    tunnels->add(id, entry);
    entry->start(std::move(request));
}

}  // namespace deskpod::web
