// A per-address slow-down of repeated authentication failures, for RDP logons and the web login.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace deskpod {

// Remembers recent authentication failures per peer address. New connections from an
// address with failures wait 1 s, 2 s, 4 s ... (at most 30 s) before their handshake starts.
class AuthThrottle {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr size_t kMaxAddresses = 4096;
    static constexpr std::chrono::seconds kMaxDelay{30};
    static constexpr std::chrono::minutes kForgetAfter{15};

    std::chrono::milliseconds delay_for(const std::string& address, Clock::time_point now) const;
    void record_failure(const std::string& address, Clock::time_point now);
    void record_success(const std::string& address);
    size_t size() const { return failures_.size(); }

  private:
    struct Entry {
        unsigned count = 0;
        Clock::time_point last;
    };
    void evict(Clock::time_point now);
    std::unordered_map<std::string, Entry> failures_;
};

}  // namespace deskpod
