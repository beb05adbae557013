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

// Writes rows through libpng; `bgrx` input strips the filler byte and swaps to RGB.
Bytes write_png(int width, int height, bool bgrx, const uint8_t* first_row, size_t stride) {
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
    png_set_compression_level(png, 1);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
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
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return out;
}

}  // namespace

Bytes encode_png_bgrx(const uint8_t* first_row, int width, int height, size_t stride) {
    return write_png(width, height, true, first_row, stride);
}

Bytes encode_png_rgba(const uint8_t* rgba, int width, int height) {
    return write_png(width, height, false, rgba, size_t(width) * 4);
}

}  // namespace deskpod
