#include "rdp-bridge/rdp/gfx/tile_diff.hpp"

#include <algorithm>
#include <cstring>

#define XXH_INLINE_ALL  // one short call per tile row
#include <xxhash.h>

namespace deskpod {

namespace {

uint64_t hash_tile(const ImageView& image, const Rect& r) {
    // Each row hashed on its own, seeded with the hash so far: XXH3's streaming API would copy
    // every 256-byte tile row into its internal buffer first (measured: 10 % of deskpod's CPU
    // on a scrolling terminal).
    uint64_t h = uint64_t(r.width) << 32 | uint32_t(r.height);
    const size_t row_bytes = size_t(r.width) * 4;
    for (int32_t y = r.y; y < r.y + r.height; ++y) {
        const uint8_t* row = image.pixels + size_t(y) * size_t(image.stride) + size_t(r.x) * 4;
        h = XXH3_64bits_withSeed(row, row_bytes, h);
    }
    return h;
}

}  // namespace

Rect changed_box(const ImageView& before, const ImageView& after, const Rect& r) {
    const size_t bytes = size_t(r.width) * 4;
    auto row_of = [&](const ImageView& image, int32_t y) {
        return image.pixels + size_t(y) * size_t(image.stride) + size_t(r.x) * 4;
    };
    int32_t top = r.y, bottom = r.y + r.height - 1;
    while (top <= bottom && std::memcmp(row_of(before, top), row_of(after, top), bytes) == 0)
        ++top;
    if (top > bottom)
        return Rect{r.x, r.y, 0, 0};
    while (std::memcmp(row_of(before, bottom), row_of(after, bottom), bytes) == 0)
        --bottom;
    int32_t left = r.width, right = -1;
    for (int32_t y = top; y <= bottom; ++y) {
        const auto* a = reinterpret_cast<const uint32_t*>(row_of(before, y));
        const auto* b = reinterpret_cast<const uint32_t*>(row_of(after, y));
        for (int32_t x = 0; x < left; ++x)
            if (a[x] != b[x]) {
                left = x;
                break;
            }
        for (int32_t x = r.width - 1; x > right; --x)
            if (a[x] != b[x]) {
                right = x;
                break;
            }
    }
    return Rect{r.x + left, top, right - left + 1, bottom - top + 1};
}

bool uniform_tile(const ImageView& image, const Rect& r, uint32_t& color) {
    const uint8_t* first = image.pixels + size_t(r.y) * size_t(image.stride) + size_t(r.x) * 4;
    uint32_t c = 0;
    std::memcpy(&c, first, 4);
    c &= 0x00FFFFFF;
    for (int32_t y = r.y; y < r.y + r.height; ++y) {
        const uint8_t* row = image.pixels + size_t(y) * size_t(image.stride) + size_t(r.x) * 4;
        for (int32_t x = 0; x < r.width; ++x) {
            uint32_t p = 0;
            std::memcpy(&p, row + size_t(x) * 4, 4);
            if ((p & 0x00FFFFFF) != c)
                return false;
        }
    }
    color = c;
    return true;
}

void TileDiff::reset(int32_t width, int32_t height) {
    width_ = std::max(0, width);
    height_ = std::max(0, height);
    columns_ = (width_ + kTile - 1) / kTile;
    rows_ = (height_ + kTile - 1) / kTile;
    tiles_.assign(size_t(columns_) * size_t(rows_), Entry{});
}

bool TileDiff::cells(const Rect& area, int32_t& c0, int32_t& r0, int32_t& c1, int32_t& r1) const {
    const int32_t x0 = std::max(0, area.x), y0 = std::max(0, area.y);
    const int32_t x1 = std::min(width_, area.x + area.width);
    const int32_t y1 = std::min(height_, area.y + area.height);
    if (area.empty() || tiles_.empty() || x0 >= x1 || y0 >= y1)
        return false;
    c0 = x0 / kTile;
    r0 = y0 / kTile;
    c1 = (x1 - 1) / kTile;
    r1 = (y1 - 1) / kTile;
    return true;
}

Rect TileDiff::tile_rect(int32_t c, int32_t r) const {
    return Rect{c * kTile, r * kTile, std::min(kTile, width_ - c * kTile),
                std::min(kTile, height_ - r * kTile)};
}

void TileDiff::invalidate(const Rect& area) {
    int32_t c0, r0, c1, r1;
    if (!cells(area, c0, r0, c1, r1))
        return;
    for (int32_t r = r0; r <= r1; ++r)
        for (int32_t c = c0; c <= c1; ++c)
            tiles_[size_t(r) * size_t(columns_) + size_t(c)].known = false;
}

bool TileDiff::all_known(const Rect& area) const {
    int32_t c0, r0, c1, r1;
    if (!cells(area, c0, r0, c1, r1))
        return false;
    for (int32_t r = r0; r <= r1; ++r)
        for (int32_t c = c0; c <= c1; ++c)
            if (!tiles_[size_t(r) * size_t(columns_) + size_t(c)].known)
                return false;
    return true;
}

void TileDiff::refresh(const ImageView& content, const Rect& area) {
    int32_t c0, r0, c1, r1;
    if (!cells(area, c0, r0, c1, r1))
        return;
    for (int32_t r = r0; r <= r1; ++r)
        for (int32_t c = c0; c <= c1; ++c)
            tiles_[size_t(r) * size_t(columns_) + size_t(c)].hash =
                hash_tile(content, tile_rect(c, r));
}

std::vector<TileChange> TileDiff::changes(const Region& damage, const ImageView& image,
                                          TileDiffStats* stats) {
    std::vector<TileChange> out;
    if (tiles_.empty() || image.width < width_ || image.height < height_)
        return out;
    // The tiles any damage rectangle touches, each once.
    std::vector<uint8_t> touched(tiles_.size(), 0);
    for (const Rect& d : damage.rects()) {
        const int32_t x0 = std::max(0, d.x), y0 = std::max(0, d.y);
        const int32_t x1 = std::min(width_, d.x + d.width), y1 = std::min(height_, d.y + d.height);
        if (x0 >= x1 || y0 >= y1)
            continue;
        for (int32_t r = y0 / kTile; r <= (y1 - 1) / kTile; ++r)
            for (int32_t c = x0 / kTile; c <= (x1 - 1) / kTile; ++c)
                touched[size_t(r) * size_t(columns_) + size_t(c)] = 1;
    }
    for (int32_t r = 0; r < rows_; ++r) {
        for (int32_t c = 0; c < columns_; ++c) {
            const size_t i = size_t(r) * size_t(columns_) + size_t(c);
            if (!touched[i])
                continue;
            const Rect rect = tile_rect(c, r);
            const uint64_t h = hash_tile(image, rect);
            Entry& e = tiles_[i];
            if (e.known && e.hash == h) {
                if (stats)
                    ++stats->unchanged;
                continue;
            }
            TileChange change{rect, TileChange::Kind::pixels, 0,
                              h ^ (uint64_t(rect.width) << 56) ^ (uint64_t(rect.height) << 48),
                              e.known};
            e.known = true;
            e.hash = h;
            if (uniform_tile(image, rect, change.color)) {
                change.kind = TileChange::Kind::solid;
                if (stats)
                    ++stats->solid;
            } else if (stats) {
                ++stats->pixels;
            }
            out.push_back(change);
        }
    }
    return out;
}

}  // namespace deskpod
