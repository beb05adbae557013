// The one desktop output: its mode, its frame loop and its capture.
#pragma once

#include <cstdint>

#include "capture.hpp"
#include "wlr.hpp"

namespace deskpod::compositor {

class Server;

class Output {
  public:
    Output(Server& server, wlr_output* output);
    ~Output();
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    // Clamps to the supported range and applies the size as a custom mode.
    void set_size(int32_t width, int32_t height);
    int32_t width() const { return output_->width; }
    int32_t height() const { return output_->height; }
    wlr_box box() const { return wlr_box{0, 0, output_->width, output_->height}; }
    wlr_output* handle() const { return output_; }
    wlr_scene_output* scene_output() const;

  private:
    void handle_frame();
    void handle_mode();

    Server& server_;
    wlr_output* output_;
    Capture capture_;
    int32_t announced_width_ = 0;
    int32_t announced_height_ = 0;
    wl::Listener on_frame_;
    wl::Listener on_precommit_;
    wl::Listener on_commit_;
    wl::Listener on_mode_;
    wl::Listener on_destroy_;
};

}  // namespace deskpod::compositor
