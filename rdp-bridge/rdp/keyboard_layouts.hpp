// Windows keyboard layout ids (KLID, as RDP clients send them in the client core data's
// keyboardLayout) mapped to xkb layout and variant names (xkeyboard-config), so the desktop
// interprets the client's scancodes the way its user's keyboard is labelled.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace deskpod {

struct KeyboardLayout {
    uint32_t klid;
    std::string_view layout;   // xkb layout, e.g. "de"
    std::string_view variant;  // xkb variant, e.g. "dvorak"; empty for the basic one
    std::string_view name;     // for log lines and docs
};

// The layout for `klid`: an exact entry, else the entry for its language id (low 16 bits,
// e.g. 0x00010407 "German (IBM)" falls back to German), else nullptr (callers log it and use
// US English).
const KeyboardLayout* find_keyboard_layout(uint32_t klid);
// Every entry, for tests and docs/clipboard-keyboard.md.
std::span<const KeyboardLayout> keyboard_layouts();

}  // namespace deskpod
