// deskpod: a headless Wayland desktop served over RDP and the Guacamole protocol.
#include <signal.h>

#include <cstdio>
#include <exception>

#include "compositor/compositor.hpp"
#include "rdp-bridge/bridge.hpp"
#include "rdp-bridge/web/web_assets.hpp"
#include "shared/channels.hpp"
#include "shared/config.hpp"
#include "shared/log.hpp"
#include "shared/metrics.hpp"

int main(int argc, char** argv) {
    using namespace deskpod;
    Config config;
    try {
        switch (parse_config(argc, argv, config)) {
            case ParseOutcome::run:
                break;
            case ParseOutcome::exit_ok:
                return 0;
            case ParseOutcome::show_licenses: {
                const std::string_view text = web::licenses_text();
                std::fwrite(text.data(), 1, text.size(), stdout);
                return 0;
            }
        }
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "deskpod: %s\n", e.what());
        std::fprintf(stderr, "Try 'deskpod --help' for the accepted options.\n");
        return 2;
    }
    log::init(config.log_level, config.log_format);
    const log::Logger logger("main");

    try {
        resolve_secrets(config);
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "deskpod: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        logger.error("cannot prepare the state dir {}: {}", config.state_dir, e.what());
        return 1;
    }

    // Block the termination signals in every thread; the compositor loop receives them
    // through a signalfd and shuts down in order.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    // SIGUSR1/SIGUSR2 change the log level at run time (log::start_signal_control).
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    log::start_signal_control(config.log_level);
    signal(SIGPIPE, SIG_IGN);

    Channels channels;
    // Queue depths for /metrics, read only when somebody scrapes.
    metrics().set_queue_sampler([&channels] {
        return std::vector<QueueSample>{
            {"to_bridge", channels.to_bridge.size_approx(), channels.to_bridge.capacity(),
             channels.to_bridge.dropped()},
            {"to_compositor", channels.to_compositor.size_approx(),
             channels.to_compositor.capacity(), channels.to_compositor.dropped()},
            {"frame_pool", channels.frames.in_use(), channels.frames.size(), 0},
        };
    });
    struct Teardown {
        ~Teardown() {
            metrics().set_queue_sampler({});
            log::stop_signal_control();
        }
    } teardown;
    Compositor compositor(config, channels);
    Bridge bridge(config, channels);
    try {
        compositor.start();
        bridge.start();
    } catch (const std::exception& e) {
        logger.error("{}", e.what());
        bridge.stop();
        return 1;
    }

    std::printf("deskpod %s is running\n", DESKPOD_VERSION);
    if (config.rdp.enabled) {
        std::printf("  RDP:        %s  (e.g. xfreerdp /v:HOST:%u /u:%s /cert:ignore)\n",
                    config.rdp.to_string().c_str(), unsigned(config.rdp.port), config.user.c_str());
    }
    if (config.http.enabled) {
        std::printf("  Web client: http://%s/  (health: /healthz, metrics: /metrics)\n",
                    config.http.to_string().c_str());
    }
    if (config.guac.enabled) {
        std::printf(
            "  Guacamole:  %s  (guacd-compatible; point guacamole-client or guacamole-lite here)\n",
            config.guac.to_string().c_str());
    }
    std::printf("  User:       %s\n", config.user.c_str());
    if (config.password_generated) {
        std::printf("  Password:   %s  (generated; stored in %s/password)\n",
                    config.password.c_str(), config.state_dir.c_str());
    } else {
        std::printf("  Password:   (as configured)\n");
    }
    std::printf("  Wayland:    WAYLAND_DISPLAY=%s\n", compositor.socket_name());
    std::fflush(stdout);

    const int code = compositor.run();
    logger.info("shutting down");
    bridge.stop();
    return code;
}
