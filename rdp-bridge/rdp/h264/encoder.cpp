#include "rdp-bridge/rdp/h264/encoder.hpp"

#include <freerdp/codec/color.h>
#include <freerdp/primitives.h>

#include <cstring>

namespace deskpod::h264 {

#ifdef DESKPOD_HAVE_X264
std::unique_ptr<Encoder> make_x264_encoder(const Settings& settings);
#endif
#ifdef DESKPOD_HAVE_OPENH264
std::unique_ptr<Encoder> make_openh264_encoder(const Settings& settings);
#endif

std::string_view backend_name(Backend backend) {
    return backend == Backend::x264 ? "x264" : "openh264";
}

std::vector<Backend> available_backends() {
    // x264 first: on tests/bench/h264_bench.cpp's frames it took half OpenH264's time per
    // frame for about the same PSNR at half the bytes (720p) or 0.86x (1080p);
    // docs/performance.md has the run.
    std::vector<Backend> out;
#ifdef DESKPOD_HAVE_X264
    out.push_back(Backend::x264);
#endif
#ifdef DESKPOD_HAVE_OPENH264
    out.push_back(Backend::openh264);
#endif
    return out;
}

Encoder::Encoder(const Settings& settings) : settings_(settings) {
    y_stride_ = coded_width();
    uv_stride_ = coded_width() / 2;
    y_.resize(size_t(y_stride_) * size_t(coded_height()));
    u_.resize(size_t(uv_stride_) * size_t(coded_height() / 2));
    v_.resize(u_.size());
}

namespace {

// Repeats column `w - 1` to the right edge and row `h - 1` to the bottom of a plane.
void pad_plane(uint8_t* plane, int32_t stride, int32_t w, int32_t h, int32_t coded_h) {
    if (w < stride)
        for (int32_t y = 0; y < h; ++y) {
            uint8_t* row = plane + size_t(y) * size_t(stride);
            std::memset(row + w, row[w - 1], size_t(stride - w));
        }
    for (int32_t y = h; y < coded_h; ++y)
        std::memcpy(plane + size_t(y) * size_t(stride), plane + size_t(h - 1) * size_t(stride),
                    size_t(stride));
}

}  // namespace

void Encoder::to_i420(const ImageView& frame) {
    // FreeRDP converts 2x2 blocks: an odd size is first copied to an even one (desktops are
    // even-sized in practice: MS-RDPEDISP requires an even width).
    const int32_t even_w = (frame.width + 1) & ~1, even_h = (frame.height + 1) & ~1;
    const uint8_t* src = frame.pixels;
    uint32_t src_stride = uint32_t(frame.stride);
    std::vector<uint8_t> even;
    if (even_w != frame.width || even_h != frame.height) {
        even.resize(size_t(even_w) * size_t(even_h) * 4);
        for (int32_t y = 0; y < even_h; ++y) {
            const uint8_t* row =
                frame.pixels + size_t(std::min(y, frame.height - 1)) * size_t(frame.stride);
            uint8_t* dst = even.data() + size_t(y) * size_t(even_w) * 4;
            std::memcpy(dst, row, size_t(frame.width) * 4);
            if (even_w != frame.width)
                std::memcpy(dst + size_t(frame.width) * 4, row + size_t(frame.width - 1) * 4, 4);
        }
        src = even.data();
        src_stride = uint32_t(even_w) * 4;
    }
    BYTE* planes[3] = {y_.data(), u_.data(), v_.data()};
    UINT32 strides[3] = {UINT32(y_stride_), UINT32(uv_stride_), UINT32(uv_stride_)};
    const prim_size_t roi{UINT32(even_w), UINT32(even_h)};
    primitives_get()->RGBToYUV420_8u_P3AC4R(src, PIXEL_FORMAT_BGRX32, src_stride, planes, strides,
                                            &roi);
    pad_plane(y_.data(), y_stride_, even_w, even_h, coded_height());
    pad_plane(u_.data(), uv_stride_, even_w / 2, even_h / 2, coded_height() / 2);
    pad_plane(v_.data(), uv_stride_, even_w / 2, even_h / 2, coded_height() / 2);
}

std::unique_ptr<Encoder> make_encoder(Backend backend, const Settings& settings) {
    if (settings.width <= 0 || settings.height <= 0)
        return nullptr;
    switch (backend) {
        case Backend::x264:
#ifdef DESKPOD_HAVE_X264
            return make_x264_encoder(settings);
#else
            return nullptr;
#endif
        case Backend::openh264:
#ifdef DESKPOD_HAVE_OPENH264
            return make_openh264_encoder(settings);
#else
            return nullptr;
#endif
    }
    return nullptr;
}

}  // namespace deskpod::h264
