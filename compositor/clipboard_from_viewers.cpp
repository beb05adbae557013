// Viewers -> desktop: a remote viewer's copy becomes the seat's selection through a
// compositor-owned data source; when an app pastes, the bytes are asked of the network side and
// written into the app's fd as it becomes writable.
#include "compositor/clipboard.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "compositor/clipboard_internal.hpp"
#include "compositor/server.hpp"

namespace deskpod::compositor {

using clipboard_internal::kChunk;
using clipboard_internal::kChunksPerWakeup;
using clipboard_internal::kTransferTimeoutMs;

namespace {

template <typename Source>
void add_mime_types(Source* source, const std::vector<std::string>& mime_types) {
    for (const std::string& mime : mime_types) {
        char** slot = static_cast<char**>(wl_array_add(&source->mime_types, sizeof(char*)));
        if (!slot)
            break;
        *slot = strdup(mime.c_str());  // the source's destroy frees them
    }
}

template <typename Remote, typename Base>
Remote* remote_of(Base* source) {
    return reinterpret_cast<Remote*>(source);
}

template <typename Remote, typename Base>
void send_remote(Base* source, const char* mime_type, int fd) {
    Remote* remote = remote_of<Remote>(source);
    if (remote->owner) {
        remote->owner->remote_send(remote->offer_id, mime_type, fd);
    } else {
        ::close(fd);  // the compositor is shutting down
    }
}

// wlroots calls this last, after it has freed the mime types.
template <typename Remote, typename Base>
void destroy_remote(Base* source) {
    Remote* remote = remote_of<Remote>(source);
    if (remote->owner)
        remote->owner->remote_destroyed(remote);
    delete remote;
}

const wlr_data_source_impl kRemoteSourceImpl = {
    .send = send_remote<Clipboard::RemoteSource, wlr_data_source>,
    .accept = nullptr,
    .destroy = destroy_remote<Clipboard::RemoteSource, wlr_data_source>,
    .dnd_drop = nullptr,
    .dnd_finish = nullptr,
    .dnd_action = nullptr,
};

const wlr_primary_selection_source_impl kRemotePrimarySourceImpl = {
    .send = send_remote<Clipboard::RemotePrimarySource, wlr_primary_selection_source>,
    .destroy = destroy_remote<Clipboard::RemotePrimarySource, wlr_primary_selection_source>,
};

}  // namespace

Clipboard::RemoteSource* clipboard_internal::remote_source_of(wlr_data_source* source) {
    return source && source->impl == &kRemoteSourceImpl ? remote_of<Clipboard::RemoteSource>(source)
                                                        : nullptr;
}

Clipboard::RemotePrimarySource* clipboard_internal::remote_source_of(
    wlr_primary_selection_source* source) {
    return source && source->impl == &kRemotePrimarySourceImpl
               ? remote_of<Clipboard::RemotePrimarySource>(source)
               : nullptr;
}

void Clipboard::remote_offer(const RemoteOfferRequest& request) {
    // A viewer's copy is the clipboard and, when shared, the primary selection as well, so
    // middle-click pastes it too. primary=true asks for the primary selection alone.
    const bool to_clipboard = !request.primary;
    const bool to_primary = share_primary_;
    if (request.primary && !share_primary_) {
        log_.info("remote offer {} for the primary selection ignored: --primary-selection is off",
                  request.offer_id);
        return;
    }
    if (request.mime_types.empty()) {
        // Withdraw, unless something else took the selection meanwhile.
        if (to_clipboard && remote_ && remote_->offer_id == request.offer_id) {
            wlr_seat_set_selection(server_.seat, nullptr, wl_display_next_serial(server_.display));
        }
        if (to_primary && remote_primary_ && remote_primary_->offer_id == request.offer_id) {
            wlr_seat_set_primary_selection(server_.seat, nullptr,
                                           wl_display_next_serial(server_.display));
        }
        return;
    }
    log_.debug("remote offer {} with {} types{}", request.offer_id, request.mime_types.size(),
               to_primary
                   ? (to_clipboard ? " (clipboard and primary selection)" : " (primary selection)")
                   : "");
    // The seat owns each source from here and destroys it when that selection changes again.
    // Neither is announced back (selection_changed recognises them).
    if (to_clipboard) {
        auto* source = new RemoteSource{};
        wlr_data_source_init(&source->base, &kRemoteSourceImpl);
        source->owner = this;
        source->offer_id = request.offer_id;
        add_mime_types(&source->base, request.mime_types);
        wlr_seat_set_selection(server_.seat, &source->base,
                               wl_display_next_serial(server_.display));
    }
    if (to_primary) {
        auto* source = new RemotePrimarySource{};
        wlr_primary_selection_source_init(&source->base, &kRemotePrimarySourceImpl);
        source->owner = this;
        source->offer_id = request.offer_id;
        add_mime_types(&source->base, request.mime_types);
        wlr_seat_set_primary_selection(server_.seat, &source->base,
                                       wl_display_next_serial(server_.display));
    }
}

void Clipboard::remote_send(uint64_t offer_id, const char* mime_type, int fd) {
    const uint64_t id = next_transfer_++;
    auto write = std::make_unique<Write>();
    write->fd = fd;
    write->mime_type = mime_type ? mime_type : "";
    if (!server_.publish(PasteRequestEvent{offer_id, id, write->mime_type})) {
        log_.warn("paste of {} dropped: network queue full", write->mime_type);
        return;  // closes fd: the app reads an empty paste instead of waiting
    }
    write->self = this;
    write->id = id;
    write->timeout = wl::EventSource(wl_event_loop_add_timer(
        server_.loop,
        [](void* data) {
            auto* w = static_cast<Write*>(data);
            w->self->log_.warn("paste timed out waiting for the viewer");
            w->self->finish_write(w->id);
            return 0;
        },
        write.get()));
    wl_event_source_timer_update(write->timeout.get(), kTransferTimeoutMs);
    writes_[id] = std::move(write);
}

void Clipboard::remote_destroyed(const void* source) {
    if (remote_ == source)
        remote_ = nullptr;
    if (remote_primary_ == source)
        remote_primary_ = nullptr;
}

void Clipboard::paste_data(const PasteDataInput& input) {
    const auto it = writes_.find(input.transfer_id);
    if (it == writes_.end())
        return;
    Write& w = *it->second;
    if (!input.ok || !input.data || input.data->empty()) {
        finish_write(input.transfer_id);  // the app reads an empty paste
        return;
    }
    w.data = input.data;
    // O_NONBLOCK on the app's pipe is ours to set: the app only ever reads from it.
    const int flags = fcntl(w.fd, F_GETFL);
    if (flags < 0 || fcntl(w.fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        finish_write(input.transfer_id);
        return;
    }
    w.timeout.reset();
    w.watch = wl::EventSource(wl_event_loop_add_fd(
        server_.loop, w.fd, WL_EVENT_WRITABLE,
        [](int, uint32_t, void* data) {
            auto* write = static_cast<Write*>(data);
            return write->self->on_writable(write->id);
        },
        &w));
    // A reader that stops reading must not pin the data forever.
    w.timeout = wl::EventSource(wl_event_loop_add_timer(
        server_.loop,
        [](void* data) {
            auto* write = static_cast<Write*>(data);
            write->self->log_.warn("pasting app stopped reading: transfer abandoned");
            write->self->finish_write(write->id);
            return 0;
        },
        &w));
    wl_event_source_timer_update(w.timeout.get(), kTransferTimeoutMs);
}

int Clipboard::on_writable(uint64_t transfer_id) {
    const auto it = writes_.find(transfer_id);
    if (it == writes_.end())
        return 0;
    Write& w = *it->second;
    for (size_t i = 0; i < kChunksPerWakeup && w.written < w.data->size(); ++i) {
        const size_t n = std::min(kChunk, w.data->size() - w.written);
        const ssize_t done = ::write(w.fd, w.data->data() + w.written, n);
        if (done < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            // EPIPE: the app closed its end (SIGPIPE is ignored process-wide).
            log_.debug("paste write ended: {}", std::strerror(errno));
            finish_write(transfer_id);
            return 0;
        }
        w.written += size_t(done);
    }
    if (w.written >= w.data->size()) {
        log_.debug("pasted {} bytes of {}", w.written, w.mime_type);
        finish_write(transfer_id);
    }
    return 0;
}

void Clipboard::finish_write(uint64_t transfer_id) {
    writes_.erase(transfer_id);  // closes the fd: end of data for the app
}

}  // namespace deskpod::compositor
