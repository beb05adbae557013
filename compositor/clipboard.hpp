// Selections between Wayland (and, through Xwayland, X11) clients: the clipboard and the
// primary selection, plus the data-control protocol that wl-copy and wl-paste use; and the
// clipboard's two crossings to the network side (events.hpp, "clipboard"):
//   - an app copies: the mime types are published (SelectionOfferEvent); the bytes are read
//     only when the bridge asks (ReadSelectionRequest), through a non-blocking pipe watched by
//     the event loop, and published as a SelectionDataEvent;
//   - a remote viewer copies (RemoteOfferRequest): a compositor-owned wlr_data_source becomes
//     the selection; when an app pastes, the bytes are requested (PasteRequestEvent) and, once
//     they arrive (PasteDataInput), written into the app's fd whenever it is writable.
// Nothing here blocks the compositor thread. The primary selection stays inside the desktop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "events.hpp"
#include "log.hpp"
#include "wlr.hpp"

namespace deskpod::compositor {

class Server;

class Clipboard {
  public:
    explicit Clipboard(Server& server);
    ~Clipboard();
    Clipboard(const Clipboard&) = delete;
    Clipboard& operator=(const Clipboard&) = delete;

    void read_selection(const ReadSelectionRequest& request);
    void remote_offer(const RemoteOfferRequest& request);
    void paste_data(const PasteDataInput& input);

    // ---- for the remote data source ----
    struct RemoteSource;
    void remote_send(RemoteSource* source, const char* mime_type, int fd);
    void remote_destroyed(RemoteSource* source);

  private:
    struct Read;
    struct Write;

    void selection_changed();
    void publish_offer();
    void finish_read(uint64_t request_id, bool ok, const std::string& error);
    void finish_write(uint64_t transfer_id);
    int on_readable(uint64_t request_id);
    int on_writable(uint64_t transfer_id);

    Server& server_;
    const log::Logger log_{"clipboard"};
    wl::Listener on_request_set_selection_;
    wl::Listener on_request_set_primary_selection_;
    wl::Listener on_set_selection_;

    // The desktop's selection as last announced: serial and whether it is an app's (a remote
    // viewer's offer is not announced back to the network side).
    uint64_t serial_ = 0;
    bool offer_dirty_ = false;
    wl::EventSource offer_idle_;      // coalesces a burst of copies into one announcement
    wl::EventSource offer_retry_;     // the network queue was full: try again shortly
    RemoteSource* remote_ = nullptr;  // the current selection when it is a remote offer

    std::map<uint64_t, std::unique_ptr<Read>> reads_;    // by ReadSelectionRequest id
    std::map<uint64_t, std::unique_ptr<Write>> writes_;  // by transfer id
    uint64_t next_transfer_ = 1;
};

}  // namespace deskpod::compositor
