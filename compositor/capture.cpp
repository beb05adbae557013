#include "compositor/capture.hpp"

#include <cstring>

#include "compositor/output.hpp"
#include "compositor/server.hpp"
#include "shared/metrics.hpp"

namespace deskpod::compositor {

Capture::Capture(Server& server, Output& output) : server_(server), output_(output) {}

void Capture::handle_precommit() {
    frame_damage_.clear();
    const wlr_output* output = output_.handle();
    const wlr_output_state& pending = output->pending;
    if (!(pending.committed & WLR_OUTPUT_STATE_BUFFER))
        return;
    if (pending.committed & WLR_OUTPUT_STATE_DAMAGE) {
        pixman_region32_copy(frame_damage_.raw(), const_cast<pixman_region32_t*>(&pending.damage));
    } else {
        // A buffer without damage information: everything may have changed.
        frame_damage_.add(Rect{0, 0, output->width, output->height});
    }
}

void Capture::handle_commit(const wlr_output_event_commit& event) {
    if (!(event.committed & WLR_OUTPUT_STATE_BUFFER) || !event.buffer)
        return;
    const Rect bounds{0, 0, event.buffer->width, event.buffer->height};
    Region damage;
    if (full_) {
        damage.add(bounds);
    } else {
        damage = frame_damage_;
        damage.add(carry_);
        damage.clip(bounds);
    }
    if (damage.empty())
        return;

    if (copy_and_publish(event.buffer, damage)) {
        carry_.clear();
        full_ = false;
    } else {
        carry_.add(damage);
        metrics().frames_coalesced.add();
    }
}

// `damage` is in the output's buffer pixels; the frame is the whole desktop, with this
// output's pixels at its monitor's place.
bool Capture::copy_and_publish(wlr_buffer* buffer, const Region& damage) {
    const int32_t desktop_w = server_.desktop_width();
    const int32_t desktop_h = server_.desktop_height();
    const Monitor& place = output_.monitor();
    const Rect on_desktop{place.x, place.y, buffer->width, buffer->height};
    if (on_desktop.x + on_desktop.width > desktop_w ||
        on_desktop.y + on_desktop.height > desktop_h) {
        // A mode change not yet folded into the layout (it is, before the next frame).
        return false;
    }
    FrameWriter frame = server_.channels.frames.acquire(desktop_w, desktop_h);
    if (!frame)
        return false;

    void* data = nullptr;
    uint32_t format = 0;
    size_t stride = 0;
    if (!wlr_buffer_begin_data_ptr_access(buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format,
                                          &stride)) {
        log_.error("cannot read the rendered buffer");
        return false;
    }
    // The pixman renderer draws XRGB8888 (ARGB8888 on some X visuals); both have the same byte
    // layout and the alpha byte is ignored downstream. Anything else would need conversion.
    if (format != DRM_FORMAT_XRGB8888 && format != DRM_FORMAT_ARGB8888) {
        wlr_buffer_end_data_ptr_access(buffer);
        if (!format_warned_) {
            log_.error("unsupported output buffer format 0x{:08x}", format);
            format_warned_ = true;
        }
        return false;
    }

    FrameEvent event;
    event.width = desktop_w;
    event.height = desktop_h;
    const auto* src = static_cast<const uint8_t*>(data);
    uint8_t* dst = frame.data();
    const size_t dst_stride = size_t(frame.stride());
    const std::vector<Rect> rects = damage.rects();
    event.damage.reserve(rects.size());
    for (const Rect& r : rects) {
        const size_t row_bytes = size_t(r.width) * 4;
        for (int32_t y = r.y; y < r.y + r.height; ++y) {
            std::memcpy(dst + size_t(y + place.y) * dst_stride + size_t(r.x + place.x) * 4,
                        src + size_t(y) * stride + size_t(r.x) * 4, row_bytes);
        }
        event.damage.push_back(Rect{r.x + place.x, r.y + place.y, r.width, r.height});
    }
    wlr_buffer_end_data_ptr_access(buffer);

    event.seq = server_.next_frame_seq();
    event.captured_at = std::chrono::steady_clock::now();
    event.buffer = std::move(frame).publish();
    if (!server_.publish(std::move(event))) {
        // The slot in `event` is released here and rings `returned`, which retries the carry.
        return false;
    }
    metrics().frames_captured.add();
    return true;
}

void Capture::retry_carried() {
    if (carry_.empty())
        return;
    wlr_scene_output* scene_output = output_.scene_output();
    if (!scene_output)
        return;
    // Re-damaging the carried area makes the scene draw it again and schedules the frame that
    // captures it; the precommit then reports it as this frame's damage.
    wlr_output_damage_add(scene_output->damage, carry_.raw());
}

}  // namespace deskpod::compositor
