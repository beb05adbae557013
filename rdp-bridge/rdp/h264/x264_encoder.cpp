// The libx264 backend (GPL-2.0-or-later: a build that links it is distributed under the GPL;
// `meson setup -Dx264=disabled` builds without it).

#include "rdp-bridge/rdp/h264/encoder.hpp"

// x264.h uses the fixed-width types without including their header.
#include <cstdint>

#include <x264.h>

#include <algorithm>

namespace deskpod::h264 {

namespace {

class X264Encoder final : public Encoder {
  public:
    explicit X264Encoder(const Settings& settings) : Encoder(settings) {}
    ~X264Encoder() override {
        if (encoder_)
            x264_encoder_close(encoder_);
    }

    bool open() {
        // ultrafast + zerolatency: no B-frames, no lookahead, no frame threads (a frame in is
        // a frame out); one thread with one slice, as the rest of the network side is sized
        // for a core per client at most.
        if (x264_param_default_preset(&param_, "ultrafast", "zerolatency") < 0)
            return false;
        param_.i_width = coded_width();
        param_.i_height = coded_height();
        param_.i_csp = X264_CSP_I420;
        param_.i_threads = 1;
        param_.i_slice_count = 1;
        param_.i_fps_num = uint32_t(settings_.fps);
        param_.i_fps_den = 1;
        param_.i_bframe = 0;
        param_.b_repeat_headers = 1;  // SPS and PPS with every IDR
        param_.b_annexb = 1;
        param_.b_vfr_input = 0;
        param_.i_log_level = X264_LOG_NONE;
        // Periodic intra refresh (a column of intra blocks sweeping across) instead of IDR
        // pictures: no frame is many times the size of the others.
        param_.b_intra_refresh = 1;
        param_.i_keyint_max = settings_.fps * 2;
        apply_rate(settings_.bitrate_kbps);
        if (x264_param_apply_profile(&param_, "high") < 0)
            return false;
        encoder_ = x264_encoder_open(&param_);
        return encoder_ != nullptr;
    }

    Backend backend() const override { return Backend::x264; }

    bool encode(const ImageView& frame, bool intra, std::vector<uint8_t>& out) override {
        to_i420(frame);
        x264_picture_t in, coded;
        x264_picture_init(&in);
        in.img.i_csp = X264_CSP_I420;
        in.img.i_plane = 3;
        in.img.plane[0] = y_.data();
        in.img.plane[1] = u_.data();
        in.img.plane[2] = v_.data();
        in.img.i_stride[0] = y_stride_;
        in.img.i_stride[1] = uv_stride_;
        in.img.i_stride[2] = uv_stride_;
        in.i_pts = pts_++;
        in.i_type = intra ? X264_TYPE_IDR : X264_TYPE_AUTO;
        x264_nal_t* nals = nullptr;
        int count = 0;
        const int size = x264_encoder_encode(encoder_, &nals, &count, &in, &coded);
        if (size < 0)
            return false;
        // With b_annexb the NAL units of one picture are contiguous, start codes included.
        if (size > 0)
            out.insert(out.end(), nals[0].p_payload, nals[0].p_payload + size);
        return true;
    }

    void set_bitrate(int kbps) override {
        if (kbps == settings_.bitrate_kbps)
            return;
        settings_.bitrate_kbps = kbps;
        apply_rate(kbps);
        x264_encoder_reconfig(encoder_, &param_);
    }

  private:
    void apply_rate(int kbps) {
        // Constant quality, capped: CRF at the configured quality, and a VBV of about two
        // frames at 1.5x the average so that a burst (a new window) is spread over frames
        // instead of one frame flooding the link.
        param_.rc.i_rc_method = X264_RC_CRF;
        param_.rc.f_rf_constant = float(settings_.quality);
        param_.rc.i_vbv_max_bitrate = kbps * 3 / 2;
        param_.rc.i_vbv_buffer_size = std::max(1, kbps * 2 / settings_.fps);
    }

    x264_param_t param_{};
    x264_t* encoder_ = nullptr;
    int64_t pts_ = 0;
};

}  // namespace

std::unique_ptr<Encoder> make_x264_encoder(const Settings& settings) {
    auto encoder = std::make_unique<X264Encoder>(settings);
    if (!encoder->open())
        return nullptr;
    return encoder;
}

}  // namespace deskpod::h264
