#include "rdp-bridge/rdp/pointer.hpp"

#include <algorithm>

namespace deskpod {

PointerImage make_pointer_image(const CursorEvent& cursor, int32_t max_size) {
    PointerImage out;
    const int32_t width = std::clamp(cursor.width, 1, max_size);
    const int32_t height = std::clamp(cursor.height, 1, max_size);
    out.width = uint16_t(width);
    out.height = uint16_t(height);
    out.hotspot_x = uint16_t(std::clamp(cursor.hotspot_x, 0, width - 1));
    out.hotspot_y = uint16_t(std::clamp(cursor.hotspot_y, 0, height - 1));
    out.xor_mask.assign(size_t(width) * size_t(height) * 4, 0);
    const size_t and_stride = size_t((width + 15) / 16) * 2;
    out.and_mask.assign(and_stride * size_t(height), 0);
    const bool has_pixels = cursor.pixels.size() >= size_t(cursor.width) * size_t(cursor.height);
    if (!has_pixels)
        return out;
    for (int32_t y = 0; y < height; ++y) {
        uint8_t* row = &out.xor_mask[size_t(height - 1 - y) * size_t(width) * 4];
        for (int32_t x = 0; x < width; ++x) {
            const uint32_t argb = cursor.pixels[size_t(y) * size_t(cursor.width) + size_t(x)];
            const uint32_t a = argb >> 24;
            uint32_t r = (argb >> 16) & 0xFF;
            uint32_t g = (argb >> 8) & 0xFF;
            uint32_t b = argb & 0xFF;
            // The compositor hands premultiplied pixels; RDP pointers carry straight alpha.
            if (a != 0 && a != 0xFF) {
                r = std::min<uint32_t>(255, (r * 255 + a / 2) / a);
                g = std::min<uint32_t>(255, (g * 255 + a / 2) / a);
                b = std::min<uint32_t>(255, (b * 255 + a / 2) / a);
            }
            row[x * 4 + 0] = uint8_t(b);
            row[x * 4 + 1] = uint8_t(g);
            row[x * 4 + 2] = uint8_t(r);
            row[x * 4 + 3] = uint8_t(a);
        }
    }
    return out;
}

}  // namespace deskpod
