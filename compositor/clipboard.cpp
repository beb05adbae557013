#include "compositor/clipboard.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "compositor/server.hpp"
#include "shared/metrics.hpp"

namespace deskpod::compositor {
namespace {

// Bytes moved per wakeup, so one big transfer cannot starve frames and input.
constexpr size_t kChunk = 64 * 1024;
constexpr size_t kChunksPerWakeup = 4;
// An app that neither writes nor closes its end of a read, or a paste the network side never
// answers, is given up after this (the bridge's own timeouts are shorter).
constexpr int kTransferTimeoutMs = 60000;
// When the network queue is full, the selection announcement is retried after this.
constexpr int kOfferRetryMs = 50;

// wlr_data_source and wlr_primary_selection_source both keep their types in `mime_types`.
template <typename Source>
std::vector<std::string> mime_types_of(Source* source) {
    std::vector<std::string> out;
    if (!source)
        return out;
    // wl_array_for_each does not compile in C++ (NOTES.md).
    auto** begin = static_cast<char**>(source->mime_types.data);
    const size_t count = source->mime_types.size / sizeof(char*);
    for (size_t i = 0; i < count; ++i) {
        if (begin[i])
            out.emplace_back(begin[i]);
    }
    return out;
}

bool offers(const std::vector<std::string>& types, const std::string& mime) {
    return std::find(types.begin(), types.end(), mime) != types.end();
}

template <typename Source>
void add_mime_types(Source* source, const std::vector<std::string>& mime_types) {
    for (const std::string& mime : mime_types) {
        char** slot = static_cast<char**>(wl_array_add(&source->mime_types, sizeof(char*)));
        if (!slot)
            break;
        *slot = strdup(mime.c_str());  // the source's destroy frees them
    }
}

const char* selection_name(bool primary) {
    return primary ? "primary selection" : "clipboard";
}

void close_fd(int& fd) {
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

}  // namespace

// A clipboard offered by a remote viewer. `base` first: wlroots hands back the
// wlr_data_source pointer, which is also a pointer to this (standard layout).
struct Clipboard::RemoteSource {
    wlr_data_source base;
    Clipboard* owner;  // null once the compositor is shutting down
    uint64_t offer_id;
};
static_assert(std::is_standard_layout_v<Clipboard::RemoteSource>);

// The same offer as the primary selection (--primary-selection).
struct Clipboard::RemotePrimarySource {
    wlr_primary_selection_source base;
    Clipboard* owner;
    uint64_t offer_id;
};
static_assert(std::is_standard_layout_v<Clipboard::RemotePrimarySource>);

namespace {
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

// Reading an app's selection: the read end of the pipe its data source writes into.
struct Clipboard::Read {
    Clipboard* self = nullptr;  // the event-loop callbacks get this struct
    uint64_t id = 0;
    int fd = -1;
    std::string mime_type;
    std::vector<uint8_t> data;
    wl::EventSource watch;
    wl::EventSource timeout;
    ~Read() {
        watch.reset();
        close_fd(fd);
    }
};

// Writing a remote viewer's bytes into a pasting app's fd.
struct Clipboard::Write {
    Clipboard* self = nullptr;  // the event-loop callbacks get this struct
    uint64_t id = 0;
    int fd = -1;
    std::string mime_type;
    ClipboardBytes data;  // null until the network side delivers
    size_t written = 0;
    wl::EventSource watch;
    wl::EventSource timeout;
    ~Write() {
        watch.reset();
        close_fd(fd);
    }
};

Clipboard::Clipboard(Server& server)
    : server_(server), share_primary_(server.config.primary_selection) {
    wlr_data_device_manager_create(server_.display);
    wlr_primary_selection_v1_device_manager_create(server_.display);
    wlr_data_control_manager_v1_create(server_.display);

    // wlroots validates the serial; the compositor only has to accept the request.
    on_request_set_selection_.set_handler([this](void* data) {
        auto* event = static_cast<wlr_seat_request_set_selection_event*>(data);
        wlr_seat_set_selection(server_.seat, event->source, event->serial);
    });
    on_request_set_selection_.connect(server_.seat->events.request_set_selection);
    on_request_set_primary_selection_.set_handler([this](void* data) {
        auto* event = static_cast<wlr_seat_request_set_primary_selection_event*>(data);
        wlr_seat_set_primary_selection(server_.seat, event->source, event->serial);
    });
    on_request_set_primary_selection_.connect(server_.seat->events.request_set_primary_selection);
    on_set_selection_.set_handler([this](void*) { selection_changed(false); });
    on_set_selection_.connect(server_.seat->events.set_selection);
    on_set_primary_selection_.set_handler([this](void*) { selection_changed(true); });
    on_set_primary_selection_.connect(server_.seat->events.set_primary_selection);
    if (share_primary_) {
        log_.info("the primary selection is shared with viewers (--primary-selection)");
    }
}

Clipboard::~Clipboard() {
    on_set_selection_.disconnect();
    on_set_primary_selection_.disconnect();
    offer_idle_.reset();
    offer_retry_.reset();
    reads_.clear();
    writes_.clear();
    // A remote source still set as the selection is destroyed with the seat; it must not
    // call back into this object then.
    if (remote_)
        remote_->owner = nullptr;
    if (remote_primary_)
        remote_primary_->owner = nullptr;
}

// ---- desktop -> network --------------------------------------------------------------------

void Clipboard::selection_changed(bool primary) {
    bool ours = false;
    bool empty = true;
    if (primary) {
        wlr_primary_selection_source* source = server_.seat->primary_selection_source;
        ours = source && source->impl == &kRemotePrimarySourceImpl;
        remote_primary_ = ours ? remote_of<RemotePrimarySource>(source) : nullptr;
        empty = !source;
        if (!share_primary_) {
            // Kept inside the desktop: never announced, never read from the network side.
            log_.debug(
                "primary selection now offered by {}; not shared (--primary-selection "
                "is off)",
                empty ? "nobody" : "an app");
            return;
        }
    } else {
        wlr_data_source* source = server_.seat->selection_source;
        ours = source && source->impl == &kRemoteSourceImpl;
        remote_ = ours ? remote_of<RemoteSource>(source) : nullptr;
        empty = !source;
    }
    Announced& announced = primary ? primary_ : clipboard_;
    announced.serial = ++serial_;  // reads of the previous selection are stale from now on
    if (ours) {
        // A viewer's copy is not announced back; the bridge knows it already.
        announced.dirty = false;
        return;
    }
    log_.debug("{} now offered by {}", selection_name(primary), empty ? "nobody" : "an app");
    announced.dirty = true;
    schedule_publish();
}

void Clipboard::schedule_publish() {
    // A Ctrl+C storm sets the selection many times per loop turn: announce only the last.
    if (offer_idle_)
        return;
    offer_idle_ = wl::EventSource(wl_event_loop_add_idle(
        server_.loop,
        [](void* data) {
            auto* self = static_cast<Clipboard*>(data);
            // Idle sources are one-shot: wayland frees them after this call.
            self->offer_idle_ = wl::EventSource();
            self->publish_offer();
        },
        this));
}

void Clipboard::publish_offer() {
    // Both changed in one loop turn: the older first, so the bridge ends with the newer one
    // (the most recent of the clipboard and the primary selection is what viewers get).
    const bool primary_first = primary_.serial < clipboard_.serial;
    if (publish_one(primary_first) && publish_one(!primary_first))
        return;
    if (!offer_retry_) {
        offer_retry_ = wl::EventSource(wl_event_loop_add_timer(
            server_.loop,
            [](void* data) {
                static_cast<Clipboard*>(data)->publish_offer();
                return 0;
            },
            this));
    }
    wl_event_source_timer_update(offer_retry_.get(), kOfferRetryMs);
}

bool Clipboard::publish_one(bool primary) {
    Announced& announced = primary ? primary_ : clipboard_;
    if (!announced.dirty)
        return true;
    SelectionOfferEvent event{announced.serial, primary,
                              primary ? mime_types_of(server_.seat->primary_selection_source)
                                      : mime_types_of(server_.seat->selection_source)};
    if (!server_.publish(std::move(event)))
        return false;
    announced.dirty = false;
    return true;
}

void Clipboard::read_selection(const ReadSelectionRequest& request) {
    auto refuse = [&](const std::string& why) {
        server_.publish(SelectionDataEvent{request.request_id, false, why, request.mime_type, {}});
    };
    if (request.mime_type.empty()) {
        // The bridge's ordering barrier (clipboard_broker.hpp): answered at once, in order.
        return refuse("no mime type");
    }
    if (request.primary && !share_primary_) {
        log_.info(
            "refused to read the primary selection: it is not shared (--primary-selection "
            "is off)");
        return refuse("the primary selection is not shared (--primary-selection is off)");
    }
    wlr_data_source* source = server_.seat->selection_source;
    wlr_primary_selection_source* primary = server_.seat->primary_selection_source;
    const bool present = request.primary ? primary != nullptr : source != nullptr;
    const bool remote = request.primary ? remote_primary_ != nullptr : remote_ != nullptr;
    const Announced& announced = request.primary ? primary_ : clipboard_;
    if (!present || remote || request.serial != announced.serial) {
        return refuse(std::string("the ") + selection_name(request.primary) +
                      " changed since it was announced");
    }
    const auto types = request.primary ? mime_types_of(primary) : mime_types_of(source);
    if (!offers(types, request.mime_type))
        return refuse("not offered as " + request.mime_type);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        return refuse(std::string("pipe2 failed: ") + std::strerror(errno));
    }
    auto read = std::make_unique<Read>();
    read->fd = fds[0];
    read->mime_type = request.mime_type;
    // The source takes the write end (and closes it when its app has been told).
    if (request.primary) {
        wlr_primary_selection_source_send(primary, request.mime_type.c_str(), fds[1]);
    } else {
        wlr_data_source_send(source, request.mime_type.c_str(), fds[1]);
    }
    read->self = this;
    read->id = request.request_id;
    Read* r = read.get();
    // Stable address: the Read lives in reads_ behind its unique_ptr until finish_read.
    read->watch = wl::EventSource(wl_event_loop_add_fd(
        server_.loop, read->fd, WL_EVENT_READABLE,
        [](int, uint32_t, void* data) {
            auto* r = static_cast<Read*>(data);
            return r->self->on_readable(r->id);
        },
        r));
    read->timeout = wl::EventSource(wl_event_loop_add_timer(
        server_.loop,
        [](void* data) {
            auto* r = static_cast<Read*>(data);
            r->self->finish_read(r->id, false, "the app did not deliver its clipboard");
            return 0;
        },
        r));
    wl_event_source_timer_update(read->timeout.get(), kTransferTimeoutMs);
    const uint64_t id = request.request_id;
    reads_[id] = std::move(read);
}

int Clipboard::on_readable(uint64_t request_id) {
    const auto it = reads_.find(request_id);
    if (it == reads_.end())
        return 0;
    Read& r = *it->second;
    const uint64_t limit = server_.config.clipboard_limit;
    for (size_t i = 0; i < kChunksPerWakeup; ++i) {
        const size_t old = r.data.size();
        r.data.resize(old + kChunk);
        const ssize_t n = ::read(r.fd, r.data.data() + old, kChunk);
        r.data.resize(old + size_t(std::max<ssize_t>(n, 0)));
        if (n == 0) {
            finish_read(request_id, true, {});
            return 0;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            finish_read(request_id, false, std::string("read failed: ") + std::strerror(errno));
            return 0;
        }
        if (r.data.size() > limit) {
            metrics().clipboard_refused.add();
            log_.warn("desktop clipboard ({}) is larger than --clipboard-limit {}: refused",
                      r.mime_type, limit);
            finish_read(request_id, false, "larger than --clipboard-limit");
            return 0;
        }
    }
    return 0;
}

void Clipboard::finish_read(uint64_t request_id, bool ok, const std::string& error) {
    const auto it = reads_.find(request_id);
    if (it == reads_.end())
        return;
    std::unique_ptr<Read> read = std::move(it->second);
    reads_.erase(it);
    SelectionDataEvent event{request_id, ok, error, read->mime_type, {}};
    if (ok) {
        read->data.shrink_to_fit();
        event.data = std::make_shared<const std::vector<uint8_t>>(std::move(read->data));
        log_.debug("read {} bytes of {}", event.data->size(), event.mime_type);
    }
    read.reset();
    server_.publish(std::move(event));
}

// ---- network -> desktop --------------------------------------------------------------------

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
            auto* w = static_cast<Write*>(data);
            return w->self->on_writable(w->id);
        },
        &w));
    // A reader that stops reading must not pin the data forever.
    w.timeout = wl::EventSource(wl_event_loop_add_timer(
        server_.loop,
        [](void* data) {
            auto* w = static_cast<Write*>(data);
            w->self->log_.warn("pasting app stopped reading: transfer abandoned");
            w->self->finish_write(w->id);
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
