// The H.264 encoders, decoded by FreeRDP's own AVC420 decoder (what xfreerdp uses).
#include <freerdp/codec/color.h>
#include <freerdp/codec/h264.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "rdp-bridge/rdp/h264/encoder.hpp"

using namespace deskpod;
using namespace deskpod::h264;

namespace {

struct Picture {
    int32_t w, h;
    std::vector<uint8_t> px;
    Picture(int32_t width, int32_t height) : w(width), h(height), px(size_t(w) * size_t(h) * 4) {}
    ImageView view() const { return ImageView{px.data(), w, h, w * 4}; }
    // A desktop-like picture: a gradient background, a moving box, text-like strokes.
    void draw(int frame) {
        for (int32_t y = 0; y < h; ++y)
            for (int32_t x = 0; x < w; ++x) {
                uint8_t* p = &px[(size_t(y) * size_t(w) + size_t(x)) * 4];
                p[0] = uint8_t(x * 255 / w);
                p[1] = uint8_t(y * 255 / h);
                p[2] = 0x60;
                p[3] = 0;
            }
        const int32_t bx = (frame * 8) % (w - 80), by = h / 3;
        for (int32_t y = by; y < by + 60; ++y)
            for (int32_t x = bx; x < bx + 80; ++x)
                std::memcpy(&px[(size_t(y) * size_t(w) + size_t(x)) * 4], "\x20\xc0\xf0\x00", 4);
        std::mt19937 rng(7);
        for (int32_t y = 16; y < h / 4; y += 16)
            for (int32_t x = 16; x < w - 16; x += 8)
                if (rng() % 3)
                    for (int32_t k = 0; k < 10; ++k)
                        std::memset(&px[(size_t(y + k) * size_t(w) + size_t(x)) * 4], 0, 8);
    }
};

// Peak signal-to-noise ratio of `decoded` (BGRX, same size) against `original`, in dB.
double psnr(const Picture& original, const std::vector<uint8_t>& decoded) {
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < original.px.size(); i += 4)
        for (size_t c = 0; c < 3; ++c) {
            const double d = double(original.px[i + c]) - double(decoded[i + c]);
            sum += d * d;
            ++n;
        }
    const double mse = sum / double(n);
    return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

// NAL unit types in an Annex B access unit.
std::vector<int> nal_types(const std::vector<uint8_t>& au) {
    std::vector<int> types;
    for (size_t i = 0; i + 3 < au.size(); ++i)
        if (au[i] == 0 && au[i + 1] == 0 && au[i + 2] == 1) {
            types.push_back(au[i + 3] & 0x1F);
            i += 2;
        }
    return types;
}

bool contains(const std::vector<int>& v, int x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

class H264 : public ::testing::TestWithParam<Backend> {};

TEST_P(H264, FramesDecodeWithFreeRdpsDecoderAtGoodQuality) {
    // 1366 x 768: neither dimension a multiple of 16, so the coded picture is padded.
    Settings settings;
    settings.width = 1366;
    settings.height = 768;
    settings.fps = 30;
    settings.bitrate_kbps = 8000;
    auto encoder = make_encoder(GetParam(), settings);
    ASSERT_TRUE(encoder) << backend_name(GetParam());
    EXPECT_EQ(encoder->backend(), GetParam());
    EXPECT_EQ(encoder->coded_width(), 1376);
    EXPECT_EQ(encoder->coded_height(), 768);

    H264_CONTEXT* decoder = h264_context_new(FALSE);
    ASSERT_NE(decoder, nullptr);
    ASSERT_TRUE(h264_context_reset(decoder, 1376, 768));
    Picture picture(1366, 768);
    std::vector<uint8_t> decoded(size_t(1366) * 768 * 4);
    for (int frame = 0; frame < 20; ++frame) {
        picture.draw(frame);
        std::vector<uint8_t> au;
        ASSERT_TRUE(encoder->encode(picture.view(), frame == 0, au)) << "frame " << frame;
        ASSERT_FALSE(au.empty()) << "frame " << frame;
        const auto types = nal_types(au);
        if (frame == 0) {
            // The first picture stands alone: parameter sets and an IDR slice.
            EXPECT_TRUE(contains(types, 7) && contains(types, 8) && contains(types, 5))
                << "frame 0";
        }
        RECTANGLE_16 all{0, 0, 1366, 768};
        ASSERT_GE(avc420_decompress(decoder, au.data(), UINT32(au.size()), decoded.data(),
                                    PIXEL_FORMAT_BGRX32, 1366 * 4, 1366, 768, &all, 1),
                  0)
            << "frame " << frame;
        EXPECT_GT(psnr(picture, decoded), 30.0) << "frame " << frame;
    }
    h264_context_free(decoder);
}

TEST_P(H264, AnIntraPictureCanBeAskedForMidStream) {
    Settings settings;
    settings.width = 640;
    settings.height = 480;
    auto encoder = make_encoder(GetParam(), settings);
    ASSERT_TRUE(encoder);
    Picture picture(640, 480);
    for (int frame = 0; frame < 6; ++frame) {
        picture.draw(frame);
        std::vector<uint8_t> au;
        ASSERT_TRUE(encoder->encode(picture.view(), frame == 0 || frame == 5, au));
        const auto types = nal_types(au);
        if (frame == 5) {
            // A client that joins now decodes from this picture on, with nothing before it.
            EXPECT_TRUE(contains(types, 7) && contains(types, 5)) << "frame 5";
            H264_CONTEXT* fresh = h264_context_new(FALSE);
            ASSERT_TRUE(h264_context_reset(fresh, 640, 480));
            std::vector<uint8_t> decoded(size_t(640) * 480 * 4);
            RECTANGLE_16 all{0, 0, 640, 480};
            ASSERT_GE(avc420_decompress(fresh, au.data(), UINT32(au.size()), decoded.data(),
                                        PIXEL_FORMAT_BGRX32, 640 * 4, 640, 480, &all, 1),
                      0);
            EXPECT_GT(psnr(picture, decoded), 30.0);
            h264_context_free(fresh);
        } else if (frame > 0) {
            EXPECT_FALSE(contains(types, 5)) << "frame " << frame << ": an unasked-for IDR";
        }
    }
}

TEST_P(H264, TheBitrateCanChangeBetweenFrames) {
    Settings settings;
    settings.width = 640;
    settings.height = 480;
    settings.bitrate_kbps = 4000;
    auto encoder = make_encoder(GetParam(), settings);
    ASSERT_TRUE(encoder);
    Picture picture(640, 480);
    std::vector<uint8_t> au;
    picture.draw(0);
    ASSERT_TRUE(encoder->encode(picture.view(), true, au));
    encoder->set_bitrate(500);
    EXPECT_EQ(encoder->settings().bitrate_kbps, 500);
    for (int frame = 1; frame < 4; ++frame) {
        picture.draw(frame);
        au.clear();
        ASSERT_TRUE(encoder->encode(picture.view(), false, au)) << "frame " << frame;
    }
}

std::string name(const ::testing::TestParamInfo<Backend>& info) {
    return std::string(backend_name(info.param));
}

// Every backend this build has; the CI build has both (scripts/bootstrap installs them).
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(H264);
INSTANTIATE_TEST_SUITE_P(Backends, H264, ::testing::ValuesIn(available_backends()), name);

TEST(H264Build, HasTheBackendsItWasConfiguredWith) {
    // The default build (and CI's) has both; -Dx264=disabled or -Dopenh264=disabled drops one.
    std::vector<Backend> expected;
#ifdef DESKPOD_HAVE_X264
    expected.push_back(Backend::x264);
#endif
#ifdef DESKPOD_HAVE_OPENH264
    expected.push_back(Backend::openh264);
#endif
    EXPECT_EQ(available_backends(), expected);
    for (const Backend b : {Backend::x264, Backend::openh264})
        if (std::find(expected.begin(), expected.end(), b) == expected.end()) {
            Settings settings;
            settings.width = 64;
            settings.height = 64;
            EXPECT_EQ(make_encoder(b, settings), nullptr) << backend_name(b);
        }
}

}  // namespace
