#include "rdp-bridge/rdp/keyboard_layouts.hpp"

#include <array>

namespace deskpod {
namespace {

// Windows' own layout ids (KLIDs: low word the language, high word the variant) for the
// layouts Windows ships, with the xkeyboard-config layout that has the same key labels.
// Colemak has no Windows KLID (it installs under a custom id), so it cannot be recognised.
constexpr std::array kLayouts = {
    KeyboardLayout{0x00000409, "us", "", "US English"},
    KeyboardLayout{0x00020409, "us", "intl", "United States-International"},
    KeyboardLayout{0x00010409, "us", "dvorak", "US Dvorak"},
    KeyboardLayout{0x00030409, "us", "dvorak-l", "US Dvorak for left hand"},
    KeyboardLayout{0x00040409, "us", "dvorak-r", "US Dvorak for right hand"},
    KeyboardLayout{0x00000809, "gb", "", "United Kingdom"},
    KeyboardLayout{0x00000452, "gb", "extd", "United Kingdom Extended"},
    KeyboardLayout{0x00001809, "ie", "", "Irish"},
    KeyboardLayout{0x00001009, "ca", "", "Canadian French"},
    KeyboardLayout{0x00000c0c, "ca", "fr-legacy", "Canadian French (Legacy)"},
    KeyboardLayout{0x00011009, "ca", "multix", "Canadian Multilingual Standard"},
    KeyboardLayout{0x00000407, "de", "", "German"},
    KeyboardLayout{0x00000807, "ch", "", "Swiss German"},
    KeyboardLayout{0x0000100c, "ch", "fr", "Swiss French"},
    KeyboardLayout{0x00000c07, "at", "", "Austrian (German)"},
    KeyboardLayout{0x0000040c, "fr", "", "French"},
    KeyboardLayout{0x0000080c, "be", "", "Belgian French"},
    KeyboardLayout{0x00000813, "be", "", "Belgian (Period)"},
    KeyboardLayout{0x00000413, "nl", "", "Dutch"},
    KeyboardLayout{0x0000040a, "es", "", "Spanish"},
    KeyboardLayout{0x0000080a, "latam", "", "Latin American"},
    KeyboardLayout{0x00000410, "it", "", "Italian"},
    KeyboardLayout{0x00010410, "it", "", "Italian (142)"},
    KeyboardLayout{0x00000816, "pt", "", "Portuguese"},
    KeyboardLayout{0x00000416, "br", "", "Portuguese (Brazil ABNT)"},
    KeyboardLayout{0x00010416, "br", "", "Portuguese (Brazil ABNT2)"},
    KeyboardLayout{0x0000041d, "se", "", "Swedish"},
    KeyboardLayout{0x00000414, "no", "", "Norwegian"},
    KeyboardLayout{0x00000406, "dk", "", "Danish"},
    KeyboardLayout{0x0000040b, "fi", "", "Finnish"},
    KeyboardLayout{0x0000040f, "is", "", "Icelandic"},
    KeyboardLayout{0x00000415, "pl", "", "Polish (Programmers)"},
    KeyboardLayout{0x00010415, "pl", "qwertz", "Polish (214)"},
    KeyboardLayout{0x00000405, "cz", "", "Czech"},
    KeyboardLayout{0x00010405, "cz", "qwerty", "Czech (QWERTY)"},
    KeyboardLayout{0x0000041b, "sk", "", "Slovak"},
    KeyboardLayout{0x0000040e, "hu", "", "Hungarian"},
    KeyboardLayout{0x00000424, "si", "", "Slovenian"},
    KeyboardLayout{0x0000041a, "hr", "", "Croatian"},
    KeyboardLayout{0x00000418, "ro", "", "Romanian (Legacy)"},
    KeyboardLayout{0x00010418, "ro", "std", "Romanian (Standard)"},
    KeyboardLayout{0x00000402, "bg", "", "Bulgarian"},
    KeyboardLayout{0x00000408, "gr", "", "Greek"},
    KeyboardLayout{0x0000041f, "tr", "", "Turkish Q"},
    KeyboardLayout{0x0001041f, "tr", "f", "Turkish F"},
    KeyboardLayout{0x00000419, "ru", "", "Russian"},
    KeyboardLayout{0x00000422, "ua", "", "Ukrainian"},
    KeyboardLayout{0x00000423, "by", "", "Belarusian"},
    KeyboardLayout{0x00000425, "ee", "", "Estonian"},
    KeyboardLayout{0x00000426, "lv", "", "Latvian"},
    KeyboardLayout{0x00000427, "lt", "", "Lithuanian"},
    KeyboardLayout{0x0000040d, "il", "", "Hebrew"},
    KeyboardLayout{0x00000401, "ara", "", "Arabic (101)"},
    KeyboardLayout{0x0000041e, "th", "", "Thai Kedmanee"},
    KeyboardLayout{0x00000411, "jp", "", "Japanese"},
    KeyboardLayout{0xe0010411, "jp", "", "Japanese (IME)"},
    KeyboardLayout{0x00000412, "kr", "", "Korean"},
    KeyboardLayout{0xe0010412, "kr", "", "Korean (IME)"},
    // Chinese IMEs type on the US key labels.
    KeyboardLayout{0x00000804, "cn", "", "Chinese (Simplified) - US"},
    KeyboardLayout{0x00000404, "tw", "", "Chinese (Traditional) - US"},
};

}  // namespace

const KeyboardLayout* find_keyboard_layout(uint32_t klid) {
    for (const KeyboardLayout& l : kLayouts) {
        if (l.klid == klid)
            return &l;
    }
    // IME and device variants (high word) of a language without an entry of their own.
    const uint32_t language = klid & 0xFFFF;
    for (const KeyboardLayout& l : kLayouts) {
        if (l.klid == language)
            return &l;
    }
    return nullptr;
}

std::span<const KeyboardLayout> keyboard_layouts() {
    return kLayouts;
}

}  // namespace deskpod
