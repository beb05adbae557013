// The one place wlroots is included from C++. wlroots 0.15 headers are C99: they use
// `[static N]` array parameters and C++ keywords (class, namespace, delete) as field names, so
// they are included with `static` and those keywords #defined away. Every other file includes
// this header instead of <wlr/...>.
#pragma once

// Non-wlroots dependencies first, with `static` intact: their inline functions must stay static.
#include <pixman.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>
#include <xcb/xcb.h>
#include <xkbcommon/xkbcommon.h>
#include <drm_fourcc.h>

#include "xdg-shell-protocol.h"

#include <functional>
#include <utility>

extern "C" {
#define static
#define class class_
#define namespace namespace_
#define delete delete_
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/backend/x11.h>
#include <wlr/interfaces/wlr_input_device.h>
#include <wlr/interfaces/wlr_keyboard.h>
#include <wlr/interfaces/wlr_output.h>
#include <wlr/render/allocator.h>
#include <wlr/render/pixman.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_data_control_v1.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_damage.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_primary_selection.h>
#include <wlr/types/wlr_primary_selection_v1.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_screencopy_v1.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/types/wlr_viewporter.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_output_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/box.h>
#include <wlr/util/log.h>
#include <wlr/util/region.h>
#include <wlr/xcursor.h>
#include <wlr/xwayland.h>
#undef static
#undef class
#undef namespace
#undef delete
}

namespace deskpod::wl {

// A wl_listener bound to a std::function. Non-copyable and non-movable because the signal
// keeps a pointer to the embedded wl_listener; it disconnects itself when destroyed, so a
// member listener can never outlive its owner.
class Listener {
  public:
    Listener() { wl_list_init(&node_.listener.link); }
    explicit Listener(std::function<void(void*)> handler) : Listener() {
        handler_ = std::move(handler);
    }
    ~Listener() { disconnect(); }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    Listener(Listener&&) = delete;
    Listener& operator=(Listener&&) = delete;

    void set_handler(std::function<void(void*)> handler) { handler_ = std::move(handler); }

    // Connects to `signal`, first disconnecting from any previous one.
    void connect(wl_signal* signal) {
        disconnect();
        node_.listener.notify = &Listener::dispatch;
        node_.owner = this;
        wl_signal_add(signal, &node_.listener);
    }
    void connect(wl_signal& signal) { connect(&signal); }

    void disconnect() {
        wl_list_remove(&node_.listener.link);
        wl_list_init(&node_.listener.link);
    }

    bool connected() const { return !wl_list_empty(&node_.listener.link); }

  private:
    // Standard layout, so wl_container_of's offset arithmetic is valid.
    struct Node {
        wl_listener listener;
        Listener* owner;
    };

    static void dispatch(wl_listener* listener, void* data) {
        Node* node = wl_container_of(listener, node, listener);
        // Copy first: the handler may destroy the object that owns this listener.
        auto handler = node->owner->handler_;
        if (handler)
            handler(data);
    }

    Node node_{};
    std::function<void(void*)> handler_;
};

// An event source removed in the destructor.
class EventSource {
  public:
    EventSource() = default;
    explicit EventSource(wl_event_source* source) : source_(source) {}
    ~EventSource() { reset(); }
    EventSource(const EventSource&) = delete;
    EventSource& operator=(const EventSource&) = delete;
    EventSource(EventSource&& other) noexcept : source_(std::exchange(other.source_, nullptr)) {}
    EventSource& operator=(EventSource&& other) noexcept {
        if (this != &other) {
            reset();
            source_ = std::exchange(other.source_, nullptr);
        }
        return *this;
    }
    void reset() {
        if (source_)
            wl_event_source_remove(source_);
        source_ = nullptr;
    }
    wl_event_source* get() const { return source_; }
    explicit operator bool() const { return source_ != nullptr; }

  private:
    wl_event_source* source_ = nullptr;
};

}  // namespace deskpod::wl
