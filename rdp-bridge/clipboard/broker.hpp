// The clipboard between the desktop and every viewer, protocol-neutral: RDP peers (CLIPRDR)
// and Guacamole users speak to it in mime types; it speaks to the compositor through Channels.
// Network thread only.
//
// Model (delayed rendering, as in CLIPRDR and the Wayland data device): there is one current
// clipboard, owned either by the desktop (a Wayland/X11 app copied) or by one viewer (its user
// copied on their machine). Only the list of mime types travels when something is copied; bytes
// travel when somebody pastes, fetched from whoever owns the clipboard:
//   - desktop owns it: read() asks the compositor (ReadSelectionRequest);
//   - a viewer owns it: the desktop's paste (PasteRequestEvent) and other viewers' read()
//     become that viewer's on_paste_request(), answered with answer_paste().
// A viewer never hears about its own offer, so a copy does not echo back to where it came from.
//
// The primary selection: the compositor announces it (SelectionOfferEvent::primary) only when
// --primary-selection is on. Viewers have one clipboard, so the desktop's clipboard and primary
// selection share it: the most recently announced of the two is what viewers see and read
// (reads carry the primary flag). Clearing the one viewers do not have changes nothing. A
// viewer's offer becomes both selections on the compositor side (see compositor/clipboard.hpp);
// the broker sends it as a clipboard offer either way. A later desktop selection replaces only
// one of the two there, but every viewer's clipboard, the copying viewer's included, so that
// viewer's data is gone: the broker withdraws its offer from the compositor, which clears the
// other selection if it still holds it (an app's paste gets nothing rather than failing late).
//
// Ordering: a desktop announcement the compositor published before it applied a viewer's offer
// can reach the broker after that offer (the two threads' queues are independent); taken as
// the current clipboard it would offer viewers a selection the compositor has already replaced,
// and every paste would fail until the next copy. So each viewer offer is followed by a barrier
// (a ReadSelectionRequest with no mime type, which the compositor refuses at once, in order):
// announcements that arrive before the barrier's answer predate the offer and are dropped.
//
// Limits: anything larger than --clipboard-limit is refused (logged, counted in
// deskpod_clipboard_refused_total); the clipboard itself stays as it was. A viewer that does not
// answer a paste within kPasteTimeout, or leaves, fails that paste; the app gets no data
// instead of hanging.
//
// Text: "text/plain;charset=utf-8" is the canonical text type. read() accepts it (and the other
// UTF-8 text names, see kTextMimeTypes) whichever of them the owner actually offered, so a
// Guacamole user can always ask for "text/plain;charset=utf-8".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "rdp-bridge/asio.hpp"
#include "shared/channels.hpp"
#include "shared/log.hpp"
#include "shared/metrics.hpp"

namespace deskpod {

// A viewer's side of the clipboard (an RDP peer's CLIPRDR channel, a Guacamole user).
class ClipboardClient {
  public:
    virtual ~ClipboardClient() = default;
    // The clipboard this viewer can paste from changed: these mime types can be read with
    // ClipboardBroker::read() (empty: the clipboard is empty). Announce them to the remote side.
    virtual void on_clipboard_offer(const std::vector<std::string>& mime_types) = 0;
    // Somebody pastes from this viewer's offer: fetch the bytes in `mime_type` from the remote
    // side and hand them to ClipboardBroker::answer_paste(transfer_id, ...), now or later.
    virtual void on_paste_request(uint64_t transfer_id, const std::string& mime_type) = 0;
};

class ClipboardBroker {
  public:
    // Answer to read(): `ok`, `error` (why not), `mime_type` (the type actually delivered),
    // `data`. request_id is the broker's own.
    using ReadDone = std::function<void(const SelectionDataEvent&)>;

    // How long a viewer has to deliver its clipboard for a paste.
    static constexpr std::chrono::seconds kPasteTimeout{10};
    // How long a read may take end to end (the compositor streams the app's data meanwhile).
    static constexpr std::chrono::seconds kReadTimeout{30};
    // How long a barrier (see Ordering) may stay unanswered before announcements count again.
    static constexpr std::chrono::seconds kBarrierTimeout{2};
    // The UTF-8 text mime types, best first; equivalent for read().
    static const std::vector<std::string> kTextMimeTypes;

    ClipboardBroker(boost::asio::io_context& io, Channels& channels, uint64_t limit);
    ~ClipboardBroker();
    ClipboardBroker(const ClipboardBroker&) = delete;
    ClipboardBroker& operator=(const ClipboardBroker&) = delete;

    // Registers a viewer; it immediately gets on_clipboard_offer() with the current types
    // when the clipboard is not empty. `protocol` labels the metrics.
    void add_client(ClipboardClient* client, Protocol protocol);
    // Unregisters: its pending pastes fail, its pending reads are dropped (their callbacks are
    // never called), and its offer, if still the clipboard, is withdrawn.
    void remove_client(ClipboardClient* client);

    // Mime types of the current clipboard as `client` sees it (empty when it owns it).
    std::vector<std::string> offered_to(const ClipboardClient* client) const;
    // Reads the current clipboard as `mime_type`; `done` runs later on the network thread
    // (never inside read()), exactly once unless `client` is removed first.
    void read(ClipboardClient* client, const std::string& mime_type, ReadDone done);
    // `client`'s user copied: its clipboard, in these mime types, becomes the desktop's (an
    // empty list withdraws its offer).
    void offer(ClipboardClient* client, std::vector<std::string> mime_types);
    // The bytes for on_paste_request(transfer_id); null `data`: the viewer could not deliver.
    // Over the limit: refused and logged. Unknown (timed out) ids are ignored.
    void answer_paste(uint64_t transfer_id, ClipboardBytes data);
    uint64_t limit() const { return limit_; }

    // ---- from the compositor (Bridge dispatches these) ----
    void handle(const SelectionOfferEvent& event);
    void handle(const SelectionDataEvent& event);
    void handle(const PasteRequestEvent& event);

  private:
    struct Client {
        Protocol protocol;
    };
    enum class Owner { nobody, desktop, viewer };
    // A read waiting for the compositor, or a paste waiting for a viewer.
    struct Pending {
        ClipboardClient* reader = nullptr;  // who gets `done` (null: the compositor asked)
        ClipboardClient* source = nullptr;  // the viewer asked for bytes (null: the compositor)
        std::string mime_type;
        ReadDone done;
        std::unique_ptr<boost::asio::steady_timer> timer;
    };

    std::string resolve(const std::string& wanted) const;
    void notify_all(const ClipboardClient* except);
    void start_timer(uint64_t id, bool paste, std::chrono::seconds after);
    void finish_read(uint64_t id, const SelectionDataEvent& result);
    void fail_paste(uint64_t transfer_id, const std::string& why);
    void deliver(Pending& pending, uint64_t id, ClipboardBytes data);
    bool push(DesktopRequest&& event);
    void push_barrier();

    boost::asio::io_context& io_;
    Channels& channels_;
    const uint64_t limit_;
    const log::Logger log_{"clipboard"};
    std::map<ClipboardClient*, Client> clients_;

    Owner owner_ = Owner::nobody;
    ClipboardClient* owning_viewer_ = nullptr;
    uint64_t desktop_serial_ = 0;
    bool desktop_primary_ = false;  // the desktop's offer is its primary selection
    uint64_t offer_id_ = 0;         // the current viewer offer, as the compositor knows it
    std::vector<std::string> mime_types_;

    // The newest barrier still unanswered (0: none), every unanswered one, and a guard in case
    // an answer is lost (a full queue): desktop announcements count again after it.
    uint64_t barrier_ = 0;
    std::set<uint64_t> barriers_;
    std::unique_ptr<boost::asio::steady_timer> barrier_timer_;

    uint64_t next_id_ = 1;                // offer, read, barrier and viewer-to-viewer transfer ids
    std::map<uint64_t, Pending> reads_;   // by ReadSelectionRequest id
    std::map<uint64_t, Pending> pastes_;  // by transfer id (compositor's or our own)
};

}  // namespace deskpod
