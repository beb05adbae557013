// H.264 encoders for the graphics pipeline's AVC420 frames: one interface, two implementations
// from Debian (libx264, GPL-2.0-or-later, optional at build time; OpenH264, BSD-2-Clause).
// Input is a view of the desktop mirror (XRGB8888); the encoder converts it to I420 with
// FreeRDP's primitives (the same matrix FreeRDP's decoder inverts) into planes padded to
// multiples of 16, as MS-RDPEGFX 2.2.4.4 requires of the coded picture.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "rdp-bridge/image/image_view.hpp"

namespace deskpod::h264 {

enum class Backend { x264, openh264 };

std::string_view backend_name(Backend backend);
// Backends this build was linked with, in the order `auto` prefers them.
std::vector<Backend> available_backends();

struct Settings {
    int32_t width = 0, height = 0;  // the picture; the coded size is padded to 16
    int fps = 30;                   // the rate frames are expected at (rate control)
    int bitrate_kbps = 4000;        // average target
    // Quality on the H.264 quantiser scale (0 best .. 51 worst): the rate control never goes
    // coarser than this unless the bitrate cap forces it (x264: CRF; OpenH264: max QP).
    int quality = 23;
};

class Encoder {
  public:
    virtual ~Encoder() = default;
    virtual Backend backend() const = 0;
    // Encodes `frame` (Settings' width x height) into one Annex B access unit appended to
    // `out` (SPS and PPS before every intra picture). `intra` forces a picture the client can
    // decode without earlier ones (a new client, a reset surface). False on an encoder error.
    virtual bool encode(const ImageView& frame, bool intra, std::vector<uint8_t>& out) = 0;
    // Follows the link: a new average target, effective from the next frame.
    virtual void set_bitrate(int kbps) = 0;
    const Settings& settings() const { return settings_; }
    int32_t coded_width() const { return (settings_.width + 15) & ~15; }
    int32_t coded_height() const { return (settings_.height + 15) & ~15; }

  protected:
    explicit Encoder(const Settings& settings);
    // Converts `frame` into the padded I420 planes below (padding repeats the last column and
    // row, which codes cheapest).
    void to_i420(const ImageView& frame);
    Settings settings_;
    std::vector<uint8_t> y_, u_, v_;
    int32_t y_stride_ = 0, uv_stride_ = 0;
};

// Null (and a log line from the caller) when the backend is not in this build or refuses the
// settings.
std::unique_ptr<Encoder> make_encoder(Backend backend, const Settings& settings);

}  // namespace deskpod::h264
