#include "compositor/output.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "compositor/server.hpp"

namespace deskpod::compositor {

Output::Output(Server& server, wlr_output* output, int32_t width, int32_t height)
    : server_(server), output_(output), capture_(server, *this) {
    if (!wlr_output_init_render(output_, server_.allocator, server_.renderer)) {
        throw std::runtime_error("cannot initialise rendering on the output");
    }
    on_frame_.set_handler([this](void*) { handle_frame(); });
    on_frame_.connect(output_->events.frame);
    on_precommit_.set_handler([this](void*) { capture_.handle_precommit(); });
    on_precommit_.connect(output_->events.precommit);
    on_commit_.set_handler([this](void* data) {
        const auto& event = *static_cast<wlr_output_event_commit*>(data);
        capture_.handle_commit(event);
        if ((event.committed & WLR_OUTPUT_STATE_BUFFER) && event.buffer) {
            server_.backend->frame_committed(output_);
        }
    });
    on_commit_.connect(output_->events.commit);
    // The X11 backend applies a mode once the X server has resized its window (later than the
    // commit), and changes it when the window is resized from outside.
    on_mode_.set_handler([this](void*) {
        monitor_.width = output_->width;
        monitor_.height = output_->height;
        server_.outputs_changed();
    });
    on_mode_.connect(output_->events.mode);
    on_destroy_.set_handler([this](void*) { server_.remove_output(this); });
    on_destroy_.connect(output_->events.destroy);

    wlr_output_enable(output_, true);
    if (!configure(width, height, 1.0)) {
        throw std::runtime_error("cannot enable the output");
    }
    // Until place(): the size asked for (the X11 backend reports it a little later).
    monitor_.width = std::clamp(width, MonitorLimits::kMinWidth, MonitorLimits::kMaxSide);
    monitor_.height = std::clamp(height, MonitorLimits::kMinHeight, MonitorLimits::kMaxSide);
}

Output::~Output() {
    // At shutdown the backend destroys its outputs while `server_.backend` is already empty.
    if (server_.backend)
        server_.backend->output_removed(output_);
}

wlr_scene_output* Output::scene_output() const {
    return wlr_scene_get_scene_output(server_.scene, output_);
}

bool Output::configure(int32_t width, int32_t height, double scale) {
    using L = MonitorLimits;
    width = std::clamp(width, L::kMinWidth, L::kMaxSide);
    height = std::clamp(height, L::kMinHeight, L::kMaxSide);
    scale = std::clamp(scale, L::kMinScale, L::kMaxScale);
    const int32_t refresh = server_.backend->refresh_mhz();
    // A new headless output is already enabled at its size, but at 60 Hz: the refresh counts.
    if (output_->enabled && width == output_->width && height == output_->height &&
        float(scale) == output_->scale && (refresh == 0 || output_->refresh == refresh)) {
        return true;
    }
    wlr_output_enable(output_, true);
    wlr_output_set_custom_mode(output_, width, height, refresh);
    wlr_output_set_scale(output_, float(scale));
    if (!wlr_output_commit(output_)) {
        server_.log.warn("the backend refused {}x{} at scale {:g} on {}", width, height, scale,
                         output_->name);
        return false;
    }
    return true;
}

void Output::place(const Monitor& monitor, LayoutPoint layout_pos) {
    monitor_ = monitor;
    wlr_output_layout_add(server_.layout, output_, layout_pos.x, layout_pos.y);
    capture_.request_full();
    if (wlr_scene_output* so = scene_output())
        wlr_output_damage_add_whole(so->damage);
}

wlr_box Output::box() const {
    if (const wlr_box* box = wlr_output_layout_get_box(server_.layout, output_))
        return *box;
    int w = 0, h = 0;
    wlr_output_effective_resolution(output_, &w, &h);
    return wlr_box{0, 0, w, h};
}

void Output::handle_frame() {
    wlr_scene_output* so = scene_output();
    if (!so)
        return;
    // A waiting screencopy (grim) holds an attach-render lock; it needs a commit even when
    // nothing changed, or the client would wait forever.
    if (output_->attach_render_locks > 0)
        wlr_output_update_needs_frame(output_);
    wlr_scene_output_commit(so);
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    wlr_scene_output_send_frame_done(so, &now);
}

}  // namespace deskpod::compositor
