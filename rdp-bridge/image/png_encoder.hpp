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

// Palette images (at most 256 colours): one byte per pixel indexing `palette` (0xRRGGBB),
// tightly packed; written with the smallest bit depth that holds `colours` entries (1, 2, 4
// or 8 bits), at zlib `level`. Text and flat UI colours need a few colours, so this is several
// times smaller than RGB and cheap enough to compress harder.
// Throws std::runtime_error when libpng fails.
std::vector<uint8_t> encode_png_indexed(const uint8_t* indices, int width, int height,
                                        const uint32_t* palette, int colours, int level);

// Straight (non-premultiplied) RGBA, tightly packed; written as 8-bit RGBA.
// Throws std::runtime_error when libpng fails.
std::vector<uint8_t> encode_png_rgba(const uint8_t* rgba, int width, int height);

}  // namespace deskpod
