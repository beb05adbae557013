// The route table: the Kubernetes probes, the Prometheus scrape and the built-in web client
// (its assets, login and logout). Handlers get a whole request and answer through Respond, so
// they know nothing of connections (connection.cpp).
#include "rdp-bridge/http/server_state.hpp"

#include <utility>

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "rdp-bridge/web/web_assets.hpp"
#include "shared/metrics.hpp"

namespace deskpod::http_internal {

// Starts the next login attempt queued from `peer`, after the delay the address's failures so
// far earned (1 s, 2 s, 4 s ...): one attempt at a time per address, whatever the concurrency.
static void run_next_login(HttpServerState& s, const std::string& peer) {
    const auto it = s.login_queues.find(peer);
    if (it == s.login_queues.end())
        return;
    HttpServerState::LoginQueue& queue = it->second;
    if (queue.waiting.empty()) {
        s.login_queues.erase(it);
        return;
    }
    queue.checking = true;
    std::function<void()> check = std::move(queue.waiting.front());
    queue.waiting.pop_front();
    const auto delay = s.login_throttle.delay_for(peer, AuthThrottle::Clock::now());
    if (delay.count() == 0) {
        check();
        return;
    }
    auto timer = std::make_shared<asio::steady_timer>(s.io, delay);
    timer->async_wait([timer, check = std::move(check)](error_code ec) {
        if (!ec)
            check();
    });
}
namespace {

// Below the kubelet's default probe timeout of 1s would be too eager on a loaded desktop;
// the compositor's own ping timeout should normally answer first.
constexpr auto kProbeTimeout = std::chrono::seconds(3);

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

}  // namespace

void route_request(HttpServerState& state, const Request& req, const std::string& peer,
                   Respond respond) {
    const std::string_view target(req.target().data(), req.target().size());
    const auto route = state.routes.find(target.substr(0, target.find('?')));
    if (route == state.routes.end()) {
        respond(text_response(http::status::not_found, "not found\n"));
        return;
    }
    // HEAD is answered wherever GET is, as HTTP requires.
    const http::verb method = req.method() == http::verb::head ? http::verb::get : req.method();
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
        respond(std::move(res));
        return;
    }
    route->second.handler(req, peer, std::move(respond));
}

void add_probe_routes(HttpServerState& state) {
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
            // Checks this attempt, answers it, then starts the next one queued from `peer`.
            auto check = [s, body, peer, respond] {
                struct Next {
                    HttpServerState* s;
                    std::string peer;
                    ~Next() { run_next_login(*s, peer); }
                } next{s, peer};
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
            HttpServerState::LoginQueue& queue = s->login_queues[peer];
            if (queue.waiting.size() >= HttpServerState::kMaxQueuedLogins) {
                s->logger.warn("web login from {} refused: {} attempts are already waiting", peer,
                               queue.waiting.size() + 1);
                respond(json_error(http::status::too_many_requests,
                                   "Too many login attempts at once; try again later."));
                return;
            }
            queue.waiting.push_back(std::move(check));
            if (!queue.checking)
                run_next_login(*s, peer);
        }};
}

}  // namespace deskpod::http_internal
