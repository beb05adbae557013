// The connection sequence after the hand-over: capabilities, post-connect (logon, seat, the
// first client's size), activation, and what may change the desktop later (Display Control).
#include "rdp-bridge/rdp/peer.hpp"

#include <algorithm>

#include "rdp-bridge/auth/credentials.hpp"
#include "rdp-bridge/rdp/cliprdr.hpp"
#include "rdp-bridge/rdp/disp.hpp"
#include "rdp-bridge/rdp/keyboard_layouts.hpp"
#include "rdp-bridge/rdp/peer_context.hpp"
#include "rdp-bridge/rdp/server.hpp"

namespace deskpod {

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
            if (handshake_.request_at == std::chrono::steady_clock::time_point{})
                return;
            observe(ConnectPhase::request, handshake_.request_at - connect_.accepted);
            observe(ConnectPhase::security, handshake_.logon_at - handshake_.request_at);
            observe(ConnectPhase::handover, now - handshake_.logon_at);
            connect_.handed_over = now;
            break;
        case ConnectPhase::capabilities:
            // Also called again on a reactivation; only the first connection sequence counts.
            if (connect_.capabilities != std::chrono::steady_clock::time_point{})
                return;
            connect_.capabilities = now;
            observe(phase, now - connect_.handed_over);
            break;
        case ConnectPhase::activation:
            if (connect_.activated != std::chrono::steady_clock::time_point{})
                return;
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
    log_.info(
        "first frame {:.0f} ms after accept: connection request {:.0f} ms, TLS+NLA {:.0f} "
        "ms, hand-over {:.1f} ms, capabilities {:.0f} ms, activation {:.0f} ms, first "
        "frame {:.0f} ms (encode {:.1f} ms)",
        ms(now - connect_.accepted), ms(handshake_.request_at - connect_.accepted),
        ms(handshake_.logon_at - handshake_.request_at),
        ms(connect_.handed_over - handshake_.logon_at),
        ms(connect_.capabilities - connect_.handed_over),
        ms(connect_.activated - connect_.capabilities), ms(now - connect_.activated), ms(encode));
}

namespace {

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

// How frames go to this client: RemoteFX, else NSCodec, in surface bits (acknowledged when the
// client takes frame markers and acknowledges frames), else bitmap updates.
FrameSender& choose_sender(PeerState& state, rdpContext* context) {
    const rdpSettings* s = context->settings;
    const bool rfx = freerdp_settings_get_bool(s, FreeRDP_RemoteFxCodec) &&
                     freerdp_settings_get_uint32(s, FreeRDP_RemoteFxCodecId) != 0;
    const bool nsc = freerdp_settings_get_bool(s, FreeRDP_NSCodec) &&
                     freerdp_settings_get_uint32(s, FreeRDP_NSCodecId) != 0;
    if (!rfx && !nsc) {
        if (!state.bitmaps)
            state.bitmaps = std::make_unique<BitmapSender>(context);
        return *state.bitmaps;
    }
    if (!state.surface_bits)
        state.surface_bits = std::make_unique<SurfaceBitsSender>(context);
    state.surface_bits->configure(
        rfx ? SurfaceBitsSender::Codec::remotefx : SurfaceBitsSender::Codec::nscodec,
        freerdp_settings_get_uint32(s, FreeRDP_FrameAcknowledge) > 0 &&
            freerdp_settings_get_bool(s, FreeRDP_SurfaceFrameMarkerEnabled));
    return *state.surface_bits;
}

}  // namespace

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
            set_phase(PeerPhase::refused);  // counted already; not a second NLA failure
            return false;
        }
        set_phase(PeerPhase::logged_on);
        server_.throttle().record_success(host());
        log_.info("authenticated user '{}' from {}", user ? user : "", address_);
    }
    if (phase_ != PeerPhase::logged_on)
        return false;

    const int32_t want_w = requested_width_
                               ? requested_width_
                               : int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth));
    const int32_t want_h = requested_height_
                               ? requested_height_
                               : int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight));
    log_.info("client {} wants {}x{} at {} bpp{}", address_, want_w, want_h,
              freerdp_settings_get_uint32(s, FreeRDP_ColorDepth),
              requested_layout_.size() > 1 ||
                      (!requested_layout_.empty() && requested_layout_[0].scale != 1.0)
                  ? ", monitors " + describe_layout(requested_layout_)
                  : std::string());

    if (!server_.desktop().try_claim_seat()) {
        set_phase(PeerPhase::refused);
        metrics().clients_refused[Protocol::rdp].add();
        log_.warn("refusing {}: already {} of --max-clients {} viewers", address_,
                  server_.desktop().seats_in_use(), server_.desktop().max_seats());
        return true;  // refused with an error info PDU once the client is active
    }
    // Seated from here: the phases below all hold the seat. Nothing asks this peer whether it
    // is seated before one of them is set (other_session() asks the other peers).

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
        // Before the request, which may settle the size at once.
        set_phase(PeerPhase::activating_awaiting_size);
        server_.request_desktop_size(w, h, requested_layout_);
    } else {
        set_phase(server_.desktop_size_pending() ? PeerPhase::activating_awaiting_size
                                                 : PeerPhase::activating);
        freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(desktop.width()));
        freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(desktop.height()));
    }
    return true;
}

bool RdpPeer::handle_activate() {
    if (phase_ == PeerPhase::refused) {
        // The error info PDU makes the client tell its user why instead of a bare disconnect.
        freerdp_set_error_info(peer_->context->rdp, ERRINFO_SERVER_DENIED_CONNECTION);
        peer_->Close(peer_);
        close(false, "refused: too many viewers (--max-clients)");
        return TRUE;
    }
    // Nothing closes a peer in the callbacks before its activation, and no pump runs after
    // close(); should FreeRDP activate a closing peer all the same, it stays closed rather
    // than becoming a viewer again.
    if (is_closing())
        return TRUE;
    rdpSettings* s = peer_->settings;
    const bool first = !is_activated();
    set_phase(waits_for_size() ? PeerPhase::awaiting_size : PeerPhase::active);
    const size_t max_request = freerdp_settings_get_uint32(s, FreeRDP_MultifragMaxRequestSize);
    state_->sender = &choose_sender(*state_, peer_->context);
    // A (re)activated client starts from a blank picture: everything goes again.
    state_->sender->forget(server_.desktop().bounds());
    if (state_->gfx && state_->gfx->ready())
        state_->sender = state_->gfx.get();  // a reactivation keeps the pipeline
    pacer_.forget_in_flight();
    if (first) {
        log_.info("activated {}x{} codec {} ({} bpp, frame acks {}, max request {})",
                  freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth),
                  freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight), state_->sender->name(),
                  freerdp_settings_get_uint32(s, FreeRDP_ColorDepth),
                  state_->sender->acknowledged() ? "on" : "off", max_request);
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

void RdpPeer::before_key() {
    server_.use_keyboard_layout(keyboard_layout_);
}

void RdpPeer::start_channels() {
    if (WTSVirtualChannelManagerIsChannelJoined(state_->vcm, "cliprdr")) {
        try {
            cliprdr_ =
                std::make_unique<RdpCliprdr>(server_.io(), server_.clipboard(), state_->vcm, log_);
            cliprdr_->set_output_blocked([this] { return write_blocked_; });
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

namespace {

// The H.264 encoder --rdp-h264 names, if this build has it.
std::optional<h264::Backend> h264_backend(RdpH264 choice) {
    const std::vector<h264::Backend> built = h264::available_backends();
    auto has = [&](h264::Backend b) {
        return std::find(built.begin(), built.end(), b) != built.end();
    };
    switch (choice) {
        case RdpH264::off:
            return std::nullopt;
        case RdpH264::automatic:
            if (built.empty())
                return std::nullopt;
            return built.front();
        case RdpH264::x264:
            return has(h264::Backend::x264) ? std::optional(h264::Backend::x264) : std::nullopt;
        case RdpH264::openh264:
            return has(h264::Backend::openh264) ? std::optional(h264::Backend::openh264)
                                                : std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

void RdpPeer::start_gfx() {
    gfx_tried_ = true;
    if (!freerdp_settings_get_bool(peer_->settings, FreeRDP_SupportGraphicsPipeline))
        return;  // the client did not announce it (xfreerdp without /gfx)
    const RdpH264 wanted = server_.config().rdp_h264;
    const std::optional<h264::Backend> h264 = h264_backend(wanted);
    if (!h264 && (wanted == RdpH264::x264 || wanted == RdpH264::openh264))
        log_.warn("--rdp-h264 {}: this build has no such encoder; no H.264 for this client",
                  wanted == RdpH264::x264 ? "x264" : "openh264");
    try {
        state_->gfx = std::make_unique<GfxPipeline>(
            server_.io(), state_->vcm, peer_->context, log_, [this] { gfx_ready(); },
            [this](uint32_t frame_id, uint32_t queue_depth) {
                // 0xFFFFFFFF: the client asks for no more acknowledgements (and sends none).
                const bool suspend = queue_depth == SUSPEND_FRAME_ACKNOWLEDGEMENT;
                if (state_->gfx && state_->gfx->acknowledged() == suspend) {
                    state_->gfx->set_acknowledged(!suspend);
                    if (suspend)
                        pacer_.forget_in_flight();
                }
                if (!suspend)
                    handle_frame_ack(frame_id);
            },
            [this](const Region& areas) {
                // Lossy tiles that stopped changing: the next frame sends them losslessly.
                for (const Rect& r : areas.rects())
                    pacer_.add(r);
            },
            GfxPipeline::H264Options{h264, server_.config().rdp_h264_quality,
                                     server_.config().rdp_h264_max_kbps});
        if (!state_->gfx->start()) {
            log_.info("the client announced the graphics pipeline but did not open its channel");
            state_->gfx.reset();
        }
    } catch (const std::exception& e) {
        log_.warn("no graphics pipeline for this client: {}", e.what());
        state_->gfx.reset();
    }
}

void RdpPeer::gfx_ready() {
    if (is_closing() || !state_->gfx)
        return;
    log_.info("graphics pipeline {} confirmed: codec {} (frame acks on)",
              gfx_version_name(state_->gfx->caps().version), state_->gfx->name());
    gfx_reset();
}

void RdpPeer::gfx_reset() {
    const rdpSettings* s = peer_->settings;
    const auto w = int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth));
    const auto h = int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight));
    MonitorLayout monitors = server_.desktop().monitors();
    if (server_.desktop().width() != w || server_.desktop().height() != h)
        monitors.clear();  // the client shows only part of the desktop: one monitor of its size
    if (!state_->gfx->reset(w, h, monitors)) {
        close(false, "the graphics pipeline failed");
        return;
    }
    state_->sender = state_->gfx.get();
    pacer_.forget_in_flight();
    invalidate_all();
}

void RdpPeer::start_disp() {
    disp_tried_ = true;
    try {
        disp_ = std::make_unique<RdpDisp>(
            server_.io(), state_->vcm,
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
    if (!is_activated())
        return;
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
        // The answer to the first client's size is on its way.
        if (phase_ == PeerPhase::awaiting_size)
            return;
        // Nothing changes, but the client waits for a reactivation before it sends its next
        // layout: answer this client alone.
        rdpSettings* s = peer_->settings;
        if (freerdp_settings_get_bool(s, FreeRDP_DesktopResize)) {
            clear_tls_errors();
            freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(layout->width));
            freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(layout->height));
            peer_->update->DesktopResize(peer_->update->context);
            pacer_.forget_in_flight();
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
    if (!waits_for_size())
        return;
    set_phase(phase_ == PeerPhase::awaiting_size ? PeerPhase::active : PeerPhase::activating);
    on_resize(server_.desktop().width(), server_.desktop().height());
}

}  // namespace deskpod
