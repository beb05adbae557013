#include "rdp-bridge/auth/throttle.hpp"

#include <algorithm>

namespace deskpod {

std::chrono::milliseconds AuthThrottle::delay_for(const std::string& address,
                                                  Clock::time_point now) const {
    const auto it = failures_.find(address);
    if (it == failures_.end() || it->second.count == 0)
        return std::chrono::milliseconds(0);
    if (now - it->second.last > kForgetAfter)
        return std::chrono::milliseconds(0);
    const unsigned shift = std::min(it->second.count - 1, 5u);
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(1u << shift), kMaxDelay);
}

void AuthThrottle::record_failure(const std::string& address, Clock::time_point now) {
    if (failures_.size() >= kMaxAddresses && !failures_.count(address))
        evict(now);
    Entry& e = failures_[address];
    if (now - e.last > kForgetAfter)
        e.count = 0;
    e.count = std::min(e.count + 1, 16u);
    e.last = now;
}

void AuthThrottle::record_success(const std::string& address) {
    failures_.erase(address);
}

void AuthThrottle::evict(Clock::time_point now) {
    for (auto it = failures_.begin(); it != failures_.end();) {
        it = now - it->second.last > kForgetAfter ? failures_.erase(it) : std::next(it);
    }
    if (failures_.size() < kMaxAddresses)
        return;
    // Still full of recent failures: forget the stalest one to keep the table bounded.
    auto oldest = std::min_element(
        failures_.begin(), failures_.end(),
        [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
    failures_.erase(oldest);
}

}  // namespace deskpod
