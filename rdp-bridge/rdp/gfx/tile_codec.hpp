// How the graphics pipeline encodes a changed tile that is neither uniform nor in the client's
// cache: losslessly (planar) unless it is photographic content in motion, which goes as
// RemoteFX and is sent again losslessly once it has stopped changing ("settled"), so the
// client ends with the desktop's exact pixels. Network thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "rdp-bridge/image/image_view.hpp"
#include "shared/geometry.hpp"

namespace deskpod {

enum class TileCodec { planar, remotefx };

// What one tile of a surface has been doing.
struct TileMotion {
    using Clock = std::chrono::steady_clock;
    Clock::time_point last_change{};
    uint16_t streak = 0;    // changes in a row, each within kMotionGap of the one before
    bool lossy = false;     // the client shows a lossy approximation of the tile's pixels
    bool refining = false;  // lossy and settled: its lossless copy was asked for

    // A change by pixels (not a refinement): extends or restarts the streak.
    void changed(Clock::time_point now);
    bool moving() const;
    // Lossy, and unchanged for kSettle: time to send it losslessly.
    bool settled(Clock::time_point now) const;
};

struct TileCodecPolicy {
    // A tile that changes at least this many times in a row, each within kMotionGap of the
    // previous, is in motion (video, animation): the third frame of a clip qualifies, even
    // one that a loaded machine plays at a few frames a second; a picture shown once, or
    // replaced every few seconds, does not.
    static constexpr uint16_t kMovingChanges = 3;
    static constexpr std::chrono::milliseconds kMotionGap{1000};
    // Lossy tiles are refined this long after their last change.
    static constexpr std::chrono::milliseconds kSettle{400};
    // Photographic: at least this many distinct colours among the tile's 16 x 16 sampled
    // pixels. Anti-aliased text on a flat background has a few dozen (one ramp per colour
    // pair); photographs and video have well over a hundred.
    static constexpr size_t kPhotoColours = 96;
};

// Distinct colours (X byte ignored) among a grid of at most 16 x 16 pixels of `rect`; stops
// counting at `limit`.
size_t sampled_colours(const ImageView& image, const Rect& rect, size_t limit);

// Planar unless the tile is moving and photographic (and the client can take RemoteFX).
TileCodec choose_tile_codec(const ImageView& image, const Rect& rect, const TileMotion& motion,
                            bool remotefx_allowed);

}  // namespace deskpod
