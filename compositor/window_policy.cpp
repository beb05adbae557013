#include "compositor/window_policy.hpp"

#include <algorithm>

#include "compositor/keyboard.hpp"
#include "compositor/output.hpp"
#include "compositor/pointer.hpp"
#include "compositor/server.hpp"

namespace deskpod::compositor {

void View::place(int x, int y, const wlr_box& geometry) {
    x_ = x;
    y_ = y;
    if (node_)
        wlr_scene_node_set_position(node_, x - geometry.x, y - geometry.y);
}

void View::centre(const wlr_box& output_box) {
    const wlr_box own = geometry();
    wlr_box area = output_box;
    if (View* p = parent(); p && p->mapped()) {
        const wlr_box pg = p->geometry();
        area = wlr_box{p->x(), p->y(), pg.width, pg.height};
    }
    int x = area.x + (area.width - own.width) / 2;
    int y = area.y + (area.height - own.height) / 2;
    // Keep the title bar reachable: never above or left of the desktop.
    x = std::max(output_box.x, std::min(x, output_box.x + output_box.width - own.width));
    y = std::max(output_box.y, std::min(y, output_box.y + output_box.height - own.height));
    place(x, y, own);
}

wlr_box WindowPolicy::output_box(const View* view) const {
    // A dialog lives where its parent lives.
    while (view && !view->home() && view->parent())
        view = view->parent();
    if (view && view->home()) {
        for (const auto& o : server_.outputs) {
            if (o->handle() == view->home())
                return o->box();
        }
    }
    if (const Output* primary = server_.primary_output())
        return primary->box();
    return wlr_box{0, 0, server_.config.width, server_.config.height};
}

void WindowPolicy::forget_output(wlr_output* output) {
    for (View* view : stack_) {
        if (view->home() == output)
            view->set_home(nullptr);
    }
}

void WindowPolicy::map(View* view) {
    if (view->unmanaged())
        return;
    // New windows open on the monitor under the pointer; dialogs follow their parent.
    if (!view->home() && !view->parent()) {
        const Output* at = server_.output_at(server_.cursor->x, server_.cursor->y);
        if (!at)
            at = server_.primary_output();
        view->set_home(at ? at->handle() : nullptr);
    }
    stack_.remove(view);
    stack_.push_front(view);
    arrange(view);
    focus(view);
    // The pointer may now be over this window without having moved.
    if (server_.pointer)
        server_.pointer->refocus();
}

void WindowPolicy::unmap(View* view) {
    stack_.remove(view);
    if (server_.pointer)
        server_.pointer->refocus();
    if (focused_ != view)
        return;
    focused_ = nullptr;
    // Focus returns to the parent of a closed dialog, else to the next window down.
    View* next = view->parent();
    if (!next || !next->mapped())
        next = stack_.empty() ? nullptr : stack_.front();
    if (next) {
        focus(next);
    } else {
        wlr_seat_keyboard_notify_clear_focus(server_.seat);
    }
}

void WindowPolicy::focus(View* view) {
    if (!view || !view->mapped())
        return;
    if (view->unmanaged()) {
        // An X11 menu that asks for input gets the keyboard without changing the stack.
        if (server_.keyboard)
            server_.keyboard->enter(view->surface());
        return;
    }
    if (focused_ != view) {
        if (focused_)
            focused_->set_activated(false);
        focused_ = view;
        view->set_activated(true);
    }
    stack_.remove(view);
    stack_.push_front(view);
    wlr_scene_node_raise_to_top(view->node());
    // Dialogs stay above the window they belong to.
    std::vector<View*> children;
    for (View* other : stack_) {
        for (View* p = other->parent(); p; p = p->parent()) {
            if (p == view) {
                children.push_back(other);
                break;
            }
        }
    }
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
        wlr_scene_node_raise_to_top((*it)->node());
    }
    if (server_.keyboard)
        server_.keyboard->enter(view->surface());
}

void WindowPolicy::cycle() {
    if (stack_.size() < 2)
        return;
    focus(stack_.back());
}

void WindowPolicy::arrange(View* view) {
    if (view->mapped() && !view->unmanaged())
        view->arrange(output_box(view));
}

void WindowPolicy::arrange_all() {
    // Parents first, so dialogs centre over their parent's new place.
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
        if (!(*it)->floating())
            (*it)->arrange(output_box(*it));
    }
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
        if ((*it)->floating())
            (*it)->arrange(output_box(*it));
    }
}

View* WindowPolicy::view_at(double lx, double ly, wlr_surface** surface, double* sx,
                            double* sy) const {
    *surface = nullptr;
    wlr_scene_node* node = wlr_scene_node_at(&server_.scene->node, lx, ly, sx, sy);
    if (!node || node->type != WLR_SCENE_NODE_SURFACE)
        return nullptr;
    *surface = wlr_scene_surface_from_node(node)->surface;
    for (wlr_scene_node* n = node; n; n = n->parent) {
        if (n->data)
            return static_cast<View*>(n->data);
    }
    return nullptr;
}

}  // namespace deskpod::compositor
