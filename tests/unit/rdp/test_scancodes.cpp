// RDP scancode and pointer-flag translation (rdp-bridge/scancodes.hpp).
#include <gtest/gtest.h>
#include <linux/input-event-codes.h>

#include "rdp-bridge/rdp/freerdp.hpp"
#include "rdp-bridge/rdp/scancodes.hpp"

namespace deskpod {
namespace {

uint32_t press(ScancodeDecoder& decoder, uint16_t flags, uint16_t code) {
    const auto key = decoder.decode(flags | KBD_FLAGS_DOWN, code);
    if (!key)
        return 0;
    EXPECT_TRUE(key->pressed);
    return key->evdev_code;
}

TEST(Scancodes, Letters) {
    ScancodeDecoder decoder;
    EXPECT_EQ(press(decoder, 0, 0x1E), uint32_t(KEY_A));
    EXPECT_EQ(press(decoder, 0, 0x10), uint32_t(KEY_Q));
    EXPECT_EQ(press(decoder, 0, 0x2C), uint32_t(KEY_Z));
    EXPECT_EQ(press(decoder, 0, 0x02), uint32_t(KEY_1));
}

TEST(Scancodes, ReleaseFlag) {
    ScancodeDecoder decoder;
    const auto key = decoder.decode(KBD_FLAGS_RELEASE, 0x1E);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->evdev_code, uint32_t(KEY_A));
    EXPECT_FALSE(key->pressed);
}

TEST(Scancodes, EnterAndKeypadEnter) {
    ScancodeDecoder decoder;
    EXPECT_EQ(press(decoder, 0, 0x1C), uint32_t(KEY_ENTER));
    EXPECT_EQ(press(decoder, KBD_FLAGS_EXTENDED, 0x1C), uint32_t(KEY_KPENTER));
}

TEST(Scancodes, ArrowsAreExtended) {
    ScancodeDecoder decoder;
    EXPECT_EQ(press(decoder, KBD_FLAGS_EXTENDED, 0x48), uint32_t(KEY_UP));
    EXPECT_EQ(press(decoder, KBD_FLAGS_EXTENDED, 0x50), uint32_t(KEY_DOWN));
    EXPECT_EQ(press(decoder, KBD_FLAGS_EXTENDED, 0x4B), uint32_t(KEY_LEFT));
    EXPECT_EQ(press(decoder, KBD_FLAGS_EXTENDED, 0x4D), uint32_t(KEY_RIGHT));
    // The same scancodes without the flag are the keypad digits.
    EXPECT_EQ(press(decoder, 0, 0x48), uint32_t(KEY_KP8));
}

TEST(Scancodes, RightModifiers) {
    ScancodeDecoder decoder;
    EXPECT_EQ(press(decoder, 0, 0x1D), uint32_t(KEY_LEFTCTRL));
    EXPECT_EQ(press(decoder, KBD_FLAGS_EXTENDED, 0x1D), uint32_t(KEY_RIGHTCTRL));
    EXPECT_EQ(press(decoder, 0, 0x38), uint32_t(KEY_LEFTALT));
    EXPECT_EQ(press(decoder, KBD_FLAGS_EXTENDED, 0x38), uint32_t(KEY_RIGHTALT));
}

TEST(Scancodes, WindowsKeys) {
    ScancodeDecoder decoder;
    EXPECT_EQ(press(decoder, KBD_FLAGS_EXTENDED, 0x5B), uint32_t(KEY_LEFTMETA));
    EXPECT_EQ(press(decoder, KBD_FLAGS_EXTENDED, 0x5C), uint32_t(KEY_RIGHTMETA));
}

TEST(Scancodes, PauseIsASequence) {
    ScancodeDecoder decoder;
    EXPECT_FALSE(decoder.decode(KBD_FLAGS_EXTENDED1 | KBD_FLAGS_DOWN, 0x1D));
    auto down = decoder.decode(KBD_FLAGS_DOWN, 0x45);
    ASSERT_TRUE(down);
    EXPECT_EQ(down->evdev_code, uint32_t(KEY_PAUSE));
    EXPECT_TRUE(down->pressed);
    EXPECT_FALSE(decoder.decode(KBD_FLAGS_EXTENDED1 | KBD_FLAGS_RELEASE, 0x1D));
    auto up = decoder.decode(KBD_FLAGS_RELEASE, 0x45);
    ASSERT_TRUE(up);
    EXPECT_EQ(up->evdev_code, uint32_t(KEY_PAUSE));
    EXPECT_FALSE(up->pressed);
    // Without the prefix, 0x45 is NumLock.
    EXPECT_EQ(press(decoder, 0, 0x45), uint32_t(KEY_NUMLOCK));
}

TEST(Scancodes, UnknownScancodeIsDropped) {
    ScancodeDecoder decoder;
    EXPECT_FALSE(decoder.decode(KBD_FLAGS_EXTENDED | KBD_FLAGS_DOWN, 0x7F));
}

TEST(Wheel, VerticalUpAndDown) {
    auto up = decode_wheel(PTR_FLAGS_WHEEL | 0x0078);
    ASSERT_TRUE(up);
    EXPECT_FALSE(up->horizontal);
    EXPECT_DOUBLE_EQ(up->steps, -1.0);
    // mstsc and xfreerdp send -120 as the 9-bit two's complement 0x188.
    auto down = decode_wheel(PTR_FLAGS_WHEEL | PTR_FLAGS_WHEEL_NEGATIVE | 0x0088);
    ASSERT_TRUE(down);
    EXPECT_DOUBLE_EQ(down->steps, 1.0);
    auto half = decode_wheel(PTR_FLAGS_WHEEL | PTR_FLAGS_WHEEL_NEGATIVE | (0x200 - 60));
    ASSERT_TRUE(half);
    EXPECT_DOUBLE_EQ(half->steps, 0.5);
}

TEST(Wheel, Horizontal) {
    auto right = decode_wheel(PTR_FLAGS_HWHEEL | 0x0078);
    ASSERT_TRUE(right);
    EXPECT_TRUE(right->horizontal);
    EXPECT_DOUBLE_EQ(right->steps, 1.0);
    auto left = decode_wheel(PTR_FLAGS_HWHEEL | PTR_FLAGS_WHEEL_NEGATIVE | 0x0088);
    ASSERT_TRUE(left);
    EXPECT_DOUBLE_EQ(left->steps, -1.0);
}

TEST(Wheel, NoWheelFlags) {
    EXPECT_FALSE(decode_wheel(PTR_FLAGS_MOVE));
    EXPECT_FALSE(decode_wheel(PTR_FLAGS_BUTTON1 | PTR_FLAGS_DOWN));
}

TEST(Buttons, Mapping) {
    EXPECT_EQ(button_from_pointer_flags(PTR_FLAGS_BUTTON1 | PTR_FLAGS_DOWN), uint32_t(BTN_LEFT));
    EXPECT_EQ(button_from_pointer_flags(PTR_FLAGS_BUTTON2), uint32_t(BTN_RIGHT));
    EXPECT_EQ(button_from_pointer_flags(PTR_FLAGS_BUTTON3), uint32_t(BTN_MIDDLE));
    EXPECT_EQ(button_from_pointer_flags(PTR_FLAGS_MOVE), 0u);
    EXPECT_EQ(button_from_extended_pointer_flags(PTR_XFLAGS_BUTTON1), uint32_t(BTN_SIDE));
    EXPECT_EQ(button_from_extended_pointer_flags(PTR_XFLAGS_BUTTON2 | PTR_XFLAGS_DOWN),
              uint32_t(BTN_EXTRA));
}

}  // namespace
}  // namespace deskpod
