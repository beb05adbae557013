// FreeRDP's encoders behind small value-in, bytes-out classes: the peer decides which PDU
// carries the bytes, tests decode them with FreeRDP's own decoders. Every encoder reads the
// desktop mirror directly (XRGB8888 = FreeRDP's PIXEL_FORMAT_BGRX32: bytes B,G,R,X).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rdp-bridge/image/image_view.hpp"
#include "shared/geometry.hpp"

typedef struct _RFX_CONTEXT RFX_CONTEXT;
typedef struct _NSC_CONTEXT NSC_CONTEXT;
typedef struct _BITMAP_PLANAR_CONTEXT BITMAP_PLANAR_CONTEXT;
typedef struct _BITMAP_INTERLEAVED_CONTEXT BITMAP_INTERLEAVED_CONTEXT;

namespace deskpod {

// RemoteFX (MS-RDPRFX) in surface-bits streams: lossy, 64x64 tiles, far smaller than the
// others on photographic content.
class RemoteFxEncoder {
  public:
    // `headers_in_every_message`: the graphics pipeline's clients share one decoder between
    // surfaces and reset it with each ResetGraphics, so each of its messages carries the
    // header blocks (sync, versions, channels, context: about 50 bytes). Surface bits
    // streams send them once.
    //
    // `quant_step`: added to every one of FreeRDP's default quantisation values (6..9 per
    // band), capped at 15; larger values give fewer bytes and a blurrier picture.
    explicit RemoteFxEncoder(bool headers_in_every_message = false, uint32_t quant_step = 0);
    ~RemoteFxEncoder();
    RemoteFxEncoder(const RemoteFxEncoder&) = delete;
    RemoteFxEncoder& operator=(const RemoteFxEncoder&) = delete;

    // Encodes `rects` of `image` into one or more RemoteFX messages, each at most
    // `max_message_size` bytes (the client's MultifragMaxRequestSize less PDU headers).
    // Message coordinates are desktop coordinates. Returns false on encoder failure.
    bool encode(const ImageView& image, const std::vector<Rect>& rects, size_t max_message_size,
                std::vector<std::vector<uint8_t>>& messages);

  private:
    RFX_CONTEXT* context_ = nullptr;
    bool headers_in_every_message_ = false;
    int32_t width_ = 0;
    int32_t height_ = 0;
};

// NSCodec (MS-RDPNSC): lossless-ish per-rectangle YCoCg planes with RLE.
class NsCodecEncoder {
  public:
    NsCodecEncoder();
    ~NsCodecEncoder();
    NsCodecEncoder(const NsCodecEncoder&) = delete;
    NsCodecEncoder& operator=(const NsCodecEncoder&) = delete;

    // Encodes the pixels of `rect` (which must lie inside the image) into `out`.
    bool encode(const ImageView& image, const Rect& rect, std::vector<uint8_t>& out);

  private:
    NSC_CONTEXT* context_ = nullptr;
};

// Classic bitmap updates for clients with neither codec: planar at 32 bpp, interleaved RLE at
// 15/16/24 bpp. Tiles are at most 64x64 as the bitmap cache capabilities assume.
class BitmapEncoder {
  public:
    static constexpr int32_t kTileSize = 64;

    BitmapEncoder();
    ~BitmapEncoder();
    BitmapEncoder(const BitmapEncoder&) = delete;
    BitmapEncoder& operator=(const BitmapEncoder&) = delete;

    // Compresses one tile (at most 64x64, inside the image) at `bpp` into `out`.
    bool encode(const ImageView& image, const Rect& tile, uint32_t bpp, std::vector<uint8_t>& out);

  private:
    BITMAP_PLANAR_CONTEXT* planar_ = nullptr;
    BITMAP_INTERLEAVED_CONTEXT* interleaved_ = nullptr;
};

// Splits `rect` into tiles of at most `tile` x `tile` pixels, aligned to a tile grid.
std::vector<Rect> split_into_tiles(const Rect& rect, int32_t tile);

}  // namespace deskpod
