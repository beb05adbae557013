#include "output.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "desktop.hpp"
#include "metrics.hpp"
#include "server.hpp"

namespace deskpod::compositor {
namespace {
constexpr int32_t kMinWidth = 320, kMinHeight = 200, kMaxSize = 8192;
}

Output::Output(Server& server, wlr_output* output)
    : server_(server), output_(output), capture_(server, output) {
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
    on_destroy_.set_handler([this](void*) { server_.output.reset(); });
    on_destroy_.connect(output_->events.destroy);

    wlr_output_enable(output_, true);
    wlr_output_set_custom_mode(output_, std::clamp(server_.config.width, kMinWidth, kMaxSize),
                               std::clamp(server_.config.height, kMinHeight, kMaxSize),
                               server_.backend->refresh_mhz());
    if (!wlr_output_commit(output_)) {
        throw std::runtime_error("cannot enable the output");
    }
    wlr_output_layout_add_auto(server_.layout, output_);
    // Connected only now, so the first announcement happens once the scene output exists.
    on_mode_.set_handler([this](void*) { handle_mode(); });
    on_mode_.connect(output_->events.mode);
    handle_mode();
}

Output::~Output() = default;

wlr_scene_output* Output::scene_output() const {
    return wlr_scene_get_scene_output(server_.scene, output_);
}

void Output::set_size(int32_t width, int32_t height) {
    width = std::clamp(width, kMinWidth, kMaxSize);
    height = std::clamp(height, kMinHeight, kMaxSize);
    if (width == output_->width && height == output_->height) {
        // Same size: still tell the network side, which asked and may be waiting for an answer.
        announced_width_ = 0;
        handle_mode();
        return;
    }
    wlr_output_set_custom_mode(output_, width, height, server_.backend->refresh_mhz());
    if (!wlr_output_commit(output_)) {
        server_.log.warn("the backend refused the size {}x{}", width, height);
    }
}

void Output::handle_mode() {
    const int32_t width = output_->width;
    const int32_t height = output_->height;
    if (width == announced_width_ && height == announced_height_)
        return;
    announced_width_ = width;
    announced_height_ = height;
    server_.log.info("desktop size {}x{}", width, height);
    if (server_.background)
        wlr_scene_rect_set_size(server_.background, width, height);
    if (server_.desktop)
        server_.desktop->arrange_all();
    metrics().desktop_width.set(width);
    metrics().desktop_height.set(height);
    capture_.request_full();
    server_.publish(DesktopSizeEvent{width, height});
    if (wlr_scene_output* so = scene_output())
        wlr_output_damage_add_whole(so->damage);
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
