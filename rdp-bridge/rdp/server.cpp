#include "rdp-bridge/rdp/server.hpp"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "rdp-bridge/auth/source_limits.hpp"
#include "rdp-bridge/rdp/keyboard_layouts.hpp"
#include "rdp-bridge/rdp/ntlm.hpp"
#include "rdp-bridge/rdp/peer.hpp"
#include "shared/metrics.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <freerdp/primitives.h>
#pragma GCC diagnostic pop

namespace deskpod {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
// How long the first client waits for the compositor to adopt its size before it is served
// the desktop as it is.
constexpr std::chrono::seconds kResizeTimeout{3};
// Connections not yet past TLS/NLA (including those waiting out a throttle delay). Each may
// hold a thread for up to the handshake deadline, so their number is bounded; sessions
// already established are not affected by the bound.
constexpr size_t kMaxHandshakes = 16;
// ... and at most this many of them from one source (an IPv4 address, or an IPv6 /64), so
// that one source cannot take every slot and keep everybody else from logging in. A client
// needs one slot, for well under a second; a few more cover several people behind one NAT
// or gateway connecting at the same moment (they are refused, and retry, beyond this).
constexpr size_t kMaxHandshakesPerSource = 4;
// Refusals are logged at most once per this interval; the ones in between are counted in the
// next line (and each one in deskpod_rdp_handshakes_refused_total), so a flood of connections
// cannot flood the log.
constexpr std::chrono::seconds kRefusalLogInterval{1};

}  // namespace

RdpServer::RdpServer(asio::io_context& io, const Config& config, Channels& channels,
                     DesktopMirror& desktop, ClipboardBroker& clipboard)
    : io_(io),
      config_(config),
      channels_(channels),
      desktop_(desktop),
      clipboard_(clipboard),
      acceptor_(io),
      refusal_log_(log_, kRefusalLogInterval),
      size_timeout_(io) {}

RdpServer::~RdpServer() {
    // The network thread has stopped; handshake threads may still be blocked on a client.
    for (auto& [id, peer] : peers_)
        peer->join_handshake();
}

void RdpServer::listen() {
    // On first use FreeRDP picks its pixel routines (colour conversion, wavelet) by running each
    // candidate set for 150 ms: generic, CPU-optimised and OpenCL. That took 330 ms here, paid
    // inside the first client's first RemoteFX encode. Without a GPU (deskpod has none) the
    // choice is between the first two, and the CPU-optimised set won (about 2x the generic
    // rate on the benchmark machine), so ask for it directly (docs/performance.md).
    primitives_set_hints(PRIMITIVES_ONLY_CPU);
    const std::string where = config_.rdp.to_string();
    try {
        if (config_.rdp_security == RdpSecurity::nla)
            password_hash_ = nt_hash(config_.password);
        // Earlier builds kept the NT hash in a file for FreeRDP; it is checked from memory
        // now (rdp/ntlm.hpp), and a password equivalent must not linger on disk.
        const std::string old_sam = config_.state_dir + "/rdp-ntlm.sam";
        if (::unlink(old_sam.c_str()) == 0)
            log_.info("removed {} (the NT hash is no longer written to disk)", old_sam);
        const auto address = asio::ip::make_address(config_.rdp.host);
        const tcp::endpoint endpoint(address, config_.rdp.port);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen();
    } catch (const std::exception& e) {
        throw std::runtime_error("--rdp " + where + ": cannot listen: " + e.what());
    }
    log_.info("RDP listening on {} (security {})", where,
              config_.rdp_security == RdpSecurity::nla ? "NLA" : "TLS");
}

void RdpServer::start() {
    accept();
}

void RdpServer::accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || stopping_)
            return;
        if (!ec)
            admit(std::move(socket));
        else
            log_.warn("accept failed: {}", ec.message());
        accept();
    });
}

void RdpServer::admit(tcp::socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string address = ec ? "unknown" : remote.address().to_string();
    const std::string full = ec ? address : address + ":" + std::to_string(remote.port());
    const std::string source = ec ? address : source_of(remote.address());
    size_t handshaking = 0, from_source = 0;
    for (const auto& [id, peer] : peers_) {
        if (!peer->in_handshake())
            continue;
        ++handshaking;
        const auto it = sources_.find(id);
        if (it != sources_.end() && it->second == source)
            ++from_source;
    }
    if (handshaking >= kMaxHandshakes) {
        refuse(HandshakeLimit::total, full,
               fmt::format("{} connections are already in their handshake", handshaking));
        return;  // the socket closes here
    }
    if (from_source >= kMaxHandshakesPerSource) {
        refuse(HandshakeLimit::per_address, full,
               fmt::format("{} connections from {} are already in their handshake (limit {} per "
                           "address)",
                           from_source, source, kMaxHandshakesPerSource));
        return;
    }
    const int id = next_id_++;
    try {
        auto peer = std::make_shared<RdpPeer>(*this, id, socket.release(), full);
        peers_[id] = peer;
        sources_[id] = source;
        peer->start(throttle_.delay_for(address, AuthThrottle::Clock::now()));
    } catch (const std::exception& e) {
        log_.error("cannot serve {}: {}", full, e.what());
        peers_.erase(id);
        sources_.erase(id);
    }
    count_handshakes();
}

void RdpServer::refuse(HandshakeLimit limit, const std::string& who, const std::string& why) {
    metrics().rdp_handshakes_refused[size_t(limit)].add();
    refusal_log_.refused(who, why);
}

void RdpServer::count_handshakes() {
    const auto handshaking = std::count_if(peers_.begin(), peers_.end(),
                                           [](const auto& e) { return e.second->in_handshake(); });
    metrics().rdp_handshakes.set(int64_t(handshaking));
}

bool RdpServer::other_session(const RdpPeer* self) const {
    for (const auto& [id, peer] : peers_) {
        if (peer.get() != self && peer->is_seated())
            return true;
    }
    return false;
}

void RdpServer::request_desktop_size(int32_t width, int32_t height, const MonitorLayout& monitors) {
    log_.info("first client asks for {}x{}{}; resizing the desktop", width, height,
              monitors.size() > 1 || (!monitors.empty() && monitors[0].scale != 1.0)
                  ? " (" + describe_layout(monitors) + ")"
                  : std::string());
    ResizeRequest request(width, height);
    request.monitors = monitors;
    if (!channels_.to_compositor.try_push(std::move(request))) {
        metrics().input_dropped.add();
        desktop_size_settled();
        return;
    }
    size_pending_ = true;
    size_timeout_.expires_after(kResizeTimeout);
    size_timeout_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !size_pending_)
            return;
        log_.warn("the compositor did not answer the resize request; serving {}x{}",
                  desktop_.width(), desktop_.height());
        desktop_size_settled();
    });
}

void RdpServer::desktop_size_settled() {
    size_pending_ = false;
    size_timeout_.cancel();
    // Copy: a peer may close (and be removed) while it reacts.
    auto peers = peers_;
    for (auto& [id, peer] : peers)
        peer->desktop_size_settled();
}

void RdpServer::remove(int id) {
    peers_.erase(id);
    sources_.erase(id);
    count_handshakes();
}

void RdpServer::use_keyboard_layout(const KeyboardLayout* layout) {
    if (!layout || layout == active_layout_)
        return;
    if (!channels_.to_compositor.try_push(
            KeymapRequest{std::string(layout->layout), std::string(layout->variant)})) {
        metrics().input_dropped.add();
        return;  // tried again with the next key
    }
    log_.info("keymap now {} (xkb {}{}{})", layout->name, layout->layout,
              layout->variant.empty() ? "" : ":", layout->variant);
    active_layout_ = layout;
}

void RdpServer::stop() {
    stopping_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    size_timeout_.cancel();
    auto peers = peers_;
    for (auto& [id, peer] : peers)
        peer->close(true, "server shutting down");
}

}  // namespace deskpod
