#include "compositor/keyboard.hpp"

#include <linux/input-event-codes.h>

#include <bit>
#include <cstdlib>

#include "compositor/server.hpp"
#include "compositor/window_policy.hpp"

namespace deskpod::compositor {
namespace {

// The keyboard and device structs live inside Keyboard, so wlroots must not free them.
const wlr_keyboard_impl kKeyboardImpl = {
    .destroy = [](wlr_keyboard*) {},
    .led_update = nullptr,
};
const wlr_input_device_impl kDeviceImpl = {
    .destroy = [](wlr_input_device*) {},
};

// Keys beyond 255 cannot be seen by X11 clients (Xwayland), so spare keys come from below.
constexpr xkb_keycode_t kMaxSpareKeycode = 255;
// Spare bindings kept at once before the keymap is regenerated from the layout alone.
constexpr size_t kMaxExtraKeysyms = 16;

xkb_mod_mask_t mod_bit(xkb_keymap* keymap, const char* name) {
    const xkb_mod_index_t index = xkb_keymap_mod_get_index(keymap, name);
    return index == XKB_MOD_INVALID ? 0 : xkb_mod_mask_t(1) << index;
}

bool is_modifier_keysym(xkb_keysym_t sym) {
    return (sym >= XKB_KEY_Shift_L && sym <= XKB_KEY_Hyper_R) ||
           (sym >= XKB_KEY_ISO_Lock && sym <= XKB_KEY_ISO_Level5_Lock) ||
           sym == XKB_KEY_Mode_switch || sym == XKB_KEY_Num_Lock;
}

}  // namespace

Keyboard::Keyboard(Server& server) : server_(server) {
    wlr_keyboard_init(&keyboard_, &kKeyboardImpl);
    wlr_input_device_init(&device_, WLR_INPUT_DEVICE_KEYBOARD, &kDeviceImpl, "deskpod-keyboard", 0,
                          0);
    device_.keyboard = &keyboard_;
    // The remote client repeats held keys itself (RDP and Guacamole send repeated presses);
    // repeating here too would double them and run away when a release is delayed in transit.
    wlr_keyboard_set_repeat_info(&keyboard_, 0, 0);
    context_ = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
    if (!context_)
        throw std::runtime_error("cannot create an xkb context");
    if (!set_layout("us", "") && !set_layout("", "")) {
        throw std::runtime_error("cannot compile any xkb keymap (is xkb-data installed?)");
    }

    on_key_.set_handler([this](void* data) {
        auto* event = static_cast<wlr_event_keyboard_key*>(data);
        wlr_seat_set_keyboard(server_.seat, &device_);
        wlr_seat_keyboard_notify_key(server_.seat, event->time_msec, event->keycode, event->state);
    });
    on_key_.connect(keyboard_.events.key);
    on_modifiers_.set_handler([this](void*) {
        wlr_seat_set_keyboard(server_.seat, &device_);
        wlr_seat_keyboard_notify_modifiers(server_.seat, &keyboard_.modifiers);
    });
    on_modifiers_.connect(keyboard_.events.modifiers);
    wlr_seat_set_keyboard(server_.seat, &device_);
}

Keyboard::~Keyboard() {
    on_key_.disconnect();
    on_modifiers_.disconnect();
    // Emits destroy, so the seat forgets this keyboard; the impls above free nothing.
    wlr_input_device_destroy(&device_);
    xkb_context_unref(context_);
}

void Keyboard::enter(wlr_surface* surface) {
    if (!surface) {
        wlr_seat_keyboard_notify_clear_focus(server_.seat);
        return;
    }
    wlr_seat_set_keyboard(server_.seat, &device_);
    wlr_seat_keyboard_notify_enter(server_.seat, surface, keyboard_.keycodes,
                                   keyboard_.num_keycodes, &keyboard_.modifiers);
}

void Keyboard::notify_key(uint32_t evdev_code, bool pressed) {
    // Keys follow the focused window even if something else took the seat's focus.
    if (View* view = server_.window_policy->focused();
        view && view->mapped() && server_.seat->keyboard_state.focused_surface != view->surface()) {
        enter(view->surface());
    }
    wlr_event_keyboard_key event{};
    event.time_msec = server_.now_msec();
    event.keycode = evdev_code;
    event.update_state = true;
    event.state = pressed ? WL_KEYBOARD_KEY_STATE_PRESSED : WL_KEYBOARD_KEY_STATE_RELEASED;
    wlr_keyboard_notify_key(&keyboard_, &event);
}

bool Keyboard::handle_shortcut(uint32_t evdev_code, bool pressed) {
    if (evdev_code != KEY_TAB)
        return false;
    if (!pressed) {
        const bool swallow = swallow_tab_release_;
        swallow_tab_release_ = false;
        return swallow;
    }
    if (!xkb_state_mod_name_is_active(keyboard_.xkb_state, XKB_MOD_NAME_ALT,
                                      XKB_STATE_MODS_EFFECTIVE)) {
        return false;
    }
    server_.window_policy->cycle();
    swallow_tab_release_ = true;
    return true;
}

void Keyboard::key(uint32_t evdev_code, bool pressed) {
    if (handle_shortcut(evdev_code, pressed))
        return;
    if (pressed) {
        held_.insert(evdev_code);
    } else {
        held_.erase(evdev_code);
    }
    notify_key(evdev_code, pressed);
}

Keyboard::Location Keyboard::find(xkb_keysym_t sym) const {
    xkb_keymap* keymap = keyboard_.keymap;
    const xkb_layout_index_t layout =
        xkb_state_serialize_layout(keyboard_.xkb_state, XKB_STATE_LAYOUT_EFFECTIVE);
    Location best;
    xkb_level_index_t best_level = 0;
    int best_bits = 0;
    const xkb_keycode_t min = xkb_keymap_min_keycode(keymap);
    const xkb_keycode_t max = xkb_keymap_max_keycode(keymap);
    for (xkb_keycode_t kc = min; kc <= max; ++kc) {
        const xkb_layout_index_t layouts = xkb_keymap_num_layouts_for_key(keymap, kc);
        if (layouts == 0)
            continue;
        const xkb_layout_index_t key_layout = layout < layouts ? layout : 0;
        const xkb_level_index_t levels = xkb_keymap_num_levels_for_key(keymap, kc, key_layout);
        for (xkb_level_index_t level = 0; level < levels; ++level) {
            const xkb_keysym_t* syms = nullptr;
            const int n = xkb_keymap_key_get_syms_by_level(keymap, kc, key_layout, level, &syms);
            if (n != 1 || syms[0] != sym)
                continue;
            xkb_mod_mask_t masks[8];
            const size_t count =
                xkb_keymap_key_get_mods_for_level(keymap, kc, key_layout, level, masks, 8);
            if (count == 0 && level != 0)
                continue;  // unreachable level
            xkb_mod_mask_t mask = 0;
            int bits = 0;
            for (size_t i = 0; i < count; ++i) {
                const int b = std::popcount(masks[i]);
                if (i == 0 || b < bits) {
                    mask = masks[i];
                    bits = b;
                }
            }
            if (!best.found || level < best_level || (level == best_level && bits < best_bits)) {
                best = Location{kc, mask, true};
                best_level = level;
                best_bits = bits;
            }
        }
    }
    return best;
}

bool Keyboard::apply_keymap(xkb_keymap* keymap) {
    const wlr_keyboard_modifiers saved = keyboard_.modifiers;
    if (!wlr_keyboard_set_keymap(&keyboard_, keymap))
        return false;
    // A new keymap starts a new xkb state: keep the lock keys as they were.
    wlr_keyboard_notify_modifiers(&keyboard_, keyboard_.modifiers.depressed,
                                  keyboard_.modifiers.latched, saved.locked, saved.group);
    return true;
}

bool Keyboard::bind_spare(xkb_keysym_t sym) {
    if (extra_.size() >= kMaxExtraKeysyms)
        extra_.clear();
    extra_.push_back(sym);

    // Spare keys are named in the layout's keycodes but have no symbols.
    xkb_keymap* base =
        xkb_keymap_new_from_string(context_, base_keymap_text_.c_str(), XKB_KEYMAP_FORMAT_TEXT_V1,
                                   XKB_KEYMAP_COMPILE_NO_FLAGS);
    if (!base)
        return false;
    std::string lines;
    size_t bound = 0;
    for (xkb_keycode_t kc = std::min(kMaxSpareKeycode, xkb_keymap_max_keycode(base));
         kc >= xkb_keymap_min_keycode(base) && bound < extra_.size(); --kc) {
        const char* name = xkb_keymap_key_get_name(base, kc);
        if (!name || xkb_keymap_num_layouts_for_key(base, kc) != 0)
            continue;
        char sym_name[64];
        if (xkb_keysym_get_name(extra_[bound], sym_name, sizeof(sym_name)) <= 0) {
            xkb_keymap_unref(base);
            return false;
        }
        lines += fmt::format("\n\tkey <{}> {{ [ {} ] }};", name, sym_name);
        ++bound;
    }
    xkb_keymap_unref(base);
    if (bound < extra_.size()) {
        log_.warn("no spare key left to bind keysym 0x{:x}", sym);
        return false;
    }

    std::string text = base_keymap_text_;
    const size_t symbols = text.find("xkb_symbols");
    const size_t end = symbols == std::string::npos ? symbols : text.find("\n};", symbols);
    if (end == std::string::npos)
        return false;
    text.insert(end, lines);
    xkb_keymap* keymap = xkb_keymap_new_from_string(
        context_, text.c_str(), XKB_KEYMAP_FORMAT_TEXT_V1, XKB_KEYMAP_COMPILE_NO_FLAGS);
    if (!keymap) {
        log_.warn("cannot compile a keymap binding keysym 0x{:x}", sym);
        return false;
    }
    const bool ok = apply_keymap(keymap);
    xkb_keymap_unref(keymap);
    log_.debug("bound keysym 0x{:x} on a spare key", sym);
    return ok;
}

void Keyboard::keysym(xkb_keysym_t sym, bool pressed) {
    if (!pressed) {
        auto it = typed_.find(sym);
        if (it == typed_.end())
            return;
        const uint32_t code = it->second;
        typed_.erase(it);
        notify_key(code, false);
        return;
    }
    if (auto it = typed_.find(sym); it != typed_.end()) {
        notify_key(it->second, true);  // a repeat from the client
        return;
    }
    Location loc = find(sym);
    if (!loc.found) {
        if (!bind_spare(sym))
            return;
        loc = find(sym);
        if (!loc.found)
            return;
    }
    const uint32_t code = loc.keycode - 8;
    typed_[sym] = code;

    xkb_keymap* keymap = keyboard_.keymap;
    const xkb_mod_mask_t level_mods = mod_bit(keymap, XKB_MOD_NAME_SHIFT) |
                                      mod_bit(keymap, XKB_MOD_NAME_CAPS) | mod_bit(keymap, "Mod5") |
                                      mod_bit(keymap, "LevelThree");
    const wlr_keyboard_modifiers saved = keyboard_.modifiers;
    const xkb_mod_mask_t active = (saved.depressed | saved.latched | saved.locked) & level_mods;
    // Modifier keys change the state themselves; other keys get exactly the shift level they
    // need for the press (Ctrl and Alt stay, so Ctrl+C typed as keysyms still works).
    if (is_modifier_keysym(sym) || active == (loc.mods & level_mods)) {
        notify_key(code, true);
        return;
    }
    wlr_keyboard_notify_modifiers(&keyboard_, (saved.depressed & ~level_mods) | loc.mods, 0,
                                  saved.locked & ~level_mods, saved.group);
    notify_key(code, true);
    wlr_keyboard_notify_modifiers(&keyboard_, saved.depressed, saved.latched, saved.locked,
                                  saved.group);
}

void Keyboard::set_locks(bool caps, bool num, bool scroll) {
    xkb_keymap* keymap = keyboard_.keymap;
    xkb_mod_mask_t locked = keyboard_.modifiers.locked;
    auto apply = [&](const char* name, bool on) {
        const xkb_mod_mask_t bit = mod_bit(keymap, name);
        locked = on ? (locked | bit) : (locked & ~bit);
    };
    apply(XKB_MOD_NAME_CAPS, caps);
    apply(XKB_MOD_NAME_NUM, num);
    apply("ScrollLock", scroll);  // absent from most keymaps: then it is only an LED
    if (locked == keyboard_.modifiers.locked)
        return;
    wlr_keyboard_notify_modifiers(&keyboard_, keyboard_.modifiers.depressed,
                                  keyboard_.modifiers.latched, locked, keyboard_.modifiers.group);
}

bool Keyboard::set_layout(const std::string& layout, const std::string& variant) {
    xkb_rule_names names{};
    names.layout = layout.empty() ? nullptr : layout.c_str();
    names.variant = variant.empty() ? nullptr : variant.c_str();
    xkb_keymap* keymap = xkb_keymap_new_from_names(context_, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
    if (!keymap) {
        log_.warn("unknown keyboard layout '{}' variant '{}': keeping the current one", layout,
                  variant);
        return false;
    }
    char* text = xkb_keymap_get_as_string(keymap, XKB_KEYMAP_FORMAT_TEXT_V1);
    base_keymap_text_ = text ? text : "";
    std::free(text);
    extra_.clear();
    const bool ok = apply_keymap(keymap);
    xkb_keymap_unref(keymap);
    if (ok)
        log_.info("keyboard layout '{}' variant '{}'", layout, variant);
    return ok;
}

void Keyboard::release_all() {
    for (uint32_t code : held_)
        notify_key(code, false);
    held_.clear();
    for (const auto& [sym, code] : typed_)
        notify_key(code, false);
    typed_.clear();
    swallow_tab_release_ = false;
}

}  // namespace deskpod::compositor
