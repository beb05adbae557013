#include "rdp-bridge/rdp/encoder.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "rdp-bridge/rdp/freerdp.hpp"

namespace deskpod {

namespace {
constexpr UINT32 kDesktopFormat = PIXEL_FORMAT_BGRX32;

// Owns a wStream for the duration of one encode.
struct StreamHolder {
    explicit StreamHolder(size_t capacity) : stream(Stream_New(nullptr, capacity)) {
        if (!stream)
            throw std::bad_alloc();
    }
    ~StreamHolder() { Stream_Free(stream, TRUE); }
    StreamHolder(const StreamHolder&) = delete;
    StreamHolder& operator=(const StreamHolder&) = delete;
    wStream* stream;
};
}  // namespace

std::vector<Rect> split_into_tiles(const Rect& rect, int32_t tile) {
    std::vector<Rect> tiles;
    if (rect.empty() || tile <= 0)
        return tiles;
    const int32_t x0 = rect.x - rect.x % tile;
    const int32_t y0 = rect.y - rect.y % tile;
    for (int32_t y = y0; y < rect.y + rect.height; y += tile) {
        for (int32_t x = x0; x < rect.x + rect.width; x += tile) {
            const int32_t left = std::max(x, rect.x);
            const int32_t top = std::max(y, rect.y);
            const int32_t right = std::min(x + tile, rect.x + rect.width);
            const int32_t bottom = std::min(y + tile, rect.y + rect.height);
            tiles.push_back(Rect{left, top, right - left, bottom - top});
        }
    }
    return tiles;
}

// ---- RemoteFX ------------------------------------------------------------------------------

RemoteFxEncoder::RemoteFxEncoder(bool headers_in_every_message, uint32_t quant_step)
    : context_(rfx_context_new(TRUE)), headers_in_every_message_(headers_in_every_message) {
    if (!context_)
        throw std::runtime_error("rfx_context_new failed");
    if (quant_step > 0) {
        // FreeRDP's defaults (rfx.c), one quantisation set for Y, Cb and Cr; the context frees
        // the array (it would have malloc'ed its own on first use).
        constexpr uint32_t kDefaults[10] = {6, 6, 6, 6, 7, 7, 8, 8, 8, 9};
        auto* quants = static_cast<UINT32*>(malloc(sizeof(kDefaults)));
        if (!quants) {
            rfx_context_free(context_);
            throw std::bad_alloc();
        }
        for (size_t i = 0; i < 10; ++i)
            quants[i] = std::min<uint32_t>(15, kDefaults[i] + quant_step);
        context_->quants = quants;
        context_->numQuant = 1;
        context_->quantIdxY = context_->quantIdxCb = context_->quantIdxCr = 0;
    }
    // RLGR3 is what Windows servers use for surface bits; RLGR1 is for the GFX progressive codec.
    context_->mode = RLGR3;
    rfx_context_set_pixel_format(context_, kDesktopFormat);
}

RemoteFxEncoder::~RemoteFxEncoder() {
    rfx_context_free(context_);
}

bool RemoteFxEncoder::encode(const ImageView& image, const std::vector<Rect>& rects,
                             size_t max_message_size, std::vector<std::vector<uint8_t>>& messages) {
    messages.clear();
    if (rects.empty())
        return true;
    if (image.width != width_ || image.height != height_) {
        if (!rfx_context_reset(context_, UINT32(image.width), UINT32(image.height)))
            return false;
        width_ = image.width;
        height_ = image.height;
    }
    std::vector<RFX_RECT> rfx_rects;
    rfx_rects.reserve(rects.size());
    for (const Rect& r : rects) {
        rfx_rects.push_back(RFX_RECT{UINT16(r.x), UINT16(r.y), UINT16(r.width), UINT16(r.height)});
    }
    size_t count = 0;
    RFX_MESSAGE* list = rfx_encode_messages_ex(
        context_, rfx_rects.data(), rfx_rects.size(), image.pixels, UINT32(image.width),
        UINT32(image.height), UINT32(image.stride), &count, max_message_size);
    if (!list)
        return false;

    // The split messages live in one array and share the first message's rectangle array
    // (the same ownership FreeRDP's shadow server unwinds).
    RFX_RECT* shared_rects = count > 0 ? list[0].rects : nullptr;
    bool ok = true;
    StreamHolder s(max_message_size + 4096);
    for (size_t i = 0; i < count; ++i) {
        Stream_SetPosition(s.stream, 0);
        if (headers_in_every_message_)
            context_->state = RFX_STATE_SEND_HEADERS;
        if (ok && rfx_write_message(context_, s.stream, &list[i])) {
            const uint8_t* data = Stream_Buffer(s.stream);
            messages.emplace_back(data, data + Stream_GetPosition(s.stream));
        } else {
            ok = false;
        }
        rfx_message_free(context_, &list[i]);
    }
    free(shared_rects);
    free(list);
    return ok;
}

// ---- NSCodec -------------------------------------------------------------------------------

NsCodecEncoder::NsCodecEncoder() : context_(nsc_context_new()) {
    if (!context_)
        throw std::runtime_error("nsc_context_new failed");
    nsc_context_set_parameters(context_, NSC_COLOR_FORMAT, kDesktopFormat);
}

NsCodecEncoder::~NsCodecEncoder() {
    nsc_context_free(context_);
}

bool NsCodecEncoder::encode(const ImageView& image, const Rect& rect, std::vector<uint8_t>& out) {
    out.clear();
    if (rect.empty())
        return true;
    if (!nsc_context_reset(context_, UINT32(rect.width), UINT32(rect.height)))
        return false;
    // Worst case (no RLE gain) is four full planes plus the header.
    StreamHolder s(size_t(rect.width) * size_t(rect.height) * 4 + 1024);
    const uint8_t* origin =
        image.pixels + size_t(rect.y) * size_t(image.stride) + size_t(rect.x) * 4;
    if (!nsc_compose_message(context_, s.stream, origin, UINT32(rect.width), UINT32(rect.height),
                             UINT32(image.stride))) {
        return false;
    }
    const uint8_t* data = Stream_Buffer(s.stream);
    out.assign(data, data + Stream_GetPosition(s.stream));
    return true;
}

// ---- Planar / interleaved ------------------------------------------------------------------

BitmapEncoder::BitmapEncoder()
    : planar_(freerdp_bitmap_planar_context_new(PLANAR_FORMAT_HEADER_RLE | PLANAR_FORMAT_HEADER_NA,
                                                kTileSize, kTileSize)),
      interleaved_(bitmap_interleaved_context_new(TRUE)) {
    if (!planar_ || !interleaved_) {
        freerdp_bitmap_planar_context_free(planar_);
        bitmap_interleaved_context_free(interleaved_);
        throw std::runtime_error("bitmap encoder contexts could not be created");
    }
}

BitmapEncoder::~BitmapEncoder() {
    freerdp_bitmap_planar_context_free(planar_);
    bitmap_interleaved_context_free(interleaved_);
}

bool BitmapEncoder::encode(const ImageView& image, const Rect& tile, uint32_t bpp,
                           std::vector<uint8_t>& out) {
    if (tile.empty() || tile.width > kTileSize || tile.height > kTileSize)
        return false;
    const size_t capacity = size_t(tile.width) * size_t(tile.height) * 4 + 256;
    out.resize(capacity);
    UINT32 size = UINT32(capacity);
    if (bpp == 32) {
        const uint8_t* origin =
            image.pixels + size_t(tile.y) * size_t(image.stride) + size_t(tile.x) * 4;
        BYTE* result = freerdp_bitmap_compress_planar(planar_, origin, kDesktopFormat,
                                                      UINT32(tile.width), UINT32(tile.height),
                                                      UINT32(image.stride), out.data(), &size);
        if (!result)
            return false;
    } else {
        if (!interleaved_compress(interleaved_, out.data(), &size, UINT32(tile.width),
                                  UINT32(tile.height), image.pixels, kDesktopFormat,
                                  UINT32(image.stride), UINT32(tile.x), UINT32(tile.y), nullptr,
                                  bpp)) {
            return false;
        }
    }
    out.resize(size);
    return true;
}

}  // namespace deskpod
