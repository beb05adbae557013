#include "compositor/cursor.hpp"

#include <cmath>
#include <cstring>

#include "compositor/server.hpp"

namespace deskpod::compositor {
namespace {
constexpr const char* kDefaultCursor = "left_ptr";
}

CursorImages::CursorImages(Server& server) : server_(server) {
    on_request_set_cursor_.set_handler([this](void* data) {
        handle_request_set_cursor(static_cast<wlr_seat_pointer_request_set_cursor_event*>(data));
    });
    on_request_set_cursor_.connect(server_.seat->events.request_set_cursor);
    on_surface_commit_.set_handler([this](void*) { publish_surface(true); });
    on_surface_destroy_.set_handler([this](void*) {
        on_surface_commit_.disconnect();
        on_surface_destroy_.disconnect();
        surface_ = nullptr;
    });
}

const wlr_xcursor_image* CursorImages::default_image() const {
    return theme_image(1);
}

const wlr_xcursor_image* CursorImages::theme_image(float scale) const {
    wlr_xcursor* xcursor = wlr_xcursor_manager_get_xcursor(server_.xcursors, kDefaultCursor, scale);
    if (!xcursor || xcursor->image_count == 0)
        return nullptr;
    return xcursor->images[0];
}

void CursorImages::set_scale(double scale) {
    // The theme's arrow at the primary monitor's scale, so it looks the same size as the
    // arrows HiDPI-aware clients draw.
    const float wanted = scale > 1.0 ? float(std::ceil(scale)) : 1.0f;
    if (wanted == scale_)
        return;
    scale_ = wanted;
    wlr_xcursor_manager_load(server_.xcursors, scale_);
    if (source_ == Source::theme)
        show_default();
}

void CursorImages::show_default() {
    follow_surface(nullptr, 0, 0);
    source_ = Source::theme;
    const wlr_xcursor_image* image = theme_image(scale_);
    if (!image) {
        log_.warn("no '{}' cursor in the cursor theme", kDefaultCursor);
        return;
    }
    CursorEvent event;
    event.width = int32_t(image->width);
    event.height = int32_t(image->height);
    event.hotspot_x = int32_t(image->hotspot_x);
    event.hotspot_y = int32_t(image->hotspot_y);
    // Xcursor images are premultiplied ARGB in native byte order, as CursorEvent wants.
    event.pixels.resize(size_t(image->width) * image->height);
    std::memcpy(event.pixels.data(), image->buffer, event.pixels.size() * 4);
    publish(std::move(event));
}

void CursorImages::handle_request_set_cursor(wlr_seat_pointer_request_set_cursor_event* event) {
    // Only the client under the pointer may choose its image.
    if (event->seat_client != server_.seat->pointer_state.focused_client)
        return;
    if (!event->surface) {
        follow_surface(nullptr, 0, 0);
        if (source_ == Source::hidden)
            return;
        source_ = Source::hidden;
        CursorEvent hidden;
        hidden.hidden = true;
        publish(std::move(hidden));
        return;
    }
    follow_surface(event->surface, event->hotspot_x, event->hotspot_y);
    source_ = Source::surface;
    publish_surface(false);
}

void CursorImages::follow_surface(wlr_surface* surface, int32_t hotspot_x, int32_t hotspot_y) {
    hotspot_x_ = hotspot_x;
    hotspot_y_ = hotspot_y;
    if (surface == surface_)
        return;
    on_surface_commit_.disconnect();
    on_surface_destroy_.disconnect();
    surface_ = surface;
    if (!surface_)
        return;
    on_surface_commit_.connect(surface_->events.commit);
    on_surface_destroy_.connect(surface_->events.destroy);
}

void CursorImages::publish_surface(bool committed) {
    if (!surface_ || source_ != Source::surface)
        return;
    if (committed) {
        // A cursor surface that moves its buffer moves the hotspot the other way.
        hotspot_x_ -= surface_->current.dx;
        hotspot_y_ -= surface_->current.dy;
    }
    wlr_client_buffer* client_buffer = surface_->buffer;
    if (!client_buffer) {
        // A new cursor surface usually gets its buffer with the next commit: wait for it
        // rather than flashing a hidden pointer.
        if (!committed)
            return;
        CursorEvent hidden;
        hidden.hidden = true;
        publish(std::move(hidden));
        return;
    }
    // wlroots 0.15 keeps the client's shm buffer as the client buffer's source; the client
    // buffer itself may not offer pixel access.
    wlr_buffer* candidates[] = {&client_buffer->base, client_buffer->source};
    for (wlr_buffer* buffer : candidates) {
        if (!buffer)
            continue;
        void* data = nullptr;
        uint32_t format = 0;
        size_t stride = 0;
        if (!wlr_buffer_begin_data_ptr_access(buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data,
                                              &format, &stride)) {
            continue;
        }
        if (format != DRM_FORMAT_ARGB8888 && format != DRM_FORMAT_XRGB8888) {
            wlr_buffer_end_data_ptr_access(buffer);
            log_.debug("cursor buffer format 0x{:08x} not supported", format);
            return;
        }
        const int32_t width = buffer->width;
        const int32_t height = buffer->height;
        CursorEvent event;
        event.width = width;
        event.height = height;
        const int32_t scale = surface_->current.scale > 0 ? surface_->current.scale : 1;
        event.hotspot_x = hotspot_x_ * scale;
        event.hotspot_y = hotspot_y_ * scale;
        event.pixels.resize(size_t(width) * size_t(height));
        const uint32_t opaque = format == DRM_FORMAT_XRGB8888 ? 0xff000000u : 0;
        for (int32_t y = 0; y < height; ++y) {
            const auto* row = reinterpret_cast<const uint32_t*>(static_cast<const uint8_t*>(data) +
                                                                size_t(y) * stride);
            uint32_t* out = event.pixels.data() + size_t(y) * size_t(width);
            for (int32_t x = 0; x < width; ++x)
                out[x] = row[x] | opaque;
        }
        wlr_buffer_end_data_ptr_access(buffer);
        publish(std::move(event));
        return;
    }
    log_.debug("cursor surface buffer has no readable pixels");
}

void CursorImages::publish(CursorEvent&& event) {
    event.serial = ++serial_;
    server_.publish(std::move(event));
}

}  // namespace deskpod::compositor
