// One RDP client's input, translated and pushed to the compositor. Remembers which keys and
// buttons the client holds so they can all be released when it goes away.
#pragma once

#include <cstdint>
#include <set>

#include "rdp-bridge/rdp/scancodes.hpp"
#include "shared/channels.hpp"

namespace deskpod {

class RdpInput {
  public:
    explicit RdpInput(BoundedQueue<DesktopRequest>& queue) : queue_(queue) {}

    void keyboard(uint16_t flags, uint16_t code);
    void unicode(uint16_t flags, uint16_t code);
    void synchronize(uint32_t flags);
    // Positions are clamped to the desktop (width x height).
    void mouse(uint16_t flags, uint16_t x, uint16_t y, int32_t width, int32_t height);
    void extended_mouse(uint16_t flags, uint16_t x, uint16_t y, int32_t width, int32_t height);
    // The client left: release everything it held.
    void release_all();

  private:
    void motion(uint16_t x, uint16_t y, int32_t width, int32_t height);
    void button(uint32_t code, bool pressed);
    void push(DesktopRequest&& event);

    BoundedQueue<DesktopRequest>& queue_;
    ScancodeDecoder decoder_;
    std::set<uint32_t> keys_;
    std::set<uint32_t> buttons_;
    uint16_t high_surrogate_ = 0;
};

}  // namespace deskpod
