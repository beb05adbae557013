// The Windows keyboard layout id -> xkb layout table (rdp-bridge/keyboard_layouts.hpp): lookups,
// fallbacks, and that every entry compiles to a keymap with the installed xkeyboard-config.
#include <gtest/gtest.h>
#include <xkbcommon/xkbcommon.h>

#include <set>
#include <string>

#include "rdp-bridge/rdp/keyboard_layouts.hpp"

using deskpod::find_keyboard_layout;

TEST(KeyboardLayouts, CommonLayouts) {
    struct Case {
        uint32_t klid;
        const char* layout;
        const char* variant;
    };
    for (const Case& c :
         {Case{0x409, "us", ""}, Case{0x407, "de", ""},       Case{0x40C, "fr", ""},
          Case{0x809, "gb", ""}, Case{0x20409, "us", "intl"}, Case{0x10409, "us", "dvorak"},
          Case{0x40A, "es", ""}, Case{0x410, "it", ""},       Case{0x816, "pt", ""},
          Case{0x416, "br", ""}, Case{0x413, "nl", ""},       Case{0x80C, "be", ""},
          Case{0x807, "ch", ""}, Case{0x100C, "ch", "fr"},    Case{0x41D, "se", ""},
          Case{0x414, "no", ""}, Case{0x406, "dk", ""},       Case{0x40B, "fi", ""},
          Case{0x415, "pl", ""}, Case{0x405, "cz", ""},       Case{0x40E, "hu", ""},
          Case{0x419, "ru", ""}, Case{0x411, "jp", ""},       Case{0x412, "kr", ""}}) {
        const auto* l = find_keyboard_layout(c.klid);
        ASSERT_NE(l, nullptr) << std::hex << c.klid;
        EXPECT_EQ(l->layout, c.layout) << std::hex << c.klid;
        EXPECT_EQ(l->variant, c.variant) << std::hex << c.klid;
    }
}

TEST(KeyboardLayouts, FallsBackToTheLanguageThenNothing) {
    const auto* ibm_german = find_keyboard_layout(0x00010407);
    ASSERT_NE(ibm_german, nullptr);
    EXPECT_EQ(ibm_german->layout, "de");
    EXPECT_EQ(find_keyboard_layout(0x0000047F), nullptr);  // invariant locale: no layout
    EXPECT_EQ(find_keyboard_layout(0), nullptr);
}

TEST(KeyboardLayouts, EveryEntryIsUniqueAndCompiles) {
    xkb_context* ctx = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
    ASSERT_NE(ctx, nullptr);
    std::set<uint32_t> seen;
    for (const auto& l : deskpod::keyboard_layouts()) {
        EXPECT_TRUE(seen.insert(l.klid).second) << std::hex << l.klid;
        const std::string layout(l.layout), variant(l.variant);
        xkb_rule_names names{nullptr, nullptr, layout.c_str(), variant.c_str(), nullptr};
        xkb_keymap* keymap = xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
        EXPECT_NE(keymap, nullptr) << l.name << " (" << layout << ":" << variant << ")";
        xkb_keymap_unref(keymap);
    }
    xkb_context_unref(ctx);
}
