// xdg-shell toplevels and popups.
#pragma once

#include "compositor/window_policy.hpp"
#include "compositor/wlr.hpp"

namespace deskpod::compositor {

class Server;

class XdgView final : public View {
  public:
    XdgView(Server& server, wlr_xdg_surface* surface);
    ~XdgView() override;

    wlr_surface* surface() const override { return xdg_->surface; }
    View* parent() const override;
    bool floating() const override;
    void set_activated(bool activated) override;
    void arrange(const wlr_box& output_box) override;
    wlr_box geometry() const override;

  private:
    void handle_commit();

    Server& server_;
    wlr_xdg_surface* xdg_;
    wlr_box last_geometry_{};
    wl::Listener on_map_;
    wl::Listener on_unmap_;
    wl::Listener on_destroy_;
    wl::Listener on_commit_;
    wl::Listener on_set_parent_;
    wl::Listener on_request_fullscreen_;
    wl::Listener on_request_maximize_;
};

// Popups become scene children of their parent surface and are kept on the desktop.
void create_xdg_popup(Server& server, wlr_xdg_surface* popup);

}  // namespace deskpod::compositor
