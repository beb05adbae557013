// The compositor: a single-threaded wlroots compositor that owns every Wayland object.
// Nothing outside compositor/ sees wlroots; the rest of deskpod talks to it only through
// Channels (shared/channels.hpp).
#pragma once

#include <memory>

#include "shared/channels.hpp"
#include "shared/config.hpp"

namespace deskpod {

class Compositor {
  public:
    Compositor(const Config& config, Channels& channels);
    ~Compositor();
    Compositor(const Compositor&) = delete;
    Compositor& operator=(const Compositor&) = delete;

    // Creates the display, backend, output and socket. Throws std::runtime_error with a clear
    // message when something cannot be set up (no XDG_RUNTIME_DIR, no $DISPLAY for x11...).
    void start();

    // Runs the wl_event_loop on the calling thread until SIGTERM/SIGINT, a ShutdownRequest, or
    // the session exits with --session-exit quit. Returns the process exit code (0 on a clean
    // stop). SIGTERM and SIGINT must be blocked in every thread before any thread starts (main
    // does that) so the loop's signalfd receives them.
    int run();

    // WAYLAND_DISPLAY value (socket name) once started.
    const char* socket_name() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace deskpod
