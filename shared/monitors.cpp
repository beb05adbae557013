#include "shared/monitors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include <fmt/format.h>

namespace deskpod {

namespace {

bool overlaps(const Monitor& a, const Monitor& b) {
    const auto end = [](int32_t pos, int32_t size) { return int64_t(pos) + size; };
    return a.x < end(b.x, b.width) && b.x < end(a.x, a.width) && a.y < end(b.y, b.height) &&
           b.y < end(a.y, a.height);
}

// The bounding box in 64 bits: a client may place monitors anywhere in int32, so the span
// may not fit in 32 bits.
struct Extents {
    int64_t left = INT64_MAX, top = INT64_MAX, right = INT64_MIN, bottom = INT64_MIN;
};
Extents extents(const MonitorLayout& monitors) {
    Extents e;
    for (const Monitor& m : monitors) {
        e.left = std::min<int64_t>(e.left, m.x);
        e.top = std::min<int64_t>(e.top, m.y);
        e.right = std::max<int64_t>(e.right, int64_t(m.x) + m.width);
        e.bottom = std::max<int64_t>(e.bottom, int64_t(m.y) + m.height);
    }
    return e;
}

// The layout width of a monitor, as wlroots computes an output's effective resolution.
int32_t logical(int32_t pixels, double scale) {
    return int32_t(pixels / scale);
}

}  // namespace

MonitorLayout single_monitor(int32_t width, int32_t height, double scale) {
    return MonitorLayout{Monitor{0, 0, width, height, scale, true}};
}

Rect layout_bounds(const MonitorLayout& monitors) {
    if (monitors.empty())
        return Rect{};
    int64_t left = INT64_MAX, top = INT64_MAX, right = INT64_MIN, bottom = INT64_MIN;
    for (const Monitor& m : monitors) {
        left = std::min<int64_t>(left, m.x);
        top = std::min<int64_t>(top, m.y);
        right = std::max<int64_t>(right, int64_t(m.x) + m.width);
        bottom = std::max<int64_t>(bottom, int64_t(m.y) + m.height);
    }
    return Rect{int32_t(left), int32_t(top), int32_t(right - left), int32_t(bottom - top)};
}

std::optional<NormalizedLayout> normalize_layout(MonitorLayout monitors, std::string* error) {
    using L = MonitorLimits;
    auto fail = [&](std::string why) -> std::optional<NormalizedLayout> {
        if (error)
            *error = std::move(why);
        return std::nullopt;
    };
    if (monitors.empty())
        return fail("no monitors");
    if (monitors.size() > L::kMaxMonitors) {
        return fail(fmt::format("{} monitors (at most {})", monitors.size(), L::kMaxMonitors));
    }
    NormalizedLayout out;
    for (Monitor& m : monitors) {
        if (m.width <= 0 || m.height <= 0 || m.width > L::kMaxSide || m.height > L::kMaxSide) {
            return fail(fmt::format("a monitor of {}x{}", m.width, m.height));
        }
        const int32_t w = std::max(m.width & ~1, L::kMinWidth);
        const int32_t h = std::max(m.height, L::kMinHeight);
        double scale = std::isfinite(m.scale) ? m.scale : 1.0;
        scale = std::clamp(scale, L::kMinScale, L::kMaxScale);
        if (w != m.width || h != m.height || scale != m.scale)
            out.adjusted = true;
        m.width = w;
        m.height = h;
        m.scale = scale;
    }
    // Mirrored monitors show the same pixels: one output serves them all.
    for (size_t i = 0; i < monitors.size(); ++i) {
        for (size_t j = monitors.size(); j-- > i + 1;) {
            if (monitors[j].rect() == monitors[i].rect()) {
                monitors[i].primary = monitors[i].primary || monitors[j].primary;
                monitors.erase(monitors.begin() + std::ptrdiff_t(j));
                out.adjusted = true;
            }
        }
    }
    for (size_t i = 0; i < monitors.size(); ++i) {
        for (size_t j = i + 1; j < monitors.size(); ++j) {
            if (overlaps(monitors[i], monitors[j])) {
                return fail(fmt::format("monitors {} and {} overlap", i + 1, j + 1));
            }
        }
    }
    const Extents e = extents(monitors);
    if (e.right - e.left > L::kMaxSide || e.bottom - e.top > L::kMaxSide) {
        return fail(fmt::format("a desktop of {}x{} (at most {} a side)", e.right - e.left,
                                e.bottom - e.top, L::kMaxSide));
    }
    const Rect box = layout_bounds(monitors);
    bool have_primary = false;
    for (Monitor& m : monitors) {
        m.x -= box.x;
        m.y -= box.y;
        if (m.primary && have_primary)
            m.primary = false;
        have_primary = have_primary || m.primary;
    }
    if (!have_primary)
        monitors.front().primary = true;
    out.monitors = std::move(monitors);
    out.width = box.width;
    out.height = box.height;
    return out;
}

std::vector<LayoutPoint> layout_positions(const MonitorLayout& monitors) {
    std::vector<LayoutPoint> out(monitors.size());
    if (monitors.empty())
        return out;
    const double first_scale = monitors.front().scale;
    const bool uniform = std::all_of(monitors.begin(), monitors.end(),
                                     [&](const Monitor& m) { return m.scale == first_scale; });
    if (uniform) {
        for (size_t i = 0; i < monitors.size(); ++i) {
            out[i] = LayoutPoint{int32_t(std::lround(monitors[i].x / first_scale)),
                                 int32_t(std::lround(monitors[i].y / first_scale))};
        }
        return out;
    }
    // Mixed scales: walk the monitors in pixel order along each axis; a monitor starts at the
    // far end of the monitors before it on that axis that share some of its other axis (its
    // row or column neighbours). A monitor without such neighbours keeps its pixel position
    // divided by its scale.
    std::vector<size_t> order(monitors.size());
    std::iota(order.begin(), order.end(), size_t(0));
    auto place_axis = [&](auto pos, auto size, auto other_pos, auto other_size, auto set) {
        std::sort(order.begin(), order.end(),
                  [&](size_t a, size_t b) { return pos(monitors[a]) < pos(monitors[b]); });
        std::vector<int32_t> start(monitors.size(), 0);
        for (size_t k = 0; k < order.size(); ++k) {
            const Monitor& m = monitors[order[k]];
            int32_t s = pos(m) == 0 ? 0 : int32_t(std::lround(pos(m) / m.scale));
            bool neighbour = false;
            for (size_t p = 0; p < k; ++p) {
                const Monitor& n = monitors[order[p]];
                const bool shares = other_pos(n) < other_pos(m) + other_size(m) &&
                                    other_pos(m) < other_pos(n) + other_size(n);
                if (shares && pos(n) + size(n) <= pos(m)) {
                    const int32_t end = start[order[p]] + logical(size(n), n.scale);
                    s = neighbour ? std::max(s, end) : end;
                    neighbour = true;
                }
            }
            start[order[k]] = s;
            set(out[order[k]], s);
        }
    };
    auto px = [](const Monitor& m) { return m.x; };
    auto py = [](const Monitor& m) { return m.y; };
    auto pw = [](const Monitor& m) { return m.width; };
    auto ph = [](const Monitor& m) { return m.height; };
    place_axis(px, pw, py, ph, [](LayoutPoint& p, int32_t v) { p.x = v; });
    place_axis(py, ph, px, pw, [](LayoutPoint& p, int32_t v) { p.y = v; });
    return out;
}

std::string describe_layout(const MonitorLayout& monitors) {
    std::string out;
    for (const Monitor& m : monitors) {
        if (!out.empty())
            out += ',';
        out += fmt::format("{}{}x{}+{}+{}", m.primary ? "*" : "", m.width, m.height, m.x, m.y);
        if (m.scale != 1.0)
            out += fmt::format("@{:g}", m.scale);
    }
    return out;
}

}  // namespace deskpod
