// What the per-source connection limits of every listener share (RDP handshakes, HTTP
// connections): who counts as one source, and a refusal log that a flood cannot flood.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "rdp-bridge/asio.hpp"
#include "shared/log.hpp"

namespace deskpod {

// The source a per-source limit counts: an IPv4 address (also when it arrives IPv4-mapped on
// an IPv6 listener), or the /64 network of an IPv6 address, since one IPv6 host usually has a
// whole /64 to pick addresses from.
std::string source_of(const boost::asio::ip::address& address);

// Logs refusals at warn level at most once per `interval`; the ones in between are counted in
// the next line ("N more refused in the last S s without a log line").
class RefusalLog {
  public:
    RefusalLog(const log::Logger& logger, std::chrono::seconds interval)
        : logger_(logger), interval_(interval) {}

    void refused(const std::string& who, const std::string& why,
                 std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  private:
    const log::Logger& logger_;
    const std::chrono::seconds interval_;
    std::chrono::steady_clock::time_point last_logged_{};
    uint64_t not_logged_ = 0;
};

}  // namespace deskpod
