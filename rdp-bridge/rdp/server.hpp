// The RDP listener and the set of connected RDP peers. Network thread only, except
// listen(), which runs on the caller's thread before the network thread starts.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "rdp-bridge/asio.hpp"
#include "rdp-bridge/auth/source_limits.hpp"
#include "rdp-bridge/auth/throttle.hpp"
#include "rdp-bridge/rdp/ntlm.hpp"
#include "rdp-bridge/desktop_mirror.hpp"
#include "shared/channels.hpp"
#include "shared/config.hpp"
#include "shared/log.hpp"
#include "shared/metrics.hpp"

namespace deskpod {

class ClipboardBroker;
class RdpPeer;
struct KeyboardLayout;

class RdpServer {
  public:
    RdpServer(boost::asio::io_context& io, const Config& config, Channels& channels,
              DesktopMirror& desktop, ClipboardBroker& clipboard);
    ~RdpServer();
    RdpServer(const RdpServer&) = delete;
    RdpServer& operator=(const RdpServer&) = delete;

    // Binds config.rdp and prepares the NTLM SAM file. Throws std::runtime_error naming --rdp.
    void listen();
    void start();
    // Disconnects every peer and closes the listener.
    void stop();
    bool listening() const { return acceptor_.is_open(); }

    // A DesktopSizeEvent arrived (after DesktopMirror::resize): peers waiting for the first
    // client's size may start.
    void desktop_size_settled();

    // ---- for RdpPeer ----
    boost::asio::io_context& io() { return io_; }
    const Config& config() const { return config_; }
    Channels& channels() { return channels_; }
    DesktopMirror& desktop() { return desktop_; }
    ClipboardBroker& clipboard() { return clipboard_; }
    AuthThrottle& throttle() { return throttle_; }
    // The NT hash of --password, which NLA logons are checked against (NLA only).
    const NtHash& password_hash() const { return password_hash_; }
    // True while a peer other than `self` has a session (is past logon and not refused).
    bool other_session(const RdpPeer* self) const;
    // Asks the compositor for the first client's size; `self` waits for the answer.
    // `monitors` empty: one monitor of width x height.
    void request_desktop_size(int32_t width, int32_t height, const MonitorLayout& monitors = {});
    bool desktop_size_pending() const { return size_pending_; }
    void remove(int id);
    // Updates deskpod_rdp_handshakes; a peer calls it when it leaves its handshake.
    void count_handshakes();
    // The desktop has one keymap: it follows the RDP client that typed last (or connected
    // last, until somebody types). Sends a KeymapRequest when `layout` is not the active one.
    void use_keyboard_layout(const KeyboardLayout* layout);

  private:
    void accept();
    void admit(boost::asio::ip::tcp::socket socket);
    // Counts a connection refused at accept and logs it (rate-limited).
    void refuse(HandshakeLimit limit, const std::string& who, const std::string& why);

    boost::asio::io_context& io_;
    const Config& config_;
    Channels& channels_;
    DesktopMirror& desktop_;
    ClipboardBroker& clipboard_;
    log::Logger log_{"rdp"};
    boost::asio::ip::tcp::acceptor acceptor_;
    AuthThrottle throttle_;
    NtHash password_hash_{};  // set once in listen(), before any handshake thread starts
    std::map<int, std::shared_ptr<RdpPeer>> peers_;
    // Each peer's source for the per-source handshake limit (address, or IPv6 /64).
    std::map<int, std::string> sources_;
    RefusalLog refusal_log_;
    int next_id_ = 1;
    bool size_pending_ = false;
    boost::asio::steady_timer size_timeout_;
    bool stopping_ = false;
    const KeyboardLayout* active_layout_ = nullptr;
};

}  // namespace deskpod
