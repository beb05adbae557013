// Window policy for a remote desktop without a panel: ordinary windows fill their output (the
// monitor where the pointer was when they opened), dialogs float centred over their parent, a
// click focuses and raises, Alt+Tab cycles.
#pragma once

#include <list>

#include "compositor/wlr.hpp"

namespace deskpod::compositor {

class Server;

// A mapped-or-not window of any shell (xdg-shell or Xwayland).
class View {
  public:
    virtual ~View() = default;

    virtual wlr_surface* surface() const = 0;
    virtual View* parent() const = 0;
    // Floating windows keep their own size (dialogs, fixed-size windows, X11 menus).
    virtual bool floating() const = 0;
    // Override-redirect X11 windows: never managed, never focused by a click.
    virtual bool unmanaged() const { return false; }
    virtual void set_activated(bool activated) = 0;
    // Applies the policy for the box (layout coordinates) of the view's output.
    virtual void arrange(const wlr_box& output_box) = 0;
    // The window's own size (its geometry), for centring.
    virtual wlr_box geometry() const = 0;

    bool mapped() const { return mapped_; }
    wlr_scene_node* node() const { return node_; }
    // The window's position on the desktop (the top-left of its geometry).
    int x() const { return x_; }
    int y() const { return y_; }
    // The output the window lives on (nullptr: not decided yet, or that output is gone).
    wlr_output* home() const { return home_; }
    void set_home(wlr_output* output) { home_ = output; }

  protected:
    // Places the window's geometry at (x, y); `geometry` offsets client-side shadows.
    void place(int x, int y, const wlr_box& geometry);
    void centre(const wlr_box& output_box);

    bool mapped_ = false;
    wlr_scene_node* node_ = nullptr;
    wlr_output* home_ = nullptr;
    int x_ = 0;
    int y_ = 0;
};

class WindowPolicy {
  public:
    explicit WindowPolicy(Server& server) : server_(server) {}

    void map(View* view);
    void unmap(View* view);
    void focus(View* view);
    View* focused() const { return focused_; }
    // Alt+Tab: brings the bottom-most window to the top.
    void cycle();
    void arrange_all();
    void arrange(View* view);
    // The box (layout coordinates) of the output `view` lives on; the primary output's box
    // for nullptr or a view without an output.
    wlr_box output_box(const View* view = nullptr) const;
    // An output went away: its windows move to the primary output (arranged by the caller).
    void forget_output(wlr_output* output);

    // The view and surface under a desktop point, with surface-local coordinates.
    View* view_at(double lx, double ly, wlr_surface** surface, double* sx, double* sy) const;

  private:
    Server& server_;
    std::list<View*> stack_;  // mapped managed views, topmost first
    View* focused_ = nullptr;
};

}  // namespace deskpod::compositor
