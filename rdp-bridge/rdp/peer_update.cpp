// What the peer sends once active: frames from the mirror's damage, and the pointer.
#include "rdp-bridge/rdp/peer.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "rdp-bridge/rdp/encoder.hpp"
#include "rdp-bridge/rdp/peer_context.hpp"
#include "rdp-bridge/rdp/pointer.hpp"
#include "rdp-bridge/rdp/server.hpp"

namespace deskpod {

namespace asio = boost::asio;

namespace {
// FreeRDP's fastpath needs room for its own headers inside MultifragMaxRequestSize.
constexpr size_t kPduHeadroom = 2048;
}  // namespace

// ---- viewer --------------------------------------------------------------------------------

void RdpPeer::on_damage(const Region& damage) {
    if (pending_.empty()) pending_since_ = server_.desktop().last_captured_at();
    pending_.add(damage);
    schedule_flush();
}

void RdpPeer::on_resize(int32_t width, int32_t height) {
    if (is_closing() || waits_for_size()) return;
    clear_tls_errors();
    rdpSettings* s = peer_->settings;
    if (freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth) != uint32_t(width) ||
        freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight) != uint32_t(height)) {
        if (!freerdp_settings_get_bool(s, FreeRDP_DesktopResize)) {
            log_.warn("client cannot resize; it keeps showing the top-left of {}x{}", width, height);
        } else {
            freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(width));
            freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(height));
            if (is_activated()) {
                log_.info("resizing client to {}x{}", width, height);
                peer_->update->DesktopResize(peer_->update->context);
                last_acked_id_ = last_frame_id_;  // the reactivation resets the frame pipeline
            }
        }
    }
    invalidate_all();
}

void RdpPeer::on_cursor(const CursorEvent&) { send_pointer(); }

void RdpPeer::handle_frame_ack(uint32_t frame_id) {
    last_acked_id_ = frame_id;
    if (!pending_.empty()) schedule_flush();
}

void RdpPeer::handle_refresh(const std::vector<Rect>& areas) {
    if (areas.empty()) {
        invalidate_all();
        return;
    }
    for (const Rect& r : areas) pending_.add(r);
    schedule_flush();
}

void RdpPeer::handle_suppress_output(bool allow) {
    output_suppressed_ = !allow;
    if (allow) invalidate_all();
}

void RdpPeer::invalidate_all() {
    pending_.add(server_.desktop().bounds());
    schedule_flush();
}

// ---- frames --------------------------------------------------------------------------------

bool RdpPeer::can_send() const {
    if (phase_ != PeerPhase::active || output_suppressed_ || write_blocked_) return false;
    return !acks_ || last_frame_id_ - last_acked_id_ < kMaxFramesInFlight;
}

void RdpPeer::schedule_flush() {
    if (flush_posted_ || is_closing()) return;
    flush_posted_ = true;
    // One flush per loop turn: damage arriving meanwhile joins the same frame.
    asio::post(server_.io(), [self = shared_from_this()] {
        self->flush_posted_ = false;
        self->flush();
    });
}

void RdpPeer::flush() {
    if (!can_send() || pending_.empty()) return;
    clear_tls_errors();
    rdpSettings* s = peer_->settings;
    Region damage = std::move(pending_);
    pending_.clear();
    const auto captured_at = pending_since_;
    pending_since_ = {};
    damage.clip(server_.desktop().bounds());
    damage.clip(Rect{0, 0, int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth)),
                     int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight))});
    // Many tiny rectangles cost more per rectangle than the pixels they save.
    damage.simplify(64, 0.25);
    if (damage.empty()) return;

    const auto started = std::chrono::steady_clock::now();
    const bool ok = state_->codec == PeerState::Codec::bitmap ? send_bitmaps(damage)
                                                              : send_surface_bits(damage);
    const auto finished = std::chrono::steady_clock::now();
    metrics().encode_seconds[Protocol::rdp].observe(
        std::chrono::duration<double>(finished - started).count());
    if (!ok) {
        close(false, "sending a frame failed");
        return;
    }
    metrics().frames_encoded[Protocol::rdp].add();
    metrics().frames_sent[Protocol::rdp].add();
    if (!connect_.first_frame_sent) note_first_frame(finished - started);
    if (captured_at != std::chrono::steady_clock::time_point{}) {
        metrics().capture_to_send_seconds[Protocol::rdp].observe(
            std::chrono::duration<double>(finished - captured_at).count());
    }
    if (peer_->IsWriteBlocked(peer_) && !write_blocked_) {
        write_blocked_ = true;
        watch_writable();
    }
}

bool RdpPeer::send_surface_bits(const Region& damage) {
    rdpContext* context = peer_->context;
    rdpSettings* s = context->settings;
    rdpUpdate* update = context->update;
    const ImageView image = server_.desktop().image();
    size_t max_request = freerdp_settings_get_uint32(s, FreeRDP_MultifragMaxRequestSize);
    max_request = std::max<size_t>(max_request, 64 * 1024);
    const size_t budget = max_request - kPduHeadroom;
    uint64_t bytes = 0;

    const uint32_t frame_id = ++last_frame_id_;
    if (acks_) {
        SURFACE_FRAME_MARKER begin{SURFACECMD_FRAMEACTION_BEGIN, frame_id};
        if (!update->SurfaceFrameMarker(context, &begin)) return false;
    }
    if (state_->codec == PeerState::Codec::remotefx) {
        if (!state_->rfx) state_->rfx = std::make_unique<RemoteFxEncoder>();
        std::vector<std::vector<uint8_t>> messages;
        if (!state_->rfx->encode(image, damage.rects(), budget, messages)) return false;
        for (auto& message : messages) {
            SURFACE_BITS_COMMAND cmd{};
            cmd.cmdType = CMDTYPE_STREAM_SURFACE_BITS;
            cmd.destRight = uint32_t(image.width);
            cmd.destBottom = uint32_t(image.height);
            cmd.bmp.bpp = 32;
            cmd.bmp.codecID = UINT16(freerdp_settings_get_uint32(s, FreeRDP_RemoteFxCodecId));
            cmd.bmp.width = UINT16(image.width);
            cmd.bmp.height = UINT16(image.height);
            cmd.bmp.bitmapDataLength = UINT32(message.size());
            cmd.bmp.bitmapData = message.data();
            cmd.skipCompression = TRUE;
            if (!update->SurfaceBits(context, &cmd)) return false;
            bytes += message.size();
        }
    } else {
        if (!state_->nsc) state_->nsc = std::make_unique<NsCodecEncoder>();
        // NSCodec messages are not fragmented by the encoder: keep each tile's worst case
        // (four raw planes) inside one request.
        const int32_t tile = budget >= 256 * 256 * 4 + 1024 ? 256 : 64;
        std::vector<uint8_t> encoded;
        for (const Rect& rect : damage.rects()) {
            for (const Rect& t : split_into_tiles(rect, tile)) {
                if (!state_->nsc->encode(image, t, encoded)) return false;
                SURFACE_BITS_COMMAND cmd{};
                cmd.cmdType = CMDTYPE_SET_SURFACE_BITS;
                cmd.destLeft = uint32_t(t.x);
                cmd.destTop = uint32_t(t.y);
                cmd.destRight = uint32_t(t.x + t.width);
                cmd.destBottom = uint32_t(t.y + t.height);
                cmd.bmp.bpp = 32;
                cmd.bmp.codecID = UINT16(freerdp_settings_get_uint32(s, FreeRDP_NSCodecId));
                cmd.bmp.width = UINT16(t.width);
                cmd.bmp.height = UINT16(t.height);
                cmd.bmp.bitmapDataLength = UINT32(encoded.size());
                cmd.bmp.bitmapData = encoded.data();
                if (!update->SurfaceBits(context, &cmd)) return false;
                bytes += encoded.size();
            }
        }
    }
    if (acks_) {
        SURFACE_FRAME_MARKER end{SURFACECMD_FRAMEACTION_END, frame_id};
        if (!update->SurfaceFrameMarker(context, &end)) return false;
    }
    metrics().bytes_sent[Protocol::rdp].add(bytes);
    return true;
}

bool RdpPeer::send_bitmaps(const Region& damage) {
    rdpContext* context = peer_->context;
    rdpSettings* s = context->settings;
    const ImageView image = server_.desktop().image();
    const uint32_t bpp = freerdp_settings_get_uint32(s, FreeRDP_ColorDepth);
    const uint32_t bytes_pp = (bpp + 7) / 8;
    size_t max_request = freerdp_settings_get_uint32(s, FreeRDP_MultifragMaxRequestSize);
    max_request = std::max<size_t>(max_request, 32 * 1024);
    const size_t budget = max_request - kPduHeadroom;
    if (!state_->bitmap) state_->bitmap = std::make_unique<BitmapEncoder>();

    constexpr int32_t T = BitmapEncoder::kTileSize;
    // Compressed bitmap widths must be multiples of 4: tiles are encoded from a zero-padded
    // copy and the client clips them to destRight.
    std::vector<uint8_t> scratch(size_t(T) * T * 4);
    std::vector<std::vector<uint8_t>> buffers;
    std::vector<BITMAP_DATA> tiles;
    size_t batch_bytes = 0;
    uint64_t bytes = 0;

    auto send_batch = [&]() -> bool {
        if (tiles.empty()) return true;
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
            if (!state_->bitmap->encode(tile_image, Rect{0, 0, padded, t.height}, bpp, encoded)) {
                return false;
            }
            if (batch_bytes + encoded.size() + 64 > budget && !send_batch()) return false;
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
    if (!send_batch()) return false;
    metrics().bytes_sent[Protocol::rdp].add(bytes);
    return true;
}

void RdpPeer::send_pointer() {
    if (!is_activated() || !server_.desktop().has_cursor()) return;
    clear_tls_errors();
    rdpContext* context = peer_->context;
    rdpPointerUpdate* pointer = context->update->pointer;
    const CursorEvent& cursor = server_.desktop().cursor();
    if (cursor.hidden || cursor.width <= 0 || cursor.height <= 0) {
        POINTER_SYSTEM_UPDATE system{};
        system.type = SYSPTR_NULL;
        pointer->PointerSystem(context, &system);
        return;
    }
    const bool large = freerdp_settings_get_uint32(context->settings, FreeRDP_LargePointerFlag) != 0;
    PointerImage image = make_pointer_image(cursor, large ? 384 : 96);
    if (image.width > 96 || image.height > 96) {
        POINTER_LARGE_UPDATE update{};
        update.xorBpp = 32;
        update.hotSpotX = image.hotspot_x;
        update.hotSpotY = image.hotspot_y;
        update.width = image.width;
        update.height = image.height;
        update.lengthAndMask = UINT32(image.and_mask.size());
        update.lengthXorMask = UINT32(image.xor_mask.size());
        update.xorMaskData = image.xor_mask.data();
        update.andMaskData = image.and_mask.data();
        pointer->PointerLarge(context, &update);
        return;
    }
    POINTER_NEW_UPDATE update{};
    update.xorBpp = 32;
    POINTER_COLOR_UPDATE& color = update.colorPtrAttr;
    color.cacheIndex = 0;
    color.xPos = image.hotspot_x;
    color.yPos = image.hotspot_y;
    color.width = image.width;
    color.height = image.height;
    color.lengthAndMask = UINT32(image.and_mask.size());
    color.lengthXorMask = UINT32(image.xor_mask.size());
    color.xorMaskData = image.xor_mask.data();
    color.andMaskData = image.and_mask.data();
    pointer->PointerNew(context, &update);
}

}  // namespace deskpod
