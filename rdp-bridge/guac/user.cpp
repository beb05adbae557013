#include "rdp-bridge/guac/user.hpp"

#include <linux/input-event-codes.h>

#include <algorithm>
#include <cmath>

#include "rdp-bridge/guac/codecs.hpp"
#include "rdp-bridge/image/png_encoder.hpp"
#include "shared/monitors.hpp"

namespace deskpod::guac {

using Clock = std::chrono::steady_clock;

namespace {
// Browsers report every step of a window drag; the desktop follows the last one.
constexpr std::chrono::milliseconds kResizeSettle{250};
// The cursor lives in this off-screen buffer (negative indices are buffers).
constexpr int kCursorBuffer = -1;

uint64_t now_ms() {
    return uint64_t(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count());
}
}  // namespace

User::User(Host& host, Transport& transport, Protocol protocol, std::string log_id)
    : host_(host),
      transport_(transport),
      protocol_(protocol),
      log_(protocol == Protocol::web ? "web" : "guac", std::move(log_id)),
      handshake_(host.connection_id),
      pacer_(host.io, kMaxFramesInFlight, [this] { flush(); }),
      deadline_(host.io),
      ticker_(host.io),
      resize_timer_(host.io),
      refine_timer_(host.io) {
    last_sent_ = last_received_ = Clock::now();
}

User::~User() {
    stop();
}

void User::start_handshake() {
    deadline_.expires_after(kHandshakeTimeout);
    deadline_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_ || in_session_)
            return;
        log_.warn("handshake not finished within {} s", kHandshakeTimeout.count());
        fail(Status::client_timeout, "Handshake timed out.");
    });
}

void User::start_session(const ClientInfo& info) {
    deadline_.cancel();
    info_ = info;
    DesktopMirror& desktop = host_.desktop;
    const bool first = desktop.seats_in_use() == 0;
    if (!desktop.try_claim_seat(protocol_)) {
        metrics().clients_refused[protocol_].add();
        log_.warn("refused: {} of {} seats in use", desktop.seats_in_use(), desktop.max_seats());
        fail(Status::client_too_many, "Too many users are connected to this desktop.");
        return;
    }
    seated_ = true;
    in_session_ = true;
    const ImageFormats formats = ImageFormats::from_mimetypes(info.image_mimetypes);
    display_ = std::make_unique<DisplayEncoder>(formats);
    log_.info("session: {} {}x{}@{}dpi, protocol {}, images png{}{}{}{}", info.name, info.width,
              info.height, info.dpi, info.version.to_string(), formats.jpeg ? "+jpeg" : "",
              formats.webp ? "+webp" : "", info.read_only ? ", read-only" : "",
              info.join ? ", joined" : "");
    // The first viewer chooses the desktop size and scale, as with RDP; later ones watch it as
    // it is.
    scale_ = scale_for_dpi(info.dpi);
    if (first && !info.read_only) {
        wanted_w_ = std::clamp(info.width, MonitorLimits::kMinWidth, MonitorLimits::kMaxSide);
        wanted_h_ = std::clamp(info.height, MonitorLimits::kMinHeight, MonitorLimits::kMaxSide);
        const MonitorLayout wanted = single_monitor(wanted_w_, wanted_h_, scale_);
        if (wanted != desktop.monitors())
            push_input(ResizeRequest(wanted));
    }
    desktop.add_viewer(this);
    if (host_.clipboard) {
        clipboard_registered_ = true;
        host_.clipboard->add_client(this, protocol_);
    }
    on_resize(desktop.width(), desktop.height());
    if (desktop.has_cursor())
        send_cursor();
    tick();
}

void User::receive(std::string_view bytes) {
    if (stopped_)
        return;
    parser_.append(bytes);
    Instruction in;
    while (!stopped_) {
        const Parser::Status status = parser_.next(in);
        if (status == Parser::Status::need_more)
            return;
        if (status == Parser::Status::error) {
            protocol_error(parser_.error_message());
            return;
        }
        on_instruction(in);
    }
}

void User::protocol_error(const std::string& why) {
    log_.warn("malformed instruction: {}", why);
    fail(Status::client_bad_request, "Malformed instruction.");
}

void User::on_instruction(const Instruction& in) {
    if (stopped_)
        return;
    note_activity();
    if (in_session_) {
        handle(in);
        return;
    }
    const Handshake::Step step = handshake_.on_instruction(in);
    if (!step.reply.empty())
        send(step.reply);
    if (step.failure) {
        log_.warn("handshake failed: {}", step.failure_message);
        fail(*step.failure, step.failure_message);
        return;
    }
    if (step.done)
        start_session(handshake_.info());
}

void User::handle(const Instruction& in) {
    const std::string& op = in.opcode;
    if (op == "sync") {
        handle_sync(in);
    } else if (op == "mouse") {
        if (!info_.read_only)
            handle_mouse(in);
    } else if (op == "key") {
        if (info_.read_only || in.args.size() < 2)
            return;
        const auto keysym = parse_int(in.args[0], 0, 0x7FFFFFFF);
        if (!keysym)
            return;
        push_input(KeysymInput{uint32_t(*keysym), in.args[1] == "1"});
    } else if (op == "size") {
        if (!info_.read_only)
            handle_size(in);
    } else if (op == "disconnect") {
        log_.info("client disconnected");
        transport_.close();
    } else if (op == "clipboard" || op == "blob" || op == "end") {
        if (!info_.read_only)
            handle_clipboard(in);
    } else if (op == "nop" || op == "ack") {
        // Keep-alives and stream acknowledgements need no answer.
    } else {
        log_.debug("ignoring instruction \"{}\"", op);
    }
}

void User::handle_mouse(const Instruction& in) {
    if (in.args.size() < 3)
        return;
    const auto x = parse_int(in.args[0], -100000, 100000);
    const auto y = parse_int(in.args[1], -100000, 100000);
    const auto mask = parse_int(in.args[2], 0, 0xFFFF);
    if (!x || !y || !mask)
        return;
    const DesktopMirror& d = host_.desktop;
    const int32_t cx = std::clamp(*x, 0, std::max(0, d.width() - 1));
    const int32_t cy = std::clamp(*y, 0, std::max(0, d.height() - 1));
    if (cx != mouse_x_ || cy != mouse_y_) {
        mouse_x_ = cx;
        mouse_y_ = cy;
        push_input(PointerMotionInput{double(cx), double(cy)});
    }
    // Guacamole's mask: 1 left, 2 middle, 4 right, 8 wheel up, 16 wheel down.
    static constexpr struct {
        int bit;
        uint32_t button;
    } kButtons[] = {{1, BTN_LEFT}, {2, BTN_MIDDLE}, {4, BTN_RIGHT}};
    const int changed = *mask ^ mouse_mask_;
    for (const auto& b : kButtons) {
        if (changed & b.bit)
            push_input(PointerButtonInput{b.button, (*mask & b.bit) != 0});
    }
    // The wheel arrives as a press and release of its "button": one notch per press.
    if ((changed & 8) && (*mask & 8))
        push_input(PointerAxisInput{false, -1});
    if ((changed & 16) && (*mask & 16))
        push_input(PointerAxisInput{false, 1});
    mouse_mask_ = *mask;
}

void User::handle_sync(const Instruction& in) {
    if (in.args.empty())
        return;
    uint64_t ts = 0;
    try {
        ts = std::stoull(in.args[0]);
    } catch (...) {
        return;
    }
    // Acknowledges that frame and every earlier one.
    const size_t acknowledged = pacer_.acknowledge(ts);
    if (acknowledged > 0)
        metrics().frames_sent[protocol_].add(acknowledged);
}

double scale_for_dpi(int dpi) {
    // Guacamole clients send their device pixels and 96 dpi per device pixel ratio (a 2x
    // screen: 192). guacd's RDP plugin turns that into a desktop scale factor the same way.
    if (dpi <= 96 || dpi > 96 * 5)
        return 1.0;
    return std::round(dpi / 96.0 * 4) / 4;  // quarter steps: 1.25, 1.5, 2 ...
}

void User::handle_size(const Instruction& in) {
    if (in.args.size() < 2)
        return;
    const auto w = parse_int(in.args[0], 1, 100000), h = parse_int(in.args[1], 1, 100000);
    if (!w || !h)
        return;
    wanted_w_ = std::clamp(*w, MonitorLimits::kMinWidth, MonitorLimits::kMaxSide);
    wanted_h_ = std::clamp(*h, MonitorLimits::kMinHeight, MonitorLimits::kMaxSide);
    resize_timer_.expires_after(kResizeSettle);
    resize_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_)
            return;
        const MonitorLayout wanted = single_monitor(wanted_w_, wanted_h_, scale_);
        if (wanted == host_.desktop.monitors())
            return;
        log_.info("client asks for {}x{}", wanted_w_, wanted_h_);
        push_input(ResizeRequest(wanted));
    });
}

void User::push_input(DesktopRequest event) {
    if (host_.channels.to_compositor.try_push(std::move(event))) {
        metrics().input_events.add();
    } else {
        metrics().input_dropped.add();
    }
}

void User::fail(Status status, const std::string& message) {
    if (stopped_)
        return;
    send(instruction("error", message, int(status)));
    transport_.close();
    stop();
}

void User::send(std::string data) {
    if (stopped_ || data.empty())
        return;
    if (transport_.backlog() > kCloseBacklog) {
        // Frames, the clipboard and the cursor wait within their budgets, so only a client
        // that reads nothing while it keeps sending gets here.
        log_.warn("disconnecting: the client stopped reading ({} bytes queued, limit {})",
                  transport_.backlog(), kCloseBacklog);
        metrics().viewers_stalled[protocol_].add();
        stop();
        transport_.abort();
        return;
    }
    last_sent_ = Clock::now();
    transport_.send(std::move(data));
}

void User::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    pacer_.stop();
    deadline_.cancel();
    ticker_.cancel();
    resize_timer_.cancel();
    refine_timer_.cancel();
    if (clipboard_registered_) {
        clipboard_registered_ = false;
        host_.clipboard->remove_client(this);
    }
    if (in_session_) {
        host_.desktop.remove_viewer(this);
        if (!info_.read_only)
            host_.channels.to_compositor.try_push(ReleaseAllInput{});
    }
    if (seated_) {
        seated_ = false;
        host_.desktop.release_seat(protocol_);
    }
}

void User::tick() {
    // Wake only at the next deadline (a keep-alive `nop` kKeepAlive after the last thing sent,
    // or the receive timeout), not on a fixed period: a busy session never wakes this timer,
    // and an idle one wakes about once per keep-alive interval, as the protocol requires.
    ticker_.expires_at(std::min(last_sent_ + kKeepAlive, last_received_ + kReceiveTimeout));
    ticker_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_)
            return;
        const auto now = Clock::now();
        if (now - last_received_ >= kReceiveTimeout) {
            log_.warn("client silent for {} s", kReceiveTimeout.count());
            fail(Status::client_timeout, "User is not responding.");
            return;
        }
        // Like libguac's keep-alive: a `nop` only when nothing else was sent for a while, so
        // clients and proxies (guacamole-lite drops guacd after 10 s of silence) stay
        // connected.
        if (now - last_sent_ >= kKeepAlive) {
            // Bytes still queued will tell the client the connection lives once it reads;
            // a `nop` behind them would only add to the backlog.
            if (transport_.backlog() == 0)
                send(instruction("nop"));
            else
                last_sent_ = now;
        }
        tick();
    });
}

void User::on_damage(const Region& damage) {
    pacer_.add_damage(damage, host_.desktop.last_captured_at());
}

void User::on_resize(int32_t width, int32_t height) {
    if (!in_session_ || stopped_)
        return;
    send(instruction("size", 0, width, height));
    display_->reset(width, height);
    pacer_.replace(Rect{0, 0, width, height}, Clock::now());
}

void User::on_cursor(const CursorEvent&) {
    send_cursor();
}

void User::send_cursor() {
    if (!in_session_ || stopped_)
        return;
    // Only the latest cursor matters: above the budget it waits for the backlog to drain.
    cursor_pending_ = transport_.backlog() > kMaxBacklog;
    if (cursor_pending_)
        return;
    const CursorEvent& c = host_.desktop.cursor();
    const int w = c.hidden ? 1 : std::max(1, c.width);
    const int h = c.hidden ? 1 : std::max(1, c.height);
    // Guacamole wants straight alpha; the compositor gives premultiplied ARGB.
    std::vector<uint8_t> rgba(size_t(w) * h * 4, 0);
    if (!c.hidden && c.pixels.size() >= size_t(w) * h) {
        for (size_t i = 0; i < size_t(w) * h; ++i) {
            const uint32_t p = c.pixels[i];
            const uint32_t a = p >> 24;
            auto un = [a](uint32_t v) { return a ? std::min<uint32_t>(255, v * 255 / a) : 0; };
            rgba[i * 4 + 0] = uint8_t(un((p >> 16) & 0xFF));
            rgba[i * 4 + 1] = uint8_t(un((p >> 8) & 0xFF));
            rgba[i * 4 + 2] = uint8_t(un(p & 0xFF));
            rgba[i * 4 + 3] = uint8_t(a);
        }
    }
    std::string out = instruction("size", kCursorBuffer, w, h);
    append_image_stream(out, 0, kCompositeSrc, kCursorBuffer, "image/png", 0, 0,
                        encode_png_rgba(rgba.data(), w, h));
    out += instruction("cursor", c.hidden ? 0 : c.hotspot_x, c.hidden ? 0 : c.hotspot_y,
                       kCursorBuffer, 0, 0, w, h);
    send(std::move(out));
}

void User::on_drained() {
    if (cursor_pending_)
        send_cursor();
    pump_clipboard();
    if (pacer_.has_pending())
        pacer_.schedule();
}

void User::flush() {
    if (!in_session_ || stopped_ || !pacer_.has_pending())
        return;
    // A slow client keeps at most a few frames unacknowledged; damage coalesces in the pacer
    // meanwhile, so it always gets the latest pixels rather than a backlog.
    if (pacer_.window_full())
        return;
    if (transport_.backlog() > kMaxBacklog)
        return;
    const auto started = Clock::now();
    std::string out;
    const DesktopMirror& desktop = host_.desktop;
    EncodeStats stats;
    try {
        stats = display_->encode(desktop.image(), pacer_.pending(), out, started);
    } catch (const std::exception& e) {
        log_.error("encoding failed: {}", e.what());
        fail(Status::server_error, "Encoding failed.");
        return;
    }
    const auto since = pacer_.take().captured_at;
    schedule_refine();
    if (out.empty())
        return;
    uint64_t ts = std::max(now_ms(), last_sync_ + 1);
    last_sync_ = ts;
    out += instruction("sync", ts);
    pacer_.frame_sent(ts);
    metrics().frames_encoded[protocol_].add();
    metrics().bytes_sent[protocol_].add(out.size());
    metrics().encode_seconds[protocol_].observe(
        std::chrono::duration<double>(Clock::now() - started).count());
    if (since != Clock::time_point{})
        metrics().capture_to_send_seconds[protocol_].observe(
            std::chrono::duration<double>(Clock::now() - since).count());
    log_.debug(
        "frame {}: {} cells, {} images (png {}, lossless webp {}, jpeg {}, webp {}), {} fills, "
        "{} scroll copies, {} from buffers, {} kept, {} refined, {} bytes",
        ts, stats.cells_changed, stats.rects, stats.png, stats.webp_lossless, stats.jpeg,
        stats.webp, stats.fills, stats.copies, stats.cache_hits, stats.cached, stats.refined,
        out.size());
    send(std::move(out));
}

void User::schedule_refine() {
    const std::optional<Clock::time_point> due = display_->refine_due();
    if (!due) {
        refine_timer_.cancel();
        return;
    }
    // No polling: the timer wakes once, when the earliest lossy area has been still long
    // enough; the frame it causes refines it (and re-arms the timer for the others).
    refine_timer_.expires_at(*due);
    refine_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_ || !display_ || display_->lossy().empty())
            return;
        pacer_.add(display_->lossy().extents());
    });
}

}  // namespace deskpod::guac
