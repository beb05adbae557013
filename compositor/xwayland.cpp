#include "compositor/xwayland.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "compositor/cursor.hpp"
#include "compositor/pointer.hpp"
#include "compositor/server.hpp"

namespace deskpod::compositor {

bool Xwayland::wanted(const Config& config) {
    if (config.xwayland.has_value())
        return *config.xwayland;
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (!dir.empty() && access((dir + "/Xwayland").c_str(), X_OK) == 0)
            return true;
    }
    return false;
}

Xwayland::Xwayland(Server& server) : server_(server) {
    xwayland_ = wlr_xwayland_create(server_.display, server_.compositor, false);
    if (!xwayland_) {
        log_.warn("cannot start Xwayland: X11 apps will not run");
        return;
    }
    on_ready_.set_handler([this](void*) {
        ready_ = true;
        wlr_xwayland_set_seat(xwayland_, server_.seat);
        if (const wlr_xcursor_image* image = server_.cursor_images->default_image()) {
            wlr_xwayland_set_cursor(xwayland_, image->buffer, image->width * 4, image->width,
                                    image->height, int32_t(image->hotspot_x),
                                    int32_t(image->hotspot_y));
        }
        log_.info("Xwayland ready on DISPLAY={}", display_name());
        server_.on_desktop_ready();
    });
    on_ready_.connect(xwayland_->events.ready);
    on_new_surface_.set_handler([this](void* data) {
        new XwaylandView(server_, static_cast<wlr_xwayland_surface*>(data));
    });
    on_new_surface_.connect(xwayland_->events.new_surface);
}

Xwayland::~Xwayland() {
    on_ready_.disconnect();
    on_new_surface_.disconnect();
    if (xwayland_)
        wlr_xwayland_destroy(xwayland_);
}

std::string Xwayland::display_name() const {
    return xwayland_ && xwayland_->display_name ? xwayland_->display_name : "";
}

XwaylandView::XwaylandView(Server& server, wlr_xwayland_surface* surface)
    : server_(server), xsurface_(surface) {
    xsurface_->data = this;
    on_map_.set_handler([this](void*) { handle_map(); });
    on_map_.connect(xsurface_->events.map);
    on_unmap_.set_handler([this](void*) { handle_unmap(); });
    on_unmap_.connect(xsurface_->events.unmap);
    on_destroy_.set_handler([this](void*) { delete this; });
    on_destroy_.connect(xsurface_->events.destroy);
    on_request_configure_.set_handler([this](void* data) {
        handle_request_configure(static_cast<wlr_xwayland_surface_configure_event*>(data));
    });
    on_request_configure_.connect(xsurface_->events.request_configure);
    on_set_geometry_.set_handler([this](void*) {
        if (mapped_ && unmanaged())
            place(xsurface_->x, xsurface_->y, wlr_box{});
    });
    on_set_geometry_.connect(xsurface_->events.set_geometry);
    on_node_destroy_.set_handler([this](void*) {
        on_node_destroy_.disconnect();
        node_ = nullptr;
    });
}

XwaylandView::~XwaylandView() {
    if (mapped_)
        handle_unmap();
    xsurface_->data = nullptr;
}

View* XwaylandView::parent() const {
    if (!xsurface_->parent || !xsurface_->parent->data)
        return nullptr;
    return static_cast<View*>(static_cast<XwaylandView*>(xsurface_->parent->data));
}

bool XwaylandView::floating() const {
    if (xsurface_->override_redirect || xsurface_->parent || xsurface_->modal)
        return true;
    const wlr_xwayland_surface_size_hints* hints = xsurface_->size_hints;
    return hints && hints->min_width > 0 && hints->min_height > 0 &&
           hints->min_width == hints->max_width && hints->min_height == hints->max_height;
}

void XwaylandView::set_activated(bool activated) {
    wlr_xwayland_surface_activate(xsurface_, activated);
    if (activated)
        wlr_xwayland_surface_restack(xsurface_, nullptr, XCB_STACK_MODE_ABOVE);
}

wlr_box XwaylandView::geometry() const {
    return wlr_box{0, 0, xsurface_->width, xsurface_->height};
}

void XwaylandView::arrange(const wlr_box& output_box) {
    if (unmanaged()) {
        place(xsurface_->x, xsurface_->y, wlr_box{});
        return;
    }
    if (floating()) {
        centre(output_box);
        wlr_xwayland_surface_configure(xsurface_, int16_t(x_), int16_t(y_), xsurface_->width,
                                       xsurface_->height);
        return;
    }
    wlr_xwayland_surface_set_maximized(xsurface_, true);
    wlr_xwayland_surface_configure(xsurface_, int16_t(output_box.x), int16_t(output_box.y),
                                   uint16_t(output_box.width), uint16_t(output_box.height));
    place(output_box.x, output_box.y, wlr_box{});
}

void XwaylandView::handle_map() {
    wlr_scene_tree* layer = unmanaged() ? server_.overlay_layer : server_.windows_layer;
    node_ = wlr_scene_subsurface_tree_create(&layer->node, xsurface_->surface);
    node_->data = this;
    on_node_destroy_.connect(node_->events.destroy);
    mapped_ = true;
    if (unmanaged()) {
        place(xsurface_->x, xsurface_->y, wlr_box{});
        if (wlr_xwayland_or_surface_wants_focus(xsurface_))
            server_.window_policy->focus(this);
    } else {
        server_.window_policy->map(this);
    }
    server_.pointer->refocus();
}

void XwaylandView::handle_unmap() {
    mapped_ = false;
    if (node_) {
        on_node_destroy_.disconnect();
        wlr_scene_node_destroy(node_);
        node_ = nullptr;
    }
    server_.window_policy->unmap(this);
}

void XwaylandView::handle_request_configure(wlr_xwayland_surface_configure_event* event) {
    if (!mapped_ || unmanaged()) {
        // Before mapping (and for menus) the window may be where and how big it likes; the
        // policy applies at map time.
        wlr_xwayland_surface_configure(xsurface_, event->x, event->y, event->width, event->height);
        if (mapped_)
            place(event->x, event->y, wlr_box{});
        return;
    }
    if (floating()) {
        wlr_xwayland_surface_configure(xsurface_, int16_t(x_), int16_t(y_), event->width,
                                       event->height);
        centre(server_.window_policy->output_box(this));
        wlr_xwayland_surface_configure(xsurface_, int16_t(x_), int16_t(y_), xsurface_->width,
                                       xsurface_->height);
        return;
    }
    // A filling window asked for another size: the answer is the desktop again.
    arrange(server_.window_policy->output_box(this));
}

}  // namespace deskpod::compositor
