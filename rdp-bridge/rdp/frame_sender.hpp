// How a frame's pixels reach one RDP client. RdpPeer paces the frames and picks a sender at
// each activation from what the client announced; a sender encodes one frame and writes its
// PDUs. The graphics pipeline (rdp/gfx/pipeline.hpp) is the third sender. Network thread only.
#pragma once

#include <cstdint>
#include <memory>

#include "rdp-bridge/image/image_view.hpp"
#include "rdp-bridge/rdp/gfx/tile_diff.hpp"
#include "shared/geometry.hpp"

typedef struct rdp_context rdpContext;

namespace deskpod {

class RemoteFxEncoder;
class NsCodecEncoder;
class BitmapEncoder;

class FrameSender {
  public:
    virtual ~FrameSender() = default;
    // The codec, for log lines.
    virtual const char* name() const = 0;
    // The client acknowledges each frame by its id, so the peer may keep only a few in flight.
    virtual bool acknowledged() const = 0;
    enum class Result {
        sent,     // frame `frame_id` went out
        nothing,  // the client already has every pixel of it: no frame was sent
        failed,   // the connection failed
    };
    // Sends the pixels of `damage` (inside the client's desktop) from `image` as frame
    // `frame_id`.
    virtual Result send(const Region& damage, const ImageView& image, uint32_t frame_id) = 0;
    // The client's picture of `area` can no longer be trusted (it asked for it again, or was
    // reactivated): what the sender believes the client has there is dropped, so the next
    // frames send it whole.
    virtual void forget(const Rect& area) = 0;
};

// The damage of a frame without the 64x64 tiles whose pixels the client already has (for the
// senders without the graphics pipeline, which does this and more itself).
class ChangedTiles {
  public:
    Region filter(const Region& damage, const ImageView& image);
    void forget(const Rect& area) { tiles_.invalidate(area); }

  private:
    TileDiff tiles_;
    int32_t width_ = 0, height_ = 0;
};

// Surface bits commands: RemoteFX or NSCodec, between frame markers when the client
// acknowledges frames.
class SurfaceBitsSender final : public FrameSender {
  public:
    enum class Codec { remotefx, nscodec };

    // `context` outlives the sender (both go with the peer's FreeRDP context).
    explicit SurfaceBitsSender(rdpContext* context);
    ~SurfaceBitsSender() override;
    SurfaceBitsSender(const SurfaceBitsSender&) = delete;
    SurfaceBitsSender& operator=(const SurfaceBitsSender&) = delete;

    // At each activation: a reactivated client may announce other capabilities.
    void configure(Codec codec, bool acknowledged);

    const char* name() const override;
    bool acknowledged() const override { return acknowledged_; }
    Result send(const Region& damage, const ImageView& image, uint32_t frame_id) override;
    void forget(const Rect& area) override { changed_.forget(area); }

  private:
    rdpContext* const context_;
    ChangedTiles changed_;
    Codec codec_ = Codec::remotefx;
    bool acknowledged_ = false;
    // Made on first use and kept across reactivations.
    std::unique_ptr<RemoteFxEncoder> rfx_;
    std::unique_ptr<NsCodecEncoder> nsc_;
};

// Bitmap updates (planar at 32 bpp, interleaved RLE below) for clients with neither codec.
// They carry no frame markers, so nothing acknowledges them.
class BitmapSender final : public FrameSender {
  public:
    explicit BitmapSender(rdpContext* context);
    ~BitmapSender() override;
    BitmapSender(const BitmapSender&) = delete;
    BitmapSender& operator=(const BitmapSender&) = delete;

    const char* name() const override { return "bitmap"; }
    bool acknowledged() const override { return false; }
    Result send(const Region& damage, const ImageView& image, uint32_t frame_id) override;
    void forget(const Rect& area) override { changed_.forget(area); }

  private:
    rdpContext* const context_;
    ChangedTiles changed_;
    std::unique_ptr<BitmapEncoder> encoder_;  // made on first use
};

}  // namespace deskpod
