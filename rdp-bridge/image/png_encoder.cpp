#include "rdp-bridge/image/png_encoder.hpp"

#include <png.h>

#include <csetjmp>
#include <stdexcept>

namespace deskpod {
namespace {

using Bytes = std::vector<uint8_t>;

void png_write_to_vector(png_structp png, png_bytep data, png_size_t length) {
    auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + length);
}
void png_flush_nothing(png_structp) {}

// One PNG into memory: libpng's write and info structs, its error jump (libpng reports errors by
// longjmp to the setjmp here, which stays valid while `body` runs inside this frame), the
// compression level and row filter; `body` writes the header and rows.
template <typename Body>
Bytes write_with_libpng(int level, int filter, Body&& body) {
    Bytes out;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    if (!png)
        throw std::runtime_error("png_create_write_struct failed");
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : nullptr);
        throw std::runtime_error("PNG encoding failed");
    }
    png_set_write_fn(png, &out, png_write_to_vector, png_flush_nothing);
    png_set_compression_level(png, level);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, filter);
    body(png, info);
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return out;
}

// Writes rows through libpng; `bgrx` input strips the filler byte and swaps to RGB.
Bytes write_png(int width, int height, bool bgrx, const uint8_t* first_row, size_t stride) {
    return write_with_libpng(1, PNG_FILTER_SUB, [&](png_structp png, png_infop info) {
        png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8,
                     bgrx ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
        png_write_info(png, info);
        if (bgrx) {
            png_set_bgr(png);
            png_set_filler(png, 0, PNG_FILLER_AFTER);
        }
        for (int y = 0; y < height; ++y)
            png_write_row(png, const_cast<png_bytep>(first_row + size_t(y) * stride));
    });
}

}  // namespace

Bytes encode_png_indexed(const uint8_t* indices, int width, int height, const uint32_t* palette,
                         int colours, int level) {
    if (colours < 1 || colours > 256)
        throw std::runtime_error("PNG palette needs 1 to 256 colours");
    const int depth = colours <= 2 ? 1 : colours <= 4 ? 2 : colours <= 16 ? 4 : 8;
    // Palette rows compress best unfiltered (filters predict smooth colour, not indices).
    return write_with_libpng(level, PNG_FILTER_NONE, [&](png_structp png, png_infop info) {
        png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), depth,
                     PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE,
                     PNG_FILTER_TYPE_BASE);
        png_color entries[256];
        for (int i = 0; i < colours; ++i) {
            entries[i].red = png_byte(palette[i] >> 16);
            entries[i].green = png_byte(palette[i] >> 8);
            entries[i].blue = png_byte(palette[i]);
        }
        png_set_PLTE(png, info, entries, colours);
        png_write_info(png, info);
        if (depth < 8)
            png_set_packing(png);  // one index per input byte; libpng packs them
        for (int y = 0; y < height; ++y)
            png_write_row(png, const_cast<png_bytep>(indices + size_t(y) * size_t(width)));
    });
}

Bytes encode_png_bgrx(const uint8_t* first_row, int width, int height, size_t stride) {
    return write_png(width, height, true, first_row, stride);
}

Bytes encode_png_rgba(const uint8_t* rgba, int width, int height) {
    return write_png(width, height, false, rgba, size_t(width) * 4);
}

}  // namespace deskpod
