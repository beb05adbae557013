#include "rdp-bridge/rdp/frame_sender.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "rdp-bridge/rdp/encoder.hpp"
#include "rdp-bridge/rdp/freerdp.hpp"
#include "shared/metrics.hpp"

namespace deskpod {

namespace {
// FreeRDP's fastpath needs room for its own headers inside MultifragMaxRequestSize.
constexpr size_t kPduHeadroom = 2048;

// One Surface Bits command: `data`, encoded with `codec_id` at 32 bpp, drawn into `dest`.
SURFACE_BITS_COMMAND surface_bits(UINT16 cmd_type, const Rect& dest, UINT32 codec_id,
                                  std::vector<uint8_t>& data) {
    SURFACE_BITS_COMMAND cmd{};
    cmd.cmdType = cmd_type;
    cmd.destLeft = uint32_t(dest.x);
    cmd.destTop = uint32_t(dest.y);
    cmd.destRight = uint32_t(dest.x + dest.width);
    cmd.destBottom = uint32_t(dest.y + dest.height);
    cmd.bmp.bpp = 32;
    cmd.bmp.codecID = UINT16(codec_id);
    cmd.bmp.width = UINT16(dest.width);
    cmd.bmp.height = UINT16(dest.height);
    cmd.bmp.bitmapDataLength = UINT32(data.size());
    cmd.bmp.bitmapData = data.data();
    return cmd;
}
}  // namespace

// ---- tiles the client has -------------------------------------------------------------------

Region ChangedTiles::filter(const Region& damage, const ImageView& image) {
    if (image.width != width_ || image.height != height_) {
        tiles_.reset(image.width, image.height);
        width_ = image.width;
        height_ = image.height;
    }
    TileDiffStats stats;
    Region out;
    for (const TileChange& c : tiles_.changes(damage, image, &stats)) {
        Region part = damage;
        part.clip(c.rect);
        out.add(part);
    }
    metrics().rdp_tiles_unchanged.add(stats.unchanged);
    return out;
}

// ---- surface bits --------------------------------------------------------------------------

SurfaceBitsSender::SurfaceBitsSender(rdpContext* context) : context_(context) {}

SurfaceBitsSender::~SurfaceBitsSender() = default;

void SurfaceBitsSender::configure(Codec codec, bool acknowledged) {
    codec_ = codec;
    acknowledged_ = acknowledged;
}

const char* SurfaceBitsSender::name() const {
    return codec_ == Codec::remotefx ? "RemoteFX" : "NSCodec";
}

FrameSender::Result SurfaceBitsSender::send(const Region& all_damage, const ImageView& image,
                                            uint32_t frame_id) {
    const Region damage = changed_.filter(all_damage, image);
    if (damage.empty())
        return Result::nothing;
    rdpContext* context = context_;
    rdpSettings* s = context->settings;
    rdpUpdate* update = context->update;
    size_t max_request = freerdp_settings_get_uint32(s, FreeRDP_MultifragMaxRequestSize);
    max_request = std::max<size_t>(max_request, 64 * 1024);
    const size_t budget = max_request - kPduHeadroom;
    uint64_t bytes = 0;

    if (acknowledged_) {
        SURFACE_FRAME_MARKER begin{SURFACECMD_FRAMEACTION_BEGIN, frame_id};
        if (!update->SurfaceFrameMarker(context, &begin))
            return Result::failed;
    }
    if (codec_ == Codec::remotefx) {
        if (!rfx_)
            rfx_ = std::make_unique<RemoteFxEncoder>();
        std::vector<std::vector<uint8_t>> messages;
        if (!rfx_->encode(image, damage.rects(), budget, messages))
            return Result::failed;
        for (auto& message : messages) {
            SURFACE_BITS_COMMAND cmd =
                surface_bits(CMDTYPE_STREAM_SURFACE_BITS, Rect{0, 0, image.width, image.height},
                             freerdp_settings_get_uint32(s, FreeRDP_RemoteFxCodecId), message);
            cmd.skipCompression = TRUE;
            if (!update->SurfaceBits(context, &cmd))
                return Result::failed;
            bytes += message.size();
        }
    } else {
        if (!nsc_)
            nsc_ = std::make_unique<NsCodecEncoder>();
        // NSCodec messages are not fragmented by the encoder: keep each tile's worst case
        // (four raw planes) inside one request.
        const int32_t tile = budget >= 256 * 256 * 4 + 1024 ? 256 : 64;
        std::vector<uint8_t> encoded;
        for (const Rect& rect : damage.rects()) {
            for (const Rect& t : split_into_tiles(rect, tile)) {
                if (!nsc_->encode(image, t, encoded))
                    return Result::failed;
                SURFACE_BITS_COMMAND cmd =
                    surface_bits(CMDTYPE_SET_SURFACE_BITS, t,
                                 freerdp_settings_get_uint32(s, FreeRDP_NSCodecId), encoded);
                if (!update->SurfaceBits(context, &cmd))
                    return Result::failed;
                bytes += encoded.size();
            }
        }
    }
    if (acknowledged_) {
        SURFACE_FRAME_MARKER end{SURFACECMD_FRAMEACTION_END, frame_id};
        if (!update->SurfaceFrameMarker(context, &end))
            return Result::failed;
    }
    metrics().bytes_sent[Protocol::rdp].add(bytes);
    return Result::sent;
}

// ---- bitmaps -------------------------------------------------------------------------------

BitmapSender::BitmapSender(rdpContext* context) : context_(context) {}

BitmapSender::~BitmapSender() = default;

FrameSender::Result BitmapSender::send(const Region& all_damage, const ImageView& image, uint32_t) {
    const Region damage = changed_.filter(all_damage, image);
    if (damage.empty())
        return Result::nothing;
    rdpContext* context = context_;
    rdpSettings* s = context->settings;
    const uint32_t bpp = freerdp_settings_get_uint32(s, FreeRDP_ColorDepth);
    const uint32_t bytes_pp = (bpp + 7) / 8;
    size_t max_request = freerdp_settings_get_uint32(s, FreeRDP_MultifragMaxRequestSize);
    max_request = std::max<size_t>(max_request, 32 * 1024);
    const size_t budget = max_request - kPduHeadroom;
    if (!encoder_)
        encoder_ = std::make_unique<BitmapEncoder>();

    constexpr int32_t T = BitmapEncoder::kTileSize;
    // Compressed bitmap widths must be multiples of 4: tiles are encoded from a zero-padded
    // copy and the client clips them to destRight.
    std::vector<uint8_t> scratch(size_t(T) * T * 4);
    std::vector<std::vector<uint8_t>> buffers;
    std::vector<BITMAP_DATA> tiles;
    size_t batch_bytes = 0;
    uint64_t bytes = 0;

    auto send_batch = [&]() -> bool {
        if (tiles.empty())
            return true;
        BITMAP_UPDATE update{};
        update.number = UINT32(tiles.size());
        update.rectangles = tiles.data();
        const bool ok = context->update->BitmapUpdate(context, &update);
        tiles.clear();
        buffers.clear();
        batch_bytes = 0;
        return ok;
    };

    for (const Rect& rect : damage.rects()) {
        for (const Rect& t : split_into_tiles(rect, T)) {
            const int32_t padded = (t.width + 3) & ~3;
            std::fill(scratch.begin(), scratch.end(), 0);
            for (int32_t y = 0; y < t.height; ++y) {
                std::memcpy(&scratch[size_t(y) * T * 4],
                            image.pixels + size_t(t.y + y) * size_t(image.stride) + size_t(t.x) * 4,
                            size_t(t.width) * 4);
            }
            const ImageView tile_image{scratch.data(), T, T, T * 4};
            std::vector<uint8_t> encoded;
            if (!encoder_->encode(tile_image, Rect{0, 0, padded, t.height}, bpp, encoded)) {
                return Result::failed;
            }
            if (batch_bytes + encoded.size() + 64 > budget && !send_batch())
                return Result::failed;
            BITMAP_DATA data{};
            data.destLeft = uint32_t(t.x);
            data.destTop = uint32_t(t.y);
            data.destRight = uint32_t(t.x + t.width - 1);
            data.destBottom = uint32_t(t.y + t.height - 1);
            data.width = uint32_t(padded);
            data.height = uint32_t(t.height);
            data.bitsPerPixel = bpp;
            data.compressed = TRUE;
            data.bitmapLength = UINT32(encoded.size());
            data.cbCompMainBodySize = data.bitmapLength;
            data.cbScanWidth = uint32_t(padded) * bytes_pp;
            data.cbUncompressedSize = uint32_t(padded) * uint32_t(t.height) * bytes_pp;
            batch_bytes += encoded.size() + 64;
            bytes += encoded.size();
            buffers.push_back(std::move(encoded));
            data.bitmapDataStream = buffers.back().data();
            tiles.push_back(data);
        }
    }
    if (!send_batch())
        return Result::failed;
    metrics().bytes_sent[Protocol::rdp].add(bytes);
    return Result::sent;
}

}  // namespace deskpod
