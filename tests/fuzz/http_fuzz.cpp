// libFuzzer target for the HTTP server's requests: arbitrary bytes on a connection, read by
// Beast's request parser with the server's header and body limits (as HttpConnection reads
// them, keep-alive included), then answered by deskpod's code: the route table
// (route_request: probes, /metrics, the web client's assets, /session, /login with its form
// parsing, credential check and throttle queue, /logout) or the WebSocket upgrade's checks
// (tunnel_refusal: upgrade headers, session cookie, Origin). A Cookie header's "@TOKEN@" is
// replaced by the session token of the last successful login, so the fuzzer reaches what a
// logged-in browser can. Beyond not crashing: each request gets at most one answer (none only
// while its login waits out the throttle), a login succeeds only with the configured
// credentials and then hands out a token that is valid, only a logged-in browser gets the
// session or a tunnel, and a tunnel only from its own origin.
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "rdp-bridge/http/server_state.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace deskpod;
using namespace deskpod::http_internal;

namespace {

constexpr std::string_view kTokenPlaceholder = "@TOKEN@";

std::string_view header(const Request& req, http::field field) {
    const auto v = req[field];
    return std::string_view(v.data(), v.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::quiet_logs();
    if (size == 0)
        return 0;
    // The first byte: which probes answer and from which address the requests come.
    const uint8_t setup = data[0];
    asio::io_context io;
    Config config;
    config.user = "deskpod";
    config.password = "correct horse battery";
    HttpProbes probes;
    probes.compositor_alive = [alive = (setup & 1) != 0](std::function<void(bool)> done) {
        done(alive);
    };
    probes.ready = [ready = (setup & 2) != 0] { return ready; };
    auto state = std::make_shared<HttpServerState>(io, config, probes);
    add_probe_routes(*state);
    add_web_routes(*state);
    const std::string peer = (setup & 4) ? "2001:db8::7" : "192.0.2.7";
    const log::Logger logger("http", "http#1");

    beast::test::stream socket(io), client(io);
    socket.connect(client);
    socket.append(beast::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    client.close();

    beast::flat_buffer buffer;
    std::string token;  // of the last successful login
    // Answers by request number: a login may be answered after its request was read.
    std::map<int, int> answers;
    std::map<int, Response> answer_of;
    for (int requests = 0; requests < 64; ++requests) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(kHeaderLimit);
        parser.body_limit(kBodyLimit);
        error_code ec;
        http::read(socket, buffer, parser, ec);
        if (ec)
            break;  // the connection answers 4xx or closes (connection.cpp's on_read)
        Request req = parser.release();
        FUZZ_CHECK(req.body().size() <= kBodyLimit);
        if (const auto cookie = header(req, http::field::cookie); !cookie.empty()) {
            std::string with_token(cookie);
            for (size_t at; (at = with_token.find(kTokenPlaceholder)) != std::string::npos;)
                with_token.replace(at, kTokenPlaceholder.size(), token);
            req.set(http::field::cookie, with_token);
        }
        const auto session = web::cookie_value(header(req, http::field::cookie), web::kCookieName);
        const bool logged_in = session && state->logins.valid(*session);
        const std::string_view target(req.target().data(), req.target().size());
        const std::string_view path = target.substr(0, target.find('?'));

        if (path == "/websocket-tunnel") {
            const auto refusal = tunnel_refusal(*state, req, logger);
            if (!refusal) {
                FUZZ_CHECK(beast::websocket::is_upgrade(req) && logged_in);
                const std::string_view origin = header(req, http::field::origin);
                const std::string host(header(req, http::field::host));
                FUZZ_CHECK(origin.empty() || origin == "http://" + host ||
                           origin == "https://" + host);
            } else {
                FUZZ_CHECK(refusal->result_int() >= 400 && refusal->result_int() < 500);
            }
            if (!req.keep_alive())
                break;
            continue;
        }

        route_request(*state, req, peer, [&answers, &answer_of, requests](Response res) {
            ++answers[requests];
            answer_of.insert_or_assign(requests, std::move(res));
        });
        io.poll();
        FUZZ_CHECK(answers[requests] <= 1);
        const bool login = path == "/login" && req.method() == http::verb::post;
        if (answers[requests] == 0) {
            // Only a login waiting behind the throttle is answered later.
            FUZZ_CHECK(login && state->login_queues.count(peer) == 1);
            if (!req.keep_alive())
                break;
            continue;
        }
        const Response* answer = &answer_of.at(requests);
        const unsigned status = answer->result_int();
        if (login && status == 204) {
            const auto user = web::form_field(req.body(), "user");
            const auto password = web::form_field(req.body(), "password");
            FUZZ_CHECK(user && password && *password == config.password &&
                       user->size() == config.user.size());
            const auto set = (*answer)[http::field::set_cookie];
            const auto issued =
                web::cookie_value(std::string_view(set.data(), set.size()), web::kCookieName);
            FUZZ_CHECK(issued && state->logins.valid(*issued));
            token = *issued;
        } else if (login) {
            FUZZ_CHECK(status == 401 || status == 429);
        }
        if (path == "/session" && status == 200)
            FUZZ_CHECK(logged_in);
        if (path == "/session" && req.method() == http::verb::get)
            FUZZ_CHECK(status == (logged_in ? 200u : 401u));
        if (path == "/logout" && session && status == 204)
            FUZZ_CHECK(!state->logins.valid(*session));
        FUZZ_CHECK(status == 200 || status == 204 || status == 401 || status == 404 ||
                   status == 405 || status == 429 || status == 503);
        FUZZ_CHECK(state->logins.size() <= web::LoginTokens::kMaxTokens);
        if (!req.keep_alive())
            break;
    }
    return 0;
}
