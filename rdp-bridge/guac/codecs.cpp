#include "rdp-bridge/guac/codecs.hpp"

#include "rdp-bridge/image/png_encoder.hpp"

#include <turbojpeg.h>
#include <webp/encode.h>

#include <memory>
#include <stdexcept>

namespace deskpod::guac {

namespace {

const uint8_t* origin(const ImageView& image, const Rect& rect) {
    return image.pixels + size_t(rect.y) * size_t(image.stride) + size_t(rect.x) * 4;
}

}  // namespace

Bytes encode_png(const ImageView& image, const Rect& rect) {
    return encode_png_bgrx(origin(image, rect), rect.width, rect.height, size_t(image.stride));
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
