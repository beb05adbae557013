#include "compositor/pointer.hpp"

#include <cmath>

#include "compositor/cursor.hpp"
#include "compositor/server.hpp"
#include "compositor/window_policy.hpp"

namespace deskpod::compositor {
namespace {
// One wheel notch in wl_pointer axis units, as libinput reports for a mouse wheel.
constexpr double kAxisPerStep = 15.0;
}  // namespace

void Pointer::motion(double x, double y) {
    wlr_cursor_warp_closest(server_.cursor, nullptr, x, y);
    deliver_motion();
}

void Pointer::refocus() {
    if (held_.empty())
        deliver_motion();
}

void Pointer::deliver_motion() {
    const double lx = server_.cursor->x;
    const double ly = server_.cursor->y;
    const uint32_t time = server_.now_msec();
    wlr_seat* seat = server_.seat;
    if (!held_.empty() && seat->pointer_state.focused_surface) {
        wlr_seat_pointer_notify_motion(seat, time, lx - grab_origin_x_, ly - grab_origin_y_);
        wlr_seat_pointer_notify_frame(seat);
        return;
    }
    wlr_surface* surface = nullptr;
    double sx = 0, sy = 0;
    server_.window_policy->view_at(lx, ly, &surface, &sx, &sy);
    if (!surface) {
        const bool had_focus = seat->pointer_state.focused_surface != nullptr;
        wlr_seat_pointer_notify_clear_focus(seat);
        // Over the bare desktop the pointer is ours to draw.
        if (had_focus || !server_.cursor_images->showing_default()) {
            server_.cursor_images->show_default();
        }
        return;
    }
    wlr_seat_pointer_notify_enter(seat, surface, sx, sy);
    wlr_seat_pointer_notify_motion(seat, time, sx, sy);
    wlr_seat_pointer_notify_frame(seat);
    grab_origin_x_ = lx - sx;
    grab_origin_y_ = ly - sy;
}

void Pointer::button(uint32_t button, bool pressed) {
    if (pressed) {
        if (!held_.insert(button).second)
            return;  // already down
        if (held_.size() == 1) {
            wlr_surface* surface = nullptr;
            double sx = 0, sy = 0;
            View* view = server_.window_policy->view_at(server_.cursor->x, server_.cursor->y,
                                                        &surface, &sx, &sy);
            if (view)
                server_.window_policy->focus(view);
            deliver_motion();
        }
    } else if (held_.erase(button) == 0) {
        return;  // never pressed here
    }
    wlr_seat_pointer_notify_button(server_.seat, server_.now_msec(), button,
                                   pressed ? WLR_BUTTON_PRESSED : WLR_BUTTON_RELEASED);
    wlr_seat_pointer_notify_frame(server_.seat);
    // The grab ends with the last button: the surface under the pointer may differ now.
    if (!pressed && held_.empty())
        deliver_motion();
}

void Pointer::axis(bool horizontal, double steps) {
    if (steps == 0)
        return;
    wlr_seat_pointer_notify_axis(
        server_.seat, server_.now_msec(),
        horizontal ? WLR_AXIS_ORIENTATION_HORIZONTAL : WLR_AXIS_ORIENTATION_VERTICAL,
        steps * kAxisPerStep, int32_t(std::lround(steps)), WLR_AXIS_SOURCE_WHEEL);
    wlr_seat_pointer_notify_frame(server_.seat);
}

void Pointer::release_all() {
    const std::set<uint32_t> held = held_;
    for (uint32_t b : held)
        button(b, false);
}

}  // namespace deskpod::compositor
