// The HTTP server against a real Beast client over loopback: routes, probes, limits, timeouts
// and shutdown.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "rdp-bridge/http/http_server.hpp"
#include "shared/metrics.hpp"

namespace deskpod {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class HttpServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        Config config;
        config.http = Endpoint{true, "127.0.0.1", 0};
        HttpProbes probes;
        probes.compositor_alive = [this](std::function<void(bool)> done) {
            if (probe_silent)
                return;  // a wedged compositor never answers
            // Answer later, like the real probe that waits for the compositor thread.
            asio::post(io, [this, done] { done(alive.load()); });
        };
        probes.ready = [this] { return ready.load(); };
        server = std::make_unique<HttpServer>(io, config, probes);
        server->listen();
        ASSERT_NE(server->port(), 0);
        server->start();
        thread = std::thread([this] { io.run(); });
    }

    void TearDown() override {
        stop_server();
        server.reset();
    }

    void stop_server() {
        if (!thread.joinable())
            return;
        asio::post(io, [this] { server->stop(); });
        thread.join();  // io.run() returns only when stop() left no connection behind
    }

    tcp::endpoint endpoint() const {
        return tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port());
    }

    // One request on its own connection.
    http::response<http::string_body> request(http::verb method, const std::string& target) {
        beast::tcp_stream stream(client_io);
        stream.connect(endpoint());
        return exchange(stream, method, target);
    }

    http::response<http::string_body> exchange(beast::tcp_stream& stream, http::verb method,
                                               const std::string& target, bool keep_alive = true) {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.keep_alive(keep_alive);
        req.prepare_payload();
        http::write(stream, req);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        return res;
    }

    // Reads until the server closes; returns how long that took, or a huge value when the
    // connection stayed open past `limit`.
    static std::chrono::milliseconds wait_for_close(tcp::socket& socket,
                                                    std::chrono::seconds limit) {
        const auto start = Clock::now();
        timeval tv{};
        tv.tv_sec = limit.count();
        setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char buf[4096];
        for (;;) {
            const ssize_t n = ::recv(socket.native_handle(), buf, sizeof(buf), 0);
            if (n > 0)
                continue;
            if (n == 0 || errno == ECONNRESET)
                break;
            return std::chrono::milliseconds::max();  // timed out: still open
        }
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    }

    asio::io_context io;
    asio::io_context client_io;
    std::atomic<bool> alive{true};
    std::atomic<bool> ready{false};
    std::atomic<bool> probe_silent{false};
    std::unique_ptr<HttpServer> server;
    std::thread thread;
};

TEST_F(HttpServerTest, HealthzFollowsTheCompositorProbe) {
    auto res = request(http::verb::get, "/healthz");
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res.body(), "ok\n");

    alive = false;
    res = request(http::verb::get, "/healthz");
    EXPECT_EQ(res.result(), http::status::service_unavailable);
}

TEST_F(HttpServerTest, HealthzAnswers503WhenTheProbeNeverAnswers) {
    probe_silent = true;
    const auto start = Clock::now();
    const auto res = request(http::verb::get, "/healthz");
    EXPECT_EQ(res.result(), http::status::service_unavailable);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(8));
}

TEST_F(HttpServerTest, ReadyzFollowsTheReadyProbe) {
    auto res = request(http::verb::get, "/readyz");
    EXPECT_EQ(res.result(), http::status::service_unavailable);
    EXPECT_EQ(res.body(), "not ready\n");

    ready = true;
    res = request(http::verb::get, "/readyz");
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res.body(), "ready\n");
}

TEST_F(HttpServerTest, MetricsArePrometheusText) {
    metrics().frames_sent[Protocol::rdp].add(3);
    const auto res = request(http::verb::get, "/metrics");
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res[http::field::content_type].substr(0, 29), "text/plain; version=0.0.4; ch");
    EXPECT_NE(res.body().find("# TYPE deskpod_frames_sent_total counter\n"), std::string::npos);
    EXPECT_NE(res.body().find("deskpod_build_info{version=\"" DESKPOD_VERSION "\"} 1\n"),
              std::string::npos);

    // A query string does not change the route.
    EXPECT_EQ(request(http::verb::get, "/metrics?name=x").result(), http::status::ok);
}

TEST_F(HttpServerTest, UnknownPathsAre404AndOtherMethods405) {
    EXPECT_EQ(request(http::verb::get, "/").result(), http::status::not_found);
    EXPECT_EQ(request(http::verb::get, "/healthz/x").result(), http::status::not_found);
    const auto res = request(http::verb::post, "/healthz");
    EXPECT_EQ(res.result(), http::status::method_not_allowed);
    EXPECT_EQ(res[http::field::allow], "GET, HEAD");
    EXPECT_EQ(request(http::verb::delete_, "/metrics").result(), http::status::method_not_allowed);
}

TEST_F(HttpServerTest, HeadAnswersWithoutABody) {
    ready = true;
    beast::tcp_stream stream(client_io);
    stream.connect(endpoint());
    http::request<http::empty_body> req{http::verb::head, "/readyz", 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a HEAD response announces a body it does not send
    http::read(stream, buffer, parser);
    EXPECT_EQ(parser.get().result(), http::status::ok);
    EXPECT_EQ(parser.get()[http::field::content_length], "6");
    // The connection is still usable: no stray body bytes were sent.
    EXPECT_EQ(exchange(stream, http::verb::get, "/readyz").body(), "ready\n");
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
    beast::tcp_stream stream(client_io);
    stream.connect(endpoint());
    for (int i = 0; i < 5; ++i) {
        const auto res = exchange(stream, http::verb::get, "/healthz");
        EXPECT_EQ(res.result(), http::status::ok);
        EXPECT_TRUE(res.keep_alive());
    }
    const auto last = exchange(stream, http::verb::get, "/healthz", /*keep_alive=*/false);
    EXPECT_FALSE(last.keep_alive());
    EXPECT_LT(wait_for_close(stream.socket(), std::chrono::seconds(5)), std::chrono::seconds(5));
}

TEST_F(HttpServerTest, OversizedRequestsAreRefused) {
    beast::tcp_stream stream(client_io);
    stream.connect(endpoint());
    http::request<http::string_body> req{http::verb::get, "/healthz", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set("X-Padding", std::string(16 * 1024, 'a'));
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
    EXPECT_FALSE(res.keep_alive());
}

TEST_F(HttpServerTest, IdleAndTricklingConnectionsAreClosed) {
    tcp::socket idle(client_io);
    idle.connect(endpoint());
    tcp::socket trickle(client_io);
    trickle.connect(endpoint());
    // A request that never finishes its header, as a slowloris client sends it.
    asio::write(trickle, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));

    const auto idle_closed = wait_for_close(idle, std::chrono::seconds(20));
    EXPECT_LE(idle_closed, std::chrono::seconds(12));
    const auto trickle_closed = wait_for_close(trickle, std::chrono::seconds(20));
    EXPECT_LE(trickle_closed, std::chrono::seconds(12));
}

// One source may hold 16 connections; the 64 of the whole listener are tested with several
// source addresses in tests/integration/test_http_limits.py.
TEST_F(HttpServerTest, ConnectionsBeyondTheSourceLimitAreClosedAtOnce) {
    std::vector<std::unique_ptr<beast::tcp_stream>> open;
    for (int i = 0; i < 16; ++i) {
        open.push_back(std::make_unique<beast::tcp_stream>(client_io));
        open.back()->connect(endpoint());
        // A completed request proves the server holds this connection as a session.
        ASSERT_EQ(exchange(*open.back(), http::verb::get, "/readyz").result(),
                  http::status::service_unavailable);
    }
    tcp::socket extra(client_io);
    extra.connect(endpoint());
    EXPECT_LT(wait_for_close(extra, std::chrono::seconds(5)), std::chrono::seconds(5));

    // The admitted ones keep working.
    EXPECT_EQ(exchange(*open.front(), http::verb::get, "/healthz").result(), http::status::ok);
}

TEST_F(HttpServerTest, StopClosesOpenConnections) {
    beast::tcp_stream stream(client_io);
    stream.connect(endpoint());
    EXPECT_EQ(exchange(stream, http::verb::get, "/healthz").result(), http::status::ok);
    stop_server();  // returns only once the io_context ran out of work
    EXPECT_LT(wait_for_close(stream.socket(), std::chrono::seconds(5)), std::chrono::seconds(5));
    tcp::socket late(client_io);
    boost::system::error_code ec;
    late.connect(endpoint(), ec);
    EXPECT_TRUE(ec);
}

TEST(HttpServerListen, ABusyPortNamesTheOptionAndAddress) {
    asio::io_context io;
    tcp::acceptor holder(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const uint16_t busy = holder.local_endpoint().port();
    Config config;
    config.http = Endpoint{true, "127.0.0.1", busy};
    HttpServer server(io, config, HttpProbes{});
    try {
        server.listen();
        FAIL() << "listen() on a busy port succeeded";
    } catch (const std::runtime_error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("--http"), std::string::npos) << message;
        EXPECT_NE(message.find("127.0.0.1:" + std::to_string(busy)), std::string::npos) << message;
    }
}

TEST(HttpServerListen, AHostNameAndIpv6AreAccepted) {
    asio::io_context io;
    Config config;
    config.http = Endpoint{true, "localhost", 0};
    HttpServer by_name(io, config, HttpProbes{});
    by_name.listen();
    EXPECT_NE(by_name.port(), 0);

    config.http = Endpoint{true, "::1", 0};
    HttpServer v6(io, config, HttpProbes{});
    try {
        v6.listen();
        EXPECT_NE(v6.port(), 0);
    } catch (const std::runtime_error& e) {
        GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
    }
}

TEST(HttpServerListen, OffListensNowhere) {
    asio::io_context io;
    Config config;
    config.http = Endpoint{false, "", 0};
    HttpServer server(io, config, HttpProbes{});
    server.listen();
    server.start();
    EXPECT_EQ(server.port(), 0);
    EXPECT_EQ(io.poll(), 0u);
}

}  // namespace
}  // namespace deskpod
