// The compositor's state: every wlroots object and the subsystems built on them. One per
// process; it lives on the compositor thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compositor/backend.hpp"
#include "compositor/wlr.hpp"
#include "shared/channels.hpp"
#include "shared/config.hpp"
#include "shared/log.hpp"
#include "shared/monitors.hpp"

namespace deskpod::compositor {

class Output;
class WindowPolicy;
class Keyboard;
class Pointer;
class CursorImages;
class Clipboard;
class Xwayland;
class SessionCommand;

class Server {
  public:
    Server(const Config& config, Channels& channels);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void start();
    int run();
    // Ends run() with `code` once the current dispatch returns.
    void terminate(int code);

    // Pushes to the network side. Returns false (after logging) when the queue is full.
    bool publish(DesktopEvent&& event);
    uint32_t now_msec() const;

    // Called once Xwayland is ready (or immediately when it is off).
    void on_desktop_ready();

    // Makes the desktop one output per monitor of `monitors`, in that arrangement, and
    // announces the result (also when nothing changed or the layout was refused: the
    // network side may be waiting for an answer).
    void apply_layout(const MonitorLayout& monitors);
    // An output changed mode by itself (X11 window resized): re-announce the layout.
    void outputs_changed();
    // An output is being destroyed (by apply_layout, the backend or shutdown).
    void remove_output(Output* output);
    // The output at a layout point, nullptr when none.
    Output* output_at(double lx, double ly) const;
    // The layout's primary monitor (nullptr only before the first output exists).
    Output* primary_output() const;
    // A point in desktop pixels (what viewers send) in layout coordinates.
    void desktop_to_layout(double x, double y, double* lx, double* ly) const;
    int32_t desktop_width() const { return desktop_width_; }
    int32_t desktop_height() const { return desktop_height_; }
    uint64_t next_frame_seq() { return ++frame_seq_; }

    const Config& config;
    Channels& channels;
    const log::Logger log{"compositor"};

    wl_display* display = nullptr;
    wl_event_loop* loop = nullptr;
    std::unique_ptr<Backend> backend;
    wlr_renderer* renderer = nullptr;
    wlr_allocator* allocator = nullptr;
    wlr_compositor* compositor = nullptr;
    wlr_output_layout* layout = nullptr;
    wlr_scene* scene = nullptr;
    wlr_scene_rect* background = nullptr;
    wlr_scene_tree* windows_layer = nullptr;  // managed windows, stacked by focus
    wlr_scene_tree* overlay_layer = nullptr;  // X11 override-redirect windows (menus, tooltips)
    wlr_xdg_shell* xdg_shell = nullptr;
    wlr_seat* seat = nullptr;
    wlr_cursor* cursor = nullptr;
    wlr_xcursor_manager* xcursors = nullptr;

    // One per monitor, in the order of the applied layout.
    std::vector<std::unique_ptr<Output>> outputs;
    std::unique_ptr<WindowPolicy> window_policy;
    std::unique_ptr<Keyboard> keyboard;
    std::unique_ptr<Pointer> pointer;
    std::unique_ptr<CursorImages> cursor_images;
    std::unique_ptr<Clipboard> clipboard;
    std::unique_ptr<Xwayland> xwayland;
    std::unique_ptr<SessionCommand> session;

    std::string socket_name;
    std::string runtime_dir;

  private:
    void create_protocols();
    void handle_input_doorbell();
    void handle_buffer_returned();
    // Calls Handler on the compositor thread whenever `fd` (an eventfd doorbell) is readable.
    template <void (Server::*Handler)()>
    wl::EventSource on_readable(int fd);
    void announce_layout(bool force);
    void handle_new_output(wlr_output* wlr_output);
    void handle_new_xdg_surface(wlr_xdg_surface* surface);

    int32_t desktop_width_ = 0;
    int32_t desktop_height_ = 0;
    MonitorLayout announced_;
    uint64_t frame_seq_ = 0;
    bool applying_layout_ = false;
    bool shutting_down_ = false;
    // Size for the output the backend is about to announce through new_output.
    int32_t new_output_width_ = 0;
    int32_t new_output_height_ = 0;
    wl::EventSource returned_source_;
    int exit_code_ = 0;
    bool started_ = false;
    bool running_ = false;
    bool session_started_ = false;
    wl::EventSource xwayland_wait_;
    wl::EventSource input_source_;
    wl::EventSource sigterm_source_;
    wl::EventSource sigint_source_;
    wl::Listener on_new_output_;
    wl::Listener on_new_xdg_surface_;
    wl::Listener on_new_decoration_;
};

}  // namespace deskpod::compositor
