#include "rdp-bridge/auth/credentials.hpp"

#include <algorithm>

namespace deskpod {

namespace {
bool equal_constant_time(const std::string& a, const std::string& b, bool fold_case) {
    unsigned diff = unsigned(a.size() ^ b.size());
    const size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? a[i] : 0;
        unsigned char y = i < b.size() ? b[i] : 0;
        if (fold_case) {
            if (x >= 'A' && x <= 'Z')
                x = x - 'A' + 'a';
            if (y >= 'A' && y <= 'Z')
                y = y - 'A' + 'a';
        }
        diff |= unsigned(x ^ y);
    }
    return diff == 0;
}
}  // namespace

bool credentials_match(const Config& config, const std::string& user, const std::string& password) {
    const bool user_ok = equal_constant_time(user, config.user, true);
    const bool password_ok = equal_constant_time(password, config.password, false);
    return user_ok && password_ok && !config.password.empty();
}

}  // namespace deskpod
