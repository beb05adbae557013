// The Guacamole WebSocket tunnel at /websocket-tunnel, as guacamole-common-js's
// Guacamole.WebSocketTunnel expects it: subprotocol "guacamole", every message whole
// instructions, the tunnel's uuid first as an internal instruction with the empty opcode
// ("0.,36.<uuid>;"), and the client's internal pings ("0.,4.ping,<ts>;") echoed back. There
// is no guacd handshake on this path: the page puts its size and image types in the query
// string, and a guac::User starts its session at once.
#pragma once

#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "rdp-bridge/guac/handshake.hpp"
#include "rdp-bridge/guac/user.hpp"

namespace deskpod::web {

// The client's size, DPI, image types and timezone from the tunnel's query string.
guac::ClientInfo client_info_from_query(std::string_view query);

// The largest WebSocket message a client may send (clipboard blobs are the largest it sends:
// 8 KiB of base64).
inline constexpr size_t kMaxMessageBytes = 64 * 1024;

// One WebSocket message from the client: its instructions, parsed with `parser` (which keeps an
// unfinished one for the next message), go to `user`, until the user stops; the tunnel's
// internal ones (empty opcode) are handled here: a ping is echoed through `echo`. Malformed
// bytes are the user's protocol_error().
void receive_tunnel_message(guac::Parser& parser, guac::User& user, std::string_view message,
                            const std::function<void(std::string)>& echo);

class Tunnels;

// Takes over an upgraded HTTP connection. `request` is the upgrade request.
void start_websocket_tunnel(std::shared_ptr<Tunnels> tunnels, guac::Host& host,
                            boost::beast::tcp_stream stream,
                            boost::beast::http::request<boost::beast::http::string_body> request);

// The open tunnels, so the server can close them when it stops.
class Tunnels {
  public:
    void close_all();
    // ---- for the tunnels ----
    struct Entry;
    void add(uint64_t id, std::weak_ptr<Entry> tunnel);
    void remove(uint64_t id);
    uint64_t next_id() { return next_id_++; }

  private:
    std::map<uint64_t, std::weak_ptr<Entry>> open_;
    uint64_t next_id_ = 1;
};

}  // namespace deskpod::web
