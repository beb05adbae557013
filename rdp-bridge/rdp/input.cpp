#include "rdp-bridge/rdp/input.hpp"

#include <algorithm>

#include "rdp-bridge/rdp/freerdp.hpp"
#include "shared/metrics.hpp"

namespace deskpod {

void RdpInput::push(DesktopRequest&& event) {
    if (queue_.try_push(std::move(event))) {
        metrics().input_events.add();
    } else {
        metrics().input_dropped.add();
    }
}

void RdpInput::keyboard(uint16_t flags, uint16_t code) {
    const auto key = decoder_.decode(flags, code);
    if (!key)
        return;
    if (key->pressed) {
        keys_.insert(key->evdev_code);
    } else if (keys_.erase(key->evdev_code) == 0) {
        return;  // a release for a key pressed before this client connected
    }
    push(KeyInput{key->evdev_code, key->pressed});
}

void RdpInput::unicode(uint16_t flags, uint16_t code) {
    const bool pressed = (flags & KBD_FLAGS_RELEASE) == 0;
    uint32_t codepoint = code;
    // Characters outside the BMP arrive as two UTF-16 units, one event each.
    if (code >= 0xD800 && code <= 0xDBFF) {
        high_surrogate_ = code;
        return;
    }
    if (code >= 0xDC00 && code <= 0xDFFF) {
        if (high_surrogate_ == 0)
            return;
        codepoint = 0x10000 + ((uint32_t(high_surrogate_) - 0xD800) << 10) + (code - 0xDC00);
        if (!pressed)
            high_surrogate_ = 0;
    }
    push(UnicodeInput{codepoint, pressed});
}

void RdpInput::synchronize(uint32_t flags) {
    push(LockStateInput{(flags & KBD_SYNC_CAPS_LOCK) != 0, (flags & KBD_SYNC_NUM_LOCK) != 0,
                        (flags & KBD_SYNC_SCROLL_LOCK) != 0});
}

void RdpInput::motion(uint16_t x, uint16_t y, int32_t width, int32_t height) {
    push(PointerMotionInput{double(std::min<int32_t>(x, std::max(width - 1, 0))),
                            double(std::min<int32_t>(y, std::max(height - 1, 0)))});
}

void RdpInput::button(uint32_t code, bool pressed) {
    if (pressed) {
        buttons_.insert(code);
    } else if (buttons_.erase(code) == 0) {
        return;
    }
    push(PointerButtonInput{code, pressed});
}

void RdpInput::mouse(uint16_t flags, uint16_t x, uint16_t y, int32_t width, int32_t height) {
    if (const auto wheel = decode_wheel(flags)) {
        push(PointerAxisInput{wheel->horizontal, wheel->steps});
        return;  // wheel events carry no position
    }
    if (flags & PTR_FLAGS_MOVE)
        motion(x, y, width, height);
    if (const uint32_t code = button_from_pointer_flags(flags)) {
        // Button events carry the position too; apply it first so the click lands there.
        if (!(flags & PTR_FLAGS_MOVE))
            motion(x, y, width, height);
        button(code, (flags & PTR_FLAGS_DOWN) != 0);
    }
}

void RdpInput::extended_mouse(uint16_t flags, uint16_t x, uint16_t y, int32_t width,
                              int32_t height) {
    if (const uint32_t code = button_from_extended_pointer_flags(flags)) {
        motion(x, y, width, height);
        button(code, (flags & PTR_XFLAGS_DOWN) != 0);
    }
}

void RdpInput::release_all() {
    if (keys_.empty() && buttons_.empty())
        return;
    keys_.clear();
    buttons_.clear();
    push(ReleaseAllInput{});
}

}  // namespace deskpod
