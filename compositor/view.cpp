#include "compositor/view.hpp"

#include "compositor/server.hpp"

namespace deskpod::compositor {

XdgView::XdgView(Server& server, wlr_xdg_surface* surface) : server_(server), xdg_(surface) {
    node_ = wlr_scene_xdg_surface_create(&server_.windows_layer->node, xdg_);
    node_->data = this;
    xdg_->data = node_;  // popups find their parent's scene node here
    wlr_scene_node_set_enabled(node_, false);

    on_map_.set_handler([this](void*) {
        mapped_ = true;
        wlr_scene_node_set_enabled(node_, true);
        server_.window_policy->map(this);
    });
    on_map_.connect(xdg_->events.map);
    on_unmap_.set_handler([this](void*) {
        mapped_ = false;
        wlr_scene_node_set_enabled(node_, false);
        server_.window_policy->unmap(this);
    });
    on_unmap_.connect(xdg_->events.unmap);
    on_destroy_.set_handler([this](void*) { delete this; });
    on_destroy_.connect(xdg_->events.destroy);
    on_commit_.set_handler([this](void*) { handle_commit(); });
    on_commit_.connect(xdg_->surface->events.commit);
    // A toplevel that asks to change state is re-arranged: the policy decides, and the client
    // still needs a configure in reply.
    auto rearrange = [this](void*) {
        if (mapped_) {
            server_.window_policy->arrange(this);
        } else {
            wlr_xdg_surface_schedule_configure(xdg_);
        }
    };
    on_set_parent_.set_handler(rearrange);
    on_set_parent_.connect(xdg_->toplevel->events.set_parent);
    on_request_fullscreen_.set_handler(rearrange);
    on_request_fullscreen_.connect(xdg_->toplevel->events.request_fullscreen);
    on_request_maximize_.set_handler(rearrange);
    on_request_maximize_.connect(xdg_->toplevel->events.request_maximize);
}

XdgView::~XdgView() {
    if (mapped_)
        server_.window_policy->unmap(this);
    // The scene node goes away with the xdg surface itself.
}

View* XdgView::parent() const {
    wlr_xdg_surface* p = xdg_->toplevel->parent;
    if (!p || !p->data)
        return nullptr;
    return static_cast<View*>(static_cast<wlr_scene_node*>(p->data)->data);
}

bool XdgView::floating() const {
    if (xdg_->toplevel->parent)
        return true;
    // Fixed-size windows (about boxes, splash screens) cannot fill the desktop.
    const auto& state = xdg_->toplevel->current;
    return state.min_width > 0 && state.min_height > 0 && state.min_width == state.max_width &&
           state.min_height == state.max_height;
}

void XdgView::set_activated(bool activated) {
    wlr_xdg_toplevel_set_activated(xdg_, activated);
}

wlr_box XdgView::geometry() const {
    wlr_box box{};
    wlr_xdg_surface_get_geometry(xdg_, &box);
    return box;
}

void XdgView::arrange(const wlr_box& output_box) {
    if (floating()) {
        // Size 0x0 lets the client pick its own size.
        wlr_xdg_toplevel_set_maximized(xdg_, false);
        wlr_xdg_toplevel_set_size(xdg_, 0, 0);
        centre(output_box);
    } else {
        // Maximized makes client-side-decorated apps drop shadows and rounded corners.
        wlr_xdg_toplevel_set_maximized(xdg_, true);
        wlr_xdg_toplevel_set_size(xdg_, uint32_t(output_box.width), uint32_t(output_box.height));
        place(output_box.x, output_box.y, geometry());
    }
}

void XdgView::handle_commit() {
    if (xdg_->role != WLR_XDG_SURFACE_ROLE_TOPLEVEL)
        return;
    const wlr_box geo = geometry();
    if (geo.x == last_geometry_.x && geo.y == last_geometry_.y &&
        geo.width == last_geometry_.width && geo.height == last_geometry_.height) {
        return;
    }
    last_geometry_ = geo;
    if (!mapped_)
        return;
    // The client's size or shadow offset changed: re-place without a new configure.
    const wlr_box out = server_.window_policy->output_box(this);
    if (floating()) {
        centre(out);
    } else {
        place(out.x, out.y, geo);
    }
}

void create_xdg_popup(Server& server, wlr_xdg_surface* popup) {
    wlr_xdg_surface* parent = wlr_xdg_surface_from_wlr_surface(popup->popup->parent);
    if (!parent || !parent->data)
        return;
    auto* parent_node = static_cast<wlr_scene_node*>(parent->data);
    wlr_scene_node* node = wlr_scene_xdg_surface_create(parent_node, popup);
    popup->data = node;

    // Keep the popup on the desktop: the box is the output in the toplevel's surface
    // coordinates.
    int lx = 0, ly = 0;
    wlr_scene_node* view_node = parent_node;
    for (wlr_scene_node* n = parent_node; n; n = n->parent) {
        if (n->parent == &server.windows_layer->node || n->parent == &server.overlay_layer->node) {
            view_node = n;
            break;
        }
    }
    wlr_scene_node_coords(view_node, &lx, &ly);
    const wlr_box out = server.window_policy->output_box(static_cast<const View*>(view_node->data));
    const wlr_box box{out.x - lx, out.y - ly, out.width, out.height};
    wlr_xdg_popup_unconstrain_from_box(popup->popup, &box);
}

}  // namespace deskpod::compositor
