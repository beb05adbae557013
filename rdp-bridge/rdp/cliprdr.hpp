// One RDP peer's clipboard channel (CLIPRDR, MS-RDPECLIP) in both directions, bridged to the
// ClipboardBroker in mime types. The channel is driven from the network thread: it is opened
// without FreeRDP's channel thread (Open, not Start) and read right after the peer pumps its
// connection and virtual channels (pump()), so every callback runs on the network thread and
// nothing crosses threads.
//
// Formats (clipboard_formats.hpp does the conversions):
//   CF_UNICODETEXT, CF_TEXT, CF_OEMTEXT <-> text/plain;charset=utf-8 (and UTF8_STRING, TEXT,
//   STRING, text/plain); "HTML Format" <-> text/html; PNG (FreeRDP's 0xD011, or a registered
//   "PNG"), CF_DIB, CF_DIBV5 <-> image/png.
// Data requests from the client are answered one at a time; our requests to the client are
// queued, since CLIPRDR responses carry no request id.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "rdp-bridge/asio.hpp"
#include "rdp-bridge/clipboard/broker.hpp"
#include "shared/log.hpp"

typedef struct _cliprdr_server_context CliprdrServerContext;

namespace deskpod {

class RdpCliprdr final : public ClipboardClient {
  public:
    // `vcm` is the peer's virtual channel manager; `log` the peer's logger.
    RdpCliprdr(boost::asio::io_context& io, ClipboardBroker& broker, void* vcm,
               const log::Logger& log);
    ~RdpCliprdr() override;
    RdpCliprdr(const RdpCliprdr&) = delete;
    RdpCliprdr& operator=(const RdpCliprdr&) = delete;

    // Opens the channel (false: the client did not join "cliprdr"; no clipboard then).
    bool start();
    // Called after the vcm has been pumped: handles whatever the channel received.
    void pump();
    // How the peer tells whether its output is blocked (the client is not reading), and that
    // it drained again. While blocked, the desktop's data for the client waits here: only the
    // answer to the client's latest request, so a client that asks again and again without
    // reading cannot make deskpod queue one copy per request.
    void set_output_blocked(std::function<bool()> blocked) { output_blocked_ = std::move(blocked); }
    void on_writable();

    void on_clipboard_offer(const std::vector<std::string>& mime_types) override;
    void on_paste_request(uint64_t transfer_id, const std::string& mime_type) override;

    // The channel's FreeRDP context: its Client* callbacks (set by the constructor) take the
    // PDUs FreeRDP decoded and lead to the methods below; tests/fuzz/ calls them the same way.
    CliprdrServerContext* channel_context() const { return context_; }

    // ---- FreeRDP callbacks ----
    unsigned client_capabilities(uint32_t general_flags);
    unsigned client_format_list(const std::vector<std::pair<uint32_t, std::string>>& formats);
    unsigned client_format_data_request(uint32_t format_id);
    unsigned client_format_data_response(bool ok, const uint8_t* data, size_t size);

  private:
    struct Request {
        uint64_t transfer_id;
        uint32_t format_id;
        std::string mime_type;
    };
    void send_format_list();
    void send_next_request();
    void respond(const uint8_t* data, size_t size, bool ok);

    boost::asio::io_context& io_;
    ClipboardBroker& broker_;
    const log::Logger& log_;
    CliprdrServerContext* context_ = nullptr;
    bool ready_ = false;     // the client sent its capabilities: format lists may flow
    bool announce_ = false;  // a desktop offer arrived before the client was ready
    std::vector<std::string> desktop_types_;
    // The client's current formats (id, name), as its last format list gave them.
    std::vector<std::pair<uint32_t, std::string>> client_formats_;
    std::deque<Request> requests_;  // front: sent, awaiting the response
    bool request_in_flight_ = false;
    boost::asio::steady_timer request_timer_;
    uint64_t serving_ = 0;  // bumps per client data request, to drop stale broker answers
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::function<bool()> output_blocked_;
    std::optional<std::vector<uint8_t>> held_response_;  // waits for on_writable()
};

}  // namespace deskpod
