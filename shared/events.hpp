// Everything that crosses the thread boundary between the compositor and the network side.
// Values only (plus FrameRef, an immutable reference-counted buffer): nothing here points into
// wlroots or FreeRDP state.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "shared/frame_pool.hpp"
#include "shared/geometry.hpp"
#include "shared/monitors.hpp"

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
    // When the compositor copied the pixels (for deskpod_capture_to_send_seconds).
    std::chrono::steady_clock::time_point captured_at{};
};

// The desktop changed size or monitor layout. Sent before the first frame of the new size.
// `width` x `height` is the bounding box of `monitors` (never empty).
struct DesktopSizeEvent {
    DesktopSizeEvent() = default;
    DesktopSizeEvent(int32_t w, int32_t h, MonitorLayout layout = {})
        : width(w), height(h), monitors(std::move(layout)) {}

    int32_t width = 0;
    int32_t height = 0;
    MonitorLayout monitors;
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

// ---- clipboard (both directions) -----------------------------------------------------------
// Delayed rendering as in RDP's CLIPRDR and Wayland's data device: only the list of formats
// (mime types) travels when something is copied; the bytes travel when somebody pastes.
// Bytes are capped at --clipboard-limit on both sides; a refusal travels as ok=false.

using ClipboardBytes = std::shared_ptr<const std::vector<uint8_t>>;

// compositor -> bridge: a Wayland/X11 app set the selection (or it was cleared: no mime
// types). Not sent for selections the bridge itself offered (RemoteOfferRequest), so a
// client's copy does not echo back to it. `serial` identifies this selection.
struct SelectionOfferEvent {
    uint64_t serial = 0;
    bool primary = false;
    std::vector<std::string> mime_types;
};

// compositor -> bridge: the answer to a ReadSelectionRequest.
struct SelectionDataEvent {
    uint64_t request_id = 0;
    bool ok = false;
    std::string error;  // why not ok (too large, source vanished, no such type...)
    std::string mime_type;
    ClipboardBytes data;
};

// compositor -> bridge: a Wayland app pastes from a selection the bridge offered
// (RemoteOfferRequest `offer_id`); the bridge fetches the bytes from the remote client and
// answers with a PasteDataInput carrying the same `transfer_id`.
struct PasteRequestEvent {
    uint64_t offer_id = 0;
    uint64_t transfer_id = 0;
    std::string mime_type;
};

using DesktopEvent =
    std::variant<FrameEvent, DesktopSizeEvent, CursorEvent, SessionStateEvent, PongEvent,
                 SelectionOfferEvent, SelectionDataEvent, PasteRequestEvent>;

// ---- bridge -> compositor: DesktopRequest (input, and what the bridge asks of the desktop) ----

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

// Ask the desktop to become this size (clamped by the compositor): one output of
// `width` x `height`, or, when `monitors` is not empty, one output per monitor in that
// arrangement (then `width` x `height` is ignored; normalize_layout() runs on it again).
struct ResizeRequest {
    ResizeRequest() = default;
    ResizeRequest(int32_t w, int32_t h) : width(w), height(h) {}
    explicit ResizeRequest(MonitorLayout layout) : monitors(std::move(layout)) {}

    int32_t width = 0;
    int32_t height = 0;
    MonitorLayout monitors;
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

// Read the current selection (`serial` from SelectionOfferEvent; stale serials fail) as
// `mime_type`; answered by a SelectionDataEvent with the same `request_id`.
struct ReadSelectionRequest {
    uint64_t request_id = 0;
    uint64_t serial = 0;
    bool primary = false;
    std::string mime_type;
};

// A remote client copied: make a compositor-owned data source advertising these mime types
// the selection (empty list: clear the selection if it is still this bridge's offer).
struct RemoteOfferRequest {
    uint64_t offer_id = 0;
    bool primary = false;
    std::vector<std::string> mime_types;
};

// The bytes for a PasteRequestEvent (ok=false: the client could not or would not deliver).
struct PasteDataInput {
    uint64_t transfer_id = 0;
    bool ok = false;
    ClipboardBytes data;
};

using DesktopRequest =
    std::variant<KeyInput, UnicodeInput, KeysymInput, LockStateInput, PointerMotionInput,
                 PointerButtonInput, PointerAxisInput, ReleaseAllInput, ResizeRequest,
                 KeymapRequest, PingRequest, ShutdownRequest, ReadSelectionRequest,
                 RemoteOfferRequest, PasteDataInput>;

}  // namespace deskpod
