// PNG encoding for everything the network side sends as PNG: Guacamole display tiles and
// cursors, and clipboard images. One writer, tuned for speed: these are encoded while a person
// waits, and zlib level 1 with the SUB filter is several times faster than libpng's defaults
// while still compressing flat UI colours well.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace deskpod {

// Rows of XRGB8888 (bytes B,G,R,X), as in the desktop mirror; written as 8-bit RGB.
// Throws std::runtime_error when libpng fails.
std::vector<uint8_t> encode_png_bgrx(const uint8_t* first_row, int width, int height,
                                     size_t stride);

// Straight (non-premultiplied) RGBA, tightly packed; written as 8-bit RGBA.
// Throws std::runtime_error when libpng fails.
std::vector<uint8_t> encode_png_rgba(const uint8_t* rgba, int width, int height);

}  // namespace deskpod
