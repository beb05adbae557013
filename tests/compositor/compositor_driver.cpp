// deskpod-compositor-driver: runs only the compositor (no network side) with deskpod's own
// command line, consuming its events the way the bridge would. For trying the compositor by
// hand (grim, wl-copy, foot, Xwayland apps) and for tests that need no RDP.
#include <poll.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <thread>
#include <type_traits>
#include <variant>

#include "compositor/compositor.hpp"
#include "shared/channels.hpp"
#include "shared/config.hpp"
#include "shared/log.hpp"

int main(int argc, char** argv) {
    using namespace deskpod;
    Config config;
    try {
        if (parse_config(argc, argv, config) == ParseOutcome::exit_ok)
            return 0;
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "deskpod-compositor-driver: %s\n", e.what());
        return 2;
    }
    log::init(config.log_level, config.log_format);
    const log::Logger logger("driver");

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);

    Channels channels;
    Compositor compositor(config, channels);
    try {
        compositor.start();
    } catch (const std::exception& e) {
        logger.error("{}", e.what());
        return 1;
    }
    std::printf("WAYLAND_DISPLAY=%s\n", compositor.socket_name());
    std::fflush(stdout);

    std::atomic<bool> done{false};
    std::thread consumer([&] {
        uint64_t frames = 0;
        while (!done.load()) {
            DesktopEvent event;
            while (channels.to_bridge.try_pop(event)) {
                std::visit(
                    [&](auto& e) {
                        using T = std::decay_t<decltype(e)>;
                        if constexpr (std::is_same_v<T, FrameEvent>) {
                            ++frames;
                            logger.debug("frame {} {}x{} rects {}", e.seq, e.width, e.height,
                                         e.damage.size());
                        } else if constexpr (std::is_same_v<T, DesktopSizeEvent>) {
                            logger.info("desktop size {}x{}", e.width, e.height);
                        } else if constexpr (std::is_same_v<T, CursorEvent>) {
                            logger.info("cursor {}x{} hidden={} serial={}", e.width, e.height,
                                        e.hidden, e.serial);
                        } else if constexpr (std::is_same_v<T, SessionStateEvent>) {
                            logger.info("session running={}", e.running);
                        }
                    },
                    event);
            }
            // Sleep on the doorbell like the bridge does, so an idle desktop idles here too.
            pollfd pfd{channels.to_bridge.doorbell().fd(), POLLIN, 0};
            poll(&pfd, 1, 200);
            channels.to_bridge.doorbell().drain();
        }
        logger.info("{} frames received", frames);
    });
    const int code = compositor.run();
    done = true;
    consumer.join();
    return code;
}
