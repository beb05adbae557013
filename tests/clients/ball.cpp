// deskpod-ball: an X11 app whose frame rate the app fixes, not the server. A ball moves on a
// flat background at exactly --fps frames a second by the app's own clock, so two servers
// (deskpod through Xwayland, Xvnc for guacd) show the same picture sequence and their bytes per
// second compare directly. Xlib only: the same binary runs on any X server.
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char kUsage[] =
    "Usage: deskpod-ball [options]\n"
    "Draws a ball moving on a flat background, at a fixed frame rate, in one X11 window the\n"
    "size of the screen (or --width/--height) at 0,0.\n"
    "\n"
    "  --fps N             frames a second by the app's own clock (default 30)\n"
    "  --radius N          ball radius in pixels (default 24)\n"
    "  --speed DX,DY       pixels per frame (default 5,3); the ball bounces off the edges\n"
    "  --background RRGGBB background colour (default 336699)\n"
    "  --color RRGGBB      ball colour (default ffcc33)\n"
    "  --width N --height N window size (default: the screen's)\n"
    "  --frames N          exit after N frames (default: run until killed)\n"
    "  --stop-after N      after N frames keep the last picture until killed (for tests that\n"
    "                      compare a still picture)\n"
    "  --help              this text\n"
    "\n"
    "Each frame paints the old ball's square with the background and the new ball over it,\n"
    "as a simple app does. Late frames are dropped, never bunched: frame k is drawn at\n"
    "start + k/fps. Needs DISPLAY.\n";

volatile sig_atomic_t g_stop = 0;

void on_signal(int) {
    g_stop = 1;
}

bool parse_colour(const char* text, unsigned long& out) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(text, &end, 16);
    if (!end || *end || std::strlen(text) != 6)
        return false;
    out = v;
    return true;
}

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void sleep_until_ns(int64_t t) {
    timespec ts{};
    ts.tv_sec = time_t(t / 1000000000);
    ts.tv_nsec = long(t % 1000000000);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0 && !g_stop) {
    }
}

}  // namespace

int main(int argc, char** argv) {
    int fps = 30, radius = 24, dx = 5, dy = 3, width = 0, height = 0;
    long frames = -1, stop_after = -1;
    unsigned long background = 0x336699, colour = 0xffcc33;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        auto need = [&]() {
            if (!v) {
                std::fprintf(stderr, "deskpod-ball: %s needs a value\n", a.c_str());
                std::exit(1);
            }
            ++i;
            return v;
        };
        if (a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--fps") {
            fps = std::atoi(need());
        } else if (a == "--radius") {
            radius = std::atoi(need());
        } else if (a == "--speed") {
            if (std::sscanf(need(), "%d,%d", &dx, &dy) != 2) {
                std::fputs("deskpod-ball: --speed wants DX,DY\n", stderr);
                return 1;
            }
        } else if (a == "--background" || a == "--color") {
            if (!parse_colour(need(), a == "--color" ? colour : background)) {
                std::fprintf(stderr, "deskpod-ball: %s wants RRGGBB\n", a.c_str());
                return 1;
            }
        } else if (a == "--width") {
            width = std::atoi(need());
        } else if (a == "--height") {
            height = std::atoi(need());
        } else if (a == "--frames") {
            frames = std::atol(need());
        } else if (a == "--stop-after") {
            stop_after = std::atol(need());
        } else {
            std::fprintf(stderr, "deskpod-ball: unknown option %s\n%s", a.c_str(), kUsage);
            return 1;
        }
    }
    if (fps < 1 || fps > 1000 || radius < 1) {
        std::fputs("deskpod-ball: --fps wants 1..1000 and --radius at least 1\n", stderr);
        return 1;
    }
    Display* display = XOpenDisplay(nullptr);
    if (!display) {
        std::fputs("deskpod-ball: cannot open the X display (is DISPLAY set?)\n", stderr);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    const int screen = DefaultScreen(display);
    if (width <= 0)
        width = DisplayWidth(display, screen);
    if (height <= 0)
        height = DisplayHeight(display, screen);
    const int size = 2 * radius;
    if (width <= size || height <= size) {
        std::fputs("deskpod-ball: the window must be larger than the ball\n", stderr);
        return 1;
    }
    // A TrueColor 24-bit visual takes 0xRRGGBB as the pixel value.
    XSetWindowAttributes attributes{};
    attributes.background_pixel = background;
    const Window window =
        XCreateWindow(display, RootWindow(display, screen), 0, 0, unsigned(width), unsigned(height),
                      0, CopyFromParent, InputOutput, CopyFromParent, CWBackPixel, &attributes);
    XStoreName(display, window, "deskpod-ball");
    XSizeHints hints{};
    hints.flags = PPosition | PSize;
    hints.width = width;
    hints.height = height;
    XSetWMNormalHints(display, window, &hints);
    XSelectInput(display, window, ExposureMask | StructureNotifyMask);
    XMapWindow(display, window);
    for (XEvent event;;) {
        XNextEvent(display, &event);
        if (event.type == MapNotify)
            break;
    }
    const GC gc = XCreateGC(display, window, 0, nullptr);
    XSetForeground(display, gc, background);
    XFillRectangle(display, window, gc, 0, 0, unsigned(width), unsigned(height));

    int x = radius, y = radius;
    const int64_t period = 1000000000 / fps;
    const int64_t start = now_ns();
    for (long frame = 0; !g_stop && (frames < 0 || frame < frames); ++frame) {
        if (stop_after >= 0 && frame >= stop_after) {
            pause();  // until a signal; the window keeps its last picture
            continue;
        }
        // Expose events (the window was covered) repaint the background; the ball follows.
        while (XPending(display)) {
            XEvent event;
            XNextEvent(display, &event);
            if (event.type == Expose) {
                XSetForeground(display, gc, background);
                XFillRectangle(display, window, gc, 0, 0, unsigned(width), unsigned(height));
            }
        }
        XSetForeground(display, gc, background);
        XFillRectangle(display, window, gc, x - radius, y - radius, unsigned(size), unsigned(size));
        if (x + dx < radius || x + dx > width - radius)
            dx = -dx;
        if (y + dy < radius || y + dy > height - radius)
            dy = -dy;
        x += dx;
        y += dy;
        XSetForeground(display, gc, colour);
        XFillArc(display, window, gc, x - radius, y - radius, unsigned(size), unsigned(size), 0,
                 360 * 64);
        XSync(display, False);
        // The next frame is due at start + (frame + 1) * period; frames already late are
        // skipped, so the rate stays what --fps says.
        int64_t due = start + (frame + 1) * period;
        const int64_t now = now_ns();
        if (due < now) {
            const int64_t behind = (now - due) / period + 1;
            frame += behind;
            due += behind * period;
        }
        sleep_until_ns(due);
    }
    XCloseDisplay(display);
    return 0;
}
