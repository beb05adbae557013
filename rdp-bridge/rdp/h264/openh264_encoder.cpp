// The OpenH264 backend (Cisco's encoder, BSD-2-Clause, as packaged by Debian).
#include <wels/codec_api.h>

#include <cstring>

#include "rdp-bridge/rdp/h264/encoder.hpp"

namespace deskpod::h264 {

namespace {

class OpenH264Encoder final : public Encoder {
  public:
    explicit OpenH264Encoder(const Settings& settings) : Encoder(settings) {}
    ~OpenH264Encoder() override {
        if (encoder_) {
            encoder_->Uninitialize();
            WelsDestroySVCEncoder(encoder_);
        }
    }

    bool open() {
        if (WelsCreateSVCEncoder(&encoder_) != 0 || !encoder_)
            return false;
        int trace = WELS_LOG_ERROR;  // its warnings go to stderr, not through deskpod's log
        encoder_->SetOption(ENCODER_OPTION_TRACE_LEVEL, &trace);
        SEncParamExt param;
        encoder_->GetDefaultParams(&param);
        // The screen-content real-time mode: tuned for desktop pictures (large static areas,
        // sharp edges) rather than camera video.
        param.iUsageType = SCREEN_CONTENT_REAL_TIME;
        param.iPicWidth = coded_width();
        param.iPicHeight = coded_height();
        param.iTargetBitrate = settings_.bitrate_kbps * 1000;
        param.iMaxBitrate = settings_.bitrate_kbps * 1500;
        // Quality mode bounded by iMaxQp: OpenH264 can only hold a bitrate by skipping frames,
        // and every frame the pipeline sends must reach the client (bEnableFrameSkip below).
        param.iRCMode = RC_QUALITY_MODE;
        param.fMaxFrameRate = float(settings_.fps);
        param.iMaxQp = settings_.quality;
        param.iMinQp = std::min(settings_.quality, 12);
        param.iTemporalLayerNum = 1;
        param.iSpatialLayerNum = 1;
        param.uiIntraPeriod = 0;  // intra pictures only when asked for
        param.iNumRefFrame = 1;
        param.eSpsPpsIdStrategy = CONSTANT_ID;
        param.bEnableFrameSkip = false;  // every frame the pipeline sends must reach the client
        param.iMultipleThreadIdc = 1;    // one thread, as the x264 backend
        param.iEntropyCodingModeFlag = 0;
        param.bPrefixNalAddingCtrl = false;
        param.bEnableAdaptiveQuant = false;        // not supported for screen content
        param.bEnableBackgroundDetection = false;  // likewise
        SSpatialLayerConfig& layer = param.sSpatialLayers[0];
        layer.iVideoWidth = coded_width();
        layer.iVideoHeight = coded_height();
        layer.fFrameRate = float(settings_.fps);
        layer.iSpatialBitrate = param.iTargetBitrate;
        layer.iMaxSpatialBitrate = param.iMaxBitrate;
        layer.sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
        if (encoder_->InitializeExt(&param) != 0)
            return false;
        int format = videoFormatI420;
        encoder_->SetOption(ENCODER_OPTION_DATAFORMAT, &format);
        return true;
    }

    Backend backend() const override { return Backend::openh264; }

    bool encode(const ImageView& frame, bool intra, std::vector<uint8_t>& out) override {
        to_i420(frame);
        if (intra)
            encoder_->ForceIntraFrame(true);
        SSourcePicture picture;
        std::memset(&picture, 0, sizeof picture);
        picture.iColorFormat = videoFormatI420;
        picture.iPicWidth = coded_width();
        picture.iPicHeight = coded_height();
        picture.pData[0] = y_.data();
        picture.pData[1] = u_.data();
        picture.pData[2] = v_.data();
        picture.iStride[0] = y_stride_;
        picture.iStride[1] = uv_stride_;
        picture.iStride[2] = uv_stride_;
        picture.uiTimeStamp = timestamp_ms_;
        timestamp_ms_ += 1000 / std::max(1, settings_.fps);
        SFrameBSInfo info;
        std::memset(&info, 0, sizeof info);
        if (encoder_->EncodeFrame(&picture, &info) != cmResultSuccess)
            return false;
        // OpenH264 writes start codes itself; a layer's NAL units are contiguous.
        for (int i = 0; i < info.iLayerNum; ++i) {
            const SLayerBSInfo& layer = info.sLayerInfo[i];
            size_t size = 0;
            for (int n = 0; n < layer.iNalCount; ++n)
                size += size_t(layer.pNalLengthInByte[n]);
            out.insert(out.end(), layer.pBsBuf, layer.pBsBuf + size);
        }
        return true;
    }

    void set_bitrate(int kbps) override {
        if (kbps == settings_.bitrate_kbps)
            return;
        settings_.bitrate_kbps = kbps;
        SBitrateInfo target{SPATIAL_LAYER_ALL, kbps * 1000};
        encoder_->SetOption(ENCODER_OPTION_BITRATE, &target);
        SBitrateInfo cap{SPATIAL_LAYER_ALL, kbps * 1500};
        encoder_->SetOption(ENCODER_OPTION_MAX_BITRATE, &cap);
    }

  private:
    ISVCEncoder* encoder_ = nullptr;
    long long timestamp_ms_ = 0;
};

}  // namespace

std::unique_ptr<Encoder> make_openh264_encoder(const Settings& settings) {
    auto encoder = std::make_unique<OpenH264Encoder>(settings);
    if (!encoder->open())
        return nullptr;
    return encoder;
}

}  // namespace deskpod::h264
