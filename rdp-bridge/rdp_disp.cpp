#include "rdp_disp.hpp"

#include <algorithm>
#include <stdexcept>

#include "freerdp.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <freerdp/server/disp.h>
#pragma GCC diagnostic pop

namespace asio = boost::asio;

namespace deskpod {

namespace {

constexpr int64_t kMinWidth = 320, kMinHeight = 200, kMaxSide = 8192;

RdpDisp* self_of(DispServerContext* context) { return static_cast<RdpDisp*>(context->custom); }

// FreeRDP's channel thread.
UINT on_monitor_layout(DispServerContext* context, const DISPLAY_CONTROL_MONITOR_LAYOUT_PDU* pdu) {
    if (!pdu) return CHANNEL_RC_OK;
    std::vector<DispMonitor> monitors;
    monitors.reserve(pdu->NumMonitors);
    for (UINT32 i = 0; i < pdu->NumMonitors; ++i) {
        const DISPLAY_CONTROL_MONITOR_LAYOUT& m = pdu->Monitors[i];
        monitors.push_back(DispMonitor{m.Flags, int32_t(m.Left), int32_t(m.Top), m.Width, m.Height,
                                       m.DesktopScaleFactor});
    }
    self_of(context)->layout_received(std::move(monitors));
    return CHANNEL_RC_OK;
}

}  // namespace

std::optional<DispLayoutSize> disp_layout_size(const std::vector<DispMonitor>& monitors) {
    if (monitors.empty()) return std::nullopt;
    int64_t left = INT64_MAX, top = INT64_MAX, right = INT64_MIN, bottom = INT64_MIN;
    uint32_t scale = 0;
    for (const DispMonitor& m : monitors) {
        if (m.width == 0 || m.height == 0 || m.width > kMaxSide || m.height > kMaxSide) {
            return std::nullopt;
        }
        left = std::min<int64_t>(left, m.left);
        top = std::min<int64_t>(top, m.top);
        right = std::max<int64_t>(right, int64_t(m.left) + m.width);
        bottom = std::max<int64_t>(bottom, int64_t(m.top) + m.height);
        // The primary monitor's scale wins; otherwise the first one given.
        const bool primary = (m.flags & DISPLAY_CONTROL_MONITOR_PRIMARY) != 0;
        if (m.desktop_scale >= 100 && m.desktop_scale <= 500 && (primary || scale == 0)) {
            scale = m.desktop_scale;
        }
    }
    const int64_t want_w = right - left;
    const int64_t want_h = bottom - top;
    DispLayoutSize out;
    out.width = int32_t(std::clamp(want_w & ~int64_t(1), kMinWidth, kMaxSide));
    out.height = int32_t(std::clamp(want_h, kMinHeight, kMaxSide));
    out.scale = scale;
    out.adjusted = out.width != want_w || out.height != want_h;
    return out;
}

RdpDisp::RdpDisp(asio::io_context& io, void* vcm, const log::Logger& log, LayoutHandler on_layout)
    : io_(io), log_(log), on_layout_(std::move(on_layout)) {
    context_ = disp_server_context_new(static_cast<HANDLE>(vcm));
    if (!context_) throw std::runtime_error("disp_server_context_new failed");
    context_->custom = this;
    context_->MaxNumMonitors = kMaxMonitors;
    // The largest layout area is A x B pixels: one 8192x8192 desktop.
    context_->MaxMonitorAreaFactorA = uint32_t(kMaxSide);
    context_->MaxMonitorAreaFactorB = uint32_t(kMaxSide);
    context_->DispMonitorLayout = on_monitor_layout;
}

RdpDisp::~RdpDisp() {
    *alive_ = false;
    if (context_) {
        if (open_) context_->Close(context_);  // joins the channel thread
        disp_server_context_free(context_);
    }
}

bool RdpDisp::start() {
    if (context_->Open(context_) != CHANNEL_RC_OK) return false;
    open_ = true;
    return context_->DisplayControlCaps(context_) == CHANNEL_RC_OK;
}

void RdpDisp::layout_received(std::vector<DispMonitor> monitors) {
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), m = std::move(monitors)] {
        if (alive.expired()) return;
        on_layout_(m);
    });
}

}  // namespace deskpod
