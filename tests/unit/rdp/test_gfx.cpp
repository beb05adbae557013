// The graphics pipeline's change analysis (rdp-bridge/rdp/gfx/tile_diff.hpp) and capability
// choice (rdp-bridge/rdp/gfx/pipeline.hpp).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "rdp-bridge/rdp/freerdp.hpp"
#include "rdp-bridge/rdp/gfx/pipeline.hpp"
#include "rdp-bridge/rdp/gfx/scroll.hpp"
#include "rdp-bridge/rdp/gfx/tile_cache.hpp"
#include "rdp-bridge/rdp/gfx/tile_codec.hpp"
#include "rdp-bridge/rdp/gfx/tile_diff.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <freerdp/channels/rdpgfx.h>
#pragma GCC diagnostic pop

namespace deskpod {
namespace {

struct Image {
    int32_t width, height;
    std::vector<uint32_t> px;
    Image(int32_t w, int32_t h, uint32_t fill) : width(w), height(h), px(size_t(w) * h, fill) {}
    ImageView view() const {
        return ImageView{reinterpret_cast<const uint8_t*>(px.data()), width, height, width * 4};
    }
    void set(int32_t x, int32_t y, uint32_t v) { px[size_t(y) * width + x] = v; }
};

Region all(int32_t w, int32_t h) {
    Region r;
    r.add(Rect{0, 0, w, h});
    return r;
}

// A TileDiff for `img`'s size whose client has been sent every tile of `img`.
TileDiff sent(const Image& img) {
    TileDiff diff;
    diff.reset(img.width, img.height);
    diff.changes(all(img.width, img.height), img.view());
    return diff;
}

TEST(TileDiff, FirstFrameSendsEveryTileThenNothingUnchanged) {
    Image img(200, 130, 0xff102030);  // 4 x 3 tiles, the last column and row partial
    TileDiff diff;
    diff.reset(img.width, img.height);
    TileDiffStats stats;
    auto changes = diff.changes(all(200, 130), img.view(), &stats);
    ASSERT_EQ(changes.size(), 12u);
    EXPECT_EQ(stats.solid, 12u);
    for (const auto& c : changes) {
        EXPECT_EQ(c.kind, TileChange::Kind::solid);
        EXPECT_EQ(c.color, 0x102030u);
    }
    EXPECT_EQ(changes.back().rect, (Rect{192, 128, 8, 2}));
    // Same pixels, damaged again: nothing to send.
    stats = {};
    EXPECT_TRUE(diff.changes(all(200, 130), img.view(), &stats).empty());
    EXPECT_EQ(stats.unchanged, 12u);
}

TEST(TileDiff, OnlyTheTileWithAChangedPixelIsSent) {
    Image img(256, 256, 0xff000000);
    TileDiff diff = sent(img);
    img.set(130, 70, 0xffffffff);  // tile (2, 1)
    // Damage reported over a wider area than what changed.
    Region damage;
    damage.add(Rect{100, 40, 100, 100});
    auto changes = diff.changes(damage, img.view());
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].rect, (Rect{128, 64, 64, 64}));
    EXPECT_EQ(changes[0].kind, TileChange::Kind::pixels);
}

TEST(TileDiff, UndamagedTilesAreNotLookedAt) {
    Image img(128, 64, 0xff000000);
    TileDiff diff = sent(img);
    img.set(100, 10, 0xff00ff00);  // tile (1, 0) changes, but only tile (0, 0) is damaged
    Region damage;
    damage.add(Rect{0, 0, 10, 10});
    EXPECT_TRUE(diff.changes(damage, img.view()).empty());
}

TEST(TileDiff, ResetAndInvalidateForgetWhatTheClientHad) {
    Image img(128, 128, 0xff336699);
    TileDiff diff = sent(img);
    diff.invalidate(Rect{70, 70, 1, 1});
    EXPECT_EQ(diff.changes(all(128, 128), img.view()).size(), 1u);
    diff.reset(128, 128);
    EXPECT_EQ(diff.changes(all(128, 128), img.view()).size(), 4u);
}

TEST(TileDiff, CopiedTilesAreComparedWithTheClientsPicture) {
    // The client's picture after a surface copy (its shadow) and the desktop: equal except
    // in tile (1, 0). Copied tiles are judged against the shadow, not by their old hashes.
    Image before(128, 128, 0xff000000);
    TileDiff diff = sent(before);
    Image shadow(128, 128, 0xff204060);     // every tile moved to new content
    diff.mark_copied(Rect{0, 0, 128, 64});  // the top row of tiles was copied
    Image image = shadow;
    image.set(100, 10, 0xffffffff);
    const ImageView client = shadow.view();
    TileDiffStats stats;
    auto changes = diff.changes(all(128, 128), image.view(), &stats, &client);
    // (0, 0) equals the shadow; (1, 0) differs from it; the bottom row was not copied, so it
    // differs from the black the client was sent.
    ASSERT_EQ(changes.size(), 3u);
    EXPECT_EQ(changes[0].rect, (Rect{64, 0, 64, 64}));
    EXPECT_TRUE(changes[0].was_known);
    EXPECT_EQ(changes[1].rect, (Rect{0, 64, 64, 64}));
    EXPECT_EQ(stats.unchanged, 1u);
    // Once sent, (1, 0) is judged by its hash again; (0, 0) still by the shadow.
    stats = {};
    EXPECT_TRUE(diff.changes(all(128, 128), image.view(), &stats, &client).empty());
    EXPECT_EQ(stats.unchanged, 4u);
    // Without the client's picture a copied tile counts as changed.
    EXPECT_EQ(diff.changes(all(128, 128), image.view()).size(), 1u);
}

TEST(TileDiff, TilesInsideAnAreaKnownEqualAreNotCompared) {
    // The caller vouches that a copy made (0, 0)-(128, 64) equal: its tiles are unchanged
    // without a look (here the pictures differ, to show that nothing looked), while a tile
    // only partly inside is compared.
    Image img(192, 64, 0xff000000);
    TileDiff diff = sent(img);
    diff.mark_copied(Rect{0, 0, 192, 64});
    const Image client(192, 64, 0xff101010);
    const ImageView client_view = client.view();
    TileDiffStats stats;
    auto changes = diff.changes(all(192, 64), img.view(), &stats, &client_view,
                                {Rect{0, 0, 128, 64}, Rect{128, 0, 32, 64}});
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].rect, (Rect{128, 0, 64, 64}));
    EXPECT_EQ(stats.unchanged, 2u);
}

TEST(TileDiff, UniformIgnoresTheUnusedByte) {
    Image img(64, 64, 0xff445566);
    img.set(5, 5, 0x00445566);
    uint32_t color = 0;
    EXPECT_TRUE(uniform_tile(img.view(), Rect{0, 0, 64, 64}, color));
    EXPECT_EQ(color, 0x445566u);
    img.set(6, 6, 0xff445567);
    EXPECT_FALSE(uniform_tile(img.view(), Rect{0, 0, 64, 64}, color));
}

// Text-like content: every row different.
Image noise(int32_t w, int32_t h, uint32_t seed) {
    Image img(w, h, 0);
    std::mt19937 rng(seed);
    for (auto& p : img.px)
        p = 0xff000000u | (rng() & 0xffffff);
    return img;
}

Image shifted_up(const Image& before, int32_t dy, uint32_t seed) {
    Image after = noise(before.width, before.height, seed);  // new rows at the bottom
    for (int32_t y = 0; y + dy < before.height; ++y)
        std::memcpy(&after.px[size_t(y) * after.width], &before.px[size_t(y + dy) * before.width],
                    size_t(before.width) * 4);
    return after;
}

TEST(TileDiff, ChangedBoxIsTheSmallestRectangleHoldingEveryChange) {
    const Image before = noise(128, 128, 12);
    Image after = before;
    const Rect tile{64, 64, 64, 64};
    EXPECT_TRUE(changed_box(before.view(), after.view(), tile).empty());
    after.set(70, 120, 0xff000000);  // two new rows at the bottom would look like this
    after.set(100, 125, 0xffffffff);
    after.set(10, 10, 0xff123456);  // outside the tile: not its business
    EXPECT_EQ(changed_box(before.view(), after.view(), tile), (Rect{70, 120, 31, 6}));
    const auto all = changed_box(noise(128, 128, 13).view(), before.view(), tile);
    EXPECT_EQ(all, tile);
}

TEST(Scroll, FindsATerminalScrollingUp) {
    const Image before = noise(320, 240, 1);
    const Image after = shifted_up(before, 14, 2);
    const auto copy = find_vertical_scroll(before.view(), after.view(), Rect{0, 0, 320, 240});
    ASSERT_TRUE(copy.has_value());
    EXPECT_EQ(copy->src, (Rect{0, 14, 320, 226}));
    EXPECT_EQ(copy->dst_x, 0);
    EXPECT_EQ(copy->dst_y, 0);
}

TEST(Scroll, RowHashesOfTheLastSearchServeTheNext) {
    const Image first = noise(320, 240, 16);
    const Image second = shifted_up(first, 14, 17);
    const Image third = shifted_up(second, 14, 18);
    const Rect area{0, 0, 320, 240};
    RowHashes rows;
    ASSERT_TRUE(find_vertical_scroll(first.view(), second.view(), area, 32, &rows));
    EXPECT_EQ(rows.area, area);
    // The next frame: the cached hashes of `second` stand in for hashing it again.
    const auto copy = find_vertical_scroll(second.view(), third.view(), area, 32, &rows);
    ASSERT_TRUE(copy.has_value());
    EXPECT_EQ(copy->src, (Rect{0, 14, 320, 226}));
    // Another area: recomputed, not reused.
    EXPECT_TRUE(find_vertical_scroll(second.view(), third.view(), Rect{0, 0, 300, 240}, 32, &rows));
    EXPECT_EQ(rows.area, (Rect{0, 0, 300, 240}));
}

TEST(Scroll, FindsAScrollDownInsideAnArea) {
    Image before = noise(400, 300, 3);
    Image after = before;
    // Rows 50..249 of the area x 100..299 move down by 20; the rest stays.
    for (int32_t y = 249; y >= 70; --y)
        std::memcpy(&after.px[size_t(y) * 400 + 100], &before.px[size_t(y - 20) * 400 + 100],
                    200 * 4);
    const auto copy = find_vertical_scroll(before.view(), after.view(), Rect{100, 50, 200, 200});
    ASSERT_TRUE(copy.has_value());
    EXPECT_EQ(copy->src, (Rect{100, 50, 200, 180}));
    EXPECT_EQ(copy->dst_y, 70);
}

TEST(Scroll, APageScrolledUnderAStillScrollBarIsCopiedStripByStrip) {
    // 300 columns of page scrolled up by 4 rows; the last 20 columns (a scroll bar whose
    // thumb stays put) keep their pixels, so no whole row of the area moved.
    const Image before = noise(320, 256, 19);
    Image after = shifted_up(before, 4, 20);
    for (int32_t y = 0; y < 256; ++y)
        std::memcpy(&after.px[size_t(y) * 320 + 300], &before.px[size_t(y) * 320 + 300], 20 * 4);
    const Rect area{0, 0, 320, 256};
    EXPECT_FALSE(find_vertical_scroll(before.view(), after.view(), area).has_value());
    std::vector<RowHashes> rows;
    const auto copies = find_vertical_scrolls(before.view(), after.view(), area, 64, 32, &rows);
    // Strips 0-255 as one copy, then columns 256-299 of the last strip do not move whole.
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].src, (Rect{0, 4, 256, 252}));
    EXPECT_EQ(copies[0].dst_y, 0);
    EXPECT_EQ(rows.size(), 5u);
}

TEST(Scroll, NothingWhenNothingMovedOrEverythingChanged) {
    const Image a = noise(200, 200, 4);
    EXPECT_FALSE(find_vertical_scroll(a.view(), a.view(), Rect{0, 0, 200, 200}).has_value());
    const Image b = noise(200, 200, 5);
    EXPECT_FALSE(find_vertical_scroll(a.view(), b.view(), Rect{0, 0, 200, 200}).has_value());
    // Too few rows to be worth a copy.
    const Image c = shifted_up(a, 190, 6);
    EXPECT_FALSE(find_vertical_scroll(a.view(), c.view(), Rect{0, 0, 200, 200}).has_value());
}

// A timeline or spreadsheet panned sideways: columns x of `after` are columns x + dx of
// `before` inside the area; the columns uncovered on the right are new.
Image shifted_left(const Image& before, const Rect& area, int32_t dx, uint32_t seed) {
    Image after = before;
    const Image fresh = noise(before.width, before.height, seed);
    for (int32_t y = area.y; y < area.y + area.height; ++y) {
        for (int32_t x = area.x; x < area.x + area.width; ++x) {
            const int32_t from = x + dx;
            after.px[size_t(y) * after.width + x] = from < area.x + area.width
                                                        ? before.px[size_t(y) * before.width + from]
                                                        : fresh.px[size_t(y) * fresh.width + x];
        }
    }
    return after;
}

TEST(Scroll, FindsAHorizontalPanInsideAnArea) {
    const Image before = noise(400, 200, 7);
    const Rect area{40, 20, 300, 150};
    const Image after = shifted_left(before, area, 24, 8);
    EXPECT_FALSE(find_vertical_scroll(before.view(), after.view(), area).has_value());
    const auto copy = find_horizontal_scroll(before.view(), after.view(), area);
    ASSERT_TRUE(copy.has_value());
    EXPECT_EQ(copy->src, (Rect{64, 20, 276, 150}));
    EXPECT_EQ(copy->dst_x, 40);
    EXPECT_EQ(copy->dst_y, 20);
}

TEST(Scroll, HorizontalBandStopsWhereAColumnDiffers) {
    const Image before = noise(300, 100, 9);
    const Rect area{0, 0, 300, 100};
    Image after = shifted_left(before, area, 10, 10);
    // One changed pixel in column 150 (a caret drawn over the panned content): the copy may
    // only cover the longer side of it, never that column.
    after.set(150, 99, after.px[size_t(99) * 300 + 150] ^ 0x00ffffffu);
    const auto copy = find_horizontal_scroll(before.view(), after.view(), area);
    ASSERT_TRUE(copy.has_value());
    EXPECT_EQ(copy->dst_x, 0);
    EXPECT_EQ(copy->src, (Rect{10, 0, 150, 100}));
    const Image same = noise(300, 100, 9);
    EXPECT_FALSE(find_horizontal_scroll(before.view(), same.view(), area).has_value());
}

TEST(Scroll, HorizontalPansOfSomeBandsAreFoundBandByBand) {
    // A terminal that has redrawn its first 150 rows panned by 12 columns, the rest not yet.
    const Image before = noise(320, 256, 14);
    const Image panned = shifted_left(before, Rect{0, 0, 320, 256}, 12, 15);
    Image after = before;
    std::memcpy(after.px.data(), panned.px.data(), size_t(320) * 150 * 4);
    EXPECT_FALSE(find_horizontal_scroll(before.view(), after.view(), Rect{0, 0, 320, 256}));
    const auto copies = find_horizontal_scrolls(before.view(), after.view(), Rect{0, 0, 320, 256});
    // Bands 0-63 and 64-127 as one copy; the third band moved only in part (its columns do
    // not match whole), so its tiles are sent as pixels.
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].src, (Rect{12, 0, 308, 128}));
    EXPECT_EQ(copies[0].dst_x, 0);
    EXPECT_EQ(copies[0].dst_y, 0);
}

// Anti-aliased text: a dark background, a light foreground and the ramp between them.
Image text_like(int32_t w, int32_t h) {
    Image img(w, h, 0xff1e1e1e);
    for (int32_t y = 0; y < h; ++y)
        for (int32_t x = 0; x < w; ++x)
            if ((x / 3 + y / 5) % 4 == 0) {
                const uint32_t level = uint32_t((x * 7 + y * 3) % 32) * 7 + 0x1e;
                img.set(x, y, 0xff000000u | (level << 16) | (level << 8) | level);
            }
    return img;
}

TEST(TileCodec, OnlyPhotographicTilesInMotionGoLossy) {
    using namespace std::chrono_literals;
    const Image photo = noise(64, 64, 11);
    const Image text = text_like(64, 64);
    const Rect tile{0, 0, 64, 64};
    EXPECT_GE(sampled_colours(photo.view(), tile, 1000), 200u);
    EXPECT_LT(sampled_colours(text.view(), tile, 1000), TileCodecPolicy::kPhotoColours);

    TileMotion motion;
    auto t = TileMotion::Clock::now();
    motion.changed(t);
    motion.changed(t += 33ms);
    // Two changes in a row are not motion yet: a photo shown once stays exact.
    EXPECT_EQ(choose_tile_codec(photo.view(), tile, motion, true), TileCodec::planar);
    motion.changed(t += 33ms);
    EXPECT_EQ(choose_tile_codec(photo.view(), tile, motion, true), TileCodec::remotefx);
    EXPECT_EQ(choose_tile_codec(photo.view(), tile, motion, false), TileCodec::planar);
    EXPECT_EQ(choose_tile_codec(text.view(), tile, motion, true), TileCodec::planar);
    // A pause longer than the motion gap starts over.
    motion.changed(t += TileCodecPolicy::kMotionGap + 1ms);
    EXPECT_EQ(motion.streak, 1);
    EXPECT_EQ(choose_tile_codec(photo.view(), tile, motion, true), TileCodec::planar);
}

TEST(TileCodec, LossyTilesSettleAfterTheirLastChange) {
    using namespace std::chrono_literals;
    TileMotion motion;
    const auto t = TileMotion::Clock::now();
    motion.changed(t);
    EXPECT_FALSE(motion.settled(t + 10s));  // not lossy: nothing to refine
    motion.lossy = true;
    EXPECT_FALSE(motion.settled(t + TileCodecPolicy::kSettle - 1ms));
    EXPECT_TRUE(motion.settled(t + TileCodecPolicy::kSettle));
    motion.refining = true;
    motion.changed(t + 1s);  // changed again: its refinement is moot
    EXPECT_FALSE(motion.refining);
}

TEST(TileCache, HitsAndLeastRecentlyUsedEviction) {
    TileCache cache(3);
    bool evicted = true;
    EXPECT_EQ(cache.insert(10, evicted), 1);
    EXPECT_FALSE(evicted);
    EXPECT_EQ(cache.insert(20, evicted), 2);
    EXPECT_EQ(cache.insert(30, evicted), 3);
    EXPECT_FALSE(evicted);
    EXPECT_EQ(cache.find(10), 1);  // 10 is now the most recently used; 20 the least
    EXPECT_EQ(cache.insert(40, evicted), 2);
    EXPECT_TRUE(evicted);
    EXPECT_EQ(cache.find(20), 0);
    EXPECT_EQ(cache.find(40), 2);
    // Content already cached keeps its slot and evicts nothing.
    EXPECT_EQ(cache.insert(30, evicted), 3);
    EXPECT_FALSE(evicted);
    EXPECT_EQ(cache.insert(50, evicted), 1);  // 10 was least recently used by now
    EXPECT_TRUE(evicted);
    EXPECT_EQ(cache.find(10), 0);
}

TEST(TileCache, NoSlotsNoCache) {
    TileCache cache(0);
    bool evicted = false;
    EXPECT_EQ(cache.insert(1, evicted), 0);
    EXPECT_EQ(cache.find(1), 0);
}

TEST(GfxCaps, HighestKnownVersionWithH264Off) {
    const GfxCaps offered[] = {{RDPGFX_CAPVERSION_8, RDPGFX_CAPS_FLAG_SMALL_CACHE},
                               {RDPGFX_CAPVERSION_81, RDPGFX_CAPS_FLAG_AVC420_ENABLED},
                               {RDPGFX_CAPVERSION_105, 0},
                               {0x000B0000, 0}};  // a future version deskpod does not know
    GfxCaps chosen;
    ASSERT_TRUE(choose_gfx_caps(offered, 4, chosen));
    EXPECT_EQ(chosen.version, uint32_t(RDPGFX_CAPVERSION_105));
    EXPECT_EQ(chosen.flags, uint32_t(RDPGFX_CAPS_FLAG_AVC_DISABLED));
    // 8.1 only: AVC420 is not confirmed.
    ASSERT_TRUE(choose_gfx_caps(offered + 1, 1, chosen));
    EXPECT_EQ(chosen.version, uint32_t(RDPGFX_CAPVERSION_81));
    EXPECT_EQ(chosen.flags, 0u);
    // The small-cache flag is kept.
    ASSERT_TRUE(choose_gfx_caps(offered, 1, chosen));
    EXPECT_EQ(chosen.flags, uint32_t(RDPGFX_CAPS_FLAG_SMALL_CACHE));
    EXPECT_FALSE(choose_gfx_caps(offered + 3, 1, chosen));
    EXPECT_STREQ(gfx_version_name(RDPGFX_CAPVERSION_107), "10.7");
    EXPECT_FALSE(
        gfx_caps_allow_avc420(GfxCaps{RDPGFX_CAPVERSION_105, RDPGFX_CAPS_FLAG_AVC_DISABLED}));
}

TEST(Avc420Regions, RunsOfTilesAlongARowBecomeOneRectangle) {
    // Row 0: tiles 0, 1, 2 touch; tile 4 stands apart and the narrower edge tile beside it
    // (x 320, 40 wide) joins it; row 1: tile 1 alone; row 2: two short tiles at the bottom
    // edge (20 rows) join each other.
    const std::vector<Rect> tiles = {{0, 0, 64, 64},   {64, 0, 64, 64},  {128, 0, 64, 64},
                                     {256, 0, 64, 64}, {320, 0, 40, 64}, {64, 64, 64, 64},
                                     {0, 128, 64, 20}, {64, 128, 64, 20}};
    const std::vector<Rect> got = avc420_regions(tiles);
    const std::vector<Rect> want = {
        {0, 0, 192, 64}, {256, 0, 104, 64}, {64, 64, 64, 64}, {0, 128, 128, 20}};
    EXPECT_EQ(got, want);
    EXPECT_TRUE(avc420_regions({}).empty());
}

TEST(GfxCaps, H264StaysAsTheClientOfferedItWhenAnEncoderIsConfigured) {
    GfxCaps chosen;
    // 10.x: AVC unless the client disabled it.
    const GfxCaps ten[] = {{RDPGFX_CAPVERSION_107, 0}};
    ASSERT_TRUE(choose_gfx_caps(ten, 1, chosen, true));
    EXPECT_EQ(chosen.flags, 0u);
    EXPECT_TRUE(gfx_caps_allow_avc420(chosen));
    const GfxCaps ten_without[] = {{RDPGFX_CAPVERSION_107, RDPGFX_CAPS_FLAG_AVC_DISABLED}};
    ASSERT_TRUE(choose_gfx_caps(ten_without, 1, chosen, true));
    EXPECT_FALSE(gfx_caps_allow_avc420(chosen));
    // 8.1: only with AVC420 enabled; 8.0 never.
    const GfxCaps eight_one[] = {{RDPGFX_CAPVERSION_81, RDPGFX_CAPS_FLAG_AVC420_ENABLED}};
    ASSERT_TRUE(choose_gfx_caps(eight_one, 1, chosen, true));
    EXPECT_EQ(chosen.flags, uint32_t(RDPGFX_CAPS_FLAG_AVC420_ENABLED));
    EXPECT_TRUE(gfx_caps_allow_avc420(chosen));
    const GfxCaps eight_one_plain[] = {{RDPGFX_CAPVERSION_81, 0}};
    ASSERT_TRUE(choose_gfx_caps(eight_one_plain, 1, chosen, true));
    EXPECT_FALSE(gfx_caps_allow_avc420(chosen));
    const GfxCaps eight[] = {{RDPGFX_CAPVERSION_8, 0}};
    ASSERT_TRUE(choose_gfx_caps(eight, 1, chosen, true));
    EXPECT_FALSE(gfx_caps_allow_avc420(chosen));
}

}  // namespace
}  // namespace deskpod
