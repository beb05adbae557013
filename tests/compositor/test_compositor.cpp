// In-process compositor tests: a real headless Compositor on its own thread, real Wayland
// clients (deskpod-test-client), and assertions on what reaches the network side: frames,
// their damage and pixels, sizes, and what the client receives from synthetic input.
#include <gtest/gtest.h>
#include <linux/input-event-codes.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include "compositor/compositor.hpp"
#include "shared/channels.hpp"
#include "shared/config.hpp"
#include "shared/log.hpp"
#include "shared/metrics.hpp"

namespace deskpod {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string test_client_path() {
    const char* path = std::getenv("DESKPOD_TEST_CLIENT");
    return path ? path : "";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class CompositorHarness {
  public:
    explicit CompositorHarness(Config config) : config_(std::move(config)) {
        char tmpl[] = "/tmp/deskpod-comptest-XXXXXX";
        const char* dir = mkdtemp(tmpl);
        if (!dir)
            throw std::runtime_error("mkdtemp failed");
        dir_ = dir;
        // Before the compositor thread starts, so no thread reads the environment meanwhile.
        setenv("XDG_RUNTIME_DIR", dir_.c_str(), 1);
        static int counter = 0;
        config_.wayland_socket =
            "deskpod-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
        compositor_ = std::make_unique<Compositor>(config_, channels_);
        // start() and run() on one thread, as main() does: the event queue is FIFO per
        // producing thread only, so a DesktopSizeEvent published by start() on another thread
        // could be overtaken by the first frame.
        std::promise<void> started;
        std::future<void> started_result = started.get_future();
        thread_ = std::thread([this, &started] {
            try {
                compositor_->start();
            } catch (...) {
                started.set_exception(std::current_exception());
                return;
            }
            started.set_value();
            exit_code_ = compositor_->run();
        });
        try {
            started_result.get();
        } catch (...) {
            thread_.join();
            throw;
        }
    }

    ~CompositorHarness() {
        stop_clients();
        if (thread_.joinable()) {
            stop();
        }
        compositor_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    int stop() {
        channels_.to_compositor.try_push(ShutdownRequest{});
        thread_.join();
        return exit_code_;
    }
    bool join_within(std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            pump(10ms);
            if (finished_)
                break;
        }
        if (finished_)
            thread_.join();
        return finished_;
    }
    int exit_code() const { return exit_code_; }

    void send(DesktopRequest&& event) {
        ASSERT_TRUE(channels_.to_compositor.try_push(std::move(event)));
    }

    pid_t launch_client(const std::vector<std::string>& args) {
        std::vector<std::string> argv_strings = {test_client_path()};
        argv_strings.insert(argv_strings.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& s : argv_strings)
            argv.push_back(s.data());
        argv.push_back(nullptr);
        const std::string socket = compositor_->socket_name();
        const pid_t pid = fork();
        if (pid == 0) {
            setenv("WAYLAND_DISPLAY", socket.c_str(), 1);
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        clients_.push_back(pid);
        return pid;
    }

    // Applies every queued event; waits up to `timeout` for the first one.
    void pump(std::chrono::milliseconds timeout) {
        pollfd pfd{channels_.to_bridge.doorbell().fd(), POLLIN, 0};
        poll(&pfd, 1, int(timeout.count()));
        channels_.to_bridge.doorbell().drain();
        DesktopEvent event;
        while (channels_.to_bridge.try_pop(event))
            apply(event);
        if (exit_code_ >= 0 && !finished_)
            finished_ = true;
    }

    bool wait_for(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = 10s) {
        const auto deadline = Clock::now() + timeout;
        while (!predicate()) {
            if (Clock::now() >= deadline)
                return false;
            pump(20ms);
        }
        return true;
    }

    uint32_t pixel(int x, int y) const {
        return mirror_[size_t(y) * size_t(width_) + size_t(x)] & 0xffffff;
    }

    // Keeps frame buffers referenced, as a stalled network side would.
    bool hold_frames = false;
    void release_held() { held_.clear(); }

    // SIGTERM, then SIGKILL after 5 s: a client must never hang the test binary (one waiting
    // on a compositor that has already stopped would otherwise block waitpid forever).
    void stop_clients() {
        for (pid_t pid : clients_) {
            kill(pid, SIGTERM);
            bool reaped = false;
            for (int i = 0; i < 500 && !reaped; ++i) {
                reaped = waitpid(pid, nullptr, WNOHANG) == pid;
                if (!reaped)
                    std::this_thread::sleep_for(10ms);
            }
            if (!reaped) {
                ADD_FAILURE() << "test client " << pid << " ignored SIGTERM for 5 s";
                kill(pid, SIGKILL);
                waitpid(pid, nullptr, 0);
            }
        }
        clients_.clear();
    }

    std::string dir() const { return dir_; }
    int width() const { return width_; }
    int height() const { return height_; }

    std::vector<FrameEvent> frames;  // metadata only (buffers released after mirroring)
    std::vector<DesktopSizeEvent> sizes;
    std::vector<CursorEvent> cursors;
    std::vector<SessionStateEvent> sessions;
    std::vector<PongEvent> pongs;
    std::vector<std::string> order;  // event kinds as they arrived

  private:
    void apply(DesktopEvent& event) {
        std::visit(
            [&](auto& e) {
                using T = std::decay_t<decltype(e)>;
                if constexpr (std::is_same_v<T, FrameEvent>) {
                    order.push_back("frame");
                    ASSERT_EQ(e.width, width_) << "frame size differs from the announced size";
                    ASSERT_EQ(e.height, height_);
                    const uint8_t* src = e.buffer.data();
                    for (const Rect& r : e.damage) {
                        for (int y = r.y; y < r.y + r.height; ++y) {
                            std::memcpy(
                                &mirror_[size_t(y) * size_t(width_) + size_t(r.x)],
                                src + size_t(y) * size_t(e.buffer.stride()) + size_t(r.x) * 4,
                                size_t(r.width) * 4);
                        }
                    }
                    if (hold_frames)
                        held_.push_back(e.buffer);
                    FrameEvent meta = e;
                    meta.buffer.reset();
                    frames.push_back(std::move(meta));
                } else if constexpr (std::is_same_v<T, DesktopSizeEvent>) {
                    order.push_back("size");
                    width_ = e.width;
                    height_ = e.height;
                    mirror_.assign(size_t(width_) * size_t(height_), 0);
                    sizes.push_back(e);
                } else if constexpr (std::is_same_v<T, CursorEvent>) {
                    order.push_back("cursor");
                    cursors.push_back(e);
                } else if constexpr (std::is_same_v<T, SessionStateEvent>) {
                    order.push_back("session");
                    sessions.push_back(e);
                } else if constexpr (std::is_same_v<T, PongEvent>) {
                    order.push_back("pong");
                    pongs.push_back(e);
                }
            },
            event);
    }

    Config config_;
    Channels channels_;
    std::unique_ptr<Compositor> compositor_;
    std::thread thread_;
    std::atomic<int> exit_code_{-1};
    bool finished_ = false;
    std::string dir_;
    std::vector<pid_t> clients_;
    int width_ = 0;
    int height_ = 0;
    std::vector<uint32_t> mirror_;
    std::vector<FrameRef> held_;
};

Config test_config() {
    Config config;
    config.backend = BackendKind::headless;
    config.width = 640;
    config.height = 480;
    config.session = "";
    config.xwayland = false;
    config.log_level = LogLevel::warn;
    return config;
}

int64_t damage_area(const FrameEvent& frame) {
    Region region;
    for (const Rect& r : frame.damage)
        region.add(r);
    return region.area();
}

void type_key(CompositorHarness& h, uint32_t code) {
    h.send(KeyInput{code, true});
    h.send(KeyInput{code, false});
}

class CompositorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(test_client_path().empty()) << "DESKPOD_TEST_CLIENT is not set";
        log::init(LogLevel::warn, LogFormat::text);
    }
};

TEST_F(CompositorTest, DesktopWindowInputResizeAndIdle) {
    CompositorHarness h(test_config());

    // Size first, then a first frame with full damage (the empty desktop).
    ASSERT_TRUE(h.wait_for([&] { return !h.frames.empty(); }));
    ASSERT_FALSE(h.sizes.empty());
    EXPECT_EQ(h.order.front(), "size");
    EXPECT_EQ(h.sizes.front().width, 640);
    EXPECT_EQ(h.sizes.front().height, 480);
    EXPECT_EQ(damage_area(h.frames.front()), 640 * 480);
    ASSERT_TRUE(h.wait_for([&] { return !h.sessions.empty(); }));
    EXPECT_TRUE(h.sessions.back().running);  // no session command: ready at once

    // A window fills the desktop with its colour.
    const std::string keys = h.dir() + "/keys.txt";
    const std::string events = h.dir() + "/events.txt";
    h.launch_client({"--color", "ff3366", "--keys-out", keys, "--events-out", events});
    ASSERT_TRUE(h.wait_for([&] {
        return h.pixel(320, 240) == 0xff3366 && h.pixel(0, 0) == 0xff3366 &&
               h.pixel(639, 479) == 0xff3366;
    })) << "window pixels never reached the mirror; centre is "
        << std::hex << h.pixel(320, 240);

    // Keys by evdev code reach the focused window.
    for (uint32_t code : {KEY_H, KEY_E, KEY_L, KEY_L, KEY_O})
        type_key(h, code);
    ASSERT_TRUE(h.wait_for([&] { return read_file(keys) == "hello"; }))
        << "keys-out: '" << read_file(keys) << "'";

    // Shifted characters and characters the us keymap does not have.
    h.send(UnicodeInput{'A', true});
    h.send(UnicodeInput{'A', false});
    h.send(UnicodeInput{0xE9, true});  // é
    h.send(UnicodeInput{0xE9, false});
    h.send(UnicodeInput{0x20AC, true});  // €
    h.send(UnicodeInput{0x20AC, false});
    h.send(KeysymInput{'z', true});
    h.send(KeysymInput{'z', false});
    ASSERT_TRUE(h.wait_for([&] { return read_file(keys) == "helloAé€z"; }))
        << "keys-out: '" << read_file(keys) << "'";
    // The spare-key binding must not disturb ordinary keys afterwards.
    type_key(h, KEY_A);
    ASSERT_TRUE(h.wait_for([&] { return read_file(keys) == "helloAé€za"; }))
        << "keys-out: '" << read_file(keys) << "'";

    // Lock keys from the client (RDP synchronize) apply to typed keys.
    h.send(LockStateInput{true, false, false});
    type_key(h, KEY_B);
    h.send(LockStateInput{false, false, false});
    type_key(h, KEY_B);
    ASSERT_TRUE(h.wait_for([&] { return read_file(keys) == "helloAé€zaBb"; }))
        << "keys-out: '" << read_file(keys) << "'";

    // Switching the layout at run time: KEY_Y is 'z' in German.
    h.send(KeymapRequest{"de", ""});
    type_key(h, KEY_Y);
    h.send(KeymapRequest{"us", ""});
    type_key(h, KEY_Y);
    ASSERT_TRUE(h.wait_for([&] { return read_file(keys) == "helloAé€zaBbzy"; }))
        << "keys-out: '" << read_file(keys) << "'";

    // Pointer: a click inside the window reaches it.
    h.send(PointerMotionInput{100, 120});
    h.send(PointerButtonInput{BTN_LEFT, true});
    h.send(PointerButtonInput{BTN_LEFT, false});
    h.send(PointerAxisInput{false, 2});
    ASSERT_TRUE(h.wait_for([&] {
        const std::string text = read_file(events);
        return text.find("button 272 pressed 100 120") != std::string::npos &&
               text.find("button 272 released") != std::string::npos &&
               text.find("axis vertical 2") != std::string::npos;
    })) << "events-out: '"
        << read_file(events) << "'";

    // Ping is answered.
    h.send(PingRequest{42});
    ASSERT_TRUE(h.wait_for([&] { return !h.pongs.empty(); }));
    EXPECT_EQ(h.pongs.back().id, 42u);

    // Resize: a size event, then full-damage frames of the new size with the window refitted.
    const size_t frames_before = h.frames.size();
    h.send(ResizeRequest{800, 600});
    ASSERT_TRUE(h.wait_for([&] { return h.sizes.back().width == 800; }));
    EXPECT_EQ(h.sizes.back().height, 600);
    ASSERT_TRUE(h.wait_for(
        [&] { return h.frames.size() > frames_before && h.frames.back().width == 800; }));
    size_t first_new = frames_before;
    while (h.frames[first_new].width != 800)
        ++first_new;
    EXPECT_EQ(damage_area(h.frames[first_new]), 800 * 600);
    ASSERT_TRUE(h.wait_for([&] {
        return h.pixel(799, 599) == 0xff3366 && h.pixel(400, 300) == 0xff3366;
    })) << "window was not refitted to 800x600";

    // Requests outside the supported range are clamped.
    h.send(ResizeRequest{100, 50});
    ASSERT_TRUE(h.wait_for([&] { return h.sizes.back().width == 320; }));
    EXPECT_EQ(h.sizes.back().height, 200);

    // Idle means idle: once the client has settled, no frames at all.
    h.wait_for([] { return false; }, 300ms);
    const size_t settled = h.frames.size();
    h.wait_for([] { return false; }, 600ms);
    EXPECT_EQ(h.frames.size(), settled) << "frames produced while nothing changed";

    EXPECT_EQ(h.stop(), 0);
}

TEST_F(CompositorTest, AltTabCyclesFocusAndRaises) {
    CompositorHarness h(test_config());
    ASSERT_TRUE(h.wait_for([&] { return !h.frames.empty(); }));
    const std::string keys_first = h.dir() + "/first.txt";
    const std::string keys_second = h.dir() + "/second.txt";
    h.launch_client({"--color", "112233", "--keys-out", keys_first});
    ASSERT_TRUE(h.wait_for([&] { return h.pixel(320, 240) == 0x112233; }));
    h.launch_client({"--color", "445566", "--keys-out", keys_second});
    ASSERT_TRUE(h.wait_for([&] { return h.pixel(320, 240) == 0x445566; }));

    h.send(KeyInput{KEY_LEFTALT, true});
    type_key(h, KEY_TAB);
    h.send(KeyInput{KEY_LEFTALT, false});
    ASSERT_TRUE(h.wait_for([&] { return h.pixel(320, 240) == 0x112233; }))
        << "Alt+Tab did not raise the other window";
    type_key(h, KEY_X);
    ASSERT_TRUE(h.wait_for([&] { return read_file(keys_first) == "x"; }))
        << "first: '" << read_file(keys_first) << "'";
    EXPECT_EQ(read_file(keys_second), "") << "the Tab of Alt+Tab leaked to a client";

    // A click on the (covered) desktop raises nothing new; a click focuses what is on top.
    h.send(PointerMotionInput{10, 10});
    h.send(PointerButtonInput{BTN_LEFT, true});
    h.send(PointerButtonInput{BTN_LEFT, false});
    type_key(h, KEY_Y);
    ASSERT_TRUE(h.wait_for([&] { return read_file(keys_first) == "xy"; }));
    EXPECT_EQ(h.stop(), 0);
}

TEST_F(CompositorTest, AnimatedClientProducesDamagedFrames) {
    CompositorHarness h(test_config());
    ASSERT_TRUE(h.wait_for([&] { return !h.frames.empty(); }));
    h.launch_client({"--animate"});
    const size_t start = h.frames.size();
    ASSERT_TRUE(h.wait_for([&] { return h.frames.size() >= start + 20; }, 10s))
        << "only " << h.frames.size() - start << " frames from an animating client";
    // Sequence numbers increase and frames stay at the desktop size.
    for (size_t i = 1; i < h.frames.size(); ++i) {
        EXPECT_GT(h.frames[i].seq, h.frames[i - 1].seq);
    }
    EXPECT_EQ(h.stop(), 0);
}

TEST_F(CompositorTest, ExhaustedPoolCarriesDamageUntilBuffersReturn) {
    CompositorHarness h(test_config());
    ASSERT_TRUE(h.wait_for([&] { return !h.frames.empty(); }));
    const uint32_t background = h.pixel(5, 5);

    // A stalled network side: every published buffer stays referenced.
    h.hold_frames = true;
    const uint64_t coalesced_before = metrics().frames_coalesced.value();
    h.launch_client({"--animate"});
    ASSERT_TRUE(h.wait_for([&] { return metrics().frames_coalesced.value() > coalesced_before; }))
        << "the pool never ran out while frames were held";
    const size_t frames_while_held = h.frames.size();
    EXPECT_LE(frames_while_held, 4u + 1u) << "more frames than pool slots while held";

    // The window goes away while nothing can be captured: that damage must be carried.
    h.stop_clients();
    h.wait_for([] { return false; }, 200ms);
    EXPECT_EQ(h.frames.size(), frames_while_held);
    h.hold_frames = false;
    h.release_held();
    ASSERT_TRUE(h.wait_for([&] {
        return h.pixel(320, 240) == background && h.pixel(0, 0) == background &&
               h.pixel(639, 479) == background;
    })) << "carried damage was not captured after buffers returned; centre is "
        << std::hex << h.pixel(320, 240);
    EXPECT_EQ(h.stop(), 0);
}

// One output per monitor: the desktop is the layout's bounding box, each output's pixels land at
// its monitor's place, a window opens on the monitor under the pointer and fills it, pointer
// coordinates follow each monitor's scale, and a smaller layout brings windows home.
TEST_F(CompositorTest, MonitorLayoutGivesOneOutputPerMonitor) {
    CompositorHarness h(test_config());
    ASSERT_TRUE(h.wait_for([&] { return !h.frames.empty(); }));
    const std::string first_ready = h.dir() + "/first-ready.txt";
    h.launch_client({"--color", "112233", "--ready-out", first_ready});
    ASSERT_TRUE(h.wait_for([&] { return h.pixel(320, 240) == 0x112233; }));

    // Two monitors side by side, the right one taller; given in the client's own coordinates
    // (negative: left of its primary), which the desktop shifts to start at 0,0.
    h.send(ResizeRequest(
        MonitorLayout{Monitor{-640, 0, 640, 480, 1.0, false}, Monitor{0, 0, 800, 600, 1.0, true}}));
    ASSERT_TRUE(h.wait_for([&] { return h.sizes.back().width == 1440; }));
    EXPECT_EQ(h.sizes.back().height, 600);
    ASSERT_EQ(h.sizes.back().monitors.size(), 2u);
    EXPECT_EQ(h.sizes.back().monitors[0], (Monitor{0, 0, 640, 480, 1.0, false}));
    EXPECT_EQ(h.sizes.back().monitors[1], (Monitor{640, 0, 800, 600, 1.0, true}));
    // The window stays on the first output (its own monitor), the other shows the background.
    ASSERT_TRUE(h.wait_for([&] {
        return h.pixel(320, 240) == 0x112233 && h.pixel(639, 479) == 0x112233 &&
               h.pixel(1000, 300) != 0x112233 && h.pixel(1000, 300) != 0;
    })) << std::hex
        << h.pixel(320, 240) << " " << h.pixel(1000, 300);
    // Below the shorter monitor lies no output: nothing is drawn there.
    EXPECT_EQ(h.pixel(100, 550), 0u);

    // A new window opens where the pointer is: on the right monitor, filling it.
    const std::string events = h.dir() + "/second-events.txt";
    const std::string ready = h.dir() + "/second-ready.txt";
    h.send(PointerMotionInput{1000, 300});
    h.launch_client({"--color", "445566", "--events-out", events, "--ready-out", ready});
    ASSERT_TRUE(h.wait_for([&] {
        return h.pixel(640, 0) == 0x445566 && h.pixel(1439, 599) == 0x445566;
    })) << std::hex
        << h.pixel(640, 0);
    EXPECT_EQ(h.pixel(320, 240), 0x112233u);
    EXPECT_EQ(h.pixel(639, 0), 0x112233u);
    ASSERT_TRUE(h.wait_for([&] {
        return read_file(ready).find("800x600 scale 1") != std::string::npos;
    })) << read_file(ready);

    // A click on the right monitor lands in the window at monitor-relative coordinates.
    h.send(PointerMotionInput{1040, 100});
    h.send(PointerButtonInput{BTN_LEFT, true});
    h.send(PointerButtonInput{BTN_LEFT, false});
    ASSERT_TRUE(h.wait_for([&] {
        return read_file(events).find("button 272 pressed 400 100") != std::string::npos;
    })) << read_file(events);

    // HiDPI: the right monitor at scale 2. Its window gets half the size in layout units and
    // draws at buffer scale 2, so it still covers every pixel; clicks are scaled down.
    h.send(ResizeRequest(
        MonitorLayout{Monitor{0, 0, 640, 480, 1.0, false}, Monitor{640, 0, 800, 600, 2.0, true}}));
    ASSERT_TRUE(h.wait_for([&] {
        return h.sizes.back().monitors.size() == 2 && h.sizes.back().monitors[1].scale == 2.0;
    }));
    ASSERT_TRUE(h.wait_for([&] {
        return read_file(ready).find("400x300 scale 2") != std::string::npos;
    })) << read_file(ready);
    ASSERT_TRUE(h.wait_for([&] {
        return h.pixel(640, 0) == 0x445566 && h.pixel(1439, 599) == 0x445566 &&
               h.pixel(320, 240) == 0x112233;
    }));
    h.send(PointerMotionInput{1040, 100});
    h.send(PointerButtonInput{BTN_LEFT, true});
    h.send(PointerButtonInput{BTN_LEFT, false});
    ASSERT_TRUE(h.wait_for([&] {
        return read_file(events).find("button 272 pressed 200 50") != std::string::npos;
    })) << read_file(events);

    // Back to one monitor: the second output goes, its window moves to the remaining one.
    h.send(ResizeRequest{640, 480});
    ASSERT_TRUE(h.wait_for([&] { return h.sizes.back().width == 640; }));
    EXPECT_EQ(h.sizes.back().monitors.size(), 1u);
    ASSERT_TRUE(h.wait_for([&] {
        return h.pixel(0, 0) == 0x445566 && h.pixel(639, 479) == 0x445566;
    })) << std::hex
        << h.pixel(0, 0);

    // Layouts that cannot be a desktop are refused; the desktop stays as it is.
    const size_t sizes_before = h.sizes.size();
    h.send(ResizeRequest(
        MonitorLayout{Monitor{0, 0, 800, 600, 1.0, true}, Monitor{400, 0, 800, 600, 1.0, false}}));
    ASSERT_TRUE(h.wait_for([&] { return h.sizes.size() > sizes_before; }));
    EXPECT_EQ(h.sizes.back().width, 640);
    EXPECT_EQ(h.sizes.back().monitors.size(), 1u);

    EXPECT_EQ(h.stop(), 0);
}

TEST_F(CompositorTest, SessionExitQuitEndsTheLoop) {
    Config config = test_config();
    config.session = "sleep 0.2";
    config.session_exit = SessionExit::quit;
    CompositorHarness h(config);
    ASSERT_TRUE(h.join_within(10s)) << "run() did not return after the session exited";
    EXPECT_EQ(h.exit_code(), 0);
    ASSERT_GE(h.sessions.size(), 2u);
    EXPECT_TRUE(h.sessions.front().running);
    EXPECT_FALSE(h.sessions.back().running);
}

TEST_F(CompositorTest, SessionRestartsAfterExit) {
    Config config = test_config();
    const std::string marker = "/tmp/deskpod-comptest-restart-" + std::to_string(getpid());
    std::filesystem::remove(marker);
    config.session = "echo x >> " + marker;
    config.session_exit = SessionExit::restart;
    CompositorHarness h(config);
    // The command dies at once, so it is restarted with a growing delay (0.5 s, then 1 s).
    ASSERT_TRUE(h.wait_for([&] { return read_file(marker).size() >= 4; }, 10s))
        << "session was not restarted: '" << read_file(marker) << "'";
    EXPECT_EQ(h.stop(), 0);
    std::filesystem::remove(marker);
}

}  // namespace
}  // namespace deskpod
