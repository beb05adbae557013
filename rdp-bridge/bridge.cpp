#include "rdp-bridge/bridge.hpp"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <variant>

#include "rdp-bridge/asio.hpp"
#include "rdp-bridge/clipboard/broker.hpp"
#include "rdp-bridge/desktop_mirror.hpp"
#include "rdp-bridge/guac/server.hpp"
#include "rdp-bridge/http/http_server.hpp"
#include "rdp-bridge/rdp/freerdp.hpp"
#include "rdp-bridge/rdp/server.hpp"
#include "shared/log.hpp"
#include "shared/metrics.hpp"
#include "shared/overloaded.hpp"
#include "shared/thread_affinity.hpp"

namespace deskpod {

namespace asio = boost::asio;

namespace {
constexpr std::chrono::seconds kPingTimeout{2};

// FreeRDP's process-wide setup, once.
void init_freerdp() {
    static std::once_flag once;
    std::call_once(once, [] {
        winpr_InitializeSSL(WINPR_SSL_INIT_DEFAULT);
        WTSRegisterWtsApiFunctionTable(FreeRDP_InitWtsApi());
    });
}
}  // namespace

struct Bridge::Impl {
    Impl(const Config& cfg, Channels& ch)
        : config(cfg),
          channels(ch),
          desktop(cfg.width, cfg.height, cfg.max_clients),
          clipboard(io, ch, cfg.clipboard_limit),
          doorbell(io),
          ping_timer(io),
          guac_host{io, cfg, ch, desktop, guac::new_connection_id(), &clipboard} {}

    void start();
    void stop();
    void shutdown();
    void wait_doorbell();
    void drain();
    void handle(DesktopEvent& event);
    void ping(std::function<void(bool)> done);
    void finish_pings(bool alive);

    const Config& config;
    Channels& channels;
    log::Logger log{"bridge"};
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    DesktopMirror desktop;
    // Shared by every protocol's viewers; declared before them so it outlives them.
    ClipboardBroker clipboard;
    std::unique_ptr<RdpServer> rdp;
    std::unique_ptr<HttpServer> http;
    asio::posix::stream_descriptor doorbell;
    std::thread thread;
    std::mutex stop_mutex;
    bool started = false;
    bool stopped = false;
    bool shutting_down = false;
    bool session_running = false;

    // Health probes waiting for the compositor's pong.
    uint64_t next_ping_id = 1;
    std::unordered_map<uint64_t, std::function<void(bool)>> pending_pings;
    asio::steady_timer ping_timer;

    // Guacamole users (TCP endpoint and the web client's tunnel) share this.
    guac::Host guac_host;
    std::unique_ptr<guac::Server> guac;
};

void Bridge::Impl::start() {
    init_freerdp();
    const int fd = dup(channels.to_bridge.doorbell().fd());
    if (fd < 0)
        throw std::runtime_error("cannot watch the frame queue: dup failed");
    doorbell.assign(fd);

    if (config.rdp.enabled) {
        rdp = std::make_unique<RdpServer>(io, config, channels, desktop, clipboard);
        rdp->listen();
    }
    if (config.guac.enabled) {
        guac = std::make_unique<guac::Server>(guac_host);
        guac->listen();
    }
    if (config.http.enabled) {
        HttpProbes probes;
        probes.compositor_alive = [this](std::function<void(bool)> done) { ping(std::move(done)); };
        probes.ready = [this] {
            const bool listening = (!config.rdp.enabled || (rdp && rdp->listening())) &&
                                   (!config.guac.enabled || (guac && guac->listening()));
            return session_running && listening && !shutting_down;
        };
        http = std::make_unique<HttpServer>(io, config, std::move(probes));
        http->enable_web_client(guac_host);
        http->listen();
        http->start();
    }
    if (rdp)
        rdp->start();
    if (guac)
        guac->start();
    wait_doorbell();
    // Frames may have been queued before the doorbell was watched.
    asio::post(io, [this] { drain(); });
    work.emplace(io.get_executor());
    thread = std::thread([this] {
        network_thread.bind_to_current_thread();
        try {
            io.run();
        } catch (const std::exception& e) {
            log.error("network loop failed: {}", e.what());
        }
        network_thread.unbind();
    });
    started = true;
}

void Bridge::Impl::wait_doorbell() {
    doorbell.async_wait(asio::posix::stream_descriptor::wait_read,
                        [this](const boost::system::error_code& ec) {
                            if (ec || shutting_down)
                                return;
                            drain();
                            wait_doorbell();
                        });
}

void Bridge::Impl::drain() {
    channels.to_bridge.doorbell().drain();
    DesktopEvent event;
    while (channels.to_bridge.try_pop(event))
        handle(event);
}

void Bridge::Impl::handle(DesktopEvent& event) {
    network_thread.check("Bridge::handle");
    std::visit(Overloaded{
                   [&](FrameEvent& frame) {
                       desktop.apply_frame(frame);
                       // The pool slot returns now, not when the variant is reused.
                       frame.buffer.reset();
                   },
                   [&](const DesktopSizeEvent& size) {
                       log.info("desktop is {}x{} ({})", size.width, size.height,
                                describe_layout(size.monitors));
                       desktop.set_layout(size.width, size.height, size.monitors);
                       if (rdp)
                           rdp->desktop_size_settled();
                   },
                   [&](const CursorEvent& cursor) { desktop.set_cursor(cursor); },
                   [&](const SessionStateEvent& session) {
                       session_running = session.running;
                       metrics().session_running.set(session.running ? 1 : 0);
                   },
                   [&](const SelectionOfferEvent& offer) { clipboard.handle(offer); },
                   [&](const SelectionDataEvent& data) { clipboard.handle(data); },
                   [&](const PasteRequestEvent& paste) { clipboard.handle(paste); },
                   [&](const PongEvent& pong) {
                       // One answer proves the loop is alive for every probe still waiting.
                       if (pending_pings.count(pong.id))
                           finish_pings(true);
                   },
               },
               event);
}

void Bridge::Impl::ping(std::function<void(bool)> done) {
    const uint64_t id = next_ping_id++;
    if (shutting_down || !channels.to_compositor.try_push(PingRequest{id})) {
        done(false);
        return;
    }
    const bool timer_idle = pending_pings.empty();
    pending_pings.emplace(id, std::move(done));
    if (!timer_idle)
        return;
    ping_timer.expires_after(kPingTimeout);
    ping_timer.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        finish_pings(false);
    });
}

void Bridge::Impl::finish_pings(bool alive) {
    ping_timer.cancel();
    auto waiting = std::move(pending_pings);
    pending_pings.clear();
    for (auto& [id, done] : waiting)
        done(alive);
}

void Bridge::Impl::shutdown() {
    shutting_down = true;
    finish_pings(false);
    if (rdp)
        rdp->stop();
    if (guac)
        guac->stop();
    if (http)
        http->stop();
    boost::system::error_code ec;
    doorbell.cancel(ec);
    doorbell.close(ec);
    work.reset();
    // Peers tear down in handlers posted by rdp->stop(); stop the loop only after them.
    asio::post(io, [this] { asio::post(io, [this] { io.stop(); }); });
}

void Bridge::Impl::stop() {
    std::lock_guard<std::mutex> lock(stop_mutex);
    if (stopped)
        return;
    stopped = true;
    if (!started) {
        // start() failed or never ran: nothing runs the loop; release what start() opened.
        rdp.reset();
        guac.reset();
        return;
    }
    asio::post(io, [this] { shutdown(); });
    if (thread.joinable())
        thread.join();
    rdp.reset();
    guac.reset();
    http.reset();
    log.info("network loop stopped");
}

Bridge::Bridge(const Config& config, Channels& channels)
    : impl_(std::make_unique<Impl>(config, channels)) {}

Bridge::~Bridge() {
    stop();
}

void Bridge::start() {
    impl_->start();
}

void Bridge::stop() {
    impl_->stop();
}

}  // namespace deskpod
