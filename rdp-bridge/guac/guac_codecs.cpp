#include "guac_codecs.hpp"

#include <png.h>
#include <turbojpeg.h>
#include <webp/encode.h>

#include <csetjmp>
#include <memory>
#include <stdexcept>

namespace deskpod::guac {

namespace {

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

const uint8_t* origin(const ImageView& image, const Rect& rect) {
    return image.pixels + size_t(rect.y) * size_t(image.stride) + size_t(rect.x) * 4;
}

}  // namespace

Bytes encode_png(const ImageView& image, const Rect& rect) {
    return write_png(rect.width, rect.height, true, origin(image, rect), size_t(image.stride));
}

Bytes encode_png_rgba(const uint8_t* rgba, int width, int height) {
    return write_png(width, height, false, rgba, size_t(width) * 4);
}

Bytes encode_jpeg(const ImageView& image, const Rect& rect, int quality) {
    // One compressor per thread: creating it costs more than encoding a small tile.
    thread_local std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitCompress(), tjDestroy);
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    if (tjCompress2(handle.get(), origin(image, rect), rect.width, image.stride, rect.height,
                    TJPF_BGRX, &jpeg, &size, TJSAMP_420, quality, TJFLAG_FASTDCT) != 0) {
        tjFree(jpeg);
        throw std::runtime_error(std::string("JPEG encoding failed: ") +
                                 tjGetErrorStr2(handle.get()));
    }
    Bytes out(jpeg, jpeg + size);
    tjFree(jpeg);
    return out;
}

Bytes encode_webp(const ImageView& image, const Rect& rect, int quality) {
    WebPConfig config;
    WebPPicture picture;
    if (!WebPConfigInit(&config) || !WebPPictureInit(&picture))
        throw std::runtime_error("libwebp version mismatch");
    config.quality = float(quality);
    config.method = 0;  // fastest: this runs per frame on the network thread
    picture.use_argb = 1;
    picture.width = rect.width;
    picture.height = rect.height;
    if (!WebPPictureImportBGRX(&picture, origin(image, rect), image.stride))
        throw std::runtime_error("WebP import failed");
    WebPMemoryWriter writer;
    WebPMemoryWriterInit(&writer);
    picture.writer = WebPMemoryWrite;
    picture.custom_ptr = &writer;
    const bool ok = WebPEncode(&config, &picture);
    WebPPictureFree(&picture);
    Bytes out;
    if (ok)
        out.assign(writer.mem, writer.mem + writer.size);
    WebPMemoryWriterClear(&writer);
    if (!ok)
        throw std::runtime_error("WebP encoding failed");
    return out;
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(const uint8_t* data, size_t size) {
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const uint32_t v = uint32_t(data[i]) << 16 | uint32_t(data[i + 1]) << 8 | data[i + 2];
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < size) {
        uint32_t v = uint32_t(data[i]) << 16;
        if (i + 1 < size)
            v |= uint32_t(data[i + 1]) << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < size ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

bool base64_decode(std::string_view text, std::string& out) {
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=')
            break;
        else
            return false;
        acc = (acc << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((acc >> bits) & 0xFF);
        }
    }
    return true;
}

}  // namespace deskpod::guac
