// The security handshake (TLS, NLA) on its own thread, its deadline, and the failure throttle.
#include "rdp-bridge/rdp/peer.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <system_error>

#include "rdp-bridge/rdp/peer_context.hpp"
#include "rdp-bridge/rdp/server.hpp"

namespace deskpod {

namespace asio = boost::asio;

namespace {

// A user name from the wire, safe to log: printable ASCII and UTF-8, at most 64 bytes.
std::string printable_user(const std::string& name) {
    std::string out;
    for (const char c : name) {
        if (out.size() >= 64) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        out += u < 0x20 || u == 0x7f || c == '\'' ? '?' : c;
    }
    return out;
}

// Time a client has, once its handshake starts (after any throttle delay), to complete TLS and
// NLA. Real clients need well under a second on a LAN and a few seconds on slow links; a
// client still silent after this holds a handshake slot and a thread for nothing.
constexpr std::chrono::seconds kHandshakeTimeout{15};
// The handshake thread's own wait gives up this much later. Normally the deadline's
// shutdown() wakes it first; this bounds the thread should that ever not happen.
constexpr std::chrono::seconds kHandshakeWaitSlack{5};

}  // namespace

void RdpPeer::begin_handshake() {
    if (!setup()) {
        close(false, "setup failed");
        return;
    }
    state_->handshaking = true;
    handshake_deadline_.expires_after(kHandshakeTimeout);
    handshake_deadline_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        const auto self = weak.lock();
        if (ec || !self || self->phase_ != PeerPhase::handshaking)
            return;
        self->log_.warn("handshake timed out: {} did not complete TLS/NLA within {} s",
                        self->address_, kHandshakeTimeout.count());
        self->cut_handshake();
    });
    try {
        // The thread holds no strong reference: the server keeps the peer until the posted
        // handshake_finished() has joined it, and ~RdpServer joins whatever is left.
        handshake_thread_ = std::thread([this, weak = weak_from_this(), &io = server_.io()] {
            run_handshake();
            asio::post(io, [weak] {
                if (const auto self = weak.lock())
                    self->handshake_finished();
            });
        });
    } catch (const std::system_error& e) {
        state_->handshaking = false;
        handshake_deadline_.cancel();
        log_.error("cannot start a handshake thread for {}: {}", address_, e.what());
        close(false, "no handshake thread");
        return;
    }
    // Only once the thread runs: until then close() must not wait for it to hand the peer back.
    // The thread's hand-over is posted, so it cannot overtake this.
    set_phase(PeerPhase::handshaking);
}

void RdpPeer::run_handshake() {
    const auto give_up = std::chrono::steady_clock::now() + kHandshakeTimeout + kHandshakeWaitSlack;
    for (;;) {
        HANDLE handles[32];
        const DWORD count = peer_->GetEventHandles(peer_, handles, 32);
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            give_up - std::chrono::steady_clock::now());
        if (count == 0 || left.count() <= 0)
            return;
        const DWORD woke = WaitForMultipleObjects(count, handles, FALSE, DWORD(left.count()));
        if (woke == WAIT_TIMEOUT || woke == WAIT_FAILED)
            return;
        if (!handshake_.data_seen) {
            char byte = 0;
            handshake_.data_seen = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
            if (handshake_.data_seen)
                handshake_.request_at = std::chrono::steady_clock::now();
        }
        // Blocks for the whole TLS and NLA exchange once the connection request is in.
        if (!peer_->CheckFileDescriptor(peer_))
            return;
        if (handshake_.logon) {
            handshake_.logon_at = std::chrono::steady_clock::now();
            handshake_.ok = true;
            return;
        }
    }
}

void RdpPeer::handshake_finished() {
    // The thread's last act was posting this: the join returns at once, and it orders
    // everything the thread did to the peer before what this thread does next.
    if (handshake_thread_.joinable())
        handshake_thread_.join();
    handshake_deadline_.cancel();
    state_->handshaking = false;
    const PeerPhase was = phase_;
    set_phase(was == PeerPhase::aborting ? PeerPhase::closing : PeerPhase::handed_over);
    server_.count_handshakes();
    if (was == PeerPhase::aborting) {  // closed (server stopping) while the handshake ran
        teardown(false);
        return;
    }
    // Cut: the deadline may have fired just after the thread finished; the socket is gone.
    // Being cut off by us is not a failed login, so this skips close()'s check for one.
    if (was == PeerPhase::handshake_cut) {
        release(false, "handshake timed out");
        return;
    }
    if (!handshake_.ok) {
        // FreeRDP fails TLS and NLA alike inside one call; what the NTLM check recorded and
        // the socket's state tell what really happened. Only credentials that were checked
        // and found wrong count against the address (a dropped or malformed handshake does
        // not, so it cannot lock the right password out).
        const std::string why = failed_handshake_reason();
        if (failed_handshake_is_wrong_credentials())
            auth_failed(why.c_str());
        release(false, why.c_str());
        return;
    }
    if (handshake_.nla) {
        set_phase(PeerPhase::logged_on);
        server_.throttle().record_success(host());
        log_.info("NLA authenticated user '{}' from {}", handshake_.user, address_);
    }
    note_phase(ConnectPhase::handover);
    if (!watch_events())
        close(false, "cannot watch the connection");
}

void RdpPeer::cut_handshake() {
    if (phase_ != PeerPhase::handshaking)
        return;
    set_phase(PeerPhase::handshake_cut);
    // Wakes the handshake thread wherever it blocks (its wait, a TLS or NLA read) while the
    // fd stays open, so it cannot be reused under FreeRDP.
    ::shutdown(fd_, SHUT_RDWR);
}

void RdpPeer::join_handshake() {
    if (!handshake_thread_.joinable())
        return;
    ::shutdown(fd_, SHUT_RDWR);
    handshake_thread_.join();
}

bool RdpPeer::handle_ntlm_authenticate(const NtlmAuthenticate& message, uint8_t* ntlmv2_key) {
    const Config& config = server_.config();
    NtlmLogonCheck check;
    try {
        check = check_ntlm_logon(message, config.user, server_.password_hash());
    } catch (const std::exception&) {
        // Cannot happen with a working OpenSSL; refusing is the safe answer.
        handshake_.credentials = NtlmVerdict::not_checked;
        return false;
    }
    handshake_.credentials = check.verdict;
    handshake_.user_tried = std::move(check.user);
    if (check.verdict == NtlmVerdict::wrong_user)
        return false;
    std::copy(check.ntlmv2_key.begin(), check.ntlmv2_key.end(), ntlmv2_key);
    return true;
}

void RdpPeer::handle_logon(const std::string& user, bool nla) {
    // With TLS only, the credentials arrive later with the client info (PostConnect).
    handshake_.logon = true;
    handshake_.nla = nla;
    if (nla)
        handshake_.user = user;
}

std::string RdpPeer::host() const {
    // Failures are counted per host, whatever source port the next attempt uses.
    const size_t colon = address_.rfind(':');
    return colon == std::string::npos ? address_ : address_.substr(0, colon);
}

bool RdpPeer::failed_handshake_is_wrong_credentials() const {
    switch (handshake_.credentials) {
        case NtlmVerdict::wrong_user:
        case NtlmVerdict::wrong_password:
            return true;
        case NtlmVerdict::unverified:  // no MIC to tell: refused by FreeRDP, so assume wrong
            return !handshake_.logon;
        case NtlmVerdict::not_checked:
        case NtlmVerdict::right:
            return false;
    }
    return false;
}

std::string RdpPeer::failed_handshake_reason() const {
    const std::string user = printable_user(handshake_.user_tried);
    switch (handshake_.credentials) {
        case NtlmVerdict::wrong_user:
            return "NLA authentication failed: unknown user '" + user + "'";
        case NtlmVerdict::wrong_password:
            return "NLA authentication failed: wrong password for user '" + user + "'";
        case NtlmVerdict::unverified:
            return "NLA authentication failed for user '" + user + "' (client sent no MIC)";
        case NtlmVerdict::right:
            return "right credentials for '" + user +
                   "', but the client left before the logon completed";
        case NtlmVerdict::not_checked:
            break;
    }
    if (!handshake_.data_seen)
        return "closed by the client before it sent anything";
    // A client that went away leaves an end of stream (or a reset) behind; anything else
    // means FreeRDP gave up on what the client sent.
    char byte = 0;
    const ssize_t n = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno == ECONNRESET))
        return "closed by the client during the TLS/NLA handshake";
    return "handshake failed: the client's TLS/NLA data was malformed or not accepted";
}

void RdpPeer::auth_failed(const char* why) {
    metrics().auth_failures[Protocol::rdp].add();
    server_.throttle().record_failure(host(), AuthThrottle::Clock::now());
    log_.warn("authentication failed from {}: {}", address_, why);
}

}  // namespace deskpod
