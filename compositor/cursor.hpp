// The pointer image, sent to the network side instead of being drawn into frames: remote
// clients draw their pointer locally (no latency, no damage on every motion).
#pragma once

#include <cstdint>

#include "compositor/wlr.hpp"
#include "shared/events.hpp"
#include "shared/log.hpp"

namespace deskpod::compositor {

class Server;

class CursorImages {
  public:
    explicit CursorImages(Server& server);
    CursorImages(const CursorImages&) = delete;
    CursorImages& operator=(const CursorImages&) = delete;

    // The theme's arrow (over the desktop background, or when a client sets none yet).
    void show_default();
    bool showing_default() const { return source_ == Source::theme; }
    // The arrow as X11 wants it for Xwayland's root window.
    const wlr_xcursor_image* default_image() const;
    // The primary monitor's scale changed: the theme arrow follows it.
    void set_scale(double scale);

  private:
    enum class Source { none, theme, surface, hidden };

    void handle_request_set_cursor(wlr_seat_pointer_request_set_cursor_event* event);
    void follow_surface(wlr_surface* surface, int32_t hotspot_x, int32_t hotspot_y);
    // `committed`: called for a commit of the surface (else for a new set_cursor request).
    void publish_surface(bool committed);
    void publish(CursorEvent&& event);
    const wlr_xcursor_image* theme_image(float scale) const;

    Server& server_;
    const log::Logger log_{"cursor"};
    Source source_ = Source::none;
    wlr_surface* surface_ = nullptr;
    int32_t hotspot_x_ = 0;
    int32_t hotspot_y_ = 0;
    uint64_t serial_ = 0;
    float scale_ = 1.0f;
    wl::Listener on_request_set_cursor_;
    wl::Listener on_surface_commit_;
    wl::Listener on_surface_destroy_;
};

}  // namespace deskpod::compositor
