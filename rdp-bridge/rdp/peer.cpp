#include "rdp-bridge/rdp/peer.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <system_error>

#include "rdp-bridge/clipboard/broker.hpp"
#include "rdp-bridge/rdp/cliprdr.hpp"
#include "rdp-bridge/rdp/disp.hpp"
#include "rdp-bridge/rdp/encoder.hpp"
#include "rdp-bridge/rdp/freerdp.hpp"
#include "rdp-bridge/rdp/keyboard_layouts.hpp"
#include "rdp-bridge/rdp/pointer.hpp"
#include "rdp-bridge/rdp/server.hpp"
#include "shared/metrics.hpp"

namespace deskpod {

namespace asio = boost::asio;

// C++ state of one peer that FreeRDP's calloc'ed context points to: created in ContextNew,
// destroyed in ContextFree, so it lives exactly as long as the context.
struct PeerState {
    RdpPeer* owner = nullptr;
    HANDLE vcm = nullptr;
    std::unique_ptr<RemoteFxEncoder> rfx;
    std::unique_ptr<NsCodecEncoder> nsc;
    std::unique_ptr<BitmapEncoder> bitmap;
    enum class Codec { remotefx, nscodec, bitmap } codec = Codec::bitmap;
    // True while the handshake thread owns the peer. Set and cleared by the network thread
    // before the thread starts and after it is joined, so both threads may read it.
    bool handshaking = false;
};

namespace {

// At most this many surface frames may wait for the client's acknowledgement.
constexpr uint32_t kMaxFramesInFlight = 2;
// FreeRDP's fastpath needs room for its own headers inside MultifragMaxRequestSize.
constexpr size_t kPduHeadroom = 2048;
// Time a client has, once its handshake starts (after any throttle delay), to complete TLS and
// NLA. Real clients need well under a second on a LAN and a few seconds on slow links; a
// client still silent after this holds a handshake slot and a thread for nothing.
constexpr std::chrono::seconds kHandshakeTimeout{15};
// The handshake thread's own wait gives up this much later. Normally the deadline's
// shutdown() wakes it first; this bounds the thread should that ever not happen.
constexpr std::chrono::seconds kHandshakeWaitSlack{5};

struct PeerContext {
    rdpContext base;
    PeerState* state;
};

PeerState* state_of(rdpContext* context) {
    return context ? reinterpret_cast<PeerContext*>(context)->state : nullptr;
}
RdpPeer* owner_of(rdpContext* context) {
    PeerState* state = state_of(context);
    // A client may pipeline PDUs past the security exchange; FreeRDP then processes them on
    // the handshake thread, which must not reach network-thread state. Without an owner,
    // PostConnect and Activate fail (the connection ends) and input is dropped.
    return state && !state->handshaking ? state->owner : nullptr;
}
RdpPeer* owner_of(freerdp_peer* peer) { return owner_of(peer->context); }

// OpenSSL's error queue is per thread, and SSL_get_error() reports any queued entry as a
// fatal error of the current call. FreeRDP 2 never clears the queue, so one peer's failure
// (e.g. SSL_shutdown of a handshake cut off mid-TLS) would make the next would-block read
// of any other peer on this thread look fatal. Called before driving a peer's TLS.
void clear_tls_errors() { ERR_clear_error(); }

BOOL context_new(freerdp_peer*, rdpContext* context) {
    auto* ctx = reinterpret_cast<PeerContext*>(context);
    try {
        ctx->state = new PeerState();
    } catch (...) {
        return FALSE;
    }
    ctx->state->vcm = WTSOpenServerA(reinterpret_cast<LPSTR>(context));
    if (!ctx->state->vcm || ctx->state->vcm == INVALID_HANDLE_VALUE) {
        delete ctx->state;
        ctx->state = nullptr;
        return FALSE;
    }
    return TRUE;
}

void context_free(freerdp_peer*, rdpContext* context) {
    auto* ctx = reinterpret_cast<PeerContext*>(context);
    if (!ctx->state) return;
    if (ctx->state->vcm) WTSCloseServer(ctx->state->vcm);
    delete ctx->state;
    ctx->state = nullptr;
}

std::string utf8_of(const SEC_WINNT_AUTH_IDENTITY* identity, const void* field, UINT32 length) {
    if (!field || length == 0) return {};
    if (identity->Flags & SEC_WINNT_AUTH_IDENTITY_UNICODE) {
        char* utf8 = nullptr;
        const int n = ConvertFromUnicode(CP_UTF8, 0, static_cast<const WCHAR*>(field), int(length),
                                         &utf8, 0, nullptr, nullptr);
        std::string out = n > 0 && utf8 ? std::string(utf8, strnlen(utf8, size_t(n))) : "";
        free(utf8);
        return out;
    }
    return std::string(static_cast<const char*>(field), length);
}

// Fires on the handshake thread, once the security layer is up (FreeRDP ignores the result).
BOOL on_logon(freerdp_peer* peer, SEC_WINNT_AUTH_IDENTITY* identity, BOOL automatic) {
    PeerState* state = state_of(peer->context);
    if (!state || !state->handshaking || !identity) return FALSE;
    state->owner->handle_logon(utf8_of(identity, identity->User, identity->UserLength),
                               automatic != FALSE);
    return TRUE;
}
BOOL on_capabilities(freerdp_peer* peer) {
    if (RdpPeer* self = owner_of(peer)) {
        self->note_phase(ConnectPhase::capabilities);
        self->handle_capabilities();
    }
    return TRUE;
}
BOOL on_post_connect(freerdp_peer* peer) {
    RdpPeer* self = owner_of(peer);
    return self && self->handle_post_connect() ? TRUE : FALSE;
}
BOOL on_activate(freerdp_peer* peer) {
    RdpPeer* self = owner_of(peer);
    if (self) self->note_phase(ConnectPhase::activation);
    return self && self->handle_activate() ? TRUE : FALSE;
}
BOOL on_frame_ack(rdpContext* context, UINT32 frame_id) {
    if (RdpPeer* self = owner_of(context)) self->handle_frame_ack(frame_id);
    return TRUE;
}
BOOL on_refresh_rect(rdpContext* context, BYTE count, const RECTANGLE_16* areas) {
    RdpPeer* self = owner_of(context);
    if (!self) return FALSE;
    std::vector<Rect> rects;
    for (BYTE i = 0; areas && i < count; ++i) {
        rects.push_back(Rect{areas[i].left, areas[i].top, areas[i].right - areas[i].left,
                             areas[i].bottom - areas[i].top});
    }
    self->handle_refresh(rects);
    return TRUE;
}
BOOL on_suppress_output(rdpContext* context, BYTE allow, const RECTANGLE_16*) {
    if (RdpPeer* self = owner_of(context)) self->handle_suppress_output(allow != 0);
    return TRUE;
}
BOOL on_keyboard(rdpInput* input, UINT16 flags, UINT16 code) {
    if (RdpPeer* self = owner_of(input->context)) {
        self->before_key();
        self->input().keyboard(flags, code);
    }
    return TRUE;
}
BOOL on_unicode(rdpInput* input, UINT16 flags, UINT16 code) {
    if (RdpPeer* self = owner_of(input->context)) self->input().unicode(flags, code);
    return TRUE;
}
BOOL on_synchronize(rdpInput* input, UINT32 flags) {
    if (RdpPeer* self = owner_of(input->context)) self->input().synchronize(flags);
    return TRUE;
}
}  // namespace

// Mouse callbacks need the desktop size, so they live where RdpPeer's privates are visible.
struct RdpPeerMouse {
    static BOOL on_mouse(rdpInput* input, UINT16 flags, UINT16 x, UINT16 y) {
        if (RdpPeer* self = owner_of(input->context)) {
            const DesktopMirror& d = self->server_.desktop();
            self->input_.mouse(flags, x, y, d.width(), d.height());
        }
        return TRUE;
    }
    static BOOL on_extended_mouse(rdpInput* input, UINT16 flags, UINT16 x, UINT16 y) {
        if (RdpPeer* self = owner_of(input->context)) {
            const DesktopMirror& d = self->server_.desktop();
            self->input_.extended_mouse(flags, x, y, d.width(), d.height());
        }
        return TRUE;
    }
};

RdpPeer::RdpPeer(RdpServer& server, int id, int fd, std::string address)
    : server_(server), id_(id), fd_(fd), address_(std::move(address)),
      log_("rdp", "rdp#" + std::to_string(id)), delay_timer_(server.io()),
      handshake_deadline_(server.io()), input_(server.channels().to_compositor) {
    connect_.accepted = std::chrono::steady_clock::now();
    peer_ = freerdp_peer_new(fd);
    if (!peer_) {
        ::close(fd);
        throw std::runtime_error("freerdp_peer_new failed");
    }
}

RdpPeer::~RdpPeer() {
    join_handshake();
    watchers_.clear();
    socket_watch_.reset();
    if (peer_) {
        if (peer_->context) freerdp_peer_context_free(peer_);
        freerdp_peer_free(peer_);
    }
}

void RdpPeer::start(std::chrono::milliseconds delay) {
    log_.info("connection from {}", address_);
    if (delay.count() == 0) {
        begin_handshake();
        return;
    }
    log_.warn("{} failed to authenticate recently; handshake delayed {} ms", address_,
              delay.count());
    delay_timer_.expires_after(delay);
    delay_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->closed_) return;
        self->begin_handshake();
    });
}

void RdpPeer::begin_handshake() {
    if (!setup()) {
        close(false, "setup failed");
        return;
    }
    state_->handshaking = true;
    handshake_running_ = true;
    handshake_deadline_.expires_after(kHandshakeTimeout);
    handshake_deadline_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        const auto self = weak.lock();
        if (ec || !self || !self->handshake_running_ || self->handshake_cut_) return;
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
                if (const auto self = weak.lock()) self->handshake_finished();
            });
        });
    } catch (const std::system_error& e) {
        state_->handshaking = false;
        handshake_running_ = false;
        handshake_deadline_.cancel();
        log_.error("cannot start a handshake thread for {}: {}", address_, e.what());
        close(false, "no handshake thread");
    }
}

void RdpPeer::run_handshake() {
    const auto give_up =
        std::chrono::steady_clock::now() + kHandshakeTimeout + kHandshakeWaitSlack;
    for (;;) {
        HANDLE handles[32];
        const DWORD count = peer_->GetEventHandles(peer_, handles, 32);
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            give_up - std::chrono::steady_clock::now());
        if (count == 0 || left.count() <= 0) return;
        const DWORD woke = WaitForMultipleObjects(count, handles, FALSE, DWORD(left.count()));
        if (woke == WAIT_TIMEOUT || woke == WAIT_FAILED) return;
        if (!handshake_.data_seen) {
            char byte = 0;
            handshake_.data_seen = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
            if (handshake_.data_seen) handshake_.request_at = std::chrono::steady_clock::now();
        }
        // Blocks for the whole TLS and NLA exchange once the connection request is in.
        if (!peer_->CheckFileDescriptor(peer_)) return;
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
    if (handshake_thread_.joinable()) handshake_thread_.join();
    handshake_running_ = false;
    handshake_deadline_.cancel();
    state_->handshaking = false;
    handed_over_ = true;
    server_.count_handshakes();
    if (closed_) {  // closed (server stopping) while the handshake ran
        teardown(false);
        return;
    }
    // Cut: the deadline may have fired just after the thread finished; the socket is gone.
    if (!handshake_.ok || handshake_cut_) {
        close(false, handshake_cut_ ? "handshake timed out"
                                    : "handshake failed or connection closed by the client");
        return;
    }
    if (handshake_.nla) {
        logged_on_ = true;
        server_.throttle().record_success(host());
        log_.info("NLA authenticated user '{}' from {}", handshake_.user, address_);
    }
    note_phase(ConnectPhase::handover);
    if (!watch_events()) close(false, "cannot watch the connection");
}

namespace {
double seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double>(d).count();
}
void observe(ConnectPhase phase, std::chrono::steady_clock::duration d) {
    metrics().rdp_connect_phase_seconds[size_t(phase)].observe(seconds(d));
}
}  // namespace

void RdpPeer::note_phase(ConnectPhase phase) {
    const auto now = std::chrono::steady_clock::now();
    switch (phase) {
        case ConnectPhase::handover:
            // request and security come from the handshake thread, recorded now it is joined.
            if (handshake_.request_at == std::chrono::steady_clock::time_point{}) return;
            observe(ConnectPhase::request, handshake_.request_at - connect_.accepted);
            observe(ConnectPhase::security, handshake_.logon_at - handshake_.request_at);
            observe(ConnectPhase::handover, now - handshake_.logon_at);
            connect_.handed_over = now;
            break;
        case ConnectPhase::capabilities:
            // Also called again on a reactivation; only the first connection sequence counts.
            if (connect_.capabilities != std::chrono::steady_clock::time_point{}) return;
            connect_.capabilities = now;
            observe(phase, now - connect_.handed_over);
            break;
        case ConnectPhase::activation:
            if (connect_.activated != std::chrono::steady_clock::time_point{}) return;
            connect_.activated = now;
            observe(phase, now - connect_.capabilities);
            break;
        default:
            break;
    }
}

void RdpPeer::note_first_frame(std::chrono::steady_clock::duration encode) {
    if (connect_.first_frame_sent || connect_.activated == std::chrono::steady_clock::time_point{})
        return;
    connect_.first_frame_sent = true;
    const auto now = std::chrono::steady_clock::now();
    observe(ConnectPhase::first_frame, now - connect_.activated);
    observe(ConnectPhase::total, now - connect_.accepted);
    const auto ms = [](std::chrono::steady_clock::duration d) { return seconds(d) * 1000; };
    log_.info("first frame {:.0f} ms after accept: connection request {:.0f} ms, TLS+NLA {:.0f} "
              "ms, hand-over {:.1f} ms, capabilities {:.0f} ms, activation {:.0f} ms, first "
              "frame {:.0f} ms (encode {:.1f} ms)",
              ms(now - connect_.accepted), ms(handshake_.request_at - connect_.accepted),
              ms(handshake_.logon_at - handshake_.request_at),
              ms(connect_.handed_over - handshake_.logon_at),
              ms(connect_.capabilities - connect_.handed_over),
              ms(connect_.activated - connect_.capabilities), ms(now - connect_.activated),
              ms(encode));
}

void RdpPeer::cut_handshake() {
    if (handshake_cut_) return;
    handshake_cut_ = true;
    // Wakes the handshake thread wherever it blocks (its wait, a TLS or NLA read) while the
    // fd stays open, so it cannot be reused under FreeRDP.
    ::shutdown(fd_, SHUT_RDWR);
}

void RdpPeer::join_handshake() {
    if (!handshake_thread_.joinable()) return;
    ::shutdown(fd_, SHUT_RDWR);
    handshake_thread_.join();
}

bool RdpPeer::setup() {
    peer_->ContextSize = sizeof(PeerContext);
    peer_->ContextNew = context_new;
    peer_->ContextFree = context_free;
    if (!freerdp_peer_context_new(peer_)) return false;
    state_ = state_of(peer_->context);
    state_->owner = this;

    const Config& config = server_.config();
    rdpSettings* s = peer_->settings;
    const bool nla = config.rdp_security == RdpSecurity::nla;
    bool ok = freerdp_settings_set_string(s, FreeRDP_CertificateFile, config.tls_cert.c_str()) &&
              freerdp_settings_set_string(s, FreeRDP_PrivateKeyFile, config.tls_key.c_str()) &&
              freerdp_settings_set_bool(s, FreeRDP_RdpSecurity, FALSE) &&
              freerdp_settings_set_bool(s, FreeRDP_TlsSecurity, TRUE) &&
              freerdp_settings_set_bool(s, FreeRDP_NlaSecurity, nla ? TRUE : FALSE);
    if (nla) ok = ok && freerdp_settings_set_string(s, FreeRDP_NtlmSamFile, server_.sam_file().c_str());
    ok = ok && freerdp_settings_set_bool(s, FreeRDP_RemoteFxCodec, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_NSCodec, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_FrameMarkerCommandEnabled, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_SurfaceFrameMarkerEnabled, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_SurfaceCommandsEnabled, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_RefreshRect, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_SuppressOutput, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_DesktopResize, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_HasExtendedMouseEvent, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_HasHorizontalWheel, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_UnicodeInput, TRUE) &&
         freerdp_settings_set_bool(s, FreeRDP_ColorPointerFlag, TRUE) &&
         freerdp_settings_set_uint32(s, FreeRDP_ColorDepth, 32) &&
         freerdp_settings_set_uint32(s, FreeRDP_LargePointerFlag, 0x0003) &&
         freerdp_settings_set_uint32(s, FreeRDP_FrameAcknowledge, kMaxFramesInFlight) &&
         freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(server_.desktop().width())) &&
         freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(server_.desktop().height()));
    if (!ok) return false;

    peer_->Logon = on_logon;
    peer_->Capabilities = on_capabilities;
    peer_->PostConnect = on_post_connect;
    peer_->Activate = on_activate;
    peer_->input->KeyboardEvent = on_keyboard;
    peer_->input->UnicodeKeyboardEvent = on_unicode;
    peer_->input->SynchronizeEvent = on_synchronize;
    peer_->input->MouseEvent = RdpPeerMouse::on_mouse;
    peer_->input->ExtendedMouseEvent = RdpPeerMouse::on_extended_mouse;
    peer_->update->SurfaceFrameAcknowledge = on_frame_ack;
    peer_->update->RefreshRect = on_refresh_rect;
    peer_->update->SuppressOutput = on_suppress_output;

    return peer_->Initialize(peer_) != FALSE;
}

bool RdpPeer::watch_events() {
    HANDLE handles[32];
    DWORD count = peer_->GetEventHandles(peer_, handles, 31);
    if (count == 0) return false;
    handles[count++] = WTSVirtualChannelManagerGetEventHandle(state_->vcm);
    for (DWORD i = 0; i < count; ++i) {
        const int fd = GetEventFileDescriptor(handles[i]);
        if (fd < 0) continue;
        // asio closes what it wraps; FreeRDP keeps its own fd.
        const int copy = dup(fd);
        if (copy < 0) return false;
        watchers_.push_back(std::make_unique<asio::posix::stream_descriptor>(server_.io(), copy));
    }
    for (size_t i = 0; i < watchers_.size(); ++i) watch(i);
    return true;
}

void RdpPeer::watch(size_t index) {
    watchers_[index]->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this(), index](const boost::system::error_code& ec) {
            if (ec || self->closed_) return;
            self->pump();
            if (!self->closed_) self->watch(index);
        });
}

void RdpPeer::pump() {
    clear_tls_errors();
    if (!peer_->CheckFileDescriptor(peer_)) {
        close(false, "connection closed by the client or failed");
        return;
    }
    if (closed_) return;
    if (!WTSVirtualChannelManagerCheckFileDescriptor(state_->vcm)) {
        close(false, "virtual channel failure");
        return;
    }
    if (cliprdr_) cliprdr_->pump();
    if (closed_) return;
    if (!disp_tried_ && activated_ &&
        WTSVirtualChannelManagerGetDrdynvcState(state_->vcm) == DRDYNVC_STATE_READY) {
        start_disp();
    }
    if (peer_->IsWriteBlocked(peer_) && !write_blocked_) {
        write_blocked_ = true;
        watch_writable();
    }
}

void RdpPeer::watch_writable() {
    if (!socket_watch_) {
        const int copy = dup(peer_->sockfd);
        if (copy < 0) {
            close(false, "cannot watch the socket");
            return;
        }
        socket_watch_ = std::make_unique<asio::posix::stream_descriptor>(server_.io(), copy);
    }
    socket_watch_->async_wait(asio::posix::stream_descriptor::wait_write,
                              [self = shared_from_this()](const boost::system::error_code& ec) {
                                  if (ec || self->closed_) return;
                                  clear_tls_errors();
                                  if (self->peer_->DrainOutputBuffer(self->peer_) < 0) {
                                      self->close(false, "write failed");
                                      return;
                                  }
                                  if (self->peer_->IsWriteBlocked(self->peer_)) {
                                      self->watch_writable();
                                      return;
                                  }
                                  self->write_blocked_ = false;
                                  self->schedule_flush();
                              });
}

void RdpPeer::close(bool graceful, const char* reason) {
    if (closed_) return;
    closed_ = true;
    if (handshake_running_) {
        // The handshake thread owns the peer: cut it short; handshake_finished() tears down.
        // Being cut off by us is not the client's authentication failure.
        log_.info("disconnected {} ({})", address_, reason);
        cut_handshake();
        return;
    }
    // FreeRDP fails TLS and NLA alike inside one call, so a failed login looks like any failed
    // handshake. A client that sent its connection request and then failed before logon
    // failed to log in; one that sent nothing (a port probe), or that we cut off, did not.
    if (!logged_on_ && !refused_ && !handshake_cut_ && state_ &&
        server_.config().rdp_security == RdpSecurity::nla && handshake_.data_seen) {
        auth_failed("NLA authentication failed");
    }
    log_.info("disconnected {} ({})", address_, reason);
    server_.desktop().remove_viewer(this);
    // Pastes waiting on this client fail now rather than at their timeout.
    if (cliprdr_) server_.clipboard().remove_client(cliprdr_.get());
    if (seated_) {
        seated_ = false;
        server_.desktop().release_seat();
    }
    input_.release_all();
    delay_timer_.cancel();
    for (auto& w : watchers_) w->cancel();
    if (socket_watch_) socket_watch_->cancel();
    // Never tear the FreeRDP peer down from inside one of its own callbacks.
    asio::post(server_.io(), [self = shared_from_this(), graceful] { self->teardown(graceful); });
}

void RdpPeer::teardown(bool graceful) {
    cliprdr_.reset();  // before the channel manager goes with the context
    disp_.reset();
    if (state_) {
        clear_tls_errors();
        if (graceful && activated_) peer_->Close(peer_);
        peer_->Disconnect(peer_);
        clear_tls_errors();
    }
    server_.remove(id_);
}

std::string RdpPeer::host() const {
    // Failures are counted per host, whatever source port the next attempt uses.
    const size_t colon = address_.rfind(':');
    return colon == std::string::npos ? address_ : address_.substr(0, colon);
}

void RdpPeer::auth_failed(const char* why) {
    metrics().auth_failures[Protocol::rdp].add();
    server_.throttle().record_failure(host(), AuthThrottle::Clock::now());
    log_.warn("authentication failed from {}: {}", address_, why);
}

// ---- connection sequence -------------------------------------------------------------------

void RdpPeer::handle_logon(const std::string& user, bool nla) {
    // With TLS only, the credentials arrive later with the client info (PostConnect).
    handshake_.logon = true;
    handshake_.nla = nla;
    if (nla) handshake_.user = user;
}

// The monitors a client described in its connection data: the client monitor data of a
// /multimon client, else one monitor of its desktop size; each with its desktop scale factor
// (per monitor from the monitor attributes when given, else the core data's).
MonitorLayout client_layout(const rdpSettings* s) {
    const auto percent = [](uint32_t v) { return v >= 100 && v <= 500 ? v / 100.0 : 0.0; };
    const double core_scale = percent(freerdp_settings_get_uint32(s, FreeRDP_DesktopScaleFactor));
    const uint32_t count = std::min<uint32_t>(freerdp_settings_get_uint32(s, FreeRDP_MonitorCount),
                                              uint32_t(MonitorLimits::kMaxMonitors));
    MonitorLayout out;
    if (count > 1 && s->MonitorDefArray) {
        const bool attributes = freerdp_settings_get_bool(s, FreeRDP_HasMonitorAttributes);
        for (uint32_t i = 0; i < count; ++i) {
            const rdpMonitor& m = s->MonitorDefArray[i];
            const double own = attributes ? percent(m.attributes.desktopScaleFactor) : 0.0;
            out.push_back(Monitor{m.x, m.y, m.width, m.height,
                                  own > 0 ? own : (core_scale > 0 ? core_scale : 1.0),
                                  m.is_primary != 0});
        }
        return out;
    }
    return single_monitor(int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth)),
                          int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight)),
                          core_scale > 0 ? core_scale : 1.0);
}

void RdpPeer::handle_capabilities() {
    // FreeRDP 2 calls PostConnect only once the client has confirmed the Demand Active, so what
    // that PDU announces (desktop size, colour depth) must be settled here, just before it is
    // sent; otherwise a later viewer is told its own size and shows the desktop in a corner.
    rdpSettings* s = peer_->settings;
    requested_width_ = int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth));
    requested_height_ = int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight));
    const MonitorLayout asked = client_layout(s);
    std::string why;
    if (const auto layout = normalize_layout(asked, &why)) {
        requested_layout_ = layout->monitors;
        requested_width_ = layout->width;
        requested_height_ = layout->height;
        if (layout->adjusted) {
            log_.info("client monitors {} adjusted to {}", describe_layout(asked),
                      describe_layout(requested_layout_));
        }
    } else {
        log_.warn("client monitors {} unusable ({}); one monitor of {}x{} instead",
                  describe_layout(asked), why, requested_width_, requested_height_);
        requested_layout_.clear();
    }

    // FreeRDP 2.11's 24 bpp interleaved encoder is broken and 8 bpp needs a palette: those
    // clients get 16 bpp (FreeRDP's shadow server does the same).
    const uint32_t depth = freerdp_settings_get_uint32(s, FreeRDP_ColorDepth);
    if (depth != 32 && depth != 16 && depth != 15) {
        freerdp_settings_set_uint32(s, FreeRDP_ColorDepth, 16);
    }

    const DesktopMirror& desktop = server_.desktop();
    int32_t w = std::clamp(requested_width_, MonitorLimits::kMinWidth, MonitorLimits::kMaxSide);
    int32_t h = std::clamp(requested_height_, MonitorLimits::kMinHeight, MonitorLimits::kMaxSide);
    if (server_.other_session(this)) {
        // Later viewers see the desktop as it is.
        w = desktop.width();
        h = desktop.height();
    }
    freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(w));
    freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(h));
}

bool RdpPeer::handle_post_connect() {
    rdpSettings* s = peer_->settings;
    const Config& config = server_.config();
    if (config.rdp_security == RdpSecurity::tls) {
        const char* user = freerdp_settings_get_string(s, FreeRDP_Username);
        const char* password = freerdp_settings_get_string(s, FreeRDP_Password);
        if (!credentials_match(config, user ? user : "", password ? password : "")) {
            auth_failed("wrong user or password in the logon info");
            refused_ = true;  // counted already; not a second NLA failure
            return false;
        }
        logged_on_ = true;
        server_.throttle().record_success(host());
        log_.info("authenticated user '{}' from {}", user ? user : "", address_);
    }
    if (!logged_on_) return false;

    const int32_t want_w = requested_width_
                               ? requested_width_
                               : int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth));
    const int32_t want_h = requested_height_
                               ? requested_height_
                               : int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight));
    log_.info("client {} wants {}x{} at {} bpp{}", address_, want_w, want_h,
              freerdp_settings_get_uint32(s, FreeRDP_ColorDepth),
              requested_layout_.size() > 1 || (!requested_layout_.empty() &&
                                               requested_layout_[0].scale != 1.0)
                  ? ", monitors " + describe_layout(requested_layout_)
                  : std::string());

    if (!server_.desktop().try_claim_seat()) {
        refused_ = true;
        metrics().clients_refused[Protocol::rdp].add();
        log_.warn("refusing {}: already {} of --max-clients {} viewers", address_,
                  server_.desktop().seats_in_use(), server_.desktop().max_seats());
        return true;  // refused with an error info PDU once the client is active
    }
    seated_ = true;

    DesktopMirror& desktop = server_.desktop();
    const int32_t w = std::clamp(want_w, MonitorLimits::kMinWidth, MonitorLimits::kMaxSide);
    const int32_t h = std::clamp(want_h, MonitorLimits::kMinHeight, MonitorLimits::kMaxSide);
    const bool other_layout = requested_layout_.empty()
                                  ? (w != desktop.width() || h != desktop.height())
                                  : requested_layout_ != desktop.monitors();
    if (!server_.other_session(this) && other_layout) {
        // The first viewer chooses the desktop size and monitors; wait for the compositor's
        // answer before sending pixels. The demand active PDU already announces the size.
        freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(w));
        freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(h));
        awaiting_size_ = true;
        server_.request_desktop_size(w, h, requested_layout_);
    } else {
        if (server_.desktop_size_pending()) awaiting_size_ = true;
        freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(desktop.width()));
        freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(desktop.height()));
    }
    return true;
}

bool RdpPeer::handle_activate() {
    if (refused_) {
        // The error info PDU makes the client tell its user why instead of a bare disconnect.
        freerdp_set_error_info(peer_->context->rdp, ERRINFO_SERVER_DENIED_CONNECTION);
        peer_->Close(peer_);
        close(false, "refused: too many viewers (--max-clients)");
        return TRUE;
    }
    rdpSettings* s = peer_->settings;
    const bool first = !activated_;
    activated_ = true;
    const size_t max_request = freerdp_settings_get_uint32(s, FreeRDP_MultifragMaxRequestSize);
    if (freerdp_settings_get_bool(s, FreeRDP_RemoteFxCodec) &&
        freerdp_settings_get_uint32(s, FreeRDP_RemoteFxCodecId) != 0) {
        state_->codec = PeerState::Codec::remotefx;
    } else if (freerdp_settings_get_bool(s, FreeRDP_NSCodec) &&
               freerdp_settings_get_uint32(s, FreeRDP_NSCodecId) != 0) {
        state_->codec = PeerState::Codec::nscodec;
    } else {
        state_->codec = PeerState::Codec::bitmap;
    }
    acks_ = state_->codec != PeerState::Codec::bitmap &&
            freerdp_settings_get_uint32(s, FreeRDP_FrameAcknowledge) > 0 &&
            freerdp_settings_get_bool(s, FreeRDP_SurfaceFrameMarkerEnabled);
    last_acked_id_ = last_frame_id_;
    if (first) {
        static const char* const names[] = {"RemoteFX", "NSCodec", "bitmap"};
        log_.info("activated {}x{} codec {} ({} bpp, frame acks {}, max request {})",
                  freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth),
                  freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight),
                  names[int(state_->codec)], freerdp_settings_get_uint32(s, FreeRDP_ColorDepth),
                  acks_ ? "on" : "off", max_request);
        server_.desktop().add_viewer(this);
        start_channels();
        const uint32_t klid = freerdp_settings_get_uint32(s, FreeRDP_KeyboardLayout);
        keyboard_layout_ = find_keyboard_layout(klid);
        if (!keyboard_layout_) {
            log_.warn("unknown keyboard layout id 0x{:08x}; using US English", klid);
            keyboard_layout_ = find_keyboard_layout(0x409);
        } else {
            log_.info("keyboard layout 0x{:08x}: {}", klid, keyboard_layout_->name);
        }
        server_.use_keyboard_layout(keyboard_layout_);
    }
    send_pointer();
    invalidate_all();
    return TRUE;
}

void RdpPeer::before_key() { server_.use_keyboard_layout(keyboard_layout_); }

void RdpPeer::start_channels() {
    if (WTSVirtualChannelManagerIsChannelJoined(state_->vcm, "cliprdr")) {
        try {
            cliprdr_ = std::make_unique<RdpCliprdr>(server_.io(), server_.clipboard(),
                                                    state_->vcm, log_);
            if (!cliprdr_->start()) {
                log_.warn("cannot open the clipboard channel; no clipboard for this client");
                cliprdr_.reset();
            }
        } catch (const std::exception& e) {
            log_.warn("no clipboard for this client: {}", e.what());
            cliprdr_.reset();
        }
    }
}

void RdpPeer::start_disp() {
    disp_tried_ = true;
    try {
        disp_ = std::make_unique<RdpDisp>(
            server_.io(), state_->vcm, log_,
            [this](const std::vector<DispMonitor>& monitors) { handle_layout(monitors); });
        if (!disp_->start()) {
            log_.info("no display control channel; the client cannot resize the desktop");
            disp_.reset();
        }
    } catch (const std::exception& e) {
        log_.warn("no display control for this client: {}", e.what());
        disp_.reset();
    }
}

// A monitor layout from this client (Display Control). The latest layout from any client
// wins: the desktop is one size for everybody, and every client follows it.
void RdpPeer::handle_layout(const std::vector<DispMonitor>& monitors) {
    if (closed_ || !activated_ || refused_) return;
    const MonitorLayout asked = disp_layout(monitors);
    std::string why;
    const auto layout = normalize_layout(asked, &why);
    if (!layout) {
        log_.warn("display control: ignoring the layout {}: {}", describe_layout(asked), why);
        return;
    }
    if (layout->adjusted) {
        log_.info("display control: layout {} adjusted to {}", describe_layout(asked),
                  describe_layout(layout->monitors));
    }
    DesktopMirror& desktop = server_.desktop();
    if (layout->monitors == desktop.monitors()) {
        if (awaiting_size_) return;  // the answer to the first client's size is on its way
        // Nothing changes, but the client waits for a reactivation before it sends its next
        // layout: answer this client alone.
        rdpSettings* s = peer_->settings;
        if (freerdp_settings_get_bool(s, FreeRDP_DesktopResize)) {
            clear_tls_errors();
            freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(layout->width));
            freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(layout->height));
            peer_->update->DesktopResize(peer_->update->context);
            last_acked_id_ = last_frame_id_;
            invalidate_all();
        }
        return;
    }
    log_.info("display control: client asks for {}x{} ({}); changing the desktop", layout->width,
              layout->height, describe_layout(layout->monitors));
    if (!server_.channels().to_compositor.try_push(ResizeRequest(layout->monitors))) {
        metrics().input_dropped.add();
        log_.warn("display control: the compositor queue is full; resize dropped");
    }
}

void RdpPeer::desktop_size_settled() {
    if (!awaiting_size_ || closed_) return;
    awaiting_size_ = false;
    on_resize(server_.desktop().width(), server_.desktop().height());
}

// ---- viewer --------------------------------------------------------------------------------

void RdpPeer::on_damage(const Region& damage) {
    if (pending_.empty()) pending_since_ = server_.desktop().last_captured_at();
    pending_.add(damage);
    schedule_flush();
}

void RdpPeer::on_resize(int32_t width, int32_t height) {
    if (closed_ || awaiting_size_) return;
    clear_tls_errors();
    rdpSettings* s = peer_->settings;
    if (freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth) != uint32_t(width) ||
        freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight) != uint32_t(height)) {
        if (!freerdp_settings_get_bool(s, FreeRDP_DesktopResize)) {
            log_.warn("client cannot resize; it keeps showing the top-left of {}x{}", width, height);
        } else {
            freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(width));
            freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(height));
            if (activated_) {
                log_.info("resizing client to {}x{}", width, height);
                peer_->update->DesktopResize(peer_->update->context);
                last_acked_id_ = last_frame_id_;  // the reactivation resets the frame pipeline
            }
        }
    }
    invalidate_all();
}

void RdpPeer::on_cursor(const CursorEvent&) { send_pointer(); }

void RdpPeer::handle_frame_ack(uint32_t frame_id) {
    last_acked_id_ = frame_id;
    if (!pending_.empty()) schedule_flush();
}

void RdpPeer::handle_refresh(const std::vector<Rect>& areas) {
    if (areas.empty()) {
        invalidate_all();
        return;
    }
    for (const Rect& r : areas) pending_.add(r);
    schedule_flush();
}

void RdpPeer::handle_suppress_output(bool allow) {
    output_suppressed_ = !allow;
    if (allow) invalidate_all();
}

void RdpPeer::invalidate_all() {
    pending_.add(server_.desktop().bounds());
    schedule_flush();
}

// ---- frames --------------------------------------------------------------------------------

bool RdpPeer::can_send() const {
    if (closed_ || !activated_ || awaiting_size_ || output_suppressed_ || write_blocked_) {
        return false;
    }
    return !acks_ || last_frame_id_ - last_acked_id_ < kMaxFramesInFlight;
}

void RdpPeer::schedule_flush() {
    if (flush_posted_ || closed_) return;
    flush_posted_ = true;
    // One flush per loop turn: damage arriving meanwhile joins the same frame.
    asio::post(server_.io(), [self = shared_from_this()] {
        self->flush_posted_ = false;
        self->flush();
    });
}

void RdpPeer::flush() {
    if (!can_send() || pending_.empty()) return;
    clear_tls_errors();
    rdpSettings* s = peer_->settings;
    Region damage = std::move(pending_);
    pending_.clear();
    const auto captured_at = pending_since_;
    pending_since_ = {};
    damage.clip(server_.desktop().bounds());
    damage.clip(Rect{0, 0, int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth)),
                     int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight))});
    // Many tiny rectangles cost more per rectangle than the pixels they save.
    damage.simplify(64, 0.25);
    if (damage.empty()) return;

    const auto started = std::chrono::steady_clock::now();
    const bool ok = state_->codec == PeerState::Codec::bitmap ? send_bitmaps(damage)
                                                              : send_surface_bits(damage);
    const auto finished = std::chrono::steady_clock::now();
    metrics().encode_seconds[Protocol::rdp].observe(
        std::chrono::duration<double>(finished - started).count());
    if (!ok) {
        close(false, "sending a frame failed");
        return;
    }
    metrics().frames_encoded[Protocol::rdp].add();
    metrics().frames_sent[Protocol::rdp].add();
    if (!connect_.first_frame_sent) note_first_frame(finished - started);
    if (captured_at != std::chrono::steady_clock::time_point{}) {
        metrics().capture_to_send_seconds[Protocol::rdp].observe(
            std::chrono::duration<double>(finished - captured_at).count());
    }
    if (peer_->IsWriteBlocked(peer_) && !write_blocked_) {
        write_blocked_ = true;
        watch_writable();
    }
}

bool RdpPeer::send_surface_bits(const Region& damage) {
    rdpContext* context = peer_->context;
    rdpSettings* s = context->settings;
    rdpUpdate* update = context->update;
    const ImageView image = server_.desktop().image();
    size_t max_request = freerdp_settings_get_uint32(s, FreeRDP_MultifragMaxRequestSize);
    max_request = std::max<size_t>(max_request, 64 * 1024);
    const size_t budget = max_request - kPduHeadroom;
    uint64_t bytes = 0;

    const uint32_t frame_id = ++last_frame_id_;
    if (acks_) {
        SURFACE_FRAME_MARKER begin{SURFACECMD_FRAMEACTION_BEGIN, frame_id};
        if (!update->SurfaceFrameMarker(context, &begin)) return false;
    }
    if (state_->codec == PeerState::Codec::remotefx) {
        if (!state_->rfx) state_->rfx = std::make_unique<RemoteFxEncoder>();
        std::vector<std::vector<uint8_t>> messages;
        if (!state_->rfx->encode(image, damage.rects(), budget, messages)) return false;
        for (auto& message : messages) {
            SURFACE_BITS_COMMAND cmd{};
            cmd.cmdType = CMDTYPE_STREAM_SURFACE_BITS;
            cmd.destRight = uint32_t(image.width);
            cmd.destBottom = uint32_t(image.height);
            cmd.bmp.bpp = 32;
            cmd.bmp.codecID = UINT16(freerdp_settings_get_uint32(s, FreeRDP_RemoteFxCodecId));
            cmd.bmp.width = UINT16(image.width);
            cmd.bmp.height = UINT16(image.height);
            cmd.bmp.bitmapDataLength = UINT32(message.size());
            cmd.bmp.bitmapData = message.data();
            cmd.skipCompression = TRUE;
            if (!update->SurfaceBits(context, &cmd)) return false;
            bytes += message.size();
        }
    } else {
        if (!state_->nsc) state_->nsc = std::make_unique<NsCodecEncoder>();
        // NSCodec messages are not fragmented by the encoder: keep each tile's worst case
        // (four raw planes) inside one request.
        const int32_t tile = budget >= 256 * 256 * 4 + 1024 ? 256 : 64;
        std::vector<uint8_t> encoded;
        for (const Rect& rect : damage.rects()) {
            for (const Rect& t : split_into_tiles(rect, tile)) {
                if (!state_->nsc->encode(image, t, encoded)) return false;
                SURFACE_BITS_COMMAND cmd{};
                cmd.cmdType = CMDTYPE_SET_SURFACE_BITS;
                cmd.destLeft = uint32_t(t.x);
                cmd.destTop = uint32_t(t.y);
                cmd.destRight = uint32_t(t.x + t.width);
                cmd.destBottom = uint32_t(t.y + t.height);
                cmd.bmp.bpp = 32;
                cmd.bmp.codecID = UINT16(freerdp_settings_get_uint32(s, FreeRDP_NSCodecId));
                cmd.bmp.width = UINT16(t.width);
                cmd.bmp.height = UINT16(t.height);
                cmd.bmp.bitmapDataLength = UINT32(encoded.size());
                cmd.bmp.bitmapData = encoded.data();
                if (!update->SurfaceBits(context, &cmd)) return false;
                bytes += encoded.size();
            }
        }
    }
    if (acks_) {
        SURFACE_FRAME_MARKER end{SURFACECMD_FRAMEACTION_END, frame_id};
        if (!update->SurfaceFrameMarker(context, &end)) return false;
    }
    metrics().bytes_sent[Protocol::rdp].add(bytes);
    return true;
}

bool RdpPeer::send_bitmaps(const Region& damage) {
    rdpContext* context = peer_->context;
    rdpSettings* s = context->settings;
    const ImageView image = server_.desktop().image();
    const uint32_t bpp = freerdp_settings_get_uint32(s, FreeRDP_ColorDepth);
    const uint32_t bytes_pp = (bpp + 7) / 8;
    size_t max_request = freerdp_settings_get_uint32(s, FreeRDP_MultifragMaxRequestSize);
    max_request = std::max<size_t>(max_request, 32 * 1024);
    const size_t budget = max_request - kPduHeadroom;
    if (!state_->bitmap) state_->bitmap = std::make_unique<BitmapEncoder>();

    constexpr int32_t T = BitmapEncoder::kTileSize;
    // Compressed bitmap widths must be multiples of 4: tiles are encoded from a zero-padded
    // copy and the client clips them to destRight.
    std::vector<uint8_t> scratch(size_t(T) * T * 4);
    std::vector<std::vector<uint8_t>> buffers;
    std::vector<BITMAP_DATA> tiles;
    size_t batch_bytes = 0;
    uint64_t bytes = 0;

    auto send_batch = [&]() -> bool {
        if (tiles.empty()) return true;
        BITMAP_UPDATE update{};
        update.number = UINT32(tiles.size());
        update.rectangles = tiles.data();
        const bool ok = context->update->BitmapUpdate(context, &update);
        tiles.clear();
        buffers.clear();
        batch_bytes = 0;
        return ok;
    };

    for (const Rect& rect : damage.rects()) {
        for (const Rect& t : split_into_tiles(rect, T)) {
            const int32_t padded = (t.width + 3) & ~3;
            std::fill(scratch.begin(), scratch.end(), 0);
            for (int32_t y = 0; y < t.height; ++y) {
                std::memcpy(&scratch[size_t(y) * T * 4],
                            image.pixels + size_t(t.y + y) * size_t(image.stride) + size_t(t.x) * 4,
                            size_t(t.width) * 4);
            }
            const ImageView tile_image{scratch.data(), T, T, T * 4};
            std::vector<uint8_t> encoded;
            if (!state_->bitmap->encode(tile_image, Rect{0, 0, padded, t.height}, bpp, encoded)) {
                return false;
            }
            if (batch_bytes + encoded.size() + 64 > budget && !send_batch()) return false;
            BITMAP_DATA data{};
            data.destLeft = uint32_t(t.x);
            data.destTop = uint32_t(t.y);
            data.destRight = uint32_t(t.x + t.width - 1);
            data.destBottom = uint32_t(t.y + t.height - 1);
            data.width = uint32_t(padded);
            data.height = uint32_t(t.height);
            data.bitsPerPixel = bpp;
            data.compressed = TRUE;
            data.bitmapLength = UINT32(encoded.size());
            data.cbCompMainBodySize = data.bitmapLength;
            data.cbScanWidth = uint32_t(padded) * bytes_pp;
            data.cbUncompressedSize = uint32_t(padded) * uint32_t(t.height) * bytes_pp;
            batch_bytes += encoded.size() + 64;
            bytes += encoded.size();
            buffers.push_back(std::move(encoded));
            data.bitmapDataStream = buffers.back().data();
            tiles.push_back(data);
        }
    }
    if (!send_batch()) return false;
    metrics().bytes_sent[Protocol::rdp].add(bytes);
    return true;
}

void RdpPeer::send_pointer() {
    if (!activated_ || closed_ || !server_.desktop().has_cursor()) return;
    clear_tls_errors();
    rdpContext* context = peer_->context;
    rdpPointerUpdate* pointer = context->update->pointer;
    const CursorEvent& cursor = server_.desktop().cursor();
    if (cursor.hidden || cursor.width <= 0 || cursor.height <= 0) {
        POINTER_SYSTEM_UPDATE system{};
        system.type = SYSPTR_NULL;
        pointer->PointerSystem(context, &system);
        return;
    }
    const bool large = freerdp_settings_get_uint32(context->settings, FreeRDP_LargePointerFlag) != 0;
    PointerImage image = make_pointer_image(cursor, large ? 384 : 96);
    if (image.width > 96 || image.height > 96) {
        POINTER_LARGE_UPDATE update{};
        update.xorBpp = 32;
        update.hotSpotX = image.hotspot_x;
        update.hotSpotY = image.hotspot_y;
        update.width = image.width;
        update.height = image.height;
        update.lengthAndMask = UINT32(image.and_mask.size());
        update.lengthXorMask = UINT32(image.xor_mask.size());
        update.xorMaskData = image.xor_mask.data();
        update.andMaskData = image.and_mask.data();
        pointer->PointerLarge(context, &update);
        return;
    }
    POINTER_NEW_UPDATE update{};
    update.xorBpp = 32;
    POINTER_COLOR_UPDATE& color = update.colorPtrAttr;
    color.cacheIndex = 0;
    color.xPos = image.hotspot_x;
    color.yPos = image.hotspot_y;
    color.width = image.width;
    color.height = image.height;
    color.lengthAndMask = UINT32(image.and_mask.size());
    color.lengthXorMask = UINT32(image.xor_mask.size());
    color.xorMaskData = image.xor_mask.data();
    color.andMaskData = image.and_mask.data();
    pointer->PointerNew(context, &update);
}

}  // namespace deskpod
