#include "rdp-bridge/guac/codecs.hpp"

#include "rdp-bridge/image/png_encoder.hpp"

#include <turbojpeg.h>
#include <webp/encode.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <memory>
#include <stdexcept>

namespace deskpod::guac {

namespace {

const uint8_t* origin(const ImageView& image, const Rect& rect) {
    return image.pixels + size_t(rect.y) * size_t(image.stride) + size_t(rect.x) * 4;
}

// Up to 256 distinct colours by open addressing (a colour never has the top byte set, so that
// marks empty slots), with the last colour cached: runs of one colour are the common case.
class Palette {
  public:
    static constexpr size_t kMax = 256;

    Palette() { std::fill(std::begin(keys_), std::end(keys_), kEmpty); }

    // The colour's index, adding it; -1 once more than kMax colours were seen.
    int index_of(uint32_t colour) {
        if (colour == last_colour_)
            return last_index_;
        size_t slot = (colour * 2654435761u) >> (32 - kBits);
        while (keys_[slot] != kEmpty && keys_[slot] != colour)
            slot = (slot + 1) & (kSlots - 1);
        if (keys_[slot] == kEmpty) {
            if (count_ == kMax)
                return -1;
            keys_[slot] = colour;
            indices_[slot] = uint8_t(count_);
            colours_[count_++] = colour;
        }
        last_colour_ = colour;
        last_index_ = indices_[slot];
        return last_index_;
    }
    size_t size() const { return count_; }
    const uint32_t* colours() const { return colours_; }

  private:
    static constexpr int kBits = 10;
    static constexpr size_t kSlots = size_t(1) << kBits;
    static constexpr uint32_t kEmpty = 0xFF000000;
    uint32_t keys_[kSlots];
    uint8_t indices_[kSlots];
    uint32_t colours_[kMax];
    size_t count_ = 0;
    uint32_t last_colour_ = kEmpty;
    int last_index_ = 0;
};

uint32_t pixel_at(const uint8_t* row, int x) {
    uint32_t p;
    std::memcpy(&p, row + size_t(x) * 4, 4);
    return p & 0x00FFFFFF;
}

// zlib level for palette PNGs: they are small (one byte per pixel before packing), so
// compressing harder costs little time and a third of their bytes.
constexpr int kPaletteLevel = 6;

}  // namespace

size_t count_colours(const ImageView& image, const Rect& rect, size_t limit) {
    Palette palette;
    limit = std::min(limit, Palette::kMax);
    for (int y = rect.y; y < rect.y + rect.height; ++y) {
        const uint8_t* row = image.pixels + size_t(y) * size_t(image.stride);
        for (int x = rect.x; x < rect.x + rect.width; ++x) {
            if (palette.index_of(pixel_at(row, x)) < 0 || palette.size() > limit)
                return limit + 1;
        }
    }
    return palette.size();
}

Bytes encode_png(const ImageView& image, const Rect& rect) {
    Palette palette;
    thread_local std::vector<uint8_t> indices;
    indices.resize(size_t(rect.width) * size_t(rect.height));
    uint8_t* out = indices.data();
    for (int y = rect.y; y < rect.y + rect.height; ++y) {
        const uint8_t* row = image.pixels + size_t(y) * size_t(image.stride);
        for (int x = rect.x; x < rect.x + rect.width; ++x) {
            const int index = palette.index_of(pixel_at(row, x));
            if (index < 0)
                return encode_png_bgrx(origin(image, rect), rect.width, rect.height,
                                       size_t(image.stride));
            *out++ = uint8_t(index);
        }
    }
    return encode_png_indexed(indices.data(), rect.width, rect.height, palette.colours(),
                              int(palette.size()), kPaletteLevel);
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

namespace {

// One WebP of `rect` with `config` (lossy or lossless).
Bytes webp_with(const ImageView& image, const Rect& rect, const WebPConfig& config) {
    WebPPicture picture;
    if (!WebPPictureInit(&picture))
        throw std::runtime_error("libwebp version mismatch");
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

WebPConfig webp_config() {
    WebPConfig config;
    if (!WebPConfigInit(&config))
        throw std::runtime_error("libwebp version mismatch");
    return config;
}

}  // namespace

Bytes encode_webp(const ImageView& image, const Rect& rect, int quality) {
    WebPConfig config = webp_config();
    config.quality = float(quality);
    config.method = 0;  // fastest: this runs per frame on the network thread
    return webp_with(image, rect, config);
}

Bytes encode_webp_lossless(const ImageView& image, const Rect& rect) {
    WebPConfig config = webp_config();
    // Lowest effort that still tries the colour-indexing transform: on 142 images deskpod sent
    // for xterm in tests/bench/guac_vs_guacd.py's terminal workload (mostly glyph-sized
    // patches) it came within 0.2 % of method 6's bytes in two thirds of its time.
    config.lossless = 1;
    config.method = 1;
    config.quality = 0;
    return webp_with(image, rect, config);
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
