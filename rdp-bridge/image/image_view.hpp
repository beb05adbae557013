// A read-only view of XRGB8888 pixels (bytes B,G,R,X), e.g. the desktop mirror.
#pragma once

#include <cstdint>

namespace deskpod {

struct ImageView {
    const uint8_t* pixels = nullptr;
    int32_t width = 0;
    int32_t height = 0;
    int32_t stride = 0;
};

}  // namespace deskpod
