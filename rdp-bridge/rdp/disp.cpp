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
    : io_(io),
      on_layout_(std::move(on_layout)),
      channel_(disp_server_context_new(static_cast<HANDLE>(vcm)), disp_server_context_free,
               "disp_server_context_new") {
    channel_->custom = this;
    channel_->MaxNumMonitors = kMaxMonitors;
    // The largest layout area is A x B pixels: one 8192x8192 desktop.
    channel_->MaxMonitorAreaFactorA = kMaxSide;
    channel_->MaxMonitorAreaFactorB = kMaxSide;
    channel_->DispMonitorLayout = on_monitor_layout;
}

RdpDisp::~RdpDisp() {
    *alive_ = false;  // then channel_ closes and joins the channel thread
}

bool RdpDisp::start() {
    if (channel_->Open(channel_.get()) != CHANNEL_RC_OK)
        return false;
    channel_.opened();
    return channel_->DisplayControlCaps(channel_.get()) == CHANNEL_RC_OK;
}

void RdpDisp::layout_received(std::vector<DispMonitor> monitors) {
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), m = std::move(monitors)] {
        if (alive.expired())
            return;
        on_layout_(m);
    });
}

}  // namespace deskpod
