#include <cstdlib>
#include <stdexcept>
#include <string>

#include "compositor/backend.hpp"

namespace deskpod::compositor {
namespace {

// Draws into a window on an X server (Xvfb in deskpod's setups) through MIT-SHM. Frames are
// paced by the X server's Present events, which only follow committed buffers, so an idle
// desktop stays idle without help.
class X11Backend final : public Backend {
  public:
    explicit X11Backend(wl_display* display) {
        const char* x_display = std::getenv("DISPLAY");
        if (!x_display || !*x_display) {
            throw std::runtime_error(
                "--backend x11 needs $DISPLAY (start Xvfb first, e.g. scripts/xvfb-start.sh)");
        }
        backend_ = wlr_x11_backend_create(display, x_display);
        if (!backend_) {
            // Diagnose only after failing: a probe connection before wlroots' own would make an
            // Xvfb without -noreset regenerate when the probe disconnects, dropping the next
            // connection.
            xcb_connection_t* probe = xcb_connect(x_display, nullptr);
            const bool reachable = probe && !xcb_connection_has_error(probe);
            if (probe)
                xcb_disconnect(probe);
            throw std::runtime_error(
                reachable ? std::string("cannot create the x11 backend on DISPLAY=") + x_display +
                                " (does the X server support MIT-SHM?)"
                          : std::string("cannot connect to the X server at DISPLAY=") + x_display);
        }
    }
    ~X11Backend() override { wlr_backend_destroy(backend_); }

    const char* name() const override { return "x11"; }
    wlr_backend* handle() const override { return backend_; }

    void create_output(int32_t, int32_t) override {
        // Starts at 1024x768; the output setup applies the configured size as a custom mode.
        wlr_output* output = wlr_x11_output_create(backend_);
        if (!output)
            throw std::runtime_error("cannot create the x11 output window");
        wlr_x11_output_set_title(output, "deskpod");
    }

    int32_t refresh_mhz() const override { return 0; }
    void frame_committed(wlr_output*) override {}

  private:
    wlr_backend* backend_ = nullptr;
};

}  // namespace

std::unique_ptr<Backend> create_x11_backend(wl_display* display) {
    return std::make_unique<X11Backend>(display);
}

}  // namespace deskpod::compositor
