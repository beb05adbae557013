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
#include "rdp-bridge/rdp/gfx/tile_codec.hpp"
#include "rdp-bridge/rdp/gfx/tile_diff.hpp"
#include "shared/metrics.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <freerdp/server/rdpgfx.h>
#pragma GCC diagnostic pop

namespace asio = boost::asio;

namespace deskpod {

namespace {

// RemoteFX messages of at most this size: the dynamic channel fragments any size, and a
// 1080p surface of moving tiles fits in a few.
constexpr size_t kRemoteFxMessageBytes = 1 << 20;
// Tiles in motion are refined losslessly once they stop, so while they move they can be
// coarser than RemoteFX's defaults: two steps halve their bytes (weston-simple-shm: 4.4 KB a
// tile with the defaults, 2.2 KB with two steps more).
constexpr uint32_t kMotionQuantStep = 2;
// Scrolls of fewer rows (or columns) than this are sent as pixels.
constexpr int32_t kMinCopy = 32;
// Narrower rectangles are sent uncompressed (see send_planar).
constexpr int32_t kMinPlanarWidth = 3;

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

bool choose_gfx_caps(const GfxCaps* offered, size_t count, GfxCaps& chosen, bool h264) {
    for (const uint32_t version : kVersions) {
        for (size_t i = 0; i < count; ++i) {
            if (offered[i].version != version)
                continue;
            uint32_t flags =
                offered[i].flags & (RDPGFX_CAPS_FLAG_THINCLIENT | RDPGFX_CAPS_FLAG_SMALL_CACHE);
            if (version >= RDPGFX_CAPVERSION_10 &&
                (!h264 || (offered[i].flags & RDPGFX_CAPS_FLAG_AVC_DISABLED)))
                flags |= RDPGFX_CAPS_FLAG_AVC_DISABLED;
            if (version == RDPGFX_CAPVERSION_81 && h264)
                flags |= offered[i].flags & RDPGFX_CAPS_FLAG_AVC420_ENABLED;
            chosen = GfxCaps{version, flags};
            return true;
        }
    }
    return false;
}

bool gfx_caps_allow_avc420(const GfxCaps& caps) {
    if (caps.version == RDPGFX_CAPVERSION_81)
        return (caps.flags & RDPGFX_CAPS_FLAG_AVC420_ENABLED) != 0;
    return caps.version >= RDPGFX_CAPVERSION_10 && caps.version != RDPGFX_CAPVERSION_81 &&
           (caps.flags & RDPGFX_CAPS_FLAG_AVC_DISABLED) == 0;
}

std::vector<Rect> avc420_regions(const std::vector<Rect>& tiles) {
    std::vector<Rect> out;
    for (const Rect& r : tiles) {
        Rect* last = out.empty() ? nullptr : &out.back();
        if (last && last->y == r.y && last->height == r.height && last->x + last->width == r.x) {
            last->width += r.width;
            continue;
        }
        out.push_back(r);
    }
    return out;
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
                         const log::Logger& log, ReadyHandler on_ready, AckHandler on_ack,
                         RefineHandler on_refine, H264Options h264)
    : io_(io),
      log_(log),
      on_ready_(std::move(on_ready)),
      on_ack_(std::move(on_ack)),
      on_refine_(std::move(on_refine)),
      h264_(h264.backend),
      h264_quality_(h264.quality),
      rate_(RateControl::Limits{std::min(300, h264.max_kbps), h264.max_kbps}),
      planar_(std::make_unique<BitmapEncoder>()),
      settle_(io),
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
    metrics().gfx_surfaces.add(-int64_t(surfaces_.size()));
}

bool GfxPipeline::start() {
    if (!channel_->Open(channel_.get()))
        return false;
    channel_.opened();
    return true;
}

unsigned GfxPipeline::caps_advertised(const GfxCaps* offered, size_t count) {
    GfxCaps chosen;
    if (!choose_gfx_caps(offered, count, chosen, h264_.has_value())) {
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
        avc420_ = h264_ && gfx_caps_allow_avc420(chosen);
        if (avc420_)
            name_ =
                std::string("gfx planar+avc420 (") + std::string(h264::backend_name(*h264_)) + ")";
        // 64x64 tiles of 16 KiB: 1,024 fill a small cache's 16 MiB, 4,096 stay well inside a
        // full one's 100 MiB (MS-RDPEGFX 3.2.1.1 limits, 4,096 and 25,600 slots).
        cache_ = std::make_unique<TileCache>((chosen.flags & RDPGFX_CAPS_FLAG_SMALL_CACHE) ? 1024
                                                                                           : 4096);
        on_ready_();
    });
    return CHANNEL_RC_OK;
}

void GfxPipeline::frame_acknowledged(uint32_t frame_id, uint32_t queue_depth) {
    const auto at = RateControl::Clock::now();
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), frame_id, queue_depth, at] {
        if (alive.expired())
            return;
        if (queue_depth == SUSPEND_FRAME_ACKNOWLEDGEMENT)
            rate_.reset();
        else if (const int before = rate_.target_kbps();
                 avc420_ && rate_.acknowledged(frame_id, at))
            follow_rate(before);
        on_ack_(frame_id, queue_depth);
    });
}

// ---- surfaces ------------------------------------------------------------------------------

// One monitor's surface on the client, and everything deskpod knows of what it shows.
struct GfxPipeline::Surface {
    uint16_t id = 0;
    Rect area;  // desktop pixels
    TileDiff tiles;
    // What the client shows: every tile sent and every copy made is applied here too, so
    // scrolls are found against it and SurfaceToSurface copies exact pixels (lossy tiles hold
    // the exact pixels here; they are marked in `motion` and never used as a copy's source).
    std::vector<uint8_t> shadow;
    std::vector<TileMotion> motion;        // per tile, row order
    size_t lossy = 0;                      // tiles with motion[i].lossy
    std::unique_ptr<RemoteFxEncoder> rfx;  // made on first use
    // H.264 for tiles in motion when the client takes AVC420, made on first use; it sees the
    // whole surface each time it runs (its references stay those of the client's decoder),
    // and the command says which rectangles the client takes from the picture.
    std::unique_ptr<h264::Encoder> h264;
    bool h264_failed = false;  // the encoder refused: RemoteFX for this surface from then on
    // Row hashes of the last scroll search's area (whole rows, and 64-column strips) of the
    // new picture: the shadow's rows once that frame is sent, so the next search over the
    // same area does not hash them again.
    RowHashes box_rows;
    std::vector<RowHashes> strip_rows;

    ImageView shadow_view() const {
        return ImageView{shadow.data(), area.width, area.height, area.width * 4};
    }
    size_t tile_index(const Rect& tile) const {
        return size_t(tile.y / TileDiff::kTile) * size_t(tiles.columns()) +
               size_t(tile.x / TileDiff::kTile);
    }
    Rect tile_rect(size_t index) const {
        const int32_t c = int32_t(index % size_t(tiles.columns()));
        const int32_t r = int32_t(index / size_t(tiles.columns()));
        const int32_t x = c * TileDiff::kTile, y = r * TileDiff::kTile;
        return Rect{x, y, std::min(TileDiff::kTile, area.width - x),
                    std::min(TileDiff::kTile, area.height - y)};
    }
    void set_lossy(size_t index, bool on) {
        if (motion[index].lossy != on)
            lossy += on ? 1 : size_t(-1);
        motion[index].lossy = on;
        motion[index].refining = false;
    }
    bool any_lossy(const Rect& box) const {
        if (lossy == 0)
            return false;
        for (int32_t r = box.y / TileDiff::kTile; r <= (box.y + box.height - 1) / TileDiff::kTile;
             ++r)
            for (int32_t c = box.x / TileDiff::kTile;
                 c <= (box.x + box.width - 1) / TileDiff::kTile; ++c)
                if (motion[size_t(r) * size_t(tiles.columns()) + size_t(c)].lossy)
                    return true;
        return false;
    }
    void copy_to_shadow(const ImageView& image, const Rect& r) {
        for (int32_t y = r.y; y < r.y + r.height; ++y) {
            std::memcpy(shadow.data() + (size_t(y) * size_t(area.width) + size_t(r.x)) * 4,
                        image.pixels + size_t(y) * size_t(image.stride) + size_t(r.x) * 4,
                        size_t(r.width) * 4);
        }
    }
};

// StartFrame on first use, so a frame in which nothing changed is never sent.
class GfxPipeline::Frame {
  public:
    Frame(RdpgfxServerContext* channel, uint32_t id) : channel_(channel), id_(id) {}
    bool started() const { return started_; }
    bool start() {
        if (started_)
            return true;
        started_ = true;
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        RDPGFX_START_FRAME_PDU pdu{};
        pdu.frameId = id_;
        // hours (8 bits), minutes (6), seconds (6), milliseconds (10): MS-RDPEGFX 2.2.2.11.
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
        pdu.timestamp = uint32_t((((ms / 3600000) % 24) << 22) | (((ms / 60000) % 60) << 16) |
                                 (((ms / 1000) % 60) << 10) | (ms % 1000));
        return channel_->StartFrame(channel_, &pdu) == CHANNEL_RC_OK;
    }
    bool end() {
        RDPGFX_END_FRAME_PDU pdu{};
        pdu.frameId = id_;
        return channel_->EndFrame(channel_, &pdu) == CHANNEL_RC_OK;
    }

  private:
    RdpgfxServerContext* channel_;
    uint32_t id_;
    bool started_ = false;
};

bool GfxPipeline::delete_surfaces() {
    for (const auto& surface : surfaces_) {
        RDPGFX_DELETE_SURFACE_PDU del{};
        del.surfaceId = surface->id;
        if (channel_->DeleteSurface(channel_.get(), &del) != CHANNEL_RC_OK)
            return false;
    }
    metrics().gfx_surfaces.add(-int64_t(surfaces_.size()));
    surfaces_.clear();
    settle_.cancel();
    settle_armed_ = false;
    return true;
}

bool GfxPipeline::reset(int32_t width, int32_t height, const MonitorLayout& monitors) {
    if (!ready_ || !delete_surfaces())
        return false;
    std::vector<Rect> areas;
    std::vector<MONITOR_DEF> defs;
    for (const Monitor& m : monitors) {
        Rect r = m.rect();
        const int32_t x1 = std::min(width, r.x + r.width), y1 = std::min(height, r.y + r.height);
        r = Rect{std::max(0, r.x), std::max(0, r.y), 0, 0};
        r.width = x1 - r.x;
        r.height = y1 - r.y;
        if (r.empty())
            continue;
        areas.push_back(r);
        defs.push_back(MONITOR_DEF{r.x, r.y, r.x + r.width - 1, r.y + r.height - 1,
                                   m.primary ? uint32_t(MONITOR_PRIMARY) : 0u});
    }
    if (areas.empty()) {
        areas.push_back(Rect{0, 0, width, height});
        defs.push_back(MONITOR_DEF{0, 0, width - 1, height - 1, MONITOR_PRIMARY});
    }
    RDPGFX_RESET_GRAPHICS_PDU reset{};
    reset.width = uint32_t(width);
    reset.height = uint32_t(height);
    reset.monitorCount = uint32_t(defs.size());
    reset.monitorDefArray = defs.data();
    if (channel_->ResetGraphics(channel_.get(), &reset) != CHANNEL_RC_OK)
        return false;
    for (size_t i = 0; i < areas.size(); ++i) {
        auto surface = std::make_unique<Surface>();
        surface->id = uint16_t(i);
        surface->area = areas[i];
        RDPGFX_CREATE_SURFACE_PDU create{};
        create.surfaceId = surface->id;
        create.width = uint16_t(areas[i].width);
        create.height = uint16_t(areas[i].height);
        create.pixelFormat = GFX_PIXEL_FORMAT_XRGB_8888;
        RDPGFX_MAP_SURFACE_TO_OUTPUT_PDU map{};
        map.surfaceId = surface->id;
        map.outputOriginX = uint32_t(areas[i].x);
        map.outputOriginY = uint32_t(areas[i].y);
        if (channel_->CreateSurface(channel_.get(), &create) != CHANNEL_RC_OK ||
            channel_->MapSurfaceToOutput(channel_.get(), &map) != CHANNEL_RC_OK) {
            return false;
        }
        surface->tiles.reset(areas[i].width, areas[i].height);
        surface->shadow.assign(size_t(areas[i].width) * size_t(areas[i].height) * 4, 0);
        surface->motion.assign(size_t(surface->tiles.columns()) * size_t(surface->tiles.rows()),
                               TileMotion{});
        surfaces_.push_back(std::move(surface));
        metrics().gfx_surfaces.add(1);
    }
    if (areas.size() > 1)
        log_.info("graphics pipeline: {} surfaces, one per monitor", areas.size());
    return true;
}

// ---- frames --------------------------------------------------------------------------------

void GfxPipeline::forget(const Rect& area) {
    for (const auto& s : surfaces_) {
        const Rect& a = s->area;
        s->tiles.invalidate(Rect{area.x - a.x, area.y - a.y, area.width, area.height});
    }
}

FrameSender::Result GfxPipeline::send(const Region& damage, const ImageView& image,
                                      uint32_t frame_id) {
    if (surfaces_.empty())
        return Result::nothing;  // no surface until reset(); everything is sent after it
    Frame frame(channel_.get(), frame_id);
    frame_bytes_ = 0;
    for (const auto& surface : surfaces_) {
        const Rect& a = surface->area;
        // The damage inside this monitor, in surface coordinates.
        Region local;
        for (Rect r : damage.rects()) {
            const int32_t x1 = std::min(a.x + a.width, r.x + r.width);
            const int32_t y1 = std::min(a.y + a.height, r.y + r.height);
            r.x = std::max(a.x, r.x);
            r.y = std::max(a.y, r.y);
            r.width = x1 - r.x;
            r.height = y1 - r.y;
            if (!r.empty())
                local.add(Rect{r.x - a.x, r.y - a.y, r.width, r.height});
        }
        if (local.empty())
            continue;
        const ImageView view{image.pixels + size_t(a.y) * size_t(image.stride) + size_t(a.x) * 4,
                             a.width, a.height, image.stride};
        if (!send_surface(*surface, local, view, frame))
            return Result::failed;
    }
    arm_settle();
    if (!frame.started())
        return Result::nothing;  // the client has all of it already: no frame at all
    if (!frame.end())
        return Result::failed;
    if (acknowledged_)
        rate_.sent(frame_id, frame_bytes_, RateControl::Clock::now());
    return Result::sent;
}

void GfxPipeline::follow_rate(int before) {
    const int kbps = rate_.target_kbps();
    (kbps < before ? metrics().gfx_h264_rate_down : metrics().gfx_h264_rate_up).add();
    for (const auto& s : surfaces_)
        if (s->h264)
            s->h264->set_bitrate(kbps);
    log_.debug("H.264 target now {} kbps (acknowledged in {} ms, {} ms at best; received {} kbps)",
               kbps,
               std::chrono::duration_cast<std::chrono::milliseconds>(rate_.smoothed()).count(),
               std::chrono::duration_cast<std::chrono::milliseconds>(rate_.floor()).count(),
               rate_.received_kbps(RateControl::Clock::now()));
}

namespace {

// A surface command covering all of surface `id` (the codec's own data says where its pixels
// go).
RDPGFX_SURFACE_COMMAND whole_surface_command(uint16_t id, const Rect& area, UINT32 codec) {
    RDPGFX_SURFACE_COMMAND cmd{};
    cmd.surfaceId = id;
    cmd.codecId = codec;
    cmd.format = PIXEL_FORMAT_BGRX32;
    cmd.right = uint32_t(area.width);
    cmd.bottom = uint32_t(area.height);
    cmd.width = uint32_t(area.width);
    cmd.height = uint32_t(area.height);
    return cmd;
}

}  // namespace

bool GfxPipeline::send_surface(Surface& s, const Region& damage, const ImageView& image,
                               Frame& frame) {
    Metrics& m = metrics();
    const auto now = TileMotion::Clock::now();
    const ImageView shadow = s.shadow_view();

    // A scroll inside the damaged area: the client copies what it has, and the tiles it then
    // shows are compared with the new picture like any other. Lossy tiles are not what the
    // shadow says, so no copy reads them.
    const Rect box = damage.extents();
    // Where copies landed: every copy is exact (its rows or columns were compared pixel for
    // pixel with the new picture when it was found), so there the shadow equals `image`.
    std::vector<Rect> copied;
    if (!box.empty() && s.tiles.all_known(box) && !s.any_lossy(box)) {
        // Sends a copy and makes it on the client's picture too.
        auto send_copy = [&](const SurfaceCopy& copy) {
            if (!frame.start())
                return false;
            RDPGFX_SURFACE_TO_SURFACE_PDU pdu{};
            pdu.surfaceIdSrc = s.id;
            pdu.surfaceIdDest = s.id;
            pdu.rectSrc = rect16(copy.src);
            RDPGFX_POINT16 dest{uint16_t(copy.dst_x), uint16_t(copy.dst_y)};
            pdu.destPtsCount = 1;
            pdu.destPts = &dest;
            if (channel_->SurfaceToSurface(channel_.get(), &pdu) != CHANNEL_RC_OK)
                return false;
            // Source and destination overlap: rows go in the order that reads each before it
            // is overwritten, and memmove handles the overlap within a row (a sideways move).
            const size_t row = size_t(copy.src.width) * 4;
            const Rect dst{copy.dst_x, copy.dst_y, copy.src.width, copy.src.height};
            const bool down = dst.y > copy.src.y;
            for (int32_t i = 0; i < copy.src.height; ++i) {
                const int32_t k = down ? copy.src.height - 1 - i : i;
                std::memmove(
                    s.shadow.data() +
                        (size_t(dst.y + k) * size_t(s.area.width) + size_t(dst.x)) * 4,
                    s.shadow.data() +
                        (size_t(copy.src.y + k) * size_t(s.area.width) + size_t(copy.src.x)) * 4,
                    row);
            }
            s.tiles.mark_copied(dst);
            copied.push_back(dst);
            m.gfx_surface_copies.add();
            return true;
        };
        // Whole rows first (a terminal: its blank right half moves with the text on the
        // left). What they leave above or below is searched again in 64-column strips, on the
        // picture after that copy: a page scrolled under a scroll bar that stays moves
        // everywhere but next to the bar's thumb. Without a whole-row move: strips over the
        // whole area, and sideways band by band when they explain little of it.
        if (const auto copy = find_vertical_scroll(shadow, image, box, kMinCopy, &s.box_rows)) {
            if (!send_copy(*copy))
                return false;
            s.strip_rows.clear();  // not searched this frame: stale by the next
            const Rect gaps[] = {Rect{box.x, box.y, box.width, copy->dst_y - box.y},
                                 Rect{box.x, copy->dst_y + copy->src.height, box.width,
                                      box.y + box.height - copy->dst_y - copy->src.height}};
            for (const Rect& gap : gaps) {
                // Short bands here: the rows left over are few, but each costs a row of tiles.
                if (gap.height < kMinCopy / 2)
                    continue;
                for (const SurfaceCopy& c :
                     find_vertical_scrolls(shadow, image, gap, TileDiff::kTile, kMinCopy / 4))
                    if (!send_copy(c))
                        return false;
            }
        } else {
            auto copies =
                find_vertical_scrolls(shadow, image, box, TileDiff::kTile, kMinCopy, &s.strip_rows);
            int64_t covered = 0;
            for (const SurfaceCopy& c : copies)
                covered += c.src.area();
            // Column hashes cost more than row hashes: only when no vertical move explains
            // most of the area.
            if (covered < box.area() / 2)
                copies = find_horizontal_scrolls(shadow, image, box, TileDiff::kTile, kMinCopy);
            for (const SurfaceCopy& c : copies)
                if (!send_copy(c))
                    return false;
        }
    } else {
        // The shadow changes without the rows being hashed.
        s.box_rows.area = Rect{};
        s.strip_rows.clear();
    }

    TileDiffStats stats;
    const std::vector<TileChange> changes = s.tiles.changes(damage, image, &stats, &shadow, copied);
    m.gfx_tiles_unchanged.add(stats.unchanged);

    // Lossy tiles in the damage that stopped changing: sent again, losslessly.
    std::vector<size_t> settled;
    if (s.lossy > 0) {
        std::vector<bool> changing(s.motion.size(), false);
        for (const TileChange& c : changes)
            changing[s.tile_index(c.rect)] = true;
        for (size_t i = 0; i < s.motion.size(); ++i) {
            if (s.motion[i].settled(now) && !changing[i]) {
                Region here(s.tile_rect(i));
                here.clip(box);
                if (!here.empty())
                    settled.push_back(i);
            }
        }
    }
    if (changes.empty() && settled.empty())
        return true;
    if (!frame.start())
        return false;
    // What changed inside each tile the client had exactly (a scrolled band's new rows, a
    // caret): only that part is encoded. Found against the shadow, before it takes the new
    // pixels.
    std::vector<Rect> dirty(changes.size());
    for (size_t k = 0; k < changes.size(); ++k) {
        const TileChange& c = changes[k];
        const bool exact = c.was_known && !s.motion[s.tile_index(c.rect)].lossy;
        dirty[k] = exact && c.kind == TileChange::Kind::pixels ? changed_box(shadow, image, c.rect)
                                                               : c.rect;
    }
    for (const TileChange& c : changes)
        s.copy_to_shadow(image, c.rect);

    std::map<uint32_t, std::vector<RECTANGLE_16>> fills;  // uniform tiles, batched by colour
    std::vector<Rect> lossy;                              // photographic tiles in motion
    for (size_t k = 0; k < changes.size(); ++k) {
        const TileChange& c = changes[k];
        const size_t index = s.tile_index(c.rect);
        TileMotion& motion = s.motion[index];
        motion.changed(now);
        if (c.kind == TileChange::Kind::solid) {
            fills[c.color].push_back(rect16(c.rect));
            s.set_lossy(index, false);
            continue;
        }
        // Seen before: the client has it in its cache.
        if (const uint16_t slot = cache_ ? cache_->find(c.hash) : 0) {
            RDPGFX_POINT16 at{uint16_t(c.rect.x), uint16_t(c.rect.y)};
            RDPGFX_CACHE_TO_SURFACE_PDU pdu{};
            pdu.cacheSlot = slot;
            pdu.surfaceId = s.id;
            pdu.destPtsCount = 1;
            pdu.destPts = &at;
            if (channel_->CacheToSurface(channel_.get(), &pdu) != CHANNEL_RC_OK)
                return false;
            m.gfx_cache_hits.add();
            s.set_lossy(index, false);
            continue;
        }
        if (choose_tile_codec(image, c.rect, motion, true) == TileCodec::remotefx) {
            lossy.push_back(c.rect);
            s.set_lossy(index, true);
            continue;
        }
        if (!dirty[k].empty() && !send_planar(s, dirty[k], image, c.hash, &c.rect))
            return false;
        s.set_lossy(index, false);
    }
    for (const size_t index : settled) {
        if (!send_planar(s, s.tile_rect(index), image, 0, nullptr))
            return false;
        s.set_lossy(index, false);
        m.gfx_refined_tiles.add();
    }
    if (!lossy.empty() && avc420_ && !s.h264_failed) {
        if (!send_avc420(s, lossy, image))
            return false;
    } else if (!lossy.empty()) {
        if (!s.rfx)
            s.rfx = std::make_unique<RemoteFxEncoder>(true, kMotionQuantStep);
        std::vector<std::vector<uint8_t>> messages;
        if (!s.rfx->encode(image, lossy, kRemoteFxMessageBytes, messages))
            return false;
        for (const auto& message : messages) {
            // Tiles and region in the message are in surface coordinates: the command
            // covers the whole surface.
            RDPGFX_SURFACE_COMMAND cmd =
                whole_surface_command(s.id, s.area, RDPGFX_CODECID_CAVIDEO);
            cmd.length = uint32_t(message.size());
            cmd.data = const_cast<BYTE*>(message.data());
            if (channel_->SurfaceCommand(channel_.get(), &cmd) != CHANNEL_RC_OK)
                return false;
            m.gfx_surface_commands.add();
            m.gfx_remotefx_bytes.add(message.size());
            frame_bytes_ += message.size();
        }
        m.gfx_remotefx_tiles.add(lossy.size());
    }
    for (auto& [color, rects] : fills) {
        // At most 0xFFFF rectangles per PDU; 64x64 tiles of an 8192x8192 desktop are 16384.
        for (size_t off = 0; off < rects.size(); off += 0xFFFF) {
            RDPGFX_SOLID_FILL_PDU fill{};
            fill.surfaceId = s.id;
            fill.fillPixel =
                RDPGFX_COLOR32{uint8_t(color), uint8_t(color >> 8), uint8_t(color >> 16), 0xFF};
            fill.fillRectCount = uint16_t(std::min<size_t>(0xFFFF, rects.size() - off));
            fill.fillRects = rects.data() + off;
            if (channel_->SolidFill(channel_.get(), &fill) != CHANNEL_RC_OK)
                return false;
            m.gfx_solid_fills.add();
        }
        m.gfx_solid_tiles.add(rects.size());
    }
    return true;
}

bool GfxPipeline::send_avc420(Surface& s, const std::vector<Rect>& rects, const ImageView& image) {
    Metrics& m = metrics();
    const bool first = !s.h264;
    if (first) {
        h264::Settings settings;
        settings.width = s.area.width;
        settings.height = s.area.height;
        settings.quality = h264_quality_;
        settings.bitrate_kbps = rate_.target_kbps();
        s.h264 = h264::make_encoder(*h264_, settings);
        if (!s.h264) {
            log_.warn("H.264 ({}) refused a {}x{} surface; RemoteFX for it instead",
                      h264::backend_name(*h264_), s.area.width, s.area.height);
            s.h264_failed = true;
            return true;  // the tiles stay lossy-marked and settle as planar
        }
    }
    encoded_.clear();
    if (!s.h264->encode(image, first, encoded_)) {
        log_.warn("H.264 encoding failed; RemoteFX for this surface from now on");
        s.h264.reset();
        s.h264_failed = true;
        return true;
    }
    if (encoded_.empty())
        return true;  // the encoder held the picture back; the tiles settle as planar
    // The client copies these from the decoded picture and keeps the rest of what it shows.
    std::vector<RECTANGLE_16> regions;
    for (const Rect& r : avc420_regions(rects))
        regions.push_back(rect16(r));
    std::vector<RDPGFX_H264_QUANT_QUALITY> quality;
    for (size_t i = 0; i < regions.size(); ++i) {
        RDPGFX_H264_QUANT_QUALITY q{};
        q.qp = uint8_t(h264_quality_);
        q.qpVal = uint8_t(h264_quality_);  // bits 0-5 the QP; not progressive
        q.qualityVal = 100;
        quality.push_back(q);
    }
    RDPGFX_AVC420_BITMAP_STREAM stream{};
    stream.meta.numRegionRects = uint32_t(regions.size());
    stream.meta.regionRects = regions.data();
    stream.meta.quantQualityVals = quality.data();
    stream.length = uint32_t(encoded_.size());
    stream.data = encoded_.data();
    RDPGFX_SURFACE_COMMAND cmd = whole_surface_command(s.id, s.area, RDPGFX_CODECID_AVC420);
    cmd.extra = &stream;
    if (channel_->SurfaceCommand(channel_.get(), &cmd) != CHANNEL_RC_OK)
        return false;
    m.gfx_surface_commands.add();
    m.gfx_avc420_bytes.add(encoded_.size());
    frame_bytes_ += encoded_.size();
    m.gfx_avc420_tiles.add(rects.size());
    return true;
}

bool GfxPipeline::send_planar(Surface& s, const Rect& rect, const ImageView& image, uint64_t hash,
                              const Rect* cache_tile) {
    Metrics& m = metrics();
    const size_t row = size_t(rect.width) * 4;
    const bool narrow = rect.width < kMinPlanarWidth;
    if (narrow) {
        // FreeRDP 2.11's planar codec fails on rectangles one or two pixels wide (its encoder
        // on some heights, its decoder on all): those few pixels go uncompressed, top-down.
        encoded_.resize(row * size_t(rect.height));
        for (int32_t y = 0; y < rect.height; ++y) {
            std::memcpy(
                encoded_.data() + size_t(y) * row,
                image.pixels + size_t(rect.y + y) * size_t(image.stride) + size_t(rect.x) * 4, row);
        }
    } else {
        // FreeRDP's planar encoder writes rows bottom-up, as bitmap updates want them; the
        // pipeline's planar is top-down (the client decodes it unflipped), so encode a copy
        // of the rectangle with its rows reversed.
        flipped_.resize(row * size_t(rect.height));
        for (int32_t y = 0; y < rect.height; ++y) {
            std::memcpy(
                flipped_.data() + size_t(rect.height - 1 - y) * row,
                image.pixels + size_t(rect.y + y) * size_t(image.stride) + size_t(rect.x) * 4, row);
        }
        const ImageView flipped{flipped_.data(), rect.width, rect.height, int32_t(row)};
        if (!planar_->encode(flipped, Rect{0, 0, rect.width, rect.height}, 32, encoded_))
            return false;
    }
    RDPGFX_SURFACE_COMMAND cmd{};
    cmd.surfaceId = s.id;
    cmd.codecId = narrow ? RDPGFX_CODECID_UNCOMPRESSED : RDPGFX_CODECID_PLANAR;
    cmd.format = PIXEL_FORMAT_BGRX32;
    cmd.left = uint32_t(rect.x);
    cmd.top = uint32_t(rect.y);
    cmd.right = uint32_t(rect.x + rect.width);
    cmd.bottom = uint32_t(rect.y + rect.height);
    cmd.width = uint32_t(rect.width);
    cmd.height = uint32_t(rect.height);
    cmd.length = uint32_t(encoded_.size());
    cmd.data = encoded_.data();
    if (channel_->SurfaceCommand(channel_.get(), &cmd) != CHANNEL_RC_OK)
        return false;
    m.gfx_planar_tiles.add();
    m.gfx_surface_commands.add();
    m.gfx_planar_bytes.add(encoded_.size());
    frame_bytes_ += encoded_.size();
    if (!cache_tile || !cache_)
        return true;
    // And into the client's cache, for when it comes back.
    bool evicted = false;
    const uint16_t slot = cache_->insert(hash, evicted);
    if (!slot)
        return true;
    if (evicted) {
        RDPGFX_EVICT_CACHE_ENTRY_PDU evict{};
        evict.cacheSlot = slot;
        if (channel_->EvictCacheEntry(channel_.get(), &evict) != CHANNEL_RC_OK)
            return false;
    }
    RDPGFX_SURFACE_TO_CACHE_PDU store{};
    store.surfaceId = s.id;
    store.cacheKey = hash;
    store.cacheSlot = slot;
    store.rectSrc = rect16(*cache_tile);  // the whole tile, as the client now shows it
    return channel_->SurfaceToCache(channel_.get(), &store) == CHANNEL_RC_OK;
}

// ---- settling ------------------------------------------------------------------------------

void GfxPipeline::arm_settle() {
    TileMotion::Clock::time_point due = TileMotion::Clock::time_point::max();
    for (const auto& s : surfaces_) {
        if (s->lossy == 0)
            continue;
        for (const TileMotion& t : s->motion)
            if (t.lossy && !t.refining)  // a tile asked for waits for the peer's next frame
                due = std::min(due, t.last_change + TileCodecPolicy::kSettle);
    }
    if (due == TileMotion::Clock::time_point::max()) {
        if (settle_armed_)
            settle_.cancel();
        settle_armed_ = false;
        return;
    }
    if (settle_armed_ && settle_.expiry() == due)
        return;
    settle_armed_ = true;
    settle_.expires_at(due);
    settle_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || alive.expired())
                return;
            settle_armed_ = false;
            settle_due();
        });
}

void GfxPipeline::settle_due() {
    const auto now = TileMotion::Clock::now();
    Region due;
    for (const auto& s : surfaces_) {
        if (s->lossy == 0)
            continue;
        for (size_t i = 0; i < s->motion.size(); ++i) {
            if (s->motion[i].settled(now) && !s->motion[i].refining) {
                s->motion[i].refining = true;
                const Rect r = s->tile_rect(i);
                due.add(Rect{r.x + s->area.x, r.y + s->area.y, r.width, r.height});
            }
        }
    }
    // The peer sends them with its next frame, which re-arms the timer for the rest; tiles
    // not due yet keep the timer armed meanwhile.
    if (!due.empty())
        on_refine_(due);
    arm_settle();
}

}  // namespace deskpod
