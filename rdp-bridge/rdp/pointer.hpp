// Converts the compositor's cursor image into RDP's 32 bpp pointer masks.
#pragma once

#include <cstdint>
#include <vector>

#include "shared/events.hpp"

namespace deskpod {

struct PointerImage {
    uint16_t width = 0;
    uint16_t height = 0;
    uint16_t hotspot_x = 0;
    uint16_t hotspot_y = 0;
    // 32 bpp XOR mask with straight alpha (B,G,R,A bytes), rows bottom-up as RDP wants.
    std::vector<uint8_t> xor_mask;
    // 1 bpp AND mask, rows padded to 2 bytes, bottom-up. All zero: the alpha channel decides.
    std::vector<uint8_t> and_mask;
};

// Crops to `max_size` (96 for TS_POINTER_NEW, 384 for large pointers) keeping the hotspot.
PointerImage make_pointer_image(const CursorEvent& cursor, int32_t max_size);

}  // namespace deskpod
