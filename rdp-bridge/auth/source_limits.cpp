#include "rdp-bridge/auth/source_limits.hpp"

#include <algorithm>

namespace deskpod {

namespace asio = boost::asio;

std::string source_of(const asio::ip::address& address) {
    if (!address.is_v6())
        return address.to_string();
    const auto v6 = address.to_v6();
    if (v6.is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return asio::ip::address_v6(bytes).to_string() + "/64";
}

void RefusalLog::refused(const std::string& who, const std::string& why,
                         std::chrono::steady_clock::time_point now) {
    if (last_logged_ != std::chrono::steady_clock::time_point{} && now - last_logged_ < interval_) {
        ++not_logged_;
        return;
    }
    if (not_logged_ > 0) {
        const auto since = std::chrono::duration_cast<std::chrono::seconds>(now - last_logged_);
        logger_.warn("refusing {}: {} ({} more refused in the last {} s without a log line)", who,
                     why, not_logged_, since.count());
    } else {
        logger_.warn("refusing {}: {}", who, why);
    }
    last_logged_ = now;
    not_logged_ = 0;
}

}  // namespace deskpod
