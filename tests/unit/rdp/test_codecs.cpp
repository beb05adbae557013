// Round trips through FreeRDP's own decoders for every encoder the RDP peer uses
// (rdp-bridge/rdp_encoder.hpp). The image mixes gradients, flat areas and hard edges, in the
// desktop's XRGB8888 layout (bytes B,G,R,X), so swapped channels show up as failures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <freerdp/codec/region.h>
#pragma GCC diagnostic pop

#include "rdp-bridge/rdp/encoder.hpp"
#include "rdp-bridge/rdp/freerdp.hpp"

namespace deskpod {
namespace {

struct TestImage {
    int32_t width;
    int32_t height;
    std::vector<uint8_t> pixels;

    TestImage(int32_t w, int32_t h) : width(w), height(h), pixels(size_t(w) * h * 4) {
        for (int32_t y = 0; y < h; ++y) {
            for (int32_t x = 0; x < w; ++x) {
                uint8_t* p = &pixels[(size_t(y) * w + x) * 4];
                const bool box = x > w / 4 && x < w / 2 && y > h / 4 && y < h / 2;
                p[0] = box ? 0x20 : uint8_t(x * 255 / w);        // blue
                p[1] = box ? 0x40 : uint8_t(y * 255 / h);        // green
                p[2] = box ? 0xE0 : uint8_t((x + y) * 127 / w);  // red
                p[3] = 0xFF;
            }
        }
    }
    ImageView view() const { return ImageView{pixels.data(), width, height, width * 4}; }
    const uint8_t* at(int32_t x, int32_t y) const { return &pixels[(size_t(y) * width + x) * 4]; }
};

// Largest per-channel difference (B, G, R) over the rectangle.
int max_difference(const TestImage& a, const std::vector<uint8_t>& b, const Rect& r) {
    int worst = 0;
    for (int32_t y = r.y; y < r.y + r.height; ++y) {
        for (int32_t x = r.x; x < r.x + r.width; ++x) {
            const uint8_t* p = a.at(x, y);
            const uint8_t* q = &b[(size_t(y) * a.width + x) * 4];
            for (int c = 0; c < 3; ++c)
                worst = std::max(worst, std::abs(int(p[c]) - int(q[c])));
        }
    }
    return worst;
}

double mean_difference(const TestImage& a, const std::vector<uint8_t>& b, const Rect& r) {
    double total = 0;
    for (int32_t y = r.y; y < r.y + r.height; ++y) {
        for (int32_t x = r.x; x < r.x + r.width; ++x) {
            const uint8_t* p = a.at(x, y);
            const uint8_t* q = &b[(size_t(y) * a.width + x) * 4];
            for (int c = 0; c < 3; ++c)
                total += std::abs(int(p[c]) - int(q[c]));
        }
    }
    return total / double(r.area() * 3);
}

TEST(RdpCodecs, RemoteFxRoundTrip) {
    const TestImage image(256, 192);
    RemoteFxEncoder encoder;
    std::vector<std::vector<uint8_t>> messages;
    const std::vector<Rect> rects = {Rect{0, 0, 256, 192}};
    ASSERT_TRUE(encoder.encode(image.view(), rects, 0x3F0000, messages));
    ASSERT_EQ(messages.size(), 1u);

    RFX_CONTEXT* decoder = rfx_context_new(FALSE);
    ASSERT_NE(decoder, nullptr);
    std::vector<uint8_t> decoded(image.pixels.size(), 0);
    REGION16 invalid;
    region16_init(&invalid);
    ASSERT_TRUE(rfx_process_message(decoder, messages[0].data(), UINT32(messages[0].size()), 0, 0,
                                    decoded.data(), PIXEL_FORMAT_BGRX32, UINT32(image.width * 4),
                                    UINT32(image.height), &invalid));
    region16_uninit(&invalid);
    rfx_context_free(decoder);
    // RemoteFX is lossy (DWT + quantization); on smooth content the error stays small.
    EXPECT_LE(max_difference(image, decoded, rects[0]), 24);
}

TEST(RdpCodecs, RemoteFxForThePipelineIsCoarserAndSelfContained) {
    const TestImage image(256, 192);
    const std::vector<Rect> rects = {Rect{0, 0, 256, 192}};
    RemoteFxEncoder fine;
    RemoteFxEncoder coarse(true, 2);  // as the graphics pipeline makes it for moving tiles
    std::vector<std::vector<uint8_t>> a, b;
    ASSERT_TRUE(fine.encode(image.view(), rects, 0x3F0000, a));
    ASSERT_TRUE(coarse.encode(image.view(), rects, 0x3F0000, b));
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_LT(b[0].size(), a[0].size());
    // Every message carries its header blocks: a fresh decoder (a new surface on the client
    // after ResetGraphics) decodes the second message without having seen the first.
    ASSERT_TRUE(coarse.encode(image.view(), rects, 0x3F0000, b));
    RFX_CONTEXT* decoder = rfx_context_new(FALSE);
    ASSERT_NE(decoder, nullptr);
    std::vector<uint8_t> decoded(image.pixels.size(), 0);
    REGION16 invalid;
    region16_init(&invalid);
    ASSERT_TRUE(rfx_process_message(decoder, b[0].data(), UINT32(b[0].size()), 0, 0, decoded.data(),
                                    PIXEL_FORMAT_BGRX32, UINT32(image.width * 4),
                                    UINT32(image.height), &invalid));
    region16_uninit(&invalid);
    rfx_context_free(decoder);
    EXPECT_LE(max_difference(image, decoded, rects[0]), 48);
}

TEST(RdpCodecs, RemoteFxSplitsLargeUpdates) {
    // Noise does not compress, so a full 512x512 frame cannot fit one 16 KB request.
    TestImage image(512, 512);
    uint32_t state = 12345;
    for (auto& byte : image.pixels) {
        state = state * 1103515245u + 12345u;
        byte = uint8_t(state >> 16);
    }
    RemoteFxEncoder encoder;
    std::vector<std::vector<uint8_t>> messages;
    ASSERT_TRUE(encoder.encode(image.view(), {Rect{0, 0, 512, 512}}, 16384, messages));
    EXPECT_GT(messages.size(), 1u);
    for (const auto& m : messages)
        EXPECT_LE(m.size(), 16384u);
}

TEST(RdpCodecs, NsCodecRoundTrip) {
    const TestImage image(200, 120);
    const Rect rect{8, 4, 150, 100};
    NsCodecEncoder encoder;
    std::vector<uint8_t> encoded;
    ASSERT_TRUE(encoder.encode(image.view(), rect, encoded));
    ASSERT_FALSE(encoded.empty());

    NSC_CONTEXT* decoder = nsc_context_new();
    ASSERT_NE(decoder, nullptr);
    std::vector<uint8_t> decoded(image.pixels.size(), 0);
    ASSERT_TRUE(nsc_process_message(decoder, 32, UINT32(rect.width), UINT32(rect.height),
                                    encoded.data(), UINT32(encoded.size()), decoded.data(),
                                    PIXEL_FORMAT_BGRX32, UINT32(image.width * 4), UINT32(rect.x),
                                    UINT32(rect.y), UINT32(rect.width), UINT32(rect.height),
                                    FREERDP_FLIP_VERTICAL));
    nsc_context_free(decoder);
    // Clients decode NSCodec surface bits with FREERDP_FLIP_VERTICAL (as xfreerdp's gdi does).
    // The default colour loss level and 2x2 chroma subsampling blur colour across hard edges,
    // so check the average error over the rect and the exact-ish interior of the flat box.
    EXPECT_LE(mean_difference(image, decoded, rect), 3.0);
    EXPECT_LE(max_difference(image, decoded, Rect{54, 34, 42, 24}), 8);
}

TEST(RdpCodecs, PlanarRoundTripIsLossless) {
    const TestImage image(160, 100);
    BitmapEncoder encoder;
    BITMAP_PLANAR_CONTEXT* decoder = freerdp_bitmap_planar_context_new(0, 64, 64);
    ASSERT_NE(decoder, nullptr);
    std::vector<uint8_t> decoded(image.pixels.size(), 0);
    for (const Rect& tile : split_into_tiles(Rect{0, 0, image.width, image.height}, 64)) {
        std::vector<uint8_t> encoded;
        ASSERT_TRUE(encoder.encode(image.view(), tile, 32, encoded));
        // Bitmap updates are bottom-up, so clients decode them with vFlip (as gdi does).
        ASSERT_TRUE(planar_decompress(
            decoder, encoded.data(), UINT32(encoded.size()), UINT32(tile.width),
            UINT32(tile.height), decoded.data(), PIXEL_FORMAT_BGRX32, UINT32(image.width * 4),
            UINT32(tile.x), UINT32(tile.y), UINT32(tile.width), UINT32(tile.height), TRUE));
    }
    freerdp_bitmap_planar_context_free(decoder);
    EXPECT_EQ(max_difference(image, decoded, Rect{0, 0, image.width, image.height}), 0);
}

TEST(RdpCodecs, InterleavedRoundTrip) {
    const TestImage image(128, 64);
    BitmapEncoder encoder;
    BITMAP_INTERLEAVED_CONTEXT* decoder = bitmap_interleaved_context_new(FALSE);
    ASSERT_NE(decoder, nullptr);
    // 24 bpp is not offered: FreeRDP 2.11's 24-bit interleaved encoder corrupts rows after
    // colour runs (the peer maps 24 bpp clients to 16 bpp, like FreeRDP's shadow server).
    for (uint32_t bpp : {15u, 16u}) {
        std::vector<uint8_t> decoded(image.pixels.size(), 0);
        for (const Rect& tile : split_into_tiles(Rect{0, 0, image.width, image.height}, 64)) {
            std::vector<uint8_t> encoded;
            ASSERT_TRUE(encoder.encode(image.view(), tile, bpp, encoded));
            ASSERT_TRUE(interleaved_decompress(
                decoder, encoded.data(), UINT32(encoded.size()), UINT32(tile.width),
                UINT32(tile.height), bpp, decoded.data(), PIXEL_FORMAT_BGRX32,
                UINT32(image.width * 4), UINT32(tile.x), UINT32(tile.y), UINT32(tile.width),
                UINT32(tile.height), nullptr));
        }
        // 15/16 bpp keep 5-6 bits per channel.
        EXPECT_LE(max_difference(image, decoded, Rect{0, 0, image.width, image.height}), 8)
            << bpp << " bpp";
    }
    bitmap_interleaved_context_free(decoder);
}

TEST(RdpCodecs, TilesCoverTheRectOnAGrid) {
    const auto tiles = split_into_tiles(Rect{10, 70, 100, 60}, 64);
    int64_t area = 0;
    for (const Rect& t : tiles) {
        EXPECT_LE(t.width, 64);
        EXPECT_LE(t.height, 64);
        EXPECT_EQ((t.x + t.width) % 64 == 0 || t.x + t.width == 110, true);
        area += t.area();
    }
    EXPECT_EQ(area, 100 * 60);
}

}  // namespace
}  // namespace deskpod
