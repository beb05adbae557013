#include "rdp-bridge/desktop_mirror.hpp"

#include <algorithm>
#include <cstring>

#include "shared/metrics.hpp"
#include "shared/thread_affinity.hpp"

namespace deskpod {

DesktopMirror::DesktopMirror(int32_t width, int32_t height, int max_viewers)
    : width_(width),
      height_(height),
      pixels_(size_t(width) * size_t(height) * 4, 0),
      monitors_(single_monitor(width, height)),
      max_seats_(max_viewers) {
    metrics().desktop_width.set(width);
    metrics().desktop_height.set(height);
}

void DesktopMirror::apply_frame(const FrameEvent& frame) {
    network_thread.check("DesktopMirror::apply_frame");
    if (!frame.buffer)
        return;
    // The compositor announces sizes with DesktopSizeEvent first; a frame of another size
    // means that event was lost or reordered, so follow the frame.
    if (frame.width != width_ || frame.height != height_)
        resize(frame.width, frame.height);
    const int32_t src_stride = frame.buffer.stride();
    const int32_t dst_stride = width_ * 4;
    Region damage;
    for (const Rect& r : frame.damage) {
        Region piece(r);
        piece.clip(bounds());
        for (const Rect& c : piece.rects()) {
            for (int32_t y = c.y; y < c.y + c.height; ++y) {
                std::memcpy(&pixels_[size_t(y) * dst_stride + size_t(c.x) * 4],
                            frame.buffer.data() + size_t(y) * src_stride + size_t(c.x) * 4,
                            size_t(c.width) * 4);
            }
        }
        damage.add(piece);
    }
    if (damage.empty())
        return;
    captured_at_ = frame.captured_at;
    for (Viewer* v : std::vector<Viewer*>(viewers_))
        v->on_damage(damage);
}

void DesktopMirror::resize(int32_t width, int32_t height) {
    if (width <= 0 || height <= 0 || (width == width_ && height == height_))
        return;
    width_ = width;
    height_ = height;
    pixels_.assign(size_t(width) * size_t(height) * 4, 0);
    metrics().desktop_width.set(width);
    metrics().desktop_height.set(height);
    for (Viewer* v : std::vector<Viewer*>(viewers_))
        v->on_resize(width, height);
}

void DesktopMirror::set_layout(int32_t width, int32_t height, const MonitorLayout& monitors) {
    network_thread.check("DesktopMirror::set_layout");
    monitors_ = monitors.empty() ? single_monitor(width, height) : monitors;
    if (width != width_ || height != height_) {
        resize(width, height);
        return;
    }
    // Same size, other monitors: what no monitor covers any more is black now (the compositor
    // never draws there), so viewers must not keep showing the old pixels.
    Region uncovered(bounds());
    Region covered;
    for (const Monitor& m : monitors_)
        covered.add(m.rect());
    uncovered.subtract(covered);
    if (uncovered.empty())
        return;
    for (const Rect& r : uncovered.rects()) {
        for (int32_t y = r.y; y < r.y + r.height; ++y) {
            std::memset(&pixels_[(size_t(y) * size_t(width_) + size_t(r.x)) * 4], 0,
                        size_t(r.width) * 4);
        }
    }
    for (Viewer* v : std::vector<Viewer*>(viewers_))
        v->on_damage(uncovered);
}

void DesktopMirror::set_cursor(const CursorEvent& cursor) {
    network_thread.check("DesktopMirror::set_cursor");
    cursor_ = cursor;
    has_cursor_ = true;
    for (Viewer* v : std::vector<Viewer*>(viewers_))
        v->on_cursor(cursor_);
}

void DesktopMirror::add_viewer(Viewer* viewer) {
    network_thread.check("DesktopMirror::add_viewer");
    if (std::find(viewers_.begin(), viewers_.end(), viewer) == viewers_.end()) {
        viewers_.push_back(viewer);
    }
}

void DesktopMirror::remove_viewer(Viewer* viewer) {
    network_thread.check("DesktopMirror::remove_viewer");
    viewers_.erase(std::remove(viewers_.begin(), viewers_.end(), viewer), viewers_.end());
}

bool DesktopMirror::try_claim_seat(Protocol protocol) {
    if (seats_ >= max_seats_)
        return false;
    ++seats_;
    metrics().clients_connected[protocol].add(1);
    metrics().sessions_started[protocol].add();
    return true;
}

void DesktopMirror::release_seat(Protocol protocol) {
    if (seats_ == 0)
        return;
    --seats_;
    metrics().clients_connected[protocol].add(-1);
}

}  // namespace deskpod
