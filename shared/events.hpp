// Everything that crosses the thread boundary between the compositor and the network side.
// Values only (plus FrameRef, an immutable reference-counted buffer): nothing here points into
// wlroots or FreeRDP state.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "frame_pool.hpp"
#include "geometry.hpp"

namespace deskpod {

// ---- compositor -> bridge ------------------------------------------------------------------

// A rendered output frame. `damage` lists the rectangles (desktop coordinates) whose pixels in
// `buffer` are new; pixels outside them are stale and must not be read.
struct FrameEvent {
    uint64_t seq = 0;
    int32_t width = 0;
    int32_t height = 0;
    std::vector<Rect> damage;
    FrameRef buffer;
};

// The desktop changed size. Sent before the first frame of the new size.
struct DesktopSizeEvent {
    int32_t width = 0;
    int32_t height = 0;
};

// The pointer image. Pixels are premultiplied ARGB8888 (uint32_t per pixel, native order).
// `hidden` means the client should hide its cursor (an app set a null cursor).
struct CursorEvent {
    bool hidden = false;
    int32_t width = 0;
    int32_t height = 0;
    int32_t hotspot_x = 0;
    int32_t hotspot_y = 0;
    std::vector<uint32_t> pixels;
    uint64_t serial = 0;  // changes whenever the image changes
};

// The session command started or stopped (for /readyz).
struct SessionStateEvent {
    bool running = false;
};

// Answer to a PingRequest: proves the compositor loop is alive (for /healthz).
struct PongEvent {
    uint64_t id = 0;
};

using DesktopEvent =
    std::variant<FrameEvent, DesktopSizeEvent, CursorEvent, SessionStateEvent, PongEvent>;

// ---- bridge -> compositor ------------------------------------------------------------------

// A physical key by Linux evdev code (KEY_A = 30...), as wlr_keyboard_notify_key takes it.
struct KeyInput {
    uint32_t evdev_code = 0;
    bool pressed = false;
};

// Type one Unicode character, even when the active keymap has no key for it.
struct UnicodeInput {
    uint32_t codepoint = 0;
    bool pressed = false;
};

// Type one X keysym (Guacamole sends keysyms), through the keymap when possible.
struct KeysymInput {
    uint32_t keysym = 0;
    bool pressed = false;
};

// Lock key state from the client (RDP synchronize event).
struct LockStateInput {
    bool caps_lock = false;
    bool num_lock = false;
    bool scroll_lock = false;
};

// Absolute pointer position in desktop pixels.
struct PointerMotionInput {
    double x = 0;
    double y = 0;
};

// Linux button code (BTN_LEFT = 0x110, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA).
struct PointerButtonInput {
    uint32_t button = 0;
    bool pressed = false;
};

// Wheel: `steps` in notches (positive = down/right), vertical unless `horizontal`.
struct PointerAxisInput {
    bool horizontal = false;
    double steps = 0;
};

// Release every key and button this client holds (client left or lost focus).
struct ReleaseAllInput {};

// Ask the desktop to become this size (clamped by the compositor).
struct ResizeRequest {
    int32_t width = 0;
    int32_t height = 0;
};

// Switch the keymap (xkb layout and variant names, e.g. "de", "" ).
struct KeymapRequest {
    std::string layout;
    std::string variant;
};

struct PingRequest {
    uint64_t id = 0;
};

// Stop the compositor loop (the process is shutting down).
struct ShutdownRequest {};

using InputEvent =
    std::variant<KeyInput, UnicodeInput, KeysymInput, LockStateInput, PointerMotionInput,
                 PointerButtonInput, PointerAxisInput, ReleaseAllInput, ResizeRequest,
                 KeymapRequest, PingRequest, ShutdownRequest>;

}  // namespace deskpod
