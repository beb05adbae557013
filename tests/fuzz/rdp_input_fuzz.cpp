// libFuzzer target for an RDP client's input as deskpod takes it from FreeRDP: the TS_KEYBOARD,
// TS_UNICODE_KEYBOARD, TS_SYNC, TS_POINTER and TS_POINTERX events FreeRDP decoded (arbitrary
// flags, codes and coordinates, in any order), handed to RdpInput as the peer's input callbacks
// do, plus the client's keyboard layout id. Beyond not crashing: a key or button is released
// only after it was pressed, positions stay on the desktop, wheel steps are bounded, Unicode
// input is a scalar value (surrogate pairs joined), and a client that leaves releases
// everything it held.
#include <linux/input-event-codes.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <variant>

#include "rdp-bridge/rdp/input.hpp"
#include "rdp-bridge/rdp/keyboard_layouts.hpp"
#include "shared/bounded_queue.hpp"
#include "shared/overloaded.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace deskpod;

namespace {

struct Model {
    int32_t width = 0, height = 0;
    std::set<uint32_t> keys, buttons;
    bool released_all = false;

    void check(const DesktopRequest& request) {
        std::visit(Overloaded{
                       [&](const KeyInput& k) {
                           FUZZ_CHECK(k.evdev_code != 0 && k.evdev_code <= KEY_MAX);
                           if (k.pressed) {
                               keys.insert(k.evdev_code);
                           } else {
                               FUZZ_CHECK(keys.erase(k.evdev_code) == 1);
                           }
                       },
                       [&](const UnicodeInput& u) {
                           FUZZ_CHECK(u.codepoint <= 0x10FFFF);
                           FUZZ_CHECK(u.codepoint < 0xD800 || u.codepoint > 0xDFFF);
                       },
                       [&](const PointerMotionInput& m) {
                           FUZZ_CHECK(m.x >= 0 && m.x <= std::max(width - 1, 0));
                           FUZZ_CHECK(m.y >= 0 && m.y <= std::max(height - 1, 0));
                       },
                       [&](const PointerButtonInput& b) {
                           FUZZ_CHECK(b.button >= BTN_LEFT && b.button <= BTN_EXTRA);
                           if (b.pressed) {
                               buttons.insert(b.button);
                           } else {
                               FUZZ_CHECK(buttons.erase(b.button) == 1);
                           }
                       },
                       [&](const PointerAxisInput& a) {
                           FUZZ_CHECK(std::isfinite(a.steps));
                           FUZZ_CHECK(std::fabs(a.steps) <= 256.0 / 120.0);
                       },
                       [&](const ReleaseAllInput&) {
                           FUZZ_CHECK(!keys.empty() || !buttons.empty());
                           keys.clear();
                           buttons.clear();
                           released_all = true;
                       },
                       [](const LockStateInput&) {},
                       [](const auto&) {
                           FUZZ_CHECK(false && "RdpInput sent something other than input");
                       },
                   },
                   request);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::Input in(data, size);
    // The keyboard layout from the client core data.
    const uint32_t klid = in.u32();
    if (const KeyboardLayout* layout = find_keyboard_layout(klid)) {
        FUZZ_CHECK(layout->klid == klid || layout->klid == (klid & 0xFFFF));
        FUZZ_CHECK(!layout->layout.empty());
    }

    BoundedQueue<DesktopRequest> queue(64);
    RdpInput input(queue);
    Model model;
    // The desktop may be any size the compositor allows, or empty before its first frame.
    model.width = in.u16() % 8193;
    model.height = in.u16() % 8193;
    auto drain = [&] {
        DesktopRequest request;
        while (queue.try_pop(request))
            model.check(request);
    };
    while (!in.empty()) {
        switch (in.u8() % 7) {
            case 0:
            case 1: {
                const uint16_t flags = in.u16();
                input.keyboard(flags, in.u16());
                break;
            }
            case 2: {
                const uint16_t flags = in.u16();
                input.unicode(flags, in.u16());
                break;
            }
            case 3:
                input.synchronize(in.u32());
                break;
            case 4: {
                const uint16_t flags = in.u16(), x = in.u16();
                input.mouse(flags, x, in.u16(), model.width, model.height);
                break;
            }
            case 5: {
                const uint16_t flags = in.u16(), x = in.u16();
                input.extended_mouse(flags, x, in.u16(), model.width, model.height);
                break;
            }
            default:
                input.release_all();
                break;
        }
        drain();
    }
    // The client leaves: whatever it still holds is released.
    const bool held = !model.keys.empty() || !model.buttons.empty();
    model.released_all = false;
    input.release_all();
    drain();
    FUZZ_CHECK(model.released_all == held);
    FUZZ_CHECK(model.keys.empty() && model.buttons.empty());
    return 0;
}
