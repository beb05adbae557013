#include "rdp-bridge/rdp/gfx/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

#include "rdp-bridge/rdp/encoder.hpp"
#include "rdp-bridge/rdp/freerdp.hpp"
#include "rdp-bridge/rdp/gfx/scroll.hpp"
#include "shared/metrics.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <freerdp/server/rdpgfx.h>
#pragma GCC diagnostic pop

namespace asio = boost::asio;

namespace deskpod {

namespace {

constexpr uint16_t kSurfaceId = 0;

// Known versions, best first.
constexpr uint32_t kVersions[] = {
    RDPGFX_CAPVERSION_107, RDPGFX_CAPVERSION_106, RDPGFX_CAPVERSION_105, RDPGFX_CAPVERSION_104,
    RDPGFX_CAPVERSION_103, RDPGFX_CAPVERSION_102, RDPGFX_CAPVERSION_101, RDPGFX_CAPVERSION_10,
    RDPGFX_CAPVERSION_81,  RDPGFX_CAPVERSION_8,
};

GfxPipeline* self_of(RdpgfxServerContext* context) {
    return static_cast<GfxPipeline*>(context->custom);
}

UINT on_caps_advertise(RdpgfxServerContext* context, const RDPGFX_CAPS_ADVERTISE_PDU* pdu) {
    if (!pdu || !pdu->capsSets)
        return ERROR_INVALID_DATA;
    std::vector<GfxCaps> offered;
    offered.reserve(pdu->capsSetCount);
    for (UINT16 i = 0; i < pdu->capsSetCount; ++i)
        offered.push_back(GfxCaps{pdu->capsSets[i].version, pdu->capsSets[i].flags});
    return self_of(context)->caps_advertised(offered.data(), offered.size());
}

UINT on_frame_acknowledge(RdpgfxServerContext* context, const RDPGFX_FRAME_ACKNOWLEDGE_PDU* pdu) {
    if (pdu)
        self_of(context)->frame_acknowledged(pdu->frameId, pdu->queueDepth);
    return CHANNEL_RC_OK;
}

UINT on_cache_import_offer(RdpgfxServerContext* context, const RDPGFX_CACHE_IMPORT_OFFER_PDU*) {
    // Entries a client kept from an earlier connection are keyed by its own hashes of content
    // deskpod cannot see: accept none, and fill the cache from this connection's tiles.
    RDPGFX_CACHE_IMPORT_REPLY_PDU reply{};
    return context->CacheImportReply(context, &reply);
}

RECTANGLE_16 rect16(const Rect& r) {
    return RECTANGLE_16{uint16_t(r.x), uint16_t(r.y), uint16_t(r.x + r.width),
                        uint16_t(r.y + r.height)};
}

}  // namespace

bool choose_gfx_caps(const GfxCaps* offered, size_t count, GfxCaps& chosen) {
    for (const uint32_t version : kVersions) {
        for (size_t i = 0; i < count; ++i) {
            if (offered[i].version != version)
                continue;
            uint32_t flags =
                offered[i].flags & (RDPGFX_CAPS_FLAG_THINCLIENT | RDPGFX_CAPS_FLAG_SMALL_CACHE);
            if (version >= RDPGFX_CAPVERSION_10)
                flags |= RDPGFX_CAPS_FLAG_AVC_DISABLED;
            chosen = GfxCaps{version, flags};
            return true;
        }
    }
    return false;
}

const char* gfx_version_name(uint32_t version) {
    switch (version) {
        case RDPGFX_CAPVERSION_107:
            return "10.7";
        case RDPGFX_CAPVERSION_106:
            return "10.6";
        case RDPGFX_CAPVERSION_105:
            return "10.5";
        case RDPGFX_CAPVERSION_104:
            return "10.4";
        case RDPGFX_CAPVERSION_103:
            return "10.3";
        case RDPGFX_CAPVERSION_102:
            return "10.2";
        case RDPGFX_CAPVERSION_101:
            return "10.1";
        case RDPGFX_CAPVERSION_10:
            return "10.0";
        case RDPGFX_CAPVERSION_81:
            return "8.1";
        case RDPGFX_CAPVERSION_8:
            return "8.0";
        default:
            return "unknown";
    }
}

GfxPipeline::GfxPipeline(asio::io_context& io, void* vcm, rdpContext* context,
                         const log::Logger& log, ReadyHandler on_ready, AckHandler on_ack)
    : io_(io),
      log_(log),
      on_ready_(std::move(on_ready)),
      on_ack_(std::move(on_ack)),
      planar_(std::make_unique<BitmapEncoder>()),
      channel_(rdpgfx_server_context_new(static_cast<HANDLE>(vcm)), rdpgfx_server_context_free,
               "rdpgfx_server_context_new") {
    channel_->custom = this;
    channel_->rdpcontext = context;
    channel_->CapsAdvertise = on_caps_advertise;
    channel_->FrameAcknowledge = on_frame_acknowledge;
    channel_->CacheImportOffer = on_cache_import_offer;
}

GfxPipeline::~GfxPipeline() {
    *alive_ = false;  // then channel_ closes and joins the channel thread
}

bool GfxPipeline::start() {
    if (!channel_->Open(channel_.get()))
        return false;
    channel_.opened();
    return true;
}

unsigned GfxPipeline::caps_advertised(const GfxCaps* offered, size_t count) {
    GfxCaps chosen;
    if (!choose_gfx_caps(offered, count, chosen)) {
        log_.warn("graphics pipeline: the client offers no capability version deskpod knows");
        return CHANNEL_RC_UNSUPPORTED_VERSION;
    }
    RDPGFX_CAPSET set{};
    set.version = chosen.version;
    set.length = 4;
    set.flags = chosen.flags;
    RDPGFX_CAPS_CONFIRM_PDU confirm{};
    confirm.capsSet = &set;
    const UINT rc = channel_->CapsConfirm(channel_.get(), &confirm);
    if (rc != CHANNEL_RC_OK)
        return rc;
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), chosen] {
        if (alive.expired())
            return;
        caps_ = chosen;
        ready_ = true;
        // 64x64 tiles of 16 KiB: 1,024 fill a small cache's 16 MiB, 4,096 stay well inside a
        // full one's 100 MiB (MS-RDPEGFX 3.2.1.1 limits, 4,096 and 25,600 slots).
        cache_ = std::make_unique<TileCache>((chosen.flags & RDPGFX_CAPS_FLAG_SMALL_CACHE) ? 1024
                                                                                           : 4096);
        on_ready_();
    });
    return CHANNEL_RC_OK;
}

void GfxPipeline::frame_acknowledged(uint32_t frame_id, uint32_t queue_depth) {
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), frame_id, queue_depth] {
        if (alive.expired())
            return;
        on_ack_(frame_id, queue_depth);
    });
}

bool GfxPipeline::reset(int32_t width, int32_t height, const MonitorLayout& monitors) {
    if (!ready_)
        return false;
    if (surface_) {
        RDPGFX_DELETE_SURFACE_PDU del{};
        del.surfaceId = kSurfaceId;
        if (channel_->DeleteSurface(channel_.get(), &del) != CHANNEL_RC_OK)
            return false;
        surface_ = false;
    }
    std::vector<MONITOR_DEF> defs;
    for (const Monitor& m : monitors) {
        defs.push_back(MONITOR_DEF{m.x, m.y, m.x + m.width - 1, m.y + m.height - 1,
                                   m.primary ? uint32_t(MONITOR_PRIMARY) : 0u});
    }
    if (defs.empty())
        defs.push_back(MONITOR_DEF{0, 0, width - 1, height - 1, MONITOR_PRIMARY});
    RDPGFX_RESET_GRAPHICS_PDU reset{};
    reset.width = uint32_t(width);
    reset.height = uint32_t(height);
    reset.monitorCount = uint32_t(defs.size());
    reset.monitorDefArray = defs.data();
    RDPGFX_CREATE_SURFACE_PDU create{};
    create.surfaceId = kSurfaceId;
    create.width = uint16_t(width);
    create.height = uint16_t(height);
    create.pixelFormat = GFX_PIXEL_FORMAT_XRGB_8888;
    RDPGFX_MAP_SURFACE_TO_OUTPUT_PDU map{};
    map.surfaceId = kSurfaceId;
    if (channel_->ResetGraphics(channel_.get(), &reset) != CHANNEL_RC_OK ||
        channel_->CreateSurface(channel_.get(), &create) != CHANNEL_RC_OK ||
        channel_->MapSurfaceToOutput(channel_.get(), &map) != CHANNEL_RC_OK) {
        return false;
    }
    surface_ = true;
    width_ = width;
    height_ = height;
    tiles_.reset(width, height);
    shadow_.assign(size_t(width) * size_t(height) * 4, 0);
    return true;
}

FrameSender::Result GfxPipeline::send(const Region& damage, const ImageView& image,
                                      uint32_t frame_id) {
    if (!surface_)
        return Result::nothing;  // no surface until reset(); everything is sent after it
    Metrics& m = metrics();
    const ImageView shadow{shadow_.data(), width_, height_, width_ * 4};
    bool started = false;
    auto start_frame = [&] {
        if (started)
            return true;
        started = true;
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        RDPGFX_START_FRAME_PDU start{};
        start.frameId = frame_id;
        // hours (8 bits), minutes (6), seconds (6), milliseconds (10): MS-RDPEGFX 2.2.2.11.
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
        start.timestamp = uint32_t((((ms / 3600000) % 24) << 22) | (((ms / 60000) % 60) << 16) |
                                   (((ms / 1000) % 60) << 10) | (ms % 1000));
        return channel_->StartFrame(channel_.get(), &start) == CHANNEL_RC_OK;
    };

    // A scroll inside the damaged area: the client copies what it has, and the tiles it then
    // shows are compared with the new picture like any other.
    const Rect e = damage.extents();
    const int32_t x0 = std::max(0, e.x), y0 = std::max(0, e.y);
    const Rect box{x0, y0, std::min(width_, e.x + e.width) - x0,
                   std::min(height_, e.y + e.height) - y0};
    if (!box.empty() && tiles_.all_known(box)) {
        if (const auto copy = find_vertical_scroll(shadow, image, box)) {
            if (!start_frame())
                return Result::failed;
            RDPGFX_SURFACE_TO_SURFACE_PDU pdu{};
            pdu.surfaceIdSrc = kSurfaceId;
            pdu.surfaceIdDest = kSurfaceId;
            pdu.rectSrc = rect16(copy->src);
            RDPGFX_POINT16 dest{uint16_t(copy->dst_x), uint16_t(copy->dst_y)};
            pdu.destPtsCount = 1;
            pdu.destPts = &dest;
            if (channel_->SurfaceToSurface(channel_.get(), &pdu) != CHANNEL_RC_OK)
                return Result::failed;
            // The same copy on the client's picture; rows overlap, so copy in the right order.
            const size_t row = size_t(copy->src.width) * 4;
            const Rect dst{copy->dst_x, copy->dst_y, copy->src.width, copy->src.height};
            const bool down = dst.y > copy->src.y;
            for (int32_t i = 0; i < copy->src.height; ++i) {
                const int32_t k = down ? copy->src.height - 1 - i : i;
                std::memmove(
                    shadow_.data() + (size_t(dst.y + k) * size_t(width_) + size_t(dst.x)) * 4,
                    shadow_.data() +
                        (size_t(copy->src.y + k) * size_t(width_) + size_t(copy->src.x)) * 4,
                    row);
            }
            tiles_.refresh(shadow, dst);
            m.gfx_surface_copies.add();
        }
    }

    TileDiffStats stats;
    const std::vector<TileChange> changes = tiles_.changes(damage, image, &stats);
    m.gfx_tiles_unchanged.add(stats.unchanged);
    if (changes.empty() && !started)
        return Result::nothing;  // the client has all of it already: no frame at all
    if (!start_frame())
        return Result::failed;
    // What the client shows after this frame.
    for (const TileChange& c : changes) {
        for (int32_t y = c.rect.y; y < c.rect.y + c.rect.height; ++y) {
            std::memcpy(shadow_.data() + (size_t(y) * size_t(width_) + size_t(c.rect.x)) * 4,
                        image.pixels + size_t(y) * size_t(image.stride) + size_t(c.rect.x) * 4,
                        size_t(c.rect.width) * 4);
        }
    }

    // Uniform tiles, batched by colour.
    std::map<uint32_t, std::vector<RECTANGLE_16>> fills;
    std::vector<uint8_t> encoded, flipped;
    for (const TileChange& c : changes) {
        if (c.kind == TileChange::Kind::solid) {
            fills[c.color].push_back(rect16(c.rect));
            continue;
        }
        // Seen before: the client has it in its cache.
        if (const uint16_t slot = cache_ ? cache_->find(c.hash) : 0) {
            RDPGFX_POINT16 at{uint16_t(c.rect.x), uint16_t(c.rect.y)};
            RDPGFX_CACHE_TO_SURFACE_PDU pdu{};
            pdu.cacheSlot = slot;
            pdu.surfaceId = kSurfaceId;
            pdu.destPtsCount = 1;
            pdu.destPts = &at;
            if (channel_->CacheToSurface(channel_.get(), &pdu) != CHANNEL_RC_OK)
                return Result::failed;
            m.gfx_cache_hits.add();
            continue;
        }
        // FreeRDP's planar encoder writes rows bottom-up, as bitmap updates want them; the
        // pipeline's planar is top-down (the client decodes it unflipped), so encode a copy
        // of the tile with its rows reversed.
        const size_t row = size_t(c.rect.width) * 4;
        flipped.resize(row * size_t(c.rect.height));
        for (int32_t y = 0; y < c.rect.height; ++y) {
            std::memcpy(
                flipped.data() + size_t(c.rect.height - 1 - y) * row,
                image.pixels + size_t(c.rect.y + y) * size_t(image.stride) + size_t(c.rect.x) * 4,
                row);
        }
        const ImageView tile{flipped.data(), c.rect.width, c.rect.height, int32_t(row)};
        if (!planar_->encode(tile, Rect{0, 0, c.rect.width, c.rect.height}, 32, encoded))
            return Result::failed;
        RDPGFX_SURFACE_COMMAND cmd{};
        cmd.surfaceId = kSurfaceId;
        cmd.codecId = RDPGFX_CODECID_PLANAR;
        cmd.format = PIXEL_FORMAT_BGRX32;
        cmd.left = uint32_t(c.rect.x);
        cmd.top = uint32_t(c.rect.y);
        cmd.right = uint32_t(c.rect.x + c.rect.width);
        cmd.bottom = uint32_t(c.rect.y + c.rect.height);
        cmd.width = uint32_t(c.rect.width);
        cmd.height = uint32_t(c.rect.height);
        cmd.length = uint32_t(encoded.size());
        cmd.data = encoded.data();
        if (channel_->SurfaceCommand(channel_.get(), &cmd) != CHANNEL_RC_OK)
            return Result::failed;
        m.gfx_planar_tiles.add();
        m.gfx_planar_bytes.add(encoded.size());
        // And into the client's cache, for when it comes back.
        bool evicted = false;
        if (const uint16_t slot = cache_ ? cache_->insert(c.hash, evicted) : 0) {
            if (evicted) {
                RDPGFX_EVICT_CACHE_ENTRY_PDU evict{};
                evict.cacheSlot = slot;
                if (channel_->EvictCacheEntry(channel_.get(), &evict) != CHANNEL_RC_OK)
                    return Result::failed;
            }
            RDPGFX_SURFACE_TO_CACHE_PDU store{};
            store.surfaceId = kSurfaceId;
            store.cacheKey = c.hash;
            store.cacheSlot = slot;
            store.rectSrc = rect16(c.rect);
            if (channel_->SurfaceToCache(channel_.get(), &store) != CHANNEL_RC_OK)
                return Result::failed;
        }
    }
    for (auto& [color, rects] : fills) {
        // At most 0xFFFF rectangles per PDU; 64x64 tiles of an 8192x8192 desktop are 16384.
        for (size_t off = 0; off < rects.size(); off += 0xFFFF) {
            RDPGFX_SOLID_FILL_PDU fill{};
            fill.surfaceId = kSurfaceId;
            fill.fillPixel =
                RDPGFX_COLOR32{uint8_t(color), uint8_t(color >> 8), uint8_t(color >> 16), 0xFF};
            fill.fillRectCount = uint16_t(std::min<size_t>(0xFFFF, rects.size() - off));
            fill.fillRects = rects.data() + off;
            if (channel_->SolidFill(channel_.get(), &fill) != CHANNEL_RC_OK)
                return Result::failed;
            m.gfx_solid_fills.add();
        }
        m.gfx_solid_tiles.add(rects.size());
    }
    RDPGFX_END_FRAME_PDU end{};
    end.frameId = frame_id;
    return channel_->EndFrame(channel_.get(), &end) == CHANNEL_RC_OK ? Result::sent
                                                                     : Result::failed;
}

}  // namespace deskpod
