// One RDP peer's Display Control channel (MS-RDPEDISP): a client that resizes its window (or
// changes its monitors) sends a monitor layout, and the desktop follows it.
//
// FreeRDP 2.11's disp server always reads the channel on a thread of its own, so the layout
// callback runs there: it only copies the PDU's numbers and posts them to the network thread,
// where the peer acts on them. Opened once drdynvc is ready (RdpPeer::pump checks).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "rdp-bridge/asio.hpp"
#include "rdp-bridge/rdp/server_channel.hpp"
#include "shared/monitors.hpp"

typedef struct _disp_server_context DispServerContext;

namespace deskpod {

// One monitor of a layout PDU, as the client sent it.
struct DispMonitor {
    uint32_t flags = 0;  // bit 0: primary
    int32_t left = 0;
    int32_t top = 0;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t desktop_scale = 0;  // percent (100..500), 0: not given
};

// The monitors a layout PDU describes, in the client's coordinates, each with its desktop
// scale (100..500 percent; anything else, or none, is 1.0). normalize_layout() (shared/
// monitors.hpp) then decides whether the desktop can take it.
MonitorLayout disp_layout(const std::vector<DispMonitor>& monitors);

class RdpDisp {
  public:
    // Network thread: `on_layout` is called with the client's layouts, one at a time.
    using LayoutHandler = std::function<void(const std::vector<DispMonitor>&)>;

    RdpDisp(boost::asio::io_context& io, void* vcm, LayoutHandler on_layout);
    ~RdpDisp();  // stops FreeRDP's channel thread
    RdpDisp(const RdpDisp&) = delete;
    RdpDisp& operator=(const RdpDisp&) = delete;

    // Opens the channel and sends our capabilities (false: the client has no disp channel).
    bool start();

    static constexpr uint32_t kMaxMonitors = 16;

    // FreeRDP's channel thread.
    void layout_received(std::vector<DispMonitor> monitors);

  private:
    boost::asio::io_context& io_;
    LayoutHandler on_layout_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    ServerChannel<DispServerContext> channel_;  // last: stopped first
};

}  // namespace deskpod
