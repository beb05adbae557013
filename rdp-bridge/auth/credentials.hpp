// RDP authentication: the NTLM SAM file NLA checks against, the logon-info check used with
// --rdp-security tls, and a per-address slow-down of repeated failures.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

#include "shared/config.hpp"

namespace deskpod {

// Writes `user::<LM>:<NT>:::` (WinPR's SAM format; empty domain matches any domain) into
// state_dir, mode 0600, and returns its path. Throws std::runtime_error on I/O failure.
std::string write_ntlm_sam_file(const Config& config);

// Lowercase hex NT hash (MD4 of the UTF-16LE password), as the SAM file stores it.
std::string nt_hash_hex(const std::string& password);

// Constant-time comparison of the logon credentials with the configured ones. The user
// name is compared case-insensitively, as Windows does.
bool credentials_match(const Config& config, const std::string& user, const std::string& password);

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
