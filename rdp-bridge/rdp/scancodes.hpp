// Pure translation of RDP keyboard and mouse wire values into the Linux input codes the
// compositor takes. No I/O and no state beyond one client's keyboard sequence, so the
// tables can be unit tested without a connection.
#pragma once

#include <cstdint>
#include <optional>

namespace deskpod {

struct KeyTranslation {
    uint32_t evdev_code = 0;
    bool pressed = false;
};

// One client's RDP scancode stream -> evdev key events. Stateful only for Pause, which RDP
// sends as a two-event sequence (Ctrl with KBD_FLAGS_EXTENDED1, then NumLock's scancode).
class ScancodeDecoder {
  public:
    // `flags` are the TS_KEYBOARD_EVENT flags (KBD_FLAGS_*), `code` the 8-bit scancode.
    // Returns nothing for keys with no evdev equivalent and for the first half of Pause.
    std::optional<KeyTranslation> decode(uint16_t flags, uint16_t code);

  private:
    bool pause_prefix_ = false;
};

// evdev code for an extended-or-not scancode (no Pause handling); 0 when unknown.
uint32_t evdev_from_scancode(uint16_t code, bool extended);

// Wheel rotation of a TS_POINTER_EVENT in notches, positive = down (vertical) or right
// (horizontal), as PointerAxisInput wants. The rotation is a 9-bit two's complement value
// (PTR_FLAGS_WHEEL_NEGATIVE is its sign bit); 120 units are one notch.
struct WheelTranslation {
    bool horizontal = false;
    double steps = 0;
};
std::optional<WheelTranslation> decode_wheel(uint16_t pointer_flags);

// Linux button code for a TS_POINTER_EVENT's button bits (BUTTON1..3), 0 when none.
uint32_t button_from_pointer_flags(uint16_t pointer_flags);
// Linux button code for a TS_POINTERX_EVENT's button bits (XBUTTON1/2), 0 when none.
uint32_t button_from_extended_pointer_flags(uint16_t pointer_flags);

}  // namespace deskpod
