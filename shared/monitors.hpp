// Monitor layouts: how the one desktop is split into outputs. A client describes its monitors
// (RDP client monitor data, Display Control layouts) in its own virtual-screen pixels; the
// desktop keeps the same arrangement, shifted so the bounding box starts at 0,0. The desktop
// size every viewer sees is that bounding box.
//
// Two coordinate spaces meet here. Desktop pixels are what viewers see and what the capture
// writes. Layout coordinates are what Wayland clients see (wlr_output_layout): a monitor at
// scale 2 covers half as many layout units as it has pixels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/geometry.hpp"

namespace deskpod {

struct Monitor {
    int32_t x = 0;  // desktop pixels, relative to the bounding box's top-left
    int32_t y = 0;
    int32_t width = 0;
    int32_t height = 0;
    double scale = 1.0;  // HiDPI factor: 1.0 none, 2.0 for a "200 %" desktop
    bool primary = false;

    Rect rect() const { return Rect{x, y, width, height}; }
    bool operator==(const Monitor&) const = default;
};

using MonitorLayout = std::vector<Monitor>;

struct MonitorLimits {
    static constexpr int32_t kMinWidth = 320;
    static constexpr int32_t kMinHeight = 200;
    static constexpr int32_t kMaxSide = 8192;  // per monitor and for the whole bounding box
    static constexpr size_t kMaxMonitors = 16;
    static constexpr double kMinScale = 1.0;
    static constexpr double kMaxScale = 5.0;
};

// The result of checking a layout a client asked for.
struct NormalizedLayout {
    MonitorLayout monitors;
    int32_t width = 0;  // bounding box
    int32_t height = 0;
    bool adjusted = false;  // something was clamped, rounded or dropped: worth a log line
};

// Turns a client's layout into one the desktop can take: shifts it so the bounding box starts
// at 0,0, clamps each monitor to kMinWidth x kMinHeight (growing it right/down), drops exact
// duplicates (mirrored monitors), rounds widths down to even (MS-RDPEDISP asks for it),
// clamps scales into [kMinScale, kMaxScale] and makes exactly one monitor primary (the
// first flagged one, else the first). `error` says why a layout is refused instead: no
// monitors, more than kMaxMonitors, a zero or absurd size, a bounding box over kMaxSide, or
// monitors that overlap (the desktop has one pixel per place).
std::optional<NormalizedLayout> normalize_layout(MonitorLayout monitors, std::string* error);

// One monitor covering a whole desktop of this size.
MonitorLayout single_monitor(int32_t width, int32_t height, double scale = 1.0);

// Bounding box of a (normalized) layout.
Rect layout_bounds(const MonitorLayout& monitors);

// Where each monitor goes in layout coordinates (same order). With one scale for all
// monitors this is the pixel position divided by the scale. With mixed scales, monitors that
// touch in pixels touch in the layout too: each monitor starts where its row neighbours to the
// left (column neighbours above) end, so rows and columns have neither gaps nor overlaps.
struct LayoutPoint {
    int32_t x = 0;
    int32_t y = 0;
};
std::vector<LayoutPoint> layout_positions(const MonitorLayout& monitors);

// "800x600+0+0@2,640x480+800+0" (the primary marked with '*'): for log lines.
std::string describe_layout(const MonitorLayout& monitors);

}  // namespace deskpod
