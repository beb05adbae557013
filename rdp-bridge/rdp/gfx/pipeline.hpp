// The RDP graphics pipeline (MS-RDPEGFX) for one client, as a FrameSender: the RDPGFX dynamic
// channel through FreeRDP 2's server context, the capability exchange, one surface per monitor
// mapped to that monitor's place on the client, and frames made of only what changed: tiles
// whose pixels the client already has are skipped, uniform ones sent as SolidFill, scrolls
// (vertical or horizontal) become SurfaceToSurface copies, tiles the client saw before come
// from its bitmap cache (CacheToSurface), photographic tiles in motion go as RemoteFX and the
// rest as lossless planar (rdp/gfx/tile_codec.hpp). Lossy tiles are sent again losslessly once
// they stop changing. Frames are acknowledged by the client (FrameAcknowledge).
//
// Threads: FreeRDP runs the channel on a thread of its own, which calls the client callbacks
// (CapsAdvertise, FrameAcknowledge); they answer or post to the network thread. Everything
// else is network thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rdp-bridge/asio.hpp"
#include "rdp-bridge/rdp/frame_sender.hpp"
#include "rdp-bridge/rdp/gfx/rate_control.hpp"
#include "rdp-bridge/rdp/gfx/tile_cache.hpp"
#include "rdp-bridge/rdp/h264/encoder.hpp"
#include "rdp-bridge/rdp/server_channel.hpp"
#include "shared/geometry.hpp"
#include "shared/log.hpp"
#include "shared/monitors.hpp"

typedef struct _rdpgfx_server_context RdpgfxServerContext;

namespace deskpod {

class BitmapEncoder;
class RemoteFxEncoder;

// The capability set deskpod confirms from those a client advertises: the highest version it
// knows (8.0 ... 10.7), with the client's thin-client and small-cache flags kept. H.264 stays
// as the client offered it when `h264` (an encoder is configured), else it is switched off.
// Returns false when none is known.
struct GfxCaps {
    uint32_t version = 0;
    uint32_t flags = 0;
};
bool choose_gfx_caps(const GfxCaps* offered, size_t count, GfxCaps& chosen, bool h264 = false);
// Whether confirmed capabilities let deskpod send AVC420 (8.1 with AVC420 enabled, 10.0 and
// later without AVC disabled).
bool gfx_caps_allow_avc420(const GfxCaps& caps);
const char* gfx_version_name(uint32_t version);
// The region list of an AVC420 command for `tiles` (in row order): runs of tiles that touch
// along a row become one rectangle; every tile's pixels stay covered, nothing else is.
std::vector<Rect> avc420_regions(const std::vector<Rect>& tiles);

class GfxPipeline final : public FrameSender {
  public:
    // Network thread callbacks: the client confirmed a capability set (the pipeline may carry
    // frames once reset() has run); a frame was acknowledged (frame id, queue depth); areas
    // the client shows lossily stopped changing and should be sent again (desktop pixels).
    using ReadyHandler = std::function<void()>;
    using AckHandler = std::function<void(uint32_t frame_id, uint32_t queue_depth)>;
    using RefineHandler = std::function<void(const Region& areas)>;

    // H.264 for areas in motion when the client takes AVC420: the encoder (none: RemoteFX),
    // its quantiser, and the most its bitrate may reach when the client keeps up.
    struct H264Options {
        std::optional<h264::Backend> backend;
        int quality = 23;
        int max_kbps = 4000;
    };
    GfxPipeline(boost::asio::io_context& io, void* vcm, rdpContext* context, const log::Logger& log,
                ReadyHandler on_ready, AckHandler on_ack, RefineHandler on_refine,
                H264Options h264);
    ~GfxPipeline() override;
    GfxPipeline(const GfxPipeline&) = delete;
    GfxPipeline& operator=(const GfxPipeline&) = delete;

    // Opens the channel (false: the client has no graphics pipeline channel).
    bool start();
    bool ready() const { return ready_; }
    const GfxCaps& caps() const { return caps_; }
    // (Re)creates the surfaces for a desktop of width x height: ResetGraphics with the
    // monitors, then per monitor CreateSurface and MapSurfaceToOutput at its place (one
    // surface of the whole desktop when `monitors` is empty). Everything is sent again
    // afterwards.
    bool reset(int32_t width, int32_t height, const MonitorLayout& monitors);
    size_t surface_count() const { return surfaces_.size(); }
    // The client suspended frame acknowledgement (queue depth 0xFFFFFFFF) or resumed it.
    void set_acknowledged(bool on) { acknowledged_ = on; }
    // A frame waited for the client's acknowledgements (the H.264 rate control's input).
    void held_back() { rate_.held_back(RateControl::Clock::now()); }

    const char* name() const override { return name_.c_str(); }
    // AVC420 for areas in motion (the client takes it and an encoder is configured).
    bool avc420() const { return avc420_; }
    bool acknowledged() const override { return acknowledged_; }
    Result send(const Region& damage, const ImageView& image, uint32_t frame_id) override;
    void forget(const Rect& area) override;

    // ---- FreeRDP's channel thread ----
    unsigned caps_advertised(const GfxCaps* offered, size_t count);
    void frame_acknowledged(uint32_t frame_id, uint32_t queue_depth);

  private:
    struct Surface;
    class Frame;
    bool delete_surfaces();
    bool send_surface(Surface& surface, const Region& damage, const ImageView& image, Frame& frame);
    // Encodes `rect` losslessly; with `cache_tile`, the whole tile (which holds `rect` and
    // is exactly `hash` once drawn) then goes into the client's cache.
    bool send_planar(Surface& surface, const Rect& rect, const ImageView& image, uint64_t hash,
                     const Rect* cache_tile);
    // Tiles in motion as one H.264 picture of the surface (AVC420) covering `rects`.
    bool send_avc420(Surface& surface, const std::vector<Rect>& rects, const ImageView& image);
    // Arms the settle timer for the earliest lossy tile, if any.
    void arm_settle();
    void settle_due();
    // The rate control moved the H.264 target from `before`: every encoder follows.
    void follow_rate(int before);

    boost::asio::io_context& io_;
    const log::Logger& log_;
    ReadyHandler on_ready_;
    AckHandler on_ack_;
    RefineHandler on_refine_;
    bool ready_ = false;  // network thread
    bool acknowledged_ = true;
    std::optional<h264::Backend> h264_;
    int h264_quality_ = 23;
    RateControl rate_;        // the H.264 bitrate, from the acknowledgements
    size_t frame_bytes_ = 0;  // encoded bytes of the frame being sent
    bool avc420_ = false;     // network thread, from caps_
    std::string name_ = "gfx planar+remotefx";
    GfxCaps caps_{};  // written on the channel thread before ready_'s post
    std::vector<std::unique_ptr<Surface>> surfaces_;
    // The client's bitmap cache, made when the capabilities are known (its size depends on
    // the small-cache flag). It survives ResetGraphics, as the client's does.
    std::unique_ptr<TileCache> cache_;
    std::unique_ptr<BitmapEncoder> planar_;
    std::vector<uint8_t> encoded_, flipped_;  // scratch, kept between frames
    boost::asio::steady_timer settle_;
    bool settle_armed_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    ServerChannel<RdpgfxServerContext> channel_;  // last: stopped first
};

}  // namespace deskpod
