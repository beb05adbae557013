// What one client already shows, tile by tile: a hash of each 64x64 tile it was last sent, so a
// frame carries only the tiles whose pixels changed, and uniform ones as a colour. Network
// thread only (one per graphics pipeline client).
#pragma once

#include <cstdint>
#include <vector>

#include "rdp-bridge/image/image_view.hpp"
#include "shared/geometry.hpp"

namespace deskpod {

struct TileChange {
    enum class Kind { solid, pixels };
    Rect rect;  // a grid tile, clipped to the surface
    Kind kind = Kind::pixels;
    uint32_t color = 0;      // XRGB8888 for solid tiles
    uint64_t hash = 0;       // of the tile's pixels (with its size: equal hashes, equal tiles)
    bool was_known = false;  // the client had this tile's previous content
};

struct TileDiffStats {
    size_t unchanged = 0;
    size_t solid = 0;
    size_t pixels = 0;
};

class TileDiff {
  public:
    static constexpr int32_t kTile = 64;

    // A new surface of this size: the client has nothing yet, so every tile differs.
    void reset(int32_t width, int32_t height);
    // The tiles touched by `damage` whose pixels differ from what was last reported for them,
    // in row order; their hashes are updated (the caller sends every change it gets). `image`
    // is at least the surface's size. Tiles marked copied are compared with `client` (the
    // client's picture, e.g. the pipeline's shadow); without it they count as changed.
    // Tiles inside one of `equal` (areas the caller has just found pixel for pixel equal in
    // `image` and `client`, e.g. where an exact copy landed) are unchanged without a look.
    std::vector<TileChange> changes(const Region& damage, const ImageView& image,
                                    TileDiffStats* stats = nullptr,
                                    const ImageView* client = nullptr,
                                    const std::vector<Rect>& equal = {});
    // Forget a tile's content (e.g. the client lost it): it differs next time.
    void invalidate(const Rect& area);
    // True when the client has every tile `area` touches (it was sent since the last reset).
    bool all_known(const Rect& area) const;
    // The client's tiles touching `area` changed without a tile being sent (a surface copy).
    // Their hashes are not recomputed: the next changes() compares those tiles with the
    // client's picture directly, which costs about what a hash does and saves hashing every
    // copied tile twice on a scrolling frame.
    void mark_copied(const Rect& area);

    int32_t columns() const { return columns_; }
    int32_t rows() const { return rows_; }

  private:
    // The grid cells `area` touches, clipped; false when none.
    bool cells(const Rect& area, int32_t& c0, int32_t& r0, int32_t& c1, int32_t& r1) const;
    Rect tile_rect(int32_t c, int32_t r) const;
    struct Entry {
        uint64_t hash = 0;
        bool known = false;
        bool copied = false;  // known, but `hash` is stale: compare with the client's picture
    };
    int32_t width_ = 0, height_ = 0, columns_ = 0, rows_ = 0;
    std::vector<Entry> tiles_;
};

// The smallest rectangle inside `rect` holding every pixel that differs between `before` and
// `after` (empty when none does): a tile whose only change is four new rows at its bottom is
// sent as those four rows.
Rect changed_box(const ImageView& before, const ImageView& after, const Rect& rect);

// True when every pixel of `rect` in `image` equals the first (ignoring the X byte); sets
// `color` to it.
bool uniform_tile(const ImageView& image, const Rect& rect, uint32_t& color);

}  // namespace deskpod
