// The built-in web client's login: the same user and password as RDP, answered with a session
// cookie (HttpOnly, SameSite=Strict) that the WebSocket tunnel requires. Failures from one
// address are slowed down exactly like RDP logons (AuthThrottle). Network thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "rdp-bridge/auth/throttle.hpp"
#include "shared/config.hpp"

namespace deskpod::web {

inline constexpr std::string_view kCookieName = "deskpod_session";

class LoginTokens {
  public:
    using Clock = std::chrono::steady_clock;
    // A working day; the tunnel checks the cookie only when it opens.
    static constexpr std::chrono::hours kLifetime{12};
    static constexpr size_t kMaxTokens = 256;

    // A new random token (256 bits, hex).
    std::string create(Clock::time_point now = Clock::now());
    bool valid(std::string_view token, Clock::time_point now = Clock::now()) const;
    void remove(std::string_view token);
    size_t size() const { return tokens_.size(); }

  private:
    std::map<std::string, Clock::time_point, std::less<>> tokens_;  // token -> expiry
};

// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);
// Decodes an application/x-www-form-urlencoded field (nullopt when absent).
std::optional<std::string> form_field(std::string_view body, std::string_view name);
// Decodes %XX and '+' in a query or form component.
std::string url_decode(std::string_view text);

// The Set-Cookie header value for a session token ("" clears the cookie).
std::string session_cookie(std::string_view token);

}  // namespace deskpod::web
