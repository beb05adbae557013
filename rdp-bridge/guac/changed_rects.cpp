#include "rdp-bridge/guac/changed_rects.hpp"

#include <algorithm>
#include <cstring>

namespace deskpod::guac {

namespace {

bool same_pixel(const uint8_t* a, const uint8_t* b) {
    uint32_t p, q;
    std::memcpy(&p, a, 4);
    std::memcpy(&q, b, 4);
    return ((p ^ q) & 0x00FFFFFF) == 0;
}

Rect bounding_box(const Rect& a, const Rect& b) {
    const int32_t x0 = std::min(a.x, b.x), y0 = std::min(a.y, b.y);
    const int32_t x1 = std::max(a.x + a.width, b.x + b.width);
    const int32_t y1 = std::max(a.y + a.height, b.y + b.height);
    return Rect{x0, y0, x1 - x0, y1 - y0};
}

}  // namespace

Rect changed_bounds(const ImageView& before, const ImageView& after, const Rect& area) {
    int32_t x0 = area.x + area.width, x1 = area.x, y0 = -1, y1 = -1;
    const size_t row_bytes = size_t(area.width) * 4;
    for (int32_t y = area.y; y < area.y + area.height; ++y) {
        const uint8_t* a = before.pixels + size_t(y) * size_t(before.stride) + size_t(area.x) * 4;
        const uint8_t* b = after.pixels + size_t(y) * size_t(after.stride) + size_t(area.x) * 4;
        if (std::memcmp(a, b, row_bytes) == 0)
            continue;
        // The columns left and right of the box found so far decide how far it grows; the
        // ones inside it only whether this row has a difference at all.
        const int32_t inner_left = std::max(0, x0 - area.x);
        const int32_t inner_right = std::min(area.width, x1 - area.x);
        int32_t left = 0;
        while (left < area.width && left < inner_left && same_pixel(a + left * 4, b + left * 4))
            ++left;
        int32_t right = area.width - 1;
        while (right >= left && right >= inner_right && same_pixel(a + right * 4, b + right * 4))
            --right;
        if (right < left)
            continue;  // only X bytes differ
        if (left >= inner_left && right < inner_right) {
            // Nothing outside the box: does anything inside it differ?
            int32_t x = left;
            while (x <= right && same_pixel(a + x * 4, b + x * 4))
                ++x;
            if (x > right)
                continue;
        }
        x0 = std::min(x0, area.x + left);
        x1 = std::max(x1, area.x + right + 1);
        if (y0 < 0)
            y0 = y;
        y1 = y + 1;
    }
    if (y0 < 0)
        return Rect{};
    return Rect{x0, y0, x1 - x0, y1 - y0};
}

std::vector<Rect> merge_rects(std::vector<Rect> rects, int64_t slack) {
    // Greedy passes: each rectangle absorbs every later one that qualifies (looking again
    // after it grew), and passes repeat until one merges nothing. Changed cells are few except
    // when most of the screen changes, and then whole cells merge at no waste in the first
    // pass, so there are rarely more than two; a pair check is a handful of integer operations.
    bool merged = true;
    while (merged) {
        merged = false;
        for (size_t i = 0; i < rects.size(); ++i) {
            for (size_t j = i + 1; j < rects.size();) {
                const Rect box = bounding_box(rects[i], rects[j]);
                if (box.area() > rects[i].area() + rects[j].area() + slack) {
                    ++j;
                    continue;
                }
                rects[i] = box;
                rects[j] = rects.back();
                rects.pop_back();
                merged = true;
                j = i + 1;
            }
        }
    }
    return rects;
}

}  // namespace deskpod::guac
