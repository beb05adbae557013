// libFuzzer target for the monitor layouts an RDP client asks for: the Display Control layout
// PDU's monitors as FreeRDP decoded them (any flags, positions, sizes and scales; FreeRDP
// already bounds their number), through disp_layout() and normalize_layout() as the peer does.
// A layout the desktop takes must hold what normalize_layout() promises: 1..16 monitors from
// 0,0 inside an 8192x8192 box, each at least 320x200 with an even width, none overlapping,
// scales in [1, 5], exactly one primary; and normalizing it again changes nothing.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "rdp-bridge/rdp/disp.hpp"
#include "shared/monitors.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace deskpod;

namespace {

void check_layout(const NormalizedLayout& layout) {
    const auto& m = layout.monitors;
    FUZZ_CHECK(!m.empty() && m.size() <= MonitorLimits::kMaxMonitors);
    FUZZ_CHECK(layout.width > 0 && layout.width <= MonitorLimits::kMaxSide);
    FUZZ_CHECK(layout.height > 0 && layout.height <= MonitorLimits::kMaxSide);
    const Rect bounds = layout_bounds(m);
    FUZZ_CHECK(bounds.x == 0 && bounds.y == 0);
    FUZZ_CHECK(bounds.width == layout.width && bounds.height == layout.height);
    int primaries = 0;
    for (size_t i = 0; i < m.size(); ++i) {
        FUZZ_CHECK(m[i].width >= MonitorLimits::kMinWidth && m[i].width % 2 == 0);
        FUZZ_CHECK(m[i].height >= MonitorLimits::kMinHeight);
        FUZZ_CHECK(m[i].x >= 0 && m[i].y >= 0);
        FUZZ_CHECK(int64_t(m[i].x) + m[i].width <= layout.width);
        FUZZ_CHECK(int64_t(m[i].y) + m[i].height <= layout.height);
        FUZZ_CHECK(std::isfinite(m[i].scale) && m[i].scale >= MonitorLimits::kMinScale &&
                   m[i].scale <= MonitorLimits::kMaxScale);
        primaries += m[i].primary ? 1 : 0;
        for (size_t j = 0; j < i; ++j) {
            const Rect a = m[i].rect(), b = m[j].rect();
            const bool apart = a.x + a.width <= b.x || b.x + b.width <= a.x ||
                               a.y + a.height <= b.y || b.y + b.height <= a.y;
            FUZZ_CHECK(apart);
        }
    }
    FUZZ_CHECK(primaries == 1);
    FUZZ_CHECK(layout_positions(m).size() == m.size());
    FUZZ_CHECK(!describe_layout(m).empty());
}

uint32_t side(fuzz::Input& in) {
    // Mostly plausible sizes, sometimes anything a 32-bit field holds.
    const uint32_t v = in.u32();
    return (v & 0x80000000u) ? v : v % 10000;
}

int32_t position(fuzz::Input& in) {
    const uint32_t v = in.u32();
    return (v & 0x80000000u) ? int32_t(v) : int32_t(v % 20000) - 10000;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::Input in(data, size);
    std::vector<DispMonitor> monitors(in.u8() % (RdpDisp::kMaxMonitors + 2));
    for (DispMonitor& m : monitors) {
        m.flags = in.u8();
        m.left = position(in);
        m.top = position(in);
        m.width = side(in);
        m.height = side(in);
        m.desktop_scale = in.u16() % 600;
    }
    const MonitorLayout asked = disp_layout(monitors);
    FUZZ_CHECK(asked.size() == monitors.size());
    for (const Monitor& m : asked)
        FUZZ_CHECK(m.width >= 0 && m.height >= 0 && m.scale >= 1.0 && m.scale <= 5.0);
    std::string why;
    const auto layout = normalize_layout(asked, &why);
    if (!layout) {
        FUZZ_CHECK(!why.empty());
        return 0;
    }
    check_layout(*layout);
    std::string again_why;
    const auto again = normalize_layout(layout->monitors, &again_why);
    FUZZ_CHECK(again && again->monitors == layout->monitors && !again->adjusted);
    return 0;
}
