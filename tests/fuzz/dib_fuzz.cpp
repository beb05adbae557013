// libFuzzer target: the CF_DIB / CF_DIBV5 parser (bitmaps from remote RDP clients) and the PNG
// reader (images from desktop apps).
#include <cstddef>
#include <cstdint>

#include "rdp-bridge/clipboard/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A small pixel budget keeps each run fast; the limits are what is being tested.
    if (auto png = deskpod::clipformat::png_from_dib(data, size, 1 << 20)) {
        auto dib = deskpod::clipformat::dib_from_png(png->data(), png->size(), true, 1 << 20);
        if (!dib)
            __builtin_trap();  // our own PNG must decode
    }
    deskpod::clipformat::dib_from_png(data, size, false, 1 << 20);
    return 0;
}
