// Where the output lives: an invisible headless framebuffer, or a window on an X server
// (Xvfb). The rest of the compositor never asks which one it runs on.
#pragma once

#include <cstdint>
#include <memory>

#include "compositor/wlr.hpp"

namespace deskpod::compositor {

class Backend {
  public:
    virtual ~Backend() = default;

    virtual const char* name() const = 0;
    virtual wlr_backend* handle() const = 0;
    // Adds an output (after wlr_backend_start); it arrives through the backend's new_output
    // signal before this returns. Throws std::runtime_error when the backend cannot.
    virtual void create_output(int32_t width, int32_t height) = 0;
    // The output is going away: forget any reference to it.
    virtual void output_removed(wlr_output*) {}
    // The refresh (mHz) to request with a custom mode.
    virtual int32_t refresh_mhz() const = 0;
    // A frame with a new buffer was committed on `output`: the backend makes sure a `frame`
    // event follows so the next damage can be drawn.
    virtual void frame_committed(wlr_output* output) = 0;
};

std::unique_ptr<Backend> create_headless_backend(wl_display* display);
// Throws std::runtime_error when $DISPLAY is unset or the X server cannot be reached.
std::unique_ptr<Backend> create_x11_backend(wl_display* display);

}  // namespace deskpod::compositor
