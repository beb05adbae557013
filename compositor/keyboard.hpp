// The seat's one keyboard, driven by the network side: physical keys by evdev code, and
// characters or keysyms typed through whatever key produces them (binding a spare key in a
// generated keymap when the layout has none, as wtype and wayvnc do).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compositor/wlr.hpp"
#include "shared/log.hpp"

namespace deskpod::compositor {

class Server;

class Keyboard {
  public:
    explicit Keyboard(Server& server);
    ~Keyboard();
    Keyboard(const Keyboard&) = delete;
    Keyboard& operator=(const Keyboard&) = delete;

    void key(uint32_t evdev_code, bool pressed);
    void keysym(xkb_keysym_t sym, bool pressed);
    void set_locks(bool caps, bool num, bool scroll);
    // Throws nothing: an unknown layout is logged and the current keymap stays.
    bool set_layout(const std::string& layout, const std::string& variant);
    void release_all();
    // Gives keyboard focus to `surface` with the currently held keys.
    void enter(wlr_surface* surface);

    wlr_input_device* device() { return &device_; }

  private:
    struct Location {
        uint32_t keycode = 0;  // xkb keycode
        xkb_mod_mask_t mods = 0;
        bool found = false;
    };

    Location find(xkb_keysym_t sym) const;
    bool bind_spare(xkb_keysym_t sym);
    bool apply_keymap(xkb_keymap* keymap);
    void notify_key(uint32_t evdev_code, bool pressed);
    bool handle_shortcut(uint32_t evdev_code, bool pressed);

    Server& server_;
    const log::Logger log_{"keyboard"};
    wlr_input_device device_{};
    wlr_keyboard keyboard_{};
    xkb_context* context_ = nullptr;
    std::string base_keymap_text_;            // the layout's keymap, before any spare bindings
    std::vector<xkb_keysym_t> extra_;         // keysyms bound on spare keys in the current keymap
    std::set<uint32_t> held_;                 // evdev codes pressed through key()
    std::map<xkb_keysym_t, uint32_t> typed_;  // keysyms pressed through keysym(), evdev code
    bool swallow_tab_release_ = false;
    wl::Listener on_key_;
    wl::Listener on_modifiers_;
};

}  // namespace deskpod::compositor
