// The seat's absolute pointer, driven by the network side in desktop pixels.
#pragma once

#include <cstdint>
#include <set>

#include "compositor/wlr.hpp"

namespace deskpod::compositor {

class Server;

class Pointer {
  public:
    explicit Pointer(Server& server) : server_(server) {}

    void motion(double x, double y);
    void button(uint32_t button, bool pressed);
    void axis(bool horizontal, double steps);
    void release_all();
    // Re-evaluates which surface is under the pointer (windows moved, mapped or unmapped).
    void refocus();

  private:
    void deliver_motion();

    Server& server_;
    std::set<uint32_t> held_;
    // While a button is held the surface under the press keeps the pointer (implicit grab);
    // this is where that surface's origin is on the desktop.
    double grab_origin_x_ = 0;
    double grab_origin_y_ = 0;
};

}  // namespace deskpod::compositor
