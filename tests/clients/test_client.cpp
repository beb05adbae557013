// deskpod-test-client: a small Wayland client for deskpod's tests and benchmarks.
// It maps one xdg toplevel filled with a solid colour, follows the compositor's configure
// sizes, and reports what it receives (typed text, pointer buttons) into files.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <wayland-client.h>
#include <xkbcommon/xkbcommon.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "xdg-shell-client-protocol.h"

namespace {

const char kUsage[] =
    "Usage: deskpod-test-client [options]\n"
    "A Wayland test client: maps one toplevel window filled with a solid colour.\n"
    "\n"
    "  --color RRGGBB       fill colour (hex, default ff3366); pixels are XRGB8888\n"
    "  --animate            repaint the whole window on every frame callback with a changing\n"
    "                       colour (full-window damage each frame; for benchmarks)\n"
    "  --video N            N frames of photo-like moving content (gradients and grain, many\n"
    "                       colours, different every frame), one per frame callback; then the\n"
    "                       last frame stays (and 'video: N frames drawn' goes to stderr)\n"
    "  --key-flips          every key press inverts the fill colour and redraws at once (for\n"
    "                       key-to-pixels latency)\n"
    "  --repaint            commit the same pixels with full-window damage on every frame\n"
    "                       callback (a redundant app: nothing visible changes)\n"
    "  --width N --height N size to use when the compositor leaves it to the client\n"
    "                       (default 640x480)\n"
    "  --title TEXT         window title (default deskpod-test-client)\n"
    "  --app-id ID          xdg app id (default deskpod-test-client)\n"
    "  --keys-out FILE      append every typed character as UTF-8 (xkbcommon, from the\n"
    "                       compositor's keymap) to FILE, flushed per character\n"
    "  --events-out FILE    append one line per pointer event to FILE:\n"
    "                         'button <linux-code> pressed|released <x> <y>'\n"
    "                         'axis vertical|horizontal <value> <discrete>'\n"
    "                       and one per keyboard focus change: 'keyboard enter|leave'\n"
    "  --cursors            set its own pointer image: a 96x96 one (opaque noise, so it does\n"
    "                       not compress) over the window's left half, another over its\n"
    "                       right half; each crossing of the middle changes it (with\n"
    "                       --events-out: one 'cursor left|right' line per change)\n"
    "  --ready-out FILE     append '<width>x<height> scale <n>' (surface size and buffer scale)\n"
    "                       to FILE each time a buffer of a new size or scale has been\n"
    "                       committed (the first line means: mapped and drawn). The client\n"
    "                       draws at the highest scale of the outputs its window is on.\n"
    "  --help               this text\n"
    "\n"
    "Exits 0 when the compositor closes the window or on SIGTERM/SIGINT; 1 on errors.\n"
    "Needs WAYLAND_DISPLAY (and XDG_RUNTIME_DIR) like any Wayland client.\n";

volatile sig_atomic_t g_stop = 0;

struct Client;
struct Buffer {
    Client* client = nullptr;  // set when the buffer is made
    wl_buffer* buffer = nullptr;
    void* data = nullptr;
    size_t size = 0;
    int width = 0;
    int height = 0;
    bool busy = false;
};

struct Output {
    Client* client = nullptr;
    wl_output* output = nullptr;
    int scale = 1;
};

struct Client {
    // Options
    uint32_t color = 0xff3366;
    bool animate = false;
    bool repaint = false;
    uint32_t video_frames = 0;  // --video N
    bool key_flips = false;     // --key-flips
    int default_width = 640;
    int default_height = 480;
    std::string title = "deskpod-test-client";
    std::string app_id = "deskpod-test-client";
    FILE* keys_out = nullptr;
    FILE* events_out = nullptr;
    FILE* ready_out = nullptr;
    bool cursors = false;

    // Globals
    wl_display* display = nullptr;
    wl_compositor* compositor = nullptr;
    wl_shm* shm = nullptr;
    xdg_wm_base* wm_base = nullptr;
    wl_seat* seat = nullptr;
    std::vector<Output*> outputs;
    std::vector<Output*> entered;  // outputs the window is on
    wl_keyboard* keyboard = nullptr;
    wl_pointer* pointer = nullptr;

    // Window
    wl_surface* surface = nullptr;
    xdg_surface* xsurface = nullptr;
    xdg_toplevel* toplevel = nullptr;
    wl_callback* frame = nullptr;
    Buffer buffers[2];
    // A frame was due while both buffers were held: drawn when one is released (the frame
    // callback of a commit without damage may never come).
    bool buffer_wanted = false;
    int width = 0;
    int height = 0;
    int pending_width = 0;
    int pending_height = 0;
    int reported_width = 0;
    int reported_height = 0;
    int scale = 1;  // buffer scale
    int reported_scale = 0;
    bool configured = false;
    bool closed = false;
    uint32_t frame_count = 0;

    // Keyboard
    xkb_context* xkb = nullptr;
    xkb_keymap* keymap = nullptr;
    xkb_state* state = nullptr;
    double pointer_x = 0;
    double pointer_y = 0;

    // --cursors: one cursor surface, a buffer per half of the window
    wl_surface* cursor_surface = nullptr;
    Buffer cursor_images[2];
    uint32_t enter_serial = 0;
    int cursor_half = -1;  // the image shown: 0 left, 1 right, -1 none yet
};

void die(const char* what) {
    std::fprintf(stderr, "deskpod-test-client: %s\n", what);
    std::exit(1);
}

// ---- shm buffers ---------------------------------------------------------------------------

void draw(Client& c);

void buffer_release(void* data, wl_buffer*) {
    auto* b = static_cast<Buffer*>(data);
    b->busy = false;
    if (b->client && b->client->buffer_wanted) {
        b->client->buffer_wanted = false;
        draw(*b->client);
    }
}
const wl_buffer_listener kBufferListener = {buffer_release};

void destroy_buffer(Buffer& b) {
    if (b.buffer)
        wl_buffer_destroy(b.buffer);
    if (b.data)
        munmap(b.data, b.size);
    b = Buffer{};
}

Buffer* get_buffer(Client& c) {
    for (Buffer& b : c.buffers) {
        if (b.busy)
            continue;
        if (b.buffer && b.width == c.width * c.scale && b.height == c.height * c.scale)
            return &b;
    }
    for (Buffer& b : c.buffers) {
        if (b.busy)
            continue;
        destroy_buffer(b);
        const int bw = c.width * c.scale, bh = c.height * c.scale;
        const int stride = bw * 4;
        b.size = size_t(stride) * size_t(bh);
        const int fd = memfd_create("deskpod-test-client", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, off_t(b.size)) != 0)
            die("cannot create shm memory");
        b.data = mmap(nullptr, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (b.data == MAP_FAILED)
            die("mmap failed");
        wl_shm_pool* pool = wl_shm_create_pool(c.shm, fd, int32_t(b.size));
        b.buffer = wl_shm_pool_create_buffer(pool, 0, bw, bh, stride, WL_SHM_FORMAT_XRGB8888);
        wl_shm_pool_destroy(pool);
        close(fd);
        wl_buffer_add_listener(b.buffer, &kBufferListener, &b);
        b.client = &c;
        b.width = bw;
        b.height = bh;
        return &b;
    }
    return nullptr;  // both in use: draw on the next frame callback
}

uint32_t animated_color(const Client& c) {
    // A hue walk: every frame differs, so every frame damages the whole window.
    const uint32_t t = c.frame_count * 4;
    const uint32_t r = (t * 3) & 0xff, g = (t * 5 + 85) & 0xff, b = (t * 7 + 170) & 0xff;
    return (r << 16) | (g << 8) | b;
}

// Photo-like: smooth gradients that move every frame plus fixed grain, so a 64x64 tile holds
// hundreds of colours (as a video frame does) and no two frames are alike.
void draw_video(const Client& c, uint32_t* px, int32_t width, int32_t height) {
    const uint32_t t = c.frame_count;
    for (int32_t y = 0; y < height; ++y) {
        for (int32_t x = 0; x < width; ++x) {
            const uint32_t grain = (uint32_t(x) * 2654435761u ^ uint32_t(y) * 40503u) >> 27;
            const uint32_t r = (uint32_t(x) + t * 5 + grain) & 0xff;
            const uint32_t g = (uint32_t(y) * 2 + t * 3 + grain) & 0xff;
            const uint32_t b = ((uint32_t(x + y) >> 1) + t * 7) & 0xff;
            px[size_t(y) * size_t(width) + size_t(x)] = 0xff000000u | (r << 16) | (g << 8) | b;
        }
    }
}

void request_frame(Client& c);

void draw(Client& c) {
    if (!c.configured || c.width <= 0 || c.height <= 0)
        return;
    Buffer* b = get_buffer(c);
    if (!b) {
        c.buffer_wanted = true;
        return;
    }
    const uint32_t pixel = 0xff000000u | (c.animate ? animated_color(c) : c.color);
    auto* px = static_cast<uint32_t*>(b->data);
    const size_t n = size_t(b->width) * size_t(b->height);
    const bool video = c.frame_count < c.video_frames;
    if (video) {
        draw_video(c, px, b->width, b->height);
    } else if (c.video_frames > 0) {
        return;  // the last video frame stays
    } else {
        for (size_t i = 0; i < n; ++i)
            px[i] = pixel;
    }
    wl_surface_set_buffer_scale(c.surface, c.scale);
    wl_surface_attach(c.surface, b->buffer, 0, 0);
    wl_surface_damage_buffer(c.surface, 0, 0, b->width, b->height);
    b->busy = true;
    if (c.animate || c.repaint || video)
        request_frame(c);
    wl_surface_commit(c.surface);
    ++c.frame_count;
    if (video && c.frame_count == c.video_frames)
        std::fprintf(stderr, "deskpod-test-client: video: %u frames drawn\n", c.video_frames);
    if (c.ready_out && (c.reported_width != c.width || c.reported_height != c.height ||
                        c.reported_scale != c.scale)) {
        c.reported_width = c.width;
        c.reported_height = c.height;
        c.reported_scale = c.scale;
        std::fprintf(c.ready_out, "%dx%d scale %d\n", c.width, c.height, c.scale);
        std::fflush(c.ready_out);
    }
}

void frame_done(void* data, wl_callback* callback, uint32_t) {
    auto& c = *static_cast<Client*>(data);
    wl_callback_destroy(callback);
    c.frame = nullptr;
    draw(c);
}
const wl_callback_listener kFrameListener = {frame_done};

void request_frame(Client& c) {
    if (c.frame)
        return;
    c.frame = wl_surface_frame(c.surface);
    wl_callback_add_listener(c.frame, &kFrameListener, &c);
}

// ---- xdg-shell -----------------------------------------------------------------------------

void wm_base_ping(void*, xdg_wm_base* base, uint32_t serial) {
    xdg_wm_base_pong(base, serial);
}
const xdg_wm_base_listener kWmBaseListener = {wm_base_ping};

void xsurface_configure(void* data, xdg_surface* xsurface, uint32_t serial) {
    auto& c = *static_cast<Client*>(data);
    xdg_surface_ack_configure(xsurface, serial);
    c.width = c.pending_width > 0 ? c.pending_width : (c.width > 0 ? c.width : c.default_width);
    c.height =
        c.pending_height > 0 ? c.pending_height : (c.height > 0 ? c.height : c.default_height);
    c.configured = true;
    draw(c);
}
const xdg_surface_listener kXdgSurfaceListener = {xsurface_configure};

void toplevel_configure(void* data, xdg_toplevel*, int32_t width, int32_t height, wl_array*) {
    auto& c = *static_cast<Client*>(data);
    c.pending_width = width;
    c.pending_height = height;
}
void toplevel_close(void* data, xdg_toplevel*) {
    static_cast<Client*>(data)->closed = true;
}
void toplevel_configure_bounds(void*, xdg_toplevel*, int32_t, int32_t) {}
void toplevel_wm_capabilities(void*, xdg_toplevel*, wl_array*) {}
const xdg_toplevel_listener kToplevelListener = {
    toplevel_configure, toplevel_close, toplevel_configure_bounds, toplevel_wm_capabilities};

// ---- keyboard ------------------------------------------------------------------------------

void kb_keymap(void* data, wl_keyboard*, uint32_t format, int32_t fd, uint32_t size) {
    auto& c = *static_cast<Client*>(data);
    if (format != WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1) {
        close(fd);
        return;
    }
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return;
    xkb_keymap* keymap =
        xkb_keymap_new_from_string(c.xkb, static_cast<const char*>(map), XKB_KEYMAP_FORMAT_TEXT_V1,
                                   XKB_KEYMAP_COMPILE_NO_FLAGS);
    munmap(map, size);
    if (!keymap)
        return;
    xkb_state_unref(c.state);
    xkb_keymap_unref(c.keymap);
    c.keymap = keymap;
    c.state = xkb_state_new(keymap);
}

void kb_focus_event(void* data, const char* what) {
    auto& c = *static_cast<Client*>(data);
    if (!c.events_out)
        return;
    std::fprintf(c.events_out, "keyboard %s\n", what);
    std::fflush(c.events_out);
}
void kb_enter(void* data, wl_keyboard*, uint32_t, wl_surface*, wl_array*) {
    kb_focus_event(data, "enter");
}
void kb_leave(void* data, wl_keyboard*, uint32_t, wl_surface*) {
    kb_focus_event(data, "leave");
}

void kb_key(void* data, wl_keyboard*, uint32_t, uint32_t, uint32_t key, uint32_t state) {
    auto& c = *static_cast<Client*>(data);
    if (state == WL_KEYBOARD_KEY_STATE_PRESSED && c.key_flips) {
        c.color ^= 0xffffff;
        draw(c);
    }
    if (!c.state || state != WL_KEYBOARD_KEY_STATE_PRESSED || !c.keys_out)
        return;
    char text[64];
    const int n = xkb_state_key_get_utf8(c.state, key + 8, text, sizeof(text));
    if (n <= 0)
        return;
    std::fwrite(text, 1, size_t(n), c.keys_out);
    std::fflush(c.keys_out);
}

void kb_modifiers(void* data, wl_keyboard*, uint32_t, uint32_t depressed, uint32_t latched,
                  uint32_t locked, uint32_t group) {
    auto& c = *static_cast<Client*>(data);
    if (c.state)
        xkb_state_update_mask(c.state, depressed, latched, locked, 0, 0, group);
}

void kb_repeat_info(void*, wl_keyboard*, int32_t, int32_t) {}

const wl_keyboard_listener kKeyboardListener = {kb_keymap, kb_enter,     kb_leave,
                                                kb_key,    kb_modifiers, kb_repeat_info};

// ---- pointer -------------------------------------------------------------------------------

constexpr int kCursorSize = 96;  // the largest pointer every RDP client takes

// Opaque noise around `base`, so that an RDP peer's bulk compression cannot shrink it.
Buffer make_cursor_image(Client& c, uint32_t base, uint32_t seed) {
    Buffer b;
    b.width = b.height = kCursorSize;
    b.size = size_t(kCursorSize) * kCursorSize * 4;
    const int fd = memfd_create("deskpod-test-cursor", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, off_t(b.size)) != 0)
        die("cannot create shm memory");
    b.data = mmap(nullptr, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (b.data == MAP_FAILED)
        die("mmap failed");
    auto* px = static_cast<uint32_t*>(b.data);
    uint32_t state = seed;
    for (int i = 0; i < kCursorSize * kCursorSize; ++i) {
        state ^= state << 13;  // xorshift32
        state ^= state >> 17;
        state ^= state << 5;
        px[i] = 0xff000000u | ((base ^ state) & 0xffffff);
    }
    wl_shm_pool* pool = wl_shm_create_pool(c.shm, fd, int32_t(b.size));
    b.buffer = wl_shm_pool_create_buffer(pool, 0, kCursorSize, kCursorSize, kCursorSize * 4,
                                         WL_SHM_FORMAT_ARGB8888);
    wl_shm_pool_destroy(pool);
    close(fd);
    return b;
}

// Shows the image of the half the pointer is in; a new image is a commit of the cursor
// surface, which the compositor publishes as a cursor change.
void update_cursor(Client& c, bool entered) {
    if (!c.cursors || !c.pointer)
        return;
    if (!c.cursor_surface) {
        c.cursor_surface = wl_compositor_create_surface(c.compositor);
        c.cursor_images[0] = make_cursor_image(c, 0xd02020, 0x9e3779b9u);
        c.cursor_images[1] = make_cursor_image(c, 0x2040d0, 0x7f4a7c15u);
    }
    const int half = c.pointer_x * 2 < c.width ? 0 : 1;
    if (entered)
        wl_pointer_set_cursor(c.pointer, c.enter_serial, c.cursor_surface, 0, 0);
    if (half == c.cursor_half && !entered)
        return;
    c.cursor_half = half;
    wl_surface_attach(c.cursor_surface, c.cursor_images[half].buffer, 0, 0);
    wl_surface_damage_buffer(c.cursor_surface, 0, 0, kCursorSize, kCursorSize);
    wl_surface_commit(c.cursor_surface);
    if (c.events_out) {
        std::fprintf(c.events_out, "cursor %s\n", half == 0 ? "left" : "right");
        std::fflush(c.events_out);
    }
}

void ptr_enter(void* data, wl_pointer*, uint32_t serial, wl_surface*, wl_fixed_t x, wl_fixed_t y) {
    auto& c = *static_cast<Client*>(data);
    c.enter_serial = serial;
    c.pointer_x = wl_fixed_to_double(x);
    c.pointer_y = wl_fixed_to_double(y);
    update_cursor(c, true);
}
void ptr_leave(void*, wl_pointer*, uint32_t, wl_surface*) {}
void ptr_motion(void* data, wl_pointer*, uint32_t, wl_fixed_t x, wl_fixed_t y) {
    auto& c = *static_cast<Client*>(data);
    c.pointer_x = wl_fixed_to_double(x);
    c.pointer_y = wl_fixed_to_double(y);
    update_cursor(c, false);
}
void ptr_button(void* data, wl_pointer*, uint32_t, uint32_t, uint32_t button, uint32_t state) {
    auto& c = *static_cast<Client*>(data);
    if (!c.events_out)
        return;
    std::fprintf(c.events_out, "button %u %s %d %d\n", button,
                 state == WL_POINTER_BUTTON_STATE_PRESSED ? "pressed" : "released",
                 int(c.pointer_x), int(c.pointer_y));
    std::fflush(c.events_out);
}
void ptr_axis(void*, wl_pointer*, uint32_t, uint32_t, wl_fixed_t) {}
void ptr_frame(void*, wl_pointer*) {}
void ptr_axis_source(void*, wl_pointer*, uint32_t) {}
void ptr_axis_stop(void*, wl_pointer*, uint32_t, uint32_t) {}
void ptr_axis_discrete(void* data, wl_pointer*, uint32_t axis, int32_t discrete) {
    auto& c = *static_cast<Client*>(data);
    if (!c.events_out)
        return;
    std::fprintf(c.events_out, "axis %s %d\n",
                 axis == WL_POINTER_AXIS_VERTICAL_SCROLL ? "vertical" : "horizontal", discrete);
    std::fflush(c.events_out);
}
void ptr_axis_value120(void*, wl_pointer*, uint32_t, int32_t) {}
const wl_pointer_listener kPointerListener = {
    ptr_enter, ptr_leave,       ptr_motion,    ptr_button,        ptr_axis,
    ptr_frame, ptr_axis_source, ptr_axis_stop, ptr_axis_discrete, ptr_axis_value120};

void seat_capabilities(void* data, wl_seat* seat, uint32_t caps) {
    auto& c = *static_cast<Client*>(data);
    if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && !c.keyboard) {
        c.keyboard = wl_seat_get_keyboard(seat);
        wl_keyboard_add_listener(c.keyboard, &kKeyboardListener, &c);
    }
    if ((caps & WL_SEAT_CAPABILITY_POINTER) && !c.pointer) {
        c.pointer = wl_seat_get_pointer(seat);
        wl_pointer_add_listener(c.pointer, &kPointerListener, &c);
    }
}
void seat_name(void*, wl_seat*, const char*) {}
const wl_seat_listener kSeatListener = {seat_capabilities, seat_name};

// ---- outputs and scale ---------------------------------------------------------------------

void update_scale(Client& c) {
    int scale = 1;
    for (const Output* o : c.entered)
        scale = std::max(scale, o->scale);
    if (scale == c.scale)
        return;
    c.scale = scale;
    draw(c);
}

void output_geometry(void*, wl_output*, int32_t, int32_t, int32_t, int32_t, int32_t, const char*,
                     const char*, int32_t) {}
void output_mode(void*, wl_output*, uint32_t, int32_t, int32_t, int32_t) {}
void output_done(void* data, wl_output*) {
    // A scale change on an output the window is already on.
    update_scale(*static_cast<Output*>(data)->client);
}
void output_scale(void* data, wl_output*, int32_t factor) {
    static_cast<Output*>(data)->scale = factor > 0 ? factor : 1;
}
void output_name(void*, wl_output*, const char*) {}
void output_description(void*, wl_output*, const char*) {}
const wl_output_listener kOutputListener = {output_geometry, output_mode, output_done,
                                            output_scale,    output_name, output_description};

Output* find_output(Client& c, wl_output* output) {
    for (Output* o : c.outputs) {
        if (o->output == output)
            return o;
    }
    return nullptr;
}
void surface_enter(void* data, wl_surface*, wl_output* output) {
    auto& c = *static_cast<Client*>(data);
    if (Output* o = find_output(c, output)) {
        c.entered.push_back(o);
        update_scale(c);
    }
}
void surface_leave(void* data, wl_surface*, wl_output* output) {
    auto& c = *static_cast<Client*>(data);
    c.entered.erase(std::remove(c.entered.begin(), c.entered.end(), find_output(c, output)),
                    c.entered.end());
    update_scale(c);
}
const wl_surface_listener kSurfaceListener = {surface_enter, surface_leave};

// ---- registry ------------------------------------------------------------------------------

void registry_global(void* data, wl_registry* registry, uint32_t name, const char* interface,
                     uint32_t version) {
    auto& c = *static_cast<Client*>(data);
    const std::string iface(interface);
    if (iface == wl_compositor_interface.name) {
        c.compositor = static_cast<wl_compositor*>(
            wl_registry_bind(registry, name, &wl_compositor_interface, 4));
    } else if (iface == wl_shm_interface.name) {
        c.shm = static_cast<wl_shm*>(wl_registry_bind(registry, name, &wl_shm_interface, 1));
    } else if (iface == xdg_wm_base_interface.name) {
        c.wm_base =
            static_cast<xdg_wm_base*>(wl_registry_bind(registry, name, &xdg_wm_base_interface, 1));
        xdg_wm_base_add_listener(c.wm_base, &kWmBaseListener, &c);
    } else if (iface == wl_output_interface.name && version >= 2) {
        auto* o = new Output;
        o->client = &c;
        o->output =
            static_cast<wl_output*>(wl_registry_bind(registry, name, &wl_output_interface, 2));
        wl_output_add_listener(o->output, &kOutputListener, o);
        c.outputs.push_back(o);
    } else if (iface == wl_seat_interface.name && !c.seat) {
        c.seat = static_cast<wl_seat*>(
            wl_registry_bind(registry, name, &wl_seat_interface, version < 5 ? version : 5));
        wl_seat_add_listener(c.seat, &kSeatListener, &c);
    }
}
void registry_global_remove(void*, wl_registry*, uint32_t) {}
const wl_registry_listener kRegistryListener = {registry_global, registry_global_remove};

FILE* open_out(const char* path) {
    FILE* f = std::fopen(path, "a");
    if (!f) {
        std::fprintf(stderr, "deskpod-test-client: cannot open %s: %s\n", path,
                     std::strerror(errno));
        std::exit(1);
    }
    return f;
}

void parse_args(Client& c, int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "deskpod-test-client: %s needs a value\n", arg.c_str());
                std::exit(1);
            }
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (arg == "--color") {
            char* end = nullptr;
            const char* v = value();
            c.color = uint32_t(std::strtoul(v[0] == '#' ? v + 1 : v, &end, 16)) & 0xffffff;
            if (!end || *end)
                die("--color takes RRGGBB in hex");
        } else if (arg == "--animate") {
            c.animate = true;
        } else if (arg == "--repaint") {
            c.repaint = true;
        } else if (arg == "--key-flips") {
            c.key_flips = true;
        } else if (arg == "--video") {
            c.video_frames = uint32_t(std::max(0, std::atoi(value())));
        } else if (arg == "--width") {
            c.default_width = std::atoi(value());
        } else if (arg == "--height") {
            c.default_height = std::atoi(value());
        } else if (arg == "--title") {
            c.title = value();
        } else if (arg == "--app-id") {
            c.app_id = value();
        } else if (arg == "--keys-out") {
            c.keys_out = open_out(value());
        } else if (arg == "--events-out") {
            c.events_out = open_out(value());
        } else if (arg == "--cursors") {
            c.cursors = true;
        } else if (arg == "--ready-out") {
            c.ready_out = open_out(value());
        } else {
            std::fprintf(stderr, "deskpod-test-client: unknown option %s\n%s", arg.c_str(), kUsage);
            std::exit(1);
        }
    }
    if (c.default_width <= 0 || c.default_height <= 0)
        die("--width/--height must be positive");
}

}  // namespace

int main(int argc, char** argv) {
    Client c;
    parse_args(c, argc, argv);

    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop = 1; };
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    // SIGTERM/SIGINT stay blocked except inside ppoll() below: one that arrived between the
    // g_stop check and a plain poll() was lost, and the client then waited forever for events
    // from a compositor that had already stopped (a test's teardown hung until its timeout).
    sigset_t stop_signals, wait_mask;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, &wait_mask);
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGINT);

    c.xkb = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
    c.display = wl_display_connect(nullptr);
    if (!c.display)
        die("cannot connect to the Wayland display (WAYLAND_DISPLAY?)");
    wl_registry* registry = wl_display_get_registry(c.display);
    wl_registry_add_listener(registry, &kRegistryListener, &c);
    wl_display_roundtrip(c.display);
    if (!c.compositor || !c.shm || !c.wm_base)
        die("compositor lacks wl_shm or xdg_wm_base");

    wl_display_roundtrip(c.display);  // output scales
    c.surface = wl_compositor_create_surface(c.compositor);
    wl_surface_add_listener(c.surface, &kSurfaceListener, &c);
    c.xsurface = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
    xdg_surface_add_listener(c.xsurface, &kXdgSurfaceListener, &c);
    c.toplevel = xdg_surface_get_toplevel(c.xsurface);
    xdg_toplevel_add_listener(c.toplevel, &kToplevelListener, &c);
    xdg_toplevel_set_title(c.toplevel, c.title.c_str());
    xdg_toplevel_set_app_id(c.toplevel, c.app_id.c_str());
    wl_surface_commit(c.surface);

    // ppoll() rather than wl_display_dispatch, so SIGTERM ends the loop promptly.
    pollfd pfd{wl_display_get_fd(c.display), POLLIN, 0};
    while (!g_stop && !c.closed) {
        while (wl_display_prepare_read(c.display) != 0)
            wl_display_dispatch_pending(c.display);
        if (wl_display_flush(c.display) < 0 && errno != EAGAIN) {
            wl_display_cancel_read(c.display);
            break;
        }
        const int r = ppoll(&pfd, 1, nullptr, &wait_mask);
        if (r <= 0) {
            wl_display_cancel_read(c.display);
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        if (wl_display_read_events(c.display) != 0)
            break;
        if (wl_display_dispatch_pending(c.display) < 0)
            break;
    }

    for (Buffer& b : c.buffers)
        destroy_buffer(b);
    for (Buffer& b : c.cursor_images)
        destroy_buffer(b);
    if (c.cursor_surface)
        wl_surface_destroy(c.cursor_surface);
    for (Output* o : c.outputs) {
        wl_output_destroy(o->output);
        delete o;
    }
    if (c.frame)
        wl_callback_destroy(c.frame);
    if (c.keyboard)
        wl_keyboard_destroy(c.keyboard);
    if (c.pointer)
        wl_pointer_destroy(c.pointer);
    if (c.seat)
        wl_seat_destroy(c.seat);
    xdg_toplevel_destroy(c.toplevel);
    xdg_surface_destroy(c.xsurface);
    wl_surface_destroy(c.surface);
    xdg_wm_base_destroy(c.wm_base);
    wl_shm_destroy(c.shm);
    wl_compositor_destroy(c.compositor);
    wl_registry_destroy(registry);
    wl_display_disconnect(c.display);
    xkb_state_unref(c.state);
    xkb_keymap_unref(c.keymap);
    xkb_context_unref(c.xkb);
    for (FILE* f : {c.keys_out, c.events_out, c.ready_out}) {
        if (f)
            std::fclose(f);
    }
    return 0;
}
