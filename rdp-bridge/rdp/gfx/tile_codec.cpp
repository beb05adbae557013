#include "rdp-bridge/rdp/gfx/tile_codec.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace deskpod {

void TileMotion::changed(Clock::time_point now) {
    const bool continues = streak > 0 && now - last_change < TileCodecPolicy::kMotionGap;
    streak = continues ? uint16_t(std::min<int>(streak + 1, 0xFFFF)) : 1;
    last_change = now;
    refining = false;
}

bool TileMotion::moving() const {
    return streak >= TileCodecPolicy::kMovingChanges;
}

bool TileMotion::settled(Clock::time_point now) const {
    return lossy && now - last_change >= TileCodecPolicy::kSettle;
}

size_t sampled_colours(const ImageView& image, const Rect& rect, size_t limit) {
    if (rect.empty())
        return 0;
    // At most 256 samples: a small open-addressing set on the stack (a tile is encoded every
    // frame while it moves, so no allocation here).
    constexpr size_t kSlots = 512;
    std::array<uint32_t, kSlots> slots{};
    std::array<bool, kSlots> used{};
    size_t count = 0;
    const int32_t step_x = std::max(1, rect.width / 16), step_y = std::max(1, rect.height / 16);
    for (int32_t y = rect.y; y < rect.y + rect.height; y += step_y) {
        const uint8_t* row = image.pixels + size_t(y) * size_t(image.stride);
        for (int32_t x = rect.x; x < rect.x + rect.width; x += step_x) {
            uint32_t p;
            std::memcpy(&p, row + size_t(x) * 4, 4);
            p &= 0xFFFFFFu;
            size_t i = (p * 2654435761u) >> 23;  // top 9 bits: 0..511
            while (used[i] && slots[i] != p)
                i = (i + 1) % kSlots;
            if (used[i])
                continue;
            used[i] = true;
            slots[i] = p;
            if (++count >= limit)
                return count;
        }
    }
    return count;
}

TileCodec choose_tile_codec(const ImageView& image, const Rect& rect, const TileMotion& motion,
                            bool remotefx_allowed) {
    if (!remotefx_allowed || !motion.moving())
        return TileCodec::planar;
    return sampled_colours(image, rect, TileCodecPolicy::kPhotoColours) >=
                   TileCodecPolicy::kPhotoColours
               ? TileCodec::remotefx
               : TileCodec::planar;
}

}  // namespace deskpod
