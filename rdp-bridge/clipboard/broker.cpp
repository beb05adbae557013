#include "rdp-bridge/clipboard/broker.hpp"

#include <algorithm>

#include "shared/thread_affinity.hpp"

namespace deskpod {

namespace asio = boost::asio;

namespace {
// Transfers between two viewers get ids from the broker; the compositor numbers its own
// (PasteRequestEvent) from 1. The high bit keeps the two apart in one map.
constexpr uint64_t kBrokerTransfer = uint64_t(1) << 63;

bool contains(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}
}  // namespace

const std::vector<std::string> ClipboardBroker::kTextMimeTypes = {
    "text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "TEXT", "STRING",
};

ClipboardBroker::ClipboardBroker(asio::io_context& io, Channels& channels, uint64_t limit)
    : io_(io), channels_(channels), limit_(limit) {}

ClipboardBroker::~ClipboardBroker() = default;

void ClipboardBroker::add_client(ClipboardClient* client, Protocol protocol) {
    clients_[client] = Client{protocol};
    if (!mime_types_.empty()) {
        // Not from inside add_client: the caller may still be setting itself up.
        asio::post(io_, [this, client] {
            if (clients_.count(client) && owning_viewer_ != client) {
                client->on_clipboard_offer(mime_types_);
            }
        });
    }
}

void ClipboardBroker::remove_client(ClipboardClient* client) {
    if (!clients_.erase(client))
        return;
    for (auto it = reads_.begin(); it != reads_.end();) {
        it = it->second.reader == client ? reads_.erase(it) : std::next(it);
    }
    std::vector<uint64_t> failed;
    for (auto it = pastes_.begin(); it != pastes_.end();) {
        if (it->second.reader == client) {
            it = pastes_.erase(it);  // a read of another viewer's offer: nobody to tell
        } else {
            if (it->second.source == client)
                failed.push_back(it->first);
            ++it;
        }
    }
    for (uint64_t id : failed)
        fail_paste(id, "the viewer that copied it has left");
    if (owner_ == Owner::viewer && owning_viewer_ == client) {
        // Its data left with it: an offer nobody can deliver would make every paste fail.
        push(RemoteOfferRequest{offer_id_, false, {}});
        owner_ = Owner::nobody;
        owning_viewer_ = nullptr;
        mime_types_.clear();
        notify_all(nullptr);
    }
}

std::vector<std::string> ClipboardBroker::offered_to(const ClipboardClient* client) const {
    if (owner_ == Owner::viewer && owning_viewer_ == client)
        return {};
    return mime_types_;
}

std::string ClipboardBroker::resolve(const std::string& wanted) const {
    if (contains(mime_types_, wanted))
        return wanted;
    if (contains(kTextMimeTypes, wanted)) {
        for (const std::string& text : kTextMimeTypes) {
            if (contains(mime_types_, text))
                return text;
        }
    }
    return {};
}

void ClipboardBroker::read(ClipboardClient* client, const std::string& mime_type, ReadDone done) {
    const uint64_t id = next_id_++;
    auto fail_soon = [this, id, mime_type, done](std::string why) {
        asio::post(io_, [id, mime_type, done, why = std::move(why)] {
            done(SelectionDataEvent{id, false, why, mime_type, nullptr});
        });
    };
    if (!clients_.count(client))
        return fail_soon("not registered with the clipboard");
    const std::string actual = resolve(mime_type);
    if (owner_ == Owner::nobody || actual.empty() || owning_viewer_ == client) {
        return fail_soon("the clipboard has no " + mime_type);
    }
    Pending pending;
    pending.reader = client;
    pending.mime_type = actual;
    pending.done = std::move(done);
    if (owner_ == Owner::desktop) {
        if (!push(ReadSelectionRequest{id, desktop_serial_, desktop_primary_, actual})) {
            return fail_soon("the compositor queue is full");
        }
        reads_.emplace(id, std::move(pending));
        start_timer(id, false, kReadTimeout);
        return;
    }
    // Another viewer owns the clipboard: ask it directly, the desktop is not involved.
    const uint64_t transfer = kBrokerTransfer | id;
    pending.source = owning_viewer_;
    pastes_.emplace(transfer, std::move(pending));
    start_timer(transfer, true, kPasteTimeout);
    ClipboardClient* source = owning_viewer_;
    asio::post(io_, [this, source, transfer, actual] {
        if (clients_.count(source) && pastes_.count(transfer)) {
            source->on_paste_request(transfer, actual);
        }
    });
}

void ClipboardBroker::offer(ClipboardClient* client, std::vector<std::string> mime_types) {
    if (!clients_.count(client))
        return;
    if (mime_types.empty()) {
        if (owner_ == Owner::viewer && owning_viewer_ == client) {
            push(RemoteOfferRequest{offer_id_, false, {}});
            owner_ = Owner::nobody;
            owning_viewer_ = nullptr;
            mime_types_.clear();
            notify_all(client);
        }
        return;
    }
    const uint64_t id = next_id_++;
    if (!push(RemoteOfferRequest{id, false, mime_types}))
        return;
    push_barrier();
    owner_ = Owner::viewer;
    owning_viewer_ = client;
    offer_id_ = id;
    mime_types_ = std::move(mime_types);
    log_.debug("viewer offer {}: {} types", id, mime_types_.size());
    notify_all(client);
}

void ClipboardBroker::push_barrier() {
    const uint64_t id = next_id_++;
    if (!push(ReadSelectionRequest{id, 0, false, {}}))
        return;  // announcements are not filtered then: the old, racy behaviour
    barrier_ = id;
    barriers_.insert(id);
    if (!barrier_timer_)
        barrier_timer_ = std::make_unique<asio::steady_timer>(io_);
    barrier_timer_->expires_after(kBarrierTimeout);
    barrier_timer_->async_wait([this, id](const boost::system::error_code& ec) {
        if (ec || barrier_ != id)
            return;
        log_.warn("the compositor did not answer clipboard barrier {}", id);
        barrier_ = 0;
    });
}

void ClipboardBroker::answer_paste(uint64_t transfer_id, ClipboardBytes data) {
    const auto it = pastes_.find(transfer_id);
    if (it == pastes_.end())
        return;  // timed out, or the reader left
    Pending& pending = it->second;
    if (!data) {
        fail_paste(transfer_id, "the viewer could not deliver " + pending.mime_type);
        return;
    }
    if (data->size() > limit_) {
        metrics().clipboard_refused.add();
        fail_paste(transfer_id, "viewer clipboard of " + std::to_string(data->size()) +
                                    " bytes exceeds --clipboard-limit " + std::to_string(limit_));
        return;
    }
    deliver(pending, transfer_id, std::move(data));
}

void ClipboardBroker::deliver(Pending& pending, uint64_t id, ClipboardBytes data) {
    const auto source = clients_.find(pending.source);
    if (source != clients_.end()) {
        metrics().clipboard(Direction::from_client, source->second.protocol).add();
        metrics().clipboard_bytes[size_t(Direction::from_client)][source->second.protocol].add(
            data->size());
    }
    if (pending.reader) {
        // Viewer to viewer.
        finish_read(id, SelectionDataEvent{id, true, {}, pending.mime_type, std::move(data)});
        return;
    }
    push(PasteDataInput{id, true, std::move(data)});
    pastes_.erase(id);
}

void ClipboardBroker::fail_paste(uint64_t transfer_id, const std::string& why) {
    const auto it = pastes_.find(transfer_id);
    if (it == pastes_.end())
        return;
    log_.warn("paste of {} failed: {}", it->second.mime_type, why);
    if (it->second.reader) {
        finish_read(transfer_id,
                    SelectionDataEvent{transfer_id, false, why, it->second.mime_type, nullptr});
        return;
    }
    pastes_.erase(it);
    push(PasteDataInput{transfer_id, false, nullptr});
}

void ClipboardBroker::finish_read(uint64_t id, const SelectionDataEvent& result) {
    auto& table = id & kBrokerTransfer ? pastes_ : reads_;
    const auto it = table.find(id);
    if (it == table.end())
        return;
    Pending pending = std::move(it->second);
    table.erase(it);
    const auto reader = clients_.find(pending.reader);
    if (reader == clients_.end())
        return;
    if (result.ok && result.data) {
        if (result.data->size() > limit_) {
            metrics().clipboard_refused.add();
            log_.warn("refusing {} of {} bytes: over --clipboard-limit {}", result.mime_type,
                      result.data->size(), limit_);
            pending.done(SelectionDataEvent{result.request_id, false,
                                            "larger than --clipboard-limit", result.mime_type,
                                            nullptr});
            return;
        }
        metrics().clipboard(Direction::to_client, reader->second.protocol).add();
        metrics().clipboard_bytes[size_t(Direction::to_client)][reader->second.protocol].add(
            result.data->size());
    }
    pending.done(result);
}

void ClipboardBroker::start_timer(uint64_t id, bool paste, std::chrono::seconds after) {
    Pending& pending = (paste ? pastes_ : reads_).at(id);
    pending.timer = std::make_unique<asio::steady_timer>(io_, after);
    pending.timer->async_wait([this, id, paste](const boost::system::error_code& ec) {
        if (ec)
            return;
        if (paste) {
            fail_paste(id, "the viewer did not answer in time");
        } else {
            log_.warn("reading the desktop clipboard timed out");
            finish_read(id, SelectionDataEvent{id, false, "timed out", {}, nullptr});
        }
    });
}

void ClipboardBroker::notify_all(const ClipboardClient* except) {
    // Copy: a client may remove itself while it reacts.
    std::vector<ClipboardClient*> targets;
    for (auto& [client, info] : clients_) {
        if (client != except)
            targets.push_back(client);
    }
    const std::vector<std::string> types = mime_types_;
    for (ClipboardClient* client : targets) {
        if (clients_.count(client))
            client->on_clipboard_offer(types);
    }
}

bool ClipboardBroker::push(DesktopRequest&& event) {
    if (channels_.to_compositor.try_push(std::move(event)))
        return true;
    metrics().input_dropped.add();
    log_.warn("compositor queue full: clipboard request dropped");
    return false;
}

// ---- from the compositor -----------------------------------------------------------------

void ClipboardBroker::handle(const SelectionOfferEvent& event) {
    network_thread.check("ClipboardBroker::handle(SelectionOfferEvent)");
    const char* which = event.primary ? "primary selection" : "clipboard";
    if (barrier_) {
        // Published before the compositor applied the latest viewer offer, which replaced it.
        log_.debug("desktop {} {} predates viewer offer {}: ignored", which, event.serial,
                   offer_id_);
        return;
    }
    // A cleared selection matters only when it is what viewers have: a cleared primary
    // selection leaves the clipboard (the desktop's or a viewer's copy) alone, and a cleared
    // clipboard leaves a more recent primary selection alone.
    const bool primary_current = owner_ == Owner::desktop && desktop_primary_;
    if (event.mime_types.empty() && event.primary != primary_current) {
        log_.debug("desktop {} {} cleared; viewers keep their clipboard", which, event.serial);
        return;
    }
    if (owner_ == Owner::viewer) {
        // Every viewer's clipboard gets the desktop's now, the copying viewer's too: its offer
        // can no longer be delivered. With the primary selection shared, the compositor's other
        // selection may still hold it; the withdrawal clears it there (no-op otherwise).
        push(RemoteOfferRequest{offer_id_, false, {}});
    }
    desktop_serial_ = event.serial;
    desktop_primary_ = event.primary;
    owning_viewer_ = nullptr;
    mime_types_ = event.mime_types;
    owner_ = mime_types_.empty() ? Owner::nobody : Owner::desktop;
    log_.debug("desktop {} {}: {} types", which, event.serial, mime_types_.size());
    notify_all(nullptr);
}

void ClipboardBroker::handle(const SelectionDataEvent& event) {
    network_thread.check("ClipboardBroker::handle(SelectionDataEvent)");
    if (barriers_.erase(event.request_id)) {
        if (event.request_id == barrier_) {
            barrier_ = 0;
            barrier_timer_->cancel();
        }
        return;
    }
    if (!event.ok)
        log_.info("desktop clipboard not read: {}", event.error);
    finish_read(event.request_id, event);
}

void ClipboardBroker::handle(const PasteRequestEvent& event) {
    network_thread.check("ClipboardBroker::handle(PasteRequestEvent)");
    if (owner_ != Owner::viewer || event.offer_id != offer_id_ || !clients_.count(owning_viewer_)) {
        push(PasteDataInput{event.transfer_id, false, nullptr});
        log_.info("paste from a withdrawn viewer offer {} refused", event.offer_id);
        return;
    }
    Pending pending;
    pending.source = owning_viewer_;
    pending.mime_type = event.mime_type;
    pastes_.emplace(event.transfer_id, std::move(pending));
    start_timer(event.transfer_id, true, kPasteTimeout);
    owning_viewer_->on_paste_request(event.transfer_id, event.mime_type);
}

}  // namespace deskpod
