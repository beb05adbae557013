// The two H.264 backends on the same frames, one core each (Google Benchmark; never a pass/fail
// test). Run: build/tests/bench/deskpod-h264-bench [--benchmark_filter=...]
//
// Each benchmark encodes a fixed sequence of desktop-like frames at 720p or 1080p: a window
// of text scrolling by one 16-pixel line a frame (a terminal or a browser page) beside a
// moving photograph-like area (a video): what H.264 is for in deskpod. Reported per frame: time
// (one thread: both encoders are configured single-threaded), `bytes` per frame, and `psnr_db`
// of FreeRDP's own decoder output against the input, so bytes compare at the quality reached.
#include <benchmark/benchmark.h>
#include <freerdp/codec/color.h>
#include <freerdp/codec/h264.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "rdp-bridge/rdp/h264/encoder.hpp"

using namespace deskpod;
using namespace deskpod::h264;

namespace {

constexpr int kFrames = 60;

// kFrames pictures of width x height, made once per size.
const std::vector<std::vector<uint8_t>>& frames(int32_t w, int32_t h) {
    static std::map<std::pair<int32_t, int32_t>, std::vector<std::vector<uint8_t>>> made;
    auto& out = made[{w, h}];
    if (!out.empty())
        return out;
    // A tall page of text-like strokes (dark on white), scrolled through by the text window.
    std::mt19937 rng(11);
    const int32_t text_w = w / 2, page_h = h + 16 * kFrames;
    std::vector<uint8_t> page(size_t(text_w) * size_t(page_h), 255);
    for (int32_t line = 0; line + 16 <= page_h; line += 16)
        for (int32_t x = 8; x + 6 < text_w; x += 7)
            if (rng() % 5)
                for (int32_t y = line + 3; y < line + 13; ++y)
                    for (int32_t k = 0; k < 5; ++k)
                        if (rng() % 3 == 0)
                            page[size_t(y) * size_t(text_w) + size_t(x + k)] = 30;
    for (int f = 0; f < kFrames; ++f) {
        std::vector<uint8_t> px(size_t(w) * size_t(h) * 4);
        for (int32_t y = 0; y < h; ++y) {
            uint8_t* row = px.data() + size_t(y) * size_t(w) * 4;
            const uint8_t* text = page.data() + size_t(y + 16 * f) * size_t(text_w);
            for (int32_t x = 0; x < text_w; ++x)
                std::memset(row + size_t(x) * 4, text[x], 3);
            // The video: smooth moving colour fields with fine texture, like camera footage.
            for (int32_t x = text_w; x < w; ++x) {
                uint8_t* p = row + size_t(x) * 4;
                const double t = f / 30.0;
                p[0] = uint8_t(128 + 90 * std::sin(x * 0.013 + t * 2.0) + (x * 7 + y * 13) % 11);
                p[1] = uint8_t(128 + 90 * std::sin(y * 0.017 - t * 1.5) + (x * 5 + y * 3) % 9);
                p[2] = uint8_t(128 + 90 * std::sin((x + y) * 0.009 + t) + (x + y * 11) % 7);
            }
        }
        out.push_back(std::move(px));
    }
    return out;
}

double psnr(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    double sum = 0;
    for (size_t i = 0; i < a.size(); i += 4)
        for (size_t c = 0; c < 3; ++c) {
            const double d = double(a[i + c]) - double(b[i + c]);
            sum += d * d;
        }
    const double mse = sum / double(a.size() / 4 * 3);
    return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

void encode(benchmark::State& state, Backend backend, int32_t w, int32_t h) {
    const auto& pictures = frames(w, h);
    Settings settings;
    settings.width = w;
    settings.height = h;
    settings.fps = 30;
    settings.bitrate_kbps = 8000;
    auto encoder = make_encoder(backend, settings);
    if (!encoder) {
        state.SkipWithError("backend not in this build");
        return;
    }
    std::vector<uint8_t> au;
    size_t bytes = 0, n = 0;
    for (auto _ : state) {
        const auto& px = pictures[n % pictures.size()];
        au.clear();
        encoder->encode(ImageView{px.data(), w, h, w * 4}, n == 0, au);
        bytes += au.size();
        ++n;
    }
    state.counters["bytes"] = benchmark::Counter(double(bytes) / double(n));
    // Quality: decode one pass over the sequence with FreeRDP's decoder (outside the timing).
    auto fresh = make_encoder(backend, settings);
    H264_CONTEXT* decoder = h264_context_new(FALSE);
    h264_context_reset(decoder, UINT32(w), UINT32(h));
    std::vector<uint8_t> decoded(size_t(w) * size_t(h) * 4);
    double sum = 0;
    for (size_t f = 0; f < pictures.size(); ++f) {
        au.clear();
        fresh->encode(ImageView{pictures[f].data(), w, h, w * 4}, f == 0, au);
        RECTANGLE_16 all{0, 0, UINT16(w), UINT16(h)};
        avc420_decompress(decoder, au.data(), UINT32(au.size()), decoded.data(),
                          PIXEL_FORMAT_BGRX32, UINT32(w) * 4, UINT32(w), UINT32(h), &all, 1);
        sum += psnr(pictures[f], decoded);
    }
    h264_context_free(decoder);
    state.counters["psnr_db"] = sum / double(pictures.size());
}

void x264_720p(benchmark::State& s) {
    encode(s, Backend::x264, 1280, 720);
}
void x264_1080p(benchmark::State& s) {
    encode(s, Backend::x264, 1920, 1080);
}
void openh264_720p(benchmark::State& s) {
    encode(s, Backend::openh264, 1280, 720);
}
void openh264_1080p(benchmark::State& s) {
    encode(s, Backend::openh264, 1920, 1080);
}

}  // namespace

BENCHMARK(x264_720p)->Unit(benchmark::kMillisecond)->Iterations(4 * kFrames);
BENCHMARK(openh264_720p)->Unit(benchmark::kMillisecond)->Iterations(4 * kFrames);
BENCHMARK(x264_1080p)->Unit(benchmark::kMillisecond)->Iterations(4 * kFrames);
BENCHMARK(openh264_1080p)->Unit(benchmark::kMillisecond)->Iterations(4 * kFrames);

BENCHMARK_MAIN();
