// Selections between Wayland (and, through Xwayland, X11) clients: the clipboard and the
// primary selection, plus the data-control protocol that wl-copy and wl-paste use; and the
// clipboard's two crossings to the network side (events.hpp, "clipboard"):
//   - an app copies: the mime types are published (SelectionOfferEvent); the bytes are read
//     only when the bridge asks (ReadSelectionRequest), through a non-blocking pipe watched by
//     the event loop, and published as a SelectionDataEvent;
//   - a remote viewer copies (RemoteOfferRequest): a compositor-owned wlr_data_source becomes
//     the selection; when an app pastes, the bytes are requested (PasteRequestEvent) and, once
//     they arrive (PasteDataInput), written into the app's fd whenever it is writable.
// Nothing here blocks the compositor thread. A ReadSelectionRequest without a mime type is
// the bridge's ordering barrier and is refused at once (clipboard_broker.hpp, "Ordering").
//
// The primary selection (select to copy, middle-click paste) stays inside the desktop unless
// --primary-selection is on. Then it crosses like the clipboard: an app's primary selection is
// announced with primary=true (the bridge puts the most recent of the two on the viewers'
// clipboard) and read with ReadSelectionRequest::primary; a viewer's copy (RemoteOfferRequest
// with primary=false) becomes both the clipboard and the primary selection, so middle-click
// pastes it too (primary=true sets only the primary selection). Selections the bridge offered
// are never announced back.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compositor/wlr.hpp"
#include "shared/events.hpp"
#include "shared/log.hpp"

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

    // ---- for the remote sources (clipboard and primary selection) ----
    struct RemoteSource;
    struct RemotePrimarySource;
    void remote_send(uint64_t offer_id, const char* mime_type, int fd);
    void remote_destroyed(const void* source);

  private:
    struct Read;
    struct Write;
    // What was last announced of one selection (the clipboard or the primary selection).
    struct Announced {
        uint64_t serial = 0;  // changes with every new source; reads of older serials fail
        bool dirty = false;   // changed since the last SelectionOfferEvent
    };

    void selection_changed(bool primary);
    void schedule_publish();
    void publish_offer();
    bool publish_one(bool primary);
    void finish_read(uint64_t request_id, bool ok, const std::string& error);
    void finish_write(uint64_t transfer_id);
    int on_readable(uint64_t request_id);
    int on_writable(uint64_t transfer_id);

    Server& server_;
    const log::Logger log_{"clipboard"};
    wl::Listener on_request_set_selection_;
    wl::Listener on_request_set_primary_selection_;
    wl::Listener on_set_selection_;
    wl::Listener on_set_primary_selection_;

    const bool share_primary_;  // --primary-selection
    // The desktop's selections as last announced (a remote viewer's offer is not announced
    // back to the network side). One serial counter for both, so their order is known.
    uint64_t serial_ = 0;
    Announced clipboard_;
    Announced primary_;
    wl::EventSource offer_idle_;      // coalesces a burst of copies into one announcement
    wl::EventSource offer_retry_;     // the network queue was full: try again shortly
    RemoteSource* remote_ = nullptr;  // the clipboard when it is a remote offer
    RemotePrimarySource* remote_primary_ = nullptr;  // the primary selection, likewise

    std::map<uint64_t, std::unique_ptr<Read>> reads_;    // by ReadSelectionRequest id
    std::map<uint64_t, std::unique_ptr<Write>> writes_;  // by transfer id
    uint64_t next_transfer_ = 1;
};

}  // namespace deskpod::compositor
