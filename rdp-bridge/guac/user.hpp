// One Guacamole user: a Viewer of the DesktopMirror that speaks the Guacamole protocol over some
// Transport (guacd-compatible TCP, or the built-in client's WebSocket tunnel). Owns the
// handshake (TCP only), display encoding paced by the client's `sync` replies, cursor, input,
// keep-alive and the seat. Network thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "rdp-bridge/asio.hpp"
#include "rdp-bridge/clipboard/broker.hpp"
#include "rdp-bridge/desktop_mirror.hpp"
#include "rdp-bridge/frame_pacer.hpp"
#include "rdp-bridge/guac/display.hpp"
#include "rdp-bridge/guac/handshake.hpp"
#include "rdp-bridge/guac/parser.hpp"
#include "shared/channels.hpp"
#include "shared/config.hpp"
#include "shared/log.hpp"
#include "shared/metrics.hpp"

namespace deskpod::guac {

// What every Guacamole user shares: the loop, the desktop and the way to the compositor.
struct Host {
    boost::asio::io_context& io;
    const Config& config;
    Channels& channels;
    DesktopMirror& desktop;
    std::string connection_id;             // "$<uuid>": the one desktop, for `ready` and joins
    ClipboardBroker* clipboard = nullptr;  // text clipboard both ways when set
};

// A byte pipe to the client. send() queues; the transport writes in order.
class Transport {
  public:
    virtual ~Transport() = default;
    virtual void send(std::string data) = 0;
    // Bytes queued but not yet written to the socket.
    virtual size_t backlog() const = 0;
    // Flushes what is queued, then closes. The transport calls User::stop() when closed.
    virtual void close() = 0;
    // Closes without flushing (the client stopped reading), on a later turn of the loop, so
    // the User that asks is still there when the call returns.
    virtual void abort() = 0;
};

// The desktop scale a Guacamole client's handshake dpi asks for (96 dpi: 1.0, 192: 2.0, in
// quarter steps; out of 97..480: 1.0).
double scale_for_dpi(int dpi);

class User final : public Viewer, public ClipboardClient {
  public:
    User(Host& host, Transport& transport, Protocol protocol, std::string log_id);
    ~User() override;
    User(const User&) = delete;
    User& operator=(const User&) = delete;

    // guacd-compatible endpoint: expect `select` ... `connect` within the handshake timeout.
    void start_handshake();
    // The WebSocket tunnel already knows the client (from its query string): start at once.
    void start_session(const ClientInfo& info);
    // Bytes from the client, in any split.
    void receive(std::string_view bytes);
    // One instruction a transport already parsed (the WebSocket tunnel does, to see its own
    // internal instructions first).
    void on_instruction(const Instruction& in);
    // The transport's parser failed: `error` and close, as for malformed bytes.
    void protocol_error(const std::string& why);
    // Traffic that does not reach on_instruction (tunnel pings) still proves the client lives.
    void note_activity() { last_received_ = std::chrono::steady_clock::now(); }
    // The transport finished writing its backlog.
    void on_drained();
    // The connection is gone (either side closed it): release seat, input and timers.
    void stop();
    bool stopped() const { return stopped_; }

    // Viewer
    void on_damage(const Region& damage) override;
    void on_resize(int32_t width, int32_t height) override;
    void on_cursor(const CursorEvent& cursor) override;

    // ClipboardClient: text only (text/plain both ways), capped at --clipboard-limit.
    void on_clipboard_offer(const std::vector<std::string>& mime_types) override;
    void on_paste_request(uint64_t transfer_id, const std::string& mime_type) override;

    static constexpr std::chrono::seconds kHandshakeTimeout{15};  // as guacd
    static constexpr std::chrono::seconds kReceiveTimeout{15};    // guacd's user timeout
    static constexpr std::chrono::seconds kKeepAlive{5};          // libguac's nop interval
    static constexpr int kMaxFramesInFlight = 2;
    // One byte budget per viewer for everything queued towards it (Transport::backlog()):
    // - frames are encoded only while the backlog is at most kMaxBacklog (damage coalesces);
    // - the desktop's clipboard goes out in chunks while it is below kClipboardBacklog, and
    //   only the latest one waits (a newer copy replaces one not yet started);
    // - a cursor change waits for the backlog to drain when it is above kMaxBacklog, and the
    //   keep-alive `nop` is skipped while anything is queued;
    // - anything else (replies to the client's own instructions) beyond kCloseBacklog means
    //   the client stopped reading: it is disconnected.
    static constexpr size_t kMaxBacklog = 4 << 20;
    static constexpr size_t kClipboardBacklog = 1 << 20;
    static constexpr size_t kCloseBacklog = 32 << 20;

  private:
    void handle(const Instruction& in);
    void handle_mouse(const Instruction& in);
    void handle_sync(const Instruction& in);
    void handle_size(const Instruction& in);
    void fail(Status status, const std::string& message);
    void send(std::string data);
    void send_cursor();
    void flush();
    // Arms refine_timer_ for when the display's lossy areas will have settled.
    void schedule_refine();
    void tick();
    void push_input(DesktopRequest event);
    // The clipboard, in user_clipboard.cpp.
    void handle_clipboard(const Instruction& in);
    void offer_clipboard_text(std::shared_ptr<const std::vector<uint8_t>> text);
    // Sends what fits of the desktop's clipboard within kClipboardBacklog.
    void pump_clipboard();

    Host& host_;
    Transport& transport_;
    Protocol protocol_;
    log::Logger log_;
    Parser parser_;
    Handshake handshake_;
    ClientInfo info_;
    bool in_session_ = false;
    bool seated_ = false;
    bool stopped_ = false;
    std::unique_ptr<DisplayEncoder> display_;
    FramePacer pacer_;  // frames in flight are named by their `sync` timestamps
    uint64_t last_sync_ = 0;
    int mouse_mask_ = 0;
    int32_t mouse_x_ = -1, mouse_y_ = -1;
    std::chrono::steady_clock::time_point last_sent_, last_received_;
    boost::asio::steady_timer deadline_;  // handshake timeout
    boost::asio::steady_timer ticker_;    // keep-alive and receive timeout
    boost::asio::steady_timer resize_timer_;
    boost::asio::steady_timer refine_timer_;  // lossy areas that settle are sent again losslessly
    int32_t wanted_w_ = 0, wanted_h_ = 0;
    double scale_ = 1.0;  // from the handshake's dpi
    // The client's clipboard: the stream being received, and the last complete text.
    std::string incoming_stream_;
    std::string incoming_text_;
    bool incoming_too_large_ = false;
    std::string client_text_;
    bool clipboard_registered_ = false;
    // The desktop's clipboard towards the client: the one being sent (and how far), and the
    // latest one waiting for it to finish.
    std::shared_ptr<const std::vector<uint8_t>> clipboard_out_, clipboard_next_;
    size_t clipboard_sent_ = 0;
    bool cursor_pending_ = false;  // a cursor change waits for the backlog to drain
};

}  // namespace deskpod::guac
