// X11 apps through Xwayland, under the same window policy as Wayland ones.
#pragma once

#include <string>

#include "compositor/window_policy.hpp"
#include "compositor/wlr.hpp"
#include "shared/log.hpp"

namespace deskpod::compositor {

class Server;

class Xwayland {
  public:
    // Starts Xwayland now (not lazily), so the session finds DISPLAY working.
    explicit Xwayland(Server& server);
    ~Xwayland();
    Xwayland(const Xwayland&) = delete;
    Xwayland& operator=(const Xwayland&) = delete;

    bool ready() const { return ready_; }
    std::string display_name() const;

    // Xwayland is enabled explicitly, or by default when the binary is installed.
    static bool wanted(const Config& config);

  private:
    Server& server_;
    const log::Logger log_{"xwayland"};
    wlr_xwayland* xwayland_ = nullptr;
    bool ready_ = false;
    wl::Listener on_ready_;
    wl::Listener on_new_surface_;
};

class XwaylandView final : public View {
  public:
    XwaylandView(Server& server, wlr_xwayland_surface* surface);
    ~XwaylandView() override;

    wlr_surface* surface() const override { return xsurface_->surface; }
    View* parent() const override;
    bool floating() const override;
    bool unmanaged() const override { return xsurface_->override_redirect; }
    void set_activated(bool activated) override;
    void arrange(const wlr_box& output_box) override;
    wlr_box geometry() const override;

  private:
    void handle_map();
    void handle_unmap();
    void handle_request_configure(wlr_xwayland_surface_configure_event* event);

    Server& server_;
    wlr_xwayland_surface* xsurface_;
    wl::Listener on_map_;
    wl::Listener on_unmap_;
    wl::Listener on_destroy_;
    wl::Listener on_request_configure_;
    wl::Listener on_set_geometry_;
    wl::Listener on_node_destroy_;
};

}  // namespace deskpod::compositor
