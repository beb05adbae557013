// libFuzzer target for the web client's WebSocket tunnel past the HTTP upgrade: the input's
// first line is the tunnel's query string (client_info_from_query), the rest is what the
// browser sends on the socket, raw WebSocket frames. Beast's server stream, with the tunnel's
// message limit, reads the frames as the tunnel does; each message goes through
// receive_tunnel_message() (the tunnel's internal pings, then guac::User). Beyond not
// crashing: the query yields a client within the documented ranges, no message over the limit
// reaches deskpod, only pings are echoed, and the user's invariants hold as on the guacd port
// (guac_world.hpp).
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rdp-bridge/http/websocket_tunnel.hpp"
#include "tests/fuzz/guac_world.hpp"

using namespace deskpod;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view all(reinterpret_cast<const char*>(data), size);
    const size_t eol = all.find('\n');
    const std::string_view query = all.substr(0, eol);
    const std::string_view frames = eol == std::string_view::npos ? "" : all.substr(eol + 1);

    const guac::ClientInfo info = web::client_info_from_query(query);
    FUZZ_CHECK(info.width >= 1 && info.width <= 16384 && info.height >= 1 && info.height <= 16384);
    FUZZ_CHECK(info.dpi >= 1 && info.dpi <= 10000 && info.image_mimetypes.size() <= 16);
    FUZZ_CHECK(info.version == guac::kServerVersion);

    fuzz::GuacWorld world;
    fuzz::FakeTransport transport;
    {
        guac::User user(world.host, transport, Protocol::web, "web#1");
        user.start_session(info);
        world.io.poll();
        world.drain();

        beast::test::stream socket(world.io), browser(world.io);
        socket.connect(browser);
        websocket::stream<beast::test::stream&> ws(socket);
        ws.read_message_max(web::kMaxMessageBytes);
        ws.text(true);
        beast::http::request<beast::http::string_body> upgrade{beast::http::verb::get,
                                                               "/websocket-tunnel", 11};
        upgrade.set(beast::http::field::host, "localhost:8080");
        upgrade.set(beast::http::field::upgrade, "websocket");
        upgrade.set(beast::http::field::connection, "upgrade");
        upgrade.set(beast::http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
        upgrade.set(beast::http::field::sec_websocket_version, "13");
        beast::error_code ec;
        ws.accept(upgrade, ec);
        FUZZ_CHECK(!ec);
        socket.append(beast::string_view(frames.data(), frames.size()));
        browser.close();  // the browser sends nothing more: reads end at its last frame

        guac::Parser parser;
        beast::flat_buffer buffer;
        while (!user.stopped()) {
            ws.read(buffer, ec);
            if (ec)
                break;
            FUZZ_CHECK(buffer.size() <= web::kMaxMessageBytes);
            const auto bytes = buffer.data();
            const std::string_view message(static_cast<const char*>(bytes.data()), bytes.size());
            std::vector<std::string> echoed;
            web::receive_tunnel_message(parser, user, message,
                                        [&](std::string out) { echoed.push_back(std::move(out)); });
            for (std::string& out : echoed) {
                FUZZ_CHECK(std::string_view(out).substr(0, 9) == "0.,4.ping");
                transport.send(std::move(out));
            }
            buffer.consume(buffer.size());
            world.io.poll();
            world.drain();
        }
        world.paste_from_client();
        world.check_output(transport);
    }
    world.check_all_released();
    return 0;
}
