// One desktop output (one per monitor of the layout): its mode and scale, its place on the
// desktop (in desktop pixels and in layout coordinates), its frame loop and its capture.
#pragma once

#include <cstdint>

#include "compositor/capture.hpp"
#include "compositor/wlr.hpp"
#include "shared/monitors.hpp"

namespace deskpod::compositor {

class Server;

class Output {
  public:
    // Enables the output at `width` x `height` (clamped); it joins the layout with place().
    Output(Server& server, wlr_output* output, int32_t width, int32_t height);
    ~Output();
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    // Applies a mode (clamped to what a monitor may be) and a scale. Returns false when the
    // backend refused; the output keeps its previous state then.
    bool configure(int32_t width, int32_t height, double scale);
    // Puts the output at `monitor` (its x/y in desktop pixels) and `layout_pos` in the layout.
    void place(const Monitor& monitor, LayoutPoint layout_pos);

    int32_t width() const { return output_->width; }
    int32_t height() const { return output_->height; }
    double scale() const { return output_->scale; }
    // Where the output's pixels go in the desktop frame: its size is the mode asked for (which
    // the X11 backend applies a little later) or, after a mode event, the mode it has.
    const Monitor& monitor() const { return monitor_; }
    // The output in layout coordinates (what windows are arranged in).
    wlr_box box() const;
    wlr_output* handle() const { return output_; }
    wlr_scene_output* scene_output() const;
    Capture& capture() { return capture_; }

  private:
    void handle_frame();

    Server& server_;
    wlr_output* output_;
    Monitor monitor_;
    Capture capture_;
    wl::Listener on_frame_;
    wl::Listener on_precommit_;
    wl::Listener on_commit_;
    wl::Listener on_mode_;
    wl::Listener on_destroy_;
};

}  // namespace deskpod::compositor
