// The network thread's mirror of the desktop: the latest pixels, size and cursor, and the
// viewers watching it. Protocol-neutral: RDP peers and Guacamole users are Viewers.
// Network thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "rdp-bridge/image/image_view.hpp"
#include "shared/events.hpp"
#include "shared/geometry.hpp"
#include "shared/metrics.hpp"

namespace deskpod {

class Viewer {
  public:
    virtual ~Viewer() = default;
    // These pixels of the mirror changed; read them (now or later) through DesktopMirror::image().
    virtual void on_damage(const Region& damage) = 0;
    // The desktop changed size; the mirror is black until the next frames arrive.
    virtual void on_resize(int32_t width, int32_t height) = 0;
    virtual void on_cursor(const CursorEvent& cursor) = 0;
};

class DesktopMirror {
  public:
    DesktopMirror(int32_t width, int32_t height, int max_viewers);
    DesktopMirror(const DesktopMirror&) = delete;
    DesktopMirror& operator=(const DesktopMirror&) = delete;

    // Copies the frame's damaged rectangles into the mirror and tells every viewer. The
    // caller drops the FrameRef right after, so the pool slot returns at once.
    void apply_frame(const FrameEvent& frame);
    void resize(int32_t width, int32_t height);
    // The compositor's DesktopSizeEvent: size plus monitors (resizes when the size differs).
    void set_layout(int32_t width, int32_t height, const MonitorLayout& monitors);
    void set_cursor(const CursorEvent& cursor);

    int32_t width() const { return width_; }
    int32_t height() const { return height_; }
    Rect bounds() const { return Rect{0, 0, width_, height_}; }
    // The monitors the desktop is made of (one covering it all unless a client asked for more).
    const MonitorLayout& monitors() const { return monitors_; }
    ImageView image() const { return ImageView{pixels_.data(), width_, height_, width_ * 4}; }
    const CursorEvent& cursor() const { return cursor_; }
    bool has_cursor() const { return has_cursor_; }
    // Capture time of the frame being applied (viewers read it in on_damage).
    std::chrono::steady_clock::time_point last_captured_at() const { return captured_at_; }

    void add_viewer(Viewer* viewer);
    void remove_viewer(Viewer* viewer);

    // Seats are the --max-clients budget shared by every protocol. Claim one when a client
    // is authenticated and about to view; release it when that client goes.
    // `protocol` labels deskpod_clients_connected / deskpod_sessions_total.
    bool try_claim_seat(Protocol protocol = Protocol::rdp);
    void release_seat(Protocol protocol = Protocol::rdp);
    int seats_in_use() const { return seats_; }
    int max_seats() const { return max_seats_; }

  private:
    int32_t width_;
    int32_t height_;
    std::vector<uint8_t> pixels_;
    MonitorLayout monitors_;
    CursorEvent cursor_;
    bool has_cursor_ = false;
    std::chrono::steady_clock::time_point captured_at_{};
    std::vector<Viewer*> viewers_;
    int seats_ = 0;
    const int max_seats_;
};

}  // namespace deskpod
