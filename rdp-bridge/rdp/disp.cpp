#include "rdp-bridge/rdp/disp.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "rdp-bridge/rdp/freerdp.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <freerdp/server/disp.h>
#pragma GCC diagnostic pop

namespace asio = boost::asio;

namespace deskpod {

namespace {

constexpr uint32_t kMaxSide = uint32_t(MonitorLimits::kMaxSide);

RdpDisp* self_of(DispServerContext* context) {
    return static_cast<RdpDisp*>(context->custom);
}

// FreeRDP's channel thread.
UINT on_monitor_layout(DispServerContext* context, const DISPLAY_CONTROL_MONITOR_LAYOUT_PDU* pdu) {
    if (!pdu)
        return CHANNEL_RC_OK;
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

MonitorLayout disp_layout(const std::vector<DispMonitor>& monitors) {
    MonitorLayout out;
    out.reserve(monitors.size());
    for (const DispMonitor& m : monitors) {
        const double scale =
            m.desktop_scale >= 100 && m.desktop_scale <= 500 ? m.desktop_scale / 100.0 : 1.0;
        // Sizes beyond int32 are absurd either way; normalize_layout refuses them.
        const auto side = [](uint32_t v) { return int32_t(std::min<uint32_t>(v, INT32_MAX)); };
        out.push_back(Monitor{m.left, m.top, side(m.width), side(m.height), scale,
                              (m.flags & DISPLAY_CONTROL_MONITOR_PRIMARY) != 0});
    }
    return out;
}

RdpDisp::RdpDisp(asio::io_context& io, void* vcm, LayoutHandler on_layout)
    : io_(io), on_layout_(std::move(on_layout)) {
    context_ = disp_server_context_new(static_cast<HANDLE>(vcm));
    if (!context_)
        throw std::runtime_error("disp_server_context_new failed");
    context_->custom = this;
    context_->MaxNumMonitors = kMaxMonitors;
    // The largest layout area is A x B pixels: one 8192x8192 desktop.
    context_->MaxMonitorAreaFactorA = kMaxSide;
    context_->MaxMonitorAreaFactorB = kMaxSide;
    context_->DispMonitorLayout = on_monitor_layout;
}

RdpDisp::~RdpDisp() {
    *alive_ = false;
    if (context_) {
        if (open_)
            context_->Close(context_);  // joins the channel thread
        disp_server_context_free(context_);
    }
}

bool RdpDisp::start() {
    if (context_->Open(context_) != CHANNEL_RC_OK)
        return false;
    open_ = true;
    return context_->DisplayControlCaps(context_) == CHANNEL_RC_OK;
}

void RdpDisp::layout_received(std::vector<DispMonitor> monitors) {
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), m = std::move(monitors)] {
        if (alive.expired())
            return;
        on_layout_(m);
    });
}

}  // namespace deskpod
