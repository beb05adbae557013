#include "rdp-bridge/http/login.hpp"

#include <openssl/rand.h>

#include <stdexcept>

#include <fmt/format.h>

namespace deskpod::web {

std::string LoginTokens::create(Clock::time_point now) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        throw std::runtime_error("RAND_bytes failed");
    std::string token;
    for (unsigned char b : bytes)
        token += fmt::format("{:02x}", b);
    // Expired sessions go first; then, if still full, the one closest to expiry.
    for (auto it = tokens_.begin(); it != tokens_.end();)
        it = it->second <= now ? tokens_.erase(it) : std::next(it);
    while (tokens_.size() >= kMaxTokens) {
        auto oldest = tokens_.begin();
        for (auto it = tokens_.begin(); it != tokens_.end(); ++it)
            if (it->second < oldest->second)
                oldest = it;
        tokens_.erase(oldest);
    }
    tokens_.emplace(token, now + kLifetime);
    return token;
}

bool LoginTokens::valid(std::string_view token, Clock::time_point now) const {
    const auto it = tokens_.find(token);
    return it != tokens_.end() && it->second > now;
}

void LoginTokens::remove(std::string_view token) {
    const auto it = tokens_.find(token);
    if (it != tokens_.end())
        tokens_.erase(it);
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        const size_t end = header.find(';');
        std::string_view pair = header.substr(0, end);
        header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
        while (!pair.empty() && pair.front() == ' ')
            pair.remove_prefix(1);
        const size_t eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name)
            return std::string(pair.substr(eq + 1));
    }
    return std::nullopt;
}

std::string url_decode(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            auto hex = [](char h) -> int {
                if (h >= '0' && h <= '9')
                    return h - '0';
                if (h >= 'a' && h <= 'f')
                    return h - 'a' + 10;
                if (h >= 'A' && h <= 'F')
                    return h - 'A' + 10;
                return -1;
            };
            const int hi = i + 1 < text.size() ? hex(text[i + 1]) : -1;
            const int lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                out += c;
                continue;
            }
            out += char(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> form_field(std::string_view body, std::string_view name) {
    while (!body.empty()) {
        const size_t end = body.find('&');
        const std::string_view pair = body.substr(0, end);
        body = end == std::string_view::npos ? std::string_view{} : body.substr(end + 1);
        const size_t eq = pair.find('=');
        const std::string key = url_decode(pair.substr(0, eq));
        if (key == name)
            return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
    }
    return std::nullopt;
}

std::string session_cookie(std::string_view token) {
    // No Secure attribute: the built-in server speaks plain HTTP (TLS is the ingress's job),
    // and browsers drop Secure cookies over http://.
    if (token.empty())
        return fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", kCookieName);
    return fmt::format(
        "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", kCookieName, token,
        std::chrono::duration_cast<std::chrono::seconds>(LoginTokens::kLifetime).count());
}

}  // namespace deskpod::web
