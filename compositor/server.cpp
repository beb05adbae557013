#include "compositor/server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>

#include "compositor/clipboard.hpp"
#include "compositor/compositor.hpp"
#include "compositor/cursor.hpp"
#include "compositor/keyboard.hpp"
#include "compositor/output.hpp"
#include "compositor/pointer.hpp"
#include "compositor/session_command.hpp"
#include "compositor/view.hpp"
#include "compositor/window_policy.hpp"
#include "compositor/wlr_log.hpp"
#include "compositor/xwayland.hpp"
#include "shared/metrics.hpp"
#include "shared/thread_affinity.hpp"

namespace deskpod::compositor {
namespace {

// Matches a desktop without wallpaper; also keeps the scene from scanning out a client buffer
// directly (a lone full-screen window), which would bypass the damage capture relies on.
constexpr float kBackgroundColor[4] = {0.16f, 0.18f, 0.22f, 1.0f};
constexpr int kCursorSize = 24;
constexpr int kXwaylandWaitMs = 10000;

// wl_display_add_socket fails unless XDG_RUNTIME_DIR exists and is private. Containers often
// have none, so deskpod makes its own.
std::string ensure_runtime_dir(const log::Logger& log) {
    if (const char* dir = std::getenv("XDG_RUNTIME_DIR"); dir && *dir)
        return dir;
    const std::string dir = "/tmp/deskpod-runtime-" + std::to_string(getuid());
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        throw std::runtime_error("cannot create " + dir + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
        throw std::runtime_error(dir +
                                 " is not a directory owned by this user; set "
                                 "XDG_RUNTIME_DIR to a private directory");
    }
    if ((st.st_mode & 0777) != 0700 && chmod(dir.c_str(), 0700) != 0) {
        throw std::runtime_error("cannot make " + dir + " private: " + std::strerror(errno));
    }
    setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
    log.info("XDG_RUNTIME_DIR was unset: using {}", dir);
    return dir;
}

// Server-side decorations, drawing nothing: windows fill the desktop and need no frame.
struct DecorationPolicy {
    explicit DecorationPolicy(wlr_xdg_toplevel_decoration_v1* decoration) {
        auto apply = [decoration](void*) {
            wlr_xdg_toplevel_decoration_v1_set_mode(
                decoration, WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
        };
        on_request_mode.set_handler(apply);
        on_request_mode.connect(decoration->events.request_mode);
        on_destroy.set_handler([this](void*) { delete this; });
        on_destroy.connect(decoration->events.destroy);
        apply(nullptr);
    }
    wl::Listener on_request_mode;
    wl::Listener on_destroy;
};

}  // namespace

Server::Server(const Config& cfg, Channels& ch) : config(cfg), channels(ch) {}

Server::~Server() {
    if (!display)
        return;
    shutting_down_ = true;
    session.reset();
    xwayland_wait_.reset();
    input_source_.reset();
    returned_source_.reset();
    sigterm_source_.reset();
    sigint_source_.reset();
    // Xwayland first: wlroots restarts an Xwayland whose client connection is destroyed.
    xwayland.reset();
    wl_display_destroy_clients(display);
    clipboard.reset();
    cursor_images.reset();
    pointer.reset();
    keyboard.reset();
    on_new_xdg_surface_.disconnect();
    on_new_decoration_.disconnect();
    on_new_output_.disconnect();
    backend.reset();  // destroys the outputs, which empties `outputs`
    outputs.clear();
    window_policy.reset();
    // The layout goes before the display and the scene: the scene's layout helper and the
    // xdg-output manager clean up on the layout's destroy signal.
    if (cursor)
        wlr_cursor_destroy(cursor);
    if (layout)
        wlr_output_layout_destroy(layout);
    wl_display_destroy(display);
    if (xcursors)
        wlr_xcursor_manager_destroy(xcursors);
    if (scene)
        wlr_scene_node_destroy(&scene->node);
    if (allocator)
        wlr_allocator_destroy(allocator);
    if (renderer)
        wlr_renderer_destroy(renderer);
}

uint32_t Server::now_msec() const {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return uint32_t(int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1000000);
}

bool Server::publish(DesktopEvent&& event) {
    compositor_thread.check("Server::publish");
    if (channels.to_bridge.try_push(std::move(event)))
        return true;
    log.debug("network queue full: event dropped");
    return false;
}

void Server::terminate(int code) {
    exit_code_ = code;
    wl_display_terminate(display);
}

void Server::start() {
    if (started_)
        throw std::logic_error("Compositor::start called twice");
    route_wlroots_log();
    runtime_dir = ensure_runtime_dir(log);

    display = wl_display_create();
    if (!display)
        throw std::runtime_error("cannot create the Wayland display");
    loop = wl_display_get_event_loop(display);

    backend = config.backend == BackendKind::x11 ? create_x11_backend(display)
                                                 : create_headless_backend(display);
    // There is no GPU: pixman always, without probing for DRM devices first.
    renderer = wlr_pixman_renderer_create();
    if (!renderer)
        throw std::runtime_error("cannot create the pixman renderer");
    if (!wlr_renderer_init_wl_display(renderer, display)) {
        throw std::runtime_error("cannot initialise wl_shm");
    }
    allocator = wlr_allocator_autocreate(backend->handle(), renderer);
    if (!allocator)
        throw std::runtime_error("cannot create a buffer allocator");

    compositor = wlr_compositor_create(display, renderer);
    layout = wlr_output_layout_create();
    wlr_xdg_output_manager_v1_create(display, layout);
    scene = wlr_scene_create();
    wlr_scene_attach_output_layout(scene, layout);
    background = wlr_scene_rect_create(&scene->node, config.width, config.height, kBackgroundColor);
    windows_layer = wlr_scene_tree_create(&scene->node);
    overlay_layer = wlr_scene_tree_create(&scene->node);
    wlr_scene_set_presentation(scene, wlr_presentation_create(display, backend->handle()));

    seat = wlr_seat_create(display, "seat0");
    wlr_seat_set_capabilities(seat, WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
    create_protocols();

    cursor = wlr_cursor_create();
    wlr_cursor_attach_output_layout(cursor, layout);
    xcursors = wlr_xcursor_manager_create(std::getenv("XCURSOR_THEME"), kCursorSize);
    wlr_xcursor_manager_load(xcursors, 1);

    window_policy = std::make_unique<WindowPolicy>(*this);
    cursor_images = std::make_unique<CursorImages>(*this);
    keyboard = std::make_unique<Keyboard>(*this);
    pointer = std::make_unique<Pointer>(*this);
    clipboard = std::make_unique<Clipboard>(*this);

    socket_name = config.wayland_socket;
    if (wl_display_add_socket(display, socket_name.c_str()) != 0) {
        throw std::runtime_error("cannot create the Wayland socket " + runtime_dir + "/" +
                                 socket_name +
                                 ": is another compositor using that name? (--wayland-socket)");
    }

    on_new_output_.set_handler(
        [this](void* data) { handle_new_output(static_cast<wlr_output*>(data)); });
    on_new_output_.connect(backend->handle()->events.new_output);
    if (!wlr_backend_start(backend->handle())) {
        throw std::runtime_error(std::string("cannot start the ") + backend->name() + " backend");
    }
    apply_layout(single_monitor(config.width, config.height));
    if (outputs.empty())
        throw std::runtime_error("the backend made no output");
    returned_source_ =
        on_readable<&Server::handle_buffer_returned>(channels.frames.returned().fd());
    input_source_ =
        on_readable<&Server::handle_input_doorbell>(channels.to_compositor.doorbell().fd());
    auto on_signal = [](int signal, void* data) {
        auto* self = static_cast<Server*>(data);
        self->log.info("{}: shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        self->terminate(0);
        return 0;
    };
    sigterm_source_ = wl::EventSource(wl_event_loop_add_signal(loop, SIGTERM, on_signal, this));
    sigint_source_ = wl::EventSource(wl_event_loop_add_signal(loop, SIGINT, on_signal, this));

    if (Xwayland::wanted(config))
        xwayland = std::make_unique<Xwayland>(*this);
    session = std::make_unique<SessionCommand>(*this);
    cursor_images->show_default();
    started_ = true;
    log.info("{} backend, {}x{}, WAYLAND_DISPLAY={}", backend->name(), desktop_width_,
             desktop_height_, socket_name);
}

template <void (Server::*Handler)()>
wl::EventSource Server::on_readable(int fd) {
    return wl::EventSource(wl_event_loop_add_fd(
        loop, fd, WL_EVENT_READABLE,
        [](int, uint32_t, void* data) {
            (static_cast<Server*>(data)->*Handler)();
            return 0;
        },
        this));
}

void Server::create_protocols() {
    wlr_viewporter_create(display);
    wlr_screencopy_manager_v1_create(display);
    xdg_shell = wlr_xdg_shell_create(display);
    on_new_xdg_surface_.set_handler(
        [this](void* data) { handle_new_xdg_surface(static_cast<wlr_xdg_surface*>(data)); });
    on_new_xdg_surface_.connect(xdg_shell->events.new_surface);
    wlr_xdg_decoration_manager_v1* decorations = wlr_xdg_decoration_manager_v1_create(display);
    on_new_decoration_.set_handler([](void* data) {
        new DecorationPolicy(static_cast<wlr_xdg_toplevel_decoration_v1*>(data));
    });
    on_new_decoration_.connect(decorations->events.new_toplevel_decoration);
}

void Server::handle_new_output(wlr_output* wlr_output) {
    if (new_output_width_ == 0) {
        // Only apply_layout asks backends for outputs.
        log.warn("ignoring an output deskpod did not ask for: {}", wlr_output->name);
        return;
    }
    outputs.push_back(
        std::make_unique<Output>(*this, wlr_output, new_output_width_, new_output_height_));
}

Output* Server::primary_output() const {
    for (const auto& o : outputs) {
        if (o->monitor().primary)
            return o.get();
    }
    return outputs.empty() ? nullptr : outputs.front().get();
}

Output* Server::output_at(double lx, double ly) const {
    wlr_output* at = wlr_output_layout_output_at(layout, lx, ly);
    for (const auto& o : outputs) {
        if (o->handle() == at)
            return o.get();
    }
    return nullptr;
}

void Server::desktop_to_layout(double x, double y, double* lx, double* ly) const {
    // The monitor holding the point, else the nearest one (points between monitors of
    // different heights belong to no monitor).
    const Output* best = nullptr;
    double best_distance = 0;
    for (const auto& o : outputs) {
        const Monitor& m = o->monitor();
        const double dx = x < m.x ? m.x - x : (x >= m.x + m.width ? x - (m.x + m.width - 1) : 0);
        const double dy = y < m.y ? m.y - y : (y >= m.y + m.height ? y - (m.y + m.height - 1) : 0);
        const double distance = dx * dx + dy * dy;
        if (!best || distance < best_distance) {
            best = o.get();
            best_distance = distance;
        }
    }
    if (!best) {
        *lx = x;
        *ly = y;
        return;
    }
    const Monitor& m = best->monitor();
    const wlr_box box = best->box();
    const double px = std::clamp(x, double(m.x), double(m.x + m.width - 1));
    const double py = std::clamp(y, double(m.y), double(m.y + m.height - 1));
    *lx = box.x + (px - m.x) / m.scale;
    *ly = box.y + (py - m.y) / m.scale;
}

void Server::apply_layout(const MonitorLayout& requested) {
    std::string why;
    const auto layout_ok = normalize_layout(requested, &why);
    if (!layout_ok) {
        log.warn("ignoring the monitor layout {}: {}", describe_layout(requested), why);
        announce_layout(true);
        return;
    }
    const MonitorLayout& wanted = layout_ok->monitors;
    if (layout_ok->adjusted) {
        log.info("monitor layout {} adjusted to {}", describe_layout(requested),
                 describe_layout(wanted));
    }
    applying_layout_ = true;
    while (outputs.size() < wanted.size()) {
        const size_t before = outputs.size();
        new_output_width_ = wanted[before].width;
        new_output_height_ = wanted[before].height;
        try {
            backend->create_output(new_output_width_, new_output_height_);
        } catch (const std::exception& e) {
            log.warn("cannot add an output for monitor {}: {}", before + 1, e.what());
        }
        new_output_width_ = new_output_height_ = 0;
        if (outputs.size() == before)
            break;
    }
    while (outputs.size() > wanted.size() && outputs.size() > 1) {
        // The destroy signal runs remove_output, which takes it out of `outputs`.
        wlr_output_destroy(outputs.back()->handle());
    }
    // What the outputs take: the mode asked for, or what an output kept when its backend
    // refused. (The X11 backend applies an accepted mode only when the X server confirms it.)
    MonitorLayout applied;
    for (size_t i = 0; i < outputs.size() && i < wanted.size(); ++i) {
        Output& o = *outputs[i];
        Monitor m = wanted[i];
        if (!o.configure(wanted[i].width, wanted[i].height, wanted[i].scale)) {
            m.width = o.width();
            m.height = o.height();
            m.scale = o.scale();
        }
        applied.push_back(m);
    }
    const std::vector<LayoutPoint> positions = layout_positions(applied);
    for (size_t i = 0; i < applied.size(); ++i)
        outputs[i]->place(applied[i], positions[i]);
    applying_layout_ = false;
    announce_layout(true);
}

void Server::outputs_changed() {
    if (applying_layout_ || shutting_down_)
        return;
    announce_layout(false);
}

void Server::remove_output(Output* output) {
    for (auto it = outputs.begin(); it != outputs.end(); ++it) {
        if (it->get() != output)
            continue;
        wlr_output* handle = output->handle();
        if (window_policy)
            window_policy->forget_output(handle);
        outputs.erase(it);  // deletes `output`
        break;
    }
    if (!applying_layout_ && !shutting_down_ && !outputs.empty())
        announce_layout(false);
}

// Tells the network side the desktop's size and monitors, and re-fits everything to them.
void Server::announce_layout(bool force) {
    MonitorLayout now;
    for (const auto& o : outputs)
        now.push_back(o->monitor());
    if (now.empty())
        return;
    const Rect bounds = layout_bounds(now);
    const bool changed = now != announced_;
    if (!changed && !force)
        return;
    if (changed) {
        log.info("desktop {}x{}: {} monitor(s) {}", bounds.width, bounds.height, now.size(),
                 describe_layout(now));
    }
    announced_ = now;
    desktop_width_ = bounds.x + bounds.width;
    desktop_height_ = bounds.y + bounds.height;
    if (background) {
        const wlr_box* extents = wlr_output_layout_get_box(layout, nullptr);
        if (extents) {
            wlr_scene_node_set_position(&background->node, extents->x, extents->y);
            wlr_scene_rect_set_size(background, extents->width, extents->height);
        }
    }
    if (changed && window_policy)
        window_policy->arrange_all();
    if (changed && cursor_images)
        cursor_images->set_scale(primary_output()->scale());
    metrics().desktop_width.set(desktop_width_);
    metrics().desktop_height.set(desktop_height_);
    for (const auto& o : outputs) {
        o->capture().request_full();
        if (wlr_scene_output* so = o->scene_output())
            wlr_output_damage_add_whole(so->damage);
    }
    publish(DesktopSizeEvent{desktop_width_, desktop_height_, now});
}

void Server::handle_buffer_returned() {
    channels.frames.returned().drain();
    for (const auto& o : outputs)
        o->capture().retry_carried();
}

void Server::handle_new_xdg_surface(wlr_xdg_surface* surface) {
    if (surface->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
        new XdgView(*this, surface);  // owns itself; deleted on the surface's destroy
    } else if (surface->role == WLR_XDG_SURFACE_ROLE_POPUP) {
        create_xdg_popup(*this, surface);
    }
}

void Server::on_desktop_ready() {
    if (!running_ || !session || session_started_)
        return;
    xwayland_wait_.reset();
    session_started_ = true;
    session->start();
}

int Server::run() {
    if (!started_)
        throw std::logic_error("Compositor::run before start");
    compositor_thread.bind_to_current_thread();
    running_ = true;
    // With Xwayland the session waits for it, so DISPLAY works from the first command.
    if (!xwayland || xwayland->ready()) {
        on_desktop_ready();
    } else {
        // Xwayland normally answers within a second; a broken one must not hold the session.
        xwayland_wait_ = wl::EventSource(wl_event_loop_add_timer(
            loop,
            [](void* data) {
                auto* self = static_cast<Server*>(data);
                self->log.warn("Xwayland is not ready after {} s: starting the session without it",
                               kXwaylandWaitMs / 1000);
                self->on_desktop_ready();
                return 0;
            },
            this));
        wl_event_source_timer_update(xwayland_wait_.get(), kXwaylandWaitMs);
    }
    wl_display_run(display);
    running_ = false;
    compositor_thread.unbind();
    session->stop();
    log.info("compositor stopped");
    return exit_code_;
}

}  // namespace deskpod::compositor

namespace deskpod {

struct Compositor::Impl {
    Impl(const Config& config, Channels& channels) : server(config, channels) {}
    compositor::Server server;
};

Compositor::Compositor(const Config& config, Channels& channels)
    : impl_(std::make_unique<Impl>(config, channels)) {}
Compositor::~Compositor() = default;
void Compositor::start() {
    impl_->server.start();
}
int Compositor::run() {
    return impl_->server.run();
}
const char* Compositor::socket_name() const {
    return impl_->server.socket_name.c_str();
}

}  // namespace deskpod
