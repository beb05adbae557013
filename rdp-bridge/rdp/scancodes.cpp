#include "rdp-bridge/rdp/scancodes.hpp"

#include <linux/input-event-codes.h>

#include "rdp-bridge/rdp/freerdp.hpp"

namespace deskpod {

namespace {
constexpr uint16_t kScancodeLeftControl = 0x1D;
constexpr uint16_t kScancodeNumLock = 0x45;
constexpr DWORD kKeyboardTypeIbmEnhanced = 4;
// GetKeycodeFromVirtualKeyCode answers in XKB keycodes, which are evdev codes + 8.
constexpr DWORD kXkbEvdevOffset = 8;
}  // namespace

uint32_t evdev_from_scancode(uint16_t code, bool extended) {
    const DWORD scancode = (code & 0xFF) | (extended ? KBDEXT : 0);
    DWORD vk = GetVirtualKeyCodeFromVirtualScanCode(scancode, kKeyboardTypeIbmEnhanced);
    if (vk == 0 || vk == 0xFF)
        return 0;
    // Without KBDEXT the keycode table answers for the non-extended twin (keypad Enter
    // becomes Enter) or nothing at all (arrows, right Ctrl/Alt, Windows keys).
    if (extended)
        vk |= KBDEXT;
    const DWORD xkb = GetKeycodeFromVirtualKeyCode(vk, KEYCODE_TYPE_EVDEV);
    return xkb > kXkbEvdevOffset ? uint32_t(xkb - kXkbEvdevOffset) : 0;
}

std::optional<KeyTranslation> ScancodeDecoder::decode(uint16_t flags, uint16_t code) {
    const bool pressed = (flags & KBD_FLAGS_RELEASE) == 0;
    code &= 0xFF;
    if (flags & KBD_FLAGS_EXTENDED1) {
        pause_prefix_ = code == kScancodeLeftControl;
        return std::nullopt;
    }
    if (pause_prefix_) {
        pause_prefix_ = false;
        if (code == kScancodeNumLock && !(flags & KBD_FLAGS_EXTENDED)) {
            return KeyTranslation{KEY_PAUSE, pressed};
        }
    }
    const uint32_t evdev = evdev_from_scancode(code, (flags & KBD_FLAGS_EXTENDED) != 0);
    if (evdev == 0)
        return std::nullopt;
    return KeyTranslation{evdev, pressed};
}

std::optional<WheelTranslation> decode_wheel(uint16_t pointer_flags) {
    const bool vertical = pointer_flags & PTR_FLAGS_WHEEL;
    const bool horizontal = pointer_flags & PTR_FLAGS_HWHEEL;
    if (!vertical && !horizontal)
        return std::nullopt;
    int rotation = pointer_flags & WheelRotationMask;
    if (pointer_flags & PTR_FLAGS_WHEEL_NEGATIVE)
        rotation -= 0x200;
    // RDP's vertical rotation is positive when the wheel turns away from the user (content
    // scrolls up); PointerAxisInput counts down as positive. Horizontal is positive right.
    const double notches = double(rotation) / 120.0;
    if (vertical)
        return WheelTranslation{false, -notches};
    return WheelTranslation{true, notches};
}

uint32_t button_from_pointer_flags(uint16_t pointer_flags) {
    if (pointer_flags & PTR_FLAGS_BUTTON1)
        return BTN_LEFT;
    if (pointer_flags & PTR_FLAGS_BUTTON2)
        return BTN_RIGHT;
    if (pointer_flags & PTR_FLAGS_BUTTON3)
        return BTN_MIDDLE;
    return 0;
}

uint32_t button_from_extended_pointer_flags(uint16_t pointer_flags) {
    if (pointer_flags & PTR_XFLAGS_BUTTON1)
        return BTN_SIDE;
    if (pointer_flags & PTR_XFLAGS_BUTTON2)
        return BTN_EXTRA;
    return 0;
}

}  // namespace deskpod
